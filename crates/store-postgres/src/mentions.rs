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
