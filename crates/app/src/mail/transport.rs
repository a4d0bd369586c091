//! How e-mails leave the portal: over SMTP (lettre, pooled connections), or — the embedded
//! default, when no SMTP server is configured — as RFC 5322 `.eml` files in a directory, which
//! the admin page "Outgoing mail" shows.

use async_trait::async_trait;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;
use store::EmailRecord;

/// Where `.eml` files go unless configured otherwise (next to the default database).
pub const DEFAULT_MAIL_DIR: &str = "data/mail";

/// Why an e-mail could not be handed over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendError {
    pub message: String,
    /// The server refused it for good (5xx, or a message that cannot be built): retrying the
    /// same e-mail cannot help.
    pub permanent: bool,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// An e-mail ready to go: the outbox row, and the headers that depend on the portal's address.
#[derive(Clone, Debug)]
pub struct Outgoing<'a> {
    pub email: &'a EmailRecord,
    pub from: &'a Mailbox,
    /// The host name used in Message-ID and thread ids (the public URL's host).
    pub host: &'a str,
}

#[async_trait]
pub trait MailTransport: Send + Sync + 'static {
    /// A line for the admin page: where e-mails go.
    fn describe(&self) -> String;
    /// The directory `.eml` files are written to, for a file transport.
    fn mail_dir(&self) -> Option<&Path> {
        None
    }
    /// Hands the e-mail over; `Ok` only once the server (or the file system) has it.
    async fn send(&self, mail: &Outgoing<'_>) -> Result<(), SendError>;
}

/// The Message-ID of an outbox row: stable, so a retried e-mail is the same e-mail to every
/// mail client and server (duplicates can be recognised).
pub fn message_id(email: &EmailRecord, host: &str) -> String {
    format!("<{}@{host}>", email.id)
}

/// The id every e-mail of one channel refers to, so a mail client groups the conversation.
pub fn thread_id(channel: domain::ChannelId, host: &str) -> String {
    format!("<channel-{channel}@{host}>")
}

fn permanent(message: String) -> SendError {
    SendError {
        message,
        permanent: true,
    }
}

/// Builds the MIME message: plain text and HTML alternatives, threading headers, and the
/// headers that keep auto-responders quiet.
pub fn build_message(mail: &Outgoing<'_>) -> Result<Message, SendError> {
    let e = mail.email;
    let to: Mailbox = e.to_address.parse().map_err(|err| {
        permanent(format!(
            "the address {:?} is not valid: {err}",
            e.to_address
        ))
    })?;
    let mut b = Message::builder()
        .from(mail.from.clone())
        .to(to)
        .subject(e.subject.clone())
        .message_id(Some(message_id(e, mail.host)))
        .date(std::time::SystemTime::from(e.created_at))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    if let Some(channel) = e.channel_id {
        let thread = thread_id(channel, mail.host);
        b = b.in_reply_to(thread.clone()).references(thread);
    }
    b.multipart(
        MultiPart::alternative()
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(e.body_text.clone()),
            )
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(e.body_html.clone()),
            ),
    )
    .map_err(|err| permanent(format!("the e-mail cannot be built: {err}")))
}

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (usually port 587); refused if the server
    /// does not offer it.
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption (a relay on the same host or network, or a test server).
    None,
}

impl SmtpSecurity {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            "none" => Ok(Self::None),
            other => Err(format!(
                "SMTP security must be starttls, tls or none (not {other:?})"
            )),
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Self::StartTls => 587,
            Self::Tls => 465,
            Self::None => 25,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StartTls => "STARTTLS",
            Self::Tls => "TLS",
            Self::None => "no encryption",
        }
    }
}

/// Settings of an SMTP server.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// User name and password, when the server wants them.
    pub credentials: Option<(String, String)>,
    /// How long one command may take before the attempt fails (and is retried later).
    pub timeout: Duration,
    /// Connections kept open and reused.
    pub max_connections: u32,
}

/// Sends over SMTP, reusing connections.
///
/// For plain and STARTTLS connections the pool is our own: lettre's transport neither sets
/// `TCP_NODELAY` nor writes a message and its final `.` in one packet, so every message waits
/// for the server's delayed ACK (40 ms on Linux), capping a connection at about 25 e-mails a
/// second. Connecting the socket ourselves (no delay) and handing it to lettre's SMTP dialogue
/// removes that wait. Implicit TLS (port 465) uses lettre's pooled transport as it is.
pub struct SmtpMailer {
    settings: SmtpSettings,
    hello: ClientId,
    idle: std::sync::Mutex<Vec<AsyncSmtpConnection>>,
    wrapped: Option<AsyncSmtpTransport<Tokio1Executor>>,
    describe: String,
}

fn transient(what: &str, e: impl std::fmt::Display) -> SendError {
    SendError {
        message: format!("{what}: {e}"),
        permanent: false,
    }
}

impl SmtpMailer {
    pub fn new(s: &SmtpSettings) -> Result<Self, String> {
        let wrapped = if s.security == SmtpSecurity::Tls {
            let params = TlsParameters::new(s.host.clone())
                .map_err(|e| format!("TLS settings for {}: {e}", s.host))?;
            let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
                .tls(Tls::Wrapper(params))
                .port(s.port)
                .timeout(Some(s.timeout))
                .pool_config(PoolConfig::new().max_size(s.max_connections.max(1)));
            if let Some((user, password)) = &s.credentials {
                b = b.credentials(Credentials::new(user.clone(), password.clone()));
            }
            Some(b.build())
        } else {
            None
        };
        Ok(Self {
            settings: s.clone(),
            hello: ClientId::default(),
            idle: std::sync::Mutex::new(Vec::new()),
            wrapped,
            describe: format!(
                "SMTP server {}:{} ({}{})",
                s.host,
                s.port,
                s.security.as_str(),
                if s.credentials.is_some() {
                    ", signed in"
                } else {
                    ""
                }
            ),
        })
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let s = &self.settings;
        let server = format!("{}:{}", s.host, s.port);
        let tcp = tokio::time::timeout(s.timeout, tokio::net::TcpStream::connect(&server))
            .await
            .map_err(|_| transient(&format!("connecting to {server}"), "timed out"))?
            .map_err(|e| transient(&format!("connecting to {server}"), e))?;
        tcp.set_nodelay(true)
            .map_err(|e| transient("setting up the connection", e))?;
        let dialogue = async {
            let mut conn =
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?;
            if s.security == SmtpSecurity::StartTls {
                let params = TlsParameters::new(s.host.clone())?;
                conn.starttls(params, &self.hello).await?;
            }
            if let Some((user, password)) = &s.credentials {
                conn.auth(
                    &[Mechanism::Plain, Mechanism::Login],
                    &Credentials::new(user.clone(), password.clone()),
                )
                .await?;
            }
            Ok::<_, lettre::transport::smtp::Error>(conn)
        };
        tokio::time::timeout(s.timeout, dialogue)
            .await
            .map_err(|_| transient(&format!("greeting {server}"), "timed out"))?
            .map_err(|e| SendError {
                message: format!("SMTP {server}: {e}"),
                permanent: e.is_permanent(),
            })
    }

    /// An idle connection that still answers, or a new one.
    async fn connection(&self) -> Result<AsyncSmtpConnection, SendError> {
        loop {
            let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
            match idle {
                Some(mut conn) => {
                    if conn.test_connected().await {
                        return Ok(conn);
                    }
                    conn.abort().await;
                }
                None => return self.connect().await,
            }
        }
    }

    async fn give_back(&self, conn: AsyncSmtpConnection) {
        let max = self.settings.max_connections.max(1) as usize;
        let surplus = match self.idle.lock() {
            Ok(mut v) if v.len() < max => {
                v.push(conn);
                None
            }
            _ => Some(conn),
        };
        if let Some(mut c) = surplus {
            let _ = c.quit().await;
        }
    }
}

#[async_trait]
impl MailTransport for SmtpMailer {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn send(&self, mail: &Outgoing<'_>) -> Result<(), SendError> {
        let message = build_message(mail)?;
        if let Some(t) = &self.wrapped {
            return t.send(message).await.map(|_| ()).map_err(|e| SendError {
                message: format!("SMTP: {e}"),
                permanent: e.is_permanent(),
            });
        }
        let envelope = message.envelope().clone();
        let bytes = message.formatted();
        let mut conn = self.connection().await?;
        match conn.send(&envelope, &bytes).await {
            Ok(_) => {
                self.give_back(conn).await;
                Ok(())
            }
            Err(e) => {
                conn.abort().await;
                Err(SendError {
                    message: format!("SMTP: {e}"),
                    permanent: e.is_permanent(),
                })
            }
        }
    }
}

/// Writes each e-mail as `<outbox id>.eml` in a directory: atomically (a temporary file renamed
/// into place), and idempotently (a retry rewrites the same file).
pub struct FileMailer {
    dir: PathBuf,
}

impl FileMailer {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file of an outbox row.
    pub fn path_of(dir: &Path, id: domain::EmailId) -> PathBuf {
        dir.join(format!("{id}.eml"))
    }
}

#[async_trait]
impl MailTransport for FileMailer {
    fn describe(&self) -> String {
        format!(
            "no SMTP server is configured: e-mails are written as .eml files to {}",
            self.dir.display()
        )
    }

    fn mail_dir(&self) -> Option<&Path> {
        Some(&self.dir)
    }

    async fn send(&self, mail: &Outgoing<'_>) -> Result<(), SendError> {
        let bytes = build_message(mail)?.formatted();
        let transient = |what: &str, e: std::io::Error| SendError {
            message: format!("{what} {}: {e}", self.dir.display()),
            permanent: false,
        };
        crate::files::private_dir(&self.dir)
            .await
            .map_err(|e| transient("cannot create", e))?;
        let path = Self::path_of(&self.dir, mail.email.id);
        let tmp = self.dir.join(format!(".{}.eml.tmp", mail.email.id));
        let write = async {
            use tokio::io::AsyncWriteExt;
            let mut file = crate::files::private_file(&tmp).await?;
            file.write_all(&bytes).await?;
            file.flush().await
        };
        write.await.map_err(|e| transient("cannot write to", e))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| transient("cannot write to", e))?;
        Ok(())
    }
}
