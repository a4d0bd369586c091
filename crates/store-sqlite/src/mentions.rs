//! Mentions.

use async_trait::async_trait;
use domain::{MessageId, UserId};
use store::{MentionRepo, StoreResult};

use crate::SqliteTx;
use crate::convert::{db_error, id, uuid_text};

#[async_trait]
impl MentionRepo for SqliteTx {
    async fn insert_mentions(
        &mut self,
        message_id: MessageId,
        users: &[UserId],
    ) -> StoreResult<()> {
        for user in users {
            sqlx::query(
                "INSERT INTO mentions (message_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(uuid_text(message_id))
            .bind(uuid_text(*user))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        }
        Ok(())
    }

    async fn mentions_of(&mut self, message_id: MessageId) -> StoreResult<Vec<UserId>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT user_id FROM mentions WHERE message_id = $1")
                .bind(uuid_text(message_id))
                .fetch_all(self.conn())
                .await
                .map_err(db_error)?;
        rows.iter().map(|s| id("mentions.user_id", s)).collect()
    }
}
