//! `/tours`: the campaign's bus tours, the organisations taking part, and the schedule.
//! Organisers plan them; everyone else sees published and completed tours only (an
//! unpublished tour is a 404 for them, not a 403).

use crate::auth::{Actor, SignedIn};
use crate::entities::{organisation, tour::Model, tour_partner};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, Page, PageRequest};
use crate::openapi::{string_enum, text};
use crate::policy::{self, Action, Object};
use crate::repo;
use crate::routes::organisations::{Organisation, ensure_exists};
use crate::routes::stops::{Stop, tour_zone};
use crate::state::AppState;
use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put};
use chrono::{DateTime, NaiveDate, Utc};
use jobtour_domain::geo::{LatLon, Travel};
use jobtour_domain::tour::{PartnerRole, TourFields, TourInput, TourStatus, end_of_day, stops_outside};
use jobtour_domain::{DomainError, error::Invalid};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

fn status_schema() -> utoipa::openapi::Object {
    string_enum(&TourStatus::ALL.map(TourStatus::as_str))
}

fn role_schema() -> utoipa::openapi::Object {
    string_enum(&PartnerRole::ALL.map(PartnerRole::as_str))
}

/// A bus tour: one bus, a stop per city and day.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tour {
    pub id: Uuid,
    #[schema(example = "Un job au bout du fil")]
    pub name: String,
    pub description: Option<String>,
    #[schema(example = "2027-10-19")]
    pub starts_on: NaiveDate,
    #[schema(example = "2027-10-23")]
    pub ends_on: NaiveDate,
    /// IANA time zone the tour's days are read in.
    #[schema(example = "Europe/Paris")]
    pub timezone: String,
    #[schema(schema_with = status_schema)]
    pub status: String,
    pub organiser_organisation_id: Uuid,
    /// When the organiser was a club that merged since: the club it went into (the tour keeps
    /// its organiser, as history).
    pub organiser_merged_into_id: Option<Uuid>,
    /// How many positions the campaign aims to offer.
    #[schema(example = 500)]
    pub positions_target: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Model> for Tour {
    fn from(m: Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            description: m.description,
            starts_on: m.starts_on,
            ends_on: m.ends_on,
            timezone: m.timezone,
            status: m.status,
            organiser_organisation_id: m.organiser_organisation_id,
            organiser_merged_into_id: None,
            positions_target: m.positions_target,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new tour; it starts as a draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTour {
    #[schema(schema_with = text::name, example = "Un job au bout du fil")]
    pub name: String,
    #[schema(schema_with = text::long_or_null, required = false)]
    pub description: Option<String>,
    pub starts_on: NaiveDate,
    /// On or after `starts_on`; a tour lasts at most 366 days.
    pub ends_on: NaiveDate,
    /// IANA time zone (default `Europe/Paris`).
    #[schema(example = "Europe/Paris")]
    pub timezone: Option<String>,
    /// The organisation running the tour.
    pub organiser_organisation_id: Uuid,
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1000000)]
    pub positions_target: Option<http::WholeNumber>,
}

/// Changes to a tour. `status` follows the workflow draft → published → completed, and
/// draft or published → cancelled; anything else is a 409 `invalid_transition`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TourPatch {
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::name, required = false)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::long_or_null, required = false)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = NaiveDate, required = false)]
    pub starts_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = NaiveDate, required = false)]
    pub ends_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = String, required = false)]
    pub timezone: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = status_schema, required = false)]
    pub status: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Uuid, required = false)]
    pub organiser_organisation_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = i64, minimum = 0, maximum = 1000000, required = false)]
    pub positions_target: Option<Option<http::WholeNumber>>,
}

/// Filters and paging for the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TourQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
    /// Only tours still running on or after this day.
    pub from: Option<NaiveDate>,
    /// Only tours starting on or before this day.
    pub to: Option<NaiveDate>,
}

/// Lists tours in creation order; the public sees published and completed ones only.
#[utoipa::path(operation_id = "listTours", tag = "tours", params(TourQuery), responses((status = 200, description = "One page of tours", body = Page<Tour>)))]
#[get("/tours")]
pub async fn list(state: Data<AppState>, actor: Actor, query: Query<TourQuery>) -> ApiResult<Json<Page<Tour>>> {
    policy::may(&actor, Action::Read, Object::Tours)?;
    let q = query.into_inner();
    let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref())?;
    http::query_choice("status", q.status.as_deref(), TourStatus::parse)?;
    let public_only = policy::decide(&actor, Action::Read, Object::Tour { public: false }).is_err();
    let statuses = public_only.then(|| {
        TourStatus::ALL
            .into_iter()
            .filter(|s| s.is_public())
            .map(TourStatus::as_str)
            .collect()
    });
    let filter = repo::tours::Filter {
        statuses,
        status: q.status,
        from: q.from,
        to: q.to,
    };
    let db = state.db.conn();
    let rows = repo::tours::list(db, &filter, &page).await?;
    let mut page = http::page_of(rows, page.limit, |m| m.id, Tour::from);
    with_organisers(db, &mut page.items).await?;
    Ok(Json(page))
}

/// Plans a tour (organisers only); it starts as a draft.
#[utoipa::path(operation_id = "createTour", tag = "tours", request_body = NewTour, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = Tour, headers(("Location" = String), ("ETag" = String))),
))]
#[post("/tours")]
pub async fn create(signed_in: SignedIn, state: Data<AppState>, body: Json<NewTour>) -> ApiResult<HttpResponse> {
    policy::may(&signed_in.actor(), Action::Create, Object::Tours)?;
    let b = body.into_inner();
    let fields = TourFields::parse(TourInput {
        name: b.name,
        description: b.description,
        starts_on: b.starts_on,
        ends_on: b.ends_on,
        timezone: b.timezone.unwrap_or_else(|| "Europe/Paris".into()),
        positions_target: b.positions_target.map_or(0, |n| n.0),
    })?;
    let tx = state.db.begin().await?;
    ensure_exists(&tx, b.organiser_organisation_id, "organiser_organisation_id").await?;
    let model = repo::tours::insert(&tx, fields, b.organiser_organisation_id).await?;
    let version = model.version;
    let location = format!("/api/v1/tours/{}", model.id);
    let mut tour = [Tour::from(model)];
    with_organisers(&tx, &mut tour).await?;
    tx.commit().await?;
    Ok(http::created(location, &tour[0], version))
}

/// One tour.
#[utoipa::path(operation_id = "getTour", tag = "tours", params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The tour", body = Tour, headers(("ETag" = String))),
))]
#[get("/tours/{id}")]
pub async fn get(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let db = state.db.conn();
    let model = visible_tour(db, &actor, id.into_inner()).await?;
    let version = model.version;
    let mut tour = [Tour::from(model)];
    with_organisers(db, &mut tour).await?;
    Ok(http::ok_with_etag(&tour[0], version))
}

/// Changes a tour (organisers only): fields, or its status along the workflow. New dates or
/// a new time zone are refused (409 `stops_outside_tour`) while stops would fall outside.
#[utoipa::path(operation_id = "updateTour", tag = "tours", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = TourPatch, security(("bearer" = [])), responses(
    (status = 200, description = "The changed tour", body = Tour, headers(("ETag" = String))),
))]
#[patch("/tours/{id}")]
pub async fn update(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<TourPatch>,
) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    let id = id.into_inner();
    let p = body.into_inner();
    let tx = state.db.begin().await?;
    let current = repo::tours::find_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("tour"))?;
    policy::may(
        &actor,
        Action::Update,
        Object::Tour {
            public: is_public(&current),
        },
    )?;
    let fields = TourFields::parse(TourInput {
        name: http::patch_required(p.name, current.name.clone(), "name")?,
        description: p.description.unwrap_or(current.description.clone()),
        starts_on: http::patch_required(p.starts_on, current.starts_on, "starts_on")?,
        ends_on: http::patch_required(p.ends_on, current.ends_on, "ends_on")?,
        timezone: http::patch_required(p.timezone, current.timezone.clone(), "timezone")?,
        positions_target: http::patch_required(
            p.positions_target,
            http::WholeNumber(i64::from(current.positions_target)),
            "positions_target",
        )?
        .0,
    })?;
    let status_now = TourStatus::parse(&current.status).map_err(|e| ApiError::internal(e.message))?;
    let status = match http::patch_present(p.status, "status")? {
        Some(raw) => status_now.transition(TourStatus::parse(&raw).map_err(|e| DomainError::field("status", e))?)?,
        None => status_now,
    };
    let organiser = http::patch_required(
        p.organiser_organisation_id,
        current.organiser_organisation_id,
        "organiser_organisation_id",
    )?;
    if organiser != current.organiser_organisation_id {
        ensure_exists(&tx, organiser, "organiser_organisation_id").await?;
    }
    http::check_if_match(&req, current.version)?;
    let moved = fields.dates.starts_on() != current.starts_on
        || fields.dates.ends_on() != current.ends_on
        || fields.timezone.name() != current.timezone;
    if moved {
        let stops = repo::stops::all_for_tour(&tx, id).await?;
        let outside = stops_outside(fields.dates, fields.timezone, repo::stops::stays(&stops, None));
        if !outside.is_empty() {
            return Err(DomainError::StopsOutsideTour { stops: outside }.into());
        }
    }
    if fields.timezone.name() != current.timezone {
        // A position's closing day ends at midnight in the tour's zone: move that instant too.
        for p in repo::positions::with_closing_day(&tx, id).await? {
            let closes_at = p.closes_on.map(|day| end_of_day(day, fields.timezone));
            repo::positions::set_closes_at(&tx, p.id, closes_at).await?;
        }
    }
    let model = repo::tours::update(&tx, id, current.version, fields, organiser, status)
        .await?
        .ok_or_else(ApiError::precondition_failed)?;
    let version = model.version;
    let mut tour = [Tour::from(model)];
    with_organisers(&tx, &mut tour).await?;
    tx.commit().await?;
    Ok(http::ok_with_etag(&tour[0], version))
}

/// Removes a tour with its stops and partner list (organisers only). Honours `If-Match`.
#[utoipa::path(operation_id = "deleteTour", tag = "tours", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    security(("bearer" = [])), responses((status = 204, description = "Deleted")))]
#[delete("/tours/{id}")]
pub async fn delete(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let tx = state.db.begin().await?;
    let current = repo::tours::find_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("tour"))?;
    policy::may(
        &signed_in.actor(),
        Action::Delete,
        Object::Tour {
            public: is_public(&current),
        },
    )?;
    let in_use = "this tour has positions: remove them first, or cancel the tour instead";
    http::delete_versioned(tx, &req, current.version, in_use, async |tx| {
        repo::tours::delete(tx, id, current.version).await
    })
    .await
}

/// An organisation taking part in a tour.
#[derive(Debug, Serialize, ToSchema)]
pub struct TourPartner {
    pub tour_id: Uuid,
    #[schema(schema_with = role_schema)]
    pub role: String,
    pub organisation: Organisation,
    pub created_at: DateTime<Utc>,
}

impl TourPartner {
    fn new(row: tour_partner::Model, organisation: organisation::Model) -> Self {
        Self {
            tour_id: row.tour_id,
            role: row.role,
            organisation: Organisation::from(organisation),
            created_at: row.created_at,
        }
    }
}

/// The part an organisation plays in the tour.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerBody {
    /// Default `employer` when the organisation joins; left as it is when omitted later.
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = role_schema, required = false)]
    pub role: Option<Option<String>>,
}

/// Paging for the partner list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartnerQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Adds an organisation to the tour, or changes its role (organisers only). Idempotent:
/// 201 the first time, 200 after.
#[utoipa::path(operation_id = "putTourPartner", tag = "tours", params(("id" = Uuid, Path), ("organisation_id" = Uuid, Path)),
    request_body(content = Option<PartnerBody>, description = "Optional"), security(("bearer" = [])), responses(
    (status = 201, description = "The organisation joined the tour", body = TourPartner),
    (status = 200, description = "It was already taking part", body = TourPartner),
))]
#[put("/tours/{id}/partners/{organisation_id}")]
pub async fn put_partner(
    signed_in: SignedIn,
    state: Data<AppState>,
    path: Path<(Uuid, Uuid)>,
    body: http::OptionalJson<PartnerBody>,
) -> ApiResult<HttpResponse> {
    let (tour_id, organisation_id) = path.into_inner();
    let role = http::patch_present(body.0.and_then(|b| b.role), "role")?;
    if let Some(role) = &role {
        PartnerRole::parse(role).map_err(|e| DomainError::field("role", e))?;
    }
    let tx = state.db.begin().await?;
    let tour = repo::tours::find_for_update(&tx, tour_id)
        .await?
        .ok_or_else(|| ApiError::not_found("tour"))?;
    policy::may(
        &signed_in.actor(),
        Action::Update,
        Object::Tour {
            public: is_public(&tour),
        },
    )?;
    let organisation = repo::organisations::find(&tx, organisation_id)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation"))?;
    let (row, created) = repo::tours::put_partner(&tx, tour_id, organisation_id, role.as_deref()).await?;
    tx.commit().await?;
    let body = TourPartner::new(row, organisation);
    Ok(http::created_or_ok(
        created,
        format!("/api/v1/tours/{tour_id}/partners/{organisation_id}"),
        &body,
    ))
}

/// Takes an organisation off the tour (organisers only).
#[utoipa::path(operation_id = "deleteTourPartner", tag = "tours", params(("id" = Uuid, Path), ("organisation_id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 204, description = "Removed")))]
#[delete("/tours/{id}/partners/{organisation_id}")]
pub async fn delete_partner(
    signed_in: SignedIn,
    state: Data<AppState>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (tour_id, organisation_id) = path.into_inner();
    let tx = state.db.begin().await?;
    let tour = repo::tours::find_for_update(&tx, tour_id)
        .await?
        .ok_or_else(|| ApiError::not_found("tour"))?;
    policy::may(
        &signed_in.actor(),
        Action::Update,
        Object::Tour {
            public: is_public(&tour),
        },
    )?;
    if !repo::tours::remove_partner(&tx, tour_id, organisation_id).await? {
        return Err(ApiError::not_found("tour partner"));
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The organisations taking part, each embedded, in organisation id order.
#[utoipa::path(operation_id = "listTourPartners", tag = "tours", params(("id" = Uuid, Path), PartnerQuery), responses(
    (status = 200, description = "One page of partners", body = Page<TourPartner>),
))]
#[get("/tours/{id}/partners")]
pub async fn partners(
    state: Data<AppState>,
    actor: Actor,
    id: Path<Uuid>,
    query: Query<PartnerQuery>,
) -> ApiResult<Json<Page<TourPartner>>> {
    let tour = visible_tour(state.db.conn(), &actor, id.into_inner()).await?;
    let q = query.into_inner();
    let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref())?;
    let rows = repo::tours::partners(state.db.conn(), tour.id, &page).await?;
    Ok(Json(http::page_of(
        rows,
        page.limit,
        |(r, _)| r.organisation_id,
        |(r, o)| TourPartner::new(r, o),
    )))
}

/// How the schedule is computed.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ScheduleQuery {
    /// Road distance over great-circle distance (default 1.3).
    #[param(minimum = 1, maximum = 5)]
    pub road_factor: Option<f64>,
    /// Average bus speed in km/h (default 60).
    #[param(minimum = 1, maximum = 200)]
    pub speed_kmh: Option<f64>,
}

/// The drive between two consecutive stops.
#[derive(Debug, Serialize, ToSchema)]
pub struct Leg {
    pub from_stop_id: Uuid,
    pub to_stop_id: Uuid,
    /// Great-circle distance, km (rounded to 0.1).
    #[schema(example = 47.4)]
    pub distance_km: f64,
    /// Minutes between leaving one stop and arriving at the next.
    pub gap_minutes: i64,
    /// Minutes of driving needed at the given speed and road factor.
    pub required_minutes: i64,
    /// Whether the bus can make it.
    pub feasible: bool,
}

/// The stops in order and the legs between them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Schedule {
    pub tour_id: Uuid,
    pub road_factor: f64,
    pub speed_kmh: f64,
    pub stops: Vec<Stop>,
    pub legs: Vec<Leg>,
    /// Whether every leg is feasible.
    pub feasible: bool,
}

/// The itinerary with travel legs between consecutive stops: great-circle distance times a
/// road factor, at an average speed; `feasible` is false where the bus cannot make it.
#[utoipa::path(operation_id = "getTourSchedule", tag = "tours", params(("id" = Uuid, Path), ScheduleQuery), responses(
    (status = 200, description = "The schedule", body = Schedule),
))]
#[get("/tours/{id}/schedule")]
pub async fn schedule(
    state: Data<AppState>,
    actor: Actor,
    id: Path<Uuid>,
    query: Query<ScheduleQuery>,
) -> ApiResult<Json<Schedule>> {
    let q = query.into_inner();
    let travel = Travel::new(q.road_factor.unwrap_or(1.3), q.speed_kmh.unwrap_or(60.0))
        .map_err(|(field, e): (&str, Invalid)| http::invalid_query(field, e))?;
    let tour = visible_tour(state.db.conn(), &actor, id.into_inner()).await?;
    let tz = tour_zone(&tour)?;
    let stops = repo::stops::all_for_tour(state.db.conn(), tour.id).await?;
    let legs: Vec<Leg> = stops
        .windows(2)
        .filter_map(|pair| {
            let (a, b) = (&pair[0], &pair[1]);
            let (from, to) = (
                LatLon::new(a.latitude, a.longitude).ok()?,
                LatLon::new(b.latitude, b.longitude).ok()?,
            );
            let gap_minutes = (b.arrives_at - a.departs_at).num_minutes();
            let required_minutes = travel.required_minutes(from, to);
            Some(Leg {
                from_stop_id: a.id,
                to_stop_id: b.id,
                distance_km: (from.distance_km(to) * 10.0).round() / 10.0,
                gap_minutes,
                required_minutes,
                feasible: gap_minutes >= required_minutes,
            })
        })
        .collect();
    Ok(Json(Schedule {
        tour_id: tour.id,
        road_factor: travel.road_factor,
        speed_kmh: travel.speed_kmh,
        feasible: legs.iter().all(|l| l.feasible),
        stops: stops.into_iter().map(|s| Stop::in_zone(s, tz)).collect(),
        legs,
    }))
}

/// Says, on each tour, which club its organiser merged into, if it did: one query for a page.
async fn with_organisers(db: &impl ConnectionTrait, tours: &mut [Tour]) -> ApiResult<()> {
    let ids: Vec<Uuid> = tours.iter().map(|t| t.organiser_organisation_id).collect();
    let organisers = repo::organisations::find_many(db, &ids).await?;
    for t in tours {
        t.organiser_merged_into_id = organisers
            .get(&t.organiser_organisation_id)
            .and_then(|o| o.merged_into_id);
    }
    Ok(())
}

pub fn is_public(tour: &Model) -> bool {
    is_public_status(&tour.status)
}

/// Whether a tour of this status is seen by the public.
pub fn is_public_status(tour_status: &str) -> bool {
    TourStatus::parse(tour_status).is_ok_and(TourStatus::is_public)
}

/// The tour, if the actor may see it (404 otherwise, whether it exists or not).
pub async fn visible_tour(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> ApiResult<Model> {
    let tour = repo::tours::find(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("tour"))?;
    policy::may(
        actor,
        Action::Read,
        Object::Tour {
            public: is_public(&tour),
        },
    )?;
    Ok(tour)
}
