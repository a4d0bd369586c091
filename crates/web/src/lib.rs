//! The HTTP face of locportal: server-rendered pages (askama), the JSON API under `/api/v1`
//! (utoipa, described at `/api/openapi.json`), and the authentication and CSRF middleware.
//!
//! Handlers parse input, call a use case in `app`, and render. They hold no SQL and no policy.

pub mod api;
pub mod auth;
pub mod download;
pub mod error;
pub mod limits;
pub mod live;
pub mod pages;
mod statics;
pub mod uploads;

use app::App;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
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
    /// A client must send a request's whole header within this time, or its connection is
    /// closed (a slow-header client cannot hold connections open).
    pub header_read_timeout: Duration,
    /// Open connections one client address may hold (0: no limit). Not applied behind a proxy
    /// (`trust_forwarded_for`), where every connection comes from the proxy: the proxy limits.
    pub max_connections_per_address: usize,
    /// Live-update streams (`/events`) one user may hold open at once (0: no limit).
    pub max_streams_per_user: usize,
}

impl WebConfig {
    /// A configuration for a portal reached directly at `public_url`.
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into(),
            trust_forwarded_for: false,
            header_read_timeout: Duration::from_secs(10),
            max_connections_per_address: 256,
            max_streams_per_user: 32,
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
    /// Open `/events` streams per user.
    pub streams: Arc<limits::PerKey<domain::UserId>>,
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
        streams: limits::PerKey::new(config.max_streams_per_user),
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
        // Body limits are set per request by `uploads::limit_body`; the extractors' own default
        // (2 MB) would otherwise cut attachments short.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(uploads::limit_body))
        .layer(axum::middleware::from_fn(time_limit))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(error::api_error_shape))
        // Outside everything that can answer on its own (body limit, timeout, panic), so every
        // response carries them.
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        ))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "same-origin"))
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

/// Serves until `shutdown` resolves, then lets requests in flight finish.
///
/// Each connection must send a request's header within `header_read_timeout`, and one client
/// address holds at most `max_connections_per_address` connections; further ones are closed
/// at once. What a reverse proxy in front should add is in docs/ARCHITECTURE.md ("Security").
pub async fn serve(
    listener: TcpListener,
    app: App,
    config: WebConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    app.start_event_pump();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let per_address = limits::PerKey::<IpAddr>::new(if config.trust_forwarded_for {
        0
    } else {
        config.max_connections_per_address
    });
    let header_timeout = config.header_read_timeout;
    let router = router_stopping_with(app, config, stopping.clone());
    let connections = tokio_util::task::TaskTracker::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (socket, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // pause instead of spinning, and go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = per_address.acquire(peer.ip()) else {
            tracing::warn!(%peer, "connection closed: too many open connections from this address");
            drop(socket);
            continue;
        };
        let router = router.clone();
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            let _slot = slot;
            let service = hyper::service::service_fn(
                move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    tower::Service::call(&mut router.clone(), req)
                },
            );
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(socket), service);
            let mut conn = std::pin::pin!(conn);
            let stop = async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            };
            tokio::select! {
                _ = conn.as_mut() => {}
                () = stop => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    connections.close();
    connections.wait().await;
    Ok(())
}

/// Every request must be answered within 30 s (a body arriving slower gets 408), except the
/// pieces of a resumable upload, which may take as long as the bytes keep coming: the upload
/// itself gives up when none arrive for a while.
async fn time_limit(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uploads::is_resumable_piece(&req) {
        return next.run(req).await;
    }
    match tokio::time::timeout(Duration::from_secs(30), next.run(req)).await {
        Ok(r) => r,
        Err(_) => axum::http::StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}
