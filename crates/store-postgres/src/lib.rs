//! The PostgreSQL backend of the locportal [`Store`], for running several portal instances on
//! one database.
//!
//! Read-write transactions run at READ COMMITTED; [`Store::read`] transactions are
//! `REPEATABLE READ READ ONLY`, so a page reads one consistent snapshot and cannot write.

mod api_tokens;
mod attachments;
mod audio;
mod channels;
mod convert;
mod events;
mod follows;
mod guide;
mod mentions;
mod orgs;
mod outbox;
mod projects;
mod requests;
mod search;
mod sessions;
mod throttle;
mod users;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, Transaction};
use std::str::FromStr;
use store::{Backend, Store, StoreError, StoreResult, Tx};

use crate::convert::db_error;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The migration that creates the search index, which `migrate` then fills.
const SEARCH_MIGRATION: i64 = 3;

/// Connections per instance.
const MAX_CONNECTIONS: u32 = 10;

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects a pool to `url` (`postgres://user:password@host:port/database?…`). Does not
    /// migrate; call [`Store::migrate`].
    pub async fn connect(url: &str) -> StoreResult<PgStore> {
        let options = PgConnectOptions::from_str(url)
            .map_err(db_error)?
            .application_name("locportal");
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(db_error)?;
        Ok(PgStore { pool })
    }

    /// The connection pool, for what lives beside the Store (e.g. a `PgListener`).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.pool.begin().await.map_err(db_error)?;
        Ok(Box::new(PgTx { tx }))
    }

    async fn read(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(db_error)?;
        Ok(Box::new(PgTx { tx }))
    }

    async fn migrate(&self) -> StoreResult<()> {
        let had_search = self.applied_migrations().await?.contains(&SEARCH_MIGRATION);
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Database(Box::new(e)))?;
        if !had_search {
            // Messages posted before the search index existed; the index text is folded in
            // Rust, so SQL alone cannot fill it. Idempotent, should two instances race here.
            let mut tx = self.pool.begin().await.map_err(db_error)?;
            let n = search::backfill(&mut tx).await?;
            tx.commit().await.map_err(db_error)?;
            tracing::info!(messages = n, "indexed older messages for search");
        }
        Ok(())
    }

    fn migration_versions(&self) -> Vec<i64> {
        let mut v: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    async fn applied_migrations(&self) -> StoreResult<Vec<i64>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?;
        if !exists {
            return Ok(Vec::new());
        }
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)
    }

    async fn event_waker(&self) -> StoreResult<Option<Box<dyn store::EventWaker>>> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(convert::db_error)?;
        listener
            .listen(events::NOTIFY_CHANNEL)
            .await
            .map_err(convert::db_error)?;
        Ok(Some(Box::new(events::PgWaker(listener))))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// A transaction. Dropping it without [`Tx::commit`] rolls it back.
pub(crate) struct PgTx {
    tx: Transaction<'static, Postgres>,
}

impl PgTx {
    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

#[async_trait]
impl Tx for PgTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await.map_err(db_error)
    }
}
