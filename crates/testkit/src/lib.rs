//! Test-only harness: a fresh, migrated database per test on each backend.
//!
//! * [`sqlite()`] — a SQLite store in its own temporary directory.
//! * [`postgres()`] — a fresh database on a PostgreSQL server that is started once per test
//!   process with `pgtemp` from Debian's binaries (`/usr/lib/postgresql/<newest>/bin`, or the
//!   directory in `LOCPORTAL_TEST_PG_BIN`), or on the server at `LOCPORTAL_TEST_PG_URL` if that
//!   is set. Each database is a copy of a migrated template (`CREATE DATABASE … TEMPLATE`) and
//!   is dropped when its [`TestDb`] is dropped. If PostgreSQL cannot be started, the test fails
//!   when `CI=true` and otherwise prints `SKIPPED (no PostgreSQL): …` and returns `None`.
//!
//! The PostgreSQL server started here outlives no test process: a small watchdog shell process
//! stops it and removes its data directory once the test process has exited.
//!
//! # Stamping out a test per backend
//!
//! [`both_backends!`] generates `mod sqlite { … }` and `mod postgres { … }` with one `#[test]`
//! per case, so failures read `sqlite::case` / `postgres::case` and one backend can be picked
//! with a filter (`cargo test -p store -- postgres::`). Two forms:
//!
//! ```text
//! // Each case is `pub async fn case(store: &dyn store::Store)` in the module `store::contract`.
//! testkit::both_backends!(store: store::contract => [orgs_round_trip, users_round_trip]);
//!
//! // Each case is `async fn case(db: testkit::TestDb)` in the invoking module (`super`, as seen
//! // from the generated modules) or any other path (`crate::api::cases`).
//! testkit::both_backends!(db: super => [sign_in_works, partner_cannot_see_other_partner]);
//! ```
//!
//! Invoke it at most once per module (it defines `mod sqlite` and `mod postgres`). Each test
//! runs on its own multi-threaded Tokio runtime (two workers) through [`block_on`], so the
//! calling crate needs no Tokio attributes.
//!
//! Other services (e.g. a browser) can follow the same rule with [`missing_service`].

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{Backend, Store, StoreResult};
use store_postgres::PgStore;
use store_sqlite::SqliteStore;
use url::Url;

/// A fresh, migrated database for one test. Dropping it removes the database.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    /// Opens the same database again: `sqlite:///tmp/…/locportal.db` or
    /// `postgresql://user:password@host:port/t_…`. Give it to [`open`] (or to the `locportal`
    /// binary) to run a second instance on the same data.
    pub url: String,
    pub backend: Backend,
    // Dropped after `store` (fields drop in declaration order).
    _guard: Guard,
}

/// Held only to be dropped: removes the test's database.
#[allow(dead_code)]
enum Guard {
    Sqlite(tempfile::TempDir),
    Postgres(PgDatabase),
}

impl TestDb {
    /// A second store on the same database, as a second portal instance would open it.
    pub async fn open_another(&self) -> Arc<dyn Store> {
        open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open a second store on {}: {e}", self.url))
    }
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb")
            .field("backend", &self.backend)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Opens (without migrating) the store a URL names: `sqlite:…` or `postgres(ql)://…`.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else {
        Ok(Arc::new(PgStore::connect(url).await?))
    }
}

/// Whether missing services must fail the run (`CI=true`) rather than be skipped.
pub fn strict() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Reports that a service a test needs is unavailable: panics under `CI=true`, otherwise prints
/// a loud `SKIPPED (no <service>): <why>` line to stderr so the caller can return early.
pub fn missing_service(service: &str, why: &str) {
    if strict() {
        panic!("{service} is required when CI=true, but it is not available: {why}");
    }
    eprintln!("SKIPPED (no {service}): {why}");
}

/// Installs the process's TLS provider (ring), as the portal does before building an HTTPS
/// client: reqwest is built without one of its own. Idempotent.
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Runs a test body on a fresh multi-threaded Tokio runtime (two workers).
pub fn block_on<F: Future>(f: F) -> F::Output {
    install_tls();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("cannot build a Tokio runtime")
        .block_on(f)
}

/// A fresh, migrated SQLite store in its own temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::Builder::new()
        .prefix("locportal-test-")
        .tempdir()
        .expect("cannot create a temporary directory");
    let path = dir.path().join("locportal.db");
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::open(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("cannot migrate {url}: {e}"));
    TestDb {
        store: Arc::new(store),
        url,
        backend: Backend::Sqlite,
        _guard: Guard::Sqlite(dir),
    }
}

/// A fresh, migrated PostgreSQL database, or `None` (after a loud notice) when PostgreSQL is not
/// available and `CI` is not `true`.
pub async fn postgres() -> Option<TestDb> {
    let server = match SERVER.get_or_init(PgServer::start).await {
        Ok(server) => server,
        Err(why) => {
            missing_service("PostgreSQL", why);
            return None;
        }
    };
    Some(server.fresh_database().await)
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

static SERVER: tokio::sync::OnceCell<Result<PgServer, String>> = tokio::sync::OnceCell::const_new();

const TEMPLATE: &str = "locportal_template";

struct PgServer {
    /// URL of the maintenance database (`postgres`), used for CREATE/DROP DATABASE.
    admin: Url,
    /// The migrated template, when this process owns the server.
    template: Option<&'static str>,
    /// Keeps the pgtemp server (never dropped: statics are not; the watchdog stops it).
    _temp: Option<pgtemp::PgTempDB>,
}

impl PgServer {
    async fn start() -> Result<PgServer, String> {
        if let Ok(url) = std::env::var("LOCPORTAL_TEST_PG_URL")
            && !url.trim().is_empty()
        {
            let admin = Url::parse(url.trim())
                .map_err(|e| format!("LOCPORTAL_TEST_PG_URL is not a URL: {e}"))?;
            wait_until_ready(&admin, Duration::from_secs(10)).await?;
            return Ok(PgServer {
                admin,
                template: None,
                _temp: None,
            });
        }

        let bin = postgres_bin_dir()?;
        let builder = pgtemp::PgTempDBBuilder::new()
            .with_bin_path(&bin)
            .with_initdb_arg("encoding", "UTF8")
            .with_initdb_arg("locale", "C")
            .with_config_param("max_connections", "300")
            // The server's stderr is a pipe nobody reads; a full pipe would stall it. The
            // collector writes the log to files in the data directory instead.
            .with_config_param("logging_collector", "on");
        let started = tokio::task::spawn_blocking(move || builder.start())
            .await
            .map_err(|e| {
                format!(
                    "pgtemp could not start PostgreSQL from {}: {e}",
                    bin.display()
                )
            })?;
        stop_after_this_process(&started.data_dir());
        let admin = Url::parse(&started.connection_uri())
            .map_err(|e| format!("pgtemp gave an unusable URL: {e}"))?;
        wait_until_ready(&admin, Duration::from_secs(30)).await?;

        // The template: migrated once, then closed to connections so copies never wait.
        let mut conn = PgConnection::connect(admin.as_str())
            .await
            .map_err(|e| format!("cannot connect to {admin}: {e}"))?;
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {TEMPLATE}")))
            .execute(&mut conn)
            .await
            .map_err(|e| format!("cannot create the template database: {e}"))?;
        let template_url = with_database(&admin, TEMPLATE);
        let store = PgStore::connect(template_url.as_str())
            .await
            .map_err(|e| format!("cannot connect to the template database: {e}"))?;
        let migrated = store.migrate().await;
        store.close().await;
        migrated.map_err(|e| format!("cannot migrate the template database: {e}"))?;
        sqlx::query(AssertSqlSafe(format!(
            "ALTER DATABASE {TEMPLATE} WITH ALLOW_CONNECTIONS false"
        )))
        .execute(&mut conn)
        .await
        .map_err(|e| format!("cannot close the template database: {e}"))?;
        let _ = conn.close().await;

        Ok(PgServer {
            admin,
            template: Some(TEMPLATE),
            _temp: Some(started),
        })
    }

    async fn fresh_database(&self) -> TestDb {
        let name = format!("t_{}", uuid::Uuid::now_v7().simple());
        let create = match self.template {
            Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
            None => format!("CREATE DATABASE {name}"),
        };
        let mut conn = PgConnection::connect(self.admin.as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.admin));
        // Concurrent copies of one template can collide ("being accessed by other users").
        let mut attempt = 0;
        loop {
            match sqlx::query(AssertSqlSafe(create.clone()))
                .execute(&mut conn)
                .await
            {
                Ok(_) => break,
                Err(e) if attempt < 50 && e.to_string().contains("other users") => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot create database {name}: {e}"),
            }
        }
        let _ = conn.close().await;

        let guard = PgDatabase {
            admin: self.admin.to_string(),
            name: name.clone(),
        };
        let url = with_database(&self.admin, &name).to_string();
        let store = PgStore::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
        if self.template.is_none() {
            store
                .migrate()
                .await
                .unwrap_or_else(|e| panic!("cannot migrate {url}: {e}"));
        }
        TestDb {
            store: Arc::new(store),
            url,
            backend: Backend::Postgres,
            _guard: Guard::Postgres(guard),
        }
    }
}

/// Drops its database (forcibly, in case a store on it is still open) when dropped.
struct PgDatabase {
    admin: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop may run inside a Tokio runtime, which must not be blocked on; use a thread with
        // a runtime of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ = sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

fn with_database(base: &Url, database: &str) -> Url {
    let mut url = base.clone();
    url.set_path(&format!("/{database}"));
    url
}

async fn wait_until_ready(url: &Url, patience: Duration) -> Result<(), String> {
    let deadline = Instant::now() + patience;
    loop {
        match PgConnection::connect(url.as_str()).await {
            Ok(conn) => {
                let _ = conn.close().await;
                return Ok(());
            }
            Err(e) if Instant::now() >= deadline => {
                return Err(format!(
                    "PostgreSQL at {} did not accept connections within {patience:?}: {e}",
                    redacted(url)
                ));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    url.to_string()
}

/// `LOCPORTAL_TEST_PG_BIN`, or the newest `/usr/lib/postgresql/<version>/bin` with an `initdb`.
fn postgres_bin_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("LOCPORTAL_TEST_PG_BIN")
        && !dir.trim().is_empty()
    {
        let dir = PathBuf::from(dir.trim());
        return if dir.join("initdb").is_file() {
            Ok(dir)
        } else {
            Err(format!(
                "LOCPORTAL_TEST_PG_BIN={} has no initdb",
                dir.display()
            ))
        };
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .map_err(|e| {
            format!(
                "{} cannot be read ({e}); install the Debian package postgresql, \
                 or set LOCPORTAL_TEST_PG_URL",
                root.display()
            )
        })?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        format!(
            "no {}/<version>/bin/initdb; install the Debian package postgresql, \
             or set LOCPORTAL_TEST_PG_URL",
            root.display()
        )
    })
}

/// Statics are never dropped, so pgtemp cannot stop the server itself. A detached shell waits
/// for this process to end, then stops the server (fast shutdown) and removes its directory.
fn stop_after_this_process(data_dir: &Path) {
    const SCRIPT: &str = r#"
trap '' INT TERM HUP
while kill -0 "$1" 2>/dev/null; do sleep 1; done
pid=$(head -n 1 "$2/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ]; then
    kill -INT "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
rm -rf "$3"
"#;
    let base = data_dir.parent().unwrap_or(data_dir);
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("locportal-pg-watchdog")
        .arg(std::process::id().to_string())
        .arg(data_dir)
        .arg(base)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!(
            "warning: cannot start the watchdog that stops the test PostgreSQL server ({e}); \
             it may keep running after the tests"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The macro

/// Stamps out one `#[test]` per case and backend; see the [crate docs](crate).
#[macro_export]
macro_rules! both_backends {
    (store: $($seg:ident)::+ => [$($case:ident),* $(,)?] $(,)?) => {
        $crate::both_backends!(@emit store, [$($seg)::+], [$($case),*]);
    };
    (db: $($seg:ident)::+ => [$($case:ident),* $(,)?] $(,)?) => {
        $crate::both_backends!(@emit db, [$($seg)::+], [$($case),*]);
    };
    (@emit $mode:ident, [$($seg:ident)::+], [$($case:ident),*]) => {
        mod sqlite {
            #[allow(unused_imports)]
            use $($seg)::+ as __cases;
            $(
                #[test]
                fn $case() {
                    $crate::block_on(async {
                        let db = $crate::sqlite().await;
                        $crate::both_backends!(@call $mode, __cases::$case, db);
                    });
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use $($seg)::+ as __cases;
            $(
                #[test]
                fn $case() {
                    $crate::block_on(async {
                        let Some(db) = $crate::postgres().await else {
                            return;
                        };
                        $crate::both_backends!(@call $mode, __cases::$case, db);
                    });
                }
            )*
        }
    };
    (@call store, $f:path, $db:ident) => {{
        $f(&*$db.store).await;
        drop($db);
    }};
    (@call db, $f:path, $db:ident) => {
        $f($db).await
    };
}

/// An S3-compatible server (`s3s-fs`, installed by `.ci/run` with `cargo install s3s-fs`)
/// serving a temporary directory on a free loopback port, with one empty bucket. Stopped when
/// dropped.
pub struct S3Server {
    child: std::process::Child,
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    _root: tempfile::TempDir,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the `s3s-fs` binary is: `LOCPORTAL_TEST_S3S_FS`, then `PATH`, then the directories
/// `.ci/run` and `cargo install` use.
fn s3s_fs_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("LOCPORTAL_TEST_S3S_FS") {
        return Some(PathBuf::from(p));
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(PathBuf::from("/opt/s3s/bin"));
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join("s3s-fs"))
        .find(|p| p.is_file())
}

/// Starts an S3-compatible server for one test. `None` (after [`missing_service`]) when the
/// binary is not installed.
pub async fn s3_server() -> Option<S3Server> {
    let Some(bin) = s3s_fs_binary() else {
        missing_service(
            "S3-compatible server",
            "s3s-fs not found (cargo install s3s-fs@0.14.1 --features binary --locked --root /opt/s3s)",
        );
        return None;
    };
    let root = tempfile::tempdir().expect("a directory for the S3 server");
    let bucket = "locportal-test".to_string();
    std::fs::create_dir_all(root.path().join(&bucket)).expect("the bucket's directory");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let (access_key, secret_key) = (
        "locportal-test-key".to_string(),
        "locportal-test-secret".to_string(),
    );
    let child = Command::new(&bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", &access_key, "--secret-key", &secret_key])
        .arg(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let server = S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
        bucket,
        access_key,
        secret_key,
        _root: root,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "s3s-fs did not start within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(server)
}
