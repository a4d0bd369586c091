//! Sending an attached file: streamed from storage, never sniffed, shown inline only when it is
//! an image or a PDF, and with the sender's file name only as the suggested download name.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::attachments::{Attachment, FileType};
use serde::Deserialize;

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

pub fn file_response(
    a: &Attachment,
    file: app::files::ByteStream,
    force_download: bool,
) -> Response {
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
    file: app::files::ByteStream,
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
    file: app::files::ByteStream,
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
    let mut response = (headers, Body::from_stream(file)).into_response();
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A media file (a clip, a recording) that players seek in: sent whole (200) or the part a
/// `Range` header asked for (206 with `Content-Range`); a range past the end is 416.
pub fn media_response(
    served: app::files::Served,
    media_type: &'static str,
    force_download: bool,
) -> Response {
    use app::files::Part;
    use axum::http::StatusCode;
    let size = served.size;
    let mut headers = axum::http::HeaderMap::new();
    let mut put = |name: header::HeaderName, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    for (name, value) in [
        (header::CONTENT_TYPE, media_type.to_string()),
        (header::ACCEPT_RANGES, "bytes".to_string()),
        (
            header::CONTENT_DISPOSITION,
            disposition(&served.name, !force_download),
        ),
        (header::CACHE_CONTROL, "private, max-age=300".to_string()),
        (header::ETAG, format!("\"{}\"", served.sha256)),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; media-src 'self'; sandbox".to_string(),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
    ] {
        put(name, value);
    }
    match (served.part, served.body) {
        (Part::Range(from, to), Some(body)) => {
            put(header::CONTENT_LENGTH, (to - from + 1).to_string());
            put(header::CONTENT_RANGE, format!("bytes {from}-{to}/{size}"));
            (
                StatusCode::PARTIAL_CONTENT,
                headers,
                Body::from_stream(body),
            )
                .into_response()
        }
        (Part::Whole, Some(body)) => {
            put(header::CONTENT_LENGTH, size.to_string());
            (headers, Body::from_stream(body)).into_response()
        }
        _ => {
            put(header::CONTENT_RANGE, format!("bytes */{size}"));
            (StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response()
        }
    }
}
