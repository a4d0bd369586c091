//! Live updates over SSE: only readers of a channel hear about it, a reconnect replays what was
//! missed, and two instances on one PostgreSQL database deliver each other's events.

use crate::harness::{TestApp, next_named, sse};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use store::Backend;
use testkit::TestDb;

pub async fn only_readers_hear_of_a_message(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let es = pm.channel_id(&lk, Some("es-ES")).await;
    let pt = pm.channel_id(&lk, Some("pt-BR")).await;
    let mut a = sse(&marta.client, &t.url("/events"), None).await;
    let mut b = sse(&joao.client, &t.url("/events"), None).await;

    let posted = Instant::now();
    pm.api(
        Method::POST,
        &format!("/api/v1/channels/{es}/messages"),
        Some(json!({"body": "for Spain"})),
    )
    .await;
    let got = next_named(&mut a, "message_posted", Duration::from_secs(5))
        .await
        .expect("partner A is told");
    assert_eq!(got["channel_id"], es.as_str());
    eprintln!("post → SSE delivery: {:?}", posted.elapsed());
    // Partner B hears about its own channel, and never about A's.
    pm.api(
        Method::POST,
        &format!("/api/v1/channels/{pt}/messages"),
        Some(json!({"body": "for Brazil"})),
    )
    .await;
    let got = next_named(&mut b, "message_posted", Duration::from_secs(5))
        .await
        .expect("partner B is told");
    assert_eq!(
        got["channel_id"],
        pt.as_str(),
        "B's first event must be its own channel, not A's"
    );
    assert!(
        next_named(&mut a, "message_posted", Duration::from_millis(500))
            .await
            .is_none(),
        "A is not told about B's channel"
    );

    // Another tab of A learns that A has read the channel (badges clear everywhere).
    let mut a2 = sse(&marta.client, &t.url("/events"), None).await;
    marta.get(&format!("/channels/{es}")).await;
    let read = next_named(&mut a2, "channel_read", Duration::from_secs(5))
        .await
        .expect("read position event");
    assert_eq!(read["channel_id"], es.as_str());
    assert!(
        next_named(&mut b, "channel_read", Duration::from_millis(300))
            .await
            .is_none()
    );
}

pub async fn reconnecting_replays_what_was_missed(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let es = pm.channel_id(&lk, Some("es-ES")).await;
    // Nobody is connected while this is posted.
    pm.api(
        Method::POST,
        &format!("/api/v1/channels/{es}/messages"),
        Some(json!({"body": "while you were away"})),
    )
    .await;
    // The replay holds the robot's assignment notes of each reader's own channels too.
    let mut a = sse(&marta.client, &t.url("/events"), Some("0")).await;
    let mut replayed_to_a = Vec::new();
    while let Some(got) = next_named(&mut a, "message_posted", Duration::from_millis(700)).await {
        replayed_to_a.push(got["channel_id"].as_str().unwrap_or_default().to_string());
    }
    assert!(replayed_to_a.contains(&es), "replayed: {replayed_to_a:?}");
    let mut b = sse(&joao.client, &t.url("/events"), Some("0")).await;
    let mut replayed_to_b = Vec::new();
    while let Some(got) = next_named(&mut b, "message_posted", Duration::from_millis(700)).await {
        replayed_to_b.push(got["channel_id"].as_str().unwrap_or_default().to_string());
    }
    assert!(!replayed_to_b.is_empty(), "B hears of its own channels");
    assert!(
        !replayed_to_b.contains(&es),
        "no replay of A's channel to B: {replayed_to_b:?}"
    );
}

pub async fn two_instances_share_events(db: TestDb) {
    let backend = db.backend;
    let t = TestApp::spawn(db).await;
    let (other, _stop) = t.second_instance().await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let es = pm.channel_id(&lk, Some("es-ES")).await;
    // Partner A listens on instance B; the studio posts through instance A.
    let mut a = sse(&marta.client, &format!("{other}/events"), None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posted = Instant::now();
    pm.api(
        Method::POST,
        &format!("/api/v1/channels/{es}/messages"),
        Some(json!({"body": "across instances"})),
    )
    .await;
    let got = next_named(&mut a, "message_posted", Duration::from_secs(5))
        .await
        .expect("delivered by the other instance");
    assert_eq!(got["channel_id"], es.as_str());
    let latency = posted.elapsed();
    eprintln!("{backend:?}: post on instance A → SSE on instance B: {latency:?}");
    if backend == Backend::Postgres {
        // NOTIFY wakes the other instance at once; the 2 s poll is only the safety net.
        assert!(latency < Duration::from_secs(1), "{latency:?}");
    }
}

/// An open connection follows its user: App Settings changed in another tab apply to it, and
/// signing out ends it. (The re-check interval is 30 s in production; zero here.)
pub async fn connections_follow_settings_and_sign_out(db: TestDb) {
    let t = TestApp::spawn_with(db, |a| {
        let mut config = a.config.clone();
        config.live_recheck = Duration::ZERO;
        a.with_config(config)
    })
    .await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let es = marta.channel_id(&lk, Some("es-ES")).await;
    let mut a = sse(&marta.client, &t.url("/events"), None).await;
    let post = |text: &'static str| {
        let pm = &pm;
        let es = es.clone();
        async move {
            let (status, _) = pm
                .api(
                    Method::POST,
                    &format!("/api/v1/channels/{es}/messages"),
                    Some(json!({ "body": text })),
                )
                .await;
            assert_eq!(status, 201);
        }
    };
    post("one").await;
    assert!(
        next_named(&mut a, "message_posted", Duration::from_secs(5))
            .await
            .is_some()
    );

    let settings = |languages: serde_json::Value| {
        let marta = &marta;
        async move {
            let (status, _) = marta
                .api(
                    Method::PUT,
                    "/api/v1/settings",
                    Some(json!({"internal_messages": false, "languages": languages})),
                )
                .await;
            assert_eq!(status, 200);
        }
    };
    settings(json!(["ca-ES"])).await;
    post("two").await;
    assert!(
        next_named(&mut a, "message_posted", Duration::from_millis(700))
            .await
            .is_none(),
        "es-ES is off for Marta now"
    );
    settings(json!([])).await;
    post("three").await;
    assert!(
        next_named(&mut a, "message_posted", Duration::from_secs(5))
            .await
            .is_some()
    );

    let (status, _) = marta.post_form("/sign-out", &[]).await;
    assert_eq!(status, 303);
    post("four").await;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some((name, _)) = a.recv().await {
            assert_ne!(name, "message_posted", "nothing after signing out");
        }
    })
    .await;
    assert!(closed.is_ok(), "the stream ends after signing out");
}

/// Stopping the server (Ctrl-C) ends the open event streams instead of waiting for every
/// browser tab to close.
pub async fn stopping_ends_open_streams(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let app = t.app.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(web::serve(
        listener,
        app,
        web::WebConfig::new(base.clone()),
        async {
            let _ = stopped.await;
        },
    ));
    // The session cookie is for the host, so it works on this second server too.
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let mut stream = sse(&marta.client, &format!("{base}/events"), None).await;
    let _ = stop.send(());
    let finished = tokio::time::timeout(Duration::from_secs(5), server).await;
    assert!(finished.is_ok(), "the server stopped with a stream open");
    assert!(
        tokio::time::timeout(Duration::from_secs(5), stream.recv())
            .await
            .is_ok_and(|e| e.is_none()),
        "the stream ended"
    );
}

testkit::both_backends!(db: super => [
    stopping_ends_open_streams,
    connections_follow_settings_and_sign_out,
    only_readers_hear_of_a_message,
    reconnecting_replays_what_was_missed,
    two_instances_share_events,
]);
