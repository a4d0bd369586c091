use async_trait::async_trait;
use domain::{TokenId, UserId};
use store::{ApiTokenRecord, ApiTokenRepo, StoreError, StoreResult};
use time::OffsetDateTime;

use crate::SqliteTx;
use crate::convert::{db_error, id, micros, name, opt_timestamp, timestamp, uuid_text};

type TokenRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

fn token(row: TokenRow) -> StoreResult<ApiTokenRecord> {
    let (token_id, user_id, token_name, token_hash, created, used, revoked) = row;
    Ok(ApiTokenRecord {
        id: id("api_tokens.id", &token_id)?,
        user_id: id("api_tokens.user_id", &user_id)?,
        name: name("api_tokens.name", &token_name)?,
        token_hash,
        created_at: timestamp("api_tokens.created_at", created)?,
        last_used_at: opt_timestamp("api_tokens.last_used_at", used)?,
        revoked_at: opt_timestamp("api_tokens.revoked_at", revoked)?,
    })
}

#[async_trait]
impl ApiTokenRepo for SqliteTx {
    async fn insert_api_token(&mut self, t: &ApiTokenRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_tokens \
             (id, user_id, name, token_hash, created_at, last_used_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid_text(t.id))
        .bind(uuid_text(t.user_id))
        .bind(t.name.as_str())
        .bind(&t.token_hash)
        .bind(micros(t.created_at))
        .bind(t.last_used_at.map(micros))
        .bind(t.revoked_at.map(micros))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn list_api_tokens(&mut self, user_id: UserId) -> StoreResult<Vec<ApiTokenRecord>> {
        sqlx::query_as::<_, TokenRow>(
            "SELECT id, user_id, name, token_hash, created_at, last_used_at, revoked_at \
             FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(uuid_text(user_id))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?
        .into_iter()
        .map(token)
        .collect()
    }

    async fn find_api_token(&mut self, token_hash: &str) -> StoreResult<Option<ApiTokenRecord>> {
        sqlx::query_as::<_, TokenRow>(
            "SELECT id, user_id, name, token_hash, created_at, last_used_at, revoked_at \
             FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?
        .map(token)
        .transpose()
    }

    async fn revoke_api_token(
        &mut self,
        user_id: UserId,
        token_id: TokenId,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 \
             WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        )
        .bind(uuid_text(token_id))
        .bind(uuid_text(user_id))
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_user_api_tokens(
        &mut self,
        user_id: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(uuid_text(user_id))
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    async fn touch_api_token(&mut self, token_id: TokenId, at: OffsetDateTime) -> StoreResult<()> {
        let done = sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(uuid_text(token_id))
            .bind(micros(at))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
