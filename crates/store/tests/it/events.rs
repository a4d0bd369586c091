//! Live-update events on both backends.

use testkit::TestDb;

testkit::both_backends!(db: super => [
    append_and_read_in_order,
    rolled_back_events_vanish,
    other_instances_are_woken,
    mentions_round_trip,
]);

async fn mentions_round_trip(db: TestDb) {
    store::contract_events::mentions_round_trip(&*db.store).await;
}

async fn append_and_read_in_order(db: TestDb) {
    store::contract_events::events_append_and_read_in_order(&*db.store).await;
}

async fn rolled_back_events_vanish(db: TestDb) {
    store::contract_events::events_of_a_rolled_back_transaction_vanish(&*db.store).await;
}

async fn other_instances_are_woken(db: TestDb) {
    let other = db.open_another().await;
    store::contract_events::events_wake_other_instances(&*db.store, &*other).await;
}
