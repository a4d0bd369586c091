//! Who is asking, and is the request genuine.
//!
//! One middleware authenticates every request once — a bearer API token, or the session cookie —
//! and refuses any state-changing request that does not carry the right CSRF token (403). The
//! extractors below then only read what the middleware found and apply the "may use the portal"
//! rule from the domain policy.

use crate::AppState;
use crate::error::{ApiError, ErrorCode, PageError, api_error_response, render_error_page};
use app::AppError;
use app::auth::{Authenticated, Credential};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use domain::{Action, Resource, authorize};
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "lp_session";
/// A random value given to signed-out browsers so the sign-in form has a CSRF token too.
pub const PRE_SESSION_COOKIE: &str = "lp_pre";
/// Forms carry the token in this field; scripts send it in [`CSRF_HEADER`].
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
const MAX_FORM_BYTES: usize = 256 * 1024;

/// What the middleware found out about the request.
#[derive(Clone, Default)]
pub struct RequestAuth {
    pub who: Option<Arc<Authenticated>>,
    /// The pre-session CSRF value of a signed-out browser, if it has one.
    pub pre_session: Option<String>,
}

impl RequestAuth {
    /// The token a form on this page must carry.
    pub fn csrf_token(&self) -> String {
        match self.who.as_deref().map(|a| &a.via) {
            Some(Credential::Session { csrf_token, .. }) => csrf_token.clone(),
            _ => self.pre_session.clone().unwrap_or_default(),
        }
    }
}

pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value with the attributes every locportal cookie has.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Routes that answer in JSON (errors included): the API, its event stream and the health check.
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/events" || path == "/healthz"
}

fn csrf_refusal(api: bool) -> Response {
    let msg = "This form has expired or did not come from this portal (missing or wrong CSRF \
        token). Reload the page and try again."
        .to_string();
    if api {
        api_error_response(
            ErrorCode::Csrf,
            format!(
                "{msg} Scripts using the session cookie send the token in the X-CSRF-Token header; API clients use a bearer token instead."
            ),
        )
    } else {
        render_error_page(StatusCode::FORBIDDEN, "Not allowed", msg, false)
    }
}

/// Whether the browser says this request was sent by a page of another site: `Sec-Fetch-Site:
/// cross-site`, an `Origin` of `null`, or an `Origin` whose host is neither the portal's public
/// address nor the `Host` the request was sent to. The CSRF token alone would not stop a forged
/// sign-in when an attacker can plant the pre-session cookie (from a sibling subdomain, say);
/// the browser's own word about where the form came from does.
fn sent_from_another_site(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    if text("sec-fetch-site").is_some_and(|v| v.eq_ignore_ascii_case("cross-site")) {
        return true;
    }
    let Some(origin) = text("origin") else {
        return false;
    };
    let host_of = |url: &str| {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        rest.split('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    if origin == "null" {
        return true;
    }
    let origin = host_of(origin);
    let mut ours = vec![host_of(&state.config.public_url)];
    ours.extend(text("host").map(str::to_ascii_lowercase));
    if state.config.trust_forwarded_for {
        ours.extend(text("x-forwarded-host").map(str::to_ascii_lowercase));
    }
    !ours.iter().any(|h| !h.is_empty() && *h == origin)
}

/// Authenticates the request and enforces CSRF on state-changing methods.
pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = is_api(req.uri().path());
    let headers = req.headers();

    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default()
            .to_string();
        let client = client_address(&state, &req);
        return match state.app.authenticate_api_token_from(&token, &client).await {
            Ok(Some(who)) => {
                let mut req = req;
                req.extensions_mut().insert(RequestAuth {
                    who: Some(Arc::new(who)),
                    pre_session: None,
                });
                next.run(req).await
            }
            Ok(None) => api_error_response(
                ErrorCode::InvalidToken,
                "The API token is unknown or revoked. Send `Authorization: Bearer lpt_…` with a \
                 token created under API tokens."
                    .into(),
            ),
            Err(e) => ApiError(e).into_response(),
        };
    }

    let who = match cookie(headers, SESSION_COOKIE) {
        Some(secret) => match state.app.authenticate_session(secret).await {
            Ok(found) => found.map(Arc::new),
            Err(e) => return respond_error(api, e),
        },
        None => None,
    };
    let pre_session = cookie(headers, PRE_SESSION_COOKIE)
        // A value the portal did not make is ignored (and the sign-in page replaces it).
        .filter(|v| app::auth::is_secret_shaped(v))
        .map(str::to_string);
    let auth = RequestAuth { who, pre_session };

    let mut req = req;
    // CSRF protects a signed-in browser; an API call with no live session is refused as not
    // signed in (401) by the route itself.
    let anonymous_api = api && auth.who.is_none();
    if !anonymous_api && !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        if sent_from_another_site(&state, req.headers()) {
            return csrf_refusal(api);
        }
        let expected = auth.csrf_token();
        let (provided, rebuilt) = match find_csrf(req).await {
            Ok(found) => found,
            Err(resp) => return resp,
        };
        req = rebuilt;
        let ok = !expected.is_empty() && provided.is_some_and(|p| constant_time_eq(&p, &expected));
        if !ok {
            return csrf_refusal(api);
        }
    }
    req.extensions_mut().insert(auth);
    next.run(req).await
}

/// The address failed attempts are counted against: the peer, or behind a trusted reverse
/// proxy the last `X-Forwarded-For` entry it appended.
pub fn client_address(state: &AppState, req: &Request) -> String {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    client_address_of(state, req.headers(), peer)
}

pub fn client_address_of(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    peer: Option<std::net::SocketAddr>,
) -> String {
    if state.config.trust_forwarded_for
        && let Some(last) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
    {
        return last.to_string();
    }
    peer.map(|p| p.ip().to_string()).unwrap_or_default()
}

fn respond_error(api: bool, e: AppError) -> Response {
    if api {
        ApiError(e).into_response()
    } else {
        PageError(e).into_response()
    }
}

/// How much of a multipart body is read to find the token in its first part.
const CSRF_PEEK: usize = 8 * 1024;

fn multipart_boundary(headers: &axum::http::HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let (kind, params) = ct.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

enum Peek {
    Found(String),
    NotThere,
    NeedMore,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value of the first part of a multipart body when that part is the `csrf` field (pages
/// put the hidden field first, so browsers send it first).
fn first_part_csrf(prefix: &[u8], boundary: &str) -> Peek {
    let open = format!("--{boundary}\r\n");
    if prefix.len() < open.len() {
        return if open.as_bytes().starts_with(prefix) {
            Peek::NeedMore
        } else {
            Peek::NotThere
        };
    }
    let Some(rest) = prefix.strip_prefix(open.as_bytes()) else {
        return Peek::NotThere;
    };
    let Some(head_end) = find(rest, b"\r\n\r\n") else {
        return Peek::NeedMore;
    };
    let head = String::from_utf8_lossy(&rest[..head_end]).to_ascii_lowercase();
    let is_csrf = head.lines().any(|line| {
        line.starts_with("content-disposition:")
            && line
                .split(';')
                .any(|p| p.trim() == format!("name=\"{CSRF_FIELD}\""))
    });
    if !is_csrf {
        return Peek::NotThere;
    }
    let value = &rest[head_end + 4..];
    match find(value, format!("\r\n--{boundary}").as_bytes()) {
        Some(end) => Peek::Found(String::from_utf8_lossy(&value[..end]).into_owned()),
        None => Peek::NeedMore,
    }
}

/// Reads just enough of a multipart body to find its `csrf` field, then hands the handler the
/// whole body, still streaming (files are not buffered here).
async fn peek_multipart_csrf(req: Request, boundary: &str) -> (Option<String>, Request) {
    use futures::StreamExt;
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let mut prefix = Vec::new();
    let mut token = None;
    while prefix.len() < CSRF_PEEK {
        match stream.next().await {
            Some(Ok(chunk)) => {
                prefix.extend_from_slice(&chunk);
                match first_part_csrf(&prefix, boundary) {
                    Peek::Found(t) => {
                        token = Some(t);
                        break;
                    }
                    Peek::NotThere => break,
                    Peek::NeedMore => {}
                }
            }
            // The body ended or failed early: no token; the refusal says what to do.
            _ => break,
        }
    }
    let head = futures::stream::once(std::future::ready(Ok::<_, axum::Error>(
        axum::body::Bytes::from(prefix),
    )));
    let body = Body::from_stream(head.chain(stream));
    (token, Request::from_parts(parts, body))
}

/// Looks for the CSRF token in the header, the first field of a multipart form (read as it
/// streams), or a url-encoded form body (which is buffered, bounded, and put back for the
/// handler).
async fn find_csrf(req: Request) -> Result<(Option<String>, Request), Response> {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let v = v.to_string();
        return Ok((Some(v), req));
    }
    // Never in the address: it would end up in logs and history.
    if let Some(boundary) = multipart_boundary(req.headers()) {
        return Ok(peek_multipart_csrf(req, &boundary).await);
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return Err((StatusCode::PAYLOAD_TOO_LARGE, "The form is too large").into_response());
        }
    };
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == CSRF_FIELD))
        .map(|(_, v)| v);
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

fn request_auth(parts: &Parts) -> RequestAuth {
    parts
        .extensions
        .get::<RequestAuth>()
        .cloned()
        .unwrap_or_default()
}

/// Whoever is signed in, if anyone. Never refuses.
pub struct Viewer(pub RequestAuth);

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Viewer(request_auth(parts)))
    }
}

fn sign_in_redirect(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let target = format!(
        "/sign-in?next={}",
        serde_urlencoded::to_string([("", next)])
            .unwrap_or_default()
            .trim_start_matches('=')
    );
    Redirect::to(&target).into_response()
}

/// A page for someone signed in, whether or not they may use the portal ("My tasks").
pub struct SignedIn(pub Arc<Authenticated>, pub RequestAuth);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let auth = request_auth(parts);
        match auth.who.clone() {
            Some(who) => Ok(SignedIn(who, auth)),
            None => Err(sign_in_redirect(parts)),
        }
    }
}

/// A portal page: signed in and holding `portal_user`. Others are sent to sign in, or shown why
/// they are refused (403).
pub struct PortalUser(pub Arc<Authenticated>, pub RequestAuth);

impl<S: Send + Sync> FromRequestParts<S> for PortalUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let auth = request_auth(parts);
        let Some(who) = auth.who.clone() else {
            return Err(sign_in_redirect(parts));
        };
        authorize(Some(&who.subject), Action::UsePortal, Resource::Portal)
            .check()
            .map_err(|r| PageError(AppError::Denied(r)).into_response())?;
        Ok(PortalUser(who, auth))
    }
}

/// An API caller that may use the portal (bearer token, or the session cookie plus CSRF header).
pub struct ApiUser(pub Arc<Authenticated>);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let who = ApiSignedIn::from_request_parts(parts, &()).await?.0;
        authorize(Some(&who.subject), Action::UsePortal, Resource::Portal)
            .check()
            .map_err(|r| ApiError(AppError::Denied(r)).into_response())?;
        Ok(ApiUser(who))
    }
}

/// An API caller who is signed in, portal access or not (for `/api/v1/me` and tasks).
pub struct ApiSignedIn(pub Arc<Authenticated>);

impl<S: Send + Sync> FromRequestParts<S> for ApiSignedIn {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match request_auth(parts).who {
            Some(who) => Ok(ApiSignedIn(who)),
            None => {
                Err(ApiError(AppError::Denied(domain::DenyReason::NotSignedIn)).into_response())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_the_first_multipart_part_only() {
        let b = "xyz";
        let body =
            "--xyz\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc123\r\n--xyz\r\n";
        assert!(matches!(first_part_csrf(body.as_bytes(), b), Peek::Found(t) if t == "abc123"));
        // Cut anywhere before the closing boundary: read more.
        for cut in [0, 3, 10, 60, body.len() - 8] {
            assert!(
                matches!(first_part_csrf(&body.as_bytes()[..cut], b), Peek::NeedMore),
                "{cut}"
            );
        }
        // Another first field, a file named csrf, another boundary: not there.
        for other in [
            "--xyz\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nhi\r\n--xyz",
            "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"csrf\"\r\n\r\nx\r\n--xyz",
            "--abc\r\n",
        ] {
            assert!(
                matches!(first_part_csrf(other.as_bytes(), b), Peek::NotThere),
                "{other}"
            );
        }
    }
}
