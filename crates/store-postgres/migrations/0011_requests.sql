-- Requests for script work (issue 11): a request with its three steps (Author, Proofread, QC)
-- as columns, its dependencies, its files, its history, and the script viewers of a project.
-- Dates are 'YYYY-MM-DD' text on both backends.
CREATE TABLE requests (
    id             uuid PRIMARY KEY,
    project_id     uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    episode_id     uuid,
    kind           text NOT NULL,
    language       text NOT NULL,
    instructions   text NOT NULL,
    due_date       text NOT NULL CHECK (length(due_date) = 10),
    edd            text NOT NULL CHECK (length(edd) = 10),
    state          text NOT NULL,
    retakes        integer NOT NULL CHECK (retakes >= 0),
    author_id      uuid,
    proofreader_id uuid,
    qc_id          uuid,
    author_due     text,
    proofread_due  text,
    qc_due         text,
    created_by     uuid,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX requests_project_idx ON requests (project_id, created_at);
CREATE INDEX requests_open_idx ON requests (project_id, language, kind, due_date) WHERE state <> 'done';
CREATE INDEX requests_author_idx ON requests (author_id) WHERE author_id IS NOT NULL;
CREATE INDEX requests_proofreader_idx ON requests (proofreader_id) WHERE proofreader_id IS NOT NULL;
CREATE INDEX requests_qc_idx ON requests (qc_id) WHERE qc_id IS NOT NULL;

CREATE TABLE request_dependencies (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id    uuid NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    project_id    uuid NOT NULL,
    on_kind       text NOT NULL,
    on_language   text,
    on_request_id uuid REFERENCES requests (id) ON DELETE SET NULL,
    skipped_by    uuid,
    skip_reason   text,
    skipped_at    timestamptz
);
CREATE INDEX request_dependencies_project_idx ON request_dependencies (project_id, id);
CREATE INDEX request_dependencies_request_idx ON request_dependencies (request_id);
CREATE INDEX request_dependencies_on_idx ON request_dependencies (on_request_id);

CREATE TABLE request_files (
    id          uuid PRIMARY KEY,
    request_id  uuid NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    slot        text NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    name        text NOT NULL,
    file_type   text NOT NULL,
    size        bigint NOT NULL CHECK (size >= 0),
    sha256      text NOT NULL,
    storage_key text NOT NULL,
    uploaded_by uuid,
    created_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX request_files_request_slot_version_key ON request_files (request_id, slot, version);
-- One reference file sent with a bulk order is kept once and listed on every request of it,
-- so storage keys are shared, not unique.

CREATE TABLE request_history (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id uuid NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    actor_id   uuid,
    action     text NOT NULL,
    detail     text NOT NULL,
    reason     text,
    created_at timestamptz NOT NULL
);
CREATE INDEX request_history_request_idx ON request_history (request_id, id);

CREATE TABLE script_viewers (
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id),
    added_by   uuid,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX script_viewers_user_idx ON script_viewers (user_id);
