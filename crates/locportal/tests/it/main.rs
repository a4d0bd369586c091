//! The `locportal` binary as an operator uses it: migrate, org/user administration, demo data,
//! serve + healthcheck — against SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod check_wav;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use testkit::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_locportal");

/// Where the commands keep files and e-mails: a temporary directory, never the source tree.
fn data_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn run(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("LOCPORTAL_DATABASE_URL", &db.url)
        .env("LOCPORTAL_FILES_DIR", data_dir().join("files"))
        .env("LOCPORTAL_MAIL_DIR", data_dir().join("mail"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn ok(db: &TestDb, args: &[&str], stdin: Option<&str>) -> String {
    let out = run(db, args, stdin);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "locportal {args:?} failed: {}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn fails(db: &TestDb, args: &[&str], stdin: Option<&str>) -> String {
    let out = run(db, args, stdin);
    assert!(!out.status.success(), "locportal {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).to_string()
}

async fn admin_commands(db: TestDb) {
    let out = ok(&db, &["migrate"], None);
    assert!(out.contains("up to date"), "{out}");
    ok(&db, &["migrate"], None);

    ok(
        &db,
        &["org", "add", "Northlight Pictures", "--kind", "studio"],
        None,
    );
    ok(&db, &["org", "add", "Iberia Voices"], None);
    let err = fails(&db, &["org", "add", "iberia voices"], None);
    assert!(err.contains("already exists"), "{err}");
    let err = fails(
        &db,
        &["org", "add", "Other Studio", "--kind", "studio"],
        None,
    );
    assert!(err.contains("already the studio"), "{err}");
    let out = ok(&db, &["org", "list"], None);
    assert!(
        out.contains("studio") && out.contains("Iberia Voices"),
        "{out}"
    );

    let out = ok(
        &db,
        &[
            "user",
            "add",
            "Ana@Northlight.test",
            "--name",
            "Ana Admin",
            "--org",
            "Northlight Pictures",
            "--roles",
            "portal_user,admin",
            "--password-stdin",
        ],
        Some("a long enough phrase\n"),
    );
    assert!(
        out.contains("ana@northlight.test") && out.contains("portal_user,admin"),
        "{out}"
    );
    let out = ok(
        &db,
        &[
            "user",
            "add",
            "marta@iberiavoices.test",
            "--name",
            "Marta",
            "--org",
            "Iberia Voices",
        ],
        None,
    );
    assert!(
        out.contains("set a password"),
        "a user without a password is told how to get one: {out}"
    );
    let err = fails(
        &db,
        &[
            "user",
            "add",
            "x@y.test",
            "--name",
            "X",
            "--org",
            "Nobody Ltd",
        ],
        None,
    );
    assert!(err.contains("no organisation called"), "{err}");
    let err = fails(
        &db,
        &[
            "user",
            "add",
            "x@y.test",
            "--name",
            "X",
            "--org",
            "Iberia Voices",
            "--roles",
            "wizard",
        ],
        None,
    );
    assert!(err.contains("unknown role"), "{err}");
    let err = fails(
        &db,
        &[
            "user",
            "add",
            "marta@iberiavoices.test",
            "--name",
            "M",
            "--org",
            "Iberia Voices",
        ],
        None,
    );
    assert!(err.contains("already exists"), "{err}");

    let err = fails(
        &db,
        &[
            "user",
            "set-password",
            "marta@iberiavoices.test",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert!(err.contains("at least 10 characters"), "{err}");
    ok(
        &db,
        &[
            "user",
            "set-password",
            "marta@iberiavoices.test",
            "--password-stdin",
        ],
        Some("another long phrase\n"),
    );

    let out = ok(&db, &["user", "roles", "marta@iberiavoices.test"], None);
    assert!(out.trim().ends_with("[portal_user]"), "{out}");
    let out = ok(
        &db,
        &[
            "user",
            "roles",
            "marta@iberiavoices.test",
            "--add",
            "author",
            "--remove",
            "portal_user",
        ],
        None,
    );
    assert!(out.trim().ends_with("[author]"), "{out}");
    let err = fails(
        &db,
        &["user", "roles", "marta@iberiavoices.test", "--add", "admin"],
        None,
    );
    assert!(err.contains("studio roles"), "{err}");
    let out = ok(&db, &["user", "list"], None);
    assert!(
        out.contains("marta@iberiavoices.test") && out.contains("[author]"),
        "{out}"
    );

    // The password set on the command line signs in through the use case.
    let app = app::App::new(db.store.clone());
    app.sign_in(
        "marta@iberiavoices.test",
        "another long phrase",
        "127.0.0.1",
    )
    .await
    .unwrap();
}

async fn demo_twice_adds_nothing(db: TestDb) {
    let first = ok(&db, &["demo"], None);
    assert!(
        first.contains("pm@northlight.test") && first.contains("lucia@iberiavoices.test"),
        "{first}"
    );
    let users = ok(&db, &["user", "list"], None);
    ok(&db, &["demo"], None);
    assert_eq!(ok(&db, &["user", "list"], None), users);
    assert_eq!(ok(&db, &["org", "list"], None).lines().count(), 4);
}

async fn serve_and_healthcheck(db: TestDb) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let url = format!("http://{bind}");
    let data = tempfile::tempdir().unwrap();
    let mut server = Command::new(BIN)
        .args(["serve", "--demo", "--bind", &bind])
        .env("LOCPORTAL_DATABASE_URL", &db.url)
        .current_dir(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let healthy = loop {
        let out = Command::new(BIN)
            .args(["healthcheck", "--url", &url])
            .output()
            .unwrap();
        if out.status.success() {
            break String::from_utf8_lossy(&out.stdout).to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the portal did not become healthy"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(healthy.contains("\"status\":\"ok\""), "{healthy}");
    let _ = server.kill();
    let out = server.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Demo accounts") && stdout.contains("locportal is running at"),
        "{stdout}"
    );
    // Nobody is listening any more: the check fails.
    let out = Command::new(BIN)
        .args(["healthcheck", "--url", &url])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// `locportal mail list` and `mail retry`: the operator's view of the outbox.
async fn mail_commands(db: TestDb) {
    ok(&db, &["demo"], None);
    let email = domain::Email::parse("marta@iberiavoices.test").unwrap();
    let mut tx = db.store.begin().await.unwrap();
    let marta = tx.find_user_by_email(&email).await.unwrap().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let failed = store::EmailRecord {
        id: domain::EmailId::new(),
        user_id: marta.user.id,
        to_address: "marta@iberiavoices.test".into(),
        subject: "[The Lighthouse Keeper] Broadcast · Paula Moreno: Mix locked".into(),
        body_text: "Mix locked".into(),
        body_html: "<p>Mix locked</p>".into(),
        channel_id: None,
        message_count: 1,
        state: store::EmailState::Failed,
        attempts: 8,
        next_attempt_at: now,
        last_error: Some("SMTP: permanent error (550): mailbox unavailable".into()),
        created_at: now,
        sent_at: None,
    };
    tx.insert_email(&failed).await.unwrap();
    tx.commit().await.unwrap();
    let id = failed.id.to_string();

    let out = ok(&db, &["mail", "list", "--state", "failed"], None);
    assert!(
        // The demo's task e-mails wait for a worker; the failed one is ours.
        out.contains(" pending, 0 sent, 1 failed")
            && out.contains(&id)
            && out.contains("mailbox unavailable"),
        "{out}"
    );
    let err = fails(&db, &["mail", "list", "--state", "lost"], None);
    assert!(err.contains("pending, sent or failed"), "{err}");
    let out = ok(&db, &["mail", "retry", &id], None);
    assert!(out.contains("queued again"), "{out}");
    let out = ok(&db, &["mail", "list"], None);
    assert!(
        out.contains(" pending, 0 sent, 0 failed") && out.contains(&format!("{id}  pending")),
        "{out}"
    );
    let err = fails(&db, &["mail", "retry", &id], None);
    assert!(err.contains("only a failed e-mail can be retried"), "{err}");
    let err = fails(&db, &["mail", "retry", "not-an-id"], None);
    assert!(err.contains("not an e-mail id"), "{err}");
}

/// `locportal requests export`: a title's requests as CSV, by movie ID or project id.
async fn requests_export(db: TestDb) {
    ok(&db, &["demo"], None);
    // The demo's request files go where `serve` keeps files (LOCPORTAL_FILES_DIR).
    let kept = std::fs::read_dir(data_dir().join("files").join("requests"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(kept > 0, "the demo's files are under --files-dir");
    let out = ok(&db, &["requests", "export", "81000300", "--csv"], None);
    let mut lines = out.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("request_id,title,type,episode,language,partner,state,ready,"),
        "{out}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 12, "{out}");
    assert!(
        out.contains("Ferry to Jeju,dialogue_list,S1E1,ko,Iberia Voices,done,")
            && out.contains("as_recorded_dub_script,S1E2,pt-BR,Voz do Brasil Estúdios,author_todo,blocked: 1 not ordered"),
        "{out}"
    );
    let err = fails(&db, &["requests", "export", "99999999", "--csv"], None);
    assert!(err.to_lowercase().contains("not found"), "{err}");
    let err = fails(&db, &["requests", "export", "Ferry", "--csv"], None);
    assert!(err.contains("neither a project id nor a movie ID"), "{err}");
}

testkit::both_backends!(db: super => [
    admin_commands,
    demo_twice_adds_nothing,
    serve_and_healthcheck,
    mail_commands,
    requests_export,
]);

#[test]
fn zero_flags_uses_sqlite_under_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("migrate")
        .env_remove("LOCPORTAL_DATABASE_URL")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("data/locportal.db").exists());
}

#[test]
fn unknown_database_schemes_are_refused() {
    let out = Command::new(BIN)
        .args(["migrate", "--database-url", "mysql://root@localhost/x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unsupported database URL") && err.contains("sqlite://"),
        "{err}"
    );
}

#[test]
fn openapi_command_prints_the_document() {
    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["paths"]["/api/v1/projects"].is_object());
}
