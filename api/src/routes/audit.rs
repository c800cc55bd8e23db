//! `GET /audit`: the audit log, for organisers.

use crate::auth::SignedIn;
use crate::entities::audit_log::Model;
use crate::error::ApiResult;
use crate::http::{self, Page, PageRequest};
use crate::openapi::string_enum;
use crate::policy::{self, Action, Object};
use crate::repo::audit;
use crate::state::AppState;
use actix_web::get;
use actix_web::web::{Data, Json, Query};
use chrono::{DateTime, Utc};
use jobtour_domain::error::Invalid;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Longest `object_type` filter (the longest type is far shorter).
const MAX_OBJECT_TYPE: usize = 40;

fn actor_schema() -> utoipa::openapi::Object {
    string_enum(&["staff", "candidate", "system"])
}

/// One audited operation: who, what, on which object, when, in which request. It holds no
/// personal data of candidates.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a6b2e-aaaa-7e21-9a3f-2b8c4d5e6f70", "actor": "staff", "user_id": "019a6b2e-bbbb-7e21-9a3f-2b8c4d5e6f70",
    "action": "PATCH /api/v1/applications/{id}", "object_type": "applications",
    "object_id": "019a6b2e-9999-7e21-9a3f-2b8c4d5e6f70", "request_id": "019a6b2e-cccc-7e21-9a3f-2b8c4d5e6f70",
    "status": 200, "at": "2027-10-19T09:30:00Z"
}))]
pub struct AuditEntry {
    pub id: Uuid,
    /// `staff`, `candidate` (with its application's token) or `system` (the retention purge).
    #[schema(schema_with = actor_schema)]
    pub actor: String,
    pub user_id: Option<Uuid>,
    /// The operation: method and route.
    pub action: String,
    /// The kind of object: `positions`, `applications`, `slots`…
    pub object_type: String,
    pub object_id: Option<Uuid>,
    pub request_id: String,
    /// The answer's status.
    pub status: i32,
    pub at: DateTime<Utc>,
}

impl From<Model> for AuditEntry {
    fn from(m: Model) -> Self {
        Self {
            id: m.id,
            actor: m.actor_kind,
            user_id: m.user_id,
            action: m.action,
            object_type: m.object_type,
            object_id: m.object_id,
            request_id: m.request_id,
            status: m.status,
            at: m.at,
        }
    }
}

/// Filters and paging for the log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `positions`, `applications`, `slots`…
    #[param(max_length = 40)] // MAX_OBJECT_TYPE
    pub object_type: Option<String>,
    pub object_id: Option<Uuid>,
    /// The staff user who acted.
    pub user_id: Option<Uuid>,
}

/// The audit log in the order things happened (organisers only): every write by staff, every
/// candidate's write, export and erasure, and the retention purge.
#[utoipa::path(tag = "audit", operation_id = "listAudit", params(AuditQuery), security(("bearer" = [])), responses(
    (status = 200, description = "One page of the log", body = Page<AuditEntry>),
))]
#[get("/audit")]
pub async fn list(
    signed_in: SignedIn,
    state: Data<AppState>,
    query: Query<AuditQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    policy::may(&signed_in.actor(), Action::Read, Object::Audit)?;
    let q = query.into_inner();
    let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref())?;
    if q.object_type
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_OBJECT_TYPE)
    {
        let e = Invalid::new("too_long", format!("at most {MAX_OBJECT_TYPE} characters"));
        return Err(http::invalid_query("object_type", e));
    }
    let filter = audit::Filter {
        object_type: q.object_type,
        object_id: q.object_id,
        user_id: q.user_id,
    };
    let rows = audit::list(state.db.conn(), &filter, &page).await?;
    Ok(Json(http::page_of(rows, page.limit, |m| m.id, AuditEntry::from)))
}
