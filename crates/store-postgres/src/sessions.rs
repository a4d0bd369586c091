use async_trait::async_trait;
use domain::UserId;
use store::{SessionRecord, SessionRepo, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::PgTx;
use crate::convert::{at, db_error};

type SessionRow = (String, Uuid, String, OffsetDateTime, OffsetDateTime);

fn session((token_hash, user_id, csrf_token, created_at, expires_at): SessionRow) -> SessionRecord {
    SessionRecord {
        token_hash,
        user_id: user_id.into(),
        csrf_token,
        created_at,
        expires_at,
    }
}

#[async_trait]
impl SessionRepo for PgTx {
    async fn insert_session(&mut self, s: &SessionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.token_hash)
        .bind(s.user_id.as_uuid())
        .bind(&s.csrf_token)
        .bind(at(s.created_at))
        .bind(at(s.expires_at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_session(
        &mut self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<SessionRecord>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT token_hash, user_id, csrf_token, created_at, expires_at FROM sessions \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(at(now))
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        Ok(row.map(session))
    }

    async fn delete_session(&mut self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn delete_user_sessions(&mut self, user_id: UserId) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id.as_uuid())
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    async fn delete_expired_sessions(&mut self, now: OffsetDateTime) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(at(now))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }
}
