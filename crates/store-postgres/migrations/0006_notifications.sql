-- Who is to be told about a message and why (mention, broadcast, vendor, internal), written in
-- the message's transaction by the recipient rules in domain::notify. The e-mail issue turns
-- these rows into deliveries (preferences, digests, retries).
CREATE TABLE notifications (
    message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason     text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX notifications_user_id_idx ON notifications (user_id);
