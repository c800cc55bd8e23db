//! The audit log's writer: a middleware that records, after the answer, every successful write by
//! staff or a candidate and every export of a candidate's data — who (a user id, or
//! "candidate"), the operation, the object, when, the request id. Handlers need not think of it:
//! the caller was resolved by the `Actor` extractor, which leaves it in the request.

use crate::auth::Actor;
use crate::repo::{self, audit};
use crate::state::AppState;
use crate::telemetry::RequestId;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use uuid::Uuid;

/// Middleware: one audit line per audited request, written once the answer is known.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let res = next.call(req).await?;
    if let Some(entry) = entry_for(&res) {
        let state = res.request().app_data::<web::Data<AppState>>().cloned();
        if let Some(state) = state
            && let Err(e) = audit::insert(state.db.conn(), entry).await
        {
            tracing::warn!(error = %e, "could not write the audit log");
        }
    }
    Ok(res)
}

/// What to record of an answered request, if it is audited: a successful write by staff or a
/// candidate, or a successful export.
fn entry_for<B>(res: &ServiceResponse<B>) -> Option<audit::Entry> {
    let req = res.request();
    let status = res.status();
    if !status.is_success() {
        return None;
    }
    let pattern = crate::http::route_pattern(req)?;
    let export = pattern.ends_with("/export");
    let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !(write || export) {
        return None;
    }
    let actor = req.extensions().get::<Actor>().copied()?;
    let (actor_kind, user_id) = match actor {
        Actor::Staff(staff) => ("staff", Some(staff.user_id)),
        // A person with a token to its own data: a candidate, or an enquirer (the log's kinds
        // predate enquiries; the object type tells them apart).
        Actor::Candidate { .. } | Actor::Enquirer { .. } => ("candidate", None),
        Actor::Anonymous => return None,
    };
    let object_type = pattern
        .strip_prefix("/api/v1/")
        .and_then(|p| p.split('/').next())
        .unwrap_or("")
        .to_owned();
    let object_id = req
        .match_info()
        .get("id")
        .and_then(|id| id.parse::<Uuid>().ok())
        .or_else(|| {
            res.headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| l.rsplit('/').next())
                .and_then(|id| id.parse().ok())
        });
    Some(audit::Entry {
        actor_kind,
        user_id,
        action: format!("{} {pattern}", req.method()),
        object_type,
        object_id,
        request_id: req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
        status: status.as_u16(),
        at: repo::now(),
    })
}
