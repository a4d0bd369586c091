-- The Show Guide (issue 13): its items (characters, key names, translations, reference files)
-- with their fields as JSON, the revisions each change recorded, the versions, and the version
-- each reader last opened. A version that changed only one language's translations names that
-- language, so readers of other languages are not shown it. Auditions are audio requests of kind 'casting' for a character.
CREATE TABLE guide_items (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    parent_id  TEXT,
    language   TEXT,
    position   INTEGER NOT NULL,
    data       TEXT NOT NULL,
    removed_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX guide_items_project_idx ON guide_items (project_id, kind, position);
CREATE INDEX guide_items_language_idx ON guide_items (project_id, language);
CREATE UNIQUE INDEX guide_items_translation_key ON guide_items (parent_id, language);

CREATE TABLE guide_versions (
    project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL CHECK (version >= 1),
    actor_id     TEXT,
    summary      TEXT NOT NULL,
    language     TEXT,
    published_at INTEGER,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (project_id, version)
) STRICT;

CREATE TABLE guide_revisions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    item       TEXT NOT NULL,
    language   TEXT,
    name       TEXT NOT NULL,
    before     TEXT,
    after      TEXT
) STRICT;
CREATE INDEX guide_revisions_project_version_idx ON guide_revisions (project_id, version);

CREATE TABLE guide_reads (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    PRIMARY KEY (user_id, project_id)
) STRICT;
CREATE INDEX guide_reads_project_idx ON guide_reads (project_id);

ALTER TABLE audio_requests ADD COLUMN character_id TEXT;
