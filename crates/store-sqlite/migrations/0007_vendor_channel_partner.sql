-- A vendor channel belongs to a (language, partner) pair, not to the language alone: a partner
-- that takes a language over starts a conversation of its own and never reads its predecessor's,
-- and two partners on one language (dubbing by one, subtitles by another) each talk to the studio
-- privately. Broadcast and Internal have no partner (NULL).
--
-- Existing vendor channels go to the partner assigned to their language (the first one, by id);
-- a vendor channel of a language nobody is assigned to has no one on the other side and is
-- removed. Before this version there were only demo installations.

ALTER TABLE channels ADD COLUMN partner_id TEXT REFERENCES organisations (id);

UPDATE channels SET partner_id = (
    SELECT a.org_id FROM assignments a
    WHERE a.project_id = channels.project_id AND a.language = channels.language
    ORDER BY a.org_id LIMIT 1
) WHERE kind = 'vendor';
DELETE FROM channels WHERE kind = 'vendor' AND partner_id IS NULL;

DROP INDEX channels_project_kind_language_key;
CREATE UNIQUE INDEX channels_project_kind_key ON channels (project_id, kind) WHERE kind <> 'vendor';
CREATE UNIQUE INDEX channels_vendor_key ON channels (project_id, language, partner_id)
    WHERE kind = 'vendor';
CREATE INDEX channels_project_id_idx ON channels (project_id);
CREATE INDEX channels_partner_id_idx ON channels (partner_id);
