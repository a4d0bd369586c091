//! E-mail: the caller's e-mail settings, muting a project, the bell, and the admin's outbox.

use super::dto::ts;
use super::page;
use super::{ApiQuery, JsonBody, parse_id};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiErrorBody};
use axum::Json;
use axum::extract::{Path, State};
use domain::{Actor, EmailId, ProjectId};
use serde::{Deserialize, Serialize};
use store::{EmailRecord, EmailState};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EmailSettingsJson {
    #[schema(value_type = super::FrequencyName)]
    pub frequency: String,
    /// Mentions are e-mailed at once whatever the frequency, even for muted projects.
    pub mentions_immediately: bool,
    /// The followed projects the caller muted. On PUT, leave it out to keep the mutes as they
    /// are; give it to replace them (each must be a title the caller follows, or 422).
    #[serde(default)]
    pub muted_projects: Option<Vec<Uuid>>,
}

/// The caller's e-mail settings.
#[utoipa::path(
    get, path = "/api/v1/settings/email", tag = "email",
    responses((status = 200, description = "The caller's e-mail settings", body = EmailSettingsJson))
)]
pub async fn get_email_settings(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
) -> Result<Json<EmailSettingsJson>, ApiError> {
    let s = state.app.email_settings(&who).await?;
    Ok(Json(EmailSettingsJson {
        frequency: s.prefs.frequency.as_str().into(),
        mentions_immediately: s.prefs.mentions_immediately,
        muted_projects: Some(
            s.projects
                .iter()
                .filter(|(_, m)| *m)
                .map(|(p, _)| p.id.as_uuid())
                .collect(),
        ),
    }))
}

/// Changes the caller's e-mail settings; notifications already waiting follow them.
#[utoipa::path(
    put, path = "/api/v1/settings/email", tag = "email", request_body = EmailSettingsJson,
    responses((status = 200, description = "The e-mail settings as saved", body = EmailSettingsJson))
)]
pub async fn put_email_settings(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    JsonBody(body): JsonBody<EmailSettingsJson>,
) -> Result<Json<EmailSettingsJson>, ApiError> {
    let muted: Option<Vec<ProjectId>> = body
        .muted_projects
        .as_ref()
        .map(|v| v.iter().map(|u| ProjectId::from(*u)).collect());
    state
        .app
        .update_email_settings(
            &who,
            &body.frequency,
            body.mentions_immediately,
            muted.as_deref(),
        )
        .await?;
    get_email_settings(State(state), ApiUser(who)).await
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MuteJson {
    pub muted: bool,
}

/// Mutes or unmutes e-mail about a project.
#[utoipa::path(
    put, path = "/api/v1/projects/{id}/mute", tag = "email", request_body = MuteJson,
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 200, description = "Muted or not", body = MuteJson))
)]
pub async fn put_mute(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<MuteJson>,
) -> Result<Json<MuteJson>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    state.app.set_project_muted(&who, id, body.muted).await?;
    Ok(Json(body))
}

#[derive(Serialize, ToSchema)]
pub struct BellEntryJson {
    pub project: String,
    pub channel: String,
    pub author: String,
    pub excerpt: String,
    /// A same-site link straight to the message.
    pub link: String,
    pub mention: bool,
    pub read: bool,
    pub created_at: String,
}

/// One page of the bell.
#[derive(Serialize, ToSchema)]
pub struct BellJson {
    /// Unread entries in all (reading the message clears one), whatever the page.
    pub unread: u32,
    pub items: Vec<BellEntryJson>,
    /// Give it as `cursor` for older entries; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The caller's bell: mentions and messages they were e-mailed about, newest first.
#[utoipa::path(
    get, path = "/api/v1/notifications", tag = "email", params(page::PageParams),
    responses((status = 200, description = "The bell, newest first", body = BellJson))
)]
pub async fn notifications(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    ApiQuery(p): ApiQuery<page::PageParams>,
) -> Result<Json<BellJson>, ApiError> {
    let (limit, after) = page::read("bell", p.limit, p.cursor.as_deref())?;
    let bell = state.app.bell(&who, after, limit).await?;
    Ok(Json(BellJson {
        unread: bell.unread,
        next_cursor: bell.next.map(|k| page::encode("bell", &k)),
        items: bell
            .entries
            .into_iter()
            .map(|e| BellEntryJson {
                project: e.project,
                channel: e.channel,
                author: e.author,
                excerpt: e.excerpt,
                link: e.link,
                mention: e.mention,
                read: e.read,
                created_at: ts(e.created_at),
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct OutgoingJson {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    #[schema(value_type = super::MailStateName)]
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub message_count: u32,
    pub digest: bool,
    pub created_at: String,
    pub next_attempt_at: String,
    pub sent_at: Option<String>,
    /// The plain-text body (only when one e-mail is asked for).
    pub text: Option<String>,
}

fn outgoing(e: &EmailRecord, with_text: bool) -> OutgoingJson {
    OutgoingJson {
        id: e.id.as_uuid(),
        to: e.to_address.clone(),
        subject: e.subject.clone(),
        state: e.state.as_str().into(),
        attempts: e.attempts,
        last_error: e.last_error.clone(),
        message_count: e.message_count,
        digest: e.channel_id.is_none(),
        created_at: ts(e.created_at),
        next_attempt_at: ts(e.next_attempt_at),
        sent_at: e.sent_at.map(ts),
        text: with_text.then(|| e.body_text.clone()),
    }
}

/// One page of the outbox, with the counts of the whole outbox.
#[derive(Serialize, ToSchema)]
pub struct OutboxJson {
    /// Where e-mails go.
    pub transport: String,
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    pub items: Vec<OutgoingJson>,
    /// Give it as `cursor` for older e-mails; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxParams {
    /// Only e-mails in this state.
    #[param(value_type = Option<super::MailStateName>)]
    state: Option<String>,
    /// At most this many (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
}

/// The outbox, newest first (admins).
#[utoipa::path(
    get, path = "/api/v1/admin/mail", tag = "admin", params(OutboxParams),
    responses((status = 200, description = "Outgoing e-mails, newest first", body = OutboxJson))
)]
pub async fn list_outbox(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    ApiQuery(p): ApiQuery<OutboxParams>,
) -> Result<Json<OutboxJson>, ApiError> {
    let filter = match p.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(EmailState::parse(s).ok_or_else(|| {
            ApiError(app::AppError::invalid(
                "state",
                format!("state must be pending, sent or failed (not {s:?})"),
            ))
        })?),
    };
    let (limit, after) = page::read("outbox", p.limit, p.cursor.as_deref())?;
    let o = state
        .app
        .outbox(Actor::User(&who.subject), filter, after, limit)
        .await?;
    Ok(Json(OutboxJson {
        transport: o.transport,
        pending: o.counts.pending,
        sent: o.counts.sent,
        failed: o.counts.failed,
        items: o.emails.iter().map(|e| outgoing(e, false)).collect(),
        next_cursor: o.next.map(|k| page::encode("outbox", &k)),
    }))
}

/// One outgoing e-mail (admins).
#[utoipa::path(
    get, path = "/api/v1/admin/mail/{id}", tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "E-mail id")),
    responses((status = 200, description = "The e-mail with its text", body = OutgoingJson))
)]
pub async fn get_outgoing(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<OutgoingJson>, ApiError> {
    let id: EmailId = parse_id(&id)?;
    let m = state
        .app
        .outgoing_mail(Actor::User(&who.subject), id)
        .await?;
    Ok(Json(outgoing(&m.email, true)))
}

/// Puts a failed e-mail back in the queue (admins).
#[utoipa::path(
    post, path = "/api/v1/admin/mail/{id}/retry", tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "E-mail id")),
    responses((status = 200, description = "Queued again", body = OutgoingJson), (status = 409, description = "The e-mail has not failed (only failed e-mails can be retried)", body = ApiErrorBody))
)]
pub async fn retry_outgoing(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<OutgoingJson>, ApiError> {
    let id: EmailId = parse_id(&id)?;
    state
        .app
        .retry_outgoing_mail(Actor::User(&who.subject), id)
        .await?;
    get_outgoing(State(state), ApiUser(who), Path(id.to_string())).await
}
