//! Guards that keep the two backends' schemas in step. They need both backends at once.

use sqlx::{Connection, PgConnection, SqliteConnection};
use std::collections::{BTreeMap, BTreeSet};
use testkit::TestDb;

/// Both backends' fresh databases, or `None` when PostgreSQL is unavailable (and not required).
async fn both() -> Option<(TestDb, TestDb)> {
    let sqlite = testkit::sqlite().await;
    let postgres = testkit::postgres().await?;
    Some((sqlite, postgres))
}

#[test]
fn migration_versions_are_the_same_on_both_backends() {
    testkit::block_on(async {
        let Some((sqlite, postgres)) = both().await else {
            return;
        };
        let versions = sqlite.store.migration_versions();
        assert!(!versions.is_empty());
        assert_eq!(versions, postgres.store.migration_versions());
        assert_eq!(sqlite.store.applied_migrations().await.unwrap(), versions);
        assert_eq!(postgres.store.applied_migrations().await.unwrap(), versions);
    });
}

/// (table, column) → nullable, for the application's tables.
type Shape = BTreeMap<(String, String), bool>;

/// SQLite's full-text indexes are FTS5 virtual tables (each with shadow tables `<name>_data`,
/// `<name>_idx`, … that FTS5 manages), where PostgreSQL has GIN indexes. A virtual table `N` is
/// therefore left out of the tables and counted as the secondary index `N_idx`, the name the
/// PostgreSQL migration gives its counterpart.
async fn sqlite_shape(url: &str) -> (Shape, BTreeSet<String>) {
    let mut conn = SqliteConnection::connect(url).await.unwrap();
    let virtual_tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let columns: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT m.name, c.name, c.\"notnull\", c.pk FROM sqlite_master m \
         JOIN pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let fts_owned = |table: &str| {
        virtual_tables.iter().any(|v| {
            table == v
                || table
                    .strip_prefix(v.as_str())
                    .is_some_and(|rest| rest.starts_with('_'))
        })
    };
    let shape = columns
        .into_iter()
        .filter(|(t, _, _, _)| !fts_owned(t))
        .map(|(t, c, not_null, pk)| ((t, c), not_null == 0 && pk == 0))
        .collect();
    indexes.extend(virtual_tables.iter().map(|v| format!("{v}_idx")));
    (shape, indexes.into_iter().collect())
}

async fn postgres_shape(url: &str) -> (Shape, BTreeSet<String>) {
    let mut conn = PgConnection::connect(url).await.unwrap();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, is_nullable::text \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT i.indexname::text FROM pg_indexes i \
         WHERE i.schemaname = 'public' AND i.tablename <> '_sqlx_migrations' \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                         WHERE c.conname = i.indexname AND c.contype = 'p')",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let shape = columns
        .into_iter()
        .map(|(t, c, nullable)| ((t, c), nullable == "YES"))
        .collect();
    (shape, indexes.into_iter().collect())
}

#[test]
fn schemas_have_the_same_tables_columns_nullability_and_index_names() {
    testkit::block_on(async {
        let Some((sqlite, postgres)) = both().await else {
            return;
        };
        let (sqlite_columns, sqlite_indexes) = sqlite_shape(&sqlite.url).await;
        let (pg_columns, pg_indexes) = postgres_shape(&postgres.url).await;
        assert!(sqlite_columns.len() > 40, "{sqlite_columns:?}");
        assert_eq!(
            sqlite_columns, pg_columns,
            "(table, column) → nullable differs between SQLite (left) and PostgreSQL (right)"
        );
        assert!(!sqlite_indexes.is_empty());
        assert_eq!(
            sqlite_indexes, pg_indexes,
            "secondary index names differ between SQLite (left) and PostgreSQL (right)"
        );
    });
}

#[test]
fn every_postgres_foreign_key_has_an_index() {
    testkit::block_on(async {
        let Some(db) = testkit::postgres().await else {
            return;
        };
        let mut conn = PgConnection::connect(&db.url).await.unwrap();
        let foreign_keys: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_constraint \
             WHERE contype = 'f' AND connamespace = 'public'::regnamespace",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert!(foreign_keys >= 10, "only {foreign_keys} foreign keys found");
        // An index serves a foreign key when its leading columns are exactly the key's columns
        // (in any order) and it is not partial.
        let unindexed: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.conrelid::regclass::text, c.conname::text FROM pg_constraint c \
             WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace \
             AND NOT EXISTS ( \
                 SELECT 1 FROM pg_index i \
                 WHERE i.indrelid = c.conrelid AND i.indpred IS NULL \
                 AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey \
                 AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey) \
             ORDER BY 1, 2",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
        assert!(
            unindexed.is_empty(),
            "foreign keys without an index: {unindexed:?}"
        );
    });
}

#[test]
fn every_sqlite_foreign_key_has_an_index() {
    testkit::block_on(async {
        let db = testkit::sqlite().await;
        let mut conn = SqliteConnection::connect(&db.url).await.unwrap();
        // (table, key id, column) for every foreign key, columns in key order.
        let keys: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT m.name, f.id, f.\"from\" FROM sqlite_master m \
             JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' \
             ORDER BY m.name, f.id, f.seq",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        // (table, index, column) for every non-partial index, columns in index order.
        let index_columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT m.name, l.name, i.name FROM sqlite_master m \
             JOIN pragma_index_list(m.name) l JOIN pragma_index_info(l.name) i \
             WHERE m.type = 'table' AND l.partial = 0 ORDER BY m.name, l.name, i.seqno",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();

        let mut fks: BTreeMap<(String, i64), Vec<String>> = BTreeMap::new();
        for (table, id, column) in keys {
            fks.entry((table, id)).or_default().push(column);
        }
        let mut indexes: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for (table, index, column) in index_columns {
            indexes.entry((table, index)).or_default().push(column);
        }
        assert!(fks.len() >= 10, "only {} foreign keys found", fks.len());
        let unindexed: Vec<_> = fks
            .iter()
            .filter(|((table, _), columns)| {
                let wanted: BTreeSet<&String> = columns.iter().collect();
                !indexes.iter().any(|((t, _), index)| {
                    t == table
                        && index.len() >= columns.len()
                        && index[..columns.len()].iter().collect::<BTreeSet<_>>() == wanted
                })
            })
            .collect();
        assert!(
            unindexed.is_empty(),
            "foreign keys without an index: {unindexed:?}"
        );
    });
}
