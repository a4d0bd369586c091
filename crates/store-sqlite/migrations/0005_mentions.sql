-- Who a message mentions: written in the message's transaction; the mentioned user, and only
-- they, are notified (the e-mail issue reads this).
CREATE TABLE mentions (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX mentions_user_id_idx ON mentions (user_id);
