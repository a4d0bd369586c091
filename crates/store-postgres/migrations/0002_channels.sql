-- Channels and messages: every project's channels, their messages with a gap-free sequence
-- number per channel, each reader's position, and the App Settings that decide which channels a
-- person works in.
--
-- PostgreSQL side; the SQLite migration with the same version has the same tables, columns and
-- index names (a test compares them).
--   * `channels.language` is '' for the channels that have none (broadcast, internal), so the
--     unique rule (project_id, kind, language) holds for them too;
--   * `channels.last_seq` is the seq of the channel's newest message; a post takes
--     `last_seq + 1` with `UPDATE … RETURNING`, whose row lock serialises concurrent posters in
--     one channel until their transactions end, so seqs are gap-free and in commit order;
--   * `messages.author_id` NULL is the portal's robot.

ALTER TABLE users
    ADD COLUMN internal_messages boolean NOT NULL DEFAULT false,
    -- NULL: every language; otherwise a comma-separated list of language tags.
    ADD COLUMN work_languages text;

CREATE TABLE channels (
    id         uuid PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    language   text NOT NULL DEFAULT '',
    last_seq   bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX channels_project_kind_language_key ON channels (project_id, kind, language);

CREATE TABLE messages (
    id         uuid PRIMARY KEY,
    channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    author_id  uuid REFERENCES users (id),
    body       text NOT NULL,
    created_at timestamptz NOT NULL,
    edited_at  timestamptz,
    deleted_at timestamptz
);
CREATE UNIQUE INDEX messages_channel_id_seq_key ON messages (channel_id, seq);
CREATE INDEX messages_author_id_idx ON messages (author_id);

CREATE TABLE channel_reads (
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id    uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    last_read_seq bigint NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);
CREATE INDEX channel_reads_channel_id_idx ON channel_reads (channel_id);
