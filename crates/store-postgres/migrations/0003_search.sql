-- Keyword search over messages.
--
-- PostgreSQL side; the SQLite migration with the same version has the same table, columns and
-- index names, except that its full-text indexes are FTS5 tables named like the GIN indexes
-- here without `_idx` (the schema guard maps them).
--   * `message_search` holds one row per live (not deleted) message: `search_text` is the
--     message's index text, folded in Rust by `domain::search::index_text` (lower case, Latin
--     diacritics removed, tokens joined by single spaces, a space at both ends). Folding in Rust
--     rather than with `unaccent` gives both backends the same text, so the same results (and
--     `unaccent` is not immutable, so it cannot feed an index expression directly).
--   * `message_search_words_idx` (tsvector, 'simple') finds whole words quickly;
--     `message_search_grams_idx` (pg_trgm) serves LIKE for substrings (CJK, digits, other
--     scripts). Both only narrow the candidates: the exact rule is a LIKE on `search_text`.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE message_search (
    doc_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    search_text text NOT NULL
);
CREATE UNIQUE INDEX message_search_message_id_key ON message_search (message_id);
CREATE INDEX message_search_words_idx ON message_search
    USING gin (to_tsvector('simple'::regconfig, search_text));
CREATE INDEX message_search_grams_idx ON message_search USING gin (search_text gin_trgm_ops);
