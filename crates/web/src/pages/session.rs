//! Signing in and out, My tasks, health.

use crate::AppState;
use crate::auth::{PRE_SESSION_COOKIE, SESSION_COOKIE, SignedIn, Viewer, set_cookie};
use crate::pages::{Layout, safe_next};
use app::AppError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

pub async fn sign_in_page(
    State(state): State<AppState>,
    Viewer(auth): Viewer,
    Query(q): Query<NextQuery>,
) -> Response {
    if auth.who.is_some() {
        return Redirect::to(&safe_next(&q.next)).into_response();
    }
    let mut auth = auth;
    let mut headers = HeaderMap::new();
    if auth.pre_session.is_none() {
        let value = app::auth::random_secret();
        if let Ok(v) = HeaderValue::from_str(&set_cookie(
            PRE_SESSION_COOKIE,
            &value,
            60 * 60 * 24,
            state.config.secure_cookies(),
        )) {
            headers.insert(header::SET_COOKIE, v);
        }
        auth.pre_session = Some(value);
    }
    let page = SignInPage {
        layout: Layout::new("Sign in", &auth),
        next: safe_next(&q.next),
        email: String::new(),
        error: None,
    };
    (headers, page).into_response()
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    Viewer(auth): Viewer,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let client = client_address(&state, &headers, addr);
    match state
        .app
        .sign_in(&form.email, &form.password, &client)
        .await
    {
        Ok(session) => {
            let max_age = (session.expires_at - state.app.now()).whole_seconds();
            let mut target = safe_next(&form.next);
            if !session.portal_access && target == "/" {
                target = "/tasks".to_string();
            }
            let mut resp = Redirect::to(&target).into_response();
            if let Ok(v) = HeaderValue::from_str(&set_cookie(
                SESSION_COOKIE,
                &session.secret,
                max_age,
                state.config.secure_cookies(),
            )) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) => {
            let status = match &e {
                AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                AppError::BadCredentials => StatusCode::UNAUTHORIZED,
                _ => return crate::error::PageError(e).into_response(),
            };
            let message = match &e {
                AppError::Throttled { retry_after_secs } => format!(
                    "Too many failed sign-ins from here. Wait {retry_after_secs} {} and try again.",
                    if *retry_after_secs == 1 {
                        "second"
                    } else {
                        "seconds"
                    }
                ),
                _ => "Wrong e-mail address or password.".to_string(),
            };
            let page = SignInPage {
                layout: Layout::new("Sign in", &auth),
                next: safe_next(&form.next),
                email: form.email,
                error: Some(message),
            };
            let resp = (status, page).into_response();
            match e {
                AppError::Throttled { retry_after_secs } => {
                    crate::error::with_retry_after(resp, retry_after_secs)
                }
                _ => resp,
            }
        }
    }
}

/// The address failed sign-ins are counted against.
fn client_address(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    crate::auth::client_address_of(state, headers, Some(peer))
}

pub async fn sign_out(
    State(state): State<AppState>,
    SignedIn(_, _): SignedIn,
    headers: HeaderMap,
) -> Response {
    if let Some(secret) = crate::auth::cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state.app.sign_out(secret).await
    {
        return crate::error::PageError(e).into_response();
    }
    let mut resp = Redirect::to("/sign-in").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        SESSION_COOKIE,
        "",
        0,
        state.config.secure_cookies(),
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// Whether the portal answers and reaches its database.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct HealthJson {
    /// `ok` or `unavailable`.
    status: String,
    /// `sqlite` or `postgres` (when `ok`).
    database: Option<String>,
    /// Why not (when `unavailable`).
    reason: Option<String>,
}

/// Liveness and database reachability, for `locportal healthcheck` and load balancers. Needs no
/// credentials.
#[utoipa::path(
    get, path = "/healthz", tag = "live",
    responses(
        (status = 200, description = "The portal and its database answer", body = HealthJson),
        (status = 503, description = "The database cannot be reached", body = HealthJson)
    )
)]
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.app.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(
                serde_json::json!({"status": "ok", "database": state.app.store.backend().as_str()}),
            ),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(
                    serde_json::json!({"status": "unavailable", "reason": "database unreachable"}),
                ),
            )
                .into_response()
        }
    }
}
