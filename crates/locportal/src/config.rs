//! Configuration and the server's start-up.

use anyhow::{Context, bail};
use app::App;
use clap::Args;
use std::process::ExitCode;
use std::sync::Arc;
use store::Store;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/locportal.db";

#[derive(Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// Where data lives: `sqlite://PATH` (embedded, the default) or `postgres://USER@HOST/DB`
    /// (for several instances).
    #[arg(long, env = "LOCPORTAL_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

impl DatabaseArgs {
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        open_store(&self.database_url).await
    }

    /// Opens the store, applies migrations, and wraps it in the use cases.
    pub async fn open_app(&self) -> anyhow::Result<App> {
        let store = self.open().await?;
        store.migrate().await.context("applying migrations")?;
        Ok(App::new(store))
    }
}

/// `locportal demo`: the database, and where the demo's files go (the same place `serve` keeps
/// files, so the portal finds them).
#[derive(Args, Debug)]
pub struct DemoArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Where the demo's files are kept (as for `serve`).
    #[command(flatten)]
    pub files: FilesArgs,
}

/// Where files are kept: a directory (the default), or an S3-compatible bucket.
#[derive(Args, Debug, Clone)]
pub struct FilesArgs {
    /// Where attached files, scripts, clips and recordings are kept (a directory; created if
    /// missing). With --files-url, only files still arriving are kept here. Instances sharing
    /// one PostgreSQL database must share it too, unless the files are in a bucket.
    #[arg(long, env = "LOCPORTAL_FILES_DIR", default_value = app::DEFAULT_FILES_DIR)]
    pub files_dir: std::path::PathBuf,
    /// Keep files in an S3-compatible bucket instead: s3://bucket or s3://bucket/prefix.
    /// Credentials come from --s3-access-key-id/--s3-secret-access-key or the usual
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables.
    #[arg(long, env = "LOCPORTAL_FILES_URL", value_name = "S3_URL")]
    pub files_url: Option<String>,
    /// The S3 endpoint (for a server other than AWS, e.g. http://127.0.0.1:9000).
    #[arg(long, env = "LOCPORTAL_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// The bucket's region (default: AWS_REGION, else us-east-1).
    #[arg(long, env = "LOCPORTAL_S3_REGION")]
    pub s3_region: Option<String>,
    #[arg(long, env = "LOCPORTAL_S3_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key_id: Option<String>,
    #[arg(long, env = "LOCPORTAL_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,
}

impl FilesArgs {
    /// The file store these settings describe; a bucket is asked to answer first, so a wrong
    /// address or credentials fail at start-up, not at the first upload.
    pub async fn store(&self) -> anyhow::Result<app::files::FileStore> {
        let Some(url) = &self.files_url else {
            return Ok(app::files::FileStore::new(&self.files_dir));
        };
        let store = app::files::FileStore::s3(
            &self.files_dir,
            &app::files::BucketSettings {
                url: url.clone(),
                endpoint: self.s3_endpoint.clone(),
                region: self.s3_region.clone(),
                access_key_id: self.s3_access_key_id.clone(),
                secret_access_key: self.s3_secret_access_key.clone(),
            },
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        store
            .ping()
            .await
            .with_context(|| format!("reaching the bucket {url}"))?;
        Ok(store)
    }
}

/// Opens a store by URL scheme. Unknown schemes are refused loudly rather than guessed.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let shown = redact(url);
    if url.starts_with("sqlite:") {
        let s = store_sqlite::SqliteStore::open(url)
            .await
            .with_context(|| format!("opening SQLite database {shown}"))?;
        Ok(Arc::new(s))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s = store_postgres::PgStore::connect(url)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {shown}"))?;
        Ok(Arc::new(s))
    } else {
        bail!(
            "unsupported database URL {shown}: use sqlite://path/to/file.db or postgres://user:password@host/database"
        )
    }
}

/// Hides a password in a database URL for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Address and port to listen on.
    #[arg(long, env = "LOCPORTAL_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// The address users reach the portal at (links in e-mails; `https://` marks cookies Secure).
    /// Defaults to http:// plus the bind address.
    #[arg(long, env = "LOCPORTAL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Add the demo organisations, accounts and titles before serving (idempotent).
    #[arg(long, env = "LOCPORTAL_DEMO")]
    pub demo: bool,
    /// How long a sign-in lasts, in days.
    #[arg(long, env = "LOCPORTAL_SESSION_DAYS", default_value_t = 14)]
    pub session_days: u16,
    /// How long after posting an author may edit or delete a message, in minutes.
    #[arg(long, env = "LOCPORTAL_EDIT_WINDOW_MINUTES", default_value_t = 15)]
    pub edit_window_minutes: u16,
    #[command(flatten)]
    pub files: FilesArgs,
    /// The largest file a resumable upload may send (clips, recordings, premixes), in bytes.
    #[arg(long, env = "LOCPORTAL_MAX_UPLOAD_BYTES", default_value_t = app::uploads::DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,
    /// Behind a reverse proxy: count failed sign-ins per the client address the proxy puts last
    /// in X-Forwarded-For (only enable when every request comes through that proxy).
    #[arg(long, env = "LOCPORTAL_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// Open connections one client address may hold; further ones are closed at once (0: no
    /// limit). Not applied with --trust-forwarded-for, where the proxy is the only client.
    #[arg(
        long,
        env = "LOCPORTAL_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 256
    )]
    pub max_connections_per_address: usize,
    /// The SMTP server e-mail notifications go through. Without one (the default), e-mails
    /// are written as .eml files to --mail-dir and shown on the admin page "Outgoing mail".
    #[arg(long, env = "LOCPORTAL_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// The SMTP server's port (default: 587 for starttls, 465 for tls, 25 for none).
    #[arg(long, env = "LOCPORTAL_SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// How the SMTP connection is protected: starttls, tls or none.
    #[arg(long, env = "LOCPORTAL_SMTP_SECURITY", default_value = "starttls")]
    pub smtp_security: String,
    /// User name for the SMTP server, if it wants one.
    #[arg(long, env = "LOCPORTAL_SMTP_USER")]
    pub smtp_user: Option<String>,
    /// Password for the SMTP server (prefer the environment variable to the flag).
    #[arg(long, env = "LOCPORTAL_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// The sender of e-mail notifications, e.g. `Localization <loc@studio.example>`
    /// (default: `locportal <noreply@HOST>` with the public URL's host).
    #[arg(long, env = "LOCPORTAL_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Where e-mails are written as .eml files when no SMTP server is configured.
    #[arg(long, env = "LOCPORTAL_MAIL_DIR", default_value = app::mail::DEFAULT_MAIL_DIR)]
    pub mail_dir: std::path::PathBuf,
    /// How long an "immediately" e-mail waits for more messages of the same channel, in seconds.
    #[arg(long, env = "LOCPORTAL_EMAIL_COALESCE_SECONDS", default_value_t = 120)]
    pub email_coalesce_seconds: u32,
    /// Log filter (tracing syntax), e.g. `info` or `locportal=debug,sqlx=warn`.
    #[arg(long, env = "LOCPORTAL_LOG", default_value = "info")]
    pub log: String,
}

pub fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(default)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

pub fn print_demo_accounts(accounts: &[app::demo::DemoAccount]) {
    println!(
        "Demo accounts (password for all: {}):",
        app::demo::DEMO_PASSWORD
    );
    for a in accounts {
        println!("  {:<28} {:<26} {}", a.email, a.organisation, a.what);
    }
}

/// The mail settings and transport the flags describe.
pub fn mail_setup(
    args: &ServeArgs,
    public_url: &str,
) -> anyhow::Result<(app::mail::MailConfig, Arc<dyn app::mail::MailTransport>)> {
    let mut mail = app::mail::MailConfig::new(public_url);
    mail.coalesce = time::Duration::seconds(i64::from(args.email_coalesce_seconds));
    if let Some(from) = &args.mail_from {
        mail.from = from.parse().map_err(|e| {
            anyhow::anyhow!(
                "--mail-from {from:?} is not a valid address ({e}); write it like loc@studio.example or \"Localization <loc@studio.example>\""
            )
        })?;
    }
    let transport: Arc<dyn app::mail::MailTransport> = match &args.smtp_host {
        Some(host) => {
            let security = app::mail::SmtpSecurity::parse(&args.smtp_security)
                .map_err(|e| anyhow::anyhow!("--smtp-security: {e}"))?;
            let credentials = match (&args.smtp_user, &args.smtp_password) {
                (Some(u), Some(p)) => Some((u.clone(), p.clone())),
                (None, None) => None,
                _ => bail!(
                    "give both --smtp-user and --smtp-password (LOCPORTAL_SMTP_USER, LOCPORTAL_SMTP_PASSWORD), or neither"
                ),
            };
            let settings = app::mail::SmtpSettings {
                host: host.clone(),
                port: args.smtp_port.unwrap_or(security.default_port()),
                security,
                credentials,
                timeout: std::time::Duration::from_secs(30),
                max_connections: 4,
            };
            Arc::new(app::mail::SmtpMailer::new(&settings).map_err(|e| anyhow::anyhow!(e))?)
        }
        None => Arc::new(app::mail::FileMailer::new(&args.mail_dir)),
    };
    Ok((mail, transport))
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_tracing(&args.log);
    let store = args.db.open().await?;
    store.migrate().await.context("applying migrations")?;
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("cannot listen on {}; is another portal running? Use --bind to choose another address", args.bind))?;
    let local = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"))
        .trim_end_matches('/')
        .to_string();
    let (mail, mailer) = mail_setup(&args, &public_url)?;
    let config = app::AppConfig {
        session_lifetime: time::Duration::days(i64::from(args.session_days.max(1))),
        edit_window: time::Duration::minutes(i64::from(args.edit_window_minutes)),
        mail,
        max_upload_bytes: args.max_upload_bytes,
        ..app::AppConfig::default()
    };
    let app = App::new(store.clone())
        .with_config(config)
        .with_files(args.files.store().await?)
        .with_mailer(mailer);
    if args.demo {
        let accounts = app.seed_demo().await.map_err(crate::admin_cli::describe)?;
        print_demo_accounts(&accounts);
    }
    println!(
        "locportal is running at {public_url} ({} database {}). Press Ctrl-C to stop.",
        store.backend().as_str(),
        redact(&args.db.database_url)
    );
    println!("E-mail: {}.", app.mailer().describe());
    println!("Files: {}.", app.files.describe());
    let (stop_mail, mail_stopping) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(app::mail::MailWorker::run(app.clone(), mail_stopping));
    web::serve(
        listener,
        app,
        web::WebConfig {
            trust_forwarded_for: args.trust_forwarded_for,
            max_connections_per_address: args.max_connections_per_address,
            ..web::WebConfig::new(public_url)
        },
        shutdown_signal(),
    )
    .await?;
    // The worker finishes the round it is in: an e-mail being sent is either accepted and
    // marked, or retried by the next start.
    let _ = stop_mail.send(true);
    let _ = worker.await;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

#[derive(Args, Debug, Clone)]
pub struct HealthcheckArgs {
    /// The portal to ask.
    #[arg(
        long,
        env = "LOCPORTAL_HEALTHCHECK_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
}

/// A plain HTTP/1.1 GET of `/healthz`, so the check needs no HTTP client library.
pub async fn healthcheck(args: HealthcheckArgs) -> anyhow::Result<ExitCode> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(rest) = args.url.strip_prefix("http://") else {
        bail!("healthcheck speaks plain http to a local portal: use --url http://HOST:PORT");
    };
    let host = rest.split('/').next().unwrap_or(rest);
    let connect = tokio::net::TcpStream::connect(host);
    let mut stream = tokio::time::timeout(std::time::Duration::from_secs(5), connect)
        .await
        .with_context(|| format!("no answer from {host} within 5 s"))?
        .with_context(|| format!("cannot connect to {host}: is the portal running?"))?;
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut response),
    )
    .await
    .context("the portal did not answer within 5 s")??;
    let text = String::from_utf8_lossy(&response);
    let status_ok = text.starts_with("HTTP/1.1 200");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    println!("{}", body.trim());
    Ok(if status_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://lp:secret@db/locportal"),
            "postgres://lp:***@db/locportal"
        );
        assert_eq!(
            redact("postgres://lp@db/locportal"),
            "postgres://lp@db/locportal"
        );
        assert_eq!(
            redact("sqlite://data/locportal.db"),
            "sqlite://data/locportal.db"
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod mail_flag_tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn setup(args: &[&str]) -> anyhow::Result<(app::mail::MailConfig, String)> {
        let mut all = vec!["locportal"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).unwrap();
        mail_setup(&cli.serve, "https://portal.studio.example/")
            .map(|(config, transport)| (config, transport.describe()))
    }

    // Building a pooled SMTP client spawns its pool's task: a runtime is needed, as in `serve`.
    #[tokio::test]
    async fn without_smtp_emails_go_to_files_under_data() {
        let (config, transport) = setup(&[]).unwrap();
        assert!(transport.contains("data/mail"), "{transport}");
        assert_eq!(config.public_url, "https://portal.studio.example");
        assert_eq!(
            config.from.to_string(),
            "locportal <noreply@portal.studio.example>"
        );
        assert_eq!(config.coalesce, time::Duration::minutes(2));
    }

    // Building a pooled SMTP client spawns its pool's task: a runtime is needed, as in `serve`.
    #[tokio::test]
    async fn smtp_flags_choose_the_server_port_and_security() {
        let (_, t) = setup(&["--smtp-host", "mail.example", "--smtp-security", "tls"]).unwrap();
        assert_eq!(t, "SMTP server mail.example:465 (TLS)");
        let (_, t) = setup(&["--smtp-host", "mail.example"]).unwrap();
        assert_eq!(t, "SMTP server mail.example:587 (STARTTLS)");
        let (config, t) = setup(&[
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            "2525",
            "--smtp-security",
            "none",
            "--smtp-user",
            "loc",
            "--smtp-password",
            "secret",
            "--mail-from",
            "Localization <loc@studio.example>",
            "--email-coalesce-seconds",
            "30",
        ])
        .unwrap();
        assert_eq!(t, "SMTP server 127.0.0.1:2525 (no encryption, signed in)");
        assert_eq!(config.from.to_string(), "Localization <loc@studio.example>");
        assert_eq!(config.coalesce, time::Duration::seconds(30));
    }

    // Building a pooled SMTP client spawns its pool's task: a runtime is needed, as in `serve`.
    #[tokio::test]
    async fn bad_mail_flags_say_what_to_write() {
        let e = setup(&["--smtp-host", "m", "--smtp-security", "ssl"]).unwrap_err();
        assert!(e.to_string().contains("starttls, tls or none"), "{e}");
        let e = setup(&["--smtp-host", "m", "--smtp-user", "loc"]).unwrap_err();
        assert!(
            e.to_string()
                .contains("both --smtp-user and --smtp-password"),
            "{e}"
        );
        let e = setup(&["--mail-from", "not an address"]).unwrap_err();
        assert!(e.to_string().contains("loc@studio.example"), "{e}");
    }
}
