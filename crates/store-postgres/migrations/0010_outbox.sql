-- The e-mail outbox (issue #4).
--   * `email_settings`: a person's e-mail preferences; no row means the defaults.
--   * `project_mutes`: projects a person asked not to be e-mailed about (mentions still come
--     when they want mentions immediately).
--   * `notifications.due_at`: when the notification should be e-mailed (NULL: never, by the
--     person's preferences at the time); `settled_at` set once it was gathered into an e-mail
--     (`email_id`) or dropped (already read, no longer readable, deleted).
--   * `emails`: what the workers send, rendered when planned. A claimed e-mail has its
--     `next_attempt_at` pushed forward (a lease): if the sending instance dies, the e-mail is
--     due again when the lease ends. Instances claim with FOR UPDATE SKIP LOCKED.
CREATE TABLE email_settings (
    user_id              uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    frequency            text NOT NULL,
    mentions_immediately boolean NOT NULL
);

CREATE TABLE project_mutes (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, project_id)
);
CREATE INDEX project_mutes_project_id_idx ON project_mutes (project_id);

CREATE TABLE emails (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    to_address      text NOT NULL,
    subject         text NOT NULL,
    body_text       text NOT NULL,
    body_html       text NOT NULL,
    channel_id      uuid REFERENCES channels (id) ON DELETE SET NULL,
    message_count   integer NOT NULL,
    state           text NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz
);
CREATE INDEX emails_due_idx ON emails (next_attempt_at) WHERE state = 'pending';
CREATE INDEX emails_state_created_idx ON emails (state, created_at);
CREATE INDEX emails_user_id_idx ON emails (user_id);
CREATE INDEX emails_channel_id_idx ON emails (channel_id);

-- A broadcast writes one notification per follower in the message's transaction. The checks of
-- the foreign keys to messages and users were 60% of that write (5,000 followers: 58 of 98 ms),
-- and neither a message nor a user is ever deleted (messages leave tombstones, accounts are
-- disabled), so the outbox rows do without them (nor one to the e-mail that covers them: e-mails
-- are never deleted either); the worker skips rows whose message is gone.
ALTER TABLE notifications DROP CONSTRAINT notifications_message_id_fkey;
ALTER TABLE notifications DROP CONSTRAINT notifications_user_id_fkey;
ALTER TABLE notifications ADD COLUMN due_at timestamptz;
ALTER TABLE notifications ADD COLUMN settled_at timestamptz;
ALTER TABLE notifications ADD COLUMN email_id uuid;
CREATE INDEX notifications_due_idx ON notifications (due_at)
    WHERE settled_at IS NULL AND due_at IS NOT NULL;
