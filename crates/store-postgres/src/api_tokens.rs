use async_trait::async_trait;
use domain::{TokenId, UserId};
use store::{ApiTokenRecord, ApiTokenRepo, StoreError, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::PgTx;
use crate::convert::{at, db_error, name};

type TokenRow = (
    Uuid,
    Uuid,
    String,
    String,
    OffsetDateTime,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
);

fn token(row: TokenRow) -> StoreResult<ApiTokenRecord> {
    let (token_id, user_id, token_name, token_hash, created_at, last_used_at, revoked_at) = row;
    Ok(ApiTokenRecord {
        id: token_id.into(),
        user_id: user_id.into(),
        name: name("api_tokens.name", &token_name)?,
        token_hash,
        created_at,
        last_used_at,
        revoked_at,
    })
}

#[async_trait]
impl ApiTokenRepo for PgTx {
    async fn insert_api_token(&mut self, t: &ApiTokenRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_tokens \
             (id, user_id, name, token_hash, created_at, last_used_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(t.id.as_uuid())
        .bind(t.user_id.as_uuid())
        .bind(t.name.as_str())
        .bind(&t.token_hash)
        .bind(at(t.created_at))
        .bind(t.last_used_at.map(at))
        .bind(t.revoked_at.map(at))
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
        .bind(user_id.as_uuid())
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
        when: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 \
             WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        )
        .bind(token_id.as_uuid())
        .bind(user_id.as_uuid())
        .bind(at(when))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_user_api_tokens(
        &mut self,
        user_id: UserId,
        when: OffsetDateTime,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id.as_uuid())
        .bind(at(when))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    async fn touch_api_token(
        &mut self,
        token_id: TokenId,
        when: OffsetDateTime,
    ) -> StoreResult<()> {
        let done = sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(token_id.as_uuid())
            .bind(at(when))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
