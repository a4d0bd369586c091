//! The authorization table: every demo user × every route that exists (pages and API), with the
//! status each must get. A new route without a row here is a review smell; a changed status is
//! a failing test.

use crate::harness::{Session, TestApp};
use reqwest::Method;
use serde_json::json;
use testkit::TestDb;

const WHO: [&str; 8] = [
    "anon",
    "admin",
    "pm",
    "qc",
    "partner-a",
    "partner-b",
    "partner-c",
    "linguist",
];
const EMAILS: [&str; 7] = [
    "admin@northlight.test",
    "pm@northlight.test",
    "qc@northlight.test",
    "marta@iberiavoices.test",
    "joao@vozdobrasil.test",
    "haruka@kazedubbing.test",
    "lucia@iberiavoices.test",
];

enum Body {
    None,
    Json(serde_json::Value),
    Form(Vec<(&'static str, &'static str)>),
    /// A message with one file of a refused kind: 422 for those who may attach.
    Upload,
}

pub async fn table(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let mut sessions: Vec<Session> = vec![t.anonymous().await];
    for e in EMAILS {
        sessions.push(t.sign_in(e).await);
    }
    let dup_project = json!({
        "movie_id": 81000001, "name": "Duplicate", "kind": "film", "original_language": "en",
        "target_languages": ["fr-FR"]
    });
    let bad_update = json!({
        "movie_id": 81000200, "name": "Northern Frontier", "kind": "opera", "original_language": "en",
        "target_languages": ["ja"]
    });
    let stranger = "01900000-0000-7000-8000-000000000000";
    let lk = t.title("The Lighthouse Keeper").to_string();
    let nf = t.title("Northern Frontier").to_string();
    let pm_session = &sessions[2];
    let es = pm_session.channel_id(&lk, Some("es-ES")).await;
    let broadcast = pm_session.channel_id(&lk, None).await;
    let internal = {
        let (_, list) = pm_session
            .api(
                Method::GET,
                &format!("/api/v1/projects/{lk}/channels"),
                None,
            )
            .await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "internal")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };

    let (status, posted) = crate::attachments::upload(
        pm_session,
        &es,
        "",
        &[("brief.pdf", crate::attachments::PDF)],
    )
    .await;
    assert_eq!(status, 201, "{posted}");
    let att = posted["attachments"][0]["id"].as_str().unwrap().to_string();

    use Body::{Form, Json, None as NoBody, Upload};
    #[rustfmt::skip]
    let rows: Vec<(Method, String, Body, [u16; 8])> = vec![
        //                                                                anon admin pm  qc   A    B    C   ling
        (Method::GET, "/".into(), NoBody,                                 [303, 200, 200, 200, 200, 200, 200, 403]),
        (Method::GET, "/sign-in".into(), NoBody,                          [200, 303, 303, 303, 303, 303, 303, 303]),
        (Method::GET, "/tasks".into(), NoBody,                            [303, 200, 200, 200, 200, 200, 200, 200]),
        (Method::GET, "/healthz".into(), NoBody,                          [200, 200, 200, 200, 200, 200, 200, 200]),
        (Method::GET, "/static/app.css".into(), NoBody,                   [200, 200, 200, 200, 200, 200, 200, 200]),
        (Method::GET, "/find?q=81".into(), NoBody,                        [303, 200, 200, 200, 200, 200, 200, 403]),
        (Method::GET, "/projects/new".into(), NoBody,                     [303, 403, 200, 403, 403, 403, 403, 403]),
        (Method::GET, format!("/projects/{}", t.title("The Lighthouse Keeper")), NoBody,
                                                                          [303, 200, 200, 200, 200, 200, 200, 403]),
        (Method::GET, format!("/projects/{}", t.title("Harbour Lights")), NoBody,
                                                                          [303, 200, 200, 200, 200, 200, 404, 403]),
        (Method::GET, format!("/projects/{}", t.title("Northern Frontier")), NoBody,
                                                                          [303, 200, 200, 200, 404, 404, 200, 403]),
        (Method::GET, format!("/projects/{}/edit", t.title("Northern Frontier")), NoBody,
                                                                          [303, 403, 200, 403, 404, 404, 403, 403]),
        (Method::GET, "/projects/not-a-project".into(), NoBody,           [303, 404, 404, 404, 404, 404, 404, 403]),
        (Method::GET, format!("/projects/{stranger}"), NoBody,            [303, 404, 404, 404, 404, 404, 404, 403]),
        (Method::GET, "/settings/tokens".into(), NoBody,                  [303, 200, 200, 200, 200, 200, 200, 403]),
        (Method::GET, "/settings/account".into(), NoBody,                 [303, 200, 200, 200, 200, 200, 200, 200]),
        (Method::GET, "/admin/users".into(), NoBody,                      [303, 200, 403, 403, 403, 403, 403, 403]),
        (Method::GET, "/admin/orgs".into(), NoBody,                       [303, 200, 403, 403, 403, 403, 403, 403]),
        (Method::GET, format!("/admin/users/{}", t.user_id("marta@iberiavoices.test")), NoBody,
                                                                          [303, 200, 403, 403, 403, 403, 403, 403]),
        (Method::POST, format!("/projects/{}/follow", t.title("Northern Frontier")), Form(vec![("back", "/")]),
                                                                          [303, 303, 303, 303, 404, 404, 303, 403]),
        (Method::POST, format!("/projects/{}/unfollow", t.title("Northern Frontier")), Form(vec![("back", "/")]),
                                                                          [303, 303, 303, 303, 404, 404, 303, 403]),
        (Method::POST, "/projects".into(), Form(vec![("movie_id", "x"), ("name", "Nope")]),
                                                                          [303, 403, 422, 403, 403, 403, 403, 403]),
        (Method::POST, format!("/projects/{}", t.title("Harbour Lights")), Form(vec![("movie_id", "x")]),
                                                                          [303, 403, 422, 403, 403, 403, 404, 403]),
        (Method::POST, "/settings/tokens".into(), Form(vec![("name", "")]),
                                                                          [303, 422, 422, 422, 422, 422, 422, 403]),
        (Method::POST, "/admin/orgs".into(), Form(vec![("name", ""), ("kind", "partner")]),
                                                                          [303, 422, 403, 403, 403, 403, 403, 403]),
        (Method::POST, "/admin/users".into(), Form(vec![("email", "bad")]),
                                                                          [303, 422, 403, 403, 403, 403, 403, 403]),
        // API
        (Method::GET, "/api/openapi.json".into(), NoBody,                 [200, 200, 200, 200, 200, 200, 200, 200]),
        (Method::GET, "/api/v1/me".into(), NoBody,                        [401, 200, 200, 200, 200, 200, 200, 200]),
        (Method::GET, "/api/v1/projects?q=".into(), NoBody,               [401, 200, 200, 200, 200, 200, 200, 403]),
        (Method::GET, "/api/v1/my-projects".into(), NoBody,               [401, 200, 200, 200, 200, 200, 200, 403]),
        (Method::GET, format!("/api/v1/projects/{}", t.title("Northern Frontier")), NoBody,
                                                                          [401, 200, 200, 200, 404, 404, 200, 403]),
        (Method::GET, format!("/api/v1/projects/{}", t.title("Harbour Lights")), NoBody,
                                                                          [401, 200, 200, 200, 200, 200, 404, 403]),
        (Method::GET, format!("/api/v1/projects/{stranger}"), NoBody,     [401, 404, 404, 404, 404, 404, 404, 403]),
        (Method::PUT, format!("/api/v1/projects/{}/follow", t.title("Northern Frontier")), NoBody,
                                                                          [401, 204, 204, 204, 404, 404, 204, 403]),
        (Method::DELETE, format!("/api/v1/projects/{}/follow", t.title("Northern Frontier")), NoBody,
                                                                          [401, 204, 204, 204, 404, 404, 204, 403]),
        (Method::PUT, format!("/api/v1/projects/{}", t.title("Northern Frontier")), Json(bad_update),
                                                                          [401, 403, 422, 403, 404, 404, 403, 403]),
        (Method::POST, "/api/v1/projects".into(), Json(dup_project),      [401, 403, 409, 403, 403, 403, 403, 403]),
        (Method::GET, "/api/v1/partners".into(), NoBody,                  [401, 403, 200, 403, 403, 403, 403, 403]),
        (Method::GET, "/api/v1/tokens".into(), NoBody,                    [401, 200, 200, 200, 200, 200, 200, 403]),
        (Method::POST, "/api/v1/tokens".into(), Json(json!({"name": ""})),[401, 422, 422, 422, 422, 422, 422, 403]),
        (Method::DELETE, format!("/api/v1/tokens/{stranger}"), NoBody,    [401, 404, 404, 404, 404, 404, 404, 403]),
        (Method::GET, "/api/v1/orgs".into(), NoBody,                      [401, 200, 403, 403, 403, 403, 403, 403]),
        (Method::POST, "/api/v1/orgs".into(), Json(json!({"name": "", "kind": "partner"})),
                                                                          [401, 422, 403, 403, 403, 403, 403, 403]),
        (Method::PATCH, format!("/api/v1/orgs/{stranger}"), Json(json!({"name": "X"})),
                                                                          [401, 404, 403, 403, 403, 403, 403, 403]),
        (Method::GET, "/api/v1/users".into(), NoBody,                     [401, 200, 403, 403, 403, 403, 403, 403]),
        (Method::POST, "/api/v1/users".into(), Json(json!({"organisation": "x", "email": "bad", "display_name": ""})),
                                                                          [401, 422, 403, 403, 403, 403, 403, 403]),
        (Method::GET, format!("/api/v1/users/{}", t.user_id("marta@iberiavoices.test")), NoBody,
                                                                          [401, 200, 403, 403, 403, 403, 403, 403]),
        (Method::PATCH, format!("/api/v1/users/{}", t.user_id("marta@iberiavoices.test")), Json(json!({"display_name": ""})),
                                                                          [401, 422, 403, 403, 403, 403, 403, 403]),
        (Method::PUT, format!("/api/v1/users/{}/password", t.user_id("marta@iberiavoices.test")), Json(json!({"password": "short"})),
                                                                          [401, 422, 403, 403, 403, 403, 403, 403]),
        // Communication (issue 3): channels of partner A's language, Broadcast, Internal.
        (Method::GET, format!("/channels/{es}"), NoBody,                 [303, 200, 200, 200, 200, 404, 404, 403]),
        (Method::GET, format!("/channels/{broadcast}"), NoBody,          [303, 200, 200, 200, 200, 200, 200, 403]),
        (Method::GET, format!("/channels/{internal}"), NoBody,           [303, 200, 200, 200, 404, 404, 404, 403]),
        (Method::GET, format!("/projects/{nf}/channels"), NoBody,        [303, 303, 303, 303, 404, 404, 303, 403]),
        (Method::POST, format!("/channels/{broadcast}/messages"), Form(vec![("body", "")]),
                                                                          [303, 422, 422, 422, 403, 403, 403, 403]),
        (Method::POST, format!("/channels/{es}/messages"), Form(vec![("body", "")]),
                                                                          [303, 422, 422, 422, 422, 404, 404, 403]),
        (Method::POST, format!("/channels/{broadcast}/messages"), Upload, [303, 422, 422, 422, 403, 403, 403, 403]),
        (Method::POST, format!("/channels/{es}/messages"), Upload,        [303, 422, 422, 422, 422, 404, 404, 403]),
        (Method::GET, format!("/attachments/{att}"), NoBody,              [303, 200, 200, 200, 200, 404, 404, 403]),
        (Method::GET, format!("/attachments/{stranger}"), NoBody,         [303, 404, 404, 404, 404, 404, 404, 403]),
        (Method::POST, format!("/messages/{stranger}/edit"), Form(vec![("body", "x")]),
                                                                          [303, 404, 404, 404, 404, 404, 404, 403]),
        (Method::POST, format!("/messages/{stranger}/delete"), Form(vec![]),
                                                                          [303, 404, 404, 404, 404, 404, 404, 403]),
        (Method::GET, "/search?q=trailer".into(), NoBody,                [303, 200, 200, 200, 200, 200, 200, 403]),
        (Method::GET, format!("/search?q=x&channel={es}"), NoBody,        [303, 200, 200, 200, 200, 404, 404, 403]),
        (Method::GET, "/settings/app".into(), NoBody,                    [303, 200, 200, 200, 200, 200, 200, 403]),
        (Method::POST, "/settings/app".into(), Form(vec![("languages", "klingon!")]),
                                                                          [303, 422, 422, 422, 422, 422, 422, 403]),
        (Method::GET, format!("/api/v1/projects/{nf}/channels"), NoBody, [401, 200, 200, 200, 404, 404, 200, 403]),
        (Method::GET, format!("/api/v1/channels/{es}/messages"), NoBody, [401, 200, 200, 200, 200, 404, 404, 403]),
        (Method::GET, format!("/api/v1/channels/{internal}/messages"), NoBody,
                                                                          [401, 200, 200, 200, 404, 404, 404, 403]),
        (Method::POST, format!("/api/v1/channels/{broadcast}/messages"), Json(json!({"body": ""})),
                                                                          [401, 422, 422, 422, 403, 403, 403, 403]),
        (Method::POST, format!("/api/v1/channels/{broadcast}/messages"), Upload,
                                                                          [401, 422, 422, 422, 403, 403, 403, 403]),
        (Method::POST, format!("/api/v1/channels/{es}/messages"), Upload, [401, 422, 422, 422, 422, 404, 404, 403]),
        (Method::GET, format!("/api/v1/attachments/{att}"), NoBody,       [401, 200, 200, 200, 200, 404, 404, 403]),
        (Method::GET, format!("/api/v1/attachments/{stranger}"), NoBody,  [401, 404, 404, 404, 404, 404, 404, 403]),
        (Method::PUT, format!("/api/v1/channels/{es}/read"), Json(json!({"seq": 0})),
                                                                          [401, 204, 204, 204, 204, 404, 404, 403]),
        (Method::PATCH, format!("/api/v1/messages/{stranger}"), Json(json!({"body": "x"})),
                                                                          [401, 404, 404, 404, 404, 404, 404, 403]),
        (Method::DELETE, format!("/api/v1/messages/{stranger}"), NoBody, [401, 404, 404, 404, 404, 404, 404, 403]),
        (Method::GET, format!("/api/v1/channels/{es}/mentionable"), NoBody,
                                                                          [401, 200, 200, 200, 200, 404, 404, 403]),
        (Method::GET, "/api/v1/search?q=trailer".into(), NoBody,         [401, 200, 200, 200, 200, 200, 200, 403]),
        (Method::GET, "/api/v1/settings".into(), NoBody,                 [401, 200, 200, 200, 200, 200, 200, 403]),
        (Method::PUT, "/api/v1/settings".into(), Json(json!({"internal_messages": false, "languages": ["nope!"]})),
                                                                          [401, 422, 422, 422, 422, 422, 422, 403]),
        (Method::GET, "/events".into(), NoBody,                          [401, 200, 200, 200, 200, 200, 200, 403]),
    ];

    let mut mismatches = Vec::new();
    for (method, path, body, expected) in &rows {
        for (i, s) in sessions.iter().enumerate() {
            let mut req = s
                .client
                .request(method.clone(), s.url(path))
                .header("x-csrf-token", &s.csrf);
            req = match body {
                Body::None => req,
                Body::Json(v) => req.json(v),
                Body::Form(fields) => {
                    let mut f = fields.clone();
                    f.push(("csrf", s.csrf.as_str()));
                    req.form(&f)
                }
                Body::Upload => {
                    let (content_type, bytes) =
                        crate::attachments::multipart("x", &[("setup.exe", b"MZ\x90\0")]);
                    req.header("content-type", content_type).body(bytes)
                }
            };
            let got = req.send().await.unwrap().status().as_u16();
            if got != expected[i] {
                mismatches.push(format!(
                    "{method} {path} as {}: expected {}, got {got}",
                    WHO[i], expected[i]
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "authorization table mismatches:\n{}",
        mismatches.join("\n")
    );
}

/// A state-changing request without the CSRF token is refused with 403, whoever sends it.
pub async fn csrf_is_required(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let pm = t.sign_in("pm@northlight.test").await;
    // Form without the token, and with a wrong one.
    let r = pm
        .client
        .post(t.url("/settings/tokens"))
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = pm
        .client
        .post(t.url("/settings/tokens"))
        .form(&[("name", "x"), ("csrf", "0000")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("CSRF"));
    // Sign-out is state-changing too.
    let r = pm.client.post(t.url("/sign-out")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // The API with the session cookie but without the header.
    let r = pm
        .client
        .put(t.url(&format!(
            "/api/v1/projects/{}/follow",
            t.title("Harbour Lights")
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf");
    // Signing in from a page that did not come from the portal (no pre-session cookie).
    let fresh = crate::harness::client();
    let r = fresh
        .post(t.url("/sign-in"))
        .form(&[
            ("email", "pm@northlight.test"),
            ("password", crate::harness::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Nothing was created by the refused requests.
    let (_, tokens) = pm.api(Method::GET, "/api/v1/tokens", None).await;
    assert_eq!(tokens["items"].as_array().map(Vec::len), Some(0));
    // And the same requests with the token work.
    let (status, _) = pm.post_form("/settings/tokens", &[("name", "x")]).await;
    assert_eq!(status, 200);
}

/// The linguist is refused every portal page with a page that says why, and sees My tasks.
pub async fn linguist_sees_only_tasks(db: TestDb) {
    let t = TestApp::spawn(db).await;
    // Signing in lands on My tasks, not on a refusal.
    let anon = t.anonymous().await;
    let r = anon
        .client
        .post(t.url("/sign-in"))
        .form(&[
            ("email", "lucia@iberiavoices.test"),
            ("password", crate::harness::PASSWORD),
            ("csrf", anon.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/tasks");
    let l = t.sign_in("lucia@iberiavoices.test").await;
    let (status, html) = l.get("/").await;
    assert_eq!(status, 403);
    assert!(
        html.contains("portal_user"),
        "the refusal explains the missing role"
    );
    assert!(html.contains("href=\"/tasks\""), "and points to My tasks");
    let (status, html) = l.get("/tasks").await;
    assert_eq!(status, 200);
    assert!(html.contains("My tasks"));
    assert!(
        !html.contains("finder-q"),
        "no title finder for someone without portal access"
    );
    let (status, body) = l.api(Method::GET, "/api/v1/projects", None).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "no_portal_access");
    let (status, me) = l.api(Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, 200);
    assert_eq!(me["portal_access"], false);
}

testkit::both_backends!(db: super => [table, csrf_is_required, linguist_sees_only_tasks]);
