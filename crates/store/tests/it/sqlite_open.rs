//! Opening a SQLite store from the URL forms the portal accepts.

use sqlx::{Connection, SqliteConnection};
use store::Store;
use store_sqlite::SqliteStore;

#[test]
fn opening_creates_the_file_and_its_directories_in_wal_mode() {
    testkit::block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("data/deeper/locportal.db");
        let plain = dir.path().join("plain.db");
        for url in [
            format!("sqlite://{}", nested.display()),
            format!("sqlite:{}", plain.display()),
        ] {
            let store = SqliteStore::open(&url).await.unwrap();
            store.migrate().await.unwrap();
            store.ping().await.unwrap();
            store.close().await;
            let mut conn = SqliteConnection::connect(&url).await.unwrap();
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(mode, "wal", "{url}");
            conn.close().await.unwrap();
        }
        assert!(nested.is_file());
        assert!(plain.is_file());
        // Only the portal's own user may read the database and the directories made for it.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&nested), 0o600);
            assert_eq!(mode(&plain), 0o600);
            assert_eq!(mode(nested.parent().unwrap()), 0o700);
            assert_eq!(mode(&dir.path().join("data")), 0o700);
        }

        // Reopening keeps the data and needs no new migration.
        let url = format!("sqlite://{}", nested.display());
        let store = SqliteStore::open(&url).await.unwrap();
        assert_eq!(
            store.applied_migrations().await.unwrap(),
            store.migration_versions()
        );
        store.close().await;
    });
}

#[test]
fn in_memory_databases_are_refused() {
    testkit::block_on(async {
        for url in ["sqlite::memory:", "sqlite://?mode=memory"] {
            assert!(SqliteStore::open(url).await.is_err(), "{url}");
        }
    });
}
