//! Sending an attached file: streamed from storage, never sniffed, shown inline only when it is
//! an image or a PDF, and with the sender's file name only as the suggested download name.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::attachments::{Attachment, FileType};
use serde::Deserialize;
use tokio_util::io::ReaderStream;

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// Present: save the file even if the browser could show it.
    pub download: Option<String>,
}

/// `filename*` in RFC 5987 form (any character survives) plus a plain ASCII fallback.
fn disposition(name: &str, inline: bool) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .-_()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(b) {
            encoded.push(char::from(*b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!(
        "{}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}",
        if inline { "inline" } else { "attachment" }
    )
}

pub fn file_response(a: &Attachment, file: tokio::fs::File, force_download: bool) -> Response {
    send_file(
        &a.name,
        a.file_type,
        a.size,
        &a.sha256,
        file,
        force_download,
    )
}

/// A file of a request (reference or a step's version), sent the same way.
pub fn request_file_response(
    f: &store::RequestFileRecord,
    file: tokio::fs::File,
    force_download: bool,
) -> Response {
    // Stored types are the accepted extensions; anything else is sent as bytes to save.
    let file_type =
        domain::attachments::FileType::from_extension(&f.file_type).unwrap_or(FileType::Txt);
    let force = force_download || FileType::from_extension(&f.file_type).is_none();
    send_file(&f.name, file_type, f.size, &f.sha256, file, force)
}

fn send_file(
    name: &str,
    file_type: FileType,
    size: u64,
    sha256: &str,
    file: tokio::fs::File,
    force_download: bool,
) -> Response {
    let inline = file_type.previews_inline() && !force_download;
    let headers = [
        (header::CONTENT_TYPE, file_type.media_type().to_string()),
        (header::CONTENT_LENGTH, size.to_string()),
        (header::CONTENT_DISPOSITION, disposition(name, inline)),
        (header::CACHE_CONTROL, "private, max-age=300".to_string()),
        (header::ETAG, format!("\"{sha256}\"")),
        // Nothing in a file may run or load anything, even opened directly.
        (
            header::CONTENT_SECURITY_POLICY,
            if file_type.is_image() {
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox".to_string()
            } else {
                // Browsers show a PDF through a built-in viewer that embeds the document
                // itself; `object-src 'self'` lets it, and nothing else may load or run.
                "default-src 'none'; object-src 'self'; img-src 'self' data:; \
                 style-src 'unsafe-inline'"
                    .to_string()
            },
        ),
    ];
    let mut response = (headers, Body::from_stream(ReaderStream::new(file))).into_response();
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
