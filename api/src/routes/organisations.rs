//! `/organisations`: the partner directory. Anyone reads it; organisers manage it; a partner
//! edits its own organisation.

use crate::auth::{Actor, SignedIn};
use crate::entities::organisation::Model;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, Page, PageRequest};
use crate::openapi::{string_enum, text};
use crate::policy::{self, Action, Object};
use crate::repo;
use crate::routes::clubs;
use crate::state::AppState;
use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post};
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use jobtour_domain::organisation::{OrganisationFields, OrganisationInput, OrganisationKind, OrganisationStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

fn kind_schema() -> utoipa::openapi::Object {
    string_enum(&OrganisationKind::ALL.map(OrganisationKind::as_str))
}

/// A partner organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Organisation {
    pub id: Uuid,
    #[schema(example = "Banque Populaire de Lorraine")]
    pub name: String,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    #[schema(example = json!(["banking", "insurance"]))]
    pub sectors: Vec<String>,
    #[schema(example = "Metz")]
    pub city: Option<String>,
    pub website: Option<String>,
    pub contact_email: Option<String>,
    pub description: Option<String>,
    /// Head count.
    #[schema(example = 6000)]
    pub employees: Option<i32>,
    /// Number of sites (customer-care centres…).
    #[schema(example = 80)]
    pub centres: Option<i32>,
    #[schema(value_type = Option<String>, format = Date, example = "2016-03-30")]
    pub founded_on: Option<NaiveDate>,
    /// `active`, or `merged` into the club `merged_into_id` (then it changes no more).
    #[schema(schema_with = status_schema)]
    pub status: String,
    pub merged_into_id: Option<Uuid>,
    /// For a club, in `GET /organisations/{id}`: its current members and their figures summed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub membership: Option<crate::routes::clubs::MembershipFigures>,
    /// In `GET /organisations/{id}`: the clubs it belongs to today.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clubs: Option<Vec<crate::routes::clubs::ClubOf>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn status_schema() -> utoipa::openapi::Object {
    string_enum(&OrganisationStatus::ALL.map(OrganisationStatus::as_str))
}

impl From<Model> for Organisation {
    fn from(m: Model) -> Self {
        Self {
            sectors: repo::organisations::sectors(&m),
            id: m.id,
            name: m.name,
            kind: m.kind,
            city: m.city,
            website: m.website,
            contact_email: m.contact_email,
            description: m.description,
            employees: m.employees,
            centres: m.centres,
            founded_on: m.founded_on,
            status: m.status,
            merged_into_id: m.merged_into_id,
            membership: None,
            clubs: None,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    #[schema(schema_with = text::name, example = "Banque Populaire de Lorraine")]
    pub name: String,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// Up to 20 sectors, each 1 to 60 characters.
    #[serde(default)]
    #[schema(schema_with = text::sectors, required = false)]
    pub sectors: Vec<String>,
    #[schema(schema_with = text::name_or_null, required = false)]
    pub city: Option<String>,
    /// An `http://` or `https://` address.
    #[schema(schema_with = text::web_url_or_null, required = false)]
    pub website: Option<String>,
    #[schema(schema_with = text::email_or_null, required = false)]
    pub contact_email: Option<String>,
    #[schema(schema_with = text::long_or_null, required = false)]
    pub description: Option<String>,
    /// Head count, 0 to 10 000 000.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000)]
    pub employees: Option<http::WholeNumber>,
    /// Number of sites, 0 to 10 000 000.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000)]
    pub centres: Option<http::WholeNumber>,
    #[schema(value_type = Option<String>, format = Date)]
    pub founded_on: Option<NaiveDate>,
}

/// Changes to an organisation: absent fields stay as they are, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::name, required = false)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = kind_schema, required = false)]
    pub kind: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::sectors, required = false)]
    pub sectors: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::name_or_null, required = false)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::web_url_or_null, required = false)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::email_or_null, required = false)]
    pub contact_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::long_or_null, required = false)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000, required = false)]
    pub employees: Option<Option<http::WholeNumber>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000, required = false)]
    pub centres: Option<Option<http::WholeNumber>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Option<String>, format = Date, required = false)]
    pub founded_on: Option<Option<NaiveDate>>,
}

/// Filters and paging for the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrganisationQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only organisations of this kind.
    #[param(schema_with = kind_schema)]
    pub kind: Option<String>,
    /// Only organisations in this city (exact match).
    pub city: Option<String>,
}

/// Lists organisations in creation order.
#[utoipa::path(operation_id = "listOrganisations", tag = "organisations", params(OrganisationQuery), responses(
    (status = 200, description = "One page of organisations", body = Page<Organisation>),
))]
#[get("/organisations")]
pub async fn list(
    state: Data<AppState>,
    actor: Actor,
    query: Query<OrganisationQuery>,
) -> ApiResult<Json<Page<Organisation>>> {
    policy::may(&actor, Action::Read, Object::Organisations)?;
    let q = query.into_inner();
    let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref())?;
    http::query_choice("kind", q.kind.as_deref(), OrganisationKind::parse)?;
    let filter = repo::organisations::Filter {
        kind: q.kind,
        city: q.city,
    };
    let rows = repo::organisations::list(state.db.conn(), &filter, &page).await?;
    Ok(Json(http::page_of(rows, page.limit, |m| m.id, Organisation::from)))
}

/// Adds an organisation (organisers only).
#[utoipa::path(operation_id = "createOrganisation", tag = "organisations", request_body(content = inline(NewOrganisation)), security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = Organisation, headers(("Location" = String), ("ETag" = String))),
))]
#[post("/organisations")]
pub async fn create(
    signed_in: SignedIn,
    state: Data<AppState>,
    body: Json<NewOrganisation>,
) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    policy::may(&actor, Action::Create, Object::Organisations)?;
    let b = body.into_inner();
    let fields = OrganisationFields::parse(OrganisationInput {
        name: b.name,
        kind: b.kind,
        sectors: b.sectors,
        city: b.city,
        website: b.website,
        contact_email: b.contact_email,
        description: b.description,
        employees: b.employees.map(|n| n.0),
        centres: b.centres.map(|n| n.0),
        founded_on: b.founded_on,
    })?;
    let db = state.db.conn();
    let model = repo::organisations::insert(db, fields).await?;
    let version = model.version;
    Ok(http::created(
        format!("/api/v1/organisations/{}", model.id),
        &clubs::detailed(db, model).await?,
        version,
    ))
}

/// One organisation.
#[utoipa::path(operation_id = "getOrganisation", tag = "organisations", params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The organisation", body = Organisation, headers(("ETag" = String))),
))]
#[get("/organisations/{id}")]
pub async fn get(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    policy::may(&actor, Action::Read, Object::Organisation { id })?;
    let db = state.db.conn();
    let model = repo::organisations::find(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation"))?;
    let version = model.version;
    let body = clubs::detailed(db, model).await?;
    Ok(http::ok_with_etag(&body, version))
}

/// Changes an organisation (organisers, or a partner for its own). Honours `If-Match`.
#[utoipa::path(operation_id = "updateOrganisation", tag = "organisations", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = OrganisationPatch, security(("bearer" = [])), responses(
    (status = 200, description = "The changed organisation", body = Organisation, headers(("ETag" = String))),
))]
#[patch("/organisations/{id}")]
pub async fn update(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<OrganisationPatch>,
) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    let id = id.into_inner();
    policy::may(&actor, Action::Update, Object::Organisation { id })?;
    let tx = state.db.begin().await?;
    let current = repo::organisations::find_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation"))?;
    clubs::party(&current)?.unmerged()?;
    // A bad body is a 422 whatever the version; only a valid change can be stale.
    let fields = OrganisationFields::parse(merge(current.clone(), body.into_inner())?)?;
    http::check_if_match(&req, current.version)?;
    let model = repo::organisations::update(&tx, id, current.version, fields)
        .await?
        .ok_or_else(ApiError::precondition_failed)?;
    // Its clubs show its figures, its members its name: their representations changed too.
    repo::memberships::touch(&tx, &repo::memberships::related(&tx, id).await?).await?;
    let version = model.version;
    let body = clubs::detailed(&tx, model).await?;
    tx.commit().await?;
    Ok(http::ok_with_etag(&body, version))
}

/// Removes an organisation (organisers only). Refused with 409 `in_use` while users or
/// other data still belong to it. Honours `If-Match`.
#[utoipa::path(operation_id = "deleteOrganisation", tag = "organisations", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    security(("bearer" = [])), responses((status = 204, description = "Deleted")))]
#[delete("/organisations/{id}")]
pub async fn delete(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    let id = id.into_inner();
    policy::may(&actor, Action::Delete, Object::Organisation { id })?;
    let tx = state.db.begin().await?;
    let current = repo::organisations::find_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation"))?;
    let in_use = "this organisation still owns data (users, tours, positions…): remove or move it first";
    http::delete_versioned(tx, &req, current.version, in_use, async |tx| {
        repo::organisations::delete(tx, id, current.version).await
    })
    .await
}

/// The current values with the patch laid over them, ready to be checked as a whole.
fn merge(current: Model, patch: OrganisationPatch) -> ApiResult<OrganisationInput> {
    let sectors = repo::organisations::sectors(&current);
    Ok(OrganisationInput {
        name: http::patch_required(patch.name, current.name, "name")?,
        kind: http::patch_required(patch.kind, current.kind, "kind")?,
        sectors: http::patch_required(patch.sectors, sectors, "sectors")?,
        city: patch.city.unwrap_or(current.city),
        website: patch.website.unwrap_or(current.website),
        contact_email: patch.contact_email.unwrap_or(current.contact_email),
        description: patch.description.unwrap_or(current.description),
        employees: patch
            .employees
            .map_or(current.employees.map(i64::from), |n| n.map(|n| n.0)),
        centres: patch.centres.map_or(current.centres.map(i64::from), |n| n.map(|n| n.0)),
        founded_on: patch.founded_on.unwrap_or(current.founded_on),
    })
}

/// A 422 on `field` unless the organisation exists: for references from other resources.
pub async fn ensure_exists(db: &impl sea_orm::ConnectionTrait, id: Uuid, field: &str) -> ApiResult<()> {
    match repo::organisations::find(db, id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::invalid_field(field, "not_found", "no such organisation")),
    }
}
