//! Requests in the API: a title's requests (list, order, CSV), one request (read, assign a
//! step, start, submit, approve, return, dates, dependencies, files), My tasks and Members.
//! Everything goes through the same use cases as the pages.

use super::page::{self, Order, PageParams};
use super::{ApiQuery, JsonBody, parse_id};
use crate::AppState;
use crate::auth::{ApiSignedIn, ApiUser};
use crate::error::{ApiError, ApiErrorBody};
use crate::uploads::{MAX_REFERENCE_FILES, is_multipart, read_form};
use app::AppError;
use app::requests::{
    DependencyView, HistoryLine, NewRequestsInput, RequestDetail, RequestFilter, RequestRow,
    TaskRow, parse_date,
};
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::attachments::Accept;
use domain::requests::{RequestKind, RequestState, Step, Transition};
use domain::{Actor, ProjectId, RequestFileId, RequestId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The kinds of request.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RequestKindJson {
    DialogueList,
    PivotDialogueList,
    PreRecordedDubScript,
    AsRecordedDubScript,
    AudioDescriptionScript,
}

impl From<RequestKind> for RequestKindJson {
    fn from(k: RequestKind) -> Self {
        match k {
            RequestKind::DialogueList => Self::DialogueList,
            RequestKind::PivotDialogueList => Self::PivotDialogueList,
            RequestKind::PreRecordedDubScript => Self::PreRecordedDubScript,
            RequestKind::AsRecordedDubScript => Self::AsRecordedDubScript,
            RequestKind::AudioDescriptionScript => Self::AudioDescriptionScript,
        }
    }
}

impl From<RequestKindJson> for RequestKind {
    fn from(k: RequestKindJson) -> Self {
        match k {
            RequestKindJson::DialogueList => Self::DialogueList,
            RequestKindJson::PivotDialogueList => Self::PivotDialogueList,
            RequestKindJson::PreRecordedDubScript => Self::PreRecordedDubScript,
            RequestKindJson::AsRecordedDubScript => Self::AsRecordedDubScript,
            RequestKindJson::AudioDescriptionScript => Self::AudioDescriptionScript,
        }
    }
}

/// The steps of a request.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StepJson {
    Author,
    Proofread,
    Qc,
}

impl From<Step> for StepJson {
    fn from(s: Step) -> Self {
        match s {
            Step::Author => Self::Author,
            Step::Proofread => Self::Proofread,
            Step::Qc => Self::Qc,
        }
    }
}

impl From<StepJson> for Step {
    fn from(s: StepJson) -> Self {
        match s {
            StepJson::Author => Self::Author,
            StepJson::Proofread => Self::Proofread,
            StepJson::Qc => Self::Qc,
        }
    }
}

/// Where a request stands.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStateJson {
    AuthorTodo,
    AuthorInProgress,
    ProofreadTodo,
    ProofreadInProgress,
    QcTodo,
    QcInProgress,
    Done,
}

impl From<RequestState> for RequestStateJson {
    fn from(s: RequestState) -> Self {
        match s {
            RequestState::Todo(Step::Author) => Self::AuthorTodo,
            RequestState::InProgress(Step::Author) => Self::AuthorInProgress,
            RequestState::Todo(Step::Proofread) => Self::ProofreadTodo,
            RequestState::InProgress(Step::Proofread) => Self::ProofreadInProgress,
            RequestState::Todo(Step::Qc) => Self::QcTodo,
            RequestState::InProgress(Step::Qc) => Self::QcInProgress,
            RequestState::Done => Self::Done,
        }
    }
}

/// One step of a request.
#[derive(Serialize, ToSchema)]
pub struct RequestStepJson {
    pub step: StepJson,
    /// `waiting`, `to_do`, `in_progress` or `done`.
    pub status: String,
    pub assignee_id: Option<uuid::Uuid>,
    /// The assignee's name as the caller may see it.
    pub assignee: Option<String>,
    /// The step's due date (the request's when none was set for the step).
    #[schema(format = Date)]
    pub due_date: String,
}

/// A request as the caller may see it.
#[derive(Serialize, ToSchema)]
pub struct RequestJson {
    pub id: uuid::Uuid,
    pub project_id: uuid::Uuid,
    pub project_name: String,
    pub episode_id: Option<uuid::Uuid>,
    /// `S1E2`, or empty for a film or the series as a whole.
    pub episode: String,
    pub kind: RequestKindJson,
    pub language: String,
    /// The partner doing it (named to the studio and to that partner only).
    pub partner: Option<String>,
    pub state: RequestStateJson,
    /// "Author: to do", "QC: in review", "Done".
    pub state_label: String,
    /// How many times QC returned it.
    pub retakes: u32,
    /// Every dependency is done or skipped.
    pub ready: bool,
    /// "ready", "blocked: waiting for 1", "blocked: 1 not ordered".
    pub readiness: String,
    pub overdue: bool,
    /// The EDD is after the due date.
    pub at_risk: bool,
    #[schema(format = Date)]
    pub due_date: String,
    #[schema(format = Date)]
    pub edd: String,
    pub instructions: String,
    pub steps: Vec<RequestStepJson>,
    pub created_at: String,
}

impl From<&RequestRow> for RequestJson {
    fn from(r: &RequestRow) -> Self {
        let rec = &r.record;
        Self {
            id: rec.id.as_uuid(),
            project_id: rec.project_id.as_uuid(),
            project_name: r.project_name.clone(),
            episode_id: rec.episode_id.map(|e| e.as_uuid()),
            episode: r.episode.clone(),
            kind: rec.kind.into(),
            language: rec.language.to_string(),
            partner: r.partner.clone(),
            state: rec.state.into(),
            state_label: rec.state.label(),
            retakes: rec.retakes,
            ready: r.readiness.is_ready(),
            readiness: r.readiness.label(),
            overdue: r.overdue,
            at_risk: r.at_risk,
            due_date: rec.due_date.to_string(),
            edd: rec.edd.to_string(),
            instructions: rec.instructions.clone(),
            steps: Step::ALL
                .into_iter()
                .map(|s| RequestStepJson {
                    step: s.into(),
                    status: rec.state.step_status(s).as_str().into(),
                    assignee_id: rec.assignee(s).map(|u| u.as_uuid()),
                    assignee: r.assignees[s.index()].clone(),
                    due_date: rec.step_due(s).to_string(),
                })
                .collect(),
            created_at: super::dto::ts(rec.created_at),
        }
    }
}

/// A dependency of a request.
#[derive(Serialize, ToSchema)]
pub struct DependencyJson {
    /// For skipping or removing it (given to studio managers only).
    pub id: Option<i64>,
    pub kind: RequestKindJson,
    pub language: Option<String>,
    /// `done`, `skipped`, `waiting` or `not ordered`.
    pub status: String,
    /// The request doing that work, when the caller may open it.
    pub request_id: Option<uuid::Uuid>,
    pub skipped_by: Option<String>,
    pub skip_reason: Option<String>,
}

impl DependencyJson {
    fn of(d: &DependencyView, may_skip: bool) -> Self {
        Self {
            id: may_skip.then_some(d.id),
            kind: d.kind.into(),
            language: d.language.as_ref().map(|l| l.to_string()),
            status: d.status.label().into(),
            request_id: d.link.map(|r| r.as_uuid()),
            skipped_by: d.skip.as_ref().map(|s| s.by.clone()),
            skip_reason: d.skip.as_ref().map(|s| s.reason.clone()),
        }
    }
}

/// A file of a request.
#[derive(Serialize, ToSchema)]
pub struct RequestFileJson {
    pub id: uuid::Uuid,
    /// `reference`, `author`, `proofread`.
    pub slot: String,
    pub version: u32,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// Where to download it.
    pub url: String,
    pub created_at: String,
}

/// One line of a request's history.
#[derive(Serialize, ToSchema)]
pub struct HistoryJson {
    pub who: String,
    pub action: String,
    pub detail: String,
    pub reason: Option<String>,
    pub at: String,
}

impl From<&HistoryLine> for HistoryJson {
    fn from(h: &HistoryLine) -> Self {
        Self {
            who: h.who.clone(),
            action: h.action.clone(),
            detail: h.detail.clone(),
            reason: h.reason.clone(),
            at: super::dto::ts(h.at),
        }
    }
}

/// A request with its dependencies, files and history.
#[derive(Serialize, ToSchema)]
pub struct RequestDetailJson {
    pub request: RequestJson,
    pub dependencies: Vec<DependencyJson>,
    pub files: Vec<RequestFileJson>,
    pub history: Vec<HistoryJson>,
}

impl From<&RequestDetail> for RequestDetailJson {
    fn from(d: &RequestDetail) -> Self {
        Self {
            request: (&d.row).into(),
            dependencies: d
                .dependencies
                .iter()
                .map(|x| DependencyJson::of(x, d.row.can.skip))
                .collect(),
            files: d
                .files
                .iter()
                .map(|f| RequestFileJson {
                    id: f.id.as_uuid(),
                    slot: f.slot.as_str().into(),
                    version: f.version,
                    name: f.name.clone(),
                    size: f.size,
                    sha256: f.sha256.clone(),
                    url: format!("/api/v1/request-files/{}", f.id),
                    created_at: super::dto::ts(f.created_at),
                })
                .collect(),
            history: d.history.iter().map(Into::into).collect(),
        }
    }
}

super::page::page_of!(RequestPageJson, RequestJson, "requests");

/// The filters of a title's requests (the list takes `limit` and `cursor` besides).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestFilterParams {
    kind: Option<RequestKindJson>,
    /// A language tag.
    language: Option<String>,
    /// `S1E2`.
    episode: Option<String>,
    /// The current step (`author`, `proofread`, `qc`) or `done`.
    #[param(pattern = "^(author|proofread|qc|done)?$")]
    step: Option<String>,
    /// `ready` or `blocked`.
    #[param(pattern = "^(ready|blocked)?$")]
    readiness: Option<String>,
    /// An assignee's user id, `me`, or `none` (the current step has nobody).
    assignee: Option<String>,
    /// Only overdue requests.
    overdue: Option<bool>,
}

/// A closed-set query value: empty, or one of `allowed`; anything else is 422 naming it.
fn one_of(name: &str, value: &Option<String>, allowed: &[&str]) -> Result<(), ApiError> {
    match value.as_deref() {
        Some(v) if !v.is_empty() && !allowed.contains(&v) => Err(ApiError(AppError::invalid(
            name,
            format!("use one of {}", allowed.join(", ")),
        ))),
        _ => Ok(()),
    }
}

fn check_filter(step: &Option<String>, readiness: &Option<String>) -> Result<(), ApiError> {
    one_of("step", step, &["author", "proofread", "qc", "done"])?;
    one_of("readiness", readiness, &["ready", "blocked"])
}

impl RequestFilterParams {
    fn filter(&self) -> RequestFilter {
        RequestFilter {
            kind: self.kind.map(|k| RequestKind::from(k).as_str().to_string()),
            language: self.language.clone(),
            episode: self.episode.clone(),
            step: self.step.clone(),
            readiness: self.readiness.clone(),
            assignee: self.assignee.clone(),
            overdue: self.overdue,
            sort: None,
        }
    }
}

/// A title's requests the caller may see (a partner: its own languages' only), oldest first.
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/requests", tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "Project id"), RequestFilterParams, PageParams),
    responses((status = 200, description = "The requests", body = RequestPageJson))
)]
pub async fn list_requests(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<RequestFilterParams>,
    ApiQuery(paging): ApiQuery<PageParams>,
) -> Result<Json<RequestPageJson>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    check_filter(&p.step, &p.readiness)?;
    let (limit, after) =
        page::read::<(i64, uuid::Uuid)>("requests", paging.limit, paging.cursor.as_deref())?;
    let page = state.app.project_requests(&who, id, &p.filter()).await?;
    let (rows, next) = page::in_memory(
        page.rows,
        |r| {
            (
                r.record.created_at.unix_timestamp_nanos() as i64,
                r.record.id.as_uuid(),
            )
        },
        Order::Ascending,
        after,
        limit,
    );
    Ok(Json(RequestPageJson {
        items: rows.iter().map(Into::into).collect(),
        next_cursor: next.map(|k| page::encode("requests", &k)),
    }))
}

/// Requests to order: one per episode of `episodes` and language of `languages`.
#[derive(Deserialize, ToSchema)]
pub struct NewRequestsJson {
    pub kind: RequestKindJson,
    /// Target languages, or `["all"]` for every target language with a partner for the
    /// kind's service. Ignored for a dialogue list (the original language).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Empty: the film, or the series as a whole; `all`, `S1`, `S1E1-S1E4`, `S1E2, S1E5`.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub episodes: String,
    #[schema(format = Date)]
    pub due_date: String,
    /// The partner's estimated delivery date; the due date when absent.
    #[schema(format = Date)]
    pub edd: Option<String>,
    /// Optional; no control characters other than tabs and line breaks.
    #[serde(default)]
    #[schema(
        max_length = 20000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub instructions: String,
}

/// What an order created.
#[derive(Serialize, ToSchema)]
pub struct CreatedJson {
    pub ids: Vec<uuid::Uuid>,
}

/// Orders requests (studio managers). Refused as a whole (422) when a language has no partner
/// for the kind's service or is not a target language, and (409) when the same work is
/// already requested and not done. Reference files are added with `POST .../files`.
#[utoipa::path(
    post, path = "/api/v1/projects/{id}/requests", tag = "requests", request_body = NewRequestsJson,
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses(
        (status = 201, description = "Created", body = CreatedJson),
        (status = 409, description = "Already requested and not done", body = ApiErrorBody)
    )
)]
pub async fn create_requests(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<NewRequestsJson>,
) -> Result<(StatusCode, Json<CreatedJson>), ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let ids = state
        .app
        .create_requests(
            &who,
            id,
            &NewRequestsInput {
                kind: RequestKind::from(input.kind).as_str().into(),
                languages: input.languages,
                episodes: input.episodes,
                due_date: input.due_date,
                edd: input.edd,
                instructions: input.instructions,
            },
            Vec::new(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedJson {
            ids: ids.into_iter().map(|i| i.as_uuid()).collect(),
        }),
    ))
}

/// The CSV of a title's requests, with the same filters as the list.
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/requests.csv", tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "Project id"), RequestFilterParams),
    responses((status = 200, description = "CSV with a header line", content_type = "text/csv"))
)]
pub async fn requests_csv(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<RequestFilterParams>,
) -> Result<Response, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    check_filter(&p.step, &p.readiness)?;
    let body = state
        .app
        .requests_csv(Actor::User(&who.subject), Some(&who), id, &p.filter())
        .await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response())
}

/// One request with its dependencies, files and history. A linguist reaches the requests with
/// a step of theirs (their tasks); a script viewer the as-recorded dub scripts they may read.
#[utoipa::path(
    get, path = "/api/v1/requests/{id}", tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "Request id")),
    responses((status = 200, description = "The request", body = RequestDetailJson))
)]
pub async fn get_request(
    State(state): State<AppState>,
    ApiSignedIn(who): ApiSignedIn,
    Path(id): Path<String>,
) -> Result<Json<RequestDetailJson>, ApiError> {
    let id: RequestId = parse_id(&id)?;
    Ok(Json((&state.app.view_request(&who, id).await?).into()))
}

async fn detail(
    state: &AppState,
    who: &app::auth::Authenticated,
    id: RequestId,
) -> Result<Json<RequestDetailJson>, ApiError> {
    Ok(Json((&state.app.view_request(who, id).await?).into()))
}

/// Who does a step.
#[derive(Deserialize, ToSchema)]
pub struct AssignJson {
    /// The person (`null`: nobody). Author and Proofread: a user of the partner doing the work
    /// with the `author` / `proofreader` role; QC: a studio user with portal access.
    pub user_id: Option<uuid::Uuid>,
    /// The step's own due date (optional).
    #[schema(format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub due_date: Option<String>,
}

fn optional_date(field: &str, s: Option<&str>) -> Result<Option<time::Date>, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_date(field, s).map(Some),
    }
}

/// Gives a step to someone: the partner gives Author and Proofread to its own linguists (who
/// are e-mailed a link to their task), the studio gives QC.
#[utoipa::path(
    put, path = "/api/v1/requests/{id}/steps/{step}/assignee", tag = "requests", request_body = AssignJson,
    params(("id" = uuid::Uuid, Path, description = "Request id"), ("step" = StepJson, Path, description = "The step")),
    responses((status = 200, description = "The request", body = RequestDetailJson), (status = 409, description = "The request is done", body = ApiErrorBody))
)]
pub async fn assign(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, step)): Path<(String, String)>,
    JsonBody(body): JsonBody<AssignJson>,
) -> Result<Json<RequestDetailJson>, ApiError> {
    let id: RequestId = parse_id(&id)?;
    let step: Step = parse_id(&step)?;
    let due = optional_date("due_date", body.due_date.as_deref())?;
    state
        .app
        .assign_step(&who, &[id], step, body.user_id.map(UserId::from), due)
        .await?;
    detail(&state, &who, id).await
}

/// Starts a step (its assignee; QC: the reviewer). Author can start only when the request is
/// ready (409 otherwise, saying what it waits for).
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/steps/{step}/start", tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "Request id"), ("step" = StepJson, Path, description = "The step")),
    responses((status = 200, description = "The request", body = RequestDetailJson), (status = 409, description = "Not this step's turn, or not ready", body = ApiErrorBody))
)]
pub async fn start(
    State(state): State<AppState>,
    ApiSignedIn(who): ApiSignedIn,
    Path((id, step)): Path<(String, String)>,
) -> Result<Json<RequestDetailJson>, ApiError> {
    let id: RequestId = parse_id(&id)?;
    let step: Step = parse_id(&step)?;
    state
        .app
        .transition(&who, id, Transition::Start(step), None, None)
        .await?;
    detail(&state, &who, id).await
}

/// A step's work, as `multipart/form-data`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StepUpload {
    /// One file (.docx .xlsx .pdf .txt .srt .ttml .csv .ttal, at most 100 MB); its content must
    /// match its extension. Each submission is a new version.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Submits a started Author or Proofread step with its file: the request moves on and the next
/// step's assignee is e-mailed.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/steps/{step}/submit", tag = "requests",
    request_body(content((StepUpload = "multipart/form-data"))),
    params(("id" = uuid::Uuid, Path, description = "Request id"), ("step" = StepJson, Path, description = "The step")),
    responses((status = 200, description = "The request", body = RequestDetailJson), (status = 409, description = "Not this step's turn (start it first)", body = ApiErrorBody))
)]
pub async fn submit(
    State(state): State<AppState>,
    ApiSignedIn(who): ApiSignedIn,
    Path((id, step)): Path<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    let id: RequestId = parse_id(&id)?;
    let step: Step = parse_id(&step)?;
    if !is_multipart(req.headers()) {
        return Ok(crate::error::api_error_response(
            crate::error::ErrorCode::UnsupportedMediaType,
            "Send the file as `multipart/form-data` with one `file` field.".into(),
        ));
    }
    let app = state.app.clone();
    let who_for_check = who.clone();
    let mut form = read_form(&state.app, req, Accept::Script, 1, move || {
        let app = app.clone();
        let who = who_for_check.clone();
        async move { app.may_submit(&who, id, step).await }
    })
    .await?;
    state
        .app
        .transition(&who, id, Transition::Submit(step), None, form.files.pop())
        .await?;
    Ok(detail(&state, &who, id).await?.into_response())
}

/// Approves a request in QC (the QC assignee or a studio manager): it is done.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/approve", tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "Request id")),
    responses((status = 200, description = "The request", body = RequestDetailJson), (status = 409, description = "Not in QC", body = ApiErrorBody))
)]
pub async fn approve(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<RequestDetailJson>, ApiError> {
    let id: RequestId = parse_id(&id)?;
    state
        .app
        .transition(&who, id, Transition::Approve, None, None)
        .await?;
    detail(&state, &who, id).await
}

/// Sends a request back to a step.
#[derive(Deserialize, ToSchema)]
pub struct ReturnJson {
    /// `author` or `proofread`.
    pub to: StepJson,
    /// Why (shown to the partner): at least one character that is not a space, no control or
    /// text-direction characters other than tabs and line breaks.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*[^\s\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub reason: String,
}

/// Returns a request in QC (or done) to Author or Proofread with a reason: a retake.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/return", tag = "requests", request_body = ReturnJson,
    params(("id" = uuid::Uuid, Path, description = "Request id")),
    responses((status = 200, description = "The request", body = RequestDetailJson), (status = 409, description = "Not in QC or done", body = ApiErrorBody))
)]
pub async fn return_request(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReturnJson>,
) -> Result<Json<RequestDetailJson>, ApiError> {
    let id: RequestId = parse_id(&id)?;
    state
        .app
        .transition(
            &who,
            id,
            Transition::Return(body.to.into()),
            Some(&body.reason),
            None,
        )
        .await?;
    detail(&state, &who, id).await
}

/// A new estimated delivery date for several requests, with one reason.
#[derive(Deserialize, ToSchema)]
pub struct EddJson {
    /// The requests (of any titles the caller works on).
    #[schema(min_items = 1, max_items = 2000)]
    pub ids: Vec<uuid::Uuid>,
    #[schema(format = Date)]
    pub edd: String,
    /// Why (kept in each request's history and told to the studio).
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*[^\s\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub reason: String,
}

/// How many requests changed.
#[derive(Serialize, ToSchema)]
pub struct ChangedJson {
    pub changed: u32,
}

/// Changes the EDD of requests (the partner doing them), with one reason for all; the history
/// keeps each change and the robot tells the studio in the language's channel.
#[utoipa::path(
    post, path = "/api/v1/requests/edd", tag = "requests", request_body = EddJson,
    responses((status = 200, description = "Changed", body = ChangedJson), (status = 404, description = "A request does not exist or is not visible to the caller (nothing is changed)", body = ApiErrorBody), (status = 409, description = "A request is done", body = ApiErrorBody))
)]
pub async fn change_edd(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    JsonBody(body): JsonBody<EddJson>,
) -> Result<Json<ChangedJson>, ApiError> {
    let date = parse_date("edd", &body.edd)?;
    let ids: Vec<RequestId> = body.ids.into_iter().map(RequestId::from).collect();
    let changed = state.app.change_edd(&who, &ids, date, &body.reason).await?;
    Ok(Json(ChangedJson { changed }))
}

/// A new due date for several requests.
#[derive(Deserialize, ToSchema)]
pub struct DueJson {
    #[schema(min_items = 1, max_items = 2000)]
    pub ids: Vec<uuid::Uuid>,
    #[schema(format = Date)]
    pub due_date: String,
    /// Optional; no control or text-direction characters other than tabs and line breaks.
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub reason: String,
}

/// Changes the due date of requests (studio managers).
#[utoipa::path(
    post, path = "/api/v1/requests/due-date", tag = "requests", request_body = DueJson,
    responses((status = 200, description = "Changed", body = ChangedJson), (status = 404, description = "A request does not exist or is not visible to the caller (nothing is changed)", body = ApiErrorBody))
)]
pub async fn change_due_date(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    JsonBody(body): JsonBody<DueJson>,
) -> Result<Json<ChangedJson>, ApiError> {
    let date = parse_date("due_date", &body.due_date)?;
    let ids: Vec<RequestId> = body.ids.into_iter().map(RequestId::from).collect();
    let changed = state
        .app
        .change_due_date(&who, &ids, date, &body.reason)
        .await?;
    Ok(Json(ChangedJson { changed }))
}

/// A request to wait for.
#[derive(Deserialize, ToSchema)]
pub struct DependencyInputJson {
    /// A request of the same title.
    pub on: uuid::Uuid,
}

/// Adds a dependency (studio managers); one that would make a request wait for itself is 422.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/dependencies", tag = "requests", request_body = DependencyInputJson,
    params(("id" = uuid::Uuid, Path, description = "Request id")),
    responses((status = 200, description = "The request", body = RequestDetailJson), (status = 409, description = "It exists already", body = ApiErrorBody))
)]
pub async fn add_dependency(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DependencyInputJson>,
) -> Result<Json<RequestDetailJson>, ApiError> {
    let id: RequestId = parse_id(&id)?;
    state
        .app
        .add_dependency(&who, id, RequestId::from(body.on))
        .await?;
    detail(&state, &who, id).await
}

/// Why a dependency can be skipped.
#[derive(Deserialize, ToSchema)]
pub struct SkipJson {
    /// Why the work is not needed (kept and shown with the skip).
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*[^\s\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub reason: String,
}

/// Skips a dependency with a reason (studio managers), e.g. work that was never ordered.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/dependencies/{dependency}/skip", tag = "requests", request_body = SkipJson,
    params(("id" = uuid::Uuid, Path, description = "Request id"), ("dependency" = i64, Path, description = "Dependency id")),
    responses((status = 200, description = "The request", body = RequestDetailJson))
)]
pub async fn skip_dependency(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, dep)): Path<(String, String)>,
    JsonBody(body): JsonBody<SkipJson>,
) -> Result<Json<RequestDetailJson>, ApiError> {
    let id: RequestId = parse_id(&id)?;
    let dep: i64 = parse_id(&dep)?;
    state
        .app
        .skip_dependency(&who, id, dep, &body.reason)
        .await?;
    detail(&state, &who, id).await
}

/// Removes a dependency (studio managers).
#[utoipa::path(
    delete, path = "/api/v1/requests/{id}/dependencies/{dependency}", tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "Request id"), ("dependency" = i64, Path, description = "Dependency id")),
    responses((status = 200, description = "The request", body = RequestDetailJson))
)]
pub async fn remove_dependency(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, dep)): Path<(String, String)>,
) -> Result<Json<RequestDetailJson>, ApiError> {
    let id: RequestId = parse_id(&id)?;
    let dep: i64 = parse_id(&dep)?;
    state.app.remove_dependency(&who, id, dep).await?;
    detail(&state, &who, id).await
}

/// A file of a request, if the caller may see it (a linguist: the reference files and the
/// versions up to their step; a script viewer: the approved as-recorded script).
#[utoipa::path(
    get, path = "/api/v1/request-files/{id}", tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "File id"), crate::download::DownloadQuery),
    responses((status = 200, description = "The file, with its own media type", content_type = "*/*"))
)]
pub async fn download_file(
    State(state): State<AppState>,
    ApiSignedIn(who): ApiSignedIn,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<crate::download::DownloadQuery>,
) -> Result<Response, ApiError> {
    let id: RequestFileId = parse_id(&id)?;
    let (f, file) = state.app.open_request_file(&who, id).await?;
    Ok(crate::download::request_file_response(
        &f,
        file,
        q.download.is_some(),
    ))
}

/// Reference files, as `multipart/form-data`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReferenceUpload {
    /// Up to 5 files (.docx .xlsx .pdf .txt .srt .ttml .csv .ttal, at most 100 MB each).
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
}

/// Adds reference files to a request (studio managers).
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/files", tag = "requests",
    request_body(content((ReferenceUpload = "multipart/form-data"))),
    params(("id" = uuid::Uuid, Path, description = "Request id")),
    responses((status = 200, description = "The request", body = RequestDetailJson))
)]
pub async fn add_files(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let id: RequestId = parse_id(&id)?;
    if !is_multipart(req.headers()) {
        return Ok(crate::error::api_error_response(
            crate::error::ErrorCode::UnsupportedMediaType,
            "Send the files as `multipart/form-data` with `file` fields.".into(),
        ));
    }
    let app = state.app.clone();
    let who_for_check = who.clone();
    let form = read_form(
        &state.app,
        req,
        Accept::Script,
        MAX_REFERENCE_FILES,
        move || {
            let app = app.clone();
            let who = who_for_check.clone();
            async move { app.may_manage(&who, id).await }
        },
    )
    .await?;
    state.app.add_reference_files(&who, id, form.files).await?;
    Ok(detail(&state, &who, id).await?.into_response())
}

/// A step assigned to the caller.
#[derive(Serialize, ToSchema)]
pub struct TaskJson {
    pub request: RequestJson,
    pub step: StepJson,
    #[schema(format = Date)]
    pub due_date: String,
    /// It is this step's turn.
    pub current: bool,
    /// Where the task opens in the portal.
    pub url: String,
}

impl From<&TaskRow> for TaskJson {
    fn from(t: &TaskRow) -> Self {
        Self {
            request: (&t.row).into(),
            step: t.step.into(),
            due_date: t.due.to_string(),
            current: t.current,
            url: format!("/tasks/{}", t.row.record.id),
        }
    }
}

/// My tasks: the steps assigned to the caller (works without portal access: linguists).
#[utoipa::path(
    get, path = "/api/v1/tasks", tag = "requests",
    responses((status = 200, description = "The caller's tasks, current first, by due date", body = Vec<TaskJson>))
)]
pub async fn tasks(
    State(state): State<AppState>,
    ApiSignedIn(who): ApiSignedIn,
) -> Result<Json<Vec<TaskJson>>, ApiError> {
    Ok(Json(
        state
            .app
            .my_tasks(&who)
            .await?
            .iter()
            .map(Into::into)
            .collect(),
    ))
}

/// A member of a title.
#[derive(Serialize, ToSchema)]
pub struct MemberJson {
    pub user_id: uuid::Uuid,
    pub name: String,
    pub organisation: String,
    pub follower: bool,
    pub script_viewer: bool,
}

/// Who follows a title and who reads its scripts (a partner sees its own people and the
/// studio's only).
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/members", tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 200, description = "The members", body = Vec<MemberJson>))
)]
pub async fn members(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<MemberJson>>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let m = state.app.project_members(&who, id).await?;
    Ok(Json(
        m.members
            .iter()
            .map(|x| MemberJson {
                user_id: x.id.as_uuid(),
                name: x.name.clone(),
                organisation: x.organisation.clone(),
                follower: x.follower,
                script_viewer: x.script_viewer,
            })
            .collect(),
    ))
}

/// Makes a partner user a script viewer of the title (their partner's PM, or a studio manager).
#[utoipa::path(
    put, path = "/api/v1/projects/{id}/script-viewers/{user}", tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "Project id"), ("user" = uuid::Uuid, Path, description = "User id")),
    responses((status = 204, description = "Done"))
)]
pub async fn add_script_viewer(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let user: UserId = parse_id(&user)?;
    state.app.set_script_viewer(&who, id, user, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends a script viewer's access to the title.
#[utoipa::path(
    delete, path = "/api/v1/projects/{id}/script-viewers/{user}", tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "Project id"), ("user" = uuid::Uuid, Path, description = "User id")),
    responses((status = 204, description = "Done"))
)]
pub async fn remove_script_viewer(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let user: UserId = parse_id(&user)?;
    state.app.set_script_viewer(&who, id, user, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
