//! Audio fulfilment pages: a title's Moments tab (its clips and premixes, and the form to ask
//! for one), one fulfilment (the clip playing with its timecode, the upload with progress, every
//! version's verdict, QC and waveform, playing in sync with the picture, comments pinned to
//! timecodes, decisions), and the clip and delivered files themselves.
//!
//! Files arrive through the resumable upload API (`static/app.js` speaks it, with a progress
//! bar); the forms here then name the finished uploads.

use crate::AppState;
use crate::auth::PortalUser;
use crate::error::PageError;
use crate::pages::{Layout, parse_id};
use app::fulfilment::{
    AudioBoard, Decision, DeliveryFile, FulfilmentDetail, NewAudioRequestInput, NoteView,
};
use app::{AppError, FieldErrors};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use domain::fulfilment::FulfilmentState;
use domain::{AudioRequestId, FulfilmentId, ProjectId, SubmissionFileId, UploadId};
use serde::Deserialize;
use store::NoteKind;

/// The request form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AudioForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    instructions: String,
    #[serde(default)]
    frame_rate: String,
    #[serde(default)]
    tc_in: String,
    #[serde(default)]
    tc_out: String,
    #[serde(default)]
    episode: String,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    true_peak_limit: String,
    #[serde(default)]
    clip_upload: String,
    /// An audition's character.
    #[serde(default)]
    character: String,
    /// Where to go back to: the Moments tab, or `casting`.
    #[serde(default)]
    back: String,
}

impl AudioForm {
    fn has_language(&self, l: &str) -> bool {
        self.languages.iter().any(|x| x == l)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "moments.html")]
struct MomentsTemplate {
    layout: Layout,
    board: AudioBoard,
    form: AudioForm,
    errors: FieldErrors,
    open_form: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "fulfilment.html")]
struct FulfilmentTemplate {
    layout: Layout,
    d: FulfilmentDetail,
    error: Option<String>,
    /// The clip's address, when there is one.
    clip_url: Option<String>,
}

impl FulfilmentTemplate {
    fn state_class(&self) -> &'static str {
        self.d.fulfilment.state.as_str()
    }

    fn is_casting(&self) -> bool {
        self.d.request.kind == domain::fulfilment::AudioKind::Casting
    }

    /// An audition sample's standing: `approved`, `rejected`, `cast`, or "" (undecided).
    fn sample_state(&self, version: &u32) -> &'static str {
        self.d.samples.get(version).copied().unwrap_or("")
    }

    fn in_review(&self) -> bool {
        self.d.fulfilment.state == FulfilmentState::Submitted
    }

    fn approved(&self) -> bool {
        self.d.fulfilment.state == FulfilmentState::Approved
    }

    /// The frame number of the in point, for the player's timecode display.
    fn start_frame(&self) -> u64 {
        self.d.span.rate.frames_of(&self.d.span.tc_in).unwrap_or(0)
    }

    fn fig(&self, x: &DeliveryFile, path: &[&str; 2], unit: &str) -> String {
        figure(&x.report, path, unit)
    }

    fn warnings_of(&self, x: &DeliveryFile) -> Vec<String> {
        findings(&x.report, "warnings")
    }

    fn silence_of(&self, x: &DeliveryFile) -> String {
        silences(&x.report)
    }

    fn channels_of(&self, x: &DeliveryFile) -> Vec<[String; 6]> {
        channel_rows(&x.report)
    }

    fn note_label(&self, n: &NoteView) -> &'static str {
        match n.record.kind {
            NoteKind::Comment => "Comment",
            NoteKind::Submitted => "Sent a version",
            NoteKind::Approved => "Approved",
            NoteKind::ChangesRequested => "Asked for changes",
            NoteKind::Reopened => "Reopened",
            NoteKind::Rejected => "Turned a sample down",
            NoteKind::Cast => "Cast",
        }
    }

    /// RFC 3339, which the page script turns into the viewer's local time.
    fn ts(&self, t: &time::OffsetDateTime) -> String {
        crate::api::ts(*t)
    }

    fn seconds_text(&self, n: &NoteView) -> String {
        n.seconds.map(|s| format!("{s:.3}")).unwrap_or_default()
    }
}

/// A figure of a report, for the QC table: `value` at `path`, formatted, or "—".
pub fn figure(report: &serde_json::Value, path: &[&str], unit: &str) -> String {
    let mut v = report;
    for p in path {
        match v.get(*p) {
            Some(next) => v = next,
            None => return "—".into(),
        }
    }
    match v.as_f64() {
        Some(x) if unit.is_empty() => format!("{x}"),
        Some(x) => format!("{x:.1} {unit}"),
        None => v.as_str().map_or_else(|| "—".into(), str::to_string),
    }
}

/// The messages of a report's findings of one kind ("errors", "warnings").
pub fn findings(report: &serde_json::Value, kind: &str) -> Vec<String> {
    report
        .get(kind)
        .and_then(|w| w.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|f| {
                    f.get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Per-channel QC lines: (channel, peak, true peak, RMS, noise floor, clipped samples).
pub fn channel_rows(report: &serde_json::Value) -> Vec<[String; 6]> {
    let Some(chs) = report
        .get("qc")
        .and_then(|q| q.get("channels"))
        .and_then(|c| c.as_array())
    else {
        return Vec::new();
    };
    chs.iter()
        .enumerate()
        .map(|(i, c)| {
            let m = c.get("measures").unwrap_or(c);
            let db = |k: &str| {
                m.get(k)
                    .and_then(|v| v.as_f64())
                    .map_or_else(|| "—".into(), |x| format!("{x:.1}"))
            };
            let clipped = m
                .get("clipped_samples")
                .and_then(|v| v.as_u64())
                .map_or_else(|| "—".into(), |x| x.to_string());
            let at = c
                .get("clip_event_times")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .take(3)
                        .filter_map(|e| e.get("timecode").and_then(|t| t.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .filter(|s| !s.is_empty())
                .map(|s| format!(" at {s}"))
                .unwrap_or_default();
            [
                format!("{}", i + 1),
                db("sample_peak_dbfs"),
                db("true_peak_dbtp"),
                db("rms_dbfs"),
                db("noise_floor_dbfs"),
                format!("{clipped}{at}"),
            ]
        })
        .collect()
}

/// Silence at the head and tail, in words.
pub fn silences(report: &serde_json::Value) -> String {
    let rate = report
        .get("format")
        .and_then(|f| f.get("sample_rate"))
        .and_then(|r| r.as_f64())
        .filter(|r| *r > 0.0);
    let first = report
        .get("qc")
        .and_then(|q| q.get("channels"))
        .and_then(|c| c.as_array())
        .and_then(|a| a.first());
    let (Some(rate), Some(m)) = (rate, first) else {
        return "—".into();
    };
    let s = |k: &str| m.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0) / rate;
    format!(
        "{:.2} s at the head, {:.2} s at the tail",
        s("leading_silence_samples"),
        s("trailing_silence_samples")
    )
}

#[allow(clippy::too_many_arguments)]
async fn render_board(
    state: &AppState,
    who: &app::auth::Authenticated,
    auth: &crate::auth::RequestAuth,
    id: ProjectId,
    form: AudioForm,
    errors: FieldErrors,
    status: StatusCode,
    flash: Option<String>,
) -> Result<Response, PageError> {
    let board = state.app.audio_board(who, id).await?;
    let mut layout = Layout::new(format!("{} · Moments", board.project.name), auth);
    layout.flash = flash;
    let open_form = !errors.is_empty();
    let mut form = form;
    if form.frame_rate.is_empty() {
        form.frame_rate = "23.976".into();
    }
    if form.kind.is_empty() {
        form.kind = "moments".into();
    }
    Ok((
        status,
        MomentsTemplate {
            layout,
            board,
            form,
            errors,
            open_form,
        },
    )
        .into_response())
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    #[serde(default)]
    saved: String,
}

/// `GET /projects/{id}/moments`: the title's Moments clips and premixes.
pub async fn board(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let flash =
        (q.saved == "created").then(|| "Requested: each partner has been told.".to_string());
    render_board(
        &state,
        &who,
        &auth,
        id,
        AudioForm::default(),
        FieldErrors::new(),
        StatusCode::OK,
        flash,
    )
    .await
}

/// `POST /projects/{id}/moments`: asks for a clip (its MP4 already uploaded) or a premix.
pub async fn create(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Form(form): Form<AudioForm>,
) -> Result<Response, PageError> {
    let id: ProjectId = parse_id(&id)?;
    let _ = &form.csrf;
    let mut errors = FieldErrors::new();
    let limit = match form.true_peak_limit.trim().replace('−', "-") {
        s if s.is_empty() => None,
        s => match s.parse::<f64>() {
            Ok(x) => Some(x),
            Err(_) => {
                errors.add("true_peak_limit", "a level in dBTP, like -6");
                None
            }
        },
    };
    let clip_upload = match form.clip_upload.trim() {
        "" => None,
        s => match s.parse::<UploadId>() {
            Ok(u) => Some(u),
            Err(_) => {
                errors.add("clip", "upload the clip again");
                None
            }
        },
    };
    if errors.is_empty() {
        let input = NewAudioRequestInput {
            kind: form.kind.clone(),
            title: form.title.clone(),
            description: form.description.clone(),
            instructions: form.instructions.clone(),
            frame_rate: form.frame_rate.clone(),
            tc_in: form.tc_in.clone(),
            tc_out: form.tc_out.clone(),
            episode: form.episode.clone(),
            languages: form.languages.clone(),
            true_peak_limit: limit,
            clip_upload,
            character: match form.character.trim() {
                "" => None,
                c => c.parse().ok(),
            },
        };
        match state.app.create_audio_request(&who, id, &input).await {
            Ok(_) => {
                let tab = if form.back == "casting" {
                    "casting"
                } else {
                    "moments"
                };
                return Ok(
                    Redirect::to(&format!("/projects/{id}/{tab}?saved=created")).into_response()
                );
            }
            Err(AppError::Invalid(e) | AppError::Conflict(e)) => errors = e,
            Err(e) => return Err(e.into()),
        }
    }
    if form.back == "casting" {
        return crate::pages::guide::render_casting(
            &state,
            &who,
            &auth,
            id,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        )
        .await;
    }
    render_board(
        &state,
        &who,
        &auth,
        id,
        form,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
    )
    .await
}

async fn render_fulfilment(
    state: &AppState,
    who: &app::auth::Authenticated,
    auth: &crate::auth::RequestAuth,
    id: FulfilmentId,
    error: Option<String>,
    status: StatusCode,
    flash: Option<String>,
) -> Result<Response, PageError> {
    let d = state.app.view_fulfilment(who, id).await?;
    let mut layout = Layout::new(
        format!("{} · {}", d.request.title, d.fulfilment.language),
        auth,
    );
    layout.flash = flash;
    let clip_url = d
        .request
        .clip
        .as_ref()
        .map(|_| format!("/audio-requests/{}/clip", d.request.id));
    Ok((
        status,
        FulfilmentTemplate {
            layout,
            d,
            error,
            clip_url,
        },
    )
        .into_response())
}

/// `GET /fulfilments/{id}`: one language's fulfilment.
pub async fn show(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let id: FulfilmentId = parse_id(&id)?;
    let flash = match q.saved.as_str() {
        "submitted" => Some("Sent. The studio has been told.".to_string()),
        "commented" => Some("Comment posted.".to_string()),
        "decided" => Some("Decision recorded; the partner has been told.".to_string()),
        _ => None,
    };
    render_fulfilment(&state, &who, &auth, id, None, StatusCode::OK, flash).await
}

#[derive(Deserialize, Default)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    uploads: Vec<String>,
    /// The sample a decision is about.
    #[serde(default)]
    version: String,
}

/// `POST /fulfilments/{id}/{action}`: `comment`, `decision` or `submit` (naming finished uploads).
pub async fn act(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    let id: FulfilmentId = parse_id(&id)?;
    let _ = &form.csrf;
    let done = match action.as_str() {
        "comment" => state
            .app
            .comment_fulfilment(&who, id, &form.body, Some(&form.at))
            .await
            .map(|_| "commented"),
        "decision" => match Decision::parse(&form.decision) {
            Ok(d) => state
                .app
                .decide_fulfilment(&who, id, d, &form.body)
                .await
                .map(|_| "decided"),
            Err(e) => Err(AppError::invalid("decision", e)),
        },
        "sample" => match (
            form.version.trim().parse::<u32>(),
            crate::api::parse_sample_decision(&form.decision),
        ) {
            (Ok(v), Ok(d)) => state
                .app
                .decide_sample(&who, id, v, d, &form.body)
                .await
                .map(|_| "decided"),
            (Err(_), _) => Err(AppError::invalid("version", "choose a sample")),
            (_, Err(e)) => Err(e),
        },
        "submit" => {
            let ids: Result<Vec<UploadId>, _> =
                form.uploads.iter().map(|u| u.trim().parse()).collect();
            match ids {
                Ok(ids) => state
                    .app
                    .submit_delivery(&who, id, &ids)
                    .await
                    .map(|_| "submitted"),
                Err(_) => Err(AppError::invalid("uploads", "upload the files again")),
            }
        }
        _ => return Err(AppError::NotFound.into()),
    };
    match done {
        Ok(what) => Ok(Redirect::to(&format!("/fulfilments/{id}?saved={what}")).into_response()),
        Err(AppError::Invalid(e) | AppError::Conflict(e)) => {
            let text = e.text();
            render_fulfilment(
                &state,
                &who,
                &auth,
                id,
                Some(text),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct DownloadFlag {
    download: Option<String>,
}

/// `GET /audio-requests/{id}/clip`: the clip (Range requests for the player).
pub async fn clip(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<DownloadFlag>,
) -> Result<Response, PageError> {
    let what = crate::api::AudioMedia::Clip(parse_id::<AudioRequestId>(&id)?);
    Ok(crate::api::audio_media(&state, &who, what, &headers, q.download.is_some()).await?)
}

/// `GET /delivery-files/{id}`: a delivered WAV.
pub async fn delivery(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<DownloadFlag>,
) -> Result<Response, PageError> {
    let what = crate::api::AudioMedia::Delivery(parse_id::<SubmissionFileId>(&id)?);
    Ok(crate::api::audio_media(&state, &who, what, &headers, q.download.is_some()).await?)
}

/// `GET /delivery-files/{id}/waveform.svg`.
pub async fn waveform(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: SubmissionFileId = parse_id(&id)?;
    Ok(crate::api::audio_waveform_response(&state, &who, id).await?)
}
