//! Stops: where the bus is, when. Created and listed under their tour
//! (`/tours/{id}/stops`), read and changed at `/stops/{id}`. Times come in as RFC 3339 with
//! any offset, are kept as instants, and go out in the tour's time zone.

use crate::auth::{Actor, SignedIn};
use crate::entities::{stop::Model, tour};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, Page, PageRequest};
use crate::openapi::text;
use crate::policy::{self, Action, Object};
use crate::repo;
use crate::routes::tours::{is_public, visible_tour};
use crate::state::AppState;
use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post};
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use jobtour_domain::DomainError;
use jobtour_domain::interval::Interval;
use jobtour_domain::slot::SlotTimes;
use jobtour_domain::tour::{StopFields, StopInput, StopTimes, TourDates, first_overlap, parse_timezone};
use sea_orm::DatabaseTransaction;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A stop of a tour.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stop {
    pub id: Uuid,
    pub tour_id: Uuid,
    #[schema(example = "Metz")]
    pub city: String,
    #[schema(example = "57000")]
    pub postcode: Option<String>,
    #[schema(example = "Place de la République")]
    pub venue: Option<String>,
    pub address: Option<String>,
    #[schema(example = 49.1193)]
    pub latitude: f64,
    #[schema(example = 6.1757)]
    pub longitude: f64,
    /// In the tour's time zone.
    #[schema(value_type = String, format = DateTime, example = "2027-10-19T09:00:00+02:00")]
    pub arrives_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2027-10-19T17:00:00+02:00")]
    pub departs_at: DateTime<FixedOffset>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Stop {
    /// The stop with its times shown in `tz`.
    pub fn in_zone(m: Model, tz: Tz) -> Self {
        Self {
            id: m.id,
            tour_id: m.tour_id,
            city: m.city,
            postcode: m.postcode,
            venue: m.venue,
            address: m.address,
            latitude: m.latitude,
            longitude: m.longitude,
            arrives_at: m.arrives_at.with_timezone(&tz).fixed_offset(),
            departs_at: m.departs_at.with_timezone(&tz).fixed_offset(),
            notes: m.notes,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new stop.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStop {
    #[schema(schema_with = text::name, example = "Metz")]
    pub city: String,
    #[schema(max_length = 20)]
    pub postcode: Option<String>,
    #[schema(schema_with = text::name_or_null, required = false)]
    pub venue: Option<String>,
    #[schema(max_length = 500)]
    pub address: Option<String>,
    #[schema(minimum = -90, maximum = 90, example = 49.1193)]
    pub latitude: f64,
    #[schema(minimum = -180, maximum = 180, example = 6.1757)]
    pub longitude: f64,
    /// RFC 3339 with an offset; within the tour's days in its time zone.
    #[schema(value_type = String, format = DateTime, example = "2027-10-19T09:00:00+02:00")]
    pub arrives_at: DateTime<FixedOffset>,
    /// After `arrives_at`.
    #[schema(value_type = String, format = DateTime, example = "2027-10-19T17:00:00+02:00")]
    pub departs_at: DateTime<FixedOffset>,
    #[schema(schema_with = text::long_or_null, required = false)]
    pub notes: Option<String>,
}

/// Changes to a stop: absent fields stay, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopPatch {
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::name, required = false)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Option<String>, max_length = 20, required = false)]
    pub postcode: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::name_or_null, required = false)]
    pub venue: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Option<String>, max_length = 500, required = false)]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = f64, minimum = -90, maximum = 90, required = false)]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = f64, minimum = -180, maximum = 180, required = false)]
    pub longitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = String, format = DateTime, required = false)]
    pub arrives_at: Option<Option<DateTime<FixedOffset>>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = String, format = DateTime, required = false)]
    pub departs_at: Option<Option<DateTime<FixedOffset>>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::long_or_null, required = false)]
    pub notes: Option<Option<String>>,
}

/// Paging for the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StopQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Where a stop is, as people read it: venue, address and city, as known.
pub fn place(stop: &Model) -> String {
    [stop.venue.as_deref(), stop.address.as_deref(), Some(stop.city.as_str())]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

/// The time zone a tour's days are read in.
pub fn tour_zone(tour: &tour::Model) -> ApiResult<Tz> {
    parse_timezone(&tour.timezone).map_err(|e| ApiError::internal(e.message))
}

fn tour_dates(tour: &tour::Model) -> ApiResult<TourDates> {
    TourDates::new(tour.starts_on, tour.ends_on).map_err(|e| ApiError::internal(e.message))
}

/// Adds a stop (organisers only). 409 `stop_overlap` naming the other stop if the bus is
/// elsewhere at that time; 422 if it falls outside the tour's days.
#[utoipa::path(operation_id = "createStop", tag = "stops", params(("id" = Uuid, Path, description = "The tour")), request_body = NewStop,
    security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = Stop, headers(("Location" = String), ("ETag" = String))),
))]
#[post("/tours/{id}/stops")]
pub async fn create(
    signed_in: SignedIn,
    state: Data<AppState>,
    id: Path<Uuid>,
    body: Json<NewStop>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let input = StopInput {
        city: b.city,
        postcode: b.postcode,
        venue: b.venue,
        address: b.address,
        latitude: b.latitude,
        longitude: b.longitude,
        arrives_at: b.arrives_at.with_timezone(&Utc),
        departs_at: b.departs_at.with_timezone(&Utc),
        notes: b.notes,
    };
    let tx = state.db.begin().await?;
    // The tour's row lock serialises every itinerary change of this tour.
    let tour = repo::tours::find_for_update(&tx, id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("tour"))?;
    policy::may(
        &signed_in.actor(),
        Action::Update,
        Object::Tour {
            public: is_public(&tour),
        },
    )?;
    let tz = tour_zone(&tour)?;
    let fields = StopFields::parse(input, tour_dates(&tour)?, tz)?;
    ensure_no_overlap(&tx, tour.id, fields.times, None).await?;
    let model = repo::stops::insert(&tx, tour.id, fields).await?;
    tx.commit().await?;
    let version = model.version;
    Ok(http::created(
        format!("/api/v1/stops/{}", model.id),
        &Stop::in_zone(model, tz),
        version,
    ))
}

/// A tour's stops, in time order.
#[utoipa::path(operation_id = "listStops", tag = "stops", params(("id" = Uuid, Path, description = "The tour"), StopQuery), responses(
    (status = 200, description = "One page of stops", body = Page<Stop>),
))]
#[get("/tours/{id}/stops")]
pub async fn list(
    state: Data<AppState>,
    actor: Actor,
    id: Path<Uuid>,
    query: Query<StopQuery>,
) -> ApiResult<Json<Page<Stop>>> {
    let tour = visible_tour(state.db.conn(), &actor, id.into_inner()).await?;
    let tz = tour_zone(&tour)?;
    let q = query.into_inner();
    let page = PageRequest::<(DateTime<Utc>, Uuid)>::parse(q.limit, q.cursor.as_deref())?;
    let rows = repo::stops::page_for_tour(state.db.conn(), tour.id, &page).await?;
    Ok(Json(http::page_of(
        rows,
        page.limit,
        |m| (m.arrives_at, m.id),
        |m| Stop::in_zone(m, tz),
    )))
}

/// One stop.
#[utoipa::path(operation_id = "getStop", tag = "stops", params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The stop", body = Stop, headers(("ETag" = String))),
))]
#[get("/stops/{id}")]
pub async fn get(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let stop = repo::stops::find(state.db.conn(), id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("stop"))?;
    // A stop of a hidden tour is itself hidden; a database failure stays what it is.
    let tour = visible_tour(state.db.conn(), &actor, stop.tour_id).await.map_err(|e| {
        if e.code() == "not_found" {
            ApiError::not_found("stop")
        } else {
            e
        }
    })?;
    let version = stop.version;
    Ok(http::ok_with_etag(&Stop::in_zone(stop, tour_zone(&tour)?), version))
}

/// Changes a stop (organisers only), under the same rules as creating one. Honours `If-Match`.
#[utoipa::path(operation_id = "updateStop", tag = "stops", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = StopPatch, security(("bearer" = [])), responses(
    (status = 200, description = "The changed stop", body = Stop, headers(("ETag" = String))),
))]
#[patch("/stops/{id}")]
pub async fn update(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<StopPatch>,
) -> ApiResult<HttpResponse> {
    let p = body.into_inner();
    let tx = state.db.begin().await?;
    let (tour, current) = locked_stop(&tx, &signed_in, id.into_inner()).await?;
    let tz = tour_zone(&tour)?;
    let input = StopInput {
        city: http::patch_required(p.city, current.city.clone(), "city")?,
        postcode: p.postcode.unwrap_or(current.postcode.clone()),
        venue: p.venue.unwrap_or(current.venue.clone()),
        address: p.address.unwrap_or(current.address.clone()),
        latitude: http::patch_required(p.latitude, current.latitude, "latitude")?,
        longitude: http::patch_required(p.longitude, current.longitude, "longitude")?,
        arrives_at: http::patch_present(p.arrives_at, "arrives_at")?
            .map_or(current.arrives_at, |t| t.with_timezone(&Utc)),
        departs_at: http::patch_present(p.departs_at, "departs_at")?
            .map_or(current.departs_at, |t| t.with_timezone(&Utc)),
        notes: p.notes.unwrap_or(current.notes.clone()),
    };
    let fields = StopFields::parse(input, tour_dates(&tour)?, tz)?;
    http::check_if_match(&req, current.version)?;
    let outside: Vec<Uuid> = repo::slots::of_stop(&tx, current.id)
        .await?
        .into_iter()
        .filter(|s| SlotTimes::new(s.starts_at, s.ends_at).is_ok_and(|t| !t.inside(fields.times)))
        .map(|s| s.id)
        .collect();
    if !outside.is_empty() {
        return Err(DomainError::SlotsOutsideStop { slots: outside }.into());
    }
    ensure_no_overlap(&tx, tour.id, fields.times, Some(current.id)).await?;
    let model = repo::stops::update(&tx, current.id, current.version, fields)
        .await?
        .ok_or_else(ApiError::precondition_failed)?;
    tx.commit().await?;
    let version = model.version;
    Ok(http::ok_with_etag(&Stop::in_zone(model, tz), version))
}

/// Removes a stop (organisers only). Honours `If-Match`.
#[utoipa::path(operation_id = "deleteStop", tag = "stops", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    security(("bearer" = [])), responses((status = 204, description = "Deleted")))]
#[delete("/stops/{id}")]
pub async fn delete(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let tx = state.db.begin().await?;
    let (_, current) = locked_stop(&tx, &signed_in, id.into_inner()).await?;
    let in_use = "interview slots are planned at this stop, or candidates chose it: it cannot be removed";
    http::delete_versioned(tx, &req, current.version, in_use, async |tx| {
        repo::stops::delete(tx, current.id, current.version).await
    })
    .await
}

/// The stop and its tour, the tour locked, after checking the caller may change them.
async fn locked_stop(tx: &DatabaseTransaction, signed_in: &SignedIn, id: Uuid) -> ApiResult<(tour::Model, Model)> {
    let seen = repo::stops::find(tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("stop"))?;
    let tour = repo::tours::find_for_update(tx, seen.tour_id)
        .await?
        .ok_or_else(|| ApiError::not_found("stop"))?;
    policy::may(
        &signed_in.actor(),
        Action::Update,
        Object::Tour {
            public: is_public(&tour),
        },
    )?;
    // Re-read under the tour's lock: what was read before it may have changed.
    let stop = repo::stops::find(tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("stop"))?;
    Ok((tour, stop))
}

async fn ensure_no_overlap(
    tx: &DatabaseTransaction,
    tour_id: Uuid,
    times: StopTimes,
    except: Option<Uuid>,
) -> ApiResult<()> {
    let stops = repo::stops::all_for_tour(tx, tour_id).await?;
    match first_overlap(times, repo::stops::stays(&stops, except)) {
        Some(other) => Err(DomainError::StopOverlap { other }.into()),
        None => Ok(()),
    }
}
