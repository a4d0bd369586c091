//! E-mail notifications (issue #4): the outbox worker that turns notifications into e-mails
//! and delivers them, each person's e-mail settings, the bell, and the admin's view of the
//! outbox.
//!
//! Notifications are written with their message (see `channels::record_notifications`), each
//! with the moment it is due by its recipient's preferences (`domain::email::send_at`). The
//! worker then, in rounds:
//! 1. plans: for each person with something due, in one transaction, re-checks that they may
//!    still read each message (the access policy), drops what they read in the portal already
//!    or what was deleted, gathers the rest with `domain::email::plan`, renders the e-mails and
//!    stores them as pending outbox rows;
//! 2. delivers: claims due outbox rows (a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL),
//!    hands each to the transport, and marks it sent only once the server accepted it; a
//!    failure is retried with exponential backoff, and after the last attempt (or at once, for
//!    a permanent refusal) the e-mail is failed, for an admin to retry.

pub mod render;
pub mod transport;
mod worker;

pub use transport::{
    DEFAULT_MAIL_DIR, FileMailer, MailTransport, SendError, SmtpMailer, SmtpSecurity, SmtpSettings,
};
pub use worker::{DeliveryReport, MailWorker};

use crate::auth::Authenticated;
use crate::{App, AppError, AppResult, FieldErrors};
use domain::email::{EmailPrefs, Frequency};
use domain::{Action, EmailId, ProjectId, Resource, authorize};
use lettre::message::Mailbox;
use store::{EmailCounts, EmailKey, EmailRecord, EmailState, MessageKey, ProjectSummary, Tx};

/// How e-mail behaves.
#[derive(Clone, Debug)]
pub struct MailConfig {
    /// The portal's address as users reach it: links in e-mails start with it.
    pub public_url: String,
    /// The sender of every e-mail.
    pub from: Mailbox,
    /// How long an "immediately" e-mail waits for more messages of the same channel.
    pub coalesce: time::Duration,
    /// Attempts before an e-mail is failed for good.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further one, up to `retry_max`.
    pub retry_base: time::Duration,
    pub retry_max: time::Duration,
    /// How long a claimed e-mail is left to the instance sending it before another may retry.
    pub lease: time::Duration,
    /// How often the worker looks for due work.
    pub poll: std::time::Duration,
    /// People planned, or e-mails claimed, per transaction.
    pub batch: u32,
    /// E-mails handed to the transport at once.
    pub concurrency: usize,
    /// How long one e-mail may take to be accepted before the attempt counts as failed.
    pub send_timeout: std::time::Duration,
}

impl MailConfig {
    pub fn new(public_url: &str) -> Self {
        let public_url = public_url.trim_end_matches('/').to_string();
        let host = host_of(&public_url);
        let from = format!("locportal <noreply@{host}>")
            .parse()
            .unwrap_or_else(|_| {
                Mailbox::new(None, lettre::Address::new_dangerous("noreply", "localhost"))
            });
        Self {
            public_url,
            from,
            coalesce: domain::email::DEFAULT_COALESCE,
            max_attempts: 8,
            retry_base: time::Duration::seconds(30),
            retry_max: time::Duration::hours(1),
            lease: time::Duration::minutes(5),
            poll: std::time::Duration::from_secs(1),
            batch: 100,
            concurrency: 8,
            send_timeout: std::time::Duration::from_secs(60),
        }
    }

    /// The host name used in Message-ID headers.
    pub fn host(&self) -> String {
        host_of(&self.public_url)
    }

    /// When attempt `attempts` (1 = the first) failed: when to try again, or `None` to give up.
    pub fn retry_at(
        &self,
        now: time::OffsetDateTime,
        attempts: u32,
        permanent: bool,
    ) -> Option<time::OffsetDateTime> {
        if permanent || attempts >= self.max_attempts {
            return None;
        }
        let factor = 1i32 << attempts.saturating_sub(1).min(20);
        Some(now + (self.retry_base * factor).min(self.retry_max))
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self::new("http://localhost:8080")
    }
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    if host.is_empty() {
        "localhost".into()
    } else {
        host.to_string()
    }
}

/// A person's e-mail settings as App Settings shows them.
#[derive(Clone, Debug)]
pub struct EmailSettings {
    pub prefs: EmailPrefs,
    /// The projects they follow, each with whether they muted it.
    pub projects: Vec<(ProjectSummary, bool)>,
}

/// One entry of the bell.
#[derive(Clone, Debug)]
pub struct BellEntry {
    pub project: String,
    pub channel: String,
    pub author: String,
    pub excerpt: String,
    /// A same-site link to the message.
    pub link: String,
    pub mention: bool,
    pub read: bool,
    pub created_at: time::OffsetDateTime,
}

/// The bell: how many entries are unread, and one page of entries, newest first.
#[derive(Clone, Debug, Default)]
pub struct Bell {
    pub unread: u32,
    pub entries: Vec<BellEntry>,
    /// The key to continue after (None: last page).
    pub next: Option<MessageKey>,
}

/// The admin's view of the outbox.
#[derive(Clone, Debug)]
pub struct Outbox {
    pub transport: String,
    pub counts: EmailCounts,
    pub emails: Vec<EmailRecord>,
    /// The key to continue after (None: last page).
    pub next: Option<EmailKey>,
}

/// One outgoing e-mail, with the file written for it when e-mails go to files.
#[derive(Clone, Debug)]
pub struct OutgoingMail {
    pub email: EmailRecord,
    pub recipient_name: Option<String>,
    /// The `.eml` file as written (file transport only).
    pub eml: Option<String>,
}

/// Recomputes when each of the user's waiting notifications is due, after their preferences or
/// mutes changed.
async fn reschedule(
    tx: &mut Box<dyn Tx>,
    user: domain::UserId,
    prefs: &EmailPrefs,
    coalesce: time::Duration,
) -> AppResult<()> {
    let muted = tx.muted_projects(user).await?;
    for n in tx.pending_notifications(user).await? {
        let due = domain::email::send_at(
            n.created_at,
            n.reason,
            prefs,
            muted.contains(&n.project_id),
            coalesce,
        );
        if due != Some(n.due_at) {
            tx.reschedule_notification(user, n.message_id, due).await?;
        }
    }
    Ok(())
}

pub(crate) async fn prefs_of(tx: &mut Box<dyn Tx>, user: domain::UserId) -> AppResult<EmailPrefs> {
    Ok(tx
        .email_prefs(&[user])
        .await?
        .into_iter()
        .next()
        .map(|(_, p)| p)
        .unwrap_or_default())
}

impl App {
    /// The transport e-mails leave by.
    pub fn mailer(&self) -> &dyn MailTransport {
        self.mailer.as_ref()
    }

    pub async fn email_settings(&self, who: &Authenticated) -> AppResult<EmailSettings> {
        crate::auth::require(who, Action::UsePortal)?;
        let mut tx = self.store.read().await?;
        let prefs = prefs_of(&mut tx, who.user.id).await?;
        let muted = tx.muted_projects(who.user.id).await?;
        let projects = tx
            .followed_projects(who.user.id, domain::ProjectScope::for_subject(&who.subject))
            .await?
            .into_iter()
            .map(|p| {
                let m = muted.contains(&p.id);
                (p, m)
            })
            .collect();
        Ok(EmailSettings { prefs, projects })
    }

    /// Saves the e-mail preferences and, when `muted` is given, which of the followed projects
    /// are muted (the others are unmuted), in one transaction; notifications already waiting
    /// follow the new settings.
    pub async fn update_email_settings(
        &self,
        who: &Authenticated,
        frequency: &str,
        mentions_immediately: bool,
        muted: Option<&[ProjectId]>,
    ) -> AppResult<EmailPrefs> {
        crate::auth::require(who, Action::UsePortal)?;
        let mut errors = FieldErrors::new();
        let frequency: Option<Frequency> = errors.take("frequency", Frequency::parse(frequency));
        errors.into_result()?;
        let prefs = EmailPrefs {
            frequency: frequency.unwrap_or_default(),
            mentions_immediately,
        };
        let mut tx = self.store.begin().await?;
        tx.set_email_prefs(who.user.id, &prefs).await?;
        if let Some(muted) = muted {
            let followed = tx
                .followed_projects(who.user.id, domain::ProjectScope::for_subject(&who.subject))
                .await?;
            // A project one does not follow (or cannot see, or that does not exist) cannot be
            // muted here; say which instead of dropping it.
            let mut errors = FieldErrors::new();
            for id in muted
                .iter()
                .filter(|id| !followed.iter().any(|p| p.id == **id))
            {
                errors.add(
                    "muted_projects",
                    format!("{id} is not a title you follow; follow it first, or leave it out"),
                );
            }
            errors.into_result()?;
            for p in followed {
                tx.set_muted(who.user.id, p.id, muted.contains(&p.id))
                    .await?;
            }
        }
        reschedule(&mut tx, who.user.id, &prefs, self.config.mail.coalesce).await?;
        tx.commit().await?;
        Ok(prefs)
    }

    /// Mutes or unmutes e-mail about one project the person can see.
    pub async fn set_project_muted(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
        muted: bool,
    ) -> AppResult<()> {
        crate::auth::require(who, Action::UsePortal)?;
        let mut tx = self.store.begin().await?;
        let summary = tx
            .project_summaries(&[project_id])
            .await?
            .into_iter()
            .next()
            .ok_or(AppError::NotFound)?;
        let assigned_orgs = summary.assigned_orgs();
        // A project one may not see is "not found" (the refusal hides its existence).
        authorize(
            Some(&who.subject),
            Action::ViewProject,
            Resource::Project {
                assigned_orgs: &assigned_orgs,
            },
        )
        .check()?;
        tx.set_muted(who.user.id, project_id, muted).await?;
        let prefs = prefs_of(&mut tx, who.user.id).await?;
        reschedule(&mut tx, who.user.id, &prefs, self.config.mail.coalesce).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the person muted e-mail about the project.
    pub async fn is_project_muted(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
    ) -> AppResult<bool> {
        let mut tx = self.store.read().await?;
        Ok(tx.muted_projects(who.user.id).await?.contains(&project_id))
    }

    /// The outbox, newest first, optionally only one state: one page of at most `limit`
    /// e-mails after the key `after`.
    pub async fn outbox(
        &self,
        actor: domain::Actor<'_>,
        state: Option<EmailState>,
        after: Option<EmailKey>,
        limit: u32,
    ) -> AppResult<Outbox> {
        crate::admin::administer(actor)?;
        let mut tx = self.store.read().await?;
        let counts = tx.email_counts().await?;
        let page = tx
            .list_emails(state, after.as_ref(), limit.clamp(1, 1000))
            .await?;
        Ok(Outbox {
            transport: self.mailer.describe(),
            counts,
            emails: page.items,
            next: page.next,
        })
    }

    pub async fn outgoing_mail(
        &self,
        actor: domain::Actor<'_>,
        id: EmailId,
    ) -> AppResult<OutgoingMail> {
        crate::admin::administer(actor)?;
        let mut tx = self.store.read().await?;
        let email = tx.get_email(id).await?.ok_or(AppError::NotFound)?;
        let recipient_name = tx
            .get_user(email.user_id)
            .await?
            .map(|u| u.user.display_name.to_string());
        let eml = match self.mailer.mail_dir() {
            Some(dir) => tokio::fs::read(FileMailer::path_of(dir, id))
                .await
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
            None => None,
        };
        Ok(OutgoingMail {
            email,
            recipient_name,
            eml,
        })
    }

    /// Puts a failed e-mail back in the queue; refused, with the reason, for any other state.
    pub async fn retry_outgoing_mail(
        &self,
        actor: domain::Actor<'_>,
        id: EmailId,
    ) -> AppResult<()> {
        crate::admin::administer(actor)?;
        let mut tx = self.store.begin().await?;
        let email = tx.get_email(id).await?.ok_or(AppError::NotFound)?;
        if !tx.retry_email(id, self.now()).await? {
            return Err(AppError::conflict(
                "state",
                format!(
                    "only a failed e-mail can be retried; this one is {}",
                    email.state.as_str()
                ),
            ));
        }
        tx.commit().await?;
        self.mail_wake.notify_one();
        Ok(())
    }
}
