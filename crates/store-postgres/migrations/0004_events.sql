-- Live-update events, written in the same transaction as the change they describe.
-- Identifiers only; readers fetch content through the policy-checked routes. Appending also
-- notifies every instance (pg_notify on the 'locportal_events' channel, delivered on commit).
CREATE TABLE events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL,
    project_id uuid NOT NULL,
    channel_id uuid NOT NULL,
    message_id uuid,
    seq        bigint NOT NULL,
    user_id    uuid,
    created_at timestamptz NOT NULL
);
CREATE INDEX events_created_at_idx ON events (created_at);
