//! Searching messages over HTTP: only what the caller can read, highlighted; one channel or all;
//! CJK and diacritics; a partner that loses its assignment stops finding that channel at once.

use crate::harness::{Session, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use testkit::TestDb;

async fn search(s: &Session, q: &str) -> Vec<Value> {
    let (status, hits) = s
        .api(
            Method::GET,
            &format!("/api/v1/search?q={}", urlencode(q)),
            None,
        )
        .await;
    assert_eq!(status, 200, "{q}: {hits}");
    hits["items"].as_array().unwrap().clone()
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .unwrap()
        .trim_start_matches('=')
        .to_string()
}

fn bodies(hits: &[Value]) -> Vec<String> {
    hits.iter()
        .map(|h| {
            h["segments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["text"].as_str().unwrap())
                .collect::<String>()
        })
        .collect()
}

pub async fn partners_find_only_what_they_can_read(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let haruka = t.sign_in("haruka@kazedubbing.test").await;
    let es = pm.channel_id(&lk, Some("es-ES")).await;
    let ja = pm.channel_id(&lk, Some("ja")).await;
    let broadcast = pm.channel_id(&lk, None).await;
    for (channel, body) in [
        (&es, "Voice of Peña approved for the trailer"),
        (&ja, "トレーラーのスケジュールを確認してください trailer"),
        (&broadcast, "The trailer lock is Friday"),
    ] {
        let (status, _) = pm
            .api(
                Method::POST,
                &format!("/api/v1/channels/{channel}/messages"),
                Some(json!({"body": body})),
            )
            .await;
        assert_eq!(status, 201);
    }

    // Partner A: its own channel and Broadcast, never partner C's Japanese channel.
    let hits = search(&marta, "trailer").await;
    let found = bodies(&hits);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().any(|b| b.contains("Peña")) && found.iter().any(|b| b.contains("lock")));
    assert!(hits.iter().all(|h| h["channel_id"] != ja.as_str()));
    // Diacritics fold; matches are marked.
    let hits = search(&marta, "pena").await;
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0]["segments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["match"] == true && s["text"] == "Peña")
    );
    // Partner C finds its Japanese message by a Japanese substring; A does not.
    assert_eq!(search(&haruka, "スケジュール").await.len(), 1);
    assert!(search(&marta, "スケジュール").await.is_empty());
    // Filters.
    assert_eq!(search(&pm, "trailer in:ja").await.len(), 1);
    assert_eq!(search(&pm, "trailer -Friday").await.len(), 2);
    assert_eq!(search(&pm, "\"trailer lock\"").await.len(), 1);
    // In one channel; someone else's channel is "not found".
    let (status, hits) = marta
        .api(
            Method::GET,
            &format!("/api/v1/search?q=trailer&channel={es}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(hits["items"].as_array().unwrap().len(), 1);
    let (status, _) = marta
        .api(
            Method::GET,
            &format!("/api/v1/search?q=trailer&channel={ja}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    // A query that cannot be read says why.
    let (status, err) = marta
        .api(Method::GET, "/api/v1/search?q=before:someday", None)
        .await;
    assert_eq!(status, 422);
    assert!(
        err["error"]["message"].as_str().unwrap().contains("date"),
        "{err}"
    );
    // The page highlights.
    let (status, html) = marta.get("/search?q=pena").await;
    assert_eq!(status, 200);
    assert!(html.contains("<mark>Peña</mark>"), "{html}");

    // The studio moves es-ES to partner B: partner A no longer finds that channel's messages.
    let (_, project) = pm
        .api(Method::GET, &format!("/api/v1/projects/{lk}"), None)
        .await;
    let (_, partners) = pm.api(Method::GET, "/api/v1/partners", None).await;
    let b = partners["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == app::demo::PARTNER_B)
        .unwrap()["id"]
        .clone();
    let assignments: Vec<Value> = project["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let partner = if a["language"] == "es-ES" {
                b.clone()
            } else {
                a["partner"]["id"].clone()
            };
            json!({"language": a["language"], "service": a["service"], "partner_id": partner})
        })
        .collect();
    let update = json!({
        "movie_id": project["movie_id"], "name": project["name"], "kind": project["kind"],
        "original_language": project["original_language"], "target_languages": project["target_languages"],
        "assignments": assignments
    });
    let (status, body) = pm
        .api(Method::PUT, &format!("/api/v1/projects/{lk}"), Some(update))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        search(&marta, "pena").await.is_empty(),
        "partner A lost es-ES and must not find its messages"
    );
}

testkit::both_backends!(db: super => [partners_find_only_what_they_can_read]);
