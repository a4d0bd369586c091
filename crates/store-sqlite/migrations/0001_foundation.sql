-- Foundation: organisations, accounts, sessions, API tokens, sign-in throttling, projects with
-- their languages, seasons, episodes and partner assignments, and follows.
--
-- Conventions (SQLite side; the PostgreSQL migration with the same version has the same tables
-- and columns, a test compares them):
--   * ids are UUIDs as lower-case hyphenated TEXT;
--   * timestamps are INTEGER microseconds since the Unix epoch, UTC;
--   * `*_folded` columns hold a lower-cased copy computed in Rust, because SQLite's lower() and
--     LIKE only fold ASCII;
--   * every foreign key has an index whose leading columns are the key (a test checks it).

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    kind        TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX organisations_name_folded_key ON organisations (name_folded);

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    email         TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    roles         TEXT NOT NULL,
    password_hash TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_org_id_idx ON users (org_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id, created_at);
-- A name is unique among a user's live tokens; a revoked token's name may be reused.
CREATE UNIQUE INDEX api_tokens_live_name_key ON api_tokens (user_id, name) WHERE revoked_at IS NULL;

CREATE TABLE sign_in_failures (
    id  INTEGER PRIMARY KEY NOT NULL,
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
) STRICT;
CREATE INDEX sign_in_failures_key_at_idx ON sign_in_failures (key, at);

CREATE TABLE projects (
    id                TEXT PRIMARY KEY NOT NULL,
    movie_id          INTEGER NOT NULL,
    name              TEXT NOT NULL,
    name_folded       TEXT NOT NULL,
    kind              TEXT NOT NULL,
    original_language TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX projects_movie_id_key ON projects (movie_id);
CREATE INDEX projects_name_folded_idx ON projects (name_folded, id);

-- Target languages, in the order the project lists them.
CREATE TABLE project_languages (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    language   TEXT NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (project_id, language)
) STRICT;

CREATE TABLE seasons (
    id         TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number     INTEGER NOT NULL,
    position   INTEGER NOT NULL
) STRICT;
CREATE INDEX seasons_project_id_idx ON seasons (project_id, position);

CREATE TABLE episodes (
    id         TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    season_id  TEXT NOT NULL REFERENCES seasons (id) ON DELETE CASCADE,
    number     INTEGER NOT NULL,
    movie_id   INTEGER NOT NULL,
    name       TEXT,
    position   INTEGER NOT NULL
) STRICT;
CREATE INDEX episodes_project_id_idx ON episodes (project_id);
CREATE INDEX episodes_season_id_idx ON episodes (season_id, position);

-- Every movie ID in use, whether a project's own or one of its episodes', so that the database
-- itself keeps movie IDs unique across projects and episodes.
CREATE TABLE movie_ids (
    movie_id   INTEGER PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    episode_id TEXT REFERENCES episodes (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX movie_ids_project_id_idx ON movie_ids (project_id);
CREATE INDEX movie_ids_episode_id_idx ON movie_ids (episode_id);

-- Which partner does which service for which target language of a project.
CREATE TABLE assignments (
    project_id TEXT NOT NULL,
    language   TEXT NOT NULL,
    service    TEXT NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organisations (id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (project_id, language, service),
    FOREIGN KEY (project_id, language)
        REFERENCES project_languages (project_id, language) ON DELETE CASCADE
) STRICT;
-- Partner scope: "projects assigned to my organisation".
CREATE INDEX assignments_org_id_idx ON assignments (org_id, project_id);

CREATE TABLE follows (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, project_id)
) STRICT;
CREATE INDEX follows_project_id_idx ON follows (project_id);
