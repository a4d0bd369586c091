-- Live-update events, written in the same transaction as the change they describe.
-- Identifiers only; readers fetch content through the policy-checked routes.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    project_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    message_id TEXT,
    seq        INTEGER NOT NULL,
    user_id    TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_created_at_idx ON events (created_at);
