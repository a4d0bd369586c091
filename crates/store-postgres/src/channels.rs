//! Channels, messages and read positions.

use async_trait::async_trait;
use domain::{Channel, ChannelId, ChannelKind, Message, MessageId, ProjectId, UserId};
use std::collections::HashMap;
use store::{ChannelRepo, ChannelUnread, MessageRepo, StoreError, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::PgTx;
use crate::convert::{at, channel_kind, channel_kind_parts, db_error, number};

/// id, project_id, kind, language, partner_id, last_seq.
type ChannelRow = (Uuid, Uuid, String, String, Option<Uuid>, i64);

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
    (id, project_id, kind, language, partner, last_seq): ChannelRow,
) -> StoreResult<Channel> {
    Ok(Channel {
        id: id.into(),
        project_id: project_id.into(),
        kind: channel_kind(&kind, &language, partner.map(|p| p.to_string()))?,
        last_seq,
    })
}

/// id, channel_id, seq, author_id, body, created_at, edited_at, deleted_at.
pub(crate) type MessageRow = (
    Uuid,
    Uuid,
    i64,
    Option<Uuid>,
    String,
    OffsetDateTime,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
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

pub(crate) fn message(row: MessageRow) -> Message {
    let (id, channel_id, seq, author, body, created_at, edited_at, deleted_at) = row;
    Message {
        id: id.into(),
        channel_id: channel_id.into(),
        seq,
        author: author.map(UserId::from),
        body,
        created_at,
        edited_at,
        deleted_at,
    }
}

#[async_trait]
impl ChannelRepo for PgTx {
    async fn ensure_channels(
        &mut self,
        project_id: ProjectId,
        kinds: &[ChannelKind],
    ) -> StoreResult<()> {
        let now = at(OffsetDateTime::now_utc());
        for kind in kinds {
            let (kind, language, partner) = channel_kind_parts(kind);
            // The unique indexes are partial (vendor channels are unique per language and
            // partner, the others per kind), so "create unless present" is spelled out.
            sqlx::query(
                "INSERT INTO channels (id, project_id, kind, language, partner_id, last_seq, \
                 created_at) SELECT $1, $2, $3, $4, $5, 0, $6 WHERE NOT EXISTS (\
                 SELECT 1 FROM channels WHERE project_id = $2 AND kind = $3 \
                 AND language = $4 AND partner_id IS NOT DISTINCT FROM $5)",
            )
            .bind(ChannelId::new().as_uuid())
            .bind(project_id.as_uuid())
            .bind(kind)
            .bind(language)
            .bind(partner.map(|p| p.as_uuid()))
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
        .bind(project_id.as_uuid())
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
        let ids: Vec<Uuid> = projects.iter().map(|p| p.as_uuid()).collect();
        sqlx::query_as::<_, ChannelRow>(select_channel!("WHERE project_id = ANY($1)"))
            .bind(&ids)
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?
            .into_iter()
            .map(channel)
            .collect()
    }

    async fn get_channel(&mut self, channel_id: ChannelId) -> StoreResult<Option<Channel>> {
        sqlx::query_as::<_, ChannelRow>(select_channel!("WHERE id = $1"))
            .bind(channel_id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(db_error)?
            .map(channel)
            .transpose()
    }
}

#[async_trait]
impl MessageRepo for PgTx {
    async fn insert_message(
        &mut self,
        message_id: MessageId,
        channel_id: ChannelId,
        author: Option<UserId>,
        body: &str,
        when: OffsetDateTime,
    ) -> StoreResult<Message> {
        // The update locks the channel row until this transaction ends: a concurrent poster in
        // the same channel waits here, then (READ COMMITTED re-reads the updated row) takes the
        // next number. Seqs are therefore gap-free and in commit order.
        let seq: i64 = sqlx::query_scalar(
            "UPDATE channels SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
        )
        .bind(channel_id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?
        .ok_or(StoreError::NotFound)?;
        let created_at = at(when);
        sqlx::query(
            "INSERT INTO messages (id, channel_id, seq, author_id, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(message_id.as_uuid())
        .bind(channel_id.as_uuid())
        .bind(seq)
        .bind(author.map(|a| a.as_uuid()))
        .bind(body)
        .bind(created_at)
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
            created_at,
            edited_at: None,
            deleted_at: None,
        })
    }

    async fn get_message(&mut self, message_id: MessageId) -> StoreResult<Option<Message>> {
        Ok(
            sqlx::query_as::<_, MessageRow>(select_message!("WHERE id = $1"))
                .bind(message_id.as_uuid())
                .fetch_optional(self.conn())
                .await
                .map_err(db_error)?
                .map(message),
        )
    }

    async fn edit_message(
        &mut self,
        message_id: MessageId,
        body: &str,
        when: OffsetDateTime,
    ) -> StoreResult<()> {
        // A tombstone stays one.
        let done = sqlx::query(
            "UPDATE messages SET body = $2, edited_at = $3 WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(message_id.as_uuid())
        .bind(body)
        .bind(at(when))
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
        when: OffsetDateTime,
    ) -> StoreResult<()> {
        // Deleting again keeps the first deletion time.
        let done = sqlx::query(
            "UPDATE messages SET body = '', deleted_at = coalesce(deleted_at, $2) WHERE id = $1",
        )
        .bind(message_id.as_uuid())
        .bind(at(when))
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
        let mut messages: Vec<Message> = sqlx::query_as::<_, MessageRow>(select_message!(
            "WHERE channel_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
        ))
        .bind(channel_id.as_uuid())
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?
        .into_iter()
        .map(message)
        .collect();
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
             ON CONFLICT (user_id, channel_id) DO UPDATE \
             SET last_read_seq = greatest(channel_reads.last_read_seq, excluded.last_read_seq)",
        )
        .bind(user_id.as_uuid())
        .bind(channel_id.as_uuid())
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
        let ids: Vec<Uuid> = channels.iter().map(|c| c.as_uuid()).collect();
        // See the SQLite twin: counted from the sequence numbers, minus one's own and the
        // deleted messages after the read position, each found through its own index.
        let rows: Vec<(Uuid, i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT c.id, coalesce(r.last_read_seq, 0), \
                 greatest(c.last_seq - coalesce(r.last_read_seq, 0), 0) \
                 - (SELECT count(*) FROM messages m WHERE m.channel_id = c.id \
                    AND m.author_id = $1 AND m.seq > coalesce(r.last_read_seq, 0)) \
                 - (SELECT count(*) FROM messages m WHERE m.channel_id = c.id \
                    AND m.deleted_at IS NOT NULL AND m.seq > coalesce(r.last_read_seq, 0)) \
                 + (SELECT count(*) FROM messages m WHERE m.channel_id = c.id \
                    AND m.author_id = $1 AND m.deleted_at IS NOT NULL \
                    AND m.seq > coalesce(r.last_read_seq, 0)), \
                 (SELECT m.seq FROM messages m WHERE m.channel_id = c.id \
                    AND m.seq > coalesce(r.last_read_seq, 0) AND m.deleted_at IS NULL \
                    AND (m.author_id IS NULL OR m.author_id <> $1) ORDER BY m.seq LIMIT 1) \
             FROM channels c \
             LEFT JOIN channel_reads r ON r.user_id = $1 AND r.channel_id = c.id \
             WHERE c.id = ANY($2)",
        )
        .bind(user_id.as_uuid())
        .bind(&ids)
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        let mut found = rows
            .into_iter()
            .map(|(id, last_read_seq, unread, first_unread_seq)| {
                let channel_id = ChannelId::from(id);
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
