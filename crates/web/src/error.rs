//! How a use-case error looks to a browser (an HTML page) and to an API client (JSON). This is
//! the one place statuses are chosen.

use app::AppError;
use askama::Template;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::DenyReason;
use serde::Serialize;
use utoipa::ToSchema;

fn code_of(e: &AppError) -> ErrorCode {
    match e {
        AppError::Denied(DenyReason::NotSignedIn) => ErrorCode::NotSignedIn,
        AppError::Denied(DenyReason::NoPortalAccess) => ErrorCode::NoPortalAccess,
        AppError::Denied(r) if r.hides_existence() => ErrorCode::NotFound,
        AppError::Denied(_) => ErrorCode::Forbidden,
        AppError::NotFound => ErrorCode::NotFound,
        AppError::Invalid(_) => ErrorCode::Invalid,
        AppError::Conflict(_) => ErrorCode::Conflict,
        AppError::TooLarge(_) => ErrorCode::TooLarge,
        AppError::BadCredentials => ErrorCode::BadCredentials,
        AppError::Throttled { .. } => ErrorCode::Throttled,
        AppError::Store(_) | AppError::Internal(_) => ErrorCode::Internal,
    }
}

fn message_of(e: &AppError) -> String {
    match e {
        AppError::Denied(r) => r.explain(),
        AppError::NotFound => DenyReason::NotVisible.explain(),
        AppError::Invalid(f) | AppError::Conflict(f) => {
            f.0.iter()
                .map(|(field, m)| {
                    if field.is_empty() {
                        m.clone()
                    } else {
                        format!("{field}: {m}")
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
        AppError::Store(_) | AppError::Internal(_) => {
            "Something went wrong on our side; it has been logged. Try again in a moment.".into()
        }
        other => other.to_string(),
    }
}

fn log_if_internal(e: &AppError) {
    if matches!(e, AppError::Store(_) | AppError::Internal(_)) {
        tracing::error!(error = ?e, "request failed");
    }
}

/// An error rendered as an HTML page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    heading: &'static str,
    message: String,
    show_tasks_link: bool,
}

pub(crate) fn render_error_page(
    status: StatusCode,
    heading: &'static str,
    message: String,
    show_tasks_link: bool,
) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        heading,
        message,
        show_tasks_link,
    };
    match page.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(_) => (status, heading).into_response(),
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        log_if_internal(&e);
        if matches!(e, AppError::Denied(DenyReason::NotSignedIn)) {
            return Redirect::to("/sign-in").into_response();
        }
        let status = code_of(&e).status();
        let heading = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT => {
                "Please check what you entered"
            }
            StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
            StatusCode::PAYLOAD_TOO_LARGE => "Too large",
            _ => "Something went wrong",
        };
        let tasks = matches!(e, AppError::Denied(DenyReason::NoPortalAccess));
        let resp = render_error_page(status, heading, message_of(&e), tasks);
        match e {
            AppError::Throttled { retry_after_secs } => with_retry_after(resp, retry_after_secs),
            _ => resp,
        }
    }
}

/// The machine-readable kind of an API error. Each has one HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request could not be read (not JSON, a broken multipart body).
    BadRequest,
    /// 401: no credentials, or a session that has ended.
    NotSignedIn,
    /// 401: the bearer token is unknown or revoked.
    InvalidToken,
    /// 401: wrong e-mail address or password.
    BadCredentials,
    /// 403: the account has no portal access (linguists use My tasks).
    NoPortalAccess,
    /// 403: the caller may see this but not do it; the message names the missing role.
    Forbidden,
    /// 403: a cookie-authenticated change without the session's `X-CSRF-Token`.
    Csrf,
    /// 404: no such thing, or not visible to the caller.
    NotFound,
    /// 405: the path exists but not with this method (see the `Allow` header).
    MethodNotAllowed,
    /// 408: the request (usually its body) took longer than 30 seconds to arrive.
    Timeout,
    /// 409: the input clashes with existing data (a name or ID already in use).
    Conflict,
    /// 413: the body is larger than the route accepts.
    TooLarge,
    /// 415: the body has a media type the route does not take.
    UnsupportedMediaType,
    /// 422: the request was read but a value is wrong; `fields` says which and why.
    Invalid,
    /// 429: too many failed attempts; wait the `Retry-After` seconds.
    Throttled,
    /// 500: our fault; it has been logged.
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::NotSignedIn | ErrorCode::InvalidToken | ErrorCode::BadCredentials => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::NoPortalAccess | ErrorCode::Forbidden | ErrorCode::Csrf => {
                StatusCode::FORBIDDEN
            }
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Timeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Throttled => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code for an error status produced outside our handlers (the framework's own
    /// rejections, the timeout layer), and a message saying what to do about it.
    pub fn for_status(status: StatusCode) -> (ErrorCode, &'static str) {
        match status {
            StatusCode::UNAUTHORIZED => (
                ErrorCode::NotSignedIn,
                "Sign in first: send `Authorization: Bearer <token>`.",
            ),
            StatusCode::FORBIDDEN => (ErrorCode::Forbidden, "This is not allowed for you."),
            StatusCode::NOT_FOUND => (
                ErrorCode::NotFound,
                "There is no such API route; the routes are listed in /api/openapi.json.",
            ),
            StatusCode::METHOD_NOT_ALLOWED => (
                ErrorCode::MethodNotAllowed,
                "This route does not take this method; the Allow header lists the ones it takes.",
            ),
            StatusCode::REQUEST_TIMEOUT => (
                ErrorCode::Timeout,
                "The request took longer than 30 seconds to arrive or to answer; send it again.",
            ),
            StatusCode::CONFLICT => (ErrorCode::Conflict, "This conflicts with existing data."),
            StatusCode::PAYLOAD_TOO_LARGE => (
                ErrorCode::TooLarge,
                "The request body is too large: at most 1 MB, or 10 files of 10 MB for a message.",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                ErrorCode::UnsupportedMediaType,
                "Send the body as application/json (or multipart/form-data where documented).",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => (ErrorCode::Invalid, "A value is not valid."),
            StatusCode::TOO_MANY_REQUESTS => (
                ErrorCode::Throttled,
                "Too many failed attempts; wait the Retry-After seconds.",
            ),
            s if s.is_server_error() => (
                ErrorCode::Internal,
                "Something went wrong on our side; it has been logged. Try again in a moment.",
            ),
            _ => (
                ErrorCode::BadRequest,
                "The request could not be read; see /api/openapi.json for its shape.",
            ),
        }
    }
}

/// The body of every API error.
#[derive(Serialize, ToSchema)]
pub struct ApiErrorBody {
    pub error: ApiErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ApiErrorDetail {
    /// Stable and machine-readable; each code has one HTTP status.
    pub code: ErrorCode,
    /// What is wrong and how to fix it, in plain words.
    pub message: String,
    /// For `invalid` and `conflict`: the problems per input field (a JSON path such as
    /// `assignments[0].service`, or a query parameter's name). Empty otherwise.
    pub fields: Vec<ApiFieldError>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiFieldError {
    pub field: String,
    pub message: String,
}

/// An error rendered as JSON.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

/// An API error response with no field problems.
pub(crate) fn api_error_response(code: ErrorCode, message: String) -> Response {
    api_error_with_fields(code, message, vec![])
}

pub(crate) fn api_error_with_fields(
    code: ErrorCode,
    message: String,
    fields: Vec<ApiFieldError>,
) -> Response {
    (
        code.status(),
        Json(ApiErrorBody {
            error: ApiErrorDetail {
                code,
                message,
                fields,
            },
        }),
    )
        .into_response()
}

/// A 429 with the `Retry-After` every throttled answer carries.
pub(crate) fn with_retry_after(mut resp: Response, secs: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        log_if_internal(&e);
        let fields = e
            .field_errors()
            .map(|f| {
                f.0.iter()
                    .map(|(field, message)| ApiFieldError {
                        field: field.clone(),
                        message: message.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let code = code_of(&e);
        let resp = api_error_with_fields(code, message_of(&e), fields);
        match e {
            AppError::Throttled { retry_after_secs } => with_retry_after(resp, retry_after_secs),
            _ => resp,
        }
    }
}

/// Every error response of the API (`/api/`, `/events`, `/healthz`) has the JSON error shape, whoever produced it: axum's own
/// rejections (unknown route, wrong method), the body limit, the timeout layer. A response
/// that already is JSON is left alone; another one keeps its status and headers (`Allow`,
/// `Retry-After`) and gets the shape, with the framework's own words in the message.
pub async fn api_error_shape(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !crate::auth::is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let said = axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && !s.starts_with('<'));
    let (code, advice) = ErrorCode::for_status(status);
    let message = match said {
        Some(said) if !status.is_server_error() => format!("{said}. {advice}"),
        _ => advice.to_string(),
    };
    let fresh = api_error_response(code, message);
    let (fresh_parts, fresh_body) = fresh.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in fresh_parts.headers.iter() {
        parts.headers.insert(name, value.clone());
    }
    parts.status = status;
    Response::from_parts(parts, fresh_body)
}
