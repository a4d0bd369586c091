//! E-mail notifications end to end: messages posted over HTTP, the outbox worker's rounds, and a
//! real SMTP server on loopback (`smtp-sink`) that records what it accepted. The clock is moved
//! by hand, so coalescing windows and digests are exact.

use crate::harness::{Session, TestApp};
use app::clock::ManualClock;
use app::mail::{MailConfig, SmtpMailer, SmtpSecurity, SmtpSettings};
use reqwest::Method;
use serde_json::{Value, json};
use smtp_sink::{Behaviour, Received, SmtpSink};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use testkit::TestDb;
use time::macros::datetime;

const PUBLIC: &str = "https://portal.test";

struct MailTest {
    t: TestApp,
    sink: SmtpSink,
    clock: Arc<ManualClock>,
}

fn smtp_to(sink: &SmtpSink) -> Arc<SmtpMailer> {
    Arc::new(
        SmtpMailer::new(&SmtpSettings {
            host: "127.0.0.1".into(),
            port: sink.port(),
            security: SmtpSecurity::None,
            credentials: None,
            timeout: Duration::from_secs(5),
            max_connections: 4,
        })
        .unwrap(),
    )
}

async fn mail_app(db: TestDb, tune: impl FnOnce(&mut MailConfig)) -> MailTest {
    let sink = SmtpSink::start().await.unwrap();
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 10:00:00 UTC)));
    let mut mail = MailConfig::new(PUBLIC);
    tune(&mut mail);
    let config = app::AppConfig {
        mail,
        ..app::AppConfig::default()
    };
    let mailer = smtp_to(&sink);
    let c = clock.clone();
    let t = TestApp::spawn_with(db, move |a| {
        a.with_clock(c).with_config(config).with_mailer(mailer)
    })
    .await;
    MailTest { t, sink, clock }
}

impl MailTest {
    /// One worker round: plan what is due, deliver it.
    async fn round(&self) {
        self.t.app.plan_due_emails().await.unwrap();
        self.t.app.deliver_due_emails().await.unwrap();
    }

    async fn after(&self, by: time::Duration) {
        self.clock.advance(by);
        self.round().await;
    }

    /// What arrived since the last call, by envelope recipient.
    fn take(&self) -> BTreeMap<String, Vec<Received>> {
        let mut out: BTreeMap<String, Vec<Received>> = BTreeMap::new();
        for m in self.sink.messages() {
            for to in &m.to {
                out.entry(to.clone()).or_default().push(m.clone());
            }
        }
        self.sink.clear();
        out
    }
}

async fn post(s: &Session, channel: &str, body: &str) -> Value {
    let (status, m) = s
        .api(
            Method::POST,
            &format!("/api/v1/channels/{channel}/messages"),
            Some(json!({ "body": body })),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    m
}

fn recipients(got: &BTreeMap<String, Vec<Received>>) -> Vec<&str> {
    got.keys().map(String::as_str).collect()
}

/// The plain-text part, with the line ends of the message (CRLF) made plain.
fn text(m: &Received) -> String {
    m.text_body().unwrap_or_default().replace("\r\n", "\n")
}

/// PRODUCT.md §3.1 over real SMTP: who gets what, the subject, the link, threading; mentions go
/// at once; a channel's burst becomes one e-mail; a message read in the portal is left out;
/// someone who lost access gets nothing.
pub async fn emails_follow_the_rules(db: TestDb) {
    let m = mail_app(db, |_| {}).await;
    let t = &m.t;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let es = pm.channel_id(&lk, Some("es-ES")).await;
    let broadcast = pm.channel_id(&lk, None).await;

    // The studio writes in Iberia's channel: Marta, two minutes later, and nobody else.
    let msg = post(&pm, &es, "Can you confirm the mix dates?\nThanks").await;
    m.round().await;
    assert!(
        m.take().is_empty(),
        "nothing before the coalescing window ends"
    );
    m.after(time::Duration::minutes(2)).await;
    let got = m.take();
    assert_eq!(recipients(&got), ["marta@iberiavoices.test"]);
    let mail = &got["marta@iberiavoices.test"][0];
    let subject = mail.subject().unwrap();
    assert!(
        subject.starts_with("[The Lighthouse Keeper] Spanish")
            && subject.contains("Paula Moreno: Can you confirm the mix dates?"),
        "{subject}"
    );
    let seq = msg["seq"].as_i64().unwrap();
    let link = format!("{PUBLIC}/channels/{es}?at={seq}#m{seq}");
    assert!(text(mail).contains(&link), "{}", text(mail));
    assert!(text(mail).contains("Can you confirm the mix dates?\nThanks"));
    assert!(text(mail).contains(&format!("{PUBLIC}/settings/app#email")));
    assert!(mail.html_body().unwrap().contains(&link));
    let message_id = mail.header("Message-ID").unwrap();
    assert!(message_id.ends_with("@portal.test>"), "{message_id}");
    assert_eq!(
        mail.header("References").unwrap(),
        format!("<channel-{es}@portal.test>")
    );
    assert_eq!(mail.header("Auto-Submitted").unwrap(), "auto-generated");

    // The link opens the message for Marta.
    let (status, page) = marta.get(&format!("/channels/{es}?at={seq}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("id=\"m{seq}\"")));

    // Marta answers and mentions Quentin (not a follower): Quentin at once, the PM after
    // the window.
    post(&marta, &es, "Tuesday. @Quentin please QC the stems").await;
    m.round().await;
    let got = m.take();
    assert_eq!(recipients(&got), ["qc@northlight.test"]);
    let subject = got["qc@northlight.test"][0].subject().unwrap();
    assert!(
        subject.contains("Marta Ruiz mentioned you in Spanish"),
        "{subject}"
    );
    m.after(time::Duration::minutes(2)).await;
    assert_eq!(recipients(&m.take()), ["pm@northlight.test"]);

    // A burst in Broadcast: one e-mail per partner follower, with all three messages; João
    // read them in the portal before the e-mail went out, so he gets none.
    post(&pm, &broadcast, "Mix locked").await;
    m.clock.advance(time::Duration::seconds(30));
    post(&pm, &broadcast, "Final stems uploaded").await;
    m.clock.advance(time::Duration::seconds(30));
    post(&pm, &broadcast, "Deadline is Friday").await;
    let (status, _) = joao.get(&format!("/channels/{broadcast}")).await;
    assert_eq!(status, 200);
    m.after(time::Duration::seconds(60)).await;
    let got = m.take();
    assert_eq!(
        recipients(&got),
        ["haruka@kazedubbing.test", "marta@iberiavoices.test"]
    );
    for mails in got.values() {
        assert_eq!(mails.len(), 1, "coalesced into one e-mail");
        let subject = mails[0].subject().unwrap();
        assert!(
            subject.contains("Broadcast · 3 new messages from Paula Moreno"),
            "{subject}"
        );
        let body = text(&mails[0]);
        for line in ["Mix locked", "Final stems uploaded", "Deadline is Friday"] {
            assert!(body.contains(line), "{body}");
        }
    }

    // Marta stops working on es-ES (App Settings): she can no longer read the channel, so the
    // message waiting for her is never e-mailed.
    post(&pm, &es, "One more thing").await;
    let (status, _) = marta
        .api(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"internal_messages": false, "languages": ["ca-ES"]})),
        )
        .await;
    assert_eq!(status, 200);
    m.after(time::Duration::minutes(5)).await;
    assert!(m.take().is_empty(), "access is checked again when sending");

    // Connections are reused: five e-mails, at most two of them sent at the same moment (the
    // burst's two), so at most two connections.
    assert!(
        m.sink.connections() <= 2,
        "{} connections",
        m.sink.connections()
    );

    // Every e-mail was accepted once and is marked sent.
    let (status, outbox) = t
        .sign_in("admin@northlight.test")
        .await
        .api(Method::GET, "/api/v1/admin/mail", None)
        .await;
    assert_eq!(status, 200, "{outbox}");
    assert_eq!(outbox["pending"], 0);
    assert_eq!(outbox["failed"], 0);
    assert_eq!(outbox["sent"], 5, "{outbox}");
    // Partners do not see the outbox.
    let (status, _) = marta.api(Method::GET, "/api/v1/admin/mail", None).await;
    assert_eq!(status, 403);
}

/// Preferences: a digest gathers a period's messages into one e-mail at its boundary; a muted
/// project sends nothing but mentions; "off" sends nothing; the bell lists what was e-mailed
/// and mentions, and reading clears it.
pub async fn preferences_digests_mutes_and_the_bell(db: TestDb) {
    let m = mail_app(db, |_| {}).await;
    let t = &m.t;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let haruka = t.sign_in("haruka@kazedubbing.test").await;
    let broadcast = pm.channel_id(&lk, None).await;

    // Marta: hourly digest (API). João: mutes the title (page). Haruka: off (page).
    let (status, s) = marta
        .api(
            Method::PUT,
            "/api/v1/settings/email",
            Some(json!({"frequency": "hourly", "mentions_immediately": true})),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["frequency"], "hourly");
    let (status, err) = marta
        .api(
            Method::PUT,
            "/api/v1/settings/email",
            Some(json!({"frequency": "weekly", "mentions_immediately": true})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        err.to_string().contains("immediately, every_15_minutes"),
        "{err}"
    );
    let (status, _) = joao.post_form(&format!("/projects/{lk}/mute"), &[]).await;
    assert_eq!(status, 303);
    let (_, page) = joao.get(&format!("/projects/{lk}")).await;
    assert!(page.contains("Unmute e-mail"));
    let (status, _) = haruka
        .post_form(
            "/settings/app/email",
            &[("frequency", "off"), ("mentions_immediately", "true")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, page) = haruka.get("/settings/app").await;
    assert!(
        page.contains("value=\"off\" checked"),
        "the page shows the saved choice"
    );

    // 10:00 and 10:20: two broadcasts. Nobody is e-mailed at 10:02 or 10:22.
    post(&pm, &broadcast, "Casting approved").await;
    m.after(time::Duration::minutes(20)).await;
    post(&pm, &broadcast, "Trailer lines added").await;
    m.after(time::Duration::minutes(2)).await;
    assert!(m.take().is_empty());
    // 11:00: Marta's digest, with both.
    m.after(time::Duration::minutes(38)).await;
    let got = m.take();
    assert_eq!(recipients(&got), ["marta@iberiavoices.test"]);
    let digest = &got["marta@iberiavoices.test"][0];
    assert_eq!(
        digest.subject().unwrap(),
        "locportal digest: 2 new messages in The Lighthouse Keeper"
    );
    assert!(
        digest.header("References").is_none(),
        "a digest is not a thread"
    );
    assert!(
        text(digest).contains("Casting approved") && text(digest).contains("Trailer lines added")
    );

    // A mention reaches João in the muted title, and Haruka with e-mail off, at once.
    post(&pm, &broadcast, "@João and @Haruka please confirm").await;
    m.round().await;
    let got = m.take();
    assert_eq!(
        recipients(&got),
        ["haruka@kazedubbing.test", "joao@vozdobrasil.test"]
    );

    // The bell: Marta has the two digest messages; João his mention.
    let b = bell(&marta).await;
    assert_eq!(b["unread"], 2, "{b}");
    assert!(
        b["items"][0]["link"]
            .as_str()
            .unwrap()
            .starts_with(&format!("/channels/{broadcast}?at=")),
        "{b}"
    );
    let b = bell(&joao).await;
    assert_eq!(b["unread"], 1, "{b}");
    assert_eq!(b["items"][0]["mention"], true);
    let (_, page) = joao.get("/notifications").await;
    assert!(
        page.contains("please confirm") && page.contains("1 unread"),
        "{page}"
    );
    // Reading the channel clears it.
    joao.get(&format!("/channels/{broadcast}")).await;
    assert_eq!(bell(&joao).await["unread"], 0);
    // Marta's mention-free digest entries clear the same way; her mute list is empty.
    marta.get(&format!("/channels/{broadcast}")).await;
    assert_eq!(bell(&marta).await["unread"], 0);
    let (_, s) = joao.api(Method::GET, "/api/v1/settings/email", None).await;
    assert_eq!(s["muted_projects"], json!([lk]));
}

async fn bell(s: &Session) -> Value {
    let (status, b) = s.api(Method::GET, "/api/v1/notifications", None).await;
    assert_eq!(status, 200, "{b}");
    b
}

/// Failures: a refused attempt is retried with backoff; a permanent refusal fails at once and
/// an admin retries it; a worker stopped in the middle of a batch leaves its e-mails to the
/// next start; in the end every notification arrived exactly once.
pub async fn failures_are_retried_and_nothing_is_sent_twice(db: TestDb) {
    let m = mail_app(db, |c| {
        c.coalesce = time::Duration::ZERO;
        c.concurrency = 1;
        c.lease = time::Duration::minutes(5);
    })
    .await;
    let t = &m.t;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let broadcast = pm.channel_id(&lk, None).await;
    // Ten broadcasts, planned one by one: 30 e-mails (three partner followers each).
    for i in 0..10 {
        post(&pm, &broadcast, &format!("Update {i}")).await;
        m.t.app.plan_due_emails().await.unwrap();
    }

    // The server takes 4, then drops the connection: the rest wait for their retry.
    m.sink.accept_then(4, Behaviour::Drop);
    let report = m.t.app.deliver_due_emails().await.unwrap();
    assert_eq!(report.sent, 4);
    assert_eq!(report.failed, 26);
    assert_eq!(m.sink.count(), 4);

    // The worker "crashes" while the server hangs on the 3rd e-mail of the next attempt.
    m.sink.accept_then(2, Behaviour::Hang);
    m.clock.advance(time::Duration::seconds(31));
    let app = m.t.app.clone();
    let crashed = tokio::spawn(async move { app.deliver_due_emails().await });
    m.sink.wait_for(6, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    crashed.abort();
    let _ = crashed.await;
    assert_eq!(m.sink.count(), 6);

    // A restart before the lease ends leaves the claimed ones alone...
    m.sink.set_behaviour(Behaviour::Accept);
    let report = m.t.app.deliver_due_emails().await.unwrap();
    assert_eq!(report.sent, 0, "claimed e-mails wait for their lease");
    // ...and after it delivers everything.
    // (The connection the stopped worker left mid-message may be handed out once more by the
    // SMTP client's pool: that attempt fails and is retried like any other.)
    m.clock.advance(time::Duration::minutes(6));
    for _ in 0..3 {
        m.t.app.deliver_due_emails().await.unwrap();
        m.clock.advance(time::Duration::minutes(1));
    }
    assert_eq!(m.sink.count(), 30);

    // A permanent refusal: failed at once, with the server's words; an admin retries it.
    post(&pm, &broadcast, "Last update").await;
    m.t.app.plan_due_emails().await.unwrap();
    m.sink.accept_then(
        2,
        Behaviour::Reject {
            code: 550,
            text: "mailbox unavailable".into(),
        },
    );
    m.t.app.deliver_due_emails().await.unwrap();
    let admin = t.sign_in("admin@northlight.test").await;
    let (_, failed) = admin
        .api(Method::GET, "/api/v1/admin/mail?state=failed", None)
        .await;
    assert_eq!(failed["failed"], 1, "{failed}");
    let one = &failed["items"][0];
    assert!(
        one["last_error"]
            .as_str()
            .unwrap()
            .contains("mailbox unavailable"),
        "{one}"
    );
    let id = one["id"].as_str().unwrap();
    let (_, page) = admin.get(&format!("/admin/mail/{id}")).await;
    assert!(page.contains("mailbox unavailable") && page.contains("Retry"));
    m.sink.set_behaviour(Behaviour::Accept);
    let (status, again) = admin
        .api(
            Method::POST,
            &format!("/api/v1/admin/mail/{id}/retry"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["state"], "pending");
    let (status, _) = admin
        .api(
            Method::POST,
            &format!("/api/v1/admin/mail/{id}/retry"),
            None,
        )
        .await;
    assert_eq!(status, 409, "only a failed e-mail can be retried");
    let report = m.t.app.deliver_due_emails().await.unwrap();
    let (_, after) = admin
        .api(Method::GET, &format!("/api/v1/admin/mail/{id}"), None)
        .await;
    assert_eq!(report.sent, 1, "{report:?} {after}");

    // Exactly once: 33 distinct e-mails, each (recipient, message) once.
    let all = m.sink.messages();
    let ids: BTreeSet<String> = all
        .iter()
        .map(|r| r.header("Message-ID").unwrap())
        .collect();
    assert_eq!(ids.len(), all.len(), "no e-mail arrived twice");
    assert_eq!(all.len(), 33);
    assert_eq!(told(&all).len(), 33);
    let (_, outbox) = admin.api(Method::GET, "/api/v1/admin/mail", None).await;
    assert_eq!(
        (outbox["sent"].as_u64(), outbox["pending"].as_u64()),
        (Some(33), Some(0))
    );
}

/// (recipient, message link) of every message in these e-mails; panics on a repeat.
fn told(all: &[Received]) -> BTreeSet<(String, String)> {
    let mut seen = BTreeSet::new();
    for r in all {
        let body = text(r);
        for line in body.lines().filter(|l| l.starts_with("Open: ")) {
            let key = (r.to.join(","), line.to_string());
            assert!(seen.insert(key.clone()), "told twice: {key:?}");
        }
    }
    seen
}

/// Two instances on one database, each with its own worker loop, and a burst of 500
/// notifications: every one is delivered, none twice.
pub async fn two_instances_deliver_a_burst_once(db: TestDb) {
    let sink = SmtpSink::start().await.unwrap();
    let mut mail = MailConfig::new(PUBLIC);
    mail.coalesce = time::Duration::ZERO;
    mail.poll = Duration::from_millis(20);
    mail.batch = 20;
    let config = app::AppConfig {
        mail,
        ..app::AppConfig::default()
    };
    let other_store = db.open_another().await;
    let (c1, m1) = (config.clone(), smtp_to(&sink));
    let t = TestApp::spawn_with(db, move |a| a.with_config(c1).with_mailer(m1)).await;
    let other = app::App::new(other_store)
        .with_config(config)
        .with_mailer(smtp_to(&sink));
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let w1 = tokio::spawn(app::mail::MailWorker::run(t.app.clone(), stopping.clone()));
    let w2 = tokio::spawn(app::mail::MailWorker::run(other, stopping));

    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let broadcast = pm.channel_id(&lk, None).await;
    // 167 broadcasts × 3 partner followers = 501 notifications, while both workers run.
    let posts = 167;
    for i in 0..posts {
        post(&pm, &broadcast, &format!("Burst {i}")).await;
    }
    let expected = posts * 3;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let n = told(&sink.messages()).len();
        if n >= expected || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give a duplicate, if there were one, the time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop.send(true);
    let _ = w1.await;
    let _ = w2.await;
    let all = sink.messages();
    let seen = told(&all);
    assert_eq!(seen.len(), expected, "every notification delivered");
    let ids: BTreeSet<String> = all
        .iter()
        .map(|r| r.header("Message-ID").unwrap())
        .collect();
    assert_eq!(ids.len(), all.len(), "no e-mail twice");
    let mut tx = t.app.store.read().await.unwrap();
    let counts = tx.email_counts().await.unwrap();
    assert_eq!(counts.pending + counts.failed, 0, "{counts:?}");
    assert_eq!(counts.sent as usize, all.len());
}

/// Without an SMTP server, e-mails are .eml files, and the admin page shows them.
pub async fn without_smtp_emails_are_files_on_the_admin_page(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut mail = MailConfig::new(PUBLIC);
    mail.coalesce = time::Duration::ZERO;
    let config = app::AppConfig {
        mail,
        ..app::AppConfig::default()
    };
    let files = Arc::new(app::mail::FileMailer::new(dir.path()));
    let t = TestApp::spawn_with(db, move |a| a.with_config(config).with_mailer(files)).await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let es = pm.channel_id(&lk, Some("es-ES")).await;
    post(&pm, &es, "Script v2 is in — ¿todo bien? 吹き替え").await;
    t.app.plan_due_emails().await.unwrap();
    t.app.deliver_due_emails().await.unwrap();
    let written: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&written[0]).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "an .eml is readable by the portal's user only");
    }
    let eml = std::fs::read_to_string(&written[0]).unwrap();
    assert!(
        eml.contains("To: marta@iberiavoices.test") || eml.contains("<marta@iberiavoices.test>"),
        "{eml}"
    );
    assert!(eml.contains("Message-ID: <"), "{eml}");

    let admin = t.sign_in("admin@northlight.test").await;
    let (status, page) = admin.get("/admin/mail").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(".eml files") && page.contains("marta@iberiavoices.test"),
        "{page}"
    );
    let (_, list) = admin.api(Method::GET, "/api/v1/admin/mail", None).await;
    let id = list["items"][0]["id"].as_str().unwrap();
    let (status, page) = admin.get(&format!("/admin/mail/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("The .eml file as written") && page.contains("Script v2 is in"),
        "{page}"
    );
    // Partners cannot open the page.
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let (status, _) = marta.get(&format!("/admin/mail/{id}")).await;
    assert_eq!(status, 403);
}

testkit::both_backends!(db: super => [
    emails_follow_the_rules,
    preferences_digests_mutes_and_the_bell,
    failures_are_retried_and_nothing_is_sent_twice,
    two_instances_deliver_a_burst_once,
    without_smtp_emails_are_files_on_the_admin_page,
]);
