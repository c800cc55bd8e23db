//! Who is calling: the `Actor` extractor, staff passwords (argon2id, hashed off the async
//! workers) and opaque bearer tokens (random, stored only as a SHA-256 hash).

use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::LocalBoxFuture;
use jobtour_domain::text::Password;
use jobtour_domain::user::Role;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use uuid::Uuid;

/// A logged-in staff user, as seen by a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Staff {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub role: Role,
    pub organisation_id: Option<Uuid>,
}

/// The caller of a request. Extracting it never fails for a missing token (that is an
/// anonymous caller); a token that is present but unknown, expired or revoked is a 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    Staff(Staff),
    /// A candidate holding the access token of an application: it opens that one application.
    Candidate {
        application_id: Uuid,
    },
    /// A company that wrote to the development agency, holding its enquiry's access token: it
    /// opens that one enquiry.
    Enquirer {
        enquiry_id: Uuid,
    },
}

impl Actor {
    /// The staff user; 401 for an anonymous caller, 403 for a candidate.
    pub fn staff(&self) -> ApiResult<&Staff> {
        match self {
            Self::Staff(s) => Ok(s),
            Self::Anonymous => Err(ApiError::unauthenticated()),
            Self::Candidate { .. } => Err(ApiError::forbidden(
                "a candidate's token opens its own application only; this needs a staff login",
            )),
            Self::Enquirer { .. } => Err(ApiError::forbidden(
                "an enquiry's token opens that enquiry only; this needs a staff login",
            )),
        }
    }
}

/// A caller who must be signed in as staff. Extracting it answers 401 (403 to a candidate)
/// before the request's other parts (path, query, body) are even looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedIn(pub Staff);

impl SignedIn {
    /// As an [`Actor`], for the policy.
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.0)
    }
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let actor = Actor::from_request(req, payload);
        Box::pin(async move { Ok(SignedIn(*actor.await?.staff()?)) })
    }
}

/// The prefixes of staff and candidate tokens: they tell the two apart, and make a leaked
/// token recognisable by secret scanners.
const STAFF_TOKEN_PREFIX: &str = "jts_";
const CANDIDATE_TOKEN_PREFIX: &str = "jtc_";
const ENQUIRER_TOKEN_PREFIX: &str = "jte_";
/// A one-use ticket to a stop's attendance stream (never a bearer token).
const STREAM_TICKET_PREFIX: &str = "jtt_";

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    /// Resolves the bearer token once per request: the actor is kept in the request's extensions
    /// (for a second extractor, and for the audit log).
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(actor) = req.extensions().get::<Actor>().copied() {
            return Box::pin(futures_util::future::ready(Ok(actor)));
        }
        let req = req.clone();
        Box::pin(async move {
            let actor = resolve(&req).await?;
            req.extensions_mut().insert(actor);
            Ok(actor)
        })
    }
}

/// The token of an `Authorization: Bearer …` header value.
pub fn bearer(header: &str) -> Option<&str> {
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
}

/// Whether the request says it comes from staff: its bearer token is a staff token (which the
/// handler then checks; a forged one is a 401).
pub fn claims_staff(headers: &actix_web::http::header::HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .is_some_and(|token| token.starts_with(STAFF_TOKEN_PREFIX))
}

async fn resolve(req: &HttpRequest) -> ApiResult<Actor> {
    let Some(header) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(Actor::Anonymous);
    };
    let invalid = || {
        ApiError::new(
            actix_web::http::StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the bearer token is not valid, has expired or was revoked: log in again",
        )
    };
    let token = header.to_str().ok().and_then(bearer).ok_or_else(invalid)?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("AppState missing"))?;
    let db = state.db.conn();
    if token.starts_with(STAFF_TOKEN_PREFIX) {
        let staff = repo::sessions::find_active(db, &token_hash(token), repo::now())
            .await?
            .ok_or_else(invalid)?;
        Ok(Actor::Staff(staff))
    } else if token.starts_with(CANDIDATE_TOKEN_PREFIX) {
        let application_id = repo::applications::id_for_token(db, &token_hash(token))
            .await?
            .ok_or_else(invalid)?;
        Ok(Actor::Candidate { application_id })
    } else if token.starts_with(ENQUIRER_TOKEN_PREFIX) {
        let enquiry_id = repo::enquiries::id_for_token(db, &token_hash(token))
            .await?
            .ok_or_else(invalid)?;
        Ok(Actor::Enquirer { enquiry_id })
    } else {
        Err(invalid())
    }
}

/// A fresh staff bearer token and the hash under which it is stored.
pub fn new_token() -> (String, String) {
    token_from(STAFF_TOKEN_PREFIX, random_bytes())
}

/// A candidate's access token made from 32 secret bytes (random, or derived from an
/// idempotency key so that a replay gives the same token back), and its hash.
pub fn candidate_token(secret: [u8; 32]) -> (String, String) {
    token_from(CANDIDATE_TOKEN_PREFIX, secret)
}

/// A fresh access token for an enquiry, and its hash.
pub fn enquirer_token() -> (String, String) {
    token_from(ENQUIRER_TOKEN_PREFIX, random_bytes())
}

/// A fresh ticket to an attendance stream, and its hash.
pub fn stream_ticket() -> (String, String) {
    token_from(STREAM_TICKET_PREFIX, random_bytes())
}

/// 32 random bytes: 256 bits of entropy.
pub fn random_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

fn token_from(prefix: &str, secret: [u8; 32]) -> (String, String) {
    let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(secret));
    let hash = token_hash(&token);
    (token, hash)
}

/// SHA-256, hex. A token has 256 bits of entropy, so a fast hash is enough (no salt, no
/// stretching): the stored value cannot be turned back into a usable token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes a password with argon2id (OWASP parameters: 19 MiB, 2 passes), on the blocking
/// thread pool so that the async workers keep serving.
pub async fn hash_password(password: Password) -> ApiResult<String> {
    web::block(move || hash_blocking(password.expose()))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Checks a password against a stored hash, off the async workers. With no stored hash (no
/// such user) a dummy hash is checked, so that both cases take the same time.
pub async fn verify_password(password: String, stored: Option<String>) -> ApiResult<bool> {
    web::block(move || {
        let hash = stored.as_deref().unwrap_or(DUMMY_HASH.as_str());
        let ok = PasswordHash::new(hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        ok && stored.is_some()
    })
    .await
    .map_err(ApiError::internal)
}

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut random = [0u8; 24];
    rand::rng().fill_bytes(&mut random);
    hash_blocking(&URL_SAFE_NO_PAD.encode(random)).unwrap_or_default()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with("jts_") && a.len() > 40);
        assert_eq!(ha, token_hash(&a));
        assert_eq!(ha.len(), 64);
        assert!(!ha.contains(&a[4..]));
    }

    #[test]
    fn argon2id_round_trip() {
        let hash = hash_blocking("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        assert!(Argon2::default().verify_password(b"wrong", &parsed).is_err());
    }
}
