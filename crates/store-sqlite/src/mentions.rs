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

#[async_trait]
impl store::NotificationRepo for SqliteTx {
    async fn insert_notifications(
        &mut self,
        message_id: MessageId,
        recipients: &[store::NewNotification],
        at: time::OffsetDateTime,
    ) -> StoreResult<()> {
        // One statement per thousand people: a broadcast to a large project must commit fast.
        for chunk in recipients.chunks(1000) {
            let rows: Vec<String> = chunk
                .iter()
                .map(|n| {
                    let due = n.due_at.map_or("null".to_string(), |d| {
                        crate::convert::micros(d).to_string()
                    });
                    format!(
                        "[\"{}\",\"{}\",{due}]",
                        uuid_text(n.user_id),
                        n.reason.as_str()
                    )
                })
                .collect();
            sqlx::query(
                "INSERT INTO notifications (message_id, user_id, reason, created_at, due_at) \
                 SELECT $1, j.value ->> 0, j.value ->> 1, $2, j.value ->> 2 FROM json_each($3) AS j \
                 WHERE true ON CONFLICT DO NOTHING",
            )
            .bind(uuid_text(message_id))
            .bind(crate::convert::micros(at))
            .bind(format!("[{}]", rows.join(",")))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        }
        Ok(())
    }

    async fn notifications_of(
        &mut self,
        message_id: MessageId,
    ) -> StoreResult<Vec<(UserId, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT user_id, reason FROM notifications WHERE message_id = $1 ORDER BY user_id",
        )
        .bind(uuid_text(message_id))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(u, r)| Ok((id("notifications.user_id", &u)?, r)))
            .collect()
    }
}
