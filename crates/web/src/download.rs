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

/// A media file (a clip, a recording) that players seek in: sent whole (200) or, for a
/// `Range: bytes=a-b` header, the part asked for (206, `Content-Range`). Several ranges or an
/// unreadable header get the whole file; a range past the end is 416.
pub async fn media_response(
    name: &str,
    media_type: &'static str,
    size: u64,
    sha256: &str,
    mut file: tokio::fs::File,
    range: Option<&axum::http::HeaderValue>,
    force_download: bool,
) -> Response {
    use axum::http::StatusCode;
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let wanted = range
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, size));
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
            disposition(name, !force_download),
        ),
        (header::CACHE_CONTROL, "private, max-age=300".to_string()),
        (header::ETAG, format!("\"{sha256}\"")),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; media-src 'self'; sandbox".to_string(),
        ),
    ] {
        put(name, value);
    }
    let mut response = match wanted {
        Some(Err(())) => {
            put(header::CONTENT_RANGE, format!("bytes */{size}"));
            (StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response()
        }
        Some(Ok((start, end))) => {
            if let Err(e) = file.seek(std::io::SeekFrom::Start(start)).await {
                tracing::warn!(%e, "seeking in a media file");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            let len = end - start + 1;
            put(header::CONTENT_LENGTH, len.to_string());
            put(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
            let body = Body::from_stream(ReaderStream::new(file.take(len)));
            (StatusCode::PARTIAL_CONTENT, headers, body).into_response()
        }
        None => {
            put(header::CONTENT_LENGTH, size.to_string());
            (headers, Body::from_stream(ReaderStream::new(file))).into_response()
        }
    };
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// One `bytes=` range of a file of `size` bytes, as inclusive offsets. `None`: not a single
/// byte range (send everything); `Err`: nothing of it is in the file (416).
fn parse_range(v: &str, size: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        // The last `b` bytes.
        let n: u64 = b.parse().ok()?;
        if n == 0 || size == 0 {
            return Some(Err(()));
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let start: u64 = a.parse().ok()?;
        let end: u64 = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            b.parse().ok()?
        };
        if start >= size || end < start {
            return Some(Err(()));
        }
        (start, end.min(size - 1))
    };
    Some(Ok(range))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn byte_ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some(Ok((0, 99))));
        assert_eq!(parse_range("bytes=900-", 1000), Some(Ok((900, 999))));
        assert_eq!(parse_range("bytes=-100", 1000), Some(Ok((900, 999))));
        assert_eq!(parse_range("bytes=990-5000", 1000), Some(Ok((990, 999))));
        assert_eq!(parse_range("bytes=1000-", 1000), Some(Err(())));
        assert_eq!(parse_range("bytes=5-2", 1000), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
        assert_eq!(parse_range("bytes=x-1", 1000), None);
    }
}
