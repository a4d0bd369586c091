-- A dialogue list is written in the title's original language, by the partner assigned to
-- scripting in that language (issue 11). The original language is not a target language, so an
-- assignment now belongs to its project rather than to one of the project's target languages;
-- `domain::project::Project::check` says which languages may be assigned (the targets, and the
-- original language for scripting only).
CREATE TABLE assignments_next (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    language   TEXT NOT NULL,
    service    TEXT NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organisations (id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (project_id, language, service)
) STRICT;
INSERT INTO assignments_next (project_id, language, service, org_id, position)
    SELECT project_id, language, service, org_id, position FROM assignments;
DROP TABLE assignments;
ALTER TABLE assignments_next RENAME TO assignments;
CREATE INDEX assignments_org_id_idx ON assignments (org_id, project_id);
