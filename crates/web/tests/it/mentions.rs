//! @mentions over HTTP: stored for the mentioned reader only; refused, with a clear message, for
//! someone who cannot read the channel; never a way to learn about another partner's people.

use crate::harness::TestApp;
use reqwest::Method;
use serde_json::json;
use testkit::TestDb;

pub async fn mentions_reach_readers_only(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let es = pm.channel_id(&lk, Some("es-ES")).await;

    // The studio mentions partner A's PM by first name in A's channel: stored.
    let (status, m) = pm
        .api(
            Method::POST,
            &format!("/api/v1/channels/{es}/messages"),
            Some(json!({"body": "@Marta can you confirm the dates?"})),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    let id: domain::MessageId = m["id"].as_str().unwrap().parse().unwrap();
    let mut tx = t.app.store.read().await.unwrap();
    let mentioned = tx.mentions_of(id).await.unwrap();
    drop(tx);
    assert_eq!(mentioned.len(), 1);
    assert_eq!(
        mentioned[0].to_string(),
        t.user_id("marta@iberiavoices.test")
    );

    // Partner B's PM cannot read A's channel: the studio is told so, and nothing is posted.
    let (status, err) = pm
        .api(
            Method::POST,
            &format!("/api/v1/channels/{es}/messages"),
            Some(json!({"body": "cc @joao@vozdobrasil.test"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot read this channel"),
        "{err}"
    );
    let (_, page) = pm
        .api(
            Method::GET,
            &format!("/api/v1/channels/{es}/messages"),
            None,
        )
        .await;
    assert!(!page.to_string().contains("cc @joao"));

    // Partner A typing partner B's person learns nothing: plain text, no mention, no error.
    let (status, m) = marta
        .api(
            Method::POST,
            &format!("/api/v1/channels/{es}/messages"),
            Some(json!({"body": "Is @\"João Silva\" around?"})),
        )
        .await;
    assert_eq!(status, 201);
    let id: domain::MessageId = m["id"].as_str().unwrap().parse().unwrap();
    let mut tx = t.app.store.read().await.unwrap();
    assert!(tx.mentions_of(id).await.unwrap().is_empty());
    drop(tx);

    // Autocomplete offers only readers of the channel.
    let (status, people) = marta
        .api(
            Method::GET,
            &format!("/api/v1/channels/{es}/mentionable?q="),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let text = people.to_string();
    assert!(text.contains("pm@northlight.test"), "{text}");
    assert!(
        !text.contains("vozdobrasil") && !text.contains("kazedubbing") && !text.contains("lucia@"),
        "{text}"
    );
    let (_, people) = pm
        .api(
            Method::GET,
            &format!("/api/v1/channels/{es}/mentionable?q=@mar"),
            None,
        )
        .await;
    assert_eq!(people["items"].as_array().unwrap().len(), 1);
    // Partners cannot post in Broadcast, so they get no autocomplete there either.
    let broadcast = pm.channel_id(&lk, None).await;
    let (status, _) = marta
        .api(
            Method::GET,
            &format!("/api/v1/channels/{broadcast}/mentionable"),
            None,
        )
        .await;
    assert_eq!(status, 403);
}

/// Posting writes who is to be told, and why, in the same transaction (the e-mail issue's
/// outbox): the rules of PRODUCT.md §3.1 over the demo's followers.
pub async fn posting_records_who_is_to_be_told(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let es = pm.channel_id(&lk, Some("es-ES")).await;
    let broadcast = pm.channel_id(&lk, None).await;
    let told = |m: serde_json::Value| {
        let app = t.app.clone();
        async move {
            let id: domain::MessageId = m["id"].as_str().unwrap().parse().unwrap();
            let mut tx = app.store.read().await.unwrap();
            let mut v: Vec<(String, String)> = tx
                .notifications_of(id)
                .await
                .unwrap()
                .into_iter()
                .map(|(u, r)| (u.to_string(), r))
                .collect();
            v.sort();
            v
        }
    };
    let who = |email: &str, reason: &str| (t.user_id(email).to_string(), reason.to_string());
    let sorted = |mut v: Vec<(String, String)>| {
        v.sort();
        v
    };
    // Studio in A's channel: A's follower; nobody from B or C, not the author.
    let (_, m) = pm
        .api(
            Method::POST,
            &format!("/api/v1/channels/{es}/messages"),
            Some(json!({"body": "Dates?"})),
        )
        .await;
    assert_eq!(
        told(m).await,
        vec![who("marta@iberiavoices.test", "vendor")]
    );
    // Partner in its channel: the studio's followers (the PM), plus a mentioned non-follower.
    let (_, m) = marta
        .api(
            Method::POST,
            &format!("/api/v1/channels/{es}/messages"),
            Some(json!({"body": "Tuesday. @Quentin please QC"})),
        )
        .await;
    assert_eq!(
        told(m).await,
        sorted(vec![
            who("pm@northlight.test", "vendor"),
            who("qc@northlight.test", "mention")
        ])
    );
    // Broadcast: every partner following the title.
    let (_, m) = pm
        .api(
            Method::POST,
            &format!("/api/v1/channels/{broadcast}/messages"),
            Some(json!({"body": "Mix locked"})),
        )
        .await;
    assert_eq!(
        told(m).await,
        sorted(vec![
            who("marta@iberiavoices.test", "broadcast"),
            who("joao@vozdobrasil.test", "broadcast"),
            who("haruka@kazedubbing.test", "broadcast"),
        ])
    );
}

testkit::both_backends!(db: super => [mentions_reach_readers_only, posting_records_who_is_to_be_told]);
