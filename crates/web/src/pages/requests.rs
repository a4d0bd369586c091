//! Requests pages: a project's Requests table (filters, bulk actions, CSV, ordering), one
//! request (steps, workflow actions, dates, dependencies, files, history), My tasks (the page a
//! linguist lands on) and a project's Members.

use crate::AppState;
use crate::auth::{PortalUser, SignedIn};
use crate::error::PageError;
use crate::pages::{Layout, parse_id};
use crate::uploads::{MAX_REFERENCE_FILES, ReceivedForm, is_multipart, read_form};
use app::requests::{
    Candidate, MembersPage, NewRequestsInput, RequestDetail, RequestFilter, RequestsPage, TaskRow,
    parse_date,
};
use app::{AppError, FieldErrors};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use domain::attachments::Accept;
use domain::requests::{RequestKind, Step, Transition};
use domain::{Actor, ProjectId, RequestFileId, RequestId, UserId};
use serde::Deserialize;
use store::FileSlot;

/// The order form as typed (kept so a refused form comes back as it was).
#[derive(Clone, Debug, Default)]
pub struct OrderForm {
    kind: String,
    languages: Vec<String>,
    episodes: String,
    due_date: String,
    edd: String,
    instructions: String,
}

impl OrderForm {
    fn has_language(&self, l: &str) -> bool {
        self.languages.iter().any(|x| x == l)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "requests.html")]
struct RequestsTemplate {
    layout: Layout,
    page: RequestsPage,
    filter: FilterView,
    query: String,
    kinds: Vec<(String, String)>,
    order: OrderForm,
    errors: FieldErrors,
    is_studio: bool,
    open_order: bool,
}

/// The filter as typed, for re-showing it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FilterView {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    episode: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    readiness: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    saved: String,
}

impl FilterView {
    fn filter(&self) -> RequestFilter {
        let opt = |s: &String| (!s.trim().is_empty()).then(|| s.trim().to_string());
        RequestFilter {
            kind: opt(&self.kind),
            language: opt(&self.language),
            episode: opt(&self.episode),
            step: opt(&self.step),
            readiness: opt(&self.readiness),
            assignee: opt(&self.assignee),
            overdue: (!self.overdue.is_empty()).then_some(true),
            sort: opt(&self.sort),
        }
    }

    /// The link of a column header: sorts by `key`, or the other way round when it already does.
    fn sort_link(&self, key: &str) -> String {
        let next = if self.sort == key {
            format!("-{key}")
        } else {
            key.to_string()
        };
        let base = self.query_without_sort();
        if base.is_empty() {
            format!("?sort={next}")
        } else {
            format!("?{base}&sort={next}")
        }
    }

    /// `aria-sort` of a column header.
    fn aria_sort(&self, key: &str) -> &'static str {
        if self.sort == key {
            "ascending"
        } else if self.sort.strip_prefix('-') == Some(key) {
            "descending"
        } else {
            "none"
        }
    }

    fn query(&self) -> String {
        let base = self.query_without_sort();
        match (base.is_empty(), self.sort.is_empty()) {
            (_, true) => base,
            (true, false) => format!("sort={}", urlencode(&self.sort)),
            (false, false) => format!("{base}&sort={}", urlencode(&self.sort)),
        }
    }

    fn query_without_sort(&self) -> String {
        let pairs = [
            ("kind", &self.kind),
            ("language", &self.language),
            ("episode", &self.episode),
            ("step", &self.step),
            ("readiness", &self.readiness),
            ("assignee", &self.assignee),
            ("overdue", &self.overdue),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn flash(&self) -> Option<String> {
        match self.saved.as_str() {
            "created" => Some("Requests created. The partners were told in their channels.".into()),
            "assigned" => Some("Assignments saved.".into()),
            "edd" => Some("Estimated delivery dates changed.".into()),
            "due" => Some("Due dates changed.".into()),
            _ => None,
        }
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn kinds() -> Vec<(String, String)> {
    RequestKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn render_requests(
    state: &AppState,
    who: &app::auth::Authenticated,
    auth: &crate::auth::RequestAuth,
    id: ProjectId,
    filter: FilterView,
    order: OrderForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let page = state
        .app
        .project_requests(who, id, &filter.filter())
        .await?;
    let layout =
        Layout::new(format!("Requests · {}", page.project.name), auth).with_flash(filter.flash());
    let open_order = !errors.is_empty();
    let query = filter.query();
    Ok((
        status,
        RequestsTemplate {
            layout,
            page,
            query,
            filter,
            kinds: kinds(),
            order,
            errors,
            is_studio: who.subject.is_studio(),
            open_order,
        },
    )
        .into_response())
}

/// `GET /projects/{id}/requests`
pub async fn list(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Query(filter): Query<FilterView>,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    render_requests(
        &state,
        &who,
        &auth,
        id,
        filter,
        OrderForm::default(),
        FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

/// `GET /projects/{id}/requests.csv`: what the page shows with the same filter.
pub async fn csv(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
    Query(filter): Query<FilterView>,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(id.trim_end_matches(".csv"))?;
    let body = state
        .app
        .requests_csv(Actor::User(&who.subject), Some(&who), id, &filter.filter())
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"requests-{id}.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Reads a form that may be multipart (with files) or URL-encoded; `may_upload` is asked
/// before the first byte of a file is written.
async fn read_any_form<F, Fut>(
    state: &AppState,
    req: Request,
    max_files: usize,
    may_upload: F,
) -> Result<ReceivedForm, AppError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    if is_multipart(req.headers()) {
        read_form(&state.app, req, Accept::Script, max_files, may_upload).await
    } else {
        crate::uploads::read_urlencoded(req).await
    }
}

/// `POST /projects/{id}/requests`: order requests (one, or one per episode × language).
pub async fn create(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let form = read_any_form(&state, req, MAX_REFERENCE_FILES, || {
        state.app.may_order(&who, id)
    })
    .await?;
    let order = OrderForm {
        kind: form.field("kind").unwrap_or_default().to_string(),
        languages: form.all("languages"),
        episodes: form.field("episodes").unwrap_or_default().to_string(),
        due_date: form.field("due_date").unwrap_or_default().to_string(),
        edd: form.field("edd").unwrap_or_default().to_string(),
        instructions: form.field("instructions").unwrap_or_default().to_string(),
    };
    let input = NewRequestsInput {
        kind: order.kind.clone(),
        languages: order.languages.clone(),
        episodes: order.episodes.clone(),
        due_date: order.due_date.clone(),
        edd: Some(order.edd.clone()),
        instructions: order.instructions.clone(),
    };
    match state
        .app
        .create_requests(&who, id, &input, form.files)
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/projects/{id}/requests?saved=created")).into_response())
        }
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            render_requests(
                &state,
                &who,
                &auth,
                id,
                FilterView::default(),
                order,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

fn ids_of(form: &ReceivedForm) -> Vec<RequestId> {
    form.all("ids")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// `POST /projects/{id}/requests/bulk`: assign a step, or move the EDD or due date, of the
/// checked requests.
pub async fn bulk(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let form = read_any_form(&state, req, 0, || async { Ok(()) }).await?;
    // Only this title's requests, as its page lists them for this viewer.
    let listed: std::collections::BTreeSet<RequestId> = state
        .app
        .project_requests(&who, id, &RequestFilter::default())
        .await?
        .rows
        .iter()
        .map(|r| r.record.id)
        .collect();
    let ids: Vec<RequestId> = ids_of(&form)
        .into_iter()
        .filter(|r| listed.contains(r))
        .collect();
    let action = form.field("action").unwrap_or_default().to_string();
    let outcome = bulk_action(&state, &who, &form, &action, &ids).await;
    match outcome {
        Ok(saved) => {
            Ok(Redirect::to(&format!("/projects/{id}/requests?saved={saved}")).into_response())
        }
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            render_requests(
                &state,
                &who,
                &auth,
                id,
                FilterView::default(),
                OrderForm::default(),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn bulk_action(
    state: &AppState,
    who: &app::auth::Authenticated,
    form: &ReceivedForm,
    action: &str,
    ids: &[RequestId],
) -> Result<&'static str, AppError> {
    if ids.is_empty() {
        return Err(AppError::invalid(
            "requests",
            "tick the requests to change first",
        ));
    }
    match action {
        "assign" => {
            let (step, user) = parse_assignee(form.field("assignee").unwrap_or_default())?;
            let due = optional_date("step_due", form.field("step_due"))?;
            state.app.assign_step(who, ids, step, user, due).await?;
            Ok("assigned")
        }
        "edd" => {
            let date = parse_date("edd", form.field("edd").unwrap_or_default())?;
            state
                .app
                .change_edd(who, ids, date, form.field("edd_reason").unwrap_or_default())
                .await?;
            Ok("edd")
        }
        "due" => {
            let date = parse_date("due_date", form.field("due_date").unwrap_or_default())?;
            state
                .app
                .change_due_date(who, ids, date, form.field("due_reason").unwrap_or_default())
                .await?;
            Ok("due")
        }
        _ => Err(AppError::invalid(
            "action",
            "choose what to do with the ticked requests",
        )),
    }
}

/// `author:<user id>`, `proofread:none`, …
fn parse_assignee(s: &str) -> Result<(Step, Option<UserId>), AppError> {
    let bad = || AppError::invalid("assignee", "choose a person from the list");
    let (step, user) = s.split_once(':').ok_or_else(bad)?;
    let step: Step = step.parse().map_err(|_| bad())?;
    let user = match user {
        "none" => None,
        u => Some(u.parse().map_err(|_| bad())?),
    };
    Ok((step, user))
}

fn optional_date(field: &str, s: Option<&str>) -> Result<Option<time::Date>, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_date(field, s).map(Some),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "request.html")]
struct RequestTemplate {
    layout: Layout,
    d: RequestDetail,
    error: Option<String>,
    steps: Vec<StepView>,
    today: String,
}

impl RequestTemplate {
    fn human_size(&self, n: &u64) -> String {
        domain::attachments::human_size(*n)
    }

    /// RFC 3339, which the page script turns into the viewer's local time.
    fn ts(&self, t: &time::OffsetDateTime) -> String {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
}

/// One step as the request page shows it.
struct StepView {
    step: Step,
    assignee: String,
    status: &'static str,
    due: String,
    candidates: Vec<Candidate>,
    may_assign: bool,
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    saved: String,
}

async fn render_detail(
    state: &AppState,
    who: &app::auth::Authenticated,
    auth: &crate::auth::RequestAuth,
    id: RequestId,
    error: Option<String>,
    saved: &str,
) -> Result<Response, PageError> {
    let d = state.app.view_request(who, id).await?;
    let r = &d.row.record;
    let steps = Step::ALL
        .into_iter()
        .map(|s| StepView {
            step: s,
            assignee: d.row.assignees[s.index()]
                .clone()
                .unwrap_or_else(|| "—".into()),
            status: r.state.step_status(s).label(),
            due: r.step_due(s).to_string(),
            candidates: d
                .candidates
                .iter()
                .filter(|c| c.step == s)
                .cloned()
                .collect(),
            may_assign: if s == Step::Qc {
                d.row.can.assign_qc
            } else {
                d.row.can.assign_linguists
            },
        })
        .collect();
    let flash = match saved {
        "" => None,
        "started" => Some("Step started.".to_string()),
        "submitted" => Some("Submitted. The next step's assignee was told.".to_string()),
        "approved" => Some("Approved: the request is done.".to_string()),
        "returned" => Some("Returned with your reason.".to_string()),
        _ => Some("Saved.".to_string()),
    };
    let layout = Layout::new(d.row.title(), auth).with_flash(flash);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let today = state.app.now().date().to_string();
    Ok((
        status,
        RequestTemplate {
            layout,
            d,
            error,
            steps,
            today,
        },
    )
        .into_response())
}

/// `GET /requests/{id}` (and `/tasks/{id}`, the link in task e-mails): for linguists, the task.
pub async fn show(
    State(state): State<AppState>,
    SignedIn(who, auth): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, PageError> {
    let id: RequestId = parse_id(&id)?;
    render_detail(&state, &who, &auth, id, None, &q.saved).await
}

/// `POST /requests/{id}/{action}`: every change made from the request page. Linguists use
/// it too (start, submit), so it needs only a sign-in; the use cases decide.
pub async fn act(
    State(state): State<AppState>,
    SignedIn(who, auth): SignedIn,
    Path((id, action)): Path<(String, String)>,
    req: Request,
) -> Result<Response, PageError> {
    let id: RequestId = parse_id(&id)?;
    // Only a step's assignee sends a file (submit); nothing else takes one. The step is a field
    // of the same form, read after the file check, so any step of theirs will do here; the
    // transition then decides on the step named.
    let (app, who2) = (state.app.clone(), who.clone());
    let submit = action == "submit";
    let check = move || {
        let (app, who2) = (app.clone(), who2.clone());
        async move {
            if submit {
                app.may_submit_any(&who2, id).await
            } else {
                Err(AppError::invalid("file", "this form takes no file"))
            }
        }
    };
    let form = match read_any_form(&state, req, 1, check).await {
        Ok(f) => f,
        Err(e @ (AppError::Invalid(_) | AppError::TooLarge(_))) => {
            let text = message_of(&e);
            return render_detail(&state, &who, &auth, id, Some(text), "").await;
        }
        Err(e) => return Err(e.into()),
    };
    let outcome = run_action(&state, &who, id, &action, form).await;
    match outcome {
        Ok(saved) => Ok(Redirect::to(&format!("/requests/{id}?saved={saved}")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            render_detail(&state, &who, &auth, id, Some(message_of(&e)), "").await
        }
        Err(e) => Err(e.into()),
    }
}

fn message_of(e: &AppError) -> String {
    match e.field_errors() {
        Some(f) => f.text(),
        None => e.to_string(),
    }
}

async fn run_action(
    state: &AppState,
    who: &app::auth::Authenticated,
    id: RequestId,
    action: &str,
    mut form: ReceivedForm,
) -> Result<&'static str, AppError> {
    let step = || -> Result<Step, AppError> {
        form.field("step")
            .unwrap_or_default()
            .parse()
            .map_err(|_| AppError::invalid("step", "which step?"))
    };
    let app = &state.app;
    match action {
        "start" => {
            app.transition(who, id, Transition::Start(step()?), None, None)
                .await?;
            Ok("started")
        }
        "submit" => {
            let s = step()?;
            let file = form.files.pop();
            app.transition(who, id, Transition::Submit(s), None, file)
                .await?;
            Ok("submitted")
        }
        "approve" => {
            app.transition(who, id, Transition::Approve, None, None)
                .await?;
            Ok("approved")
        }
        "return" => {
            let to: Step = form
                .field("to")
                .unwrap_or_default()
                .parse()
                .map_err(|_| AppError::invalid("to", "return it to Author or Proofread"))?;
            app.transition(who, id, Transition::Return(to), form.field("reason"), None)
                .await?;
            Ok("returned")
        }
        "assign" => {
            let (step, user) = parse_assignee(form.field("assignee").unwrap_or_default())?;
            let due = optional_date("step_due", form.field("step_due"))?;
            app.assign_step(who, &[id], step, user, due).await?;
            Ok("assigned")
        }
        "edd" => {
            let date = parse_date("edd", form.field("edd").unwrap_or_default())?;
            app.change_edd(who, &[id], date, form.field("reason").unwrap_or_default())
                .await?;
            Ok("edd")
        }
        "due" => {
            let date = parse_date("due_date", form.field("due_date").unwrap_or_default())?;
            app.change_due_date(who, &[id], date, form.field("reason").unwrap_or_default())
                .await?;
            Ok("due")
        }
        "skip" => {
            let dep: i64 = form
                .field("dependency")
                .unwrap_or_default()
                .parse()
                .map_err(|_| AppError::NotFound)?;
            app.skip_dependency(who, id, dep, form.field("reason").unwrap_or_default())
                .await?;
            Ok("skipped")
        }
        "depend" => {
            let on: RequestId = form
                .field("on")
                .unwrap_or_default()
                .parse()
                .map_err(|_| AppError::invalid("on", "choose a request"))?;
            app.add_dependency(who, id, on).await?;
            Ok("dependency")
        }
        "undepend" => {
            let dep: i64 = form
                .field("dependency")
                .unwrap_or_default()
                .parse()
                .map_err(|_| AppError::NotFound)?;
            app.remove_dependency(who, id, dep).await?;
            Ok("dependency")
        }
        _ => Err(AppError::NotFound),
    }
}

/// `GET /request-files/{id}`
pub async fn file(
    State(state): State<AppState>,
    SignedIn(who, _): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<crate::download::DownloadQuery>,
) -> Result<Response, PageError> {
    let id: RequestFileId = parse_id(&id)?;
    let (f, file) = state.app.open_request_file(&who, id).await?;
    Ok(crate::download::request_file_response(
        &f,
        file,
        q.download.is_some(),
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks.html")]
struct TasksTemplate {
    layout: Layout,
    tasks: Vec<TaskRow>,
    scripts: Vec<app::requests::RequestRow>,
}

/// "My tasks": the steps assigned to the signed-in person (linguists included), and for a
/// script viewer the scripts they may read.
pub async fn tasks(
    State(state): State<AppState>,
    SignedIn(who, auth): SignedIn,
) -> Result<Response, PageError> {
    let tasks = state.app.my_tasks(&who).await?;
    let scripts = state.app.my_scripts(&who).await?;
    Ok(TasksTemplate {
        layout: Layout::new("My tasks", &auth),
        tasks,
        scripts,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "members.html")]
struct MembersTemplate {
    layout: Layout,
    m: MembersPage,
    error: Option<String>,
}

/// `GET /projects/{id}/members`
pub async fn members(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let m = state.app.project_members(&who, id).await?;
    let flash = (!q.saved.is_empty()).then(|| "Members saved.".to_string());
    Ok(MembersTemplate {
        layout: Layout::new(format!("Members · {}", m.project.name), &auth).with_flash(flash),
        m,
        error: None,
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    on: String,
}

/// `POST /projects/{id}/members`: add or remove a script viewer.
pub async fn set_member(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Form(form): Form<MemberForm>,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let user: Result<UserId, _> = form.user.parse();
    let outcome = match user {
        Ok(u) => {
            state
                .app
                .set_script_viewer(&who, id, u, form.on == "1")
                .await
        }
        Err(_) => Err(AppError::invalid("user", "choose a person from the list")),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/projects/{id}/members?saved=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let m = state.app.project_members(&who, id).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                MembersTemplate {
                    layout: Layout::new(format!("Members · {}", m.project.name), &auth),
                    m,
                    error: Some(message_of(&e)),
                },
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}
