//! What every operation of the API promises beyond its own annotations, added to the generated
//! document in one place so that a new route cannot forget it: how to authenticate (bearer
//! token, or the session cookie plus `X-CSRF-Token` on changes), and every error status the
//! shared layers can answer with (401/403/429 from authentication, 400/413/415/422 from reading
//! a body or a query, 404 from a path id, 408 from the timeout), each with the one error shape.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::tag::Tag;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr};

pub const SESSION_SCHEME: &str = "session";
pub const CSRF_SCHEME: &str = "csrf";
pub const BEARER_SCHEME: &str = "bearer";

/// The statuses an operation can answer with, and why, given what it reads.
fn shared_errors(op: &Operation, changes: bool, public: bool) -> Vec<(u16, &'static str)> {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_in = |place: ParameterIn| {
        params.iter().any(|p| match p {
            RefOr::T(p) => p.parameter_in == place,
            RefOr::Ref(_) => false,
        })
    };
    let has_body = op.request_body.is_some();
    let has_query = has_in(ParameterIn::Query);
    let mut out = Vec::new();
    if has_body {
        out.push((400, "The body could not be read (not JSON, or cut off)."));
    }
    if !public {
        out.push((
            401,
            "No credentials, an unknown or revoked token, or a session that has ended.",
        ));
        out.push((
            403,
            if changes {
                "The caller may not do this (the message names the missing role), has no portal access, or sent the session cookie without the `X-CSRF-Token` header."
            } else {
                "The caller may not do this (the message names the missing role) or has no portal access."
            },
        ));
    }
    let has_cursor = params.iter().any(|p| match p {
        RefOr::T(p) => p.name == "cursor",
        RefOr::Ref(_) => false,
    });
    if has_in(ParameterIn::Path) || has_cursor {
        out.push((
            404,
            "No such thing, or not visible to the caller (the two are not told apart); for a list, a `cursor` it did not give out.",
        ));
    }
    out.push((
        408,
        "The request took longer than 30 seconds to arrive or to answer.",
    ));
    if has_body {
        out.push((413, "The body is larger than this route accepts."));
        out.push((415, "The body's Content-Type is not one this route takes."));
    }
    if has_body || has_query {
        out.push((
            422,
            "A value is wrong: `fields` names each field or parameter and says why.",
        ));
    }
    if !public {
        out.push((
            429,
            "Too many unknown tokens from this address; wait the `Retry-After` seconds.",
        ));
    }
    out
}

fn error_response(description: &str, retry_after: bool) -> Response {
    let mut b = ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name("ApiErrorBody"))),
    );
    if retry_after {
        b = b.header(
            "Retry-After",
            utoipa::openapi::header::HeaderBuilder::new()
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::Integer)
                        .minimum(Some(1)),
                ))
                .description(Some("Seconds to wait before trying again."))
                .build(),
        );
    }
    b.build()
}

fn canonical_reason(status: &str) -> String {
    status
        .parse::<u16>()
        .ok()
        .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Response")
        .to_string()
}

/// Completes the generated document: servers, the `email` tag, the three security schemes and
/// each operation's security, and the shared error responses.
pub fn complete(doc: &mut OpenApi) {
    doc.servers = Some(vec![Server::new("/")]);
    let tags = doc.tags.get_or_insert_with(Vec::new);
    for (name, description) in [
        ("email", "E-mail settings, muting a project, and the bell"),
        (
            "live",
            "Live updates (Server-Sent Events) and the health check",
        ),
    ] {
        if !tags.iter().any(|t| t.name == name) {
            let mut t = Tag::new(name);
            t.description = Some(description.into());
            tags.push(t);
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SESSION_SCHEME,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::auth::SESSION_COOKIE,
            "The browser's session cookie, set by signing in on /sign-in. Changes (POST, PUT, PATCH, DELETE) must also send the session's CSRF token (the `csrf` scheme).",
        ))),
    );
    components.add_security_scheme(
        CSRF_SCHEME,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-CSRF-Token",
            "The session's CSRF token (the value of the hidden `csrf` field in any portal page's forms). Needed with the session cookie on changes; never with a bearer token.",
        ))),
    );
    doc.security = None;
    for (path, item) in doc.paths.paths.iter_mut() {
        for (changes, op) in [
            (false, item.get.as_mut()),
            (false, item.head.as_mut()),
            (false, item.options.as_mut()),
            (true, item.put.as_mut()),
            (true, item.post.as_mut()),
            (true, item.delete.as_mut()),
            (true, item.patch.as_mut()),
        ] {
            let Some(op) = op else { continue };
            // The health check and tus discovery (OPTIONS) need no credentials.
            let public = path == "/healthz" || op.operation_id.as_deref() == Some("upload_options");
            op.security = Some(if public {
                vec![SecurityRequirement::default()]
            } else if changes {
                vec![
                    SecurityRequirement::new(BEARER_SCHEME, Vec::<String>::new()),
                    SecurityRequirement::new(SESSION_SCHEME, Vec::<String>::new())
                        .add(CSRF_SCHEME, Vec::<String>::new()),
                ]
            } else {
                vec![
                    SecurityRequirement::new(BEARER_SCHEME, Vec::<String>::new()),
                    SecurityRequirement::new(SESSION_SCHEME, Vec::<String>::new()),
                ]
            });
            for (status, why) in shared_errors(op, changes, public) {
                let key = status.to_string();
                match op.responses.responses.get_mut(&key) {
                    // Our own words for this status stay; the shape and header are added.
                    Some(RefOr::T(r)) => {
                        if r.content.is_empty() {
                            r.content.insert(
                                "application/json".into(),
                                RefOr::T(Content::new(Some(Ref::from_schema_name("ApiErrorBody")))),
                            );
                        }
                        if r.description.is_empty() {
                            r.description = why.into();
                        }
                        if status == 429 && r.headers.is_empty() {
                            r.headers = error_response(why, true).headers;
                        }
                    }
                    Some(RefOr::Ref(_)) => {}
                    None => {
                        op.responses
                            .responses
                            .insert(key, RefOr::T(error_response(why, status == 429)));
                    }
                }
            }
            for (status, r) in op.responses.responses.iter_mut() {
                if let RefOr::T(r) = r
                    && r.description.is_empty()
                {
                    r.description = canonical_reason(status);
                }
            }
        }
    }
}
