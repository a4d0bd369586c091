-- Keyword search over messages.
--
-- SQLite side; the PostgreSQL migration with the same version has the same table, columns and
-- index names, except for the two FTS5 tables, which PostgreSQL has as GIN indexes named
-- `<table>_idx` (the schema guard maps them).
--   * `message_search` holds one row per live (not deleted) message: `search_text` is the
--     message's index text, folded in Rust by `domain::search::index_text` (lower case, Latin
--     diacritics removed, tokens joined by single spaces, a space at both ends). Folding in Rust
--     rather than in SQL gives both backends the same text, so the same results. The store keeps
--     it in step with posts, edits and deletions; `migrate` fills it for older messages.
--   * `doc_id` is an INTEGER PRIMARY KEY (a stable rowid, which VACUUM keeps), so the FTS5
--     tables can use `message_search` as their external content; `messages` has a TEXT key and
--     its implicit rowids may change on VACUUM.
--   * `message_search_words` (unicode61) finds whole words quickly; `message_search_grams`
--     (trigram) finds any substring of three characters or more (CJK, digits, other scripts).
--     Both only narrow the candidates: the exact rule is a LIKE on `search_text`.

CREATE TABLE message_search (
    doc_id      INTEGER PRIMARY KEY NOT NULL,
    message_id  TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    search_text TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX message_search_message_id_key ON message_search (message_id);

CREATE VIRTUAL TABLE message_search_words USING fts5 (
    search_text,
    content = 'message_search',
    content_rowid = 'doc_id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE message_search_grams USING fts5 (
    search_text,
    content = 'message_search',
    content_rowid = 'doc_id',
    tokenize = 'trigram'
);

CREATE TRIGGER message_search_ai AFTER INSERT ON message_search BEGIN
    INSERT INTO message_search_words (rowid, search_text) VALUES (new.doc_id, new.search_text);
    INSERT INTO message_search_grams (rowid, search_text) VALUES (new.doc_id, new.search_text);
END;
CREATE TRIGGER message_search_ad AFTER DELETE ON message_search BEGIN
    INSERT INTO message_search_words (message_search_words, rowid, search_text)
        VALUES ('delete', old.doc_id, old.search_text);
    INSERT INTO message_search_grams (message_search_grams, rowid, search_text)
        VALUES ('delete', old.doc_id, old.search_text);
END;
CREATE TRIGGER message_search_au AFTER UPDATE ON message_search BEGIN
    INSERT INTO message_search_words (message_search_words, rowid, search_text)
        VALUES ('delete', old.doc_id, old.search_text);
    INSERT INTO message_search_grams (message_search_grams, rowid, search_text)
        VALUES ('delete', old.doc_id, old.search_text);
    INSERT INTO message_search_words (rowid, search_text) VALUES (new.doc_id, new.search_text);
    INSERT INTO message_search_grams (rowid, search_text) VALUES (new.doc_id, new.search_text);
END;
