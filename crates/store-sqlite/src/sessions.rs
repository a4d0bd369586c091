use async_trait::async_trait;
use domain::UserId;
use store::{SessionRecord, SessionRepo, StoreResult};
use time::OffsetDateTime;

use crate::SqliteTx;
use crate::convert::{db_error, id, micros, timestamp, uuid_text};

type SessionRow = (String, String, String, i64, i64);

fn session(
    (token_hash, user_id, csrf_token, created, expires): SessionRow,
) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        token_hash,
        user_id: id("sessions.user_id", &user_id)?,
        csrf_token,
        created_at: timestamp("sessions.created_at", created)?,
        expires_at: timestamp("sessions.expires_at", expires)?,
    })
}

#[async_trait]
impl SessionRepo for SqliteTx {
    async fn insert_session(&mut self, s: &SessionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.token_hash)
        .bind(uuid_text(s.user_id))
        .bind(&s.csrf_token)
        .bind(micros(s.created_at))
        .bind(micros(s.expires_at))
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
        sqlx::query_as::<_, SessionRow>(
            "SELECT token_hash, user_id, csrf_token, created_at, expires_at FROM sessions \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(micros(now))
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?
        .map(session)
        .transpose()
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
            .bind(uuid_text(user_id))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    async fn delete_expired_sessions(&mut self, now: OffsetDateTime) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(micros(now))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }
}
