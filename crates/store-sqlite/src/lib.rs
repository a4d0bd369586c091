//! The SQLite backend of the locportal [`Store`]: the embedded default, one file on disk.
//!
//! Two pools share the database file. Writes go through a pool of exactly one connection and
//! start with `BEGIN IMMEDIATE`, so write transactions queue in the application instead of
//! failing midway with "database is locked"; reads use a pool of several `query_only`
//! connections, which WAL lets run alongside the writer. Every connection runs with WAL,
//! `busy_timeout` 5 s (for other processes on the same file), foreign keys on and
//! `synchronous = NORMAL`.
//!
//! A consequence worth knowing: a task that holds a write transaction and asks for a second one
//! waits forever. Open one transaction per action.

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
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteConnection, Transaction};
use std::str::FromStr;
use std::time::Duration;
use store::{Backend, Store, StoreError, StoreResult, Tx};

use crate::convert::db_error;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The migration that creates the search index, which `migrate` then fills.
const SEARCH_MIGRATION: i64 = 3;

/// See [`SqliteStore::with_search_scan_limit`].
pub const DEFAULT_SEARCH_SCAN_LIMIT: i64 = 20_000;

/// Connections in the read pool.
const READERS: u32 = 4;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    search_scan_limit: i64,
}

impl SqliteStore {
    /// Opens (creating it and its directory if missing) the database at `url`:
    /// `sqlite://path/to.db`, `sqlite:path/to.db` or `sqlite:///absolute/path.db`, optionally
    /// with sqlx's `?mode=…` parameters. In-memory databases are refused: the read and write
    /// pools must see the same data. Does not migrate; call [`Store::migrate`].
    pub async fn open(url: &str) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url).map_err(db_error)?;
        let path = options.get_filename().to_path_buf();
        let database = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        if path.as_os_str().is_empty()
            || database.starts_with(":memory:")
            || url.contains("mode=memory")
        {
            return Err(StoreError::Database(
                format!("{url}: an in-memory SQLite database is not supported; give a file path")
                    .into(),
            ));
        }
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            let mut dir = std::fs::DirBuilder::new();
            dir.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
            dir.create(parent).map_err(|e| {
                StoreError::Database(
                    format!("cannot create the directory {}: {e}", parent.display()).into(),
                )
            })?;
        }
        // A new database is readable by the portal's own user only (0600); SQLite gives its
        // -wal and -shm files the database file's permissions. With an explicit `?mode=` the
        // caller decides whether the file may be created.
        if !url.contains("mode=") {
            let mut file = std::fs::OpenOptions::new();
            file.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
            if let Err(e) = file.open(&path)
                && e.kind() != std::io::ErrorKind::AlreadyExists
            {
                return Err(StoreError::Database(
                    format!("cannot create the database {}: {e}", path.display()).into(),
                ));
            }
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Normal);
        // The writer first: it creates the file and switches it to WAL.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(db_error)?;
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .map_err(db_error)?;
        tracing::debug!(path = %path.display(), "opened SQLite store");
        Ok(SqliteStore {
            write,
            read,
            search_scan_limit: DEFAULT_SEARCH_SCAN_LIMIT,
        })
    }

    /// Up to this many messages in the channels searched, a search walks those channels'
    /// messages instead of asking the full-text indexes (which list every match in the
    /// portal first). Both give the same result; tests set 0 to exercise the indexes.
    pub fn with_search_scan_limit(mut self, messages: i64) -> Self {
        self.search_scan_limit = messages;
        self
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self
            .write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)?;
        Ok(Box::new(SqliteTx {
            tx,
            search_scan_limit: self.search_scan_limit,
        }))
    }

    async fn read(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.read.begin().await.map_err(db_error)?;
        Ok(Box::new(SqliteTx {
            tx,
            search_scan_limit: self.search_scan_limit,
        }))
    }

    async fn migrate(&self) -> StoreResult<()> {
        let had_search = self.applied_migrations().await?.contains(&SEARCH_MIGRATION);
        MIGRATOR
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Database(Box::new(e)))?;
        if !had_search {
            // Messages posted before the search index existed; the index text is folded in
            // Rust, so SQL alone cannot fill it.
            let mut tx = self
                .write
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(db_error)?;
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
        let mut conn = self.read.acquire().await.map_err(db_error)?;
        let exists: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
        if exists == 0 {
            return Ok(Vec::new());
        }
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)
    }

    async fn event_waker(&self) -> StoreResult<Option<Box<dyn store::EventWaker>>> {
        // One process owns a SQLite file; the application wakes its own consumers.
        Ok(None)
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// A transaction on either pool. Dropping it without [`Tx::commit`] rolls it back.
pub(crate) struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    /// See [`SqliteStore::with_search_scan_limit`].
    pub(crate) search_scan_limit: i64,
}

impl SqliteTx {
    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await.map_err(db_error)
    }
}
