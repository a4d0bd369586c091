-- A dialogue list is written in the title's original language, by the partner assigned to
-- scripting in that language (issue 11). The original language is not a target language, so an
-- assignment now belongs to its project rather than to one of the project's target languages;
-- `domain::project::Project::check` says which languages may be assigned (the targets, and the
-- original language for scripting only).
ALTER TABLE assignments DROP CONSTRAINT assignments_project_id_language_fkey;
ALTER TABLE assignments ADD CONSTRAINT assignments_project_id_fkey
    FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE;
