//! `Idempotency-Key`, with the semantics of the IETF draft and Stripe: a retry with the same
//! key and the same request within the key's lifetime gets the first answer again (same status,
//! body and headers; nothing is done twice); the same key with another request is refused (422
//! `idempotency_key_reused`); a retry while the first is still running is told so (409
//! `idempotency_key_in_flight`, `Retry-After`).
//!
//! The key is claimed by inserting it (the primary key lets one request win, however many race)
//! before the work starts, and the answer is stored in the transaction that does the work. A
//! request that fails gives its claim up, so a corrected retry runs. Neither the key nor any
//! secret in the answer is stored: the key as a hash, and a secret (a candidate's access token)
//! is derived again on replay from the key and a stored salt.

use crate::auth::hex;
use crate::error::{ApiError, ApiResult};
use crate::repo::{self, idempotency as store};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::time::Duration;
use uuid::Uuid;

/// The request header.
pub const HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on a replayed answer.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// A claim in flight for longer than this is taken to be abandoned: its client went away
/// (actix drops the handler) or its server died. Should the first request still be running, it
/// cannot complete a key taken over (see [`Claim::complete`]) and rolls back.
const ABANDONED_AFTER: TimeDelta = TimeDelta::seconds(10);

/// A client's key: 1 to 255 visible ASCII characters (a UUID is the usual choice).
#[derive(Debug, Clone)]
pub struct Key(String);

impl Key {
    /// The request's key, if it sent one; a malformed one is a 400.
    pub fn from_request(req: &HttpRequest) -> ApiResult<Option<Self>> {
        let Some(value) = req.headers().get(HEADER) else {
            return Ok(None);
        };
        value
            .to_str()
            .ok()
            .filter(|v| (1..=255).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()))
            .map(|v| Some(Self(v.to_owned())))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_header",
                    "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID, say)",
                )
            })
    }
}

/// What identifies a request for the key: a SHA-256 of its parts as canonical JSON (object
/// keys in order, no spacing), so that the same body sent twice matches however it is laid out.
pub fn fingerprint(parts: &impl Serialize) -> String {
    let canonical = serde_json::to_value(parts).and_then(|v| serde_json::to_vec(&sort_keys(v)));
    hex(&Sha256::digest(canonical.unwrap_or_default()))
}

fn sort_keys(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sort_keys(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// What [`begin`] found.
#[derive(Debug)]
pub enum Begun {
    /// This request holds the key: do the work, then [`Claim::complete`] (or it is released).
    Fresh(Claim),
    /// The work was done before: answer this.
    Replay(Replay),
}

/// Claims `key` for the operation `scope` and this request's `fingerprint`, or finds what an
/// earlier request with that key did.
pub async fn begin(
    db: &impl ConnectionTrait,
    scope: &'static str,
    key: Key,
    fingerprint: String,
    ttl: Duration,
) -> ApiResult<Begun> {
    let key_hash = hex(&Sha256::digest(key.0.as_bytes()));
    let salt = crate::auth::random_bytes();
    let salt_hex = hex(&salt);
    // A key whose earlier holder gave up, expired or died between two reads is claimed again;
    // three rounds are more than such a race can take.
    for _ in 0..3 {
        let now = repo::now();
        let expires_at = now + TimeDelta::from_std(ttl).unwrap_or(TimeDelta::days(1));
        let claim = store::Claim {
            scope,
            key_hash: &key_hash,
            fingerprint: &fingerprint,
            secret_salt: &salt_hex,
            now,
            expires_at,
        };
        if store::claim(db, claim).await? {
            return Ok(Begun::Fresh(Claim {
                scope,
                key_hash,
                salt: salt_hex,
                secret: secret(&salt, &key),
            }));
        }
        let Some(row) = store::find(db, scope, &key_hash).await? else {
            continue;
        };
        if store::remove_if_dead(db, scope, &key_hash, now, now - ABANDONED_AFTER).await? {
            continue;
        }
        if row.fingerprint != fingerprint {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used for another request: use a new key for a new request",
            ));
        }
        if row.state != "done" {
            return Err(in_flight());
        }
        let salt = unhex(&row.secret_salt).ok_or_else(|| ApiError::internal("bad idempotency salt"))?;
        return Ok(Begun::Replay(Replay {
            status: StatusCode::from_u16(row.status_code.unwrap_or(200).try_into().unwrap_or(200))
                .unwrap_or(StatusCode::OK),
            location: row.location,
            etag: row.etag,
            body: serde_json::from_str(row.body.as_deref().unwrap_or("null")).unwrap_or_default(),
            secret: secret(&salt, &key),
        }));
    }
    Err(in_flight())
}

/// A held key.
#[derive(Debug)]
pub struct Claim {
    scope: &'static str,
    key_hash: String,
    /// Tells this claim from one that took the key over.
    salt: String,
    secret: [u8; 32],
}

impl Claim {
    /// 32 secret bytes that a replay derives again from the client's key: for a secret in the
    /// answer that must come back the same but is not stored.
    pub fn secret(&self) -> [u8; 32] {
        self.secret
    }

    /// Stores the answer (its body without secrets, about `resource_id`), inside the transaction
    /// that did the work.
    /// A key taken over meanwhile (this claim was thought abandoned) is a 409: the caller's
    /// transaction then rolls back, and the request that holds the key decides.
    pub async fn complete(
        &self,
        tx: &impl ConnectionTrait,
        resource_id: Uuid,
        status: StatusCode,
        location: Option<String>,
        etag: Option<String>,
        body: &serde_json::Value,
    ) -> ApiResult<()> {
        let answer = store::Answer {
            resource_id: Some(resource_id),
            status: status.as_u16(),
            location,
            etag,
            body: body.to_string(),
        };
        if store::complete(tx, self.scope, &self.key_hash, &self.salt, answer).await? {
            Ok(())
        } else {
            Err(in_flight())
        }
    }

    /// Gives the key up after a failed request, so that a retry runs again. Best effort: a
    /// claim left behind is taken over once abandoned.
    pub async fn release(self, db: &impl ConnectionTrait) {
        if let Err(e) = store::release(db, self.scope, &self.key_hash, &self.salt).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
    }
}

/// An earlier answer, to give again.
#[derive(Debug)]
pub struct Replay {
    pub status: StatusCode,
    pub location: Option<String>,
    pub etag: Option<String>,
    /// As stored: without secrets (the caller puts them back from [`Replay::secret`]).
    pub body: serde_json::Value,
    pub secret: [u8; 32],
}

impl Replay {
    /// The answer, marked `Idempotent-Replayed: true`.
    pub fn respond(self, body: &serde_json::Value) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        for (name, value) in [(header::LOCATION, self.location), (header::ETAG, self.etag)] {
            if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                res.insert_header((name, v));
            }
        }
        res.insert_header((REPLAYED, HeaderValue::from_static("true")));
        res.json(body)
    }
}

/// Deletes expired keys; the server does it periodically.
pub async fn sweep(db: &impl ConnectionTrait, now: DateTime<Utc>) -> ApiResult<u64> {
    Ok(store::sweep(db, now).await?)
}

fn in_flight() -> ApiError {
    let mut e = ApiError::conflict(
        "idempotency_key_in_flight",
        "a request with this Idempotency-Key is still being processed: retry shortly",
    );
    e.set_retry_after(1);
    e
}

fn secret(salt: &[u8], key: &Key) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"jobtour idempotent secret\0");
    h.update(salt);
    h.update(key.0.as_bytes());
    h.finalize().into()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_fingerprint_ignores_layout_but_not_content() {
        let a = fingerprint(&json!({ "b": 1, "a": { "y": [1, 2], "x": null } }));
        let b =
            fingerprint(&serde_json::from_str::<serde_json::Value>(r#"{"a":{"x":null,"y":[1,2]},  "b":1}"#).unwrap());
        assert_eq!(a, b);
        assert_ne!(a, fingerprint(&json!({ "b": 1, "a": { "y": [2, 1], "x": null } })));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn the_secret_comes_back_from_the_key_and_salt_only() {
        let key = Key("k-1".into());
        let salt = [7u8; 32];
        assert_eq!(secret(&salt, &key), secret(&salt, &Key("k-1".into())));
        assert_ne!(secret(&salt, &key), secret(&[8u8; 32], &key));
        assert_ne!(secret(&salt, &key), secret(&salt, &Key("k-2".into())));
        assert_eq!(unhex(&hex(&salt)).unwrap(), salt);
    }
}
