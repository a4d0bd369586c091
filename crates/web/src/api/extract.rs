//! How the API reads a request: a strict JSON body and a query string, each refused in the one
//! error shape with the field at fault.
//!
//! The rules, the same for every route:
//! - a body that is not `application/json` is 415; one that is not JSON at all is 400;
//! - JSON of the wrong shape (an array where an object is due, a missing field, a wrong type,
//!   a value outside a closed set) is 422 `invalid`, with the path of the field in `fields`;
//! - a whole-number float (`3.0`) counts as the integer it equals, as JSON Schema says;
//! - a query parameter that cannot be read is 422 `invalid`, naming the parameter.

use crate::error::{ApiFieldError, ErrorCode, api_error_response, api_error_with_fields};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A JSON request body whose problems are reported in the API's error shape.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;
    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        if !is_json {
            return Err(api_error_response(
                ErrorCode::UnsupportedMediaType,
                "Send the body as JSON with `Content-Type: application/json`.".into(),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, &())
            .await
            .map_err(|e| body_error(&e.body_text()))?;
        parse_json(&bytes).map(JsonBody).map_err(|r| *r)
    }
}

/// A body that could not be received: too large (413), or cut off (400).
pub(crate) fn body_error(said: &str) -> Response {
    if said.contains("length limit") || said.contains("too large") {
        api_error_response(
            ErrorCode::TooLarge,
            "The request body is too large: at most 1 MB here.".into(),
        )
    } else {
        api_error_response(
            ErrorCode::BadRequest,
            format!("The request body could not be received ({said}); send it again."),
        )
    }
}

/// Reads `bytes` as a JSON object of type `T` under the rules above.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Box<Response>> {
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| {
        Box::new(api_error_response(
            ErrorCode::BadRequest,
            format!("The request body is not valid JSON ({e}). Send a JSON object as described in /api/openapi.json."),
        ))
    })?;
    if !value.is_object() {
        return Err(Box::new(invalid(
            "",
            format!("the body must be a JSON object, not {}", kind_of(&value)),
        )));
    }
    whole_floats_to_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let (field, message) = field_and_message(&path, &inner);
        Box::new(invalid(&field, message))
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `3.0` is the integer 3 (JSON Schema's `integer` includes it); larger or fractional numbers
/// stay as they are and are refused where an integer is due.
fn whole_floats_to_integers(v: &mut Value) {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *v = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_floats_to_integers),
        Value::Object(map) => map.values_mut().for_each(whole_floats_to_integers),
        _ => {}
    }
}

/// serde's path is `.` at the top level, where a missing field is named only in the message
/// ("missing field `name`"); put that name in `field`. Line/column positions are dropped: the
/// body was already parsed, so they say nothing.
fn field_and_message(path: &str, inner: &str) -> (String, String) {
    let message = inner.split(" at line ").next().unwrap_or(inner).to_string();
    let path = if path == "." { "" } else { path };
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(name) = rest.split('`').next()
    {
        let field = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        return (field, "this field is required".into());
    }
    if message.starts_with("unknown field `") {
        return (path.to_string(), message);
    }
    (path.to_string(), message)
}

fn invalid(field: &str, message: String) -> Response {
    let shown = if field.is_empty() {
        message.clone()
    } else {
        format!("{field}: {message}")
    };
    api_error_with_fields(
        ErrorCode::Invalid,
        shown,
        vec![ApiFieldError {
            field: field.to_string(),
            message,
        }],
    )
}

/// A query string read into `T`, refused as 422 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        parse_query(query).map(ApiQuery).map_err(|r| *r)
    }
}

pub(crate) fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Box<Response>> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let (field, message) = field_and_message(&path, &inner);
        let message = if message.starts_with("invalid digit") || message.contains("number") {
            format!("{message}: give a whole number")
        } else {
            message
        };
        Box::new(invalid(&field, message))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Read {
        seq: i64,
        name: String,
    }

    async fn body_of(r: Box<Response>) -> (u16, serde_json::Value) {
        let status = r.status().as_u16();
        let bytes = axum::body::to_bytes((*r).into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn json_rules() {
        // A whole-number float is the integer.
        let ok: Read = parse_json(br#"{"seq": 3.0, "name": "x"}"#).unwrap();
        assert_eq!(ok.seq, 3);
        // Each refusal with its status, code and field.
        for (body, status, code, field) in [
            (&br#"["x", 1]"#[..], 422, "invalid", ""),
            (br#"{"name": "x"}"#, 422, "invalid", "seq"),
            (br#"{"seq": 3.5, "name": "x"}"#, 422, "invalid", "seq"),
            (br#"{"seq": "3", "name": "x"}"#, 422, "invalid", "seq"),
            (br#"{"seq": 3, "name": "x""#, 400, "bad_request", "-"),
            (b"", 400, "bad_request", "-"),
        ] {
            let r = parse_json::<Read>(body).unwrap_err();
            let (s, v) = body_of(r).await;
            assert_eq!(s, status, "{}", String::from_utf8_lossy(body));
            assert_eq!(v["error"]["code"], code);
            if field != "-" {
                assert_eq!(v["error"]["fields"][0]["field"], field, "{v}");
            }
        }
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Q {
        limit: Option<u32>,
        q: String,
    }

    #[tokio::test]
    async fn query_rules() {
        let ok: Q = parse_query("q=a&limit=5").unwrap();
        assert_eq!(ok.limit, Some(5));
        for (query, field) in [
            ("q=a&limit=abc", "limit"),
            ("q=a&limit=-1", "limit"),
            ("q=a&limit=4294967296", "limit"),
            ("limit=5", "q"),
        ] {
            let (s, v) = body_of(parse_query::<Q>(query).unwrap_err()).await;
            assert_eq!(s, 422, "{query}");
            assert_eq!(v["error"]["fields"][0]["field"], field, "{query}: {v}");
        }
    }
}
