-- Channels and messages: every project's channels, their messages with a gap-free sequence
-- number per channel, each reader's position, and the App Settings that decide which channels a
-- person works in.
--
-- SQLite side; the PostgreSQL migration with the same version has the same tables, columns and
-- index names (a test compares them).
--   * `channels.language` is '' for the channels that have none (broadcast, internal), so the
--     unique rule (project_id, kind, language) holds for them too;
--   * `channels.last_seq` is the seq of the channel's newest message; a post takes
--     `last_seq + 1` by updating the channel row first;
--   * `messages.author_id` NULL is the portal's robot.

ALTER TABLE users ADD COLUMN internal_messages INTEGER NOT NULL DEFAULT 0
    CHECK (internal_messages IN (0, 1));
-- NULL: every language; otherwise a comma-separated list of language tags.
ALTER TABLE users ADD COLUMN work_languages TEXT;

CREATE TABLE channels (
    id         TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    language   TEXT NOT NULL DEFAULT '',
    last_seq   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX channels_project_kind_language_key ON channels (project_id, kind, language);

CREATE TABLE messages (
    id         TEXT PRIMARY KEY NOT NULL,
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    author_id  TEXT REFERENCES users (id),
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    deleted_at INTEGER
) STRICT;
CREATE UNIQUE INDEX messages_channel_id_seq_key ON messages (channel_id, seq);
CREATE INDEX messages_author_id_idx ON messages (author_id);

CREATE TABLE channel_reads (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id    TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    last_read_seq INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id)
) STRICT;
CREATE INDEX channel_reads_channel_id_idx ON channel_reads (channel_id);
