//! The HTTP face of locportal: server-rendered pages (askama), the JSON API under `/api/v1`
//! (utoipa, described at `/api/openapi.json`), and the authentication and CSRF middleware.
//!
//! Handlers parse input, call a use case in `app`, and render. They hold no SQL and no policy.

pub mod api;
pub mod auth;
pub mod download;
pub mod error;
pub mod live;
pub mod pages;
mod statics;
pub mod uploads;

use app::App;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Settings of the HTTP layer.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// The address users reach the portal at, used for links in e-mails and to decide whether
    /// cookies are marked `Secure`.
    pub public_url: String,
    /// Behind a reverse proxy, take the client address (for sign-in throttling) from the last
    /// `X-Forwarded-For` entry the proxy appended, instead of the proxy's own address.
    pub trust_forwarded_for: bool,
}

impl WebConfig {
    /// A configuration for a portal reached directly at `public_url`.
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into(),
            trust_forwarded_for: false,
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<WebConfig>,
    /// Becomes `true` when the server is stopping: long-lived responses (SSE) end then, so a
    /// graceful shutdown does not wait for browsers to close their tabs.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

/// The whole router: pages, API, OpenAPI document, static assets, health.
pub fn router(app: App, config: WebConfig) -> Router {
    let (_never, stopping) = tokio::sync::watch::channel(false);
    router_stopping_with(app, config, stopping)
}

fn router_stopping_with(
    app: App,
    config: WebConfig,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> Router {
    let state = AppState {
        app,
        config: Arc::new(config),
        stopping,
    };
    let (api_router, openapi) = api::split();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(pages::router())
        .merge(api_router)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json((*doc).clone()) }
            }),
        )
        .merge(statics::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        ))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "same-origin"))
        // Body limits are set per request by `uploads::limit_body`; the extractors' own default
        // (2 MB) would otherwise cut attachments short.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(uploads::limit_body))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(error::api_error_shape))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Every asset is served by the portal itself, so the policy can forbid everything else:
/// no inline script, no third-party origin, no framing (clickjacking).
fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// The OpenAPI document (for the snapshot test and `locportal openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::split().1
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: App,
    config: WebConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    app.start_event_pump();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let router = router_stopping_with(app, config, stopping);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stop.send(true);
    })
    .await
}
