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
use domain::attachments::{AttachmentName, AttachmentRefusal, MAX_BYTES, MAX_PER_MESSAGE};

/// Requests other than file uploads carry at most this much.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// A message with the most files it may have, plus room for its text and the form framing.
pub const UPLOAD_LIMIT: usize = MAX_PER_MESSAGE * (MAX_BYTES as usize) + BODY_LIMIT;

/// The longest text field read from a multipart form.
const MAX_TEXT_FIELD: usize = 256 * 1024;

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
    let mut form = Multipart::from_request(req, &()).await.map_err(|e| {
        AppError::invalid(
            "files",
            format!("the form could not be read: {}", e.body_text()),
        )
    })?;
    let malformed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return AppError::TooLarge(format!(
                "This upload is too large: a message has at most {MAX_PER_MESSAGE} files of at most 10 MB each."
            ));
        }
        AppError::invalid(
            "files",
            format!(
                "the upload was interrupted or malformed ({}); send it again",
                e.body_text()
            ),
        )
    };
    let mut draft = Draft {
        body: String::new(),
        files: Vec::new(),
    };
    let mut checked_access = false;
    while let Some(mut field) = form.next_field().await.map_err(malformed)? {
        match field.name().unwrap_or_default() {
            "body" => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > MAX_TEXT_FIELD {
                        return Err(AppError::invalid(
                            "body",
                            "the message text is too long; attach a file for longer texts",
                        ));
                    }
                }
                draft.body = String::from_utf8(text)
                    .map_err(|_| AppError::invalid("body", "the message text is not UTF-8"))?;
            }
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
                    app.may_attach(who, channel_id).await?;
                    checked_access = true;
                }
                let name = AttachmentName::parse(&raw_name).map_err(|r| refused(&raw_name, r))?;
                if draft.files.len() == MAX_PER_MESSAGE {
                    return Err(refused(&raw_name, AttachmentRefusal::TooMany));
                }
                let shown = name.to_string();
                let mut upload = app
                    .files
                    .begin_upload(name)
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
                draft.files.push(outcome.await?);
            }
            // Anything else (the CSRF token, a submit button) is not part of the message.
            _ => while field.chunk().await.map_err(malformed)?.is_some() {},
        }
    }
    Ok(draft)
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
    let path = req.uri().path();
    let uploads = is_multipart(req.headers())
        && path.ends_with("/messages")
        && (path.starts_with("/channels/") || path.starts_with("/api/v1/channels/"));
    let limit = if uploads { UPLOAD_LIMIT } else { BODY_LIMIT };
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limit) {
        let msg = if uploads {
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
