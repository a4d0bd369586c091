use async_trait::async_trait;
use store::{StoreResult, ThrottleRepo};
use time::OffsetDateTime;

use crate::PgTx;
use crate::convert::{at, db_error};

#[async_trait]
impl ThrottleRepo for PgTx {
    /// One transaction-scoped advisory lock per key, taken in sorted order so that two
    /// attempts sharing keys cannot deadlock. Write transactions run at READ COMMITTED, so the
    /// counts read after the lock include every attempt committed before it was granted.
    async fn lock_throttle_keys(&mut self, keys: &[&str]) -> StoreResult<()> {
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 17))")
                .bind(key)
                .execute(self.conn())
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }

    async fn record_sign_in_failure(
        &mut self,
        key: &str,
        when: OffsetDateTime,
    ) -> StoreResult<i64> {
        sqlx::query_scalar("INSERT INTO sign_in_failures (key, at) VALUES ($1, $2) RETURNING id")
            .bind(key)
            .bind(at(when))
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
        let (count, latest): (i64, Option<OffsetDateTime>) = sqlx::query_as(
            "SELECT count(*), max(at) FROM sign_in_failures WHERE key = $1 AND at >= $2",
        )
        .bind(key)
        .bind(at(since))
        .fetch_one(self.conn())
        .await
        .map_err(db_error)?;
        Ok((u32::try_from(count).unwrap_or(u32::MAX), latest))
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
            .bind(before)
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }
}
