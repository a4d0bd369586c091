//! The API contract, walked from the OpenAPI document itself: every documented operation is
//! called with no credentials, a bad body, a bad query and a wrong method, and every answer
//! must have the one error shape, a documented code, and a status the document lists for that
//! operation. A new route is walked as soon as it is registered.

use crate::harness::{TestApp, client};
use reqwest::Method;
use serde_json::{Value, json};
use testkit::TestDb;

const CODES: &[&str] = &[
    "bad_request",
    "not_signed_in",
    "invalid_token",
    "bad_credentials",
    "no_portal_access",
    "forbidden",
    "csrf",
    "not_found",
    "method_not_allowed",
    "timeout",
    "conflict",
    "too_large",
    "unsupported_media_type",
    "invalid",
    "throttled",
    "internal",
];

struct Op {
    method: Method,
    path: String,
    doc: Value,
}

fn operations(doc: &Value) -> Vec<Op> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            let method = match m.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            // Path ids that exist nowhere: every answer is then about the request itself.
            // Other path parameters get a well-formed value (an enum's first, an integer).
            let concrete = path
                .replace("{id}", "0190a0b0-0000-7000-8000-000000000000")
                .replace("{user}", "0190a0b0-0000-7000-8000-000000000001")
                .replace("{step}", "author")
                .replace("{dependency}", "1")
                .replace("{version}", "1")
                .replace("{language}", "es-ES")
                .replace("{item}", "0190a0b0-0000-7000-8000-000000000002");
            assert!(
                !concrete.contains('{'),
                "a path parameter to fill in: {concrete}"
            );
            out.push(Op {
                method,
                path: concrete,
                doc: op.clone(),
            });
        }
    }
    out
}

fn documented(op: &Op, status: u16) -> bool {
    op.doc["responses"].get(status.to_string()).is_some()
}

/// Checks one answer: documented status, the error shape, a documented code.
fn check_error(op: &Op, what: &str, status: u16, body: &Value, expected: &[u16]) {
    let at = format!("{} {} ({what})", op.method, op.path);
    assert!(
        expected.contains(&status),
        "{at}: status {status}, expected one of {expected:?}: {body}"
    );
    assert!(documented(op, status), "{at}: {status} is not documented");
    let code = body["error"]["code"].as_str().unwrap_or_default();
    assert!(CODES.contains(&code), "{at}: code {code:?} in {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{at}: {body}"
    );
    assert!(body["error"]["fields"].is_array(), "{at}: {body}");
}

async fn send(
    method: Method,
    url: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = client().request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers,
    )
}

async fn served_document(t: &TestApp) -> Value {
    client()
        .get(t.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn admin_token(t: &TestApp) -> String {
    let admin = t.sign_in("admin@northlight.test").await;
    let (status, created) = admin
        .api(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "walk"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["secret"].as_str().unwrap().to_string()
}

pub async fn every_operation_answers_in_the_contract(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let doc = served_document(&t).await;
    let ops = operations(&doc);
    assert!(ops.len() >= 35, "{} operations", ops.len());
    let token = admin_token(&t).await;

    for op in &ops {
        let url = t.url(&op.path);
        let public = op.path == "/healthz";
        let has_body = op.doc.get("requestBody").is_some();
        let params = op.doc["parameters"].as_array().cloned().unwrap_or_default();

        // 1. No credentials: 401 for everything but the health check, changes included (no
        //    CSRF refusal before authentication).
        if !public {
            let (status, body, _) = send(
                op.method.clone(),
                &url,
                None,
                has_body.then_some("application/json"),
                has_body.then_some("{}"),
            )
            .await;
            check_error(op, "no credentials", status, &body, &[401]);
            assert_eq!(body["error"]["code"], "not_signed_in", "{}", op.path);
        }

        // 2. A bad body: an array (422), not JSON (400), another media type (415). A route
        //    that takes only files (`multipart/form-data`) refuses any of them with 415.
        let takes_json = op.doc["requestBody"]["content"]
            .get("application/json")
            .is_some();
        if has_body && !takes_json {
            for (ct, b, expected) in [
                ("application/json", "[\"x\"]".to_string(), &[415][..]),
                ("text/plain", "{}".to_string(), &[415][..]),
                // Announced as larger than any non-file body: refused before it is read.
                (
                    "application/json",
                    format!("{{\"x\": \"{}\"}}", "a".repeat(1024 * 1024 + 10)),
                    &[413, 415][..],
                ),
            ] {
                let (status, body, _) =
                    send(op.method.clone(), &url, Some(&token), Some(ct), Some(&b)).await;
                check_error(
                    op,
                    &format!("a {ct} body to a files-only route"),
                    status,
                    &body,
                    expected,
                );
            }
        }
        if has_body && takes_json {
            for (ct, b, expected) in [
                ("application/json", "[\"x\"]", 422),
                ("application/json", "{\"unclosed", 400),
                ("text/plain", "{}", 415),
            ] {
                let (status, body, _) =
                    send(op.method.clone(), &url, Some(&token), Some(ct), Some(b)).await;
                check_error(op, &format!("body {b} as {ct}"), status, &body, &[expected]);
            }
            // Larger than any route takes: 413.
            let big = format!("{{\"x\": \"{}\"}}", "a".repeat(1024 * 1024 + 10));
            let (status, body, _) = send(
                op.method.clone(),
                &url,
                Some(&token),
                Some("application/json"),
                Some(&big),
            )
            .await;
            check_error(op, "1 MB body", status, &body, &[413]);
        }

        // 3. A bad query: a word where an integer is due, or a required parameter left out.
        let int_param = params.iter().find(|p| {
            p["in"] == "query"
                && p["schema"]["type"]
                    .as_array()
                    .map(|t| t.contains(&json!("integer")))
                    .unwrap_or(p["schema"]["type"] == "integer")
        });
        if let Some(p) = int_param {
            let name = p["name"].as_str().unwrap();
            let (status, body, _) = send(
                op.method.clone(),
                &format!("{url}?q=x&{name}=abc"),
                Some(&token),
                has_body.then_some("application/json"),
                has_body.then_some("{}"),
            )
            .await;
            check_error(op, "bad query", status, &body, &[422]);
            assert_eq!(body["error"]["fields"][0]["field"], name, "{}", op.path);
        }
        if params
            .iter()
            .any(|p| p["in"] == "query" && p["name"] == "limit")
        {
            for bad in ["0", "201", "-1", "4294967296"] {
                let (status, body, _) = send(
                    op.method.clone(),
                    &format!("{url}?q=x&limit={bad}"),
                    Some(&token),
                    None,
                    None,
                )
                .await;
                check_error(op, &format!("limit={bad}"), status, &body, &[422]);
            }
            let (status, body, _) = send(
                op.method.clone(),
                &format!("{url}?q=x&cursor=nonsense"),
                Some(&token),
                None,
                None,
            )
            .await;
            check_error(op, "bad cursor", status, &body, &[404]);
        }
        if params
            .iter()
            .any(|p| p["in"] == "query" && p["required"] == true)
        {
            let (status, body, _) = send(op.method.clone(), &url, Some(&token), None, None).await;
            check_error(op, "required parameter missing", status, &body, &[422]);
        }

        // 4. A wrong method: 405 with the shape and Allow.
        let path_item = &doc["paths"][op
            .path
            .replace("0190a0b0-0000-7000-8000-000000000000", "{id}")];
        let wrong = [Method::PATCH, Method::PUT, Method::POST, Method::DELETE]
            .into_iter()
            .find(|m| path_item.get(m.as_str().to_lowercase()).is_none());
        if let Some(m) = wrong {
            let (status, body, headers) = send(m.clone(), &url, Some(&token), None, None).await;
            assert_eq!(status, 405, "{m} {}: {body}", op.path);
            assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
            assert!(headers.get("allow").is_some(), "{m} {}", op.path);
        }
    }

    // An unknown route under /api: 404 in the shape.
    let (status, body, _) = send(
        Method::GET,
        &t.url("/api/v1/nothing"),
        Some(&token),
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

/// Unknown tokens are counted per address: after the free allowance each further attempt is
/// 429 with `Retry-After`, and a valid token from that address waits too.
pub async fn unknown_tokens_are_throttled(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let token = admin_token(&t).await;
    let me = t.url("/api/v1/me");
    let bad = format!("lpt_{}", "0".repeat(64));
    for i in 0..domain::throttle::FREE_TOKEN_FAILURES {
        let (status, body, _) = send(Method::GET, &me, Some(&bad), None, None).await;
        assert_eq!(status, 401, "attempt {i}: {body}");
        assert_eq!(body["error"]["code"], "invalid_token");
    }
    for t in [bad.as_str(), token.as_str()] {
        let (status, body, headers) = send(Method::GET, &me, Some(t), None, None).await;
        assert_eq!(status, 429, "{body}");
        assert_eq!(body["error"]["code"], "throttled");
        let wait: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(wait >= 1, "{wait}");
    }
}

/// The document a client reads: OpenAPI 3.1 with servers, the declared tags of every
/// operation, the three ways to authenticate, enums for closed sets, and `/events`.
pub async fn document_describes_what_is_served(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let doc = served_document(&t).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["servers"][0]["url"].is_string());
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for op in operations(&doc) {
        for tag in op.doc["tags"].as_array().unwrap() {
            assert!(tags.contains(&tag.as_str().unwrap()), "{tag} undeclared");
        }
        for (status, r) in op.doc["responses"].as_object().unwrap() {
            assert!(
                r["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{} {} {status} has no description",
                op.method,
                op.path
            );
        }
        assert!(op.doc["security"].is_array(), "{} {}", op.method, op.path);
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["csrf"]["name"], "X-CSRF-Token");
    let schemas = &doc["components"]["schemas"];
    for (name, values) in [
        ("ProjectKindName", json!(["film", "series"])),
        ("OrgKindName", json!(["studio", "partner"])),
        ("MailStateName", json!(["pending", "sent", "failed"])),
    ] {
        assert_eq!(schemas[name]["enum"], values, "{name}");
    }
    assert!(
        doc["paths"]["/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
            .is_object()
    );
    // The stream answers for a bearer token, as documented.
    let token = admin_token(&t).await;
    let r = client()
        .get(t.url("/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
}

testkit::both_backends!(db: super => [
    every_operation_answers_in_the_contract,
    unknown_tokens_are_throttled,
    document_describes_what_is_served,
]);
