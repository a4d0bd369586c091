//! The storage boundary of locportal.
//!
//! [`Store`] hands out transactions ([`Tx`]); a transaction implements every small repository
//! trait ([`OrgRepo`], [`UserRepo`], …). The application layer opens exactly one transaction per
//! action and commits it; dropping a [`Tx`] without committing rolls it back.
//!
//! Two backends implement this crate's traits, each in its own crate with its own migrations:
//! `store-sqlite` (the embedded default) and `store-postgres` (scale-out). The behaviour both must
//! share is pinned by the contract cases in [`contract`] (feature `contract`), which the test
//! binary of this crate runs on both.

use async_trait::async_trait;
use domain::{
    Assignment, Channel, ChannelId, ChannelKind, ChannelPrefs, Email, LanguageTag, Message,
    MessageId, MovieId, Name, OrgId, OrgKind, Organisation, Project, ProjectId, ProjectKind,
    ProjectScope, Roles, TokenId, UserId,
};
use time::OffsetDateTime;

pub mod audio;
pub mod columns;
pub mod guide;
pub mod outbox;
pub mod page;
pub mod requests;

pub use audio::{
    AudioRepo, AudioRequestRecord, ClipRecord, FulfilmentRecord, NoteKind, NoteRecord,
    SubmissionFileRecord, SubmissionRecord, UploadRecord, UploadState,
};
pub use guide::{GuideItemFilter, GuideItemRecord, GuideRepo, GuideVersionRecord};
pub use outbox::{
    BellItem, EmailCounts, EmailRecord, EmailState, NewNotification, OutboxRepo,
    PendingNotification, RecipientFacts,
};
pub use page::{EmailKey, MessageKey, NewestKey, Page, ProjectKey};
pub use requests::{
    DependencyRecord, FileSlot, HistoryRecord, NewDependency, OpenRequestGroup, RequestFileRecord,
    RequestRecord, RequestRepo, Skip,
};
#[cfg(feature = "contract")]
pub mod contract;
#[cfg(feature = "contract")]
pub mod contract_events;

pub type StoreResult<T> = Result<T, StoreError>;

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A uniqueness rule that a write broke. Backends map their constraint names to these so the
/// application can show the error next to the right field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conflict {
    OrganisationName,
    Email,
    /// A movie ID already used by a project or an episode.
    MovieId,
    ApiTokenName,
    Other(String),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists: {0:?}")]
    Conflict(Conflict),
    /// A stored value no longer satisfies the domain's rules (a bug or a manual edit).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// An account as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: Email,
    pub display_name: Name,
    pub roles: Roles,
    /// PHC string (argon2id). `None` for an account that has never had a password set.
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: OffsetDateTime,
    /// App Settings that decide which channels the user works in.
    pub prefs: ChannelPrefs,
}

/// A user with the organisation it belongs to — what authentication produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserWithOrg {
    pub user: UserRecord,
    pub org: Organisation,
}

/// A sign-in session. Only the SHA-256 of the cookie value is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A bearer API token. Only the SHA-256 of the secret is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiTokenRecord {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: Name,
    pub token_hash: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A project as listed in search results and My Projects: enough to render a row and to apply
/// the access policy (the assignments), without seasons and episodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectSummary {
    pub id: ProjectId,
    pub movie_id: MovieId,
    pub name: Name,
    pub kind: ProjectKind,
    pub original_language: LanguageTag,
    pub target_languages: Vec<LanguageTag>,
    pub assignments: Vec<Assignment>,
}

impl ProjectSummary {
    pub fn assigned_orgs(&self) -> Vec<OrgId> {
        let mut v: Vec<OrgId> = self.assignments.iter().map(|a| a.org_id).collect();
        v.sort();
        v.dedup();
        v
    }
}

#[async_trait]
pub trait OrgRepo: Send {
    async fn insert_org(&mut self, org: &Organisation) -> StoreResult<()>;
    /// Renames; the kind of an organisation never changes.
    async fn rename_org(&mut self, id: OrgId, name: &Name) -> StoreResult<()>;
    async fn get_org(&mut self, id: OrgId) -> StoreResult<Option<Organisation>>;
    /// Case-insensitive exact match.
    async fn find_org_by_name(&mut self, name: &str) -> StoreResult<Option<Organisation>>;
    /// Sorted by name.
    async fn list_orgs(&mut self) -> StoreResult<Vec<Organisation>>;
    /// The one studio organisation, if created.
    async fn studio_org(&mut self) -> StoreResult<Option<Organisation>> {
        Ok(self
            .list_orgs()
            .await?
            .into_iter()
            .find(|o| o.kind == OrgKind::Studio))
    }
}

#[async_trait]
pub trait UserRepo: Send {
    async fn insert_user(&mut self, user: &UserRecord) -> StoreResult<()>;
    /// Updates org, email, display name, roles, disabled flag and prefs (not the password).
    async fn update_user(&mut self, user: &UserRecord) -> StoreResult<()>;
    async fn set_password_hash(&mut self, id: UserId, hash: &str) -> StoreResult<()>;
    async fn get_user(&mut self, id: UserId) -> StoreResult<Option<UserWithOrg>>;
    /// These users (unknown ids are left out), in no particular order.
    async fn get_users(&mut self, ids: &[UserId]) -> StoreResult<Vec<UserWithOrg>>;
    /// The users of these organisations, in no particular order.
    async fn users_of_orgs(&mut self, orgs: &[OrgId]) -> StoreResult<Vec<UserWithOrg>>;
    async fn find_user_by_email(&mut self, email: &Email) -> StoreResult<Option<UserWithOrg>>;
    /// All users with their organisations, sorted by organisation name then display name.
    async fn list_users(&mut self) -> StoreResult<Vec<UserWithOrg>>;
}

#[async_trait]
pub trait SessionRepo: Send {
    async fn insert_session(&mut self, session: &SessionRecord) -> StoreResult<()>;
    /// The session with this token hash if it has not expired at `now`.
    async fn get_session(
        &mut self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<SessionRecord>>;
    async fn delete_session(&mut self, token_hash: &str) -> StoreResult<()>;
    /// Signs a user out everywhere (password change, account disabled).
    async fn delete_user_sessions(&mut self, user_id: UserId) -> StoreResult<u64>;
    async fn delete_expired_sessions(&mut self, now: OffsetDateTime) -> StoreResult<u64>;
}

#[async_trait]
pub trait ApiTokenRepo: Send {
    async fn insert_api_token(&mut self, token: &ApiTokenRecord) -> StoreResult<()>;
    /// The user's tokens, newest first, revoked ones included.
    async fn list_api_tokens(&mut self, user_id: UserId) -> StoreResult<Vec<ApiTokenRecord>>;
    /// An unrevoked token by the hash of its secret.
    async fn find_api_token(&mut self, token_hash: &str) -> StoreResult<Option<ApiTokenRecord>>;
    /// Revokes one of the user's own tokens; `false` if the user has no such unrevoked token.
    async fn revoke_api_token(
        &mut self,
        user_id: UserId,
        id: TokenId,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    async fn touch_api_token(&mut self, id: TokenId, at: OffsetDateTime) -> StoreResult<()>;
    /// Revokes every unrevoked token of the user (password change or reset, account disabled);
    /// returns how many.
    async fn revoke_user_api_tokens(
        &mut self,
        user_id: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<u64>;
}

/// Failed (or reserved, not yet checked) attempts, under the keys of [`domain::throttle`].
#[async_trait]
pub trait ThrottleRepo: Send {
    /// Holds every writer that counts under any of `keys` until this transaction ends, so that
    /// reading the counts, deciding and recording the attempt cannot interleave with another
    /// attempt on the same keys. Call it first in a write transaction.
    async fn lock_throttle_keys(&mut self, keys: &[&str]) -> StoreResult<()>;
    /// Records one failure (or a reserved attempt); returns its id for [`Self::forget_sign_in_failure`].
    async fn record_sign_in_failure(&mut self, key: &str, at: OffsetDateTime) -> StoreResult<i64>;
    /// Removes one recorded failure: a reserved attempt that turned out to be right.
    async fn forget_sign_in_failure(&mut self, id: i64) -> StoreResult<()>;
    /// Failures for `key` at or after `since`: how many, and when the latest was.
    async fn sign_in_failures(
        &mut self,
        key: &str,
        since: OffsetDateTime,
    ) -> StoreResult<(u32, Option<OffsetDateTime>)>;
    async fn clear_sign_in_failures(&mut self, key: &str) -> StoreResult<()>;
    /// Forgets every failure older than `before`, whatever its key; returns how many.
    async fn prune_sign_in_failures(&mut self, before: OffsetDateTime) -> StoreResult<u64>;
}

#[async_trait]
pub trait ProjectRepo: Send {
    /// Inserts a project with its languages, seasons, episodes and assignments.
    /// A movie ID already used by any project or episode gives `Conflict(MovieId)`.
    async fn insert_project(&mut self, project: &Project, at: OffsetDateTime) -> StoreResult<()>;
    /// Replaces everything about the project with `project` (same id). Episodes keep their ids.
    async fn update_project(&mut self, project: &Project, at: OffsetDateTime) -> StoreResult<()>;
    async fn get_project(&mut self, id: ProjectId) -> StoreResult<Option<Project>>;
    /// Only the assignments of a project (what every access decision about its channels
    /// needs), in order; `None` if the project does not exist.
    async fn project_assignments(&mut self, id: ProjectId) -> StoreResult<Option<Vec<Assignment>>>;
    /// The project owning this movie ID, as its own or as one of its episodes'.
    async fn project_id_by_movie_id(&mut self, movie_id: MovieId)
    -> StoreResult<Option<ProjectId>>;
    /// Projects in `scope` whose name contains `query` (case-insensitive) or whose movie ID — or
    /// an episode's — starts with `query` when `query` is all digits. An empty query lists all.
    /// Exact movie-ID matches first, then by name: ascending by [`ProjectKey`] (`rank`,
    /// `name_folded`, id). At most `limit` rows, strictly after `after` when given.
    async fn find_projects(
        &mut self,
        scope: ProjectScope,
        query: &str,
        after: Option<&ProjectKey>,
        limit: u32,
    ) -> StoreResult<Page<ProjectSummary, ProjectKey>>;
}

#[async_trait]
pub trait FollowRepo: Send {
    /// Idempotent.
    async fn follow(
        &mut self,
        user_id: UserId,
        project_id: ProjectId,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Idempotent.
    async fn unfollow(&mut self, user_id: UserId, project_id: ProjectId) -> StoreResult<()>;
    async fn is_following(&mut self, user_id: UserId, project_id: ProjectId) -> StoreResult<bool>;
    /// These projects as summaries (with all their assignments), in no particular order;
    /// unknown ids are left out.
    async fn project_summaries(&mut self, ids: &[ProjectId]) -> StoreResult<Vec<ProjectSummary>>;
    /// The projects the user follows that are within `scope` (a partner that lost its last
    /// assignment no longer sees the project, even if it still follows it), sorted by name.
    async fn followed_projects(
        &mut self,
        user_id: UserId,
        scope: ProjectScope,
    ) -> StoreResult<Vec<ProjectSummary>>;
}

/// A channel with what one reader needs for its badge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelUnread {
    pub channel_id: ChannelId,
    /// The reader's read position (0: nothing read).
    pub last_read_seq: i64,
    /// Messages after the read position that are not the reader's own and not deleted.
    pub unread: u32,
    /// The sequence number of the first of those, to jump to.
    pub first_unread_seq: Option<i64>,
}

#[async_trait]
pub trait ChannelRepo: Send {
    /// Creates the channels of `kinds` that the project does not have yet (idempotent). Channels
    /// are never deleted: the vendor channel of a partner that is no longer assigned keeps its
    /// history for the studio.
    async fn ensure_channels(
        &mut self,
        project_id: ProjectId,
        kinds: &[ChannelKind],
    ) -> StoreResult<()>;
    /// The project's channels, in no particular order.
    async fn list_channels(&mut self, project_id: ProjectId) -> StoreResult<Vec<Channel>>;
    /// The channels of all these projects, in no particular order.
    async fn list_channels_of(&mut self, projects: &[ProjectId]) -> StoreResult<Vec<Channel>>;
    async fn get_channel(&mut self, id: ChannelId) -> StoreResult<Option<Channel>>;
}

#[async_trait]
pub trait MessageRepo: Send {
    /// Appends a message: its `seq` is the channel's `last_seq + 1`, taken under a row lock on
    /// the channel, so sequence numbers are gap-free and in commit order within a channel even
    /// with concurrent posters. `author` None is the robot.
    async fn insert_message(
        &mut self,
        id: MessageId,
        channel_id: ChannelId,
        author: Option<UserId>,
        body: &str,
        at: OffsetDateTime,
    ) -> StoreResult<Message>;
    async fn get_message(&mut self, id: MessageId) -> StoreResult<Option<Message>>;
    /// Replaces the body and sets `edited_at`.
    async fn edit_message(
        &mut self,
        id: MessageId,
        body: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Empties the body and sets `deleted_at` (the tombstone keeps its place and seq).
    async fn delete_message(&mut self, id: MessageId, at: OffsetDateTime) -> StoreResult<()>;
    /// Up to `limit` messages of the channel with `seq < before` (all if `before` is None),
    /// the newest `limit` of them, returned in ascending `seq` order.
    async fn list_messages(
        &mut self,
        channel_id: ChannelId,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    /// Moves the user's read position in the channel forward to `seq` (never backwards).
    async fn mark_read(
        &mut self,
        user_id: UserId,
        channel_id: ChannelId,
        seq: i64,
    ) -> StoreResult<()>;
    /// For each of `channels`: the user's read position and unread count (messages with a
    /// greater seq, not by the user, not deleted). Channels never read count from 0.
    async fn unread(
        &mut self,
        user_id: UserId,
        channels: &[ChannelId],
    ) -> StoreResult<Vec<ChannelUnread>>;
}

/// What to look for in messages: the plain-data form of `domain::search::SearchQuery`, with
/// `from:` already resolved to user ids. Words, phrases and exclusions are matched as
/// `domain::search` describes (folded; whole tokens, or substrings for CJK).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageSearch {
    /// Every one must match.
    pub words: Vec<String>,
    /// Every one must match.
    pub phrases: Vec<String>,
    /// None may match.
    pub excluded: Vec<String>,
    /// Only messages by one of these (`Some(empty)` finds nothing); `None`: anyone, robot too.
    pub authors: Option<Vec<UserId>>,
    /// Created at or after.
    pub after: Option<OffsetDateTime>,
    /// Created strictly before.
    pub before: Option<OffsetDateTime>,
    /// Only messages with at least one attachment.
    pub has_attachment: bool,
}

impl MessageSearch {
    /// True when no message can match, so a backend need not ask the database.
    pub fn finds_nothing(&self, channels: &[ChannelId], limit: u32) -> bool {
        channels.is_empty() || limit == 0 || self.authors.as_ref().is_some_and(Vec::is_empty)
    }

    /// The patterns that must all match (words and phrases) and those that must not.
    pub fn patterns(&self) -> (Vec<domain::search::Pattern>, Vec<domain::search::Pattern>) {
        let build = |terms: &mut dyn Iterator<Item = &String>| {
            terms
                .filter_map(|t| domain::search::Pattern::new(t))
                .collect::<Vec<_>>()
        };
        (
            build(&mut self.words.iter().chain(&self.phrases)),
            build(&mut self.excluded.iter()),
        )
    }
}

#[async_trait]
pub trait SearchRepo: Send {
    /// Up to `limit` messages of `channels` matching `query`, newest first (`created_at`, then
    /// id, descending), strictly after `after` in that order when given. Deleted messages are
    /// never returned.
    async fn search_messages(
        &mut self,
        channels: &[ChannelId],
        query: &MessageSearch,
        after: Option<&MessageKey>,
        limit: u32,
    ) -> StoreResult<Page<Message, MessageKey>>;
}

/// Who is to be told about a message, and why: written in the message's transaction (an
/// outbox); the e-mail issue delivers them.
#[async_trait]
pub trait NotificationRepo: Send {
    /// Records who is to be told about `message_id`, why, and when to e-mail them
    /// (idempotent per person). Written in batches: a broadcast may have thousands.
    async fn insert_notifications(
        &mut self,
        message_id: MessageId,
        recipients: &[NewNotification],
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// The recipients recorded for a message, with their reasons, sorted by user id.
    async fn notifications_of(
        &mut self,
        message_id: MessageId,
    ) -> StoreResult<Vec<(UserId, String)>>;
}

/// Files attached to messages (the rows; the bytes live in the app's file storage).
#[async_trait]
pub trait AttachmentRepo: Send {
    /// Records an attachment of a message; `position` orders a message's attachments.
    async fn insert_attachment(
        &mut self,
        attachment: &domain::attachments::Attachment,
        position: u32,
    ) -> StoreResult<()>;
    async fn get_attachment(
        &mut self,
        id: domain::AttachmentId,
    ) -> StoreResult<Option<domain::attachments::Attachment>>;
    /// The attachments of these messages, by message and position.
    async fn attachments_of(
        &mut self,
        messages: &[MessageId],
    ) -> StoreResult<Vec<domain::attachments::Attachment>>;
    /// Removes a message's attachments and returns them (so their files can be removed after
    /// the commit).
    async fn delete_attachments_of(
        &mut self,
        message_id: MessageId,
    ) -> StoreResult<Vec<domain::attachments::Attachment>>;
}

/// Who a message mentions (written with the message, read by the notifications issue).
#[async_trait]
pub trait MentionRepo: Send {
    /// Records that `message_id` mentions each of `users` (idempotent).
    async fn insert_mentions(&mut self, message_id: MessageId, users: &[UserId])
    -> StoreResult<()>;
    /// The users a message mentions, in no particular order.
    async fn mentions_of(&mut self, message_id: MessageId) -> StoreResult<Vec<UserId>>;
}

/// Live-update events, written in the same transaction as the change they describe.
#[async_trait]
pub trait EventRepo: Send {
    /// Appends an event and returns its id. On PostgreSQL this also notifies every instance
    /// (`pg_notify`, delivered on commit).
    async fn append_event(
        &mut self,
        event: &domain::events::NewEvent,
        at: OffsetDateTime,
    ) -> StoreResult<i64>;
    /// Events with an id greater than `after`, ascending, at most `limit`.
    async fn events_after(
        &mut self,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<domain::events::Event>>;
    /// The greatest event id (0: none).
    async fn latest_event_id(&mut self) -> StoreResult<i64>;
}

/// Wakes an instance when another instance may have appended events. A hint only: the events
/// table is the truth, and a consumer re-reads it after every wake.
#[async_trait]
pub trait EventWaker: Send {
    async fn wait(&mut self) -> StoreResult<()>;
}

/// One database transaction offering every repository.
#[async_trait]
pub trait Tx:
    OrgRepo
    + UserRepo
    + SessionRepo
    + ApiTokenRepo
    + ThrottleRepo
    + ProjectRepo
    + FollowRepo
    + ChannelRepo
    + MessageRepo
    + SearchRepo
    + EventRepo
    + MentionRepo
    + AttachmentRepo
    + NotificationRepo
    + OutboxRepo
    + RequestRepo
    + AudioRepo
    + GuideRepo
    + Send
{
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;
    /// A read-write transaction. On SQLite writes are serialised (one writer connection,
    /// `BEGIN IMMEDIATE`), so a write transaction never fails with "database is locked" midway.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// A transaction for reading a consistent snapshot. Writes through it are a bug.
    async fn read(&self) -> StoreResult<Box<dyn Tx>>;
    /// Applies pending migrations (idempotent).
    async fn migrate(&self) -> StoreResult<()>;
    /// The migration versions this backend ships, ascending.
    fn migration_versions(&self) -> Vec<i64>;
    /// The migration versions applied to the database, ascending.
    async fn applied_migrations(&self) -> StoreResult<Vec<i64>>;
    /// A waker for events appended by other instances sharing the database, or `None` when the
    /// database cannot be shared (SQLite: one process, which wakes its consumers itself).
    async fn event_waker(&self) -> StoreResult<Option<Box<dyn EventWaker>>>;
    /// Cheap liveness check (`SELECT 1`).
    async fn ping(&self) -> StoreResult<()>;
    async fn close(&self);
}
