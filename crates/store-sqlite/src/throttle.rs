use async_trait::async_trait;
use store::{StoreResult, ThrottleRepo};
use time::OffsetDateTime;

use crate::SqliteTx;
use crate::convert::{db_error, micros, opt_timestamp};

#[async_trait]
impl ThrottleRepo for SqliteTx {
    /// Every write transaction starts with `BEGIN IMMEDIATE`, which already holds the database's
    /// one write lock: nothing else to take.
    async fn lock_throttle_keys(&mut self, _keys: &[&str]) -> StoreResult<()> {
        Ok(())
    }

    async fn record_sign_in_failure(&mut self, key: &str, at: OffsetDateTime) -> StoreResult<i64> {
        sqlx::query_scalar("INSERT INTO sign_in_failures (key, at) VALUES ($1, $2) RETURNING id")
            .bind(key)
            .bind(micros(at))
            .fetch_one(self.conn())
            .await
            .map_err(db_error)
    }

    async fn forget_sign_in_failure(&mut self, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn sign_in_failures(
        &mut self,
        key: &str,
        since: OffsetDateTime,
    ) -> StoreResult<(u32, Option<OffsetDateTime>)> {
        let (count, latest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT count(*), max(at) FROM sign_in_failures WHERE key = $1 AND at >= $2",
        )
        .bind(key)
        .bind(micros(since))
        .fetch_one(self.conn())
        .await
        .map_err(db_error)?;
        Ok((
            u32::try_from(count).unwrap_or(u32::MAX),
            opt_timestamp("sign_in_failures.at", latest)?,
        ))
    }

    async fn clear_sign_in_failures(&mut self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
            .bind(key)
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn prune_sign_in_failures(&mut self, before: OffsetDateTime) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
            .bind(micros(before))
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }
}
