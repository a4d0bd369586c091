//! My Projects, the title finder, the project page and the project form.

use crate::AppState;
use crate::auth::PortalUser;
use crate::error::PageError;
use crate::pages::{Layout, parse_id, safe_next};
use app::projects::{
    AssignmentInput, ProjectInput, ProjectRow, episode_lines, parse_episode_lines,
};
use app::{AppError, FieldErrors};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use domain::{Action, Actor, OrgId, Project, ProjectId, Resource, Service, authorize};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "my_projects.html")]
struct MyProjectsPage {
    layout: Layout,
    rows: Vec<MyProjectRow>,
    can_create: bool,
}

/// A My Projects row: the project, its unread count and the link to the first unread message.
pub struct MyProjectRow {
    p: ProjectRow,
    unread: u32,
    first_unread: String,
    /// Open requests the viewer may see, and the earliest due date among them.
    open_requests: u32,
    next_due: String,
}

pub async fn my_projects(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
) -> Result<impl IntoResponse, PageError> {
    let rows = state
        .app
        .my_projects_overview(&who)
        .await?
        .into_iter()
        .map(|m| {
            let first_unread = match m.first_unread {
                Some((channel, seq)) => format!("/channels/{channel}#m{seq}"),
                None => format!("/projects/{}/channels", m.row.id),
            };
            MyProjectRow {
                p: m.row,
                unread: m.unread,
                first_unread,
                open_requests: m.open.open,
                next_due: m.open.next_due.map(|d| d.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    Ok(MyProjectsPage {
        layout: Layout::new("My Projects", &auth),
        rows,
        can_create: authorize(Some(&who.subject), Action::CreateProject, Resource::Portal)
            .is_allowed(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "find.html")]
struct FindPage {
    layout: Layout,
    rows: Vec<ProjectRow>,
}

#[derive(Deserialize)]
pub struct FindQuery {
    #[serde(default)]
    q: String,
}

pub async fn find(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Query(query): Query<FindQuery>,
) -> Result<impl IntoResponse, PageError> {
    let q = query.q.trim().to_string();
    let rows = if q.is_empty() {
        vec![]
    } else {
        state.app.find_projects(&who, &q, None, 50).await?.items
    };
    let mut layout = Layout::new(format!("Find “{q}”"), &auth);
    layout.q = q;
    Ok(FindPage { layout, rows })
}

/// One row of the languages-and-partners table.
struct LanguageRow {
    tag: String,
    name: String,
    service: String,
    partner: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "project.html")]
struct ProjectPage {
    layout: Layout,
    p: Project,
    languages: Vec<LanguageRow>,
    following: bool,
    /// The viewer muted e-mail about this project.
    muted: bool,
    can_edit: bool,
}

pub async fn show(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Query(flash): Query<FlashQuery>,
) -> Result<impl IntoResponse, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let view = state.app.view_project(&who, id).await?;
    let mut languages = Vec::new();
    for lang in &view.project.target_languages {
        let mine: Vec<_> = view
            .project
            .assignments
            .iter()
            .filter(|a| &a.language == lang)
            .collect();
        if mine.is_empty() {
            languages.push(LanguageRow {
                tag: lang.to_string(),
                name: lang.display_name(),
                service: "—".into(),
                partner: "not assigned".into(),
            });
        }
        for a in mine {
            languages.push(LanguageRow {
                tag: lang.to_string(),
                name: lang.display_name(),
                service: a.service.label().into(),
                partner: view.org_names.get(&a.org_id).cloned().unwrap_or_default(),
            });
        }
    }
    let layout = Layout::new(view.project.name.to_string(), &auth).with_flash(flash.message());
    let muted = state.app.is_project_muted(&who, id).await?;
    Ok(ProjectPage {
        layout,
        languages,
        muted,
        following: view.following,
        can_edit: view.can_edit,
        p: view.project,
    })
}

#[derive(Deserialize, Default)]
pub struct FlashQuery {
    #[serde(default)]
    saved: Option<String>,
}

impl FlashQuery {
    fn message(&self) -> Option<String> {
        match self.saved.as_deref() {
            Some("created") => Some("Project created.".into()),
            Some("updated") => Some("Changes saved.".into()),
            _ => None,
        }
    }
}

/// The project form's fields as typed (kept verbatim so a refused form comes back as it was).
#[derive(Deserialize, Default)]
pub struct ProjectFormData {
    #[serde(default)]
    movie_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    original_language: String,
    #[serde(default)]
    target_languages: String,
    #[serde(default)]
    episodes: String,
    #[serde(default)]
    a_language: Vec<String>,
    #[serde(default)]
    a_service: Vec<String>,
    #[serde(default)]
    a_org: Vec<String>,
}

pub struct AssignmentRowView {
    language: String,
    service: String,
    org: String,
}

pub struct ProjectFormView {
    movie_id: String,
    name: String,
    kind: String,
    original_language: String,
    target_languages: String,
    episodes: String,
    rows: Vec<AssignmentRowView>,
}

const BLANK_ROWS: usize = 4;

impl ProjectFormView {
    fn from_data(d: &ProjectFormData) -> Self {
        let n = d.a_language.len().max(d.a_service.len()).max(d.a_org.len());
        let get = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_default();
        let mut rows: Vec<AssignmentRowView> = (0..n)
            .map(|i| AssignmentRowView {
                language: get(&d.a_language, i),
                service: get(&d.a_service, i),
                org: get(&d.a_org, i),
            })
            .filter(|r| !(r.language.is_empty() && r.service.is_empty() && r.org.is_empty()))
            .collect();
        rows.extend((0..BLANK_ROWS).map(|_| AssignmentRowView {
            language: String::new(),
            service: String::new(),
            org: String::new(),
        }));
        Self {
            movie_id: d.movie_id.clone(),
            name: d.name.clone(),
            kind: d.kind.clone(),
            original_language: d.original_language.clone(),
            target_languages: d.target_languages.clone(),
            episodes: d.episodes.clone(),
            rows,
        }
    }

    fn from_project(p: &Project) -> Self {
        let mut rows: Vec<AssignmentRowView> = p
            .assignments
            .iter()
            .map(|a| AssignmentRowView {
                language: a.language.to_string(),
                service: a.service.as_str().to_string(),
                org: a.org_id.to_string(),
            })
            .collect();
        rows.extend((0..BLANK_ROWS).map(|_| AssignmentRowView {
            language: String::new(),
            service: String::new(),
            org: String::new(),
        }));
        Self {
            movie_id: p.movie_id.to_string(),
            name: p.name.to_string(),
            kind: p.kind.as_str().to_string(),
            original_language: p.original_language.to_string(),
            target_languages: p
                .target_languages
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            episodes: episode_lines(&p.seasons),
            rows,
        }
    }
}

/// Turns the form into use-case input; problems the form itself can see are returned as
/// field errors alongside whatever was parsed.
fn to_input(d: &ProjectFormData) -> Result<ProjectInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let seasons = match parse_episode_lines(&d.episodes) {
        Ok(s) => s,
        Err(e) => {
            errors.add("seasons", e);
            vec![]
        }
    };
    let n = d.a_language.len().max(d.a_service.len()).max(d.a_org.len());
    let mut assignments = Vec::new();
    for i in 0..n {
        let language = d.a_language.get(i).map(|s| s.trim()).unwrap_or_default();
        let service = d.a_service.get(i).map(|s| s.trim()).unwrap_or_default();
        let org = d.a_org.get(i).map(|s| s.trim()).unwrap_or_default();
        if language.is_empty() && service.is_empty() && org.is_empty() {
            continue;
        }
        if language.is_empty() || service.is_empty() || org.is_empty() {
            errors.add(
                "assignments",
                format!(
                    "row {}: choose a language, a service and a partner (or clear the row)",
                    i + 1
                ),
            );
            continue;
        }
        match org.parse::<OrgId>() {
            Ok(org_id) => assignments.push(AssignmentInput {
                language: language.to_string(),
                service: service.to_string(),
                org_id,
            }),
            Err(_) => errors.add(
                "assignments",
                format!("row {}: choose a partner from the list", i + 1),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ProjectInput {
        movie_id: d.movie_id.clone(),
        name: d.name.clone(),
        kind: if d.kind.is_empty() {
            "film".into()
        } else {
            d.kind.clone()
        },
        original_language: d.original_language.clone(),
        target_languages: vec![d.target_languages.clone()],
        seasons,
        assignments,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "project_form.html")]
struct ProjectFormPage {
    layout: Layout,
    project_id: Option<ProjectId>,
    f: ProjectFormView,
    errors: FieldErrors,
    services: Vec<(&'static str, &'static str)>,
    partners: Vec<(String, String)>,
}

async fn form_page(
    state: &AppState,
    who: &app::auth::Authenticated,
    auth: &crate::auth::RequestAuth,
    project_id: Option<ProjectId>,
    f: ProjectFormView,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let partners = state
        .app
        .assignable_partners(who)
        .await?
        .into_iter()
        .map(|o| (o.id.to_string(), o.name.to_string()))
        .collect();
    let title = if project_id.is_some() {
        "Edit project"
    } else {
        "New project"
    };
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        ProjectFormPage {
            layout: Layout::new(title, auth),
            project_id,
            f,
            errors,
            services: Service::ALL
                .iter()
                .map(|s| (s.as_str(), s.label()))
                .collect(),
            partners,
        },
    )
        .into_response())
}

pub async fn new_form(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
) -> Result<Response, PageError> {
    let f = ProjectFormView::from_data(&ProjectFormData {
        kind: "film".into(),
        ..Default::default()
    });
    form_page(&state, &who, &auth, None, f, FieldErrors::new()).await
}

pub async fn create(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Form(data): Form<ProjectFormData>,
) -> Result<Response, PageError> {
    let result = match to_input(&data) {
        Ok(input) => {
            state
                .app
                .create_project(Actor::User(&who.subject), &input)
                .await
        }
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match result {
        Ok(p) => Ok(Redirect::to(&format!("/projects/{}?saved=created", p.id)).into_response()),
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            form_page(
                &state,
                &who,
                &auth,
                None,
                ProjectFormView::from_data(&data),
                errors,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let p = state.app.project_for_edit(&who, id).await?;
    form_page(
        &state,
        &who,
        &auth,
        Some(id),
        ProjectFormView::from_project(&p),
        FieldErrors::new(),
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Form(data): Form<ProjectFormData>,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let result = match to_input(&data) {
        Ok(input) => {
            state
                .app
                .update_project(Actor::User(&who.subject), id, &input)
                .await
        }
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match result {
        Ok(p) => Ok(Redirect::to(&format!("/projects/{}?saved=updated", p.id)).into_response()),
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            form_page(
                &state,
                &who,
                &auth,
                Some(id),
                ProjectFormView::from_data(&data),
                errors,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct BackForm {
    #[serde(default)]
    back: String,
}

async fn set_follow(
    state: AppState,
    who: &app::auth::Authenticated,
    id: &str,
    back: &str,
    follow: bool,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(id)?;
    state.app.follow(who, id, follow).await?;
    let back = if back.is_empty() {
        format!("/projects/{id}")
    } else {
        safe_next(back)
    };
    Ok(Redirect::to(&back).into_response())
}

pub async fn follow(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
    Form(f): Form<BackForm>,
) -> Result<Response, PageError> {
    set_follow(state, &who, &id, &f.back, true).await
}

pub async fn unfollow(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
    Form(f): Form<BackForm>,
) -> Result<Response, PageError> {
    set_follow(state, &who, &id, &f.back, false).await
}
