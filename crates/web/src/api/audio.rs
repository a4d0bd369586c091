//! Audio fulfilment in the API: a title's Moments clips and premixes, one fulfilment (versions,
//! files with the checker's report, comments, decisions), the clip and delivered files, and the
//! resumable upload protocol (tus 1.0 core with the creation and termination extensions).
//! Everything goes through the same use cases as the pages.

use super::{JsonBody, parse_id};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiErrorBody};
use app::AppError;
use app::fulfilment::{
    AudioBoard, Decision, FulfilmentDetail, NewAudioRequestInput, NoteView, VersionView,
};
use app::uploads::{NewUpload, Purpose};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use domain::{AudioRequestId, FulfilmentId, ProjectId, SubmissionFileId, UploadId};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use store::{UploadRecord, UploadState};
use utoipa::ToSchema;

/// The tus protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";

/// An audio request with the fulfilments the caller may see.
#[derive(Serialize, ToSchema)]
pub struct AudioRequestJson {
    pub id: uuid::Uuid,
    /// `moments` or `premix`.
    pub kind: String,
    pub title: String,
    pub description: String,
    pub instructions: String,
    /// The episode ("S1E2"), or empty.
    pub episode: String,
    pub frame_rate: String,
    pub tc_in: String,
    pub tc_out: String,
    /// Frames from in to out (the out point is exclusive).
    pub frames: u64,
    /// The same, as a duration timecode.
    pub duration: String,
    /// The premix limiter advice (dBTP).
    pub true_peak_limit: f64,
    /// The clip's MP4 (Moments), at `/api/v1/audio-requests/{id}/clip`.
    pub clip: Option<ClipJson>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    pub fulfilments: Vec<FulfilmentJson>,
}

#[derive(Serialize, ToSchema)]
pub struct ClipJson {
    pub name: String,
    pub size: u64,
    /// Seconds, from the MP4's own header.
    pub seconds: f64,
}

/// One language's fulfilment.
#[derive(Serialize, ToSchema)]
pub struct FulfilmentJson {
    pub id: uuid::Uuid,
    pub language: String,
    /// The partner's name, where the caller may know it.
    pub partner: String,
    /// `open`, `submitted`, `changes_requested` or `approved`.
    pub state: String,
    /// The latest version (0: none yet).
    pub version: u32,
}

fn request_json(r: &store::AudioRequestRecord, episode: &str, duration: &str) -> AudioRequestJson {
    AudioRequestJson {
        id: r.id.as_uuid(),
        kind: r.kind.as_str().into(),
        title: r.title.clone(),
        description: r.description.clone(),
        instructions: r.instructions.clone(),
        episode: episode.into(),
        frame_rate: r.frame_rate.clone(),
        tc_in: r.tc_in.clone(),
        tc_out: r.tc_out.clone(),
        frames: r.frames,
        duration: duration.into(),
        true_peak_limit: r.true_peak_limit,
        clip: r.clip.as_ref().map(|c| ClipJson {
            name: c.name.clone(),
            size: c.size,
            seconds: if c.timescale == 0 {
                0.0
            } else {
                c.duration as f64 / c.timescale as f64
            },
        }),
        created_at: super::dto::ts(r.created_at),
        fulfilments: Vec::new(),
    }
}

fn fulfilment_json(f: &store::FulfilmentRecord, partner: &str) -> FulfilmentJson {
    FulfilmentJson {
        id: f.id.as_uuid(),
        language: f.language.to_string(),
        partner: partner.into(),
        state: f.state.as_str().into(),
        version: f.version,
    }
}

fn board_json(b: &AudioBoard) -> Vec<AudioRequestJson> {
    {
        b.requests
            .iter()
            .map(|v| {
                let mut j = request_json(&v.record, &v.episode, &v.duration);
                j.fulfilments = v
                    .fulfilments
                    .iter()
                    .map(|f| fulfilment_json(&f.record, &f.partner))
                    .collect();
                j
            })
            .collect()
    }
}

/// A file of a version with the checker's report.
#[derive(Serialize, ToSchema)]
pub struct DeliveryFileJson {
    pub id: uuid::Uuid,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// The audio checker's report: the same JSON object as `locportal check wav --json` prints
    /// (verdict, errors, warnings, format, length, bext, qc, …).
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// The waveform picture, at this address.
    pub waveform: String,
    /// The file itself (Range requests supported).
    pub download: String,
}

#[derive(Serialize, ToSchema)]
pub struct VersionJson {
    pub version: u32,
    /// `asrecord`, `mixed` or `premix`.
    pub mix: String,
    pub talent: String,
    pub submitted_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: String,
    pub files: Vec<DeliveryFileJson>,
}

impl From<&VersionView> for VersionJson {
    fn from(v: &VersionView) -> Self {
        Self {
            version: v.submission.version,
            mix: v.submission.mix.as_str().into(),
            talent: v.submission.talent.clone(),
            submitted_by: v.submitted_by.clone(),
            submitted_at: super::dto::ts(v.submission.created_at),
            files: v
                .files
                .iter()
                .map(|f| DeliveryFileJson {
                    id: f.record.id.as_uuid(),
                    name: f.record.name.clone(),
                    size: f.record.size,
                    sha256: f.record.sha256.clone(),
                    report: f.report.clone(),
                    waveform: format!("/api/v1/delivery-files/{}/waveform", f.record.id),
                    download: format!("/api/v1/delivery-files/{}", f.record.id),
                })
                .collect(),
        }
    }
}

/// A comment or decision.
#[derive(Serialize, ToSchema)]
pub struct NoteJson {
    pub id: uuid::Uuid,
    /// `comment`, `submitted`, `approved`, `changes_requested` or `reopened`.
    pub kind: String,
    pub author: String,
    /// "Studio", the partner's name, or "Partner".
    pub badge: String,
    pub body: String,
    pub version: Option<u32>,
    /// The clip timecode it is pinned to.
    pub timecode: Option<String>,
    /// Seconds into the clip of that timecode.
    pub seconds: Option<f64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
}

impl From<&NoteView> for NoteJson {
    fn from(n: &NoteView) -> Self {
        Self {
            id: n.record.id.as_uuid(),
            kind: n.record.kind.as_str().into(),
            author: n.author.clone(),
            badge: n.badge.clone(),
            body: n.record.body.clone(),
            version: n.record.version,
            timecode: n.timecode.clone(),
            seconds: n.seconds,
            created_at: super::dto::ts(n.record.created_at),
        }
    }
}

/// One fulfilment, whole.
#[derive(Serialize, ToSchema)]
pub struct FulfilmentDetailJson {
    pub request: AudioRequestJson,
    pub fulfilment: FulfilmentJson,
    pub project_id: uuid::Uuid,
    pub project_name: String,
    /// Newest first.
    pub versions: Vec<VersionJson>,
    /// Oldest first.
    pub notes: Vec<NoteJson>,
    pub may_upload: bool,
    pub may_comment: bool,
    pub may_decide: bool,
    /// What the next version may be delivered as (empty: no upload now).
    pub mixes: Vec<String>,
    /// What file names must look like.
    pub name_pattern: String,
}

impl From<&FulfilmentDetail> for FulfilmentDetailJson {
    fn from(d: &FulfilmentDetail) -> Self {
        let mut request = request_json(&d.request, &d.episode, &d.duration);
        request.fulfilments = vec![fulfilment_json(&d.fulfilment, &d.partner)];
        Self {
            fulfilment: fulfilment_json(&d.fulfilment, &d.partner),
            request,
            project_id: d.project_id.as_uuid(),
            project_name: d.project_name.clone(),
            versions: d.versions.iter().map(VersionJson::from).collect(),
            notes: d.notes.iter().map(NoteJson::from).collect(),
            may_upload: d.may_upload,
            may_comment: d.may_comment,
            may_decide: d.may_decide,
            mixes: d.mixes.iter().map(|m| m.as_str().into()).collect(),
            name_pattern: d.name_pattern.clone(),
        }
    }
}

/// A new Moments clip or premix.
#[derive(Deserialize, ToSchema)]
pub struct NewAudioRequestJson {
    /// `moments`, `premix` or `casting` (an audition).
    #[schema(pattern = r"^(moments|premix|casting)$")]
    pub kind: String,
    /// Empty for an audition: "Audition: <character>".
    #[serde(default)]
    #[schema(max_length = 200)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub instructions: String,
    /// "23.976", "24", "25", "29.97", "29.97DF", "30", … (an audition without a clip: empty)
    #[serde(default)]
    pub frame_rate: String,
    /// The in point, "01:00:00:00".
    #[serde(default)]
    pub tc_in: String,
    /// The out point (exclusive: the first frame after the clip).
    #[serde(default)]
    pub tc_out: String,
    /// An episode ("S1E2"); a premix of a series needs one.
    #[serde(default)]
    pub episode: String,
    /// Target languages; empty: every language dubbed on the title.
    #[serde(default)]
    pub languages: Vec<String>,
    /// The premix limiter advice in dBTP (default −6).
    #[serde(default)]
    pub true_peak_limit: Option<f64>,
    /// A Moments clip's MP4 (or an audition's VTK clip), sent first as a resumable upload
    /// (`for: clip`).
    #[serde(default)]
    pub clip_upload: Option<uuid::Uuid>,
    /// An audition's character (`kind: casting`): a character of the title's Show Guide.
    #[serde(default)]
    pub character: Option<uuid::Uuid>,
}

/// Created.
#[derive(Serialize, ToSchema)]
pub struct CreatedAudioRequestJson {
    pub id: uuid::Uuid,
}

/// A title's Moments clips and premixes with the fulfilments the caller may see (a partner: its
/// own only), newest first.
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/audio-requests", tag = "audio",
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 200, description = "Audio requests", body = Vec<AudioRequestJson>))
)]
pub async fn list_audio_requests(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<AudioRequestJson>>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let board = state.app.audio_board(&who, id).await?;
    Ok(Json(board_json(&board)))
}

/// Asks for a Moments clip (with its MP4, uploaded first) or a premix. Each language gets a
/// fulfilment for the partner dubbing it, who is told in its vendor channel and by e-mail.
#[utoipa::path(
    post, path = "/api/v1/projects/{id}/audio-requests", tag = "audio",
    request_body = NewAudioRequestJson,
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 201, description = "Created", body = CreatedAudioRequestJson))
)]
pub async fn create_audio_request(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewAudioRequestJson>,
) -> Result<Response, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let input = NewAudioRequestInput {
        kind: body.kind,
        title: body.title,
        description: body.description,
        instructions: body.instructions,
        frame_rate: body.frame_rate,
        tc_in: body.tc_in,
        tc_out: body.tc_out,
        episode: body.episode,
        languages: body.languages,
        true_peak_limit: body.true_peak_limit,
        clip_upload: body.clip_upload.map(UploadId::from),
        character: body.character.map(domain::GuideItemId::from),
    };
    let created = state.app.create_audio_request(&who, id, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedAudioRequestJson {
            id: created.as_uuid(),
        }),
    )
        .into_response())
}

/// One fulfilment: the request, every version with its files and their reports, comments and
/// decisions, and what the caller may do.
#[utoipa::path(
    get, path = "/api/v1/fulfilments/{id}", tag = "audio",
    params(("id" = uuid::Uuid, Path, description = "Fulfilment id")),
    responses((status = 200, description = "The fulfilment", body = FulfilmentDetailJson))
)]
pub async fn get_fulfilment(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<FulfilmentDetailJson>, ApiError> {
    let id: FulfilmentId = parse_id(&id)?;
    Ok(Json((&state.app.view_fulfilment(&who, id).await?).into()))
}

/// The uploads making a version.
#[derive(Deserialize, ToSchema)]
pub struct SubmissionJson {
    /// Accepted uploads (`for: delivery` of this fulfilment), one or more.
    #[schema(min_items = 1, max_items = 16)]
    pub uploads: Vec<uuid::Uuid>,
}

/// Sends a version: accepted uploads become version n+1 (partners).
#[utoipa::path(
    post, path = "/api/v1/fulfilments/{id}/submissions", tag = "audio",
    request_body = SubmissionJson,
    params(("id" = uuid::Uuid, Path, description = "Fulfilment id")),
    responses((status = 200, description = "The fulfilment", body = FulfilmentDetailJson))
)]
pub async fn submit_version(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SubmissionJson>,
) -> Result<Json<FulfilmentDetailJson>, ApiError> {
    let id: FulfilmentId = parse_id(&id)?;
    let ids: Vec<UploadId> = body.uploads.into_iter().map(UploadId::from).collect();
    state.app.submit_delivery(&who, id, &ids).await?;
    Ok(Json((&state.app.view_fulfilment(&who, id).await?).into()))
}

/// A comment.
#[derive(Deserialize, ToSchema)]
pub struct CommentJson {
    #[schema(min_length = 1, max_length = 4000)]
    pub body: String,
    /// A clip timecode ("01:00:01:12") or seconds into the clip ("12.5") to pin it to.
    #[serde(default)]
    pub at: Option<String>,
}

/// Comments on a fulfilment, optionally at a timecode of the clip; the other side is told.
#[utoipa::path(
    post, path = "/api/v1/fulfilments/{id}/comments", tag = "audio",
    request_body = CommentJson,
    params(("id" = uuid::Uuid, Path, description = "Fulfilment id")),
    responses((status = 200, description = "The fulfilment", body = FulfilmentDetailJson))
)]
pub async fn comment(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CommentJson>,
) -> Result<Json<FulfilmentDetailJson>, ApiError> {
    let id: FulfilmentId = parse_id(&id)?;
    state
        .app
        .comment_fulfilment(&who, id, &body.body, body.at.as_deref())
        .await?;
    Ok(Json((&state.app.view_fulfilment(&who, id).await?).into()))
}

/// A studio decision.
#[derive(Deserialize, ToSchema)]
pub struct DecisionJson {
    /// `approve`, `request_changes` or `reopen`.
    #[schema(pattern = r"^(approve|request_changes|reopen)$")]
    pub decision: String,
    /// What to change (needed to ask for changes or reopen).
    #[serde(default)]
    pub body: String,
}

/// Approves the version in review, asks for changes, or reopens an approval (studio).
#[utoipa::path(
    post, path = "/api/v1/fulfilments/{id}/decision", tag = "audio",
    request_body = DecisionJson,
    params(("id" = uuid::Uuid, Path, description = "Fulfilment id")),
    responses((status = 200, description = "The fulfilment", body = FulfilmentDetailJson), (status = 409, description = "Not allowed in the fulfilment's state (e.g. nothing in review)", body = ApiErrorBody))
)]
pub async fn decide(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DecisionJson>,
) -> Result<Json<FulfilmentDetailJson>, ApiError> {
    let id: FulfilmentId = parse_id(&id)?;
    let decision = Decision::parse(&body.decision).map_err(|e| AppError::invalid("decision", e))?;
    state
        .app
        .decide_fulfilment(&who, id, decision, &body.body)
        .await?;
    Ok(Json((&state.app.view_fulfilment(&who, id).await?).into()))
}

/// The clip's MP4 (Range requests supported, for players that seek).
#[utoipa::path(
    get, path = "/api/v1/audio-requests/{id}/clip", tag = "audio",
    params(("id" = uuid::Uuid, Path, description = "Audio request id"), crate::download::DownloadQuery),
    responses((status = 200, description = "The clip", content_type = "video/mp4"), (status = 206, description = "Part of it"))
)]
pub async fn clip(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<crate::download::DownloadQuery>,
) -> Result<Response, ApiError> {
    let what = Media::Clip(parse_id(&id)?);
    Ok(media(&state, &who, what, &headers, q.download.is_some()).await?)
}

/// A clip or a delivered recording: the two media files players seek in.
pub(crate) enum Media {
    Clip(AudioRequestId),
    Delivery(SubmissionFileId),
}

/// Sends a clip or a recording (the part a `Range` header asks for), through the policy.
pub(crate) async fn media(
    state: &AppState,
    who: &app::auth::Authenticated,
    what: Media,
    headers: &HeaderMap,
    download: bool,
) -> Result<Response, AppError> {
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (served, media_type) = match what {
        Media::Clip(id) => (state.app.open_clip(who, id, range).await?, "video/mp4"),
        Media::Delivery(id) => (state.app.open_delivery(who, id, range).await?, "audio/wav"),
    };
    Ok(crate::download::media_response(
        served, media_type, download,
    ))
}

/// A delivered WAV (Range requests supported).
#[utoipa::path(
    get, path = "/api/v1/delivery-files/{id}", tag = "audio",
    params(("id" = uuid::Uuid, Path, description = "File id"), crate::download::DownloadQuery),
    responses((status = 200, description = "The file", content_type = "audio/wav"), (status = 206, description = "Part of it"))
)]
pub async fn delivery_file(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<crate::download::DownloadQuery>,
) -> Result<Response, ApiError> {
    let what = Media::Delivery(parse_id(&id)?);
    Ok(media(&state, &who, what, &headers, q.download.is_some()).await?)
}

/// A delivered WAV's waveform picture (SVG; red where it clips).
#[utoipa::path(
    get, path = "/api/v1/delivery-files/{id}/waveform", tag = "audio",
    params(("id" = uuid::Uuid, Path, description = "File id")),
    responses((status = 200, description = "The picture", content_type = "image/svg+xml"))
)]
pub async fn waveform(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: SubmissionFileId = parse_id(&id)?;
    Ok(waveform_response(&state, &who, id).await?)
}

pub(crate) async fn waveform_response(
    state: &AppState,
    who: &app::auth::Authenticated,
    id: SubmissionFileId,
) -> Result<Response, AppError> {
    let svg = state.app.delivery_waveform(who, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=300"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ),
        ],
        svg,
    )
        .into_response())
}

/// Where an upload stands.
#[derive(Serialize, ToSchema)]
pub struct UploadJson {
    pub id: uuid::Uuid,
    pub name: String,
    pub length: u64,
    /// Bytes stored so far (the offset to resume from).
    pub offset: u64,
    /// `receiving`, `accepted` or `refused`.
    pub state: String,
    /// Why it was refused, in the checker's words.
    pub refusal: Option<String>,
    /// An accepted recording's report: the JSON of `locportal check wav --json`. For a clip:
    /// its duration and time scale.
    #[schema(value_type = Object)]
    pub report: Option<serde_json::Value>,
}

impl From<&UploadRecord> for UploadJson {
    fn from(u: &UploadRecord) -> Self {
        let (refusal, report) = match u.state {
            UploadState::Refused => (u.outcome.clone(), None),
            UploadState::Accepted => (
                None,
                u.outcome
                    .as_deref()
                    .and_then(|o| serde_json::from_str(o).ok()),
            ),
            UploadState::Receiving => (None, None),
        };
        Self {
            id: u.id.as_uuid(),
            name: u.name.clone(),
            length: u.length,
            offset: u.received,
            state: u.state.as_str().into(),
            refusal,
            report,
        }
    }
}

fn tus_headers(response: &mut Response) {
    let h = response.headers_mut();
    h.insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn offset_headers(response: &mut Response, u: &UploadRecord) {
    tus_headers(response);
    let h = response.headers_mut();
    h.insert("upload-offset", HeaderValue::from(u.received));
    h.insert("upload-length", HeaderValue::from(u.length));
}

/// Refuses a client speaking another tus version (412), as the protocol asks.
fn version_refusal(headers: &HeaderMap) -> Option<Response> {
    match headers.get("tus-resumable").map(HeaderValue::to_str) {
        None => None,
        // Empty is as good as absent: the request is judged on its own terms.
        Some(Ok(v)) if v.trim().is_empty() || v.trim() == TUS_VERSION => None,
        Some(_) => {
            let mut r = crate::error::api_error_response(
                crate::error::ErrorCode::BadRequest,
                format!(
                    "This server speaks tus {TUS_VERSION}; send `Tus-Resumable: {TUS_VERSION}`."
                ),
            );
            *r.status_mut() = StatusCode::PRECONDITION_FAILED;
            r.headers_mut()
                .insert("tus-version", HeaderValue::from_static(TUS_VERSION));
            Some(r)
        }
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Result<u64, AppError> {
    let raw = headers
        .get(name)
        .ok_or_else(|| AppError::invalid(name, format!("send the `{name}` header")))?;
    raw.to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| AppError::invalid(name, format!("`{name}` is a number of bytes")))
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs.
fn metadata(headers: &HeaderMap) -> Result<std::collections::BTreeMap<String, String>, AppError> {
    let mut out = std::collections::BTreeMap::new();
    let Some(raw) = headers.get("upload-metadata") else {
        return Ok(out);
    };
    let raw = raw
        .to_str()
        .map_err(|_| AppError::invalid("upload-metadata", "not readable text"))?;
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| {
                AppError::invalid(
                    "upload-metadata",
                    format!("the value of {key:?} is not base64"),
                )
            })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            AppError::invalid(
                "upload-metadata",
                format!("the value of {key:?} is not UTF-8"),
            )
        })?;
        out.insert(key.to_string(), text);
    }
    Ok(out)
}

fn purpose_of(meta: &std::collections::BTreeMap<String, String>) -> Result<Purpose, AppError> {
    let get = |k: &str| {
        meta.get(k)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    match get("for").as_str() {
        "clip" => Ok(Purpose::Clip {
            project: get("project")
                .parse()
                .map_err(|_| AppError::invalid("upload-metadata", "`project` is a project id"))?,
        }),
        "delivery" => Ok(Purpose::Delivery {
            fulfilment: get("fulfilment").parse().map_err(|_| {
                AppError::invalid("upload-metadata", "`fulfilment` is a fulfilment id")
            })?,
            mix: get("mix"),
            talent: get("talent"),
        }),
        _ => Err(AppError::invalid(
            "upload-metadata",
            "say what the file is for: `for` is `clip` (with `project`) or `delivery` (with `fulfilment`, `mix` and `talent`)",
        )),
    }
}

/// What the upload endpoint offers (tus discovery).
#[utoipa::path(
    options, path = "/api/v1/uploads", tag = "audio",
    responses((status = 204, description = "The protocol's version, extensions and largest size in headers"))
)]
pub async fn upload_options(State(state): State<AppState>) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    tus_headers(&mut r);
    let h = r.headers_mut();
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert(
        "tus-extension",
        HeaderValue::from_static("creation,termination"),
    );
    h.insert(
        "tus-max-size",
        HeaderValue::from(state.app.config.max_upload_bytes),
    );
    r
}

/// Starts a resumable upload (tus `creation`): `Upload-Length` (bytes) and `Upload-Metadata`
/// with `filename`, `for` (`clip` + `project`, or `delivery` + `fulfilment`, `mix`, `talent`),
/// all base64. The name and the right to upload are checked now, before any byte. The new
/// upload's address is in `Location`.
#[utoipa::path(
    post, path = "/api/v1/uploads", tag = "audio",
    params(
        ("Upload-Length" = u64, Header, description = "The whole file's size in bytes"),
        ("Upload-Metadata" = String, Header, description = "`filename`, `for`, `project` or `fulfilment`, `mix`, `talent`: key and base64 value pairs, comma-separated"),
        ("Tus-Resumable" = Option<String>, Header, description = "1.0.0")
    ),
    responses(
        (status = 201, description = "Created; `Location` is the upload's address", body = UploadJson),
        (status = 409, description = "The fulfilment takes no upload now (approved, or cast)", body = ApiErrorBody),
        (status = 412, description = "Another tus version", body = ApiErrorBody),
        (status = 413, description = "Longer than the largest upload", body = ApiErrorBody),
        (status = 422, description = "The metadata, name or length is wrong (the message says how)", body = ApiErrorBody)
    )
)]
pub async fn create_upload(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(r) = version_refusal(&headers) {
        return Ok(r);
    }
    let length = header_u64(&headers, "upload-length")?;
    let meta = metadata(&headers)?;
    let name = meta.get("filename").cloned().unwrap_or_default();
    let purpose = purpose_of(&meta)?;
    let rec = state
        .app
        .create_upload(
            &who,
            NewUpload {
                purpose,
                name,
                length,
            },
        )
        .await?;
    let mut r = (StatusCode::CREATED, Json(UploadJson::from(&rec))).into_response();
    offset_headers(&mut r, &rec);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/uploads/{}", rec.id)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// How much of an upload the server has (tus: `Upload-Offset`), in headers.
#[utoipa::path(
    head, path = "/api/v1/uploads/{id}", tag = "audio",
    params(("id" = uuid::Uuid, Path, description = "Upload id")),
    responses((status = 200, description = "`Upload-Offset` and `Upload-Length` in headers"))
)]
pub async fn upload_offset(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: UploadId = parse_id(&id)?;
    let rec = state.app.upload_status(&who, id).await?;
    let mut r = StatusCode::OK.into_response();
    offset_headers(&mut r, &rec);
    Ok(r)
}

/// Where an upload stands, with the verdict once complete.
#[utoipa::path(
    get, path = "/api/v1/uploads/{id}", tag = "audio",
    params(("id" = uuid::Uuid, Path, description = "Upload id")),
    responses((status = 200, description = "The upload", body = UploadJson))
)]
pub async fn get_upload(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: UploadId = parse_id(&id)?;
    let rec = state.app.upload_status(&who, id).await?;
    let mut r = Json(UploadJson::from(&rec)).into_response();
    offset_headers(&mut r, &rec);
    Ok(r)
}

/// Appends bytes at `Upload-Offset` (which must be what the server has: else 409). Send
/// `Content-Type: application/offset+octet-stream`. While bytes are missing the answer is 204
/// with the new `Upload-Offset`; the piece with the last byte gets the verdict: 200 with the
/// accepted upload (and its report), or 422 with the checker's words (nothing is kept).
#[utoipa::path(
    patch, path = "/api/v1/uploads/{id}", tag = "audio",
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    params(
        ("id" = uuid::Uuid, Path, description = "Upload id"),
        ("Upload-Offset" = u64, Header, description = "Where these bytes start")
    ),
    responses(
        (status = 200, description = "The last byte arrived and the file was accepted", body = UploadJson),
        (status = 204, description = "Stored; `Upload-Offset` is the new offset"),
        (status = 409, description = "The offset is not what the server has (ask with HEAD)", body = ApiErrorBody),
        (status = 422, description = "The file was refused (the message says why); nothing was kept", body = ApiErrorBody)
    )
)]
pub async fn append_upload(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if let Some(r) = version_refusal(&headers) {
        return Ok(r);
    }
    let id: UploadId = parse_id(&id)?;
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !media.eq_ignore_ascii_case("application/offset+octet-stream") {
        return Ok(crate::error::api_error_response(
            crate::error::ErrorCode::UnsupportedMediaType,
            "Send the bytes with `Content-Type: application/offset+octet-stream`.".into(),
        ));
    }
    let offset = header_u64(&headers, "upload-offset")?;
    let stream = body.into_data_stream().map_err(|e| e.to_string());
    let rec = state.app.append_upload(&who, id, offset, stream).await?;
    let mut r = match rec.state {
        UploadState::Receiving => StatusCode::NO_CONTENT.into_response(),
        UploadState::Accepted => Json(UploadJson::from(&rec)).into_response(),
        UploadState::Refused => ApiError(AppError::invalid(
            "file",
            rec.outcome.clone().unwrap_or_default(),
        ))
        .into_response(),
    };
    offset_headers(&mut r, &rec);
    Ok(r)
}

/// Gives up an upload (tus `termination`): its bytes are deleted.
#[utoipa::path(
    delete, path = "/api/v1/uploads/{id}", tag = "audio",
    params(("id" = uuid::Uuid, Path, description = "Upload id")),
    responses((status = 204, description = "Deleted"))
)]
pub async fn delete_upload(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: UploadId = parse_id(&id)?;
    state.app.cancel_upload(&who, id).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    tus_headers(&mut r);
    Ok(r)
}
