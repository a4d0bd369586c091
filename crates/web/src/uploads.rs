//! Messages with files: `multipart/form-data` with the text in a `body` field and each file in
//! a `file` field, the same for the composer form and for the API.
//!
//! Each file is streamed into staging as it arrives (see `app::files`) and checked there; the
//! first refusal ends the request, and every staging file of the request is removed with it.
//! Whether the sender may attach at all is asked before the first byte of a file is written.

use app::auth::Authenticated;
use app::files::{Staged, UploadError};
use app::{App, AppError};
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::ChannelId;
use domain::attachments::{
    Accept, AttachmentName, AttachmentRefusal, MAX_BYTES, MAX_PER_MESSAGE, MAX_SCRIPT_BYTES,
};

/// Requests other than file uploads carry at most this much.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// A message with the most files it may have, plus room for its text and the form framing.
pub const UPLOAD_LIMIT: usize = MAX_PER_MESSAGE * (MAX_BYTES as usize) + BODY_LIMIT;

/// The longest text field read from a multipart form.
const MAX_TEXT_FIELD: usize = 256 * 1024;
/// The most text fields a multipart form may have.
const MAX_TEXT_FIELDS: usize = 64;
/// The most reference files sent with one order of requests.
pub const MAX_REFERENCE_FILES: usize = 5;
/// An order of requests with its reference files, or a step's file, plus the form framing.
pub const SCRIPT_UPLOAD_LIMIT: usize =
    MAX_REFERENCE_FILES * (MAX_SCRIPT_BYTES as usize) + BODY_LIMIT;

/// A message as sent: its text and its received, checked files.
pub struct Draft {
    pub body: String,
    pub files: Vec<Staged>,
}

pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

fn refused(name: &str, why: impl std::fmt::Display) -> AppError {
    AppError::invalid("files", format!("{name}: {why}"))
}

/// Reads a multipart message for `channel_id`.
pub async fn read_draft(
    app: &App,
    who: &Authenticated,
    channel_id: ChannelId,
    req: Request,
) -> Result<Draft, AppError> {
    let form = read_form(app, req, Accept::Message, MAX_PER_MESSAGE, || {
        app.may_attach(who, channel_id)
    })
    .await?;
    Ok(Draft {
        body: form.field("body").unwrap_or_default().to_string(),
        files: form.files,
    })
}

/// A multipart form as received: its text fields and its checked, staged files.
pub struct ReceivedForm {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Staged>,
}

/// A form sent as `application/x-www-form-urlencoded` (no files), in the same shape.
pub async fn read_urlencoded(req: Request) -> Result<ReceivedForm, AppError> {
    use axum::extract::FromRequest;
    let axum_extra::extract::Form(fields): axum_extra::extract::Form<Vec<(String, String)>> =
        axum_extra::extract::Form::from_request(req, &())
            .await
            .map_err(|e| AppError::invalid("form", format!("the form could not be read: {e}")))?;
    Ok(ReceivedForm {
        fields,
        files: Vec::new(),
    })
}

impl ReceivedForm {
    /// The first value of a text field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a text field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The one upload path: reads a `multipart/form-data` body, streaming each `file` part into
/// staging with the size limit and content check of `accept`. `may_upload` is asked once,
/// before the first byte of the first file is written.
pub async fn read_form<F, Fut>(
    app: &App,
    req: Request,
    accept: Accept,
    max_files: usize,
    mut may_upload: F,
) -> Result<ReceivedForm, AppError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let mut form = Multipart::from_request(req, &()).await.map_err(|e| {
        AppError::invalid(
            "files",
            format!("the form could not be read: {}", e.body_text()),
        )
    })?;
    let limit_text = too_large_text(accept, max_files);
    let malformed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return AppError::TooLarge(limit_text.clone());
        }
        AppError::invalid(
            "files",
            format!(
                "the upload was interrupted or malformed ({}); send it again",
                e.body_text()
            ),
        )
    };
    let mut out = ReceivedForm {
        fields: Vec::new(),
        files: Vec::new(),
    };
    let mut checked_access = false;
    while let Some(mut field) = form.next_field().await.map_err(malformed)? {
        let field_name = field.name().unwrap_or_default().to_string();
        match field_name.as_str() {
            "file" | "files" => {
                let raw_name = field.file_name().unwrap_or_default().to_string();
                // A file input left empty arrives as a part with no name and no bytes.
                if raw_name.is_empty() {
                    while field
                        .chunk()
                        .await
                        .map_err(malformed)?
                        .is_some_and(|c| c.is_empty())
                    {}
                    continue;
                }
                if !checked_access {
                    may_upload().await?;
                    checked_access = true;
                }
                let name = AttachmentName::parse_for(&raw_name, accept)
                    .map_err(|r| refused(&raw_name, r))?;
                if out.files.len() == max_files {
                    return Err(match accept {
                        Accept::Message => refused(&raw_name, AttachmentRefusal::TooMany),
                        Accept::Script | Accept::Delivery | Accept::Clip => refused(
                            &raw_name,
                            format!("send at most {max_files} file(s) at once"),
                        ),
                    });
                }
                let shown = name.to_string();
                let mut upload = app
                    .files
                    .begin_upload_for(name, accept)
                    .await
                    .map_err(|e| AppError::Internal(format!("starting an upload: {e}")))?;
                let outcome = async {
                    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                        upload
                            .write(&chunk)
                            .await
                            .map_err(|e| upload_error(&shown, e))?;
                    }
                    upload.finish().await.map_err(|e| upload_error(&shown, e))
                };
                out.files.push(outcome.await?);
            }
            _ => {
                if out.fields.len() >= MAX_TEXT_FIELDS {
                    return Err(AppError::invalid("form", "this form has too many fields"));
                }
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > MAX_TEXT_FIELD {
                        return Err(AppError::invalid(
                            &field_name,
                            "this text is too long; attach a file for longer texts",
                        ));
                    }
                }
                let text = String::from_utf8(text)
                    .map_err(|_| AppError::invalid(&field_name, "the text is not UTF-8"))?;
                out.fields.push((field_name, text));
            }
        }
    }
    Ok(out)
}

fn too_large_text(accept: Accept, max_files: usize) -> String {
    format!(
        "This upload is too large: at most {max_files} file(s) of at most {} MB each.",
        accept.max_bytes() / (1024 * 1024)
    )
}

fn upload_error(name: &str, e: UploadError) -> AppError {
    match e {
        UploadError::Refused(r) => refused(name, r),
        UploadError::Io(e) => AppError::Internal(format!("receiving {name}: {e}")),
    }
}

/// Limits request bodies: 1 MB, except multipart messages to a channel (files). A body
/// announced as larger is refused at once with a message saying what the limits are.
pub async fn limit_body(req: Request, next: Next) -> Response {
    if is_resumable_piece(&req) {
        // Checked against the length declared when the upload was created, as it streams.
        return next.run(req).await;
    }
    let path = req.uri().path();
    let multipart = is_multipart(req.headers());
    let uploads = multipart
        && path.ends_with("/messages")
        && (path.starts_with("/channels/") || path.starts_with("/api/v1/channels/"));
    let scripts = multipart && is_script_upload(path);
    let limit = if scripts {
        SCRIPT_UPLOAD_LIMIT
    } else if uploads {
        UPLOAD_LIMIT
    } else {
        BODY_LIMIT
    };
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limit) {
        let msg = if scripts {
            too_large_text(Accept::Script, MAX_REFERENCE_FILES)
        } else if uploads {
            format!(
                "This upload is too large: a message has at most {MAX_PER_MESSAGE} files of at most 10 MB each."
            )
        } else {
            "This request is too large (at most 1 MB).".to_string()
        };
        return (StatusCode::PAYLOAD_TOO_LARGE, msg).into_response();
    }
    let (parts, body) = req.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}

/// A piece of a resumable upload (`PATCH /api/v1/uploads/{id}`): any size, any duration.
pub fn is_resumable_piece(req: &Request) -> bool {
    req.method() == axum::http::Method::PATCH
        && req
            .uri()
            .path()
            .strip_prefix("/api/v1/uploads/")
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// Routes that take files of script work: ordering requests (reference files) and submitting a
/// step, for pages and the API.
fn is_script_upload(path: &str) -> bool {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let parts: Vec<&str> = path.split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "projects", _, "requests"]
            | ["", "requests", _, "submit"]
            | ["", "requests", _, "files"]
            | ["", "requests", _, "steps", _, "submit"]
    )
}
