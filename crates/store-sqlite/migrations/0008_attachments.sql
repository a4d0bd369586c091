-- Files attached to messages. The bytes live in the file storage under `storage_key`, a name the
-- server chose; `name` is the sender's file name, only ever shown and offered as the download
-- name. `file_type` is the accepted extension the content was checked against.
CREATE TABLE attachments (
    id          TEXT PRIMARY KEY NOT NULL,
    message_id  TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    file_type   TEXT NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    sha256      TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX attachments_message_id_idx ON attachments (message_id, position);
CREATE UNIQUE INDEX attachments_storage_key_key ON attachments (storage_key);
