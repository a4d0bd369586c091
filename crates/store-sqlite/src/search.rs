//! Keyword search over messages: `message_search` holds each live message's folded index text
//! (see `domain::search`), two FTS5 tables narrow the candidates, and a LIKE on the index text
//! decides exactly, as on PostgreSQL.

use async_trait::async_trait;
use domain::search::index_text;
use domain::{ChannelId, Message, MessageId};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use store::page::fetch_limit;
use store::{MessageKey, MessageSearch, Page, SearchRepo, StoreResult};

use crate::SqliteTx;
use crate::channels::{MessageRow, message};
use crate::convert::{db_error, micros, uuid_text};

/// Messages indexed per statement when filling the index for older messages.
const BACKFILL_BATCH: i64 = 500;

/// Indexes a message's body (or re-indexes it after an edit).
pub(crate) async fn index_message(
    conn: &mut SqliteConnection,
    id: MessageId,
    body: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO message_search (message_id, search_text) VALUES ($1, $2) \
         ON CONFLICT (message_id) DO UPDATE SET search_text = excluded.search_text",
    )
    .bind(uuid_text(id))
    .bind(index_text(body))
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Removes a deleted message from the index.
pub(crate) async fn unindex_message(conn: &mut SqliteConnection, id: MessageId) -> StoreResult<()> {
    sqlx::query("DELETE FROM message_search WHERE message_id = $1")
        .bind(uuid_text(id))
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Indexes every live message that has no index row (messages posted before migration 0003).
/// Returns how many it indexed.
pub(crate) async fn backfill(conn: &mut SqliteConnection) -> StoreResult<u64> {
    let mut done = 0;
    loop {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.id, m.body FROM messages m \
             WHERE m.deleted_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM message_search s WHERE s.message_id = m.id) \
             LIMIT $1",
        )
        .bind(BACKFILL_BATCH)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
        if rows.is_empty() {
            return Ok(done);
        }
        for (id, body) in rows {
            sqlx::query("INSERT INTO message_search (message_id, search_text) VALUES ($1, $2)")
                .bind(id)
                .bind(index_text(&body))
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
            done += 1;
        }
    }
}

/// A JSON array of strings, bound as one parameter and read with `json_each`.
fn json_array(items: impl Iterator<Item = String>) -> String {
    let quoted: Vec<String> = items.map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", quoted.join(","))
}

#[async_trait]
impl SearchRepo for SqliteTx {
    async fn search_messages(
        &mut self,
        channels: &[ChannelId],
        query: &MessageSearch,
        after: Option<&MessageKey>,
        limit: u32,
    ) -> StoreResult<Page<Message, MessageKey>> {
        if query.finds_nothing(channels, limit) {
            return Ok(Page::default());
        }
        let (positive, negative) = query.patterns();
        let channel_ids = json_array(channels.iter().map(|c| uuid_text(*c)));
        // How many messages the readable channels hold. A partner reads a few channels: then
        // walking their messages and applying the exact rule is cheaper than asking the
        // full-text indexes, which would first list every match in the whole portal. The
        // result is the same either way, since the exact rule decides.
        let in_scope: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(last_seq), 0) FROM channels \
             WHERE id IN (SELECT value FROM json_each($1))",
        )
        .bind(&channel_ids)
        .fetch_one(self.conn())
        .await
        .map_err(db_error)?;
        let use_indexes = in_scope > self.search_scan_limit;

        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT m.id, m.channel_id, m.seq, m.author_id, m.body, m.created_at, m.edited_at, \
             m.deleted_at FROM message_search s JOIN messages m ON m.id = s.message_id \
             WHERE m.deleted_at IS NULL AND m.channel_id IN (SELECT value FROM json_each(",
        );
        sql.push_bind(channel_ids);
        sql.push("))");
        // Candidates from the word index: one FTS5 query for all plain words and phrases.
        let words: Vec<String> = positive
            .iter()
            .filter(|p| p.is_plain_words())
            .map(|p| format!("\"{}\"", p.tokens.join(" ")))
            .collect();
        if use_indexes && !words.is_empty() {
            sql.push(
                " AND s.doc_id IN (SELECT rowid FROM message_search_words \
                 WHERE message_search_words MATCH ",
            );
            sql.push_bind(words.join(" AND "));
            sql.push(")");
        }
        for p in &positive {
            // Candidates from the trigram index, which needs three characters.
            if use_indexes && !p.is_plain_words() && p.needle.chars().count() >= 3 {
                sql.push(
                    " AND s.doc_id IN (SELECT rowid FROM message_search_grams \
                     WHERE message_search_grams MATCH ",
                );
                sql.push_bind(format!("\"{}\"", p.needle));
                sql.push(")");
            }
            // The exact rule.
            sql.push(" AND s.search_text LIKE ");
            sql.push_bind(p.like());
        }
        for p in &negative {
            sql.push(" AND s.search_text NOT LIKE ");
            sql.push_bind(p.like());
        }
        if let Some(authors) = &query.authors {
            sql.push(" AND m.author_id IN (SELECT value FROM json_each(");
            sql.push_bind(json_array(authors.iter().map(|a| uuid_text(*a))));
            sql.push("))");
        }
        if query.has_attachment {
            sql.push(" AND EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)");
        }
        if let Some(after) = query.after {
            sql.push(" AND m.created_at >= ");
            sql.push_bind(micros(after));
        }
        if let Some(before) = query.before {
            sql.push(" AND m.created_at < ");
            sql.push_bind(micros(before));
        }
        // The key, whichever way the candidates were found.
        if let Some(key) = after {
            sql.push(" AND (m.created_at, m.id) < (");
            sql.push_bind(micros(key.created_at));
            sql.push(", ");
            sql.push_bind(uuid_text(key.id));
            sql.push(")");
        }
        sql.push(" ORDER BY m.created_at DESC, m.id DESC LIMIT ");
        sql.push_bind(fetch_limit(limit));
        let messages = sql
            .build_query_as::<MessageRow>()
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?
            .into_iter()
            .map(message)
            .collect::<StoreResult<Vec<Message>>>()?;
        Ok(Page::from_rows(messages, limit, |m| MessageKey {
            created_at: m.created_at,
            id: m.id,
        }))
    }
}
