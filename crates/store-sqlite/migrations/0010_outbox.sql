-- The e-mail outbox (issue #4).
--   * `email_settings`: a person's e-mail preferences; no row means the defaults.
--   * `project_mutes`: projects a person asked not to be e-mailed about (mentions still come
--     when they want mentions immediately).
--   * `notifications.due_at`: when the notification should be e-mailed (NULL: never, by the
--     person's preferences at the time); `settled_at` set once it was gathered into an e-mail
--     (`email_id`) or dropped (already read, no longer readable, deleted).
--   * `emails`: what the worker sends, rendered when planned. A claimed e-mail has its
--     `next_attempt_at` pushed forward (a lease): if the sending instance dies, the e-mail is
--     due again when the lease ends.
CREATE TABLE email_settings (
    user_id              TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    frequency            TEXT NOT NULL,
    mentions_immediately INTEGER NOT NULL CHECK (mentions_immediately IN (0, 1))
) STRICT;

CREATE TABLE project_mutes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, project_id)
) STRICT;
CREATE INDEX project_mutes_project_id_idx ON project_mutes (project_id);

CREATE TABLE emails (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    channel_id      TEXT REFERENCES channels (id) ON DELETE SET NULL,
    message_count   INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
) STRICT;
CREATE INDEX emails_due_idx ON emails (next_attempt_at) WHERE state = 'pending';
CREATE INDEX emails_state_created_idx ON emails (state, created_at);
CREATE INDEX emails_user_id_idx ON emails (user_id);
CREATE INDEX emails_channel_id_idx ON emails (channel_id);

-- A broadcast writes one notification per follower in the message's transaction. The checks of
-- the foreign keys to messages and users were most of that write, and neither a message nor a
-- user is ever deleted (messages leave tombstones, accounts are disabled), so the outbox rows do
-- without them (nor one to the e-mail that covers them: e-mails are never deleted either); the
-- worker skips rows whose message is gone. SQLite cannot drop a constraint:
-- the table is rebuilt with the new columns.
CREATE TABLE notifications_new (
    message_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    due_at     INTEGER,
    settled_at INTEGER,
    email_id   TEXT,
    PRIMARY KEY (message_id, user_id)
);
-- Notifications recorded before e-mail existed are history: settled, never e-mailed.
INSERT INTO notifications_new (message_id, user_id, reason, created_at, settled_at)
    SELECT message_id, user_id, reason, created_at, created_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_user_id_idx ON notifications (user_id);
CREATE INDEX notifications_due_idx ON notifications (due_at)
    WHERE settled_at IS NULL AND due_at IS NOT NULL;
