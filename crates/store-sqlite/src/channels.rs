//! Channels, messages and read positions.

use async_trait::async_trait;
use domain::{Channel, ChannelId, ChannelKind, Message, MessageId, ProjectId, UserId};
use std::collections::HashMap;
use store::{ChannelRepo, ChannelUnread, MessageRepo, StoreError, StoreResult};
use time::OffsetDateTime;

use crate::SqliteTx;
use crate::convert::{
    channel_kind, channel_kind_parts, db_error, id, micros, number, opt_timestamp, timestamp,
    uuid_text,
};

/// id, project_id, kind, language, partner_id, last_seq.
type ChannelRow = (String, String, String, String, Option<String>, i64);

/// The channel columns followed by `$tail`.
macro_rules! select_channel {
    ($($tail:literal),*) => {
        concat!(
            "SELECT id, project_id, kind, language, partner_id, last_seq FROM channels ",
            $($tail),*
        )
    };
}

fn channel(
    (id_s, project_s, kind, language, partner, last_seq): ChannelRow,
) -> StoreResult<Channel> {
    Ok(Channel {
        id: id("channels.id", &id_s)?,
        project_id: id("channels.project_id", &project_s)?,
        kind: channel_kind(&kind, &language, partner)?,
        last_seq,
    })
}

/// Unread counts without reading the unread messages: seqs are gap-free, so the messages after
/// the read position number `last_seq - position`; from that are taken away the reader's own
/// and the deleted ones (few, and found through their own indexes), counting a deleted message
/// of one's own once. The first unread message is the first after the position that is neither.
/// $1 = the reader, $2 = the channels (a JSON array).
const UNREAD_SQL: &str = "\
    WITH pos AS ( \
        SELECT c.id AS channel_id, c.last_seq, coalesce(r.last_read_seq, 0) AS read_seq \
        FROM channels c \
        LEFT JOIN channel_reads r ON r.user_id = $1 AND r.channel_id = c.id \
        WHERE c.id IN (SELECT value FROM json_each($2))) \
    SELECT p.channel_id, p.read_seq, \
        max(p.last_seq - p.read_seq, 0) \
        - (SELECT count(*) FROM messages m INDEXED BY messages_channel_author_seq_idx \
           WHERE m.channel_id = p.channel_id AND m.author_id = $1 AND m.seq > p.read_seq) \
        - (SELECT count(*) FROM messages m INDEXED BY messages_deleted_idx \
           WHERE m.channel_id = p.channel_id AND m.deleted_at IS NOT NULL \
           AND m.seq > p.read_seq) \
        + (SELECT count(*) FROM messages m INDEXED BY messages_channel_author_seq_idx \
           WHERE m.channel_id = p.channel_id AND m.author_id = $1 AND m.seq > p.read_seq \
           AND m.deleted_at IS NOT NULL), \
        (SELECT m.seq FROM messages m WHERE m.channel_id = p.channel_id \
           AND m.seq > p.read_seq AND m.deleted_at IS NULL \
           AND (m.author_id IS NULL OR m.author_id <> $1) ORDER BY m.seq LIMIT 1) \
    FROM pos p";

/// id, channel_id, seq, author_id, body, created_at, edited_at, deleted_at.
pub(crate) type MessageRow = (
    String,
    String,
    i64,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

/// The message columns followed by `$tail`.
macro_rules! select_message {
    ($($tail:literal),*) => {
        concat!(
            "SELECT id, channel_id, seq, author_id, body, created_at, edited_at, deleted_at ",
            "FROM messages ",
            $($tail),*
        )
    };
}

pub(crate) fn message(row: MessageRow) -> StoreResult<Message> {
    let (id_s, channel_s, seq, author, body, created, edited, deleted) = row;
    Ok(Message {
        id: id("messages.id", &id_s)?,
        channel_id: id("messages.channel_id", &channel_s)?,
        seq,
        author: author.map(|a| id("messages.author_id", &a)).transpose()?,
        body,
        created_at: timestamp("messages.created_at", created)?,
        edited_at: opt_timestamp("messages.edited_at", edited)?,
        deleted_at: opt_timestamp("messages.deleted_at", deleted)?,
    })
}

#[async_trait]
impl ChannelRepo for SqliteTx {
    async fn ensure_channels(
        &mut self,
        project_id: ProjectId,
        kinds: &[ChannelKind],
    ) -> StoreResult<()> {
        let now = micros(OffsetDateTime::now_utc());
        for kind in kinds {
            let (kind, language, partner) = channel_kind_parts(kind);
            // The unique indexes are partial (vendor channels are unique per language and
            // partner, the others per kind), so "create unless present" is spelled out.
            sqlx::query(
                "INSERT INTO channels (id, project_id, kind, language, partner_id, last_seq, \
                 created_at) SELECT $1, $2, $3, $4, $5, 0, $6 WHERE NOT EXISTS (\
                 SELECT 1 FROM channels WHERE project_id = $2 AND kind = $3 \
                 AND language = $4 AND partner_id IS $5)",
            )
            .bind(uuid_text(ChannelId::new()))
            .bind(uuid_text(project_id))
            .bind(kind)
            .bind(language)
            .bind(partner.map(uuid_text))
            .bind(now)
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        }
        Ok(())
    }

    async fn list_channels(&mut self, project_id: ProjectId) -> StoreResult<Vec<Channel>> {
        sqlx::query_as::<_, ChannelRow>(select_channel!(
            "WHERE project_id = $1 ORDER BY kind, language"
        ))
        .bind(uuid_text(project_id))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?
        .into_iter()
        .map(channel)
        .collect()
    }

    async fn list_channels_of(&mut self, projects: &[ProjectId]) -> StoreResult<Vec<Channel>> {
        if projects.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query_as::<_, ChannelRow>(select_channel!(
            "WHERE project_id IN (SELECT value FROM json_each($1))"
        ))
        .bind(crate::projects::json_ids(
            projects.iter().map(|p| uuid_text(*p)),
        ))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?
        .into_iter()
        .map(channel)
        .collect()
    }

    async fn get_channel(&mut self, channel_id: ChannelId) -> StoreResult<Option<Channel>> {
        sqlx::query_as::<_, ChannelRow>(select_channel!("WHERE id = $1"))
            .bind(uuid_text(channel_id))
            .fetch_optional(self.conn())
            .await
            .map_err(db_error)?
            .map(channel)
            .transpose()
    }
}

#[async_trait]
impl MessageRepo for SqliteTx {
    async fn insert_message(
        &mut self,
        message_id: MessageId,
        channel_id: ChannelId,
        author: Option<UserId>,
        body: &str,
        at: OffsetDateTime,
    ) -> StoreResult<Message> {
        // Write transactions are serialised (one writer, BEGIN IMMEDIATE), so the channel row
        // cannot change between this update and the commit.
        let seq: i64 = sqlx::query_scalar(
            "UPDATE channels SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
        )
        .bind(uuid_text(channel_id))
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?
        .ok_or(StoreError::NotFound)?;
        let created = micros(at);
        sqlx::query(
            "INSERT INTO messages (id, channel_id, seq, author_id, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid_text(message_id))
        .bind(uuid_text(channel_id))
        .bind(seq)
        .bind(author.map(uuid_text))
        .bind(body)
        .bind(created)
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        crate::search::index_message(self.conn(), message_id, body).await?;
        Ok(Message {
            id: message_id,
            channel_id,
            seq,
            author,
            body: body.to_string(),
            created_at: timestamp("messages.created_at", created)?,
            edited_at: None,
            deleted_at: None,
        })
    }

    async fn get_message(&mut self, message_id: MessageId) -> StoreResult<Option<Message>> {
        sqlx::query_as::<_, MessageRow>(select_message!("WHERE id = $1"))
            .bind(uuid_text(message_id))
            .fetch_optional(self.conn())
            .await
            .map_err(db_error)?
            .map(message)
            .transpose()
    }

    async fn edit_message(
        &mut self,
        message_id: MessageId,
        body: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        // A tombstone stays one.
        let done = sqlx::query(
            "UPDATE messages SET body = $2, edited_at = $3 WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(uuid_text(message_id))
        .bind(body)
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        crate::search::index_message(self.conn(), message_id, body).await
    }

    async fn delete_message(
        &mut self,
        message_id: MessageId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        // Deleting again keeps the first deletion time.
        let done = sqlx::query(
            "UPDATE messages SET body = '', deleted_at = coalesce(deleted_at, $2) WHERE id = $1",
        )
        .bind(uuid_text(message_id))
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        crate::search::unindex_message(self.conn(), message_id).await
    }

    async fn list_messages(
        &mut self,
        channel_id: ChannelId,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let mut messages = sqlx::query_as::<_, MessageRow>(select_message!(
            "WHERE channel_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
        ))
        .bind(uuid_text(channel_id))
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?
        .into_iter()
        .map(message)
        .collect::<StoreResult<Vec<_>>>()?;
        messages.reverse();
        Ok(messages)
    }

    async fn mark_read(
        &mut self,
        user_id: UserId,
        channel_id: ChannelId,
        seq: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO channel_reads (user_id, channel_id, last_read_seq) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, channel_id) \
             DO UPDATE SET last_read_seq = max(last_read_seq, excluded.last_read_seq)",
        )
        .bind(uuid_text(user_id))
        .bind(uuid_text(channel_id))
        .bind(seq)
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn unread(
        &mut self,
        user_id: UserId,
        channels: &[ChannelId],
    ) -> StoreResult<Vec<ChannelUnread>> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        // The ids as one JSON array parameter, however many there are.
        let ids = format!(
            "[{}]",
            channels
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        let rows: Vec<(String, i64, i64, Option<i64>)> = sqlx::query_as(UNREAD_SQL)
            .bind(uuid_text(user_id))
            .bind(ids)
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?;
        let mut found = rows
            .into_iter()
            .map(|(id_s, last_read_seq, unread, first_unread_seq)| {
                let channel_id: ChannelId = id("channels.id", &id_s)?;
                Ok((
                    channel_id,
                    ChannelUnread {
                        channel_id,
                        last_read_seq,
                        unread: number("unread", unread)?,
                        first_unread_seq,
                    },
                ))
            })
            .collect::<StoreResult<HashMap<_, _>>>()?;
        // In the order asked for; unknown channels are left out.
        Ok(channels.iter().filter_map(|c| found.remove(c)).collect())
    }
}
