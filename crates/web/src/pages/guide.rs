//! The Show Guide page (characters, key names and translations, reference files, versions, what
//! changed since the last visit) and the Casting page (characters × languages, and opening an
//! audition). Their forms post to `/projects/{id}/guide/{action}`.

use crate::AppState;
use crate::auth::{PortalUser, RequestAuth};
use crate::error::PageError;
use crate::pages::{Layout, parse_id};
use crate::uploads::{is_multipart, read_form};
use app::casting::CastingMatrix;
use app::guide::{CharacterInput, GuideView, KeyNameInput};
use app::{AppError, FieldErrors};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::attachments::Accept;
use domain::fulfilment::FulfilmentState;
use domain::guide::{CharacterKind, KeyCategory};
use domain::{GuideItemId, LanguageTag, ProjectId};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "guide.html")]
struct GuideTemplate {
    layout: Layout,
    g: GuideView,
    error: Option<String>,
    character_kinds: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
}

impl GuideTemplate {
    fn may_propose_in(&self, l: &LanguageTag) -> bool {
        self.g.may_propose.contains(l)
    }

    fn kind_label(&self, kind: &str) -> &'static str {
        CharacterKind::parse(kind).map_or("", CharacterKind::label)
    }

    /// RFC 3339, which the page script turns into the viewer's local time.
    fn ts(&self, t: &time::OffsetDateTime) -> String {
        crate::api::ts(*t)
    }

    fn category_label(&self, c: &str) -> &'static str {
        KeyCategory::parse(c).map_or("", KeyCategory::label)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "casting.html")]
struct CastingTemplate {
    layout: Layout,
    m: CastingMatrix,
    project_id: ProjectId,
    error: Option<String>,
}

impl CastingTemplate {
    fn cell(&self, c: &GuideItemId, l: &LanguageTag) -> Option<&app::casting::CastingCell> {
        self.m.cells.get(&(*c, l.clone()))
    }

    fn state_label(&self, s: &FulfilmentState) -> &'static str {
        match s {
            FulfilmentState::Open => "Open",
            FulfilmentState::Submitted => "Samples in",
            FulfilmentState::Approved => "Approved",
            FulfilmentState::Cast => "Cast",
            FulfilmentState::ChangesRequested => "Changes requested",
        }
    }
}

#[derive(Deserialize, Default)]
pub struct GuideQuery {
    #[serde(default)]
    language: String,
    #[serde(default)]
    saved: String,
}

#[allow(clippy::too_many_arguments)]
async fn render_guide(
    state: &AppState,
    who: &app::auth::Authenticated,
    auth: &RequestAuth,
    id: ProjectId,
    language: Option<&str>,
    error: Option<String>,
    status: StatusCode,
    flash: Option<String>,
) -> Result<Response, PageError> {
    let g = state.app.view_guide(who, id, language).await?;
    let mut layout = Layout::new(format!("{} · Show Guide", g.project.name), auth);
    layout.flash = flash;
    Ok((
        status,
        GuideTemplate {
            layout,
            g,
            error,
            character_kinds: CharacterKind::ALL
                .iter()
                .map(|k| (k.as_str(), k.label()))
                .collect(),
            categories: KeyCategory::ALL
                .iter()
                .map(|k| (k.as_str(), k.label()))
                .collect(),
        },
    )
        .into_response())
}

/// `GET /projects/{id}/guide`.
pub async fn show(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Query(q): Query<GuideQuery>,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let flash = match q.saved.as_str() {
        "" => None,
        "published" => Some("Published: the robot announced it in Broadcast.".to_string()),
        _ => Some("Saved: a new version of the Show Guide.".to_string()),
    };
    let language = (!q.language.is_empty()).then_some(q.language.as_str());
    render_guide(
        &state,
        &who,
        &auth,
        id,
        language,
        None,
        StatusCode::OK,
        flash,
    )
    .await
}

/// `GET /projects/{id}/guide.csv`.
pub async fn csv(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let body = state.app.guide_csv(&who, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"show-guide.csv\"".to_string(),
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /guide-files/{id}`: a pronunciation recording or a reference file.
pub async fn file(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let id: GuideItemId = parse_id(&id)?;
    Ok(crate::api::guide_file_response(&state, &who, id, &headers).await?)
}

/// `POST /projects/{id}/guide/{action}`: `character`, `key_name`, `translation`,
/// `decide_translation`, `remove`, `reference`, `publish`.
pub async fn act(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path((id, action)): Path<(String, String)>,
    req: Request,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let takes_file = matches!(action.as_str(), "character" | "reference");
    let mut form = if is_multipart(req.headers()) {
        if !takes_file {
            return Err(AppError::invalid("file", "this form takes no file").into());
        }
        let (app, who2) = (state.app.clone(), who.clone());
        read_form(&state.app, req, Accept::Message, 1, move || {
            let (app, who2) = (app.clone(), who2.clone());
            async move { app.may_edit_guide(&who2, id).await }
        })
        .await?
    } else {
        crate::uploads::read_urlencoded(req).await?
    };
    let mut files = std::mem::take(&mut form.files);
    let field = |name: &str| form.field(name).unwrap_or_default().to_string();
    let item =
        |name: &str| -> Option<GuideItemId> { form.field(name).and_then(|v| v.parse().ok()) };
    let language = field("language");
    let done: Result<&str, AppError> = match action.as_str() {
        "character" => {
            let input = CharacterInput {
                name: field("name"),
                kind: field("kind"),
                description: field("description"),
                age_range: field("age_range"),
                notes: field("notes"),
                pronunciation: field("pronunciation"),
            };
            let target = item("id");
            let recording = files.pop();
            state
                .app
                .save_character(&who, id, target, &input, recording)
                .await
                .map(|_| "saved")
        }
        "key_name" => {
            let input = KeyNameInput {
                term: field("term"),
                category: field("category"),
                context: field("context"),
            };
            state
                .app
                .save_key_name(&who, id, item("id"), &input)
                .await
                .map(|_| "saved")
        }
        "translation" => match item("key") {
            Some(key) => state
                .app
                .propose_translation(&who, key, &language, &field("text"))
                .await
                .map(|_| "saved"),
            None => Err(AppError::NotFound),
        },
        "decide_translation" => match item("key") {
            Some(key) => state
                .app
                .decide_translation(
                    &who,
                    key,
                    &language,
                    field("decision") == "approve",
                    &field("note"),
                )
                .await
                .map(|_| "saved"),
            None => Err(AppError::NotFound),
        },
        "remove" => match item("id") {
            Some(target) => state
                .app
                .remove_guide_item(&who, id, target)
                .await
                .map(|_| "saved"),
            None => Err(AppError::NotFound),
        },
        "reference" => match files.pop() {
            Some(f) => state.app.add_reference(&who, id, f).await.map(|_| "saved"),
            None => Err(AppError::invalid("file", "choose a file")),
        },
        "publish" => state.app.publish_guide(&who, id).await.map(|_| "published"),
        _ => Err(AppError::NotFound),
    };
    // Only a real language tag goes back into the address (canonical, nothing to escape).
    let back_language = LanguageTag::parse(&language)
        .map(|l| format!("&language={l}"))
        .unwrap_or_default();
    match done {
        Ok(what) => Ok(
            Redirect::to(&format!("/projects/{id}/guide?saved={what}{back_language}"))
                .into_response(),
        ),
        Err(AppError::Invalid(e) | AppError::Conflict(e)) => {
            let text = e.text();
            let language = (!language.is_empty()).then_some(language.as_str());
            render_guide(
                &state,
                &who,
                &auth,
                id,
                language,
                Some(text),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn render_casting(
    state: &AppState,
    who: &app::auth::Authenticated,
    auth: &RequestAuth,
    id: ProjectId,
    errors: FieldErrors,
    status: StatusCode,
    flash: Option<String>,
) -> Result<Response, PageError> {
    let m = state.app.casting_matrix(who, id).await?;
    let mut layout = Layout::new(format!("{} · Casting", m.project_name), auth);
    layout.flash = flash;
    let error = (!errors.is_empty()).then(|| errors.text());
    Ok((
        status,
        CastingTemplate {
            layout,
            m,
            project_id: id,
            error,
        },
    )
        .into_response())
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    #[serde(default)]
    saved: String,
}

/// `GET /projects/{id}/casting`.
pub async fn casting(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let flash =
        (q.saved == "created").then(|| "Audition opened: each partner has been told.".to_string());
    render_casting(
        &state,
        &who,
        &auth,
        id,
        FieldErrors::new(),
        StatusCode::OK,
        flash,
    )
    .await
}
