-- Audio fulfilment (issue 12): audio requests (a Moments clip or a premix), one fulfilment per
-- language done by its dubbing partner, the versions submitted with their checked files, the
-- comments and decisions, and resumable uploads in progress.
CREATE TABLE audio_requests (
    id              uuid PRIMARY KEY,
    project_id      uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    episode_id      uuid,
    kind            text NOT NULL,
    title           text NOT NULL,
    description     text NOT NULL,
    instructions    text NOT NULL,
    frame_rate      text NOT NULL,
    tc_in           text NOT NULL,
    tc_out          text NOT NULL,
    frames          bigint NOT NULL CHECK (frames > 0),
    true_peak_limit double precision NOT NULL,
    clip_key        text,
    clip_name       text,
    clip_size       bigint,
    clip_sha256     text,
    clip_duration   bigint,
    clip_timescale  bigint,
    created_by      uuid,
    created_at      timestamptz NOT NULL
);
CREATE INDEX audio_requests_project_idx ON audio_requests (project_id, created_at);

CREATE TABLE fulfilments (
    id               uuid PRIMARY KEY,
    audio_request_id uuid NOT NULL REFERENCES audio_requests (id) ON DELETE CASCADE,
    project_id       uuid NOT NULL,
    language         text NOT NULL,
    partner_id       uuid NOT NULL REFERENCES organisations (id),
    state            text NOT NULL,
    version          bigint NOT NULL CHECK (version >= 0),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX fulfilments_request_language_key ON fulfilments (audio_request_id, language);
CREATE INDEX fulfilments_project_idx ON fulfilments (project_id, created_at);
CREATE INDEX fulfilments_partner_idx ON fulfilments (partner_id);

CREATE TABLE submissions (
    id            uuid PRIMARY KEY,
    fulfilment_id uuid NOT NULL REFERENCES fulfilments (id) ON DELETE CASCADE,
    version       bigint NOT NULL CHECK (version >= 1),
    mix           text NOT NULL,
    talent        text NOT NULL,
    submitted_by  uuid,
    created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX submissions_fulfilment_version_key ON submissions (fulfilment_id, version);

CREATE TABLE submission_files (
    id            uuid PRIMARY KEY,
    submission_id uuid NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    fulfilment_id uuid NOT NULL,
    name          text NOT NULL,
    size          bigint NOT NULL CHECK (size >= 0),
    sha256        text NOT NULL,
    storage_key   text NOT NULL,
    report        text NOT NULL,
    waveform_svg  text NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX submission_files_fulfilment_idx ON submission_files (fulfilment_id, created_at);
CREATE INDEX submission_files_submission_idx ON submission_files (submission_id);
CREATE UNIQUE INDEX submission_files_storage_key_key ON submission_files (storage_key);

CREATE TABLE fulfilment_notes (
    id            uuid PRIMARY KEY,
    fulfilment_id uuid NOT NULL REFERENCES fulfilments (id) ON DELETE CASCADE,
    version       bigint,
    author_id     uuid,
    kind          text NOT NULL,
    body          text NOT NULL,
    at_frame      bigint CHECK (at_frame >= 0),
    created_at    timestamptz NOT NULL
);
CREATE INDEX fulfilment_notes_fulfilment_idx ON fulfilment_notes (fulfilment_id, created_at);

CREATE TABLE uploads (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose      text NOT NULL,
    name         text NOT NULL,
    length       bigint NOT NULL CHECK (length >= 0),
    received     bigint NOT NULL CHECK (received >= 0 AND received <= length),
    state        text NOT NULL,
    outcome      text,
    waveform_svg text,
    sha256       text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX uploads_updated_idx ON uploads (updated_at);
CREATE INDEX uploads_user_idx ON uploads (user_id);
