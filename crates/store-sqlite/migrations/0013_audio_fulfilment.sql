-- Audio fulfilment (issue 12): audio requests (a Moments clip or a premix), one fulfilment per
-- language done by its dubbing partner, the versions submitted with their checked files, the
-- comments and decisions, and resumable uploads in progress.
CREATE TABLE audio_requests (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    episode_id      TEXT,
    kind            TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    instructions    TEXT NOT NULL,
    frame_rate      TEXT NOT NULL,
    tc_in           TEXT NOT NULL,
    tc_out          TEXT NOT NULL,
    frames          INTEGER NOT NULL CHECK (frames > 0),
    true_peak_limit REAL NOT NULL,
    clip_key        TEXT,
    clip_name       TEXT,
    clip_size       INTEGER,
    clip_sha256     TEXT,
    clip_duration   INTEGER,
    clip_timescale  INTEGER,
    created_by      TEXT,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX audio_requests_project_idx ON audio_requests (project_id, created_at);

CREATE TABLE fulfilments (
    id               TEXT PRIMARY KEY,
    audio_request_id TEXT NOT NULL REFERENCES audio_requests (id) ON DELETE CASCADE,
    project_id       TEXT NOT NULL,
    language         TEXT NOT NULL,
    partner_id       TEXT NOT NULL REFERENCES organisations (id),
    state            TEXT NOT NULL,
    version          INTEGER NOT NULL CHECK (version >= 0),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX fulfilments_request_language_key ON fulfilments (audio_request_id, language);
CREATE INDEX fulfilments_project_idx ON fulfilments (project_id, created_at);
CREATE INDEX fulfilments_partner_idx ON fulfilments (partner_id);

CREATE TABLE submissions (
    id            TEXT PRIMARY KEY,
    fulfilment_id TEXT NOT NULL REFERENCES fulfilments (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL CHECK (version >= 1),
    mix           TEXT NOT NULL,
    talent        TEXT NOT NULL,
    submitted_by  TEXT,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX submissions_fulfilment_version_key ON submissions (fulfilment_id, version);

CREATE TABLE submission_files (
    id            TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    fulfilment_id TEXT NOT NULL,
    name          TEXT NOT NULL,
    size          INTEGER NOT NULL CHECK (size >= 0),
    sha256        TEXT NOT NULL,
    storage_key   TEXT NOT NULL,
    report        TEXT NOT NULL,
    waveform_svg  TEXT NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX submission_files_fulfilment_idx ON submission_files (fulfilment_id, created_at);
CREATE INDEX submission_files_submission_idx ON submission_files (submission_id);
CREATE UNIQUE INDEX submission_files_storage_key_key ON submission_files (storage_key);

CREATE TABLE fulfilment_notes (
    id            TEXT PRIMARY KEY,
    fulfilment_id TEXT NOT NULL REFERENCES fulfilments (id) ON DELETE CASCADE,
    version       INTEGER,
    author_id     TEXT,
    kind          TEXT NOT NULL,
    body          TEXT NOT NULL,
    at_frame      INTEGER CHECK (at_frame >= 0),
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX fulfilment_notes_fulfilment_idx ON fulfilment_notes (fulfilment_id, created_at);

CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL,
    name         TEXT NOT NULL,
    length       INTEGER NOT NULL CHECK (length >= 0),
    received     INTEGER NOT NULL CHECK (received >= 0 AND received <= length),
    state        TEXT NOT NULL,
    outcome      TEXT,
    waveform_svg TEXT,
    sha256       TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX uploads_updated_idx ON uploads (updated_at);
CREATE INDEX uploads_user_idx ON uploads (user_id);
