-- Unread counts are computed from the sequence numbers (messages after the read position),
-- minus the reader's own messages and the deleted ones after it. These two indexes find those
-- few rows without reading the unread messages themselves.
CREATE INDEX messages_channel_author_seq_idx ON messages (channel_id, author_id, seq);
CREATE INDEX messages_deleted_idx ON messages (channel_id, seq) WHERE deleted_at IS NOT NULL;
