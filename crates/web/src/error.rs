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

fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Denied(DenyReason::NotSignedIn) => StatusCode::UNAUTHORIZED,
        AppError::Denied(r) if r.hides_existence() => StatusCode::NOT_FOUND,
        AppError::Denied(_) => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::BadCredentials => StatusCode::UNAUTHORIZED,
        AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Store(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn code_of(e: &AppError) -> &'static str {
    match e {
        AppError::Denied(DenyReason::NotSignedIn) => "not_signed_in",
        AppError::Denied(DenyReason::NoPortalAccess) => "no_portal_access",
        AppError::Denied(r) if r.hides_existence() => "not_found",
        AppError::Denied(_) => "forbidden",
        AppError::NotFound => "not_found",
        AppError::Invalid(_) => "invalid",
        AppError::BadCredentials => "bad_credentials",
        AppError::Throttled { .. } => "throttled",
        AppError::Store(_) | AppError::Internal(_) => "internal",
    }
}

fn message_of(e: &AppError) -> String {
    match e {
        AppError::Denied(r) => r.explain(),
        AppError::NotFound => DenyReason::NotVisible.explain(),
        AppError::Invalid(f) => {
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
        let status = status_of(&e);
        let heading = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::UNPROCESSABLE_ENTITY => "Please check what you entered",
            StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
            _ => "Something went wrong",
        };
        let tasks = matches!(e, AppError::Denied(DenyReason::NoPortalAccess));
        let mut resp = render_error_page(status, heading, message_of(&e), tasks);
        if let AppError::Throttled { retry_after_secs } = e
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// The body of every API error.
#[derive(Serialize, ToSchema)]
pub struct ApiErrorBody {
    pub error: ApiErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ApiErrorDetail {
    /// Stable machine-readable code: `not_signed_in`, `no_portal_access`, `forbidden`,
    /// `not_found`, `invalid`, `bad_credentials`, `throttled`, `csrf`, `internal`.
    pub code: String,
    /// What is wrong and how to fix it, in plain words.
    pub message: String,
    /// For `invalid`: the problems per input field.
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

pub(crate) fn api_error_response(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(ApiErrorBody {
            error: ApiErrorDetail {
                code: code.into(),
                message,
                fields: vec![],
            },
        }),
    )
        .into_response()
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
        let body = ApiErrorBody {
            error: ApiErrorDetail {
                code: code_of(&e).into(),
                message: message_of(&e),
                fields,
            },
        };
        let mut resp = (status_of(&e), Json(body)).into_response();
        if let AppError::Throttled { retry_after_secs } = e
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}
