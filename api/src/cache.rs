//! Public reads served from memory, and conditional GETs.
//!
//! What anyone may read without signing in (the job board, tours, stops, slots, the
//! organisation directory: the document's anonymous GETs) is kept in memory, keyed by the URL,
//! and answered without touching the database. It is never stale after a write:
//! - every write that can change a public read (any non-GET that did not answer 4xx, except
//!   the few listed in [`WRITES_THAT_CHANGE_NO_PUBLIC_READ`]) moves the cache to a new
//!   generation before its answer leaves, and entries of an older generation are not served;
//! - on PostgreSQL it also sends `NOTIFY jobtour_cache`, on which every other instance, which
//!   `LISTEN`s, moves to a new generation too, and answers only once its own notification came
//!   back through PostgreSQL; while an instance's listening connection is down it serves
//!   nothing from memory. What is left is a window, not a promise: PostgreSQL signals every
//!   listening backend at commit and each passes the message on when it gets to run, then the
//!   other instance handles it; microseconds on an idle machine, a few milliseconds seen on
//!   two busy cores running the test suite;
//! - a read that began before a write's new generation is not stored (it may have read the old
//!   rows), and entries are dropped after [`MAX_AGE`] in any case (positions close by the clock,
//!   not only by writes).
//!
//! Every GET answer that carries an `ETag` (a version for single resources, a hash of the body
//! for public lists) is answered `304 Not Modified` when `If-None-Match` names it, and public
//! answers say `Cache-Control: public, no-cache` (a browser or CDN may keep them, but asks each
//! time, cheaply); answers to signed-in requests say `private, no-store`.

use crate::db::{Db, Heard};
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpResponse, web};
use sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The PostgreSQL channel on which instances tell each other that public data changed.
pub const CHANNEL: &str = "jobtour_cache";
/// The longest an entry is served, whatever happens.
pub const MAX_AGE: Duration = Duration::from_secs(30);
/// The longest a write waits for its own notification to come back before answering.
const ECHO_WAIT: Duration = Duration::from_secs(1);
/// Bodies larger than this are not kept.
const MAX_ENTRY_BYTES: usize = 1 << 20;

/// Writes that change nothing anyone reads anonymously: signing in and out, applying and checking
/// in at the bus (an application is private; only a hire, made by staff, changes a position),
/// webhooks, users.
const WRITES_THAT_CHANGE_NO_PUBLIC_READ: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/positions/{id}/applications"),
    ("POST", "/api/v1/organisations/{id}/webhooks"),
    ("DELETE", "/api/v1/webhooks/{id}"),
    ("POST", "/api/v1/users"),
    ("PATCH", "/api/v1/users/{id}"),
    ("DELETE", "/api/v1/users/{id}"),
    ("POST", "/api/v1/stops/{id}/checkins"),
    ("POST", "/api/v1/stops/{id}/walk-ins"),
    ("POST", "/api/v1/stops/{id}/attendance/ticket"),
    ("POST", "/api/v1/enquiries"),
    ("PATCH", "/api/v1/enquiries/{id}"),
    ("DELETE", "/api/v1/enquiries/{id}"),
];

/// One kept answer.
struct Entry {
    generation: u64,
    stored: Instant,
    etag: HeaderValue,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

#[derive(Clone)]
struct BodyWeight;

impl quick_cache::Weighter<String, Arc<Entry>> for BodyWeight {
    fn weight(&self, key: &String, entry: &Arc<Entry>) -> u64 {
        (key.len() + entry.body.len() + 128) as u64
    }
}

/// The public-read cache of one instance (`web::Data<PublicCache>`).
pub struct PublicCache {
    entries: Option<quick_cache::sync::Cache<String, Arc<Entry>, BodyWeight>>,
    /// Route patterns of the anonymous GETs.
    public: HashSet<String>,
    generation: AtomicU64,
    /// Whether this instance hears the others' writes (always, on SQLite: one instance per file).
    live: AtomicBool,
    /// Where to tell the other instances (PostgreSQL only).
    notify: Option<Db>,
    /// This instance's name in its notifications, and the number of its last one.
    instance: uuid::Uuid,
    sent: AtomicU64,
    /// The number of this instance's last notification that came back through PostgreSQL.
    echoed: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for PublicCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicCache")
            .field("generation", &self.generation)
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

impl PublicCache {
    /// A cache of at most `megabytes` (0 turns it off) for the anonymous GETs of `public`
    /// (route patterns), told of other instances' writes through `db` when it is PostgreSQL.
    pub fn new(megabytes: u64, public: HashSet<String>, db: &Db) -> Self {
        let postgres = db.backend() == sea_orm::DbBackend::Postgres;
        let entries = (megabytes > 0).then(|| {
            let bytes = megabytes << 20;
            quick_cache::sync::Cache::with_weighter((bytes / 4096) as usize, bytes, BodyWeight)
        });
        Self {
            entries,
            public,
            generation: AtomicU64::new(0),
            live: AtomicBool::new(!postgres),
            notify: postgres.then(|| db.clone()),
            instance: uuid::Uuid::now_v7(),
            sent: AtomicU64::new(0),
            echoed: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The entries, unless this instance may not serve from memory now.
    fn entries(&self) -> Option<&quick_cache::sync::Cache<String, Arc<Entry>, BodyWeight>> {
        self.entries.as_ref().filter(|_| self.live.load(Ordering::Acquire))
    }

    /// Whether an entry may still be served: made in this generation, not too old.
    fn fresh(&self, entry: &Entry) -> bool {
        entry.generation == self.generation.load(Ordering::Acquire) && entry.stored.elapsed() < MAX_AGE
    }

    /// Whether an answer may be kept: small enough, and read in the current generation.
    fn keepable(&self, entry: &Entry) -> bool {
        entry.body.len() <= MAX_ENTRY_BYTES
            && self.live.load(Ordering::Acquire)
            && entry.generation == self.generation.load(Ordering::Acquire)
    }

    /// Public data changed here: forget what was kept, and tell the other instances. Returns
    /// once the notification came back through this instance's own listener (at most
    /// [`ECHO_WAIT`]): PostgreSQL hands a notification to every listener at once, so by then
    /// the others have been sent it too, and the writer's answer does not overtake it.
    pub async fn invalidate(&self) {
        self.forget();
        let Some(db) = &self.notify else {
            return;
        };
        let seq = self.sent.fetch_add(1, Ordering::AcqRel) + 1;
        let sql = format!("NOTIFY {CHANNEL}, '{}:{seq}'", self.instance);
        if let Err(e) = db.conn().execute_unprepared(&sql).await {
            tracing::warn!(error = %e, "could not tell the other instances that public data changed");
            return;
        }
        if self.live.load(Ordering::Acquire) {
            let mut echoed = self.echoed.subscribe();
            let _ = tokio::time::timeout(ECHO_WAIT, echoed.wait_for(|&n| n >= seq)).await;
        }
    }

    /// A notification heard: forget what was kept, and note this instance's own echoes.
    fn heard(&self, payload: &str) {
        self.forget();
        let mine = payload
            .split_once(':')
            .filter(|(instance, _)| *instance == self.instance.to_string())
            .and_then(|(_, seq)| seq.parse::<u64>().ok());
        if let Some(seq) = mine {
            self.echoed.send_if_modified(|n| {
                let newer = seq > *n;
                *n = (*n).max(seq);
                newer
            });
        }
    }

    /// Moves to a new generation: what was kept is no longer served.
    fn forget(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.clear();
        }
    }

    /// On PostgreSQL, listens for the other instances' writes until aborted (see
    /// [`crate::db::listen`]); while it is not listening nothing is served from memory.
    pub fn spawn_listener(self: Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let db = self.notify.clone()?;
        crate::db::listen(&db, CHANNEL, move |heard| match heard {
            Heard::Connected => {
                // Writes may have been missed while not listening.
                self.forget();
                self.live.store(true, Ordering::Release);
            }
            Heard::Message(payload) => self.heard(payload),
            Heard::Lost => {
                self.live.store(false, Ordering::Release);
                self.forget();
            }
        })
    }
}

/// Middleware: serves and keeps public reads, answers conditional GETs, sets `Cache-Control`,
/// and invalidates after writes.
pub async fn layer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(cache) = req.app_data::<web::Data<PublicCache>>().cloned() else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return read(&cache, req, next).await;
    }
    let write = (req.method().clone(), crate::http::route_pattern(req.request()));
    let res = next.call(req).await?;
    let exempt = write
        .1
        .as_deref()
        .is_some_and(|pattern| crate::routes::listed(WRITES_THAT_CHANGE_NO_PUBLIC_READ, write.0.as_str(), pattern));
    if !res.status().is_client_error() && !exempt {
        cache.invalidate().await;
    }
    Ok(res.map_into_boxed_body())
}

async fn read(
    cache: &PublicCache,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let public = !req.headers().contains_key(header::AUTHORIZATION)
        && crate::http::route_pattern(req.request()).is_some_and(|p| cache.public.contains(&*p));
    let key = public.then(|| req.uri().to_string());
    // One request per URL reads the database; the others asking for it meanwhile wait for its
    // answer (a burst of identical searches costs one query, not sixty-four).
    let mut guard = None;
    if let (Some(key), Some(entries)) = (key.as_deref(), cache.entries()) {
        loop {
            match entries.get_value_or_guard_async(key).await {
                Ok(entry) if cache.fresh(&entry) => {
                    let res = answer(&entry, req.headers());
                    return Ok(req.into_response(res));
                }
                Ok(_) => {
                    entries.remove(key);
                }
                Err(g) => {
                    guard = Some(g);
                    break;
                }
            }
        }
    }
    let generation = cache.generation.load(Ordering::Acquire);
    let mut res = next.call(req).await?;
    if res.status() != StatusCode::OK {
        return Ok(res.map_into_boxed_body());
    }
    if !public {
        let headers = res.headers_mut();
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        }
        return Ok(not_modified_or(res.map_into_boxed_body()));
    }
    // A public answer of known size: read it once, tag it, keep it.
    let (req, res) = res.into_parts();
    if !matches!(res.body().size(), BodySize::Sized(n) if n as usize <= MAX_ENTRY_BYTES) {
        return Ok(ServiceResponse::new(req, res.map_into_boxed_body()));
    }
    let (head, body) = res.into_parts();
    let body = actix_web::body::to_bytes(body)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("the answer could not be read"))?;
    let entry = Entry {
        generation,
        stored: Instant::now(),
        etag: head
            .headers()
            .get(header::ETAG)
            .cloned()
            .unwrap_or_else(|| body_etag(&body)),
        content_type: head.headers().get(header::CONTENT_TYPE).cloned(),
        body,
    };
    let res = answer(&entry, req.headers());
    // An answer read before a write it may not show is not kept: the next in line reads again.
    if let Some(guard) = guard
        && cache.keepable(&entry)
    {
        let _ = guard.insert(Arc::new(entry));
    }
    Ok(ServiceResponse::new(req, res))
}

/// The kept answer, or `304` when the client holds it already.
fn answer(entry: &Entry, request: &HeaderMap) -> HttpResponse {
    let fresh = if_none_match(request, &entry.etag);
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, entry.etag.clone()))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, no-cache")));
    if let Some(ct) = &entry.content_type {
        res.insert_header((header::CONTENT_TYPE, ct.clone()));
    }
    if fresh {
        res.finish()
    } else {
        res.body(entry.body.clone())
    }
}

/// `304` with the same `ETag` and `Cache-Control` when `If-None-Match` names the answer's tag.
fn not_modified_or(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let matched = res
        .headers()
        .get(header::ETAG)
        .is_some_and(|tag| if_none_match(res.request().headers(), tag));
    if !matched {
        return res;
    }
    let mut not_modified = HttpResponse::NotModified();
    for name in [header::ETAG, header::CACHE_CONTROL] {
        if let Some(value) = res.headers().get(&name) {
            not_modified.insert_header((name, value.clone()));
        }
    }
    res.into_response(not_modified.finish())
}

/// Whether `If-None-Match` lists `tag` or `*` (weak comparison, RFC 9110 §13.1.2).
fn if_none_match(request: &HeaderMap, tag: &HeaderValue) -> bool {
    let Some(Ok(listed)) = request.get(header::IF_NONE_MATCH).map(|v| v.to_str()) else {
        return false;
    };
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let tag = bare(tag.to_str().unwrap_or_default());
    listed.split(',').any(|t| t.trim() == "*" || bare(t) == tag)
}

/// A strong tag from the body's SHA-256 (the first 128 bits).
fn body_etag(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_inm(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn if_none_match_compares_weakly_and_honours_lists_and_star() {
        let tag = HeaderValue::from_static("\"3\"");
        assert!(if_none_match(&with_inm("\"3\""), &tag));
        assert!(if_none_match(&with_inm("W/\"3\""), &tag));
        assert!(if_none_match(&with_inm("\"1\", \"3\""), &tag));
        assert!(if_none_match(&with_inm("*"), &tag));
        assert!(!if_none_match(&with_inm("\"4\""), &tag));
        assert!(!if_none_match(&HeaderMap::new(), &tag));
    }

    #[test]
    fn body_tags_differ_with_the_body() {
        assert_eq!(body_etag(b"[1]"), body_etag(b"[1]"));
        assert_ne!(body_etag(b"[1]"), body_etag(b"[2]"));
        assert_eq!(body_etag(b"x").len(), 34);
    }
}
