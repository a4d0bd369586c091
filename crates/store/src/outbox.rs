//! The e-mail outbox: each person's e-mail preferences and muted projects, the notifications
//! waiting to become e-mails, the e-mails themselves (pending, sent, failed), and the bell.
//!
//! Notifications are written in the transaction of the message they describe. A worker later
//! gathers a person's due notifications into e-mails (one transaction: e-mail rows in, the
//! notifications settled) and delivers the e-mails, marking each sent only once the mail server
//! accepted it. Several instances may run workers on one PostgreSQL database: a person's
//! notifications are planned by one instance at a time ([`OutboxRepo::lock_recipient`]) and an
//! e-mail is claimed by one instance at a time ([`OutboxRepo::claim_due_emails`]).

use crate::StoreResult;
use crate::page::{EmailKey, MessageKey, Page};
use async_trait::async_trait;
use domain::email::EmailPrefs;
use domain::notify::NotifyReason;
use domain::{ChannelId, EmailId, MessageId, ProjectId, UserId};
use time::OffsetDateTime;

/// A notification to record with a new message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotification {
    pub user_id: UserId,
    pub reason: NotifyReason,
    /// When it should be e-mailed; `None`: never (their preferences say so). It still shows in
    /// the bell if it is a mention.
    pub due_at: Option<OffsetDateTime>,
}

/// What deciding whether and when to tell someone about a new message needs to know of them:
/// their access facts, whether they follow the project, their e-mail preferences and mute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientFacts {
    pub user_id: UserId,
    pub org_id: domain::OrgId,
    pub org_kind: domain::OrgKind,
    pub roles: domain::Roles,
    pub prefs: domain::ChannelPrefs,
    pub disabled: bool,
    pub follows: bool,
    /// `None`: the defaults.
    pub email: Option<EmailPrefs>,
    pub muted: bool,
}

/// A notification not yet turned into an e-mail (or dropped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingNotification {
    pub user_id: UserId,
    pub message_id: MessageId,
    pub channel_id: ChannelId,
    pub project_id: ProjectId,
    pub reason: NotifyReason,
    /// When the message was posted.
    pub created_at: OffsetDateTime,
    pub due_at: OffsetDateTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmailState {
    /// Waiting to be sent, or being sent, or waiting for the next attempt.
    Pending,
    /// The mail server accepted it.
    Sent,
    /// Every attempt failed; an admin may retry it.
    Failed,
}

impl EmailState {
    pub const ALL: [EmailState; 3] = [EmailState::Pending, EmailState::Sent, EmailState::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            EmailState::Pending => "pending",
            EmailState::Sent => "sent",
            EmailState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// An e-mail in the outbox, rendered when it was planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailRecord {
    pub id: EmailId,
    pub user_id: UserId,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// The conversation it belongs to (threading headers), `None` for a digest.
    pub channel_id: Option<ChannelId>,
    /// How many messages it tells about.
    pub message_count: u32,
    pub state: EmailState,
    /// Attempts made so far (a claimed e-mail counts its current attempt).
    pub attempts: u32,
    /// When the next attempt may start (for a claimed e-mail: when its claim lapses).
    pub next_attempt_at: OffsetDateTime,
    /// The mail server's answer to the last failed attempt.
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

/// One entry of a person's bell: a mention, or a message they were e-mailed about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BellItem {
    pub message_id: MessageId,
    pub channel_id: ChannelId,
    pub project_id: ProjectId,
    pub seq: i64,
    pub reason: NotifyReason,
    pub created_at: OffsetDateTime,
    /// The person's read position in the channel has reached the message.
    pub read: bool,
}

/// How many e-mails are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EmailCounts {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
}

#[async_trait]
pub trait OutboxRepo: Send {
    /// The facts about the project's followers and about `also` (mentioned people), in one
    /// read: a broadcast to thousands of followers must commit fast.
    async fn recipient_facts(
        &mut self,
        project_id: ProjectId,
        also: &[UserId],
    ) -> StoreResult<Vec<RecipientFacts>>;
    /// The stored preferences of these users; users who never changed theirs are left out
    /// (they have the defaults).
    async fn email_prefs(&mut self, users: &[UserId]) -> StoreResult<Vec<(UserId, EmailPrefs)>>;
    async fn set_email_prefs(&mut self, user: UserId, prefs: &EmailPrefs) -> StoreResult<()>;
    /// The projects the user muted.
    async fn muted_projects(&mut self, user: UserId) -> StoreResult<Vec<ProjectId>>;
    /// Idempotent either way.
    async fn set_muted(
        &mut self,
        user: UserId,
        project_id: ProjectId,
        muted: bool,
    ) -> StoreResult<()>;

    /// Users with at least one notification due at `now`, earliest due first, at most `limit`.
    async fn users_with_due_notifications(
        &mut self,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<UserId>>;
    /// Takes the right to plan this user's e-mails until the transaction ends. `false`: another
    /// instance holds it (PostgreSQL); SQLite serialises writers and always answers `true`.
    async fn lock_recipient(&mut self, user: UserId) -> StoreResult<bool>;
    /// Every notification of the user still waiting to be e-mailed (due or not), oldest first.
    async fn pending_notifications(
        &mut self,
        user: UserId,
    ) -> StoreResult<Vec<PendingNotification>>;
    /// Sets when a pending notification is due (`None`: never e-mail it).
    async fn reschedule_notification(
        &mut self,
        user: UserId,
        message_id: MessageId,
        due_at: Option<OffsetDateTime>,
    ) -> StoreResult<()>;
    /// Settles pending notifications: covered by `email`, or dropped (`None`: read already, no
    /// longer readable, or deleted).
    async fn settle_notifications(
        &mut self,
        user: UserId,
        messages: &[MessageId],
        email: Option<EmailId>,
        at: OffsetDateTime,
    ) -> StoreResult<()>;

    async fn insert_email(&mut self, email: &EmailRecord) -> StoreResult<()>;
    /// Claims up to `limit` pending e-mails whose next attempt is due at `now`, oldest first:
    /// counts the attempt and moves their next attempt to `lease_until`, so that an instance
    /// that dies while sending leaves them to be retried then. On PostgreSQL rows another
    /// instance is claiming are skipped, never waited for.
    async fn claim_due_emails(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<EmailRecord>>;
    /// Records that the mail server accepted the e-mail. `false` if it was not pending.
    async fn email_sent(&mut self, id: EmailId, at: OffsetDateTime) -> StoreResult<bool>;
    /// Records a failed attempt: retried at `retry_at`, or failed for good when `None`.
    async fn email_attempt_failed(
        &mut self,
        id: EmailId,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> StoreResult<()>;
    /// Newest first (`created_at`, then id, descending), strictly after `after` in that order
    /// when given, at most `limit`; `state` None: all.
    async fn list_emails(
        &mut self,
        state: Option<EmailState>,
        after: Option<&EmailKey>,
        limit: u32,
    ) -> StoreResult<Page<EmailRecord, EmailKey>>;
    async fn get_email(&mut self, id: EmailId) -> StoreResult<Option<EmailRecord>>;
    /// Puts a failed e-mail back in the queue, due at `now`, with its attempts counted afresh.
    /// `false` if it was not failed.
    async fn retry_email(&mut self, id: EmailId, now: OffsetDateTime) -> StoreResult<bool>;
    async fn email_counts(&mut self) -> StoreResult<EmailCounts>;

    /// The user's bell: mentions and messages they were e-mailed about, not deleted, newest
    /// first (the message's `created_at`, then its id, descending), strictly after `after` in
    /// that order when given, at most `limit`. `unread_only`: only those after the user's read
    /// position.
    async fn bell(
        &mut self,
        user: UserId,
        unread_only: bool,
        after: Option<&MessageKey>,
        limit: u32,
    ) -> StoreResult<Page<BellItem, MessageKey>>;
}
