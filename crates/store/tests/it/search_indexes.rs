//! On SQLite a search over few messages walks them instead of asking the full-text indexes
//! (`SqliteStore::with_search_scan_limit`), so the contract's small corpora take that path.
//! Here every search case runs again with the limit at 0, through the FTS5 indexes.

use std::sync::Arc;
use store::Store;
use store_sqlite::SqliteStore;

async fn indexed_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("locportal.db").display());
    let store = SqliteStore::open(&url)
        .await
        .unwrap()
        .with_search_scan_limit(0);
    store.migrate().await.unwrap();
    (dir, Arc::new(store))
}

macro_rules! through_the_indexes {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let (_dir, store) = indexed_store().await;
                store::contract::$case(&*store).await;
            }
        )*
    };
}

through_the_indexes!(
    search_words_phrases_and_exclusions,
    search_filters_by_channel_author_and_date,
    search_folds_diacritics_and_finds_cjk,
    search_forgets_deleted_messages_and_follows_edits,
    search_returns_the_newest_first_up_to_the_limit,
    search_pages_by_key,
);
