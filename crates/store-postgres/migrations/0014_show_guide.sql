-- The Show Guide (issue 13): its items (characters, key names, translations, reference files)
-- with their fields as JSON, the revisions each change recorded, the versions, and the version
-- each reader last opened. A version that changed only one language's translations names that
-- language, so readers of other languages are not shown it. Auditions are audio requests of kind 'casting' for a character.
CREATE TABLE guide_items (
    id         uuid PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    parent_id  uuid,
    language   text,
    position   bigint NOT NULL,
    data       text NOT NULL,
    removed_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX guide_items_project_idx ON guide_items (project_id, kind, position);
CREATE INDEX guide_items_language_idx ON guide_items (project_id, language);
CREATE UNIQUE INDEX guide_items_translation_key ON guide_items (parent_id, language);

CREATE TABLE guide_versions (
    project_id   uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version      bigint NOT NULL CHECK (version >= 1),
    actor_id     uuid,
    summary      text NOT NULL,
    language     text,
    published_at timestamptz,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (project_id, version)
);

CREATE TABLE guide_revisions (
    id         bigserial PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version    bigint NOT NULL,
    kind       text NOT NULL,
    item       text NOT NULL,
    language   text,
    name       text NOT NULL,
    before     text,
    after      text
);
CREATE INDEX guide_revisions_project_version_idx ON guide_revisions (project_id, version);

CREATE TABLE guide_reads (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version    bigint NOT NULL,
    PRIMARY KEY (user_id, project_id)
);
CREATE INDEX guide_reads_project_idx ON guide_reads (project_id);

ALTER TABLE audio_requests ADD COLUMN character_id uuid;
