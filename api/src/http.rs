//! The parts of the HTTP contract shared by every resource: extractor errors as problems,
//! cursor pages, `ETag`/`If-Match`, `201 Created` with `Location`, and PATCH's
//! absent-versus-null.

use crate::error::{ApiError, ApiResult};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jobtour_domain::error::Invalid;
use sea_orm::{DatabaseTransaction, DbErr};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use std::rc::Rc;
use utoipa::ToSchema;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// JSON bodies: at most 1 MiB, `application/json` (or any `+json` type), errors as problems.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .content_type(|mime| mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
        .content_type_required(true)
        .error_handler(|err, _req| json_error(err).into())
}

/// Path parameters (UUIDs): a malformed one is a 400, not a 404 from the router or a 500.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| path_error(err).into())
}

/// Query strings: unknown or malformed parameters are a 400.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| query_error(err).into())
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        ),
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonPayloadError::Deserialize(e) => serde_error(&e),
        JsonPayloadError::Serialize(e) => ApiError::internal(e),
        other => ApiError::bad_request("malformed_json", format!("the body could not be read: {other}")),
    }
}

/// serde's messages name the field and the expected shape, never anything internal.
fn serde_error(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let msg = e.to_string();
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {msg}"))
        }
        Category::Data if msg.starts_with("unknown field") => ApiError::bad_request(
            "unknown_field",
            format!("the body has a field this endpoint does not know: {msg}"),
        ),
        Category::Data => {
            if let Some(field) = msg.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
                ApiError::invalid_field(field, "required", "is required")
            } else {
                ApiError::bad_request(
                    "invalid_body",
                    format!("the body does not have the expected shape: {msg}"),
                )
            }
        }
    }
}

fn path_error(err: PathError) -> ApiError {
    let PathError::Deserialize(e) = err else {
        return ApiError::bad_request("invalid_path", "the path is not valid");
    };
    ApiError::bad_request("invalid_path", format!("a path parameter is not valid: {e}"))
}

fn query_error(err: QueryPayloadError) -> ApiError {
    match err {
        QueryPayloadError::Deserialize(e) => {
            ApiError::bad_request("invalid_query", format!("the query string is not valid: {e}"))
        }
        other => ApiError::bad_request("invalid_query", format!("the query string is not valid: {other}")),
    }
}

/// Whether the caller's `Accept` (q-values honoured) ranks a media type `wanted` takes before
/// any `other` takes; false without a readable `Accept` or when neither is named.
pub fn prefers(req: &HttpRequest, wanted: impl Fn(&mime::Mime) -> bool, other: impl Fn(&mime::Mime) -> bool) -> bool {
    use actix_web::http::header::{Accept, Header};
    Accept::parse(req).is_ok_and(|accept| {
        accept
            .ranked()
            .into_iter()
            .find(|m| wanted(m) || other(m))
            .is_some_and(|m| wanted(&m))
    })
}

/// A JSON body that may be left out: no body at all is `None`; a body is read exactly as
/// `Json<T>` reads one (unknown fields, bad JSON, wrong content type: the same problems).
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> actix_web::FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let headers = req.headers();
        let empty = match headers.get(header::CONTENT_LENGTH) {
            Some(length) => length.as_bytes() == b"0",
            None => !headers.contains_key(header::TRANSFER_ENCODING),
        };
        if empty {
            return Box::pin(futures_util::future::ready(Ok(Self(None))));
        }
        let body = web::Json::<T>::from_request(req, payload);
        Box::pin(async move { Ok(Self(Some(body.await?.into_inner()))) })
    }
}

/// A query parameter the domain refused: 400 `invalid_query` naming it.
pub fn invalid_query(name: &str, e: Invalid) -> ApiError {
    ApiError::bad_request("invalid_query", format!("{name} {}", e.message))
}

/// A query parameter parsed by the domain (an enum's wire name, say), if given.
pub fn query_choice<T>(
    name: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> ApiResult<Option<T>> {
    raw.map(|r| parse(r).map_err(|e| invalid_query(name, e))).transpose()
}

/// Default and largest page size.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// One page of a list: the items and, when more follow, the cursor to the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A validated page request: how many rows, and after which key.
#[derive(Debug, Clone)]
pub struct PageRequest<K> {
    pub limit: u64,
    pub after: Option<K>,
}

impl<K: DeserializeOwned> PageRequest<K> {
    /// Checks `limit` (1..=200, default 50) and decodes the opaque cursor. An empty cursor is
    /// no cursor: a front-end naturally sends `cursor=` from an empty state.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> ApiResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = cursor.filter(|c| !c.is_empty()).map(decode_cursor).transpose()?;
        Ok(Self {
            limit: u64::from(limit),
            after,
        })
    }
}

/// Builds a page from `limit + 1` rows fetched in key order.
pub fn page_of<R, T, K: Serialize>(
    mut rows: Vec<R>,
    limit: u64,
    key: impl Fn(&R) -> K,
    render: impl Fn(R) -> T,
) -> Page<T> {
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| encode_cursor(&key(r)))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(render).collect(),
        next_cursor,
    }
}

fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

fn decode_cursor<K: DeserializeOwned>(raw: &str) -> ApiResult<K> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::bad_request("invalid_cursor", "the cursor is not one this API gave out"))
}

/// The entity tag of a resource at `version`.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// Checks `If-Match` against the current version: absent passes, `*` passes, otherwise one of
/// the listed strong tags must match (RFC 9110 §13.1.1). A stale tag is a 412.
pub fn check_if_match(req: &HttpRequest, version: i32) -> ApiResult<()> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(());
    };
    // A value that is not visible ASCII holds no entity tag of ours: it matches nothing.
    let Ok(value) = value.to_str() else {
        return Err(ApiError::precondition_failed());
    };
    let current = etag(version);
    let matches = value.split(',').map(str::trim).any(|tag| tag == "*" || tag == current);
    if matches {
        Ok(())
    } else {
        Err(ApiError::precondition_failed())
    }
}

/// The end of every DELETE of a versioned row read (and locked) in `tx`: `If-Match`, then
/// `delete` (whether the row was still at `version`: 412 if not), commit, 204. A row that other
/// data still points at is a 409 `in_use` saying `in_use`.
pub async fn delete_versioned(
    tx: DatabaseTransaction,
    req: &HttpRequest,
    version: i32,
    in_use: &str,
    delete: impl AsyncFnOnce(&DatabaseTransaction) -> Result<bool, DbErr>,
) -> ApiResult<HttpResponse> {
    check_if_match(req, version)?;
    let deleted = delete(&tx).await.map_err(|e| ApiError::from_delete(e, in_use))?;
    if !deleted {
        return Err(ApiError::precondition_failed());
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `200 OK` with the body and its `ETag`.
pub fn ok_with_etag<T: Serialize>(body: &T, version: i32) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// `200 OK` with `body` as a JSON file to keep (`Content-Disposition: attachment`), named
/// `filename`: the data-rights exports.
pub fn json_download<T: Serialize>(filename: &str, body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .json(body)
}

/// `201 Created` with `Location`, `ETag` and the body.
pub fn created<T: Serialize>(location: String, body: &T, version: i32) -> HttpResponse {
    let mut res = HttpResponse::Created();
    if let Ok(loc) = HeaderValue::from_str(&location) {
        res.insert_header((header::LOCATION, loc));
    }
    res.insert_header((header::ETAG, etag(version))).json(body)
}

/// An idempotent PUT's answer: `201 Created` with `Location` when it made the resource,
/// `200 OK` when it was there already.
pub fn created_or_ok<T: Serialize>(created: bool, location: String, body: &T) -> HttpResponse {
    if created {
        HttpResponse::Created()
            .insert_header((header::LOCATION, location))
            .json(body)
    } else {
        HttpResponse::Ok().json(body)
    }
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
/// Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// A PATCH value for a field that cannot be null: absent keeps `current`, `null` is a 422.
pub fn patch_required<T>(patch: Option<Option<T>>, current: T, field: &str) -> ApiResult<T> {
    Ok(patch_present(patch, field)?.unwrap_or(current))
}

/// A PATCH value for a field that may be left out but not set to `null` (a 422).
pub fn patch_present<T>(patch: Option<Option<T>>, field: &str) -> ApiResult<Option<T>> {
    match patch {
        Some(None) => Err(ApiError::invalid_field(
            field,
            "not_nullable",
            "may be left out, but cannot be set to null",
        )),
        other => Ok(other.flatten()),
    }
}

/// A whole number as JSON Schema means it: `42` and `42.0` alike (serde alone refuses `42.0`
/// for an integer field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WholeNumber(pub i64);

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(de)?;
        n.as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .map(WholeNumber)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid type: {n} is not a whole number")))
    }
}

/// The pattern of the route a request matches (`/api/v1/positions/{id}`), looked up once per
/// request: actix finds it by trying the routes' patterns one after another, and the span, the
/// metrics, the cache, the write limit and the audit log all ask for it.
pub fn route_pattern(req: &HttpRequest) -> Option<Rc<str>> {
    #[derive(Clone)]
    struct Pattern(Option<Rc<str>>);
    if let Some(Pattern(p)) = req.extensions().get::<Pattern>() {
        return p.clone();
    }
    let p: Option<Rc<str>> = req.match_pattern().map(Rc::from);
    req.extensions_mut().insert(Pattern(p.clone()));
    p
}
