//! Mentions.

use async_trait::async_trait;
use domain::{MessageId, UserId};
use store::{MentionRepo, StoreResult};
use uuid::Uuid;

use crate::PgTx;
use crate::convert::db_error;

#[async_trait]
impl MentionRepo for PgTx {
    async fn insert_mentions(
        &mut self,
        message_id: MessageId,
        users: &[UserId],
    ) -> StoreResult<()> {
        let ids: Vec<Uuid> = users.iter().map(|u| u.as_uuid()).collect();
        sqlx::query(
            "INSERT INTO mentions (message_id, user_id) SELECT $1, u FROM unnest($2::uuid[]) AS u \
             ON CONFLICT DO NOTHING",
        )
        .bind(message_id.as_uuid())
        .bind(ids)
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn mentions_of(&mut self, message_id: MessageId) -> StoreResult<Vec<UserId>> {
        let rows: Vec<Uuid> =
            sqlx::query_scalar("SELECT user_id FROM mentions WHERE message_id = $1")
                .bind(message_id.as_uuid())
                .fetch_all(self.conn())
                .await
                .map_err(db_error)?;
        Ok(rows.into_iter().map(UserId::from).collect())
    }
}

#[async_trait]
impl store::NotificationRepo for PgTx {
    async fn insert_notifications(
        &mut self,
        message_id: MessageId,
        recipients: &[store::NewNotification],
        at: time::OffsetDateTime,
    ) -> StoreResult<()> {
        let users: Vec<Uuid> = recipients.iter().map(|n| n.user_id.as_uuid()).collect();
        let reasons: Vec<&str> = recipients.iter().map(|n| n.reason.as_str()).collect();
        let due: Vec<Option<time::OffsetDateTime>> = recipients
            .iter()
            .map(|n| n.due_at.map(crate::convert::at))
            .collect();
        sqlx::query(
            "INSERT INTO notifications (message_id, user_id, reason, created_at, due_at) \
             SELECT $1, u, r, $4, d FROM unnest($2::uuid[], $3::text[], $5::timestamptz[]) AS t (u, r, d) \
             ON CONFLICT DO NOTHING",
        )
        .bind(message_id.as_uuid())
        .bind(users)
        .bind(reasons)
        .bind(crate::convert::at(at))
        .bind(due)
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn notifications_of(
        &mut self,
        message_id: MessageId,
    ) -> StoreResult<Vec<(UserId, String)>> {
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT user_id, reason FROM notifications WHERE message_id = $1 ORDER BY user_id",
        )
        .bind(message_id.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(u, r)| (UserId::from(u), r))
            .collect())
    }
}
