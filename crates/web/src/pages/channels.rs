//! Communication: the channel list, a conversation, the composer, editing and deleting, and
//! App Settings.

use crate::AppState;
use crate::auth::{PortalUser, RequestAuth};
use crate::error::PageError;
use crate::pages::{Layout, parse_id};
use crate::uploads;
use app::auth::Authenticated;
use app::channels::ChannelPage;
use app::{AppError, FieldErrors};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::{ChannelId, MessageId, OrgKind, ProjectId, WorkLanguages};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Template, WebTemplate)]
#[template(path = "channel.html")]
struct ChannelTemplate {
    layout: Layout,
    project_name: String,
    page: ChannelPage,
    draft: String,
    error: Option<String>,
}

impl ChannelTemplate {
    fn ts(&self, t: impl std::borrow::Borrow<OffsetDateTime>) -> String {
        t.borrow().format(&Rfc3339).unwrap_or_default()
    }

    fn size(&self, bytes: impl std::borrow::Borrow<u64>) -> String {
        domain::attachments::human_size(*bytes.borrow())
    }

    /// For the file picker: ".ai,.bmp,…".
    fn accept(&self) -> String {
        domain::attachments::accepted_extensions().replace(' ', ",")
    }

    fn accepted(&self) -> String {
        domain::attachments::accepted_extensions()
    }
}

/// The Communication section opens on the first channel with unread messages, else Broadcast.
pub async fn project_channels(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let channels = state.app.project_channels(&who, id).await?;
    let target = channels
        .iter()
        .find(|c| c.unread > 0)
        .or_else(|| channels.first())
        .ok_or(AppError::NotFound)?;
    let anchor = target
        .first_unread_seq
        .map(|s| format!("#m{s}"))
        .unwrap_or_default();
    Ok(Redirect::to(&format!("/channels/{}{anchor}", target.channel.id)).into_response())
}

#[derive(Deserialize, Default)]
pub struct BeforeQuery {
    before: Option<i64>,
    /// Show the page holding this message (links from e-mails and the bell).
    at: Option<i64>,
}

async fn render(
    state: &AppState,
    who: &Authenticated,
    auth: &RequestAuth,
    channel_id: ChannelId,
    before: Option<i64>,
    draft: String,
    error: Option<String>,
) -> Result<Response, PageError> {
    let page = state.app.open_channel(who, channel_id, before).await?;
    let project_name = state
        .app
        .view_project(who, page.project_id)
        .await?
        .project
        .name
        .to_string();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let layout = Layout::new(format!("{} · {}", page.label, project_name), auth);
    Ok((
        status,
        ChannelTemplate {
            layout,
            project_name,
            page,
            draft,
            error,
        },
    )
        .into_response())
}

pub async fn channel(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Query(q): Query<BeforeQuery>,
) -> Result<Response, PageError> {
    let id: ChannelId = parse_id(&id)?;
    let before = match (q.before, q.at) {
        (None, Some(at)) => state.app.page_holding(&who, id, at).await?,
        (before, _) => before,
    };
    render(&state, &who, &auth, id, before, String::new(), None).await
}

#[derive(Deserialize)]
pub struct BodyForm {
    #[serde(default)]
    body: String,
}

/// The composer: a url-encoded text, or a multipart form with files.
pub async fn post(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, PageError> {
    let id: ChannelId = parse_id(&id)?;
    let (body, outcome) = if uploads::is_multipart(req.headers()) {
        match uploads::read_draft(&state.app, &who, id, req).await {
            Ok(draft) => {
                let body = draft.body.clone();
                let posted = state
                    .app
                    .post_message_with_files(&who, id, &draft.body, draft.files)
                    .await
                    .map(|(m, _)| m);
                (body, posted)
            }
            Err(e) => (String::new(), Err(e)),
        }
    } else {
        let Form(form) = Form::<BodyForm>::from_request(req, &())
            .await
            .map_err(|e| AppError::invalid("body", e.body_text()))?;
        let posted = state.app.post_message(&who, id, &form.body).await;
        (form.body, posted)
    };
    match outcome {
        Ok(m) => Ok(Redirect::to(&format!("/channels/{id}#m{}", m.seq)).into_response()),
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            let msg = errors
                .get("body")
                .or_else(|| errors.get("files"))
                .map(str::to_string);
            render(&state, &who, &auth, id, None, body, msg).await
        }
        Err(e) => Err(e.into()),
    }
}

/// An attached file: shown in the browser (images, PDFs) or downloaded, if the reader may
/// read its message.
pub async fn attachment(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
    Query(q): Query<crate::download::DownloadQuery>,
) -> Result<Response, PageError> {
    let id: domain::AttachmentId = parse_id(&id)?;
    let (a, file) = state.app.open_attachment(&who, id).await?;
    Ok(crate::download::file_response(
        &a,
        file,
        q.download.is_some(),
    ))
}

pub async fn edit(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Form(form): Form<BodyForm>,
) -> Result<Response, PageError> {
    let id: MessageId = parse_id(&id)?;
    match state.app.edit_message(&who, id, &form.body).await {
        Ok(m) => {
            Ok(Redirect::to(&format!("/channels/{}#m{}", m.channel_id, m.seq)).into_response())
        }
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            let msg = errors
                .get("body")
                .unwrap_or("this message cannot be changed")
                .to_string();
            Err(PageError(AppError::invalid("body", msg)))
        }
        Err(e) => {
            let _ = auth;
            Err(e.into())
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: MessageId = parse_id(&id)?;
    let m = state.app.delete_message(&who, id).await?;
    Ok(Redirect::to(&format!("/channels/{}#m{}", m.channel_id, m.seq)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "app_settings.html")]
struct SettingsTemplate {
    layout: Layout,
    is_studio: bool,
    internal_messages: bool,
    languages: String,
    org: String,
    errors: FieldErrors,
    email: app::mail::EmailSettings,
}

impl SettingsTemplate {
    fn frequencies(&self) -> [domain::email::Frequency; 5] {
        domain::email::Frequency::ALL
    }
}

pub(crate) async fn settings_page(
    state: &AppState,
    who: &Authenticated,
    auth: &RequestAuth,
    languages: Option<String>,
    errors: FieldErrors,
    flash: Option<String>,
) -> Result<Response, PageError> {
    let email = state.app.email_settings(who).await?;
    let prefs = &who.subject.prefs;
    let languages = languages.unwrap_or_else(|| match &prefs.languages {
        WorkLanguages::All => String::new(),
        WorkLanguages::Only(l) => l.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "),
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        SettingsTemplate {
            layout: Layout::new("App Settings", auth).with_flash(flash),
            is_studio: who.org.kind == OrgKind::Studio,
            internal_messages: prefs.internal_messages,
            languages,
            org: who.org.name.to_string(),
            errors,
            email,
        },
    )
        .into_response())
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn settings(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    settings_page(
        &state,
        &who,
        &auth,
        None,
        FieldErrors::new(),
        q.saved.map(|_| "Settings saved.".to_string()),
    )
    .await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    internal_messages: Option<String>,
    #[serde(default)]
    languages: String,
}

pub async fn save_settings(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    match state
        .app
        .update_settings(
            &who,
            form.internal_messages.is_some(),
            &form
                .languages
                .split([',', ' ', ';'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>(),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to("/settings/app?saved=1").into_response()),
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            settings_page(&state, &who, &auth, Some(form.languages), errors, None).await
        }
        Err(e) => Err(e.into()),
    }
}
