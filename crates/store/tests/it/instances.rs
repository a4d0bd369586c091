//! Behaviour of a store as a whole (migrations, several instances on one database), per backend.

use domain::{OrgId, OrgKind, Organisation};
use store::Store;
use testkit::TestDb;

testkit::both_backends!(db: super => [
    migrations_applied_equal_shipped_and_rerun_is_a_no_op,
    a_second_instance_shares_the_data,
    ping_and_backend,
]);

async fn migrations_applied_equal_shipped_and_rerun_is_a_no_op(db: TestDb) {
    let shipped = db.store.migration_versions();
    assert!(!shipped.is_empty());
    assert!(shipped.windows(2).all(|w| w[0] < w[1]), "{shipped:?}");
    assert_eq!(db.store.applied_migrations().await.unwrap(), shipped);
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    assert_eq!(db.store.applied_migrations().await.unwrap(), shipped);
    // A second instance migrating the same database changes nothing either.
    let other = db.open_another().await;
    other.migrate().await.unwrap();
    assert_eq!(other.applied_migrations().await.unwrap(), shipped);
    other.close().await;
}

fn org(name: &str) -> Organisation {
    Organisation {
        id: OrgId::new(),
        name: domain::Name::parse(name).unwrap(),
        kind: OrgKind::Partner,
    }
}

async fn write(store: &dyn Store, o: &Organisation) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(o).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    tx.commit().await.unwrap();
}

async fn a_second_instance_shares_the_data(db: TestDb) {
    let other = db.open_another().await;
    let (a, b) = (org("From A"), org("From B"));
    // Both instances write at once: on SQLite the two writers are different pools on one file,
    // so the second waits on the file lock (busy_timeout) instead of failing.
    tokio::join!(write(&*db.store, &a), write(&*other, &b));
    let mut tx = db.store.read().await.unwrap();
    assert_eq!(tx.get_org(b.id).await.unwrap(), Some(b.clone()));
    drop(tx);
    let mut tx = other.read().await.unwrap();
    assert_eq!(tx.get_org(a.id).await.unwrap(), Some(a));
    drop(tx);
    other.close().await;
}

async fn ping_and_backend(db: TestDb) {
    db.store.ping().await.unwrap();
    assert_eq!(db.store.backend(), db.backend);
    assert!(db.url.starts_with(db.backend.as_str()), "{}", db.url);
}
