//! Interview slots at a stop ("job dating" on the bus): created and listed under their stop
//! (`/stops/{id}/slots`, one slot or a grid of them in one call), read and changed at
//! `/slots/{id}`. Times come in as RFC 3339 with any offset and go out in the tour's zone.

use crate::auth::{Actor, SignedIn};
use crate::entities::{slot::Model, stop, tour};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, Page, PageRequest, WholeNumber};
use crate::policy::{self, Action, Object};
use crate::repo::{self, slots};
use crate::routes::stops::tour_zone;
use crate::routes::tours::is_public;
use crate::seats;
use crate::state::AppState;
use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post};
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use jobtour_domain::interval::{Interval, first_overlap};
use jobtour_domain::slot::{Capacity, SlotTimes, grid};
use jobtour_domain::tour::{StopTimes, TourStatus};
use jobtour_domain::{DomainError, Fields, error::Invalid};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// An interview slot.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a6b2e-4444-7e21-9a3f-2b8c4d5e6f70", "stop_id": "019a6b2e-3333-7e21-9a3f-2b8c4d5e6f70",
    "tour_id": "019a6b2e-2222-7e21-9a3f-2b8c4d5e6f70", "organisation_id": "019a6b2e-1111-7e21-9a3f-2b8c4d5e6f70",
    "position_id": null, "starts_at": "2027-10-19T10:00:00+02:00", "ends_at": "2027-10-19T10:20:00+02:00",
    "capacity": 2, "booked": 2, "available": 0, "waiting": 3,
    "created_at": "2027-09-01T08:00:00Z", "updated_at": "2027-09-01T08:00:00Z"
}))]
pub struct Slot {
    pub id: Uuid,
    pub stop_id: Uuid,
    pub tour_id: Uuid,
    /// The employer interviewing.
    pub organisation_id: Uuid,
    /// The position interviewed for, when the slot is for one.
    pub position_id: Option<Uuid>,
    /// In the tour's time zone.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<FixedOffset>,
    pub capacity: i32,
    pub booked: i32,
    /// Seats left.
    pub available: i32,
    /// Candidates in the waiting line.
    pub waiting: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Slot {
    pub fn in_zone(m: Model, tz: Tz) -> Self {
        Self {
            id: m.id,
            stop_id: m.stop_id,
            tour_id: m.tour_id,
            organisation_id: m.organisation_id,
            position_id: m.position_id,
            starts_at: m.starts_at.with_timezone(&tz).fixed_offset(),
            ends_at: m.ends_at.with_timezone(&tz).fixed_offset(),
            capacity: m.capacity,
            booked: m.booked,
            available: m.capacity - m.booked,
            waiting: m.waiting,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// One slot.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "starts_at": "2027-10-19T10:00:00+02:00", "ends_at": "2027-10-19T10:20:00+02:00", "capacity": 2 }))]
pub struct NewSlot {
    /// The employer: a partner's own organisation when left out (organisers must give it).
    pub organisation_id: Option<Uuid>,
    /// A position of that employer met at this stop.
    pub position_id: Option<Uuid>,
    /// Within the stop's stay.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<FixedOffset>,
    /// After `starts_at`, within the stop's stay.
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<FixedOffset>,
    /// 1 to 50 (default 1).
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 50)]
    pub capacity: Option<WholeNumber>,
}

/// Consecutive slots from `from`, each `duration_minutes` of real time, as many as end by `to`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "from": "2027-10-19T09:00:00+02:00", "to": "2027-10-19T12:00:00+02:00", "duration_minutes": 20, "capacity": 1 }))]
pub struct SlotGrid {
    pub organisation_id: Option<Uuid>,
    pub position_id: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub from: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub to: DateTime<FixedOffset>,
    /// 5 to 240.
    #[schema(value_type = i64, minimum = 5, maximum = 240)]
    pub duration_minutes: WholeNumber,
    /// Seats in each slot, 1 to 50 (default 1).
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 50)]
    pub capacity: Option<WholeNumber>,
}

/// One slot, or a grid of them (told apart by `from`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum NewSlots {
    One(NewSlot),
    Grid(SlotGrid),
}

impl<'de> Deserialize<'de> for NewSlots {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(de)?;
        // Read as the one shape the body says it is, so that its errors name its fields.
        if value.get("from").is_some() || value.get("duration_minutes").is_some() {
            SlotGrid::deserialize(value).map(Self::Grid).map_err(D::Error::custom)
        } else {
            NewSlot::deserialize(value).map(Self::One).map_err(D::Error::custom)
        }
    }
}

/// The slots a grid created.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotList {
    pub items: Vec<Slot>,
}

/// Changes to a slot: its times and capacity (never below the seats booked: a larger one seats
/// the first in line at once), and the position it is for.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "capacity": 3 }))]
pub struct SlotPatch {
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = String, format = DateTime, required = false)]
    pub starts_at: Option<Option<DateTime<FixedOffset>>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = String, format = DateTime, required = false)]
    pub ends_at: Option<Option<DateTime<FixedOffset>>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = i64, minimum = 1, maximum = 50, required = false)]
    pub capacity: Option<Option<WholeNumber>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Option<Uuid>, required = false)]
    pub position_id: Option<Option<Uuid>>,
}

/// Filters and paging for a stop's slots.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SlotQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub organisation_id: Option<Uuid>,
    pub position_id: Option<Uuid>,
    /// Only slots with a free seat.
    pub available: Option<bool>,
}

/// `?force=true`: delete a booked slot, cancelling its bookings (organisers only).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteSlotQuery {
    pub force: Option<bool>,
}

/// Adds one slot, or a grid of consecutive slots in one call, all or nothing (organisers, or a
/// partner for its own organisation, which must take part in the tour). A slot lies within the
/// stop's stay; one employer's slots at a stop never overlap (409 `slot_overlap`, naming the
/// other).
#[utoipa::path(tag = "slots", operation_id = "createSlots", params(("id" = Uuid, Path, description = "The stop")),
    request_body = NewSlots, security(("bearer" = [])), responses(
    (status = 201, description = "Created: the slot, or for a grid the slots", body = CreatedSlots, headers(("Location" = String))),
))]
#[post("/stops/{id}/slots")]
pub async fn create(
    signed_in: SignedIn,
    state: Data<AppState>,
    id: Path<Uuid>,
    body: Json<NewSlots>,
) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    let (organisation_id, position_id, capacity, wanted) = match body.into_inner() {
        NewSlots::One(b) => {
            let mut f = Fields::default();
            let times = f.take("ends_at", SlotTimes::new(b.starts_at.to_utc(), b.ends_at.to_utc()));
            let capacity = f.take("capacity", Capacity::parse(b.capacity.map_or(1, |n| n.0)));
            let (times, capacity) = f.finish(|| Some((times?, capacity?)))?;
            (b.organisation_id, b.position_id, capacity, vec![times])
        }
        NewSlots::Grid(b) => {
            let capacity =
                Capacity::parse(b.capacity.map_or(1, |n| n.0)).map_err(|e| DomainError::field("capacity", e))?;
            let times = grid(b.from.to_utc(), b.to.to_utc(), b.duration_minutes.0)?;
            (b.organisation_id, b.position_id, capacity, times)
        }
    };
    let organisation_id = organisation_id
        .or(policy::organisation_scope(&signed_in.0))
        .ok_or_else(|| ApiError::invalid_field("organisation_id", "required", "is required: the employer"))?;
    policy::may(
        &actor,
        Action::Create,
        Object::Slot {
            organisation_id,
            public: true,
        },
    )?;
    let stop_id = id.into_inner();
    let tx = state.db.begin().await?;
    let (stop, tour) = locked_stop(&tx, &actor, stop_id).await?;
    if TourStatus::parse(&tour.status) == Ok(TourStatus::Cancelled) {
        return Err(DomainError::TourCancelled.into());
    }
    if !repo::tours::takes_part(&tx, tour.id, organisation_id).await? {
        return Err(ApiError::invalid_field(
            "organisation_id",
            "not_a_tour_partner",
            "the employer does not take part in this tour",
        ));
    }
    ensure_position(&tx, position_id, organisation_id, stop.id).await?;
    let stay = stay_of(&stop)?;
    let existing = slots::of_employer_at(&tx, stop.id, organisation_id).await?;
    let place = slots::Place {
        stop_id: stop.id,
        tour_id: tour.id,
        organisation_id,
    };
    let tz = tour_zone(&tour)?;
    let mut created = Vec::with_capacity(wanted.len());
    for times in wanted {
        check_times(times, stay, &existing, None)?;
        let written = slots::Written {
            times,
            capacity,
            position_id,
        };
        created.push(Slot::in_zone(slots::insert(&tx, place, written).await?, tz));
    }
    tx.commit().await?;
    let mut res = HttpResponse::Created();
    Ok(if created.len() == 1 {
        let slot = created.remove(0);
        res.insert_header((actix_web::http::header::LOCATION, format!("/api/v1/slots/{}", slot.id)));
        res.json(CreatedSlots::One(slot))
    } else {
        res.insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/stops/{stop_id}/slots"),
        ));
        res.json(CreatedSlots::Grid(SlotList { items: created }))
    })
}

/// What creating slots answers: the slot, or the grid's slots.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum CreatedSlots {
    One(Slot),
    Grid(SlotList),
}

/// A stop's slots in time order: public for published tours, with the seats left and the line.
#[utoipa::path(tag = "slots", operation_id = "listSlots", params(("id" = Uuid, Path, description = "The stop"), SlotQuery), responses(
    (status = 200, description = "One page of slots", body = Page<Slot>),
))]
#[get("/stops/{id}/slots")]
pub async fn list(
    state: Data<AppState>,
    actor: Actor,
    id: Path<Uuid>,
    query: Query<SlotQuery>,
) -> ApiResult<Json<Page<Slot>>> {
    let db = state.db.conn();
    let stop = repo::stops::find(db, id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("stop"))?;
    let tour = crate::routes::tours::visible_tour(db, &actor, stop.tour_id)
        .await
        .map_err(|e| {
            if e.code() == "not_found" {
                ApiError::not_found("stop")
            } else {
                e
            }
        })?;
    let q = query.into_inner();
    let page = PageRequest::<(DateTime<Utc>, Uuid)>::parse(q.limit, q.cursor.as_deref())?;
    let filter = slots::Filter {
        organisation_id: q.organisation_id,
        position_id: q.position_id,
        available: q.available.unwrap_or(false),
    };
    let rows = slots::page_for_stop(db, stop.id, &filter, &page).await?;
    let tz = tour_zone(&tour)?;
    Ok(Json(http::page_of(
        rows,
        page.limit,
        |m| (m.starts_at, m.id),
        |m| Slot::in_zone(m, tz),
    )))
}

/// One slot.
#[utoipa::path(tag = "slots", operation_id = "getSlot", params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The slot", body = Slot, headers(("ETag" = String))),
))]
#[get("/slots/{id}")]
pub async fn get(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let db = state.db.conn();
    let (slot, tour) = readable(db, &actor, id.into_inner()).await?;
    let version = slot.version;
    Ok(http::ok_with_etag(&Slot::in_zone(slot, tour_zone(&tour)?), version))
}

/// Changes a slot (organisers, or a partner for its own). A capacity below the seats booked is
/// a 409 `capacity_below_booked`; a larger one seats the first in line at once. Honours
/// `If-Match`.
#[utoipa::path(tag = "slots", operation_id = "updateSlot", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = SlotPatch, security(("bearer" = [])), responses(
    (status = 200, description = "The changed slot", body = Slot, headers(("ETag" = String))),
))]
#[patch("/slots/{id}")]
pub async fn update(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<SlotPatch>,
) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    let id = id.into_inner();
    let p = body.into_inner();
    let (slot, tz) = state
        .db
        .transaction(async |tx| {
            let (current, stop, tour) = locked(tx, &actor, id, Action::Update).await?;
            let mut f = Fields::default();
            let starts_at = http::patch_present(p.starts_at, "starts_at")?.map_or(current.starts_at, |t| t.to_utc());
            let ends_at = http::patch_present(p.ends_at, "ends_at")?.map_or(current.ends_at, |t| t.to_utc());
            let times = f.take("ends_at", SlotTimes::new(starts_at, ends_at));
            let capacity = f.take_opt("capacity", http::patch_present(p.capacity, "capacity")?, |n| {
                Capacity::parse(n.0)
            });
            let (times, capacity) = f.finish(|| Some((times?, capacity?)))?;
            let capacity = match capacity {
                Some(c) => c.for_booked(current.booked)?,
                None => Capacity::parse(i64::from(current.capacity)).map_err(|e| ApiError::internal(e.message))?,
            };
            let position_id = p.position_id.unwrap_or(current.position_id);
            if position_id != current.position_id {
                ensure_position(tx, position_id, current.organisation_id, stop.id).await?;
            }
            let others = slots::of_employer_at(tx, stop.id, current.organisation_id).await?;
            check_times(times, stay_of(&stop)?, &others, Some(current.id))?;
            http::check_if_match(&req, current.version)?;
            let written = slots::Written {
                times,
                capacity,
                position_id,
            };
            let slot = slots::update(tx, current.id, current.version, written)
                .await?
                .ok_or_else(ApiError::precondition_failed)?;
            let slot = if slot.capacity > current.capacity {
                seats::fill_from_line(tx, slot.id, repo::now()).await?;
                slots::find(tx, slot.id)
                    .await?
                    .ok_or_else(|| ApiError::not_found("slot"))?
            } else {
                slot
            };
            Ok((slot, tour_zone(&tour)?))
        })
        .await?;
    let version = slot.version;
    Ok(http::ok_with_etag(&Slot::in_zone(slot, tz), version))
}

/// Removes a slot (organisers, or a partner for its own). A slot with bookings is a 409
/// `slot_has_bookings`, unless an organiser asks `?force=true`: its bookings are then cancelled
/// (kept with the reason `slot_deleted`) and those applications are free to book again.
/// Honours `If-Match`.
#[utoipa::path(tag = "slots", operation_id = "deleteSlot", params(("id" = Uuid, Path), DeleteSlotQuery,
    ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    security(("bearer" = [])), responses((status = 204, description = "Deleted")))]
#[delete("/slots/{id}")]
pub async fn delete(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
    query: Query<DeleteSlotQuery>,
) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    let force = query.into_inner().force.unwrap_or(false);
    let tx = state.db.begin().await?;
    let (current, _, tour) = locked(&tx, &actor, id.into_inner(), Action::Delete).await?;
    if current.booked > 0 {
        if !force {
            return Err(DomainError::SlotHasBookings { booked: current.booked }.into());
        }
        policy::may(
            &actor,
            Action::ForceDelete,
            Object::Slot {
                organisation_id: current.organisation_id,
                public: is_public(&tour),
            },
        )?;
        http::check_if_match(&req, current.version)?;
        let now = repo::now();
        for booking in slots::bookings_of(&tx, current.id).await? {
            slots::cancel_booking(&tx, booking.id, seats::Reason::SlotDeleted.as_str(), now).await?;
            crate::notify::cancelled(&tx, &booking, seats::Reason::SlotDeleted, now).await?;
        }
    }
    http::delete_versioned(tx, &req, current.version, "the slot is still referred to", async |tx| {
        slots::delete(tx, current.id, current.version).await
    })
    .await
}

/// The stop's stay: when slots may run.
fn stay_of(stop: &stop::Model) -> ApiResult<StopTimes> {
    StopTimes::new(stop.arrives_at, stop.departs_at).map_err(|e| ApiError::internal(e.message))
}

/// A slot lies within the stop's stay and overlaps none of the employer's other slots there.
fn check_times(times: SlotTimes, stay: StopTimes, others: &[Model], except: Option<Uuid>) -> ApiResult<()> {
    if !times.inside(stay) {
        return Err(DomainError::field(
            "starts_at",
            Invalid::new(
                "outside_stop",
                "the slot must lie within the stop's arrival and departure",
            ),
        )
        .into());
    }
    let spans = others
        .iter()
        .filter(|s| Some(s.id) != except)
        .filter_map(|s| SlotTimes::new(s.starts_at, s.ends_at).ok().map(|t| (s.id, t)));
    match first_overlap(times, spans) {
        Some(other) => Err(DomainError::SlotOverlap { other }.into()),
        None => Ok(()),
    }
}

/// A slot's position, when it names one, is its employer's and met at this stop.
async fn ensure_position(
    db: &impl ConnectionTrait,
    position_id: Option<Uuid>,
    organisation_id: Uuid,
    stop_id: Uuid,
) -> ApiResult<()> {
    let Some(id) = position_id else {
        return Ok(());
    };
    let position = repo::positions::find(db, id).await?;
    let at_stop = repo::positions::stops_of(db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    match position {
        Some(p) if p.organisation_id == organisation_id && at_stop.contains(&stop_id) => Ok(()),
        _ => Err(ApiError::invalid_field(
            "position_id",
            "not_at_this_stop",
            "must be one of the employer's positions met at this stop",
        )),
    }
}

/// The stop and its tour (locked: slot changes of a tour take turns), for a caller who may see
/// the tour.
async fn locked_stop(tx: &DatabaseTransaction, actor: &Actor, stop_id: Uuid) -> ApiResult<(stop::Model, tour::Model)> {
    let stop = repo::stops::find(tx, stop_id)
        .await?
        .ok_or_else(|| ApiError::not_found("stop"))?;
    let tour = repo::tours::find_for_update(tx, stop.tour_id)
        .await?
        .ok_or_else(|| ApiError::not_found("stop"))?;
    policy::may(
        actor,
        Action::Read,
        Object::Tour {
            public: is_public(&tour),
        },
    )
    .map_err(|e| {
        if e.code() == "not_found" {
            ApiError::not_found("stop")
        } else {
            e
        }
    })?;
    Ok((stop, tour))
}

/// The slot and its tour, if the actor may see them (404 otherwise).
pub async fn readable(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> ApiResult<(Model, tour::Model)> {
    let slot = slots::find(db, id).await?.ok_or_else(|| ApiError::not_found("slot"))?;
    let tour = repo::tours::find(db, slot.tour_id)
        .await?
        .ok_or_else(|| ApiError::not_found("slot"))?;
    policy::may(
        actor,
        Action::Read,
        Object::Slot {
            organisation_id: slot.organisation_id,
            public: is_public(&tour),
        },
    )?;
    Ok((slot, tour))
}

/// The slot (locked), its stop and tour, after checking the caller may `action` it.
async fn locked(
    tx: &DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
    action: Action,
) -> ApiResult<(Model, stop::Model, tour::Model)> {
    let seen = slots::find(tx, id).await?.ok_or_else(|| ApiError::not_found("slot"))?;
    let (stop, tour) = locked_stop(tx, actor, seen.stop_id).await.map_err(|e| {
        if e.code() == "not_found" {
            ApiError::not_found("slot")
        } else {
            e
        }
    })?;
    let slot = slots::find_for_update(tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("slot"))?;
    policy::may(
        actor,
        action,
        Object::Slot {
            organisation_id: slot.organisation_id,
            public: is_public(&tour),
        },
    )?;
    Ok((slot, stop, tour))
}
