//! Communication over HTTP: who reads and posts where, exact unread badges, opening a channel
//! marks it read, editing and deleting within the window, App Settings hiding channels.

use crate::harness::{Session, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use testkit::TestDb;

/// The caller's channels of a project, by label prefix ("Broadcast", "Spanish", "Internal"…).
async fn channels(s: &Session, project: &str) -> Vec<Value> {
    let (status, list) = s
        .api(
            Method::GET,
            &format!("/api/v1/projects/{project}/channels"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list["items"].as_array().unwrap().clone()
}

fn find<'a>(list: &'a [Value], kind: &str, language: Option<&str>) -> Option<&'a Value> {
    list.iter()
        .find(|c| c["kind"] == kind && c["language"].as_str() == language)
}

async fn my_unread(s: &Session, project: &str) -> u64 {
    let (_, rows) = s.api(Method::GET, "/api/v1/my-projects", None).await;
    rows["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == project)
        .map(|r| r["unread"].as_u64().unwrap())
        .unwrap_or(0)
}

pub async fn who_reads_and_posts_where(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await; // es-ES
    let joao = t.sign_in("joao@vozdobrasil.test").await; // pt-BR

    let pm_channels = channels(&pm, &lk).await;
    let labels: Vec<&str> = pm_channels
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["broadcast", "vendor", "vendor", "vendor", "internal"],
        "Broadcast, languages, Internal"
    );
    let marta_channels = channels(&marta, &lk).await;
    assert_eq!(
        marta_channels.len(),
        2,
        "partner A: Broadcast and es-ES only: {marta_channels:?}"
    );
    assert!(find(&marta_channels, "vendor", Some("es-ES")).is_some());
    let es = find(&pm_channels, "vendor", Some("es-ES")).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pt = find(&pm_channels, "vendor", Some("pt-BR")).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let broadcast = find(&pm_channels, "broadcast", None).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let internal = find(&pm_channels, "internal", None).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The studio writes to partner A in es-ES: A's badge shows 1, B's nothing.
    let before_a = my_unread(&marta, &lk).await;
    let before_b = my_unread(&joao, &lk).await;
    let (status, m) = pm
        .api(
            Method::POST,
            &format!("/api/v1/channels/{es}/messages"),
            Some(json!({"body": "Casting notes for Elena are in."})),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    assert_eq!(my_unread(&marta, &lk).await, before_a + 1);
    assert_eq!(my_unread(&joao, &lk).await, before_b);
    // B cannot read A's channel, post in it, or learn it exists.
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/channels/{es}/messages"), None),
        (
            Method::POST,
            format!("/api/v1/channels/{es}/messages"),
            Some(json!({"body": "hello?"})),
        ),
        (
            Method::GET,
            format!("/api/v1/channels/{internal}/messages"),
            None,
        ),
    ] {
        let (status, _) = joao.api(method, &path, body).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = joao.get(&format!("/channels/{es}")).await;
    assert_eq!(status, 404);

    // A opens the channel: sees the message after a "New messages" divider, and the badge clears.
    let (status, html) = marta.get(&format!("/channels/{es}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Casting notes for Elena are in."));
    assert!(html.contains("New messages"));
    assert!(
        html.contains("Studio"),
        "the author carries the Studio badge"
    );
    assert_eq!(my_unread(&marta, &lk).await, before_a);

    // Partners read Broadcast but do not post there.
    let (status, err) = marta
        .api(
            Method::POST,
            &format!("/api/v1/channels/{broadcast}/messages"),
            Some(json!({"body": "hi all"})),
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("read-only")
    );
    let (_, html) = marta.get(&format!("/channels/{broadcast}")).await;
    assert!(html.contains("read-only") && !html.contains("class=\"composer\""));

    // A answers in its channel; the studio sees it, and A's own message is not unread for A.
    let (status, _) = marta
        .post_form(
            &format!("/channels/{es}/messages"),
            &[("body", "Thanks, recording Tuesday.")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        my_unread(&marta, &lk).await,
        0,
        "everything read, and one's own post is not unread"
    );
    let pm_es = channels(&pm, &lk).await;
    assert_eq!(find(&pm_es, "vendor", Some("es-ES")).unwrap()["unread"], 1);
    // Empty messages are refused with a reason.
    let (status, html) = marta
        .post_form(&format!("/channels/{es}/messages"), &[("body", "   ")])
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("write a message first"));
    // Internal: studio only.
    let (status, _) = pm
        .api(
            Method::POST,
            &format!("/api/v1/channels/{internal}/messages"),
            Some(json!({"body": "Budget is tight on pt-BR."})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = marta.get(&format!("/channels/{internal}")).await;
    assert_eq!(status, 404);
    let _ = pt;
}

pub async fn unread_is_exact_and_settings_hide_channels(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let pm_channels = channels(&pm, &lk).await;
    let es = find(&pm_channels, "vendor", Some("es-ES")).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let broadcast = find(&pm_channels, "broadcast", None).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Open both channels once so the count starts from zero.
    marta
        .api(
            Method::GET,
            &format!("/api/v1/channels/{es}/messages"),
            None,
        )
        .await;
    marta
        .api(
            Method::GET,
            &format!("/api/v1/channels/{broadcast}/messages"),
            None,
        )
        .await;
    assert_eq!(my_unread(&marta, &lk).await, 0);
    for i in 0..3 {
        pm.api(
            Method::POST,
            &format!("/api/v1/channels/{es}/messages"),
            Some(json!({"body": format!("es {i}")})),
        )
        .await;
    }
    let (_, b) = pm
        .api(
            Method::POST,
            &format!("/api/v1/channels/{broadcast}/messages"),
            Some(json!({"body": "Mix delivered"})),
        )
        .await;
    assert_eq!(my_unread(&marta, &lk).await, 4);
    // A deleted message no longer counts.
    let (status, _) = pm
        .api(
            Method::DELETE,
            &format!("/api/v1/messages/{}", b["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(my_unread(&marta, &lk).await, 3);
    // The badge links to the first unread message.
    let (_, html) = marta.get("/").await;
    assert!(html.contains(&format!("/channels/{es}#m")), "{html}");
    // Marking read through the API.
    let (_, page) = marta
        .api(
            Method::GET,
            &format!("/api/v1/channels/{es}/messages"),
            None,
        )
        .await;
    assert_eq!(
        page["read_before"].as_i64().unwrap() + 3,
        page["channel"]["last_seq"].as_i64().unwrap()
    );
    assert_eq!(my_unread(&marta, &lk).await, 0);

    // A stops working on es-ES: the channel disappears and no longer counts.
    let (status, s) = marta
        .api(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"internal_messages": false, "languages": ["ca-ES"]})),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    pm.api(
        Method::POST,
        &format!("/api/v1/channels/{es}/messages"),
        Some(json!({"body": "one more"})),
    )
    .await;
    let list = channels(&marta, &lk).await;
    assert!(find(&list, "vendor", Some("es-ES")).is_none());
    assert_eq!(my_unread(&marta, &lk).await, 0);
    let (status, err) = marta
        .api(
            Method::GET,
            &format!("/api/v1/channels/{es}/messages"),
            None,
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("App Settings")
    );
    // Partners cannot turn on internal messages.
    let (status, _) = marta
        .api(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"internal_messages": true, "languages": []})),
        )
        .await;
    assert_eq!(status, 422);
    // The page form restores all languages.
    let (status, _) = marta.post_form("/settings/app", &[("languages", "")]).await;
    assert_eq!(status, 303);
    assert_eq!(my_unread(&marta, &lk).await, 1);
}

pub async fn authors_edit_and_delete_within_the_window(db: TestDb) {
    let clock = std::sync::Arc::new(app::clock::ManualClock::new(time::OffsetDateTime::now_utc()));
    let c = clock.clone();
    let t = TestApp::spawn_with(db, move |a| a.with_clock(c)).await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let qc = t.sign_in("qc@northlight.test").await;
    let pm_channels = channels(&pm, &lk).await;
    let es = find(&pm_channels, "vendor", Some("es-ES")).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, m) = pm
        .api(
            Method::POST,
            &format!("/api/v1/channels/{es}/messages"),
            Some(json!({"body": "Due Fridy"})),
        )
        .await;
    let id = m["id"].as_str().unwrap().to_string();
    // Someone else cannot touch it.
    let (status, _) = qc
        .api(
            Method::PATCH,
            &format!("/api/v1/messages/{id}"),
            Some(json!({"body": "x"})),
        )
        .await;
    assert_eq!(status, 404);
    // The author edits it: marked as edited.
    let (status, _) = pm
        .post_form(&format!("/messages/{id}/edit"), &[("body", "Due Friday")])
        .await;
    assert_eq!(status, 303);
    let (_, page) = qc
        .api(
            Method::GET,
            &format!("/api/v1/channels/{es}/messages"),
            None,
        )
        .await;
    let last = page["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["body"], "Due Friday");
    assert!(last["edited_at"].is_string());
    // After the window it is too late.
    clock.advance(time::Duration::minutes(16));
    let (status, err) = pm
        .api(
            Method::PATCH,
            &format!("/api/v1/messages/{id}"),
            Some(json!({"body": "Due Monday"})),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("15 minutes"),
        "{err}"
    );
    // A fresh message can be deleted; it leaves a tombstone.
    let (_, m2) = pm
        .api(
            Method::POST,
            &format!("/api/v1/channels/{es}/messages"),
            Some(json!({"body": "wrong channel, sorry"})),
        )
        .await;
    let (status, _) = pm
        .post_form(
            &format!("/messages/{}/delete", m2["id"].as_str().unwrap()),
            &[],
        )
        .await;
    assert_eq!(status, 303);
    let (_, html) = qc.get(&format!("/channels/{es}")).await;
    assert!(html.contains("This message was deleted.") && !html.contains("wrong channel, sorry"));
}

testkit::both_backends!(db: super => [
    who_reads_and_posts_where,
    unread_is_exact_and_settings_hide_channels,
    authors_edit_and_delete_within_the_window,
]);
