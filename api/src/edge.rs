//! What every request must pass before any handler sees it: text that a database can store.
//!
//! PostgreSQL cannot store or compare a NUL character in text, and answers an error where
//! SQLite quietly accepts it. Rather than guard each query, the edge refuses NUL once, in
//! every path segment, query parameter and JSON string, with the problem a client can act on:
//! 400 `invalid_path` / `invalid_query`, or 422 naming the JSON field. Valid UTF-8 is already
//! guaranteed (actix and serde refuse anything else), and NUL is the only character of it
//! PostgreSQL refuses.

use crate::error::ApiError;
use crate::http::MAX_BODY_BYTES;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{Error, HttpMessage};
use futures_util::StreamExt;
use serde_json::Value;

/// Middleware: refuses a request that carries a NUL character anywhere a handler could read it,
/// and a method a parameterless route does not serve (405) before a route with a parameter takes it.
pub async fn refuse_nul(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Err(problem) = check(&mut req).await {
        return Ok(req.error_response(problem).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

async fn check(req: &mut ServiceRequest) -> Result<(), ApiError> {
    // A path that is a route of its own (`/organisations/merge`, not the organisation
    // `merge`), asked with a method it does not serve: 405, before a route with a parameter
    // in its place takes it.
    if let Some(methods) = req
        .app_data::<actix_web::web::Data<crate::routes::RouteTable>>()
        .and_then(|table| table.literal(req.path()))
    {
        let method = req.method().as_str();
        let known = ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method);
        if known && !methods.contains(&method) {
            return Err(ApiError::method_not_allowed(methods.join(", ")));
        }
    }
    // A NUL cannot travel raw in a URI; percent-encoded it is `%00`.
    if req.uri().path().contains("%00") {
        return Err(ApiError::bad_request(
            "invalid_path",
            "a path segment contains a NUL character (%00)",
        ));
    }
    if req.query_string().contains("%00") {
        return Err(ApiError::bad_request(
            "invalid_query",
            "a query parameter contains a NUL character (%00)",
        ));
    }
    if !is_json(req) {
        return Ok(());
    }
    let body = read_body(req).await?;
    let found = has_nul(&body);
    req.set_payload(actix_web::dev::Payload::from(body.clone()));
    // Every body the API takes is an object; serde would read a struct from an array too
    // (`[null, null]` as a patch of two absent fields).
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::bad_request("invalid_body", "the body must be a JSON object"));
    }
    if !found {
        return Ok(());
    }
    // Rare path: parse the body to name the field. Unparsable JSON is left to the extractor.
    let field = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| field_with_nul(&v, String::new()))
        .unwrap_or_else(|| "body".to_owned());
    Err(ApiError::invalid_field(
        &field,
        "invalid_characters",
        "must not contain NUL characters (\\u0000)",
    ))
}

fn is_json(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
}

/// The whole body, at most [`MAX_BODY_BYTES`] (413 beyond, as the JSON extractor would say).
async fn read_body(req: &mut ServiceRequest) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request("malformed_json", format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Whether a JSON text holds a NUL, raw or escaped as `\u0000`. A lexical scan: a backslash
/// always escapes the next character, so `\\u0000` (a backslash, then the text "u0000") is not
/// one.
pub fn has_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            0 => return true,
            b'\\' => {
                if json.get(i + 1) == Some(&b'u') && json.get(i + 2..i + 6) == Some(b"0000".as_slice()) {
                    return true;
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    false
}

/// The first field (as the API names fields: `email`, `stop_ids[2]`, `into.name`) whose key or
/// string value holds a NUL.
fn field_with_nul(value: &Value, at: String) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(if at.is_empty() { "body".to_owned() } else { at }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| field_with_nul(v, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let name = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            if k.contains('\0') {
                Some(name.replace('\0', "\\u0000"))
            } else {
                field_with_nul(v, name)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_escaped_and_raw_nul_only() {
        assert!(has_nul(br#"{"email":"a\u0000b@x.org"}"#));
        assert!(has_nul(b"{\"a\":\"x\0\"}"));
        assert!(!has_nul(br#"{"email":"a\\u0000b"}"#), "an escaped backslash, then text");
        assert!(has_nul(br#"{"a":"\\\u0000"}"#), "an escaped backslash, then a NUL");
        assert!(!has_nul(br#"{"a":"\u0001"}"#));
        assert!(!has_nul(br#"{"a":"\"u0000"}"#));
        assert!(!has_nul(b"\\"));
    }

    #[test]
    fn names_the_field_as_the_api_does() {
        let v = json!({ "name": "ok", "sectors": ["fine", "bad\u{0}"] });
        assert_eq!(field_with_nul(&v, String::new()).as_deref(), Some("sectors[1]"));
        let v = json!({ "into": { "name": "x\u{0}" } });
        assert_eq!(field_with_nul(&v, String::new()).as_deref(), Some("into.name"));
        assert_eq!(field_with_nul(&json!("\u{0}"), String::new()).as_deref(), Some("body"));
        assert_eq!(field_with_nul(&json!({ "a": 1 }), String::new()), None);
    }
}
