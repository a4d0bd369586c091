-- Foundation: organisations, accounts, sessions, API tokens, sign-in throttling, projects with
-- their languages, seasons, episodes and partner assignments, and follows.
--
-- Conventions (PostgreSQL side; the SQLite migration with the same version has the same tables
-- and columns, a test compares them):
--   * ids are `uuid`, timestamps `timestamptz` (microseconds, read back as UTC);
--   * `*_folded` columns hold a lower-cased copy computed in Rust (the same code as on SQLite,
--     so both backends match the same rows); they use the "C" collation so that ordering is by
--     code point, exactly as SQLite's BINARY collation orders;
--   * every foreign key has an index whose leading columns are the key (a test checks it);
--   * constraint and index names are the ones the store maps to conflicts.

CREATE TABLE organisations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    name_folded text COLLATE "C" NOT NULL,
    kind        text NOT NULL
);
CREATE UNIQUE INDEX organisations_name_folded_key ON organisations (name_folded);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organisations (id),
    email         text NOT NULL,
    display_name  text NOT NULL,
    roles         text NOT NULL,
    password_hash text,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_org_id_idx ON users (org_id);

CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id, created_at);
-- A name is unique among a user's live tokens; a revoked token's name may be reused.
CREATE UNIQUE INDEX api_tokens_live_name_key ON api_tokens (user_id, name) WHERE revoked_at IS NULL;

CREATE TABLE sign_in_failures (
    id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key text NOT NULL,
    at  timestamptz NOT NULL
);
CREATE INDEX sign_in_failures_key_at_idx ON sign_in_failures (key, at);

CREATE TABLE projects (
    id                uuid PRIMARY KEY,
    movie_id          bigint NOT NULL,
    name              text NOT NULL,
    name_folded       text COLLATE "C" NOT NULL,
    kind              text NOT NULL,
    original_language text NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE UNIQUE INDEX projects_movie_id_key ON projects (movie_id);
CREATE INDEX projects_name_folded_idx ON projects (name_folded, id);

-- Target languages, in the order the project lists them.
CREATE TABLE project_languages (
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    language   text NOT NULL,
    position   integer NOT NULL,
    PRIMARY KEY (project_id, language)
);

CREATE TABLE seasons (
    id         uuid PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number     bigint NOT NULL,
    position   integer NOT NULL
);
CREATE INDEX seasons_project_id_idx ON seasons (project_id, position);

CREATE TABLE episodes (
    id         uuid PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    season_id  uuid NOT NULL REFERENCES seasons (id) ON DELETE CASCADE,
    number     bigint NOT NULL,
    movie_id   bigint NOT NULL,
    name       text,
    position   integer NOT NULL
);
CREATE INDEX episodes_project_id_idx ON episodes (project_id);
CREATE INDEX episodes_season_id_idx ON episodes (season_id, position);

-- Every movie ID in use, whether a project's own or one of its episodes', so that the database
-- itself keeps movie IDs unique across projects and episodes.
CREATE TABLE movie_ids (
    movie_id   bigint PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    episode_id uuid REFERENCES episodes (id) ON DELETE CASCADE
);
CREATE INDEX movie_ids_project_id_idx ON movie_ids (project_id);
CREATE INDEX movie_ids_episode_id_idx ON movie_ids (episode_id);

-- Which partner does which service for which target language of a project.
CREATE TABLE assignments (
    project_id uuid NOT NULL,
    language   text NOT NULL,
    service    text NOT NULL,
    org_id     uuid NOT NULL REFERENCES organisations (id),
    position   integer NOT NULL,
    PRIMARY KEY (project_id, language, service),
    FOREIGN KEY (project_id, language)
        REFERENCES project_languages (project_id, language) ON DELETE CASCADE
);
-- Partner scope: "projects assigned to my organisation".
CREATE INDEX assignments_org_id_idx ON assignments (org_id, project_id);

CREATE TABLE follows (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, project_id)
);
CREATE INDEX follows_project_id_idx ON follows (project_id);
