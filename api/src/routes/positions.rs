//! `/positions`: the job board. Employers (partners, for their own organisation) and organisers
//! post positions for a tour and the stops where candidates meet them; anyone browses the open
//! positions of published tours, filtered and searched in French.

use crate::auth::{Actor, SignedIn};
use crate::entities::{position::Model, tour};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, Page, PageRequest, WholeNumber};
use crate::notify;
use crate::openapi::{string_enum, text};
use crate::policy::{self, Action, Object};
use crate::repo::{
    self,
    positions::{Place, Shown},
};
use crate::routes::stops::tour_zone;
use crate::routes::tours::{is_public_status, visible_tour};
use crate::state::AppState;
use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post};
use chrono::{DateTime, NaiveDate, Utc};
use jobtour_domain::error::Invalid;
use jobtour_domain::position::{
    ContractType, PositionFields, PositionInput, PositionStatus, SalaryPeriod, Staffing, WorkingTime,
};
use jobtour_domain::search::SearchTerms;
use jobtour_domain::tour::{TourStatus, end_of_day};
use jobtour_domain::{DomainError, Fields};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

fn contract_schema() -> utoipa::openapi::Object {
    string_enum(&ContractType::ALL.map(ContractType::as_str))
}

fn working_time_schema() -> utoipa::openapi::Object {
    string_enum(&WorkingTime::ALL.map(WorkingTime::as_str))
}

fn period_schema() -> utoipa::openapi::Object {
    string_enum(&SalaryPeriod::ALL.map(SalaryPeriod::as_str))
}

fn status_schema() -> utoipa::openapi::Object {
    string_enum(&PositionStatus::ALL.map(PositionStatus::as_str))
}

fn initial_status_schema() -> utoipa::openapi::Object {
    string_enum(&[PositionStatus::Draft.as_str(), PositionStatus::Open.as_str()])
}

/// An open position at the tour's stops.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a6b2e-7c4d-7e21-9a3f-2b8c4d5e6f70", "organisation_id": "019a6b2e-1111-7e21-9a3f-2b8c4d5e6f70",
    "employer_name": "Crédit Mosellan", "tour_id": "019a6b2e-2222-7e21-9a3f-2b8c4d5e6f70",
    "title": "Conseiller clientèle bancaire (H/F)", "description": "Accueil et conseil des clients au téléphone.",
    "contract_type": "cdi", "working_time": "full_time", "city": "Metz", "postcode": "57000", "sector": "banking",
    "openings": 12, "filled": 3, "salary_min": 1900, "salary_max": 2300, "salary_period": "month",
    "status": "open", "stop_ids": ["019a6b2e-3333-7e21-9a3f-2b8c4d5e6f70"], "closes_on": "2027-10-23",
    "created_at": "2027-09-01T08:00:00Z", "updated_at": "2027-09-02T08:00:00Z"
}))]
pub struct Position {
    pub id: Uuid,
    /// The employer.
    pub organisation_id: Uuid,
    /// The employer's name, for display.
    pub employer_name: String,
    pub tour_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    #[schema(schema_with = contract_schema)]
    pub contract_type: String,
    #[schema(schema_with = working_time_schema)]
    pub working_time: String,
    pub city: String,
    pub postcode: Option<String>,
    pub sector: Option<String>,
    /// How many people the employer hires.
    pub openings: i32,
    /// How many it has hired (applications moved to `hired`).
    pub filled: i32,
    /// Whole euros.
    pub salary_min: Option<i32>,
    pub salary_max: Option<i32>,
    #[schema(schema_with = period_schema)]
    pub salary_period: Option<String>,
    /// `draft`, `open`, `filled` (every opening filled) or `closed`.
    #[schema(schema_with = status_schema)]
    pub status: String,
    /// Stops of the tour where the employer meets candidates, in itinerary order.
    pub stop_ids: Vec<Uuid>,
    /// The last day applications are taken (in the tour's time zone).
    pub closes_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Shown> for Position {
    fn from(
        Shown {
            position: m,
            employer_name,
            stop_ids,
        }: Shown,
    ) -> Self {
        Self {
            id: m.id,
            organisation_id: m.organisation_id,
            employer_name,
            tour_id: m.tour_id,
            title: m.title,
            description: m.description,
            contract_type: m.contract_type,
            working_time: m.working_time,
            city: m.city,
            postcode: m.postcode,
            sector: m.sector,
            openings: m.openings,
            filled: m.filled,
            salary_min: m.salary_min,
            salary_max: m.salary_max,
            salary_period: m.salary_period,
            status: m.status,
            stop_ids,
            closes_on: m.closes_on,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new position.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "tour_id": "019a6b2e-2222-7e21-9a3f-2b8c4d5e6f70", "title": "Conseiller clientèle bancaire (H/F)",
    "description": "Accueil et conseil des clients au téléphone.", "contract_type": "cdi",
    "working_time": "full_time", "city": "Metz", "postcode": "57000", "sector": "banking", "openings": 12,
    "salary_min": 1900, "salary_max": 2300, "salary_period": "month", "status": "open",
    "stop_ids": ["019a6b2e-3333-7e21-9a3f-2b8c4d5e6f70"], "closes_on": "2027-10-23"
}))]
pub struct NewPosition {
    /// The employer: a partner's own organisation when left out (organisers must give it).
    pub organisation_id: Option<Uuid>,
    /// The tour; the employer must take part in it.
    pub tour_id: Uuid,
    #[schema(schema_with = text::name)]
    pub title: String,
    #[schema(schema_with = text::long_or_null, required = false)]
    pub description: Option<String>,
    #[schema(schema_with = contract_schema)]
    pub contract_type: String,
    /// Default `full_time`.
    #[schema(schema_with = working_time_schema, required = false)]
    pub working_time: Option<String>,
    #[schema(schema_with = text::name)]
    pub city: String,
    #[schema(schema_with = text::postcode_or_null, required = false)]
    pub postcode: Option<String>,
    #[schema(schema_with = text::sector_or_null, required = false)]
    pub sector: Option<String>,
    /// 1 to 10 000 (default 1).
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 10000)]
    pub openings: Option<WholeNumber>,
    /// Whole euros, with `salary_period`.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000000)]
    pub salary_min: Option<WholeNumber>,
    /// At least `salary_min`.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000000)]
    pub salary_max: Option<WholeNumber>,
    #[schema(schema_with = period_schema, required = false)]
    pub salary_period: Option<String>,
    /// `draft` (default) or `open`.
    #[schema(schema_with = initial_status_schema, required = false)]
    pub status: Option<String>,
    /// Stops of the tour where the employer meets candidates.
    #[serde(default)]
    #[schema(max_items = 50, required = false)]
    pub stop_ids: Vec<Uuid>,
    pub closes_on: Option<NaiveDate>,
}

/// Changes to a position: absent fields stay, `null` clears an optional one. A position stays
/// with its employer and its tour. `status` moves draft → open → closed (and filled → closed);
/// `filled` comes and goes with hires and openings, never by hand.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "openings": 15, "status": "open", "closes_on": null }))]
pub struct PositionPatch {
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::name, required = false)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::long_or_null, required = false)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = contract_schema, required = false)]
    pub contract_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = working_time_schema, required = false)]
    pub working_time: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::name, required = false)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::postcode_or_null, required = false)]
    pub postcode: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::sector_or_null, required = false)]
    pub sector: Option<Option<String>>,
    /// Never below `filled`.
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = i64, minimum = 1, maximum = 10000, required = false)]
    pub openings: Option<Option<WholeNumber>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000000, required = false)]
    pub salary_min: Option<Option<WholeNumber>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000000, required = false)]
    pub salary_max: Option<Option<WholeNumber>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = period_schema, required = false)]
    pub salary_period: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = status_schema, required = false)]
    pub status: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Vec<Uuid>, max_items = 50, required = false)]
    pub stop_ids: Option<Option<Vec<Uuid>>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Option<NaiveDate>, required = false)]
    pub closes_on: Option<Option<NaiveDate>>,
}

/// Filters, search and paging for the job board.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PositionQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (of the same search).
    pub cursor: Option<String>,
    /// Words to look for in titles and descriptions, in French: blind to accents and case,
    /// word endings too ("conseiller" finds "Conseillère"). Every word must match. Positions with
    /// every word in their title come first, then the others; newest first within each.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Staff only see other statuses than `open`: the public board shows open positions.
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
    pub tour_id: Option<Uuid>,
    /// Positions whose employer meets candidates at this stop.
    pub stop_id: Option<Uuid>,
    /// The employer.
    pub organisation_id: Option<Uuid>,
    #[param(schema_with = contract_schema)]
    pub contract_type: Option<String>,
    #[param(schema_with = working_time_schema)]
    pub working_time: Option<String>,
    /// Exact match.
    pub city: Option<String>,
    /// Exact match.
    pub sector: Option<String>,
}

/// The job board: open positions of published tours for everyone, newest first (title matches
/// first with `q`); staff also see what their role allows (a partner its own organisation's
/// positions in every status, an organiser everything).
#[utoipa::path(tag = "positions", operation_id = "listPositions", params(PositionQuery), responses(
    (status = 200, description = "One page of positions", body = Page<Position>),
))]
#[get("/positions")]
pub async fn list(state: Data<AppState>, actor: Actor, query: Query<PositionQuery>) -> ApiResult<Json<Page<Position>>> {
    policy::may(&actor, Action::Read, Object::Positions)?;
    let q = query.into_inner();
    let terms = http::query_choice("q", q.q.as_deref(), SearchTerms::parse)?.flatten();
    let filter = repo::positions::Filter {
        scope: policy::position_scope(&actor),
        status: http::query_choice("status", q.status.as_deref(), PositionStatus::parse)?,
        tour_id: q.tour_id,
        stop_id: q.stop_id,
        organisation_id: q.organisation_id,
        contract_type: http::query_choice("contract_type", q.contract_type.as_deref(), ContractType::parse)?,
        working_time: http::query_choice("working_time", q.working_time.as_deref(), WorkingTime::parse)?,
        city: q.city,
        sector: q.sector,
        now: repo::now(),
    };
    let db = state.db.conn();
    let page = match &terms {
        None => {
            let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref())?;
            let rows = repo::positions::list(db, &filter, page.after, page.limit + 1).await?;
            http::page_of(rows, page.limit, |s| s.position.id, Position::from)
        }
        Some(terms) => {
            let page = PageRequest::<(u8, i64, Uuid)>::parse(q.limit, q.cursor.as_deref())?;
            let after = page.after.map(|(tier, seq, id)| Place { tier, seq, id });
            let rows = repo::positions::search(db, &filter, terms, after, page.limit + 1).await?;
            http::page_of(
                rows,
                page.limit,
                |(_, p)| (p.tier, p.seq, p.id),
                |(s, _)| Position::from(s),
            )
        }
    };
    Ok(Json(page))
}

/// Posts a position (organisers for any employer; a partner for its own organisation only).
/// The employer must take part in the tour; the stops must be the tour's.
#[utoipa::path(tag = "positions", operation_id = "createPosition", request_body = NewPosition, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = Position, headers(("Location" = String), ("ETag" = String))),
))]
#[post("/positions")]
pub async fn create(signed_in: SignedIn, state: Data<AppState>, body: Json<NewPosition>) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    let b = body.into_inner();
    let organisation_id = b
        .organisation_id
        .or(policy::organisation_scope(&signed_in.0))
        .ok_or_else(|| ApiError::invalid_field("organisation_id", "required", "is required: the employer"))?;
    policy::may(
        &actor,
        Action::Create,
        Object::Position {
            organisation_id,
            public: true,
        },
    )?;
    let tx = state.db.begin().await?;
    let tour = tour_for_position(&tx, &actor, b.tour_id).await?;
    crate::routes::organisations::ensure_exists(&tx, organisation_id, "organisation_id").await?;
    if !repo::tours::takes_part(&tx, tour.id, organisation_id).await? {
        return Err(ApiError::invalid_field(
            "organisation_id",
            "not_a_tour_partner",
            "the employer does not take part in this tour: add it to the tour's partners first",
        ));
    }
    let input = PositionInput {
        title: b.title,
        description: b.description,
        contract_type: b.contract_type,
        working_time: b
            .working_time
            .unwrap_or_else(|| WorkingTime::FullTime.as_str().to_owned()),
        city: b.city,
        postcode: b.postcode,
        sector: b.sector,
        salary_min: b.salary_min.map(|n| n.0),
        salary_max: b.salary_max.map(|n| n.0),
        salary_period: b.salary_period,
        stop_ids: b.stop_ids,
        closes_on: b.closes_on,
    };
    let stops = tour_stops(&tx, &tour).await?;
    let mut f = Fields::default();
    let staffing = f.take("openings", Staffing::openings(b.openings.map_or(1, |n| n.0)));
    let status = f.take("status", initial_status(b.status.as_deref()));
    let fields = f.absorb(PositionFields::parse(input, &stops));
    let (staffing, status, fields) = f.finish(|| Some((staffing?, status?, fields?)))?;
    let written = written(&tour, fields, staffing, status)?;
    let model = repo::positions::insert(&tx, organisation_id, tour.id, &written).await?;
    let version = model.version;
    let body = read_back(&tx, model.id).await?;
    tx.commit().await?;
    Ok(http::created(format!("/api/v1/positions/{}", body.id), &body, version))
}

/// One position: anyone may read a position of a published tour that is no longer a draft
/// (open, filled or closed: a shared link keeps working); a draft only its employer and
/// organisers.
#[utoipa::path(tag = "positions", operation_id = "getPosition", params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The position", body = Position, headers(("ETag" = String))),
))]
#[get("/positions/{id}")]
pub async fn get(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let (shown, tour_status) = repo::positions::find_shown(state.db.conn(), id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("position"))?;
    may_read(&actor, &shown.position, &tour_status)?;
    let version = shown.position.version;
    let body = Position::from(shown);
    Ok(http::ok_with_etag(&body, version))
}

/// Changes a position (organisers, or a partner for its own organisation). Honours `If-Match`.
#[utoipa::path(tag = "positions", operation_id = "updatePosition", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = PositionPatch, security(("bearer" = [])), responses(
    (status = 200, description = "The changed position", body = Position, headers(("ETag" = String))),
))]
#[patch("/positions/{id}")]
pub async fn update(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<PositionPatch>,
) -> ApiResult<HttpResponse> {
    let p = body.into_inner();
    let tx = state.db.begin().await?;
    let (current, tour) = locked(&tx, &signed_in.actor(), id.into_inner(), Action::Update).await?;
    let c = current.clone();
    let salary_min = patch_number(p.salary_min, c.salary_min);
    let salary_max = patch_number(p.salary_max, c.salary_max);
    let input = PositionInput {
        title: http::patch_required(p.title, c.title, "title")?,
        description: p.description.unwrap_or(c.description),
        contract_type: http::patch_required(p.contract_type, c.contract_type, "contract_type")?,
        working_time: http::patch_required(p.working_time, c.working_time, "working_time")?,
        city: http::patch_required(p.city, c.city, "city")?,
        postcode: p.postcode.unwrap_or(c.postcode),
        sector: p.sector.unwrap_or(c.sector),
        salary_min,
        salary_max,
        salary_period: p.salary_period.unwrap_or(c.salary_period),
        stop_ids: match http::patch_present(p.stop_ids, "stop_ids")? {
            Some(ids) => ids,
            None => repo::positions::stops_of(&tx, &[c.id])
                .await?
                .remove(&c.id)
                .unwrap_or_default(),
        },
        closes_on: p.closes_on.unwrap_or(c.closes_on),
    };
    let staffing = stored_staffing(&current)?;
    let staffing = match http::patch_present(p.openings, "openings")? {
        Some(n) => staffing.with_openings(n.0)?,
        None => staffing,
    };
    let status_now = PositionStatus::parse(&current.status).map_err(|e| ApiError::internal(e.message))?;
    let status = match http::patch_present(p.status, "status")? {
        Some(raw) => {
            status_now.transition(PositionStatus::parse(&raw).map_err(|e| DomainError::field("status", e))?)?
        }
        None => status_now,
    };
    let fields = PositionFields::parse(input, &tour_stops(&tx, &tour).await?)?;
    let written = written(&tour, fields, staffing, status.settle(staffing))?;
    http::check_if_match(&req, current.version)?;
    let model = repo::positions::update(&tx, current.id, current.version, &written)
        .await?
        .ok_or_else(ApiError::precondition_failed)?;
    if model.status != current.status && model.status == PositionStatus::Filled.as_str() {
        notify::position_filled(&tx, &model, model.updated_at).await?;
    }
    let version = model.version;
    let body = read_back(&tx, model.id).await?;
    tx.commit().await?;
    Ok(http::ok_with_etag(&body, version))
}

/// Removes a position (organisers, or a partner for its own organisation). Refused with 409
/// `in_use` once candidates have applied: close it instead. Honours `If-Match`.
#[utoipa::path(tag = "positions", operation_id = "deletePosition", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    security(("bearer" = [])), responses((status = 204, description = "Deleted")))]
#[delete("/positions/{id}")]
pub async fn delete(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let tx = state.db.begin().await?;
    let (current, _) = locked(&tx, &signed_in.actor(), id.into_inner(), Action::Delete).await?;
    let in_use = "candidates have applied to this position: close it instead of deleting it";
    http::delete_versioned(tx, &req, current.version, in_use, async |tx| {
        repo::positions::delete(tx, current.id, current.version).await
    })
    .await
}

/// The status a new position starts in: `draft` unless `open` is asked for.
fn initial_status(raw: Option<&str>) -> Result<PositionStatus, Invalid> {
    match raw.map(PositionStatus::parse).transpose()? {
        None | Some(PositionStatus::Draft) => Ok(PositionStatus::Draft),
        Some(PositionStatus::Open) => Ok(PositionStatus::Open),
        Some(_) => Err(Invalid::new(
            "invalid_initial_status",
            "a new position is draft or open",
        )),
    }
}

/// A PATCH of a nullable number: absent keeps the stored value.
fn patch_number(patch: Option<Option<WholeNumber>>, current: Option<i32>) -> Option<i64> {
    match patch {
        Some(value) => value.map(|n| n.0),
        None => current.map(i64::from),
    }
}

fn stored_staffing(m: &Model) -> ApiResult<Staffing> {
    Staffing::stored(m.openings, m.filled).ok_or_else(|| ApiError::internal("stored staffing breaks the rules"))
}

/// The ids of the tour's stops: the only ones its positions may name.
async fn tour_stops(db: &impl ConnectionTrait, tour: &tour::Model) -> ApiResult<Vec<Uuid>> {
    Ok(repo::stops::all_for_tour(db, tour.id)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect())
}

/// The position as written, its closing day's end read in the tour's time zone.
fn written(
    tour: &tour::Model,
    fields: PositionFields,
    staffing: Staffing,
    status: PositionStatus,
) -> ApiResult<repo::positions::Written> {
    let tz = tour_zone(tour)?;
    Ok(repo::positions::Written {
        closes_at: fields.closes_on.map(|day| end_of_day(day, tz)),
        fields,
        staffing,
        status,
    })
}

/// The tour a new position is for: one the caller can see, still planned or running.
async fn tour_for_position(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> ApiResult<tour::Model> {
    let tour = visible_tour(db, actor, id).await.map_err(|e| {
        if e.code() == "not_found" {
            ApiError::invalid_field("tour_id", "not_found", "no such tour")
        } else {
            e
        }
    })?;
    match TourStatus::parse(&tour.status) {
        Ok(TourStatus::Draft | TourStatus::Published) => Ok(tour),
        _ => Err(ApiError::invalid_field(
            "tour_id",
            "tour_finished",
            "the tour is completed or cancelled: it takes no new positions",
        )),
    }
}

/// Whether anyone may read the position: not a draft, and its tour public.
fn is_public_position(m: &Model, tour_status: &str) -> bool {
    PositionStatus::parse(&m.status).is_ok_and(PositionStatus::is_published) && is_public_status(tour_status)
}

/// The position and its tour, if the actor may read it (404 otherwise).
pub async fn readable(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> ApiResult<(Model, tour::Model)> {
    let model = repo::positions::find(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("position"))?;
    let tour = repo::tours::find(db, model.tour_id)
        .await?
        .ok_or_else(|| ApiError::not_found("position"))?;
    may_read(actor, &model, &tour.status)?;
    Ok((model, tour))
}

fn may_read(actor: &Actor, model: &Model, tour_status: &str) -> ApiResult<()> {
    policy::may(
        actor,
        Action::Read,
        Object::Position {
            organisation_id: model.organisation_id,
            public: is_public_position(model, tour_status),
        },
    )
}

/// The position locked for a change, and its tour, after checking the caller may make it.
async fn locked(db: &impl ConnectionTrait, actor: &Actor, id: Uuid, action: Action) -> ApiResult<(Model, tour::Model)> {
    let model = repo::positions::find_for_update(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("position"))?;
    let tour = repo::tours::find(db, model.tour_id)
        .await?
        .ok_or_else(|| ApiError::not_found("position"))?;
    policy::may(
        actor,
        action,
        Object::Position {
            organisation_id: model.organisation_id,
            public: is_public_position(&model, &tour.status),
        },
    )?;
    Ok((model, tour))
}

/// A position as the API shows it, read back after a write (in its transaction): one statement.
async fn read_back(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<Position> {
    let (shown, _) = repo::positions::find_shown(db, id)
        .await?
        .ok_or_else(|| ApiError::internal("a written position went missing"))?;
    Ok(Position::from(shown))
}
