//! Keyword search over messages: `message_search` holds each live message's folded index text
//! (see `domain::search`), a tsvector GIN index and a pg_trgm GIN index narrow the candidates,
//! and a LIKE on the index text decides exactly, as on SQLite.

use async_trait::async_trait;
use domain::search::index_text;
use domain::{ChannelId, Message, MessageId};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use store::page::fetch_limit;
use store::{MessageKey, MessageSearch, Page, SearchRepo, StoreResult};
use uuid::Uuid;

use crate::PgTx;
use crate::channels::{MessageRow, message};
use crate::convert::{at, db_error};

/// Messages indexed per statement when filling the index for older messages.
const BACKFILL_BATCH: i64 = 500;

/// Indexes a message's body (or re-indexes it after an edit).
pub(crate) async fn index_message(
    conn: &mut PgConnection,
    id: MessageId,
    body: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO message_search (message_id, search_text) VALUES ($1, $2) \
         ON CONFLICT (message_id) DO UPDATE SET search_text = excluded.search_text",
    )
    .bind(id.as_uuid())
    .bind(index_text(body))
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Removes a deleted message from the index.
pub(crate) async fn unindex_message(conn: &mut PgConnection, id: MessageId) -> StoreResult<()> {
    sqlx::query("DELETE FROM message_search WHERE message_id = $1")
        .bind(id.as_uuid())
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Indexes every live message that has no index row (messages posted before migration 0003).
/// Returns how many it indexed.
pub(crate) async fn backfill(conn: &mut PgConnection) -> StoreResult<u64> {
    let mut done = 0;
    loop {
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
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
        let (ids, texts): (Vec<Uuid>, Vec<String>) = rows
            .into_iter()
            .map(|(id, body)| (id, index_text(&body)))
            .unzip();
        let n = sqlx::query(
            "INSERT INTO message_search (message_id, search_text) \
             SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(&ids)
        .bind(&texts)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
        done += n.rows_affected();
    }
}

#[async_trait]
impl SearchRepo for PgTx {
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

        let ids: Vec<Uuid> = channels.iter().map(|c| c.as_uuid()).collect();
        let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT m.id, m.channel_id, m.seq, m.author_id, m.body, m.created_at, m.edited_at, \
             m.deleted_at FROM message_search s JOIN messages m ON m.id = s.message_id \
             WHERE m.deleted_at IS NULL AND m.channel_id = ANY(",
        );
        sql.push_bind(ids);
        sql.push(")");
        // Candidates from the word index: one tsquery for all plain words and phrases. Their
        // tokens are ASCII letters only, so quoting them needs no escaping.
        let words: Vec<String> = positive
            .iter()
            .filter(|p| p.is_plain_words())
            .map(|p| {
                let quoted: Vec<String> = p.tokens.iter().map(|t| format!("'{t}'")).collect();
                format!("({})", quoted.join(" <-> "))
            })
            .collect();
        if !words.is_empty() {
            sql.push(
                " AND to_tsvector('simple'::regconfig, s.search_text) \
                 @@ to_tsquery('simple'::regconfig, ",
            );
            sql.push_bind(words.join(" & "));
            sql.push(")");
        }
        // The exact rule; pg_trgm serves these LIKEs when it helps.
        for p in &positive {
            sql.push(" AND s.search_text LIKE ");
            sql.push_bind(p.like());
        }
        for p in &negative {
            sql.push(" AND s.search_text NOT LIKE ");
            sql.push_bind(p.like());
        }
        if let Some(authors) = &query.authors {
            let authors: Vec<Uuid> = authors.iter().map(|a| a.as_uuid()).collect();
            sql.push(" AND m.author_id = ANY(");
            sql.push_bind(authors);
            sql.push(")");
        }
        if query.has_attachment {
            sql.push(" AND EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)");
        }
        if let Some(after) = query.after {
            sql.push(" AND m.created_at >= ");
            sql.push_bind(at(after));
        }
        if let Some(before) = query.before {
            sql.push(" AND m.created_at < ");
            sql.push_bind(at(before));
        }
        if let Some(key) = after {
            sql.push(" AND (m.created_at, m.id) < (");
            sql.push_bind(at(key.created_at));
            sql.push(", ");
            sql.push_bind(key.id.as_uuid());
            sql.push(")");
        }
        sql.push(" ORDER BY m.created_at DESC, m.id DESC LIMIT ");
        sql.push_bind(fetch_limit(limit));
        let messages: Vec<Message> = sql
            .build_query_as::<MessageRow>()
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?
            .into_iter()
            .map(message)
            .collect();
        Ok(Page::from_rows(messages, limit, |m| MessageKey {
            created_at: m.created_at,
            id: m.id,
        }))
    }
}
