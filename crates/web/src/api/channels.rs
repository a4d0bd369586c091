//! Channels and messages in the API.

use super::dto::ts;
use super::page::{self, Order, PageParams, page_of};
use super::{ApiQuery, JsonBody, parse_id};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiErrorBody};
use app::channels::{ChannelRow, MessageView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::{ChannelId, MessageId, ProjectId, WorkLanguages};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct ChannelJson {
    pub id: Uuid,
    #[schema(value_type = super::ChannelKindName)]
    pub kind: String,
    /// The language of a vendor channel.
    pub language: Option<String>,
    pub label: String,
    /// Sequence number of the newest message (0: none).
    pub last_seq: i64,
    pub unread: u32,
    pub first_unread_seq: Option<i64>,
}

impl From<&ChannelRow> for ChannelJson {
    fn from(r: &ChannelRow) -> Self {
        Self {
            id: r.channel.id.as_uuid(),
            kind: r.channel.kind.as_str().into(),
            language: r.channel.kind.language().map(|l| l.to_string()),
            label: r.label.clone(),
            last_seq: r.channel.last_seq,
            unread: r.unread,
            first_unread_seq: r.first_unread_seq,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuthorJson {
    pub name: String,
    /// "Studio", the caller's own partner's name, "Partner", or "Robot".
    pub badge: String,
    pub robot: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentJson {
    pub id: Uuid,
    /// The sender's file name.
    pub name: String,
    pub media_type: String,
    /// Bytes.
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// Where to download it (with the same credentials).
    pub url: String,
}

impl From<&domain::attachments::Attachment> for AttachmentJson {
    fn from(a: &domain::attachments::Attachment) -> Self {
        Self {
            id: a.id.as_uuid(),
            name: a.name.clone(),
            media_type: a.file_type.media_type().into(),
            size: a.size,
            sha256: a.sha256.clone(),
            url: format!("/api/v1/attachments/{}", a.id),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MessageJson {
    pub id: Uuid,
    pub channel_id: Uuid,
    /// Position in the channel: 1, 2, 3 … without gaps.
    pub seq: i64,
    pub author: AuthorJson,
    /// Empty for a deleted message.
    pub body: String,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub deleted: bool,
    /// The caller may still edit or delete it.
    pub changeable: bool,
    pub attachments: Vec<AttachmentJson>,
}

impl From<&MessageView> for MessageJson {
    fn from(v: &MessageView) -> Self {
        let m = &v.message;
        Self {
            id: m.id.as_uuid(),
            channel_id: m.channel_id.as_uuid(),
            seq: m.seq,
            author: AuthorJson {
                name: v.author.name.clone(),
                badge: v.author.badge.clone(),
                robot: v.author.robot,
            },
            body: m.body.clone(),
            created_at: ts(m.created_at),
            edited_at: m.edited_at.map(ts),
            deleted: m.deleted_at.is_some(),
            changeable: v.changeable,
            attachments: v.attachments.iter().map(AttachmentJson::from).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ChannelMessagesJson {
    pub channel: ChannelJson,
    pub messages: Vec<MessageJson>,
    /// The caller's read position before this call; later messages are new.
    pub read_before: i64,
    pub can_post: bool,
    pub has_older: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct MessageBodyJson {
    /// The text; at least one character that is not a space, and no control characters other
    /// than tabs and line breaks.
    #[schema(
        min_length = 1,
        max_length = 20000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub body: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ReadJson {
    /// Mark read up to and including this sequence number (a position never moves back).
    #[schema(minimum = 0)]
    pub seq: i64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SettingsJson {
    /// Studio users: read and write in Internal channels.
    pub internal_messages: bool,
    /// The languages the caller works on, one BCP 47 tag each; empty means all of their
    /// organisation's languages. A partner may list only languages its organisation is
    /// assigned on some title.
    pub languages: Vec<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesParams {
    /// Only messages with a smaller sequence number (for paging back). Without it the channel is
    /// also marked read.
    #[param(minimum = 1)]
    before: Option<i64>,
}

page_of!(ChannelPageJson, ChannelJson, "a title's channels");

/// The channels of a project the caller may read, with unread counts: Broadcast, the vendor
/// channels by language, Internal.
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/channels", tag = "communication",
    params(("id" = uuid::Uuid, Path, description = "Project id"), PageParams),
    responses((status = 200, description = "The channels", body = ChannelPageJson))
)]
pub async fn list_channels(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<ChannelPageJson>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let (limit, after) = page::read("channels", p.limit, p.cursor.as_deref())?;
    let rows = state.app.project_channels(&who, id).await?;
    let (items, next) = page::in_memory(
        rows,
        |r| {
            let rank = match r.channel.kind.as_str() {
                "broadcast" => 0u8,
                "vendor" => 1,
                _ => 2,
            };
            let language = r.channel.kind.language().map(|l| l.to_string());
            (rank, language, r.channel.id.as_uuid())
        },
        Order::Ascending,
        after,
        limit,
    );
    Ok(Json(ChannelPageJson {
        items: items.iter().map(ChannelJson::from).collect(),
        next_cursor: next.map(|k| page::encode("channels", &k)),
    }))
}

/// The latest 50 messages of a channel (or those before `before`); marks the channel read.
#[utoipa::path(
    get, path = "/api/v1/channels/{id}/messages", tag = "communication",
    params(("id" = uuid::Uuid, Path, description = "Channel id"), MessagesParams),
    responses((status = 200, description = "The messages, oldest first", body = ChannelMessagesJson))
)]
pub async fn list_messages(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<MessagesParams>,
) -> Result<Json<ChannelMessagesJson>, ApiError> {
    let id: ChannelId = parse_id(&id)?;
    if let Some(b) = p.before.filter(|b| *b < 1) {
        return Err(app::AppError::invalid(
            "before",
            format!("must be a sequence number, 1 or more (it was {b})"),
        )
        .into());
    }
    let page = state.app.open_channel(&who, id, p.before).await?;
    let channel = page
        .channels
        .iter()
        .find(|c| c.channel.id == id)
        .map(ChannelJson::from)
        .unwrap_or(ChannelJson {
            id: page.channel.id.as_uuid(),
            kind: page.channel.kind.as_str().into(),
            language: page.channel.kind.language().map(|l| l.to_string()),
            label: page.label.clone(),
            last_seq: page.channel.last_seq,
            unread: 0,
            first_unread_seq: None,
        });
    Ok(Json(ChannelMessagesJson {
        channel,
        messages: page.messages.iter().map(MessageJson::from).collect(),
        read_before: page.read_before,
        can_post: page.can_post,
        has_older: page.has_older,
    }))
}

/// A message with files, as `multipart/form-data`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MessageUpload {
    /// The text (may be empty when there are files).
    body: Option<String>,
    /// Up to 10 files of at most 10 MB each, with one of the accepted extensions (.ai .bmp .csv
    /// .eps .gif .heif .ind .jpeg .jpg .mov .mxl .pdf .png .psd .raw .svj .wav .webp); the
    /// content must match the extension. A message needs text, files, or both.
    #[schema(value_type = Option<Vec<String>>, format = Binary)]
    file: Option<Vec<Vec<u8>>>,
}

/// Posts a message: JSON for text only, or `multipart/form-data` with a `body` field and
/// `file` fields to attach files. A refused file refuses the whole message (422, saying which
/// rule the file broke) and nothing is kept.
#[utoipa::path(
    post, path = "/api/v1/channels/{id}/messages", tag = "communication",
    request_body(content(
        (MessageBodyJson = "application/json"),
        (MessageUpload = "multipart/form-data")
    )),
    params(("id" = uuid::Uuid, Path, description = "Channel id")),
    responses((status = 201, description = "Posted", body = MessageJson), (status = 403, description = "The caller may not post here (e.g. a partner in Broadcast), or a cookie request without its CSRF token", body = ApiErrorBody), (status = 413, description = "Larger than 10 files of 10 MB", body = ApiErrorBody), (status = 422, description = "Empty, or a file refused (the message says which rule it broke)", body = ApiErrorBody))
)]
pub async fn post_message(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<axum::response::Response, ApiError> {
    use axum::extract::FromRequest;
    use axum::response::IntoResponse;
    let id: ChannelId = parse_id(&id)?;
    let (m, attachments) = if crate::uploads::is_multipart(req.headers()) {
        let draft = crate::uploads::read_draft(&state.app, &who, id, req).await?;
        state
            .app
            .post_message_with_files(&who, id, &draft.body, draft.files)
            .await?
    } else {
        let body = match JsonBody::<MessageBodyJson>::from_request(req, &()).await {
            Ok(JsonBody(body)) => body,
            Err(refusal) => return Ok(refusal),
        };
        (
            state.app.post_message(&who, id, &body.body).await?,
            Vec::new(),
        )
    };
    let view = MessageView {
        author: app::channels::AuthorView {
            name: who.user.display_name.to_string(),
            badge: if who.subject.is_studio() {
                "Studio".into()
            } else {
                who.org.name.to_string()
            },
            robot: false,
        },
        mine: true,
        changeable: true,
        attachments,
        message: m,
    };
    Ok((StatusCode::CREATED, Json(MessageJson::from(&view))).into_response())
}

/// Edits one's own message within the edit window.
#[utoipa::path(
    patch, path = "/api/v1/messages/{id}", tag = "communication", request_body = MessageBodyJson,
    params(("id" = uuid::Uuid, Path, description = "Message id")),
    responses((status = 204, description = "Edited"), (status = 409, description = "The message was deleted, or its edit window has closed", body = ApiErrorBody))
)]
pub async fn edit_message(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<MessageBodyJson>,
) -> Result<StatusCode, ApiError> {
    let id: MessageId = parse_id(&id)?;
    state.app.edit_message(&who, id, &body.body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes one's own message within the edit window (a tombstone stays in its place).
#[utoipa::path(
    delete, path = "/api/v1/messages/{id}", tag = "communication",
    params(("id" = uuid::Uuid, Path, description = "Message id")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "The message was already deleted, or its edit window has closed", body = ApiErrorBody))
)]
pub async fn delete_message(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: MessageId = parse_id(&id)?;
    state.app.delete_message(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks a channel read up to a sequence number.
#[utoipa::path(
    put, path = "/api/v1/channels/{id}/read", tag = "communication", request_body = ReadJson,
    params(("id" = uuid::Uuid, Path, description = "Channel id")),
    responses((status = 204, description = "Marked read"))
)]
pub async fn mark_read(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReadJson>,
) -> Result<StatusCode, ApiError> {
    let id: ChannelId = parse_id(&id)?;
    if body.seq < 0 {
        return Err(app::AppError::invalid(
            "seq",
            format!("must be a sequence number, 0 or more (it was {})", body.seq),
        )
        .into());
    }
    state.app.mark_channel_read(&who, id, body.seq).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn settings_json(prefs: &domain::ChannelPrefs) -> SettingsJson {
    SettingsJson {
        internal_messages: prefs.internal_messages,
        languages: match &prefs.languages {
            WorkLanguages::All => vec![],
            WorkLanguages::Only(l) => l.iter().map(|t| t.to_string()).collect(),
        },
    }
}

/// The caller's App Settings.
#[utoipa::path(
    get, path = "/api/v1/settings", tag = "communication",
    responses((status = 200, description = "The caller's App Settings", body = SettingsJson))
)]
pub async fn get_settings(ApiUser(who): ApiUser) -> Json<SettingsJson> {
    Json(settings_json(&who.subject.prefs))
}

/// Changes the caller's App Settings.
#[utoipa::path(
    put, path = "/api/v1/settings", tag = "communication", request_body = SettingsJson,
    responses((status = 200, description = "The App Settings as saved", body = SettingsJson))
)]
pub async fn put_settings(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    JsonBody(body): JsonBody<SettingsJson>,
) -> Result<Json<SettingsJson>, ApiError> {
    let prefs = state
        .app
        .update_settings(&who, body.internal_messages, &body.languages)
        .await?;
    Ok(Json(settings_json(&prefs)))
}

#[derive(Serialize, ToSchema)]
pub struct SegmentJson {
    pub text: String,
    /// This part matches the query (show it highlighted).
    pub r#match: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SearchHitJson {
    pub message_id: Uuid,
    pub channel_id: Uuid,
    pub seq: i64,
    pub project_id: Uuid,
    pub project_name: String,
    pub channel_label: String,
    pub author_name: String,
    pub created_at: String,
    /// The body cut into parts, marking the matches.
    pub segments: Vec<SegmentJson>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words (all must match), `"exact phrase"`, `-exclude`, `from:NAME`, `in:broadcast|internal|LANG`,
    /// `before:YYYY-MM-DD`, `after:YYYY-MM-DD`, `on:YYYY-MM-DD`, `has:attachment`.
    #[param(min_length = 1)]
    q: String,
    /// Only this channel (404 if the caller cannot read it).
    channel: Option<Uuid>,
    /// At most this many results (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page (older results).
    #[param(pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
}

page_of!(
    SearchPageJson,
    SearchHitJson,
    "search results, newest first"
);

/// Searches the messages of every channel the caller can read (or one channel), newest first.
#[utoipa::path(
    get, path = "/api/v1/search", tag = "communication", params(SearchParams),
    responses((status = 200, description = "Matching messages, newest first", body = SearchPageJson), (status = 404, description = "The channel does not exist or the caller cannot read it", body = ApiErrorBody), (status = 422, description = "The query cannot be read", body = ApiErrorBody))
)]
pub async fn search(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<SearchPageJson>, ApiError> {
    let channel: Option<ChannelId> = p.channel.map(ChannelId::from);
    let (limit, after) = page::read("search", p.limit, p.cursor.as_deref())?;
    let found = state
        .app
        .search_messages(&who, &p.q, channel, after, limit)
        .await?;
    let next_cursor = found.next.map(|k| page::encode("search", &k));
    Ok(Json(SearchPageJson {
        next_cursor,
        items: found
            .items
            .into_iter()
            .map(|h| SearchHitJson {
                message_id: h.message.id.as_uuid(),
                channel_id: h.message.channel_id.as_uuid(),
                seq: h.message.seq,
                project_id: h.project_id.as_uuid(),
                project_name: h.project_name,
                channel_label: h.channel_label,
                author_name: h.author_name,
                created_at: ts(h.message.created_at),
                segments: h
                    .segments
                    .into_iter()
                    .map(|(text, m)| SegmentJson { text, r#match: m })
                    .collect(),
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct MentionableJson {
    pub name: String,
    /// Insert `@` + this to mention the person unambiguously.
    pub email: String,
    /// "Studio" or the person's organisation.
    pub badge: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MentionableParams {
    /// Part of a name or e-mail address (an `@` in front is ignored).
    #[serde(default)]
    q: String,
    /// At most this many people (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
}

page_of!(
    MentionablePageJson,
    MentionableJson,
    "people who can be mentioned"
);

/// People who can read the channel and so can be mentioned in it, by name, for the composer's
/// autocomplete.
#[utoipa::path(
    get, path = "/api/v1/channels/{id}/mentionable", tag = "communication",
    params(("id" = uuid::Uuid, Path, description = "Channel id"), MentionableParams),
    responses((status = 200, description = "Readers of the channel matching `q`", body = MentionablePageJson))
)]
pub async fn mentionable(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<MentionableParams>,
) -> Result<Json<MentionablePageJson>, ApiError> {
    let id: ChannelId = parse_id(&id)?;
    let (limit, after) = page::read("mentionable", p.limit, p.cursor.as_deref())?;
    let people = state.app.mentionable(&who, id, &p.q).await?;
    let (items, next) = page::in_memory(
        people,
        |m| (domain::search::fold(&m.name), m.email.clone()),
        Order::Ascending,
        after,
        limit,
    );
    Ok(Json(MentionablePageJson {
        items: items
            .into_iter()
            .map(|m| MentionableJson {
                name: m.name,
                email: m.email,
                badge: m.badge,
            })
            .collect(),
        next_cursor: next.map(|k| page::encode("mentionable", &k)),
    }))
}

/// An attached file, if the caller may read its message. Images and PDFs are sent for inline
/// display unless `download` is given.
#[utoipa::path(
    get, path = "/api/v1/attachments/{id}", tag = "communication",
    params(("id" = uuid::Uuid, Path, description = "Attachment id"), crate::download::DownloadQuery),
    responses((status = 200, description = "The file, sent with its own media type (`Content-Type` is the attachment's `media_type`)", content_type = "*/*"))
)]
pub async fn download_attachment(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<crate::download::DownloadQuery>,
) -> Result<axum::response::Response, ApiError> {
    let id: domain::AttachmentId = parse_id(&id)?;
    let (a, file) = state.app.open_attachment(&who, id).await?;
    Ok(crate::download::file_response(
        &a,
        file,
        q.download.is_some(),
    ))
}
