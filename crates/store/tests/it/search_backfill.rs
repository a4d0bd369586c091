//! Messages posted before the search index existed are indexed by `migrate` (the index text is
//! folded in Rust, so migration 0003's SQL cannot fill it by itself).

use domain::{ChannelKind, LanguageTag, MessageId, MovieId, Name, Project, ProjectId, ProjectKind};
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};
use store::{Backend, MessageSearch, Store};
use testkit::TestDb;
use time::OffsetDateTime;

/// Posts two messages (one then deleted), forgets the search index as if migration 0003 had
/// never run, migrates again and searches.
async fn older_messages_are_indexed(db: TestDb) {
    let store: &dyn Store = &*db.store;
    let project = Project {
        id: ProjectId::new(),
        movie_id: MovieId::new(81_000_001).unwrap(),
        name: Name::parse("Backfill").unwrap(),
        kind: ProjectKind::Film,
        original_language: LanguageTag::parse("en").unwrap(),
        target_languages: Vec::new(),
        seasons: Vec::new(),
        assignments: Vec::new(),
    };
    let now = OffsetDateTime::now_utc();
    let mut tx = store.begin().await.unwrap();
    tx.insert_project(&project, now).await.unwrap();
    tx.ensure_channels(project.id, &[ChannelKind::Broadcast])
        .await
        .unwrap();
    let channel = tx.list_channels(project.id).await.unwrap()[0].id;
    let kept = tx
        .insert_message(
            MessageId::new(),
            channel,
            None,
            "Señal de mezcla lista",
            now,
        )
        .await
        .unwrap();
    let gone = tx
        .insert_message(MessageId::new(), channel, None, "mezcla antigua", now)
        .await
        .unwrap();
    tx.delete_message(gone.id, now).await.unwrap();
    tx.commit().await.unwrap();

    let forget: &[&str] = match db.backend {
        Backend::Sqlite => &[
            "DROP TABLE message_search_words",
            "DROP TABLE message_search_grams",
            "DROP TABLE message_search",
            "DELETE FROM _sqlx_migrations WHERE version = 3",
        ],
        Backend::Postgres => &[
            "DROP TABLE message_search",
            "DELETE FROM _sqlx_migrations WHERE version = 3",
        ],
    };
    match db.backend {
        Backend::Sqlite => {
            let mut conn = SqliteConnection::connect(&db.url).await.unwrap();
            for sql in forget {
                sqlx::query(AssertSqlSafe(*sql))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            conn.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            for sql in forget {
                sqlx::query(AssertSqlSafe(*sql))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            conn.close().await.unwrap();
        }
    }

    store.migrate().await.unwrap();
    let found = |words: &[&str]| MessageSearch {
        words: words.iter().map(|w| w.to_string()).collect(),
        ..MessageSearch::default()
    };
    let mut tx = store.read().await.unwrap();
    let hits = tx
        .search_messages(&[channel], &found(&["senal"]), None, 10)
        .await
        .unwrap()
        .items;
    assert_eq!(hits.iter().map(|m| m.id).collect::<Vec<_>>(), vec![kept.id]);
    let hits = tx
        .search_messages(&[channel], &found(&["mezcla"]), None, 10)
        .await
        .unwrap()
        .items;
    assert_eq!(hits.iter().map(|m| m.id).collect::<Vec<_>>(), vec![kept.id]);
    // Migrating again changes nothing.
    drop(tx);
    store.migrate().await.unwrap();
}

testkit::both_backends!(db: super => [older_messages_are_indexed]);
