-- Requests for script work (issue 11): a request with its three steps (Author, Proofread, QC)
-- as columns, its dependencies, its files, its history, and the script viewers of a project.
-- Dates are 'YYYY-MM-DD' text on both backends.
CREATE TABLE requests (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    episode_id     TEXT,
    kind           TEXT NOT NULL,
    language       TEXT NOT NULL,
    instructions   TEXT NOT NULL,
    due_date       TEXT NOT NULL CHECK (length(due_date) = 10),
    edd            TEXT NOT NULL CHECK (length(edd) = 10),
    state          TEXT NOT NULL,
    retakes        INTEGER NOT NULL CHECK (retakes >= 0),
    author_id      TEXT,
    proofreader_id TEXT,
    qc_id          TEXT,
    author_due     TEXT,
    proofread_due  TEXT,
    qc_due         TEXT,
    created_by     TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX requests_project_idx ON requests (project_id, created_at);
CREATE INDEX requests_open_idx ON requests (project_id, language, kind, due_date) WHERE state <> 'done';
CREATE INDEX requests_author_idx ON requests (author_id) WHERE author_id IS NOT NULL;
CREATE INDEX requests_proofreader_idx ON requests (proofreader_id) WHERE proofreader_id IS NOT NULL;
CREATE INDEX requests_qc_idx ON requests (qc_id) WHERE qc_id IS NOT NULL;

CREATE TABLE request_dependencies (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id    TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    project_id    TEXT NOT NULL,
    on_kind       TEXT NOT NULL,
    on_language   TEXT,
    on_request_id TEXT REFERENCES requests (id) ON DELETE SET NULL,
    skipped_by    TEXT,
    skip_reason   TEXT,
    skipped_at    INTEGER
) STRICT;
CREATE INDEX request_dependencies_project_idx ON request_dependencies (project_id, id);
CREATE INDEX request_dependencies_request_idx ON request_dependencies (request_id);
CREATE INDEX request_dependencies_on_idx ON request_dependencies (on_request_id);

CREATE TABLE request_files (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    slot        TEXT NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    name        TEXT NOT NULL,
    file_type   TEXT NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    sha256      TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    uploaded_by TEXT,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX request_files_request_slot_version_key ON request_files (request_id, slot, version);
-- One reference file sent with a bulk order is kept once and listed on every request of it,
-- so storage keys are shared, not unique.

CREATE TABLE request_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    actor_id   TEXT,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    reason     TEXT,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX request_history_request_idx ON request_history (request_id, id);

CREATE TABLE script_viewers (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id),
    added_by   TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
) STRICT;
CREATE INDEX script_viewers_user_idx ON script_viewers (user_id);
