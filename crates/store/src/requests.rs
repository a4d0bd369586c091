//! Requests for script work as stored: the request with its three steps, its dependencies, its
//! files (reference files and each step's versions), its history (every transition, assignment,
//! date change and skip, with who and why), and the script viewers of a project.
//!
//! Dates (due date, EDD, step due dates) are stored as `YYYY-MM-DD` text on both backends, so
//! they compare as dates and decode in one place ([`date`]).

use crate::StoreResult;
use crate::columns::{corrupt, language, parsed};
use async_trait::async_trait;
use domain::requests::{RequestKind, RequestState, Step};
use domain::{EpisodeId, LanguageTag, ProjectId, RequestFileId, RequestId, UserId};
use time::{Date, OffsetDateTime};

/// A request with its steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    pub id: RequestId,
    pub project_id: ProjectId,
    /// The episode of a series; `None` for a film (or the series as a whole).
    pub episode_id: Option<EpisodeId>,
    pub kind: RequestKind,
    pub language: LanguageTag,
    pub instructions: String,
    /// Owned by the studio.
    pub due_date: Date,
    /// Estimated delivery date, owned by the partner.
    pub edd: Date,
    pub state: RequestState,
    /// How many times QC returned it.
    pub retakes: u32,
    /// Assignees of Author, Proofread, QC.
    pub assignees: [Option<UserId>; 3],
    /// Due dates of Author, Proofread, QC (`None`: the request's due date).
    pub step_due: [Option<Date>; 3],
    pub created_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl RequestRecord {
    pub fn assignee(&self, step: Step) -> Option<UserId> {
        self.assignees[step.index()]
    }

    pub fn step_due(&self, step: Step) -> Date {
        self.step_due[step.index()].unwrap_or(self.due_date)
    }
}

/// A dependency of a request on other work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DependencyRecord {
    pub id: i64,
    pub request_id: RequestId,
    /// The kind of work needed.
    pub on_kind: RequestKind,
    /// Its language; `None`: any language.
    pub on_language: Option<LanguageTag>,
    /// The request that does that work; `None`: never ordered.
    pub on_request: Option<RequestId>,
    pub skip: Option<Skip>,
}

/// A dependency a studio manager skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    pub by: Option<UserId>,
    pub reason: String,
    pub at: OffsetDateTime,
}

/// A dependency to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDependency {
    pub request_id: RequestId,
    pub on_kind: RequestKind,
    pub on_language: Option<LanguageTag>,
    pub on_request: Option<RequestId>,
}

/// Which part of a request a file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileSlot {
    /// Given by the studio with the request.
    Reference,
    /// A version of a step's work.
    Work(Step),
}

impl FileSlot {
    pub fn as_str(self) -> &'static str {
        match self {
            FileSlot::Reference => "reference",
            FileSlot::Work(s) => s.as_str(),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        if s == "reference" {
            return Some(FileSlot::Reference);
        }
        s.parse().ok().map(FileSlot::Work)
    }
}

/// A file of a request. The bytes live in the file storage under `storage_key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestFileRecord {
    pub id: RequestFileId,
    pub request_id: RequestId,
    pub slot: FileSlot,
    /// 1, 2, … per request and slot.
    pub version: u32,
    pub name: String,
    /// The accepted extension the content was checked against.
    pub file_type: String,
    pub size: u64,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_by: Option<UserId>,
    pub created_at: OffsetDateTime,
}

/// One line of a request's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRecord {
    pub request_id: RequestId,
    /// `None`: the system or the operator.
    pub actor: Option<UserId>,
    /// `created`, `assigned`, `started`, `submitted`, `approved`, `returned`, `edd_changed`,
    /// `due_changed`, `dependency_skipped`, `dependency_added`, `dependency_removed`.
    pub action: String,
    /// What changed, in words ("EDD 2026-12-10 → 2026-12-14").
    pub detail: String,
    pub reason: Option<String>,
    pub at: OffsetDateTime,
}

/// Open (not done) requests of one project for one (language, kind): enough for My Projects'
/// count and next due date, after the policy has said which groups a viewer may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenRequestGroup {
    pub project_id: ProjectId,
    pub language: LanguageTag,
    pub kind: RequestKind,
    pub open: u32,
    pub next_due: Date,
}

#[async_trait]
pub trait RequestRepo: Send {
    /// Holds every other writer of this project's requests until this transaction ends, so a
    /// use case reads a request's state, decides and writes without another change slipping in
    /// between (two reviewers approving and returning at once, two identical orders). Call it
    /// in a write transaction before reading what is decided on. PostgreSQL locks the project
    /// row; SQLite's writers are serialised already.
    async fn lock_project_requests(&mut self, project: ProjectId) -> StoreResult<()>;
    async fn insert_request(&mut self, r: &RequestRecord) -> StoreResult<()>;
    /// Writes every changeable column (state, retakes, assignees, dates, instructions, updated_at).
    async fn update_request(&mut self, r: &RequestRecord) -> StoreResult<()>;
    async fn get_request(&mut self, id: RequestId) -> StoreResult<Option<RequestRecord>>;
    /// The project's requests, oldest first.
    async fn project_requests(&mut self, project: ProjectId) -> StoreResult<Vec<RequestRecord>>;
    /// Every request with a step assigned to `user`, oldest first.
    async fn requests_assigned_to(&mut self, user: UserId) -> StoreResult<Vec<RequestRecord>>;
    /// Open requests of these projects grouped by (project, language, kind).
    async fn open_request_groups(
        &mut self,
        projects: &[ProjectId],
    ) -> StoreResult<Vec<OpenRequestGroup>>;

    async fn insert_dependency(&mut self, d: &NewDependency) -> StoreResult<i64>;
    /// Every dependency of the project's requests, by id.
    async fn project_dependencies(
        &mut self,
        project: ProjectId,
    ) -> StoreResult<Vec<DependencyRecord>>;
    /// Points a dependency at the request that does the work (`None`: not ordered).
    async fn set_dependency_target(&mut self, id: i64, on: Option<RequestId>) -> StoreResult<()>;
    /// Records (or clears, with `None`) a skip.
    async fn set_dependency_skip(&mut self, id: i64, skip: Option<&Skip>) -> StoreResult<()>;
    async fn delete_dependency(&mut self, id: i64) -> StoreResult<()>;

    async fn insert_request_file(&mut self, f: &RequestFileRecord) -> StoreResult<()>;
    /// The request's files, oldest first.
    async fn request_files(&mut self, request: RequestId) -> StoreResult<Vec<RequestFileRecord>>;
    async fn get_request_file(
        &mut self,
        id: RequestFileId,
    ) -> StoreResult<Option<RequestFileRecord>>;

    async fn insert_request_history(&mut self, h: &HistoryRecord) -> StoreResult<()>;
    /// The request's history, oldest first.
    async fn request_history(&mut self, request: RequestId) -> StoreResult<Vec<HistoryRecord>>;

    /// Makes `user` a script viewer of `project`, or stops it (idempotent both ways).
    async fn set_script_viewer(
        &mut self,
        project: ProjectId,
        user: UserId,
        on: bool,
        by: Option<UserId>,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// The script viewers of a project, in no particular order.
    async fn script_viewers(&mut self, project: ProjectId) -> StoreResult<Vec<UserId>>;
    /// The projects `user` is a script viewer of.
    async fn script_viewer_projects(&mut self, user: UserId) -> StoreResult<Vec<ProjectId>>;
    /// The users following a project, in no particular order.
    async fn project_followers(&mut self, project: ProjectId) -> StoreResult<Vec<UserId>>;
}

/// A date as stored.
pub fn date(column: &str, s: &str) -> StoreResult<Date> {
    Date::parse(s, DATE_FORMAT).map_err(|e| corrupt(column, s, e))
}

pub fn opt_date(column: &str, s: Option<&str>) -> StoreResult<Option<Date>> {
    s.map(|s| date(column, s)).transpose()
}

/// A date to store.
pub fn date_text(d: Date) -> String {
    d.format(DATE_FORMAT).unwrap_or_default()
}

const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// The stored columns of a request, ids and timestamps already decoded by the backend.
pub struct RequestColumns {
    pub id: RequestId,
    pub project_id: ProjectId,
    pub episode_id: Option<EpisodeId>,
    pub kind: String,
    pub language: String,
    pub instructions: String,
    pub due_date: String,
    pub edd: String,
    pub state: String,
    pub retakes: i64,
    pub assignees: [Option<UserId>; 3],
    pub step_due: [Option<String>; 3],
    pub created_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

pub fn request(c: RequestColumns) -> StoreResult<RequestRecord> {
    let [a, p, q] = c.step_due;
    Ok(RequestRecord {
        id: c.id,
        project_id: c.project_id,
        episode_id: c.episode_id,
        kind: parsed("requests.kind", &c.kind)?,
        language: language("requests.language", &c.language)?,
        instructions: c.instructions,
        due_date: date("requests.due_date", &c.due_date)?,
        edd: date("requests.edd", &c.edd)?,
        state: RequestState::parse(&c.state)
            .ok_or_else(|| corrupt("requests.state", &c.state, "unknown state"))?,
        retakes: u32::try_from(c.retakes).map_err(|e| corrupt("requests.retakes", c.retakes, e))?,
        assignees: c.assignees,
        step_due: [
            opt_date("requests.author_due", a.as_deref())?,
            opt_date("requests.proofread_due", p.as_deref())?,
            opt_date("requests.qc_due", q.as_deref())?,
        ],
        created_by: c.created_by,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

/// The columns of `requests` in the order every backend selects them.
pub const REQUEST_COLUMNS: &str = "id, project_id, episode_id, kind, language, instructions, \
    due_date, edd, state, retakes, author_id, proofreader_id, qc_id, author_due, proofread_due, \
    qc_due, created_by, created_at, updated_at";

/// The stored columns of a dependency, ids and timestamps decoded.
pub struct DependencyColumns {
    pub id: i64,
    pub request_id: RequestId,
    pub on_kind: String,
    pub on_language: Option<String>,
    pub on_request: Option<RequestId>,
    pub skipped_by: Option<UserId>,
    pub skip_reason: Option<String>,
    pub skipped_at: Option<OffsetDateTime>,
}

pub fn dependency(c: DependencyColumns) -> StoreResult<DependencyRecord> {
    let skip = match (c.skip_reason, c.skipped_at) {
        (Some(reason), Some(at)) => Some(Skip {
            by: c.skipped_by,
            reason,
            at,
        }),
        _ => None,
    };
    Ok(DependencyRecord {
        id: c.id,
        request_id: c.request_id,
        on_kind: parsed("request_dependencies.on_kind", &c.on_kind)?,
        on_language: c
            .on_language
            .map(|l| language("request_dependencies.on_language", &l))
            .transpose()?,
        on_request: c.on_request,
        skip,
    })
}

/// The slot of a stored file.
pub fn file_slot(s: &str) -> StoreResult<FileSlot> {
    FileSlot::parse(s).ok_or_else(|| corrupt("request_files.slot", s, "unknown slot"))
}

/// A group row's kind, language and date.
pub fn open_group(
    project_id: ProjectId,
    language_s: &str,
    kind: &str,
    open: i64,
    next_due: &str,
) -> StoreResult<OpenRequestGroup> {
    Ok(OpenRequestGroup {
        project_id,
        language: language("requests.language", language_s)?,
        kind: parsed("requests.kind", kind)?,
        open: u32::try_from(open).unwrap_or(u32::MAX),
        next_due: date("requests.due_date", next_due)?,
    })
}
