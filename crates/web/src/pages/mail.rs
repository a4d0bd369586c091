//! E-mail in the pages: the e-mail part of App Settings, muting a project, the bell's list, and
//! the admin's "Outgoing mail".

use crate::AppState;
use crate::auth::PortalUser;
use crate::error::PageError;
use crate::pages::{Layout, parse_id};
use app::AppError;
use app::mail::{Bell, Outbox, OutgoingMail};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use domain::{Actor, EmailId, ProjectId};
use serde::Deserialize;
use store::EmailState;
use time::OffsetDateTime;

/// "2026-11-22 10:07 UTC".
pub(crate) fn when(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    frequency: String,
    #[serde(default)]
    mentions_immediately: Option<String>,
    /// The followed projects to mute (a checkbox each).
    #[serde(default)]
    muted: Vec<String>,
}

pub async fn save_email_settings(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Form(form): Form<EmailForm>,
) -> Result<Response, PageError> {
    let muted: Vec<ProjectId> = form.muted.iter().filter_map(|m| m.parse().ok()).collect();
    match state
        .app
        .update_email_settings(
            &who,
            &form.frequency,
            form.mentions_immediately.is_some(),
            Some(&muted),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to("/settings/app?saved=1#email").into_response()),
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            super::channels::settings_page(&state, &who, &auth, None, errors, None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn set_muted(
    state: &AppState,
    who: &app::auth::Authenticated,
    id: &str,
    muted: bool,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(id)?;
    state.app.set_project_muted(who, id, muted).await?;
    Ok(Redirect::to(&format!("/projects/{id}")).into_response())
}

pub async fn mute(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    set_muted(&state, &who, &id, true).await
}

pub async fn unmute(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    set_muted(&state, &who, &id, false).await
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    layout: Layout,
    bell: Bell,
}

impl NotificationsPage {
    fn when(&self, t: impl std::borrow::Borrow<OffsetDateTime>) -> String {
        when(*t.borrow())
    }
}

pub async fn notifications(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
) -> Result<Response, PageError> {
    let bell = state.app.bell(&who, None, 100).await?;
    Ok(NotificationsPage {
        layout: Layout::new("Notifications", &auth),
        bell,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_mail.html")]
struct MailListPage {
    layout: Layout,
    outbox: Outbox,
    state: String,
}

impl MailListPage {
    fn when(&self, t: impl std::borrow::Borrow<OffsetDateTime>) -> String {
        when(*t.borrow())
    }
}

#[derive(Deserialize, Default)]
pub struct StateQuery {
    #[serde(default)]
    state: String,
}

pub async fn outbox(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Query(q): Query<StateQuery>,
) -> Result<Response, PageError> {
    let filter = EmailState::parse(&q.state);
    let outbox = state
        .app
        .outbox(Actor::User(&who.subject), filter, None, 200)
        .await?;
    Ok(MailListPage {
        layout: Layout::new("Outgoing mail", &auth),
        outbox,
        state: filter.map(|s| s.as_str().to_string()).unwrap_or_default(),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_mail_one.html")]
struct MailPage {
    layout: Layout,
    mail: OutgoingMail,
    host: String,
}

impl MailPage {
    fn when(&self, t: impl std::borrow::Borrow<OffsetDateTime>) -> String {
        when(*t.borrow())
    }
}

pub async fn outgoing(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: EmailId = parse_id(&id)?;
    let mail = state
        .app
        .outgoing_mail(Actor::User(&who.subject), id)
        .await?;
    Ok(MailPage {
        layout: Layout::new("Outgoing mail", &auth),
        host: state.app.config.mail.host(),
        mail,
    }
    .into_response())
}

pub async fn retry(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: EmailId = parse_id(&id)?;
    state
        .app
        .retry_outgoing_mail(Actor::User(&who.subject), id)
        .await?;
    Ok(Redirect::to(&format!("/admin/mail/{id}")).into_response())
}
