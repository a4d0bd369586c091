//! Security hardening, tried as an attacker would: parallel password guesses, locking someone
//! else out, credentials that outlive a password change, redirects off-site, input that used to
//! answer 500, slow-header clients, live streams after sign-out, spoofing characters.

use crate::attachments::upload;
use crate::harness::{PASSWORD, Session, TestApp, sse};
use domain::throttle;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use testkit::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ADMIN: &str = "admin@northlight.test";

fn retry_after(r: &reqwest::Response) -> i64 {
    r.headers()
        .get("retry-after")
        .expect("every 429 says when to retry")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Forty wrong passwords fired at once from one address: only the free allowance is checked,
/// the rest are 429 with `Retry-After` (before: 40 × 401).
pub async fn parallel_guesses_count_against_each_other(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let anon = t.anonymous().await;
    let answers =
        futures::future::join_all((0..40).map(|_| anon.sign_in_attempt(ADMIN, "wrong password!")))
            .await;
    let checked = answers.iter().filter(|r| r.status() == 401).count();
    let refused: Vec<_> = answers.iter().filter(|r| r.status() == 429).collect();
    assert_eq!(checked + refused.len(), 40);
    // Exactly the free five, plus at most one or two more if the machine took over a second
    // between reservations (the wait after the fifth is one second).
    assert!(
        (throttle::FREE_FAILURES as usize..=throttle::FREE_FAILURES as usize + 2)
            .contains(&checked),
        "{checked} guesses were checked"
    );
    for r in refused {
        assert!(retry_after(r) >= 1);
    }
}

/// Failures from one address do not lock the account for everybody else; an account under
/// attack costs the attacking addresses their free attempts, but not a fresh address.
pub async fn a_stranger_cannot_lock_an_account(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let stranger = t.anonymous_from("127.0.0.2").await;
    for _ in 0..throttle::FREE_FAILURES {
        assert_eq!(
            stranger
                .sign_in_attempt(ADMIN, "wrong password!")
                .await
                .status(),
            401
        );
    }
    let r = stranger.sign_in_attempt(ADMIN, PASSWORD).await;
    assert_eq!(r.status(), 429, "the guessing address waits");
    assert!(retry_after(&r) >= 1);
    assert!(r.text().await.unwrap().contains("Too many failed sign-ins"));

    let owner = t.anonymous_from("127.0.0.3").await;
    let r = owner.sign_in_attempt(ADMIN, PASSWORD).await;
    assert_eq!(r.status(), 303, "the owner, elsewhere, signs in");

    // A spray from five more addresses takes the account to its alarm level (5 + 5 × 3)...
    let mut sprayers = Vec::new();
    for i in 4..9 {
        let s = t.anonymous_from(&format!("127.0.0.{i}")).await;
        for _ in 0..3 {
            assert_eq!(
                s.sign_in_attempt(ADMIN, "wrong password!").await.status(),
                401
            );
        }
        sprayers.push(s);
    }
    // ...so an address that has failed on it gets no further free attempt...
    let r = sprayers[0].sign_in_attempt(ADMIN, "wrong password!").await;
    assert_eq!(r.status(), 429);
    assert!(retry_after(&r) >= 1);
    // ...while someone at a fresh address with the right password still gets in.
    let fresh = t.anonymous_from("127.0.0.9").await;
    assert_eq!(fresh.sign_in_attempt(ADMIN, PASSWORD).await.status(), 303);
    // Another account from a sprayer's address is not affected by that account's alarm.
    assert_eq!(
        sprayers[1]
            .sign_in_attempt("pm@northlight.test", PASSWORD)
            .await
            .status(),
        303
    );
}

/// Wrong current passwords on "Change password" are throttled like sign-ins.
pub async fn changing_the_password_is_throttled(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let pm = t.sign_in("pm@northlight.test").await;
    let change = |current: &'static str| {
        let pm = &pm;
        async move {
            pm.client
                .post(pm.url("/settings/account/password"))
                .form(&[
                    ("current_password", current),
                    ("new_password", "a brand new passphrase"),
                    ("csrf", pm.csrf.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..throttle::FREE_PASSWORD_CHANGE_FAILURES {
        let r = change("not my password").await;
        assert_eq!(r.status(), 422);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("this is not your current password")
        );
    }
    let r = change(PASSWORD).await;
    assert_eq!(r.status(), 429, "even the right one waits now");
    assert!(retry_after(&r) >= 1);
}

async fn new_token(s: &Session, name: &str) -> (String, String) {
    let (status, created) = s
        .api(Method::POST, "/api/v1/tokens", Some(json!({"name": name})))
        .await;
    assert_eq!(status, 201, "{created}");
    (
        created["secret"].as_str().unwrap().to_string(),
        created["token"]["id"]
            .as_str()
            .or(created["id"].as_str())
            .unwrap_or_default()
            .to_string(),
    )
}

async fn me_with(t: &TestApp, token: &str) -> StatusCode {
    crate::harness::bearer(&t.base, token, Method::GET, "/api/v1/me", None)
        .await
        .0
}

fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Waits for an open SSE stream to end; how long it took, or `None` after `limit`.
async fn ended_within(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(String, String)>,
    limit: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    tokio::time::timeout(limit, async { while rx.recv().await.is_some() {} })
        .await
        .ok()
        .map(|()| start.elapsed())
}

/// A password change, an admin's reset and disabling the account each revoke the user's API
/// tokens (re-enabling does not bring them back), and each ends the user's open streams within
/// a second, whatever credential opened them.
pub async fn tokens_and_streams_end_with_the_password(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let admin = t.sign_in(ADMIN).await;
    let second = Duration::from_secs(1);

    // 1. One's own password change.
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let (token, _) = new_token(&marta, "delivery script").await;
    assert_eq!(me_with(&t, &token).await, 200);
    let mut by_token = sse(&bearer_client(&token), &t.url("/events"), None).await;
    let mut by_cookie = sse(&marta.client, &t.url("/events"), None).await;
    let (status, _) = marta
        .post_form(
            "/settings/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        me_with(&t, &token).await,
        401,
        "token after password change"
    );
    assert!(ended_within(&mut by_token, second).await.is_some());
    assert!(ended_within(&mut by_cookie, second).await.is_some());

    // 2. An admin sets a new password.
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let (token, _) = new_token(&joao, "nightly export").await;
    let mut stream = sse(&bearer_client(&token), &t.url("/events"), None).await;
    let id = t.user_id("joao@vozdobrasil.test").to_string();
    let (status, body) = admin
        .api(
            Method::PUT,
            &format!("/api/v1/users/{id}/password"),
            Some(json!({"password": "reset by the admin"})),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(me_with(&t, &token).await, 401, "token after admin reset");
    assert!(ended_within(&mut stream, second).await.is_some());

    // 3. Disabled, then enabled again.
    let haruka = t.sign_in("haruka@kazedubbing.test").await;
    let (token, _) = new_token(&haruka, "sync").await;
    let mut stream = sse(&haruka.client, &t.url("/events"), None).await;
    let id = t.user_id("haruka@kazedubbing.test").to_string();
    for disabled in [true, false] {
        let (status, body) = admin
            .api(
                Method::PATCH,
                &format!("/api/v1/users/{id}"),
                Some(json!({"disabled": disabled})),
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
        if disabled {
            assert!(ended_within(&mut stream, second).await.is_some());
        }
    }
    assert_eq!(
        me_with(&t, &token).await,
        401,
        "token after disable → enable"
    );
    let (status, tokens) = t
        .sign_in("haruka@kazedubbing.test")
        .await
        .api(Method::GET, "/api/v1/tokens", None)
        .await;
    assert_eq!(status, 200);
    assert!(tokens["items"][0]["revoked_at"].is_string(), "{tokens}");
}

/// Signing out ends the streams of that session at once (not those of another session), and
/// revoking a token ends the streams it opened.
pub async fn streams_end_at_sign_out_and_token_revoke(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let pm = t.sign_in("pm@northlight.test").await;
    let other_tab = t.sign_in("pm@northlight.test").await;
    let mut mine = sse(&pm.client, &t.url("/events"), None).await;
    let mut theirs = sse(&other_tab.client, &t.url("/events"), None).await;
    let (status, _) = pm.post_form("/sign-out", &[]).await;
    assert_eq!(status, 303);
    let took = ended_within(&mut mine, Duration::from_secs(1)).await;
    assert!(took.is_some(), "the stream outlived the sign-out");
    eprintln!("sign-out → stream closed: {:?}", took);
    assert!(
        ended_within(&mut theirs, Duration::from_millis(300))
            .await
            .is_none(),
        "another session's stream goes on"
    );

    let (token, _) = new_token(&other_tab, "watcher").await;
    let mut by_token = sse(&bearer_client(&token), &t.url("/events"), None).await;
    let (status, tokens) = other_tab.api(Method::GET, "/api/v1/tokens", None).await;
    assert_eq!(status, 200);
    let id = tokens["items"][0]["id"].as_str().unwrap().to_string();
    let (status, _) = other_tab
        .api(Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
        .await;
    assert!(status.is_success());
    assert!(
        ended_within(&mut by_token, Duration::from_secs(1))
            .await
            .is_some()
    );
}

/// A form posted from another site is refused even with a valid token (a forged sign-in with a
/// planted pre-session cookie), and a pre-session value the portal did not make is replaced.
pub async fn forms_from_another_site_are_refused(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let sign_in = |s: &Session, extra: &[(&'static str, String)]| {
        let mut req = s.client.post(s.url("/sign-in")).form(&[
            ("email", "pm@northlight.test"),
            ("password", PASSWORD),
            ("csrf", s.csrf.as_str()),
        ]);
        for (k, v) in extra {
            req = req.header(*k, v.as_str());
        }
        req.send()
    };
    let anon = t.anonymous().await;
    for (header, value) in [
        ("origin", "http://evil.example".to_string()),
        ("origin", "null".to_string()),
        ("sec-fetch-site", "cross-site".to_string()),
    ] {
        let r = sign_in(&anon, &[(header, value.clone())]).await.unwrap();
        assert_eq!(r.status(), 403, "{header}: {value}");
    }
    // The portal's own origin, and browsers that send none, are fine.
    let r = sign_in(
        &anon,
        &[
            ("origin", t.base.clone()),
            ("sec-fetch-site", "same-origin".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    // Signed in, the same holds for every form.
    let pm = t.sign_in("pm@northlight.test").await;
    let r = pm
        .client
        .post(pm.url("/sign-out"))
        .header("origin", "http://evil.example")
        .form(&[("csrf", pm.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // A planted pre-session value is not honoured: the page hands out a fresh one, and a
    // sign-in carrying the planted value as its token is refused.
    let planted = "attacker-knows-this";
    let c = crate::harness::client();
    let r = c
        .get(t.url("/sign-in"))
        .header("cookie", format!("lp_pre={planted}"))
        .send()
        .await
        .unwrap();
    let fresh = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("lp_pre="))
        .expect("a fresh pre-session cookie")
        .to_string();
    assert!(!fresh.contains(planted));
    let r = c
        .post(t.url("/sign-in"))
        .header("cookie", format!("lp_pre={planted}"))
        .form(&[
            ("email", "pm@northlight.test"),
            ("password", PASSWORD),
            ("csrf", planted),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// `next` only ever leads to a path on this site, and never answers 500.
pub async fn redirects_stay_on_the_site(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let pm = t.sign_in("pm@northlight.test").await;
    let location = |r: &reqwest::Response| {
        r.headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
    };
    for (next, expected) in [
        ("/%09/127.0.0.2:8999/again", "/"),
        ("/%0A", "/"),
        ("/%0D%0ASet-Cookie:%20evil=1", "/"),
        ("//evil.example/", "/"),
        ("/%5Cevil.example", "/"),
        ("https://evil.example/", "/"),
        ("/projects", "/projects"),
    ] {
        let r = pm
            .client
            .get(t.url(&format!("/sign-in?next={next}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "next={next}");
        assert_eq!(location(&r).as_deref(), Some(expected), "next={next}");
        assert!(r.headers().get("set-cookie").is_none());
    }
    // Signing in with a header-splitting `next` lands on the home page, cookie set once.
    let anon = t.anonymous().await;
    let r = anon
        .client
        .post(t.url("/sign-in"))
        .form(&[
            ("email", "pm@northlight.test"),
            ("password", PASSWORD),
            ("csrf", anon.csrf.as_str()),
            ("next", "/\r\nSet-Cookie: evil=1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r).as_deref(), Some("/"));
    let cookies: Vec<_> = r.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies.len(), 1);
    assert!(!cookies[0].to_str().unwrap().contains("evil"));
}

fn assert_security_headers(h: &reqwest::header::HeaderMap, what: &str) {
    for name in [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
    ] {
        assert!(h.contains_key(name), "{what}: no {name}");
    }
}

/// Input that used to answer 500 (or panic) is a clear 4xx in the usual shape, and every answer,
/// errors included, carries the security headers.
pub async fn hostile_input_is_a_clear_4xx(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let pm = t.sign_in("pm@northlight.test").await;
    let many_words = vec!["mix"; 1000].join(" ");
    let long_word = "a".repeat(50_001);
    for q in [
        "after:9999-12-31",
        "on:9999-12-31",
        many_words.as_str(),
        long_word.as_str(),
    ] {
        let r = pm
            .client
            .get(t.url("/api/v1/search"))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "q={}", &q[..q.len().min(40)]);
        assert_security_headers(r.headers(), "API search");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid");
        assert!(
            body["error"]["fields"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        let r = pm
            .client
            .get(t.url("/search"))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "page search");
        assert_security_headers(r.headers(), "page search");
    }
    // Too large a body: 413, with the headers. Sent by hand, announcing 2 MB without sending
    // them, so the answer can be read before the client would have finished writing.
    let addr = t.base.trim_start_matches("http://").to_string();
    let mut raw = tokio::net::TcpStream::connect(&addr).await.unwrap();
    raw.write_all(
        format!(
            "POST /api/v1/projects HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 413"), "{answer}");
    for name in [
        "content-security-policy:",
        "x-content-type-options:",
        "x-frame-options:",
        "referrer-policy:",
    ] {
        assert!(answer.contains(name), "413 without {name}: {answer}");
    }
    // Unknown path and wrong method, on the API and on pages.
    for (method, path, status) in [
        (Method::GET, "/api/v1/nothing-here", 404),
        (Method::DELETE, "/api/v1/me", 405),
        (Method::GET, "/nothing-here", 404),
    ] {
        let r = pm
            .client
            .request(method, t.url(path))
            .header("x-csrf-token", &pm.csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path}");
        assert_security_headers(r.headers(), path);
    }
}

/// Bidi overrides and control characters in names, NUL in text: refused with a message.
pub async fn spoofing_characters_are_refused(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let pm = t.sign_in("pm@northlight.test").await;
    let (status, body) = pm
        .api(
            Method::POST,
            "/api/v1/projects",
            Some(json!({
                "movie_id": 81999001,
                "name": "Harbour \u{202E}sthgiL",
                "kind": "film",
                "original_language": "en",
            })),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "name", "{body}");
    let lk = t.title("The Lighthouse Keeper").to_string();
    let es = pm.channel_id(&lk, Some("es-ES")).await;
    let (status, body) = pm
        .api(
            Method::POST,
            &format!("/api/v1/channels/{es}/messages"),
            Some(json!({"body": "take\u{0}two"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = upload(&pm, &es, "script", &[("notes\u{202E}fdp.wav", b"RIFF")]).await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(
        body.to_string().contains("override"),
        "the refusal says why: {body}"
    );
}

/// A client that sends half a request line is dropped after the header timeout; one address
/// cannot hold more than its share of connections, while another address still gets in.
pub async fn slow_and_greedy_clients_are_dropped(db: TestDb) {
    let t = TestApp::spawn_web(db, |w| {
        w.header_read_timeout = Duration::from_secs(1);
        w.max_connections_per_address = 4;
    })
    .await;
    let addr: std::net::SocketAddr = t.base.trim_start_matches("http://").parse().unwrap();

    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HT").await.unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut buf))
        .await
        .expect("the server closes a slow-header connection")
        .unwrap_or(0);
    let waited = start.elapsed();
    // hyper answers 408 or just closes; either way the connection ends.
    let answer = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(n == 0 || answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(waited >= Duration::from_millis(900), "{waited:?}");

    let from = |ip: &str| {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(std::net::SocketAddr::new(ip.parse().unwrap(), 0))
            .unwrap();
        socket.connect(addr)
    };
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(from("127.0.0.5").await.unwrap());
    }
    let mut fifth = from("127.0.0.5").await.unwrap();
    let closed = tokio::time::timeout(Duration::from_millis(500), fifth.read(&mut buf))
        .await
        .expect("the fifth connection from one address is closed at once")
        .unwrap_or(0);
    assert_eq!(closed, 0);
    // Another address is served meanwhile.
    let other = client_from_healthz(&t.base, "127.0.0.6").await;
    assert_eq!(other, 200);
    drop(held);
    // The address gets its connections back once it lets go of them.
    let mut status = 0;
    for _ in 0..20 {
        status = client_from_healthz(&t.base, "127.0.0.5").await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
}

async fn client_from_healthz(base: &str, ip: &str) -> u16 {
    match crate::harness::client_from(ip)
        .get(format!("{base}/healthz"))
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// One user holds a bounded number of live streams.
pub async fn live_streams_per_user_are_capped(db: TestDb) {
    let t = TestApp::spawn_web(db, |w| w.max_streams_per_user = 2).await;
    let pm = t.sign_in("pm@northlight.test").await;
    let _a = sse(&pm.client, &t.url("/events"), None).await;
    let _b = sse(&pm.client, &t.url("/events"), None).await;
    let r = pm.client.get(t.url("/events")).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(retry_after(&r) >= 1);
    // Someone else is not affected.
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let _c = sse(&marta.client, &t.url("/events"), None).await;
}

testkit::both_backends!(db: super => [
    parallel_guesses_count_against_each_other,
    a_stranger_cannot_lock_an_account,
    changing_the_password_is_throttled,
    tokens_and_streams_end_with_the_password,
    streams_end_at_sign_out_and_token_revoke,
    redirects_stay_on_the_site,
    forms_from_another_site_are_refused,
    hostile_input_is_a_clear_4xx,
    spoofing_characters_are_refused,
    slow_and_greedy_clients_are_dropped,
    live_streams_per_user_are_capped,
]);
