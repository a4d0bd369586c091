-- Files attached to messages. The bytes live in the file storage under `storage_key`, a name the
-- server chose; `name` is the sender's file name, only ever shown and offered as the download
-- name. `file_type` is the accepted extension the content was checked against.
CREATE TABLE attachments (
    id          uuid PRIMARY KEY,
    message_id  uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position    integer NOT NULL,
    name        text NOT NULL,
    file_type   text NOT NULL,
    size        bigint NOT NULL CHECK (size >= 0),
    sha256      text NOT NULL,
    storage_key text NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX attachments_message_id_idx ON attachments (message_id, position);
CREATE UNIQUE INDEX attachments_storage_key_key ON attachments (storage_key);
