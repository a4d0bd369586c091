//! Contract cases for live-update events (kept apart from `contract` so the two grow
//! independently).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::Store;
use domain::events::{EventKind, NewEvent};
use domain::{ChannelId, MessageId, ProjectId, UserId};
use std::time::Duration;
use time::OffsetDateTime;

fn sample(kind: EventKind, seq: i64) -> NewEvent {
    NewEvent {
        kind,
        project_id: ProjectId::new(),
        channel_id: ChannelId::new(),
        message_id: Some(MessageId::new()),
        seq,
        user_id: None,
    }
}

pub async fn events_append_and_read_in_order(store: &dyn Store) {
    let now = OffsetDateTime::now_utc();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.latest_event_id().await.unwrap(), 0);
    let a = sample(EventKind::MessagePosted, 1);
    let b = NewEvent {
        user_id: Some(UserId::new()),
        message_id: None,
        ..sample(EventKind::ChannelRead, 1)
    };
    let id_a = tx.append_event(&a, now).await.unwrap();
    let id_b = tx.append_event(&b, now).await.unwrap();
    tx.commit().await.unwrap();
    assert!(id_b > id_a);
    let mut tx = store.read().await.unwrap();
    let all = tx.events_after(0, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![id_a, id_b]
    );
    assert_eq!(all[0].event, a);
    assert_eq!(all[1].event, b);
    assert_eq!(tx.events_after(id_a, 10).await.unwrap().len(), 1);
    assert_eq!(tx.events_after(0, 1).await.unwrap().len(), 1);
    assert_eq!(tx.latest_event_id().await.unwrap(), id_b);
}

pub async fn events_of_a_rolled_back_transaction_vanish(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    tx.append_event(
        &sample(EventKind::MessageEdited, 3),
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    drop(tx);
    let mut tx = store.read().await.unwrap();
    assert!(tx.events_after(0, 10).await.unwrap().is_empty());
}

/// On a shared database another instance's waker fires once the appending transaction commits;
/// a database that cannot be shared has no waker.
pub async fn events_wake_other_instances(store: &dyn Store, other: &dyn Store) {
    let Some(mut waker) = other.event_waker().await.unwrap() else {
        assert_eq!(store.backend(), crate::Backend::Sqlite);
        return;
    };
    let mut tx = store.begin().await.unwrap();
    tx.append_event(
        &sample(EventKind::MessagePosted, 1),
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), waker.wait())
        .await
        .expect("the other instance was not woken within 5 s")
        .unwrap();
}

/// Mentions are stored per message, idempotently, and go away with their message's project.
pub async fn mentions_round_trip(store: &dyn Store) {
    use domain::{ChannelKind, Email, Name, OrgId, OrgKind, Organisation, Roles};
    let now = OffsetDateTime::now_utc();
    let mut tx = store.begin().await.unwrap();
    let org = Organisation {
        id: OrgId::new(),
        name: Name::parse("Studio").unwrap(),
        kind: OrgKind::Studio,
    };
    tx.insert_org(&org).await.unwrap();
    let mut users = Vec::new();
    for n in ["a", "b"] {
        let u = crate::UserRecord {
            id: UserId::new(),
            org_id: org.id,
            email: Email::parse(&format!("{n}@studio.test")).unwrap(),
            display_name: Name::parse(n).unwrap(),
            roles: Roles::empty(),
            password_hash: None,
            disabled: false,
            created_at: now,
            prefs: Default::default(),
        };
        tx.insert_user(&u).await.unwrap();
        users.push(u.id);
    }
    let project = domain::Project {
        id: ProjectId::new(),
        movie_id: domain::MovieId::new(87_000_001).unwrap(),
        name: Name::parse("Mentions").unwrap(),
        kind: domain::ProjectKind::Film,
        original_language: domain::LanguageTag::parse("en").unwrap(),
        target_languages: vec![],
        seasons: vec![],
        assignments: vec![],
    };
    tx.insert_project(&project, now).await.unwrap();
    tx.ensure_channels(project.id, &[ChannelKind::Broadcast])
        .await
        .unwrap();
    let channel = tx.list_channels(project.id).await.unwrap().remove(0);
    let m = tx
        .insert_message(MessageId::new(), channel.id, Some(users[0]), "hi @b", now)
        .await
        .unwrap();
    tx.insert_mentions(m.id, &users[1..]).await.unwrap();
    tx.insert_mentions(m.id, &users[1..]).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.mentions_of(m.id).await.unwrap(), vec![users[1]]);
}
