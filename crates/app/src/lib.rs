//! Use cases of locportal. This is the only layer that opens transactions and decides: every use
//! case authorizes with the domain policy, runs in one transaction, and commits.
//!
//! Handlers in `web` and commands in the binary call these functions; they never touch the
//! store or the policy directly.

pub mod admin;
pub mod auth;
pub mod casting;
pub mod channels;
pub mod clock;
pub mod demo;
pub mod demo_audio;
pub mod error;
pub mod files;
pub mod files_contract;
pub mod fulfilment;
pub mod guide;
pub mod live;
pub mod mail;
pub mod passwords;
pub mod projects;
pub mod requests;
pub mod search;
pub mod uploads;

pub use clock::{Clock, SystemClock};
pub use error::{AppError, AppResult, FieldErrors};
/// The pages and keys of the paged lists, from the store.
pub use store::{EmailKey, MessageKey, NewestKey, Page, ProjectKey};

use std::sync::Arc;
use store::Store;

/// Where attachments are kept unless configured otherwise (next to the default database).
pub const DEFAULT_FILES_DIR: &str = "data/files";

/// Settings the use cases need.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// How long a sign-in session lasts without being renewed.
    pub session_lifetime: time::Duration,
    /// How long after posting an author may edit or delete a message.
    pub edit_window: time::Duration,
    /// How long an open live-update connection trusts what it knows of its user (roles, App
    /// Settings, whether the session still exists) before asking the database again.
    pub live_recheck: std::time::Duration,
    /// E-mail: links, sender, coalescing window, retries.
    pub mail: mail::MailConfig,
    /// The largest resumable upload (clips, recordings, premixes).
    pub max_upload_bytes: u64,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            session_lifetime: time::Duration::days(14),
            edit_window: domain::channels::DEFAULT_EDIT_WINDOW,
            live_recheck: std::time::Duration::from_secs(30),
            mail: mail::MailConfig::default(),
            max_upload_bytes: uploads::DEFAULT_MAX_UPLOAD_BYTES,
        }
    }
}

/// Everything a use case needs, cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: AppConfig,
    /// Live updates of this instance.
    pub events: Arc<live::EventBus>,
    /// Where attached files are kept.
    pub files: Arc<files::FileStore>,
    /// Where e-mails go: an SMTP server, or `.eml` files.
    pub mailer: Arc<dyn mail::MailTransport>,
    /// Wakes this instance's mail worker (an admin retried an e-mail).
    pub mail_wake: Arc<tokio::sync::Notify>,
    /// The resumable uploads this instance is receiving.
    pub uploads: Arc<uploads::Sessions>,
}

impl App {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            config: AppConfig::default(),
            events: Arc::new(live::EventBus::default()),
            files: Arc::new(files::FileStore::new(DEFAULT_FILES_DIR)),
            mailer: Arc::new(mail::FileMailer::new(mail::DEFAULT_MAIL_DIR)),
            mail_wake: Arc::new(tokio::sync::Notify::new()),
            uploads: Arc::new(uploads::Sessions::default()),
        }
    }

    pub fn with_files(mut self, files: files::FileStore) -> Self {
        self.files = Arc::new(files);
        self
    }

    pub fn with_mailer(mut self, mailer: Arc<dyn mail::MailTransport>) -> Self {
        self.mailer = mailer;
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_config(mut self, config: AppConfig) -> Self {
        self.config = config;
        self
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }
}
