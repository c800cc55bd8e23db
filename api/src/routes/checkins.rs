//! The day at the bus: a candidate shows a check-in code (`GET
//! /applications/{id}/checkin-code`, a QR code), staff scan it at the stop (`POST
//! /stops/{id}/checkins`, one scan or an offline phone's queue), register those who walk in
//! without having applied (`POST /stops/{id}/walk-ins`), and watch the attendance, counted
//! (`GET /stops/{id}/attendance`) or live (`GET /stops/{id}/attendance/stream`, Server-Sent
//! Events).

use crate::auth::{self, Actor, SignedIn, Staff};
use crate::config::SigningKey;
use crate::db::Db;
use crate::entities::{application, checkin, stop, stream_ticket, tour};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::{self, Page, PageRequest};
use crate::live::CheckinEvent;
use crate::openapi::text;
use crate::policy::{self, Action, Object};
use crate::repo;
use crate::routes::applications::{self, Application, NewApplication};
use crate::routes::stops::tour_zone;
use crate::routes::tours::is_public;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Json, Path, Query};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, get, post};
use chrono::{DateTime, FixedOffset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt;
use jobtour_domain::DomainError;
use jobtour_domain::application::ApplicationStatus;
use jobtour_domain::checkin::{self as rules, CheckinCode, timing};
use jobtour_domain::position::{PositionStatus, accepts_applications};
use jobtour_domain::tour::TourStatus;
use jobtour_domain::user::Role;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The name the generated signing key is kept under.
const KEY_NAME: &str = "checkin_codes";
/// How long a stream ticket opens the stream.
const TICKET_TTL: TimeDelta = TimeDelta::seconds(60);
/// The most scans one request may carry.
const MAX_BATCH: usize = 500;
/// The longest `code` a scan may carry.
const MAX_CODE_CHARS: usize = 200;
/// How often a stream says it is alive (proxies close silent connections).
const HEARTBEAT: Duration = Duration::from_secs(15);

/// The key that signs check-in codes when `JOBTOUR_SIGNING_KEY` is not set: generated on the
/// first start and kept in the database, so that every instance, and every restart, signs and
/// checks with the same one.
pub async fn stored_signing_key(db: &Db) -> anyhow::Result<SigningKey> {
    let fresh = auth::hex(&auth::random_bytes());
    let stored = repo::checkins::server_key(db.conn(), KEY_NAME, &fresh, repo::now()).await?;
    Ok(SigningKey(stored.into_bytes().into()))
}

/// A check-in code, for an app that draws its own QR code.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinCodeBody {
    /// Signed; names the application and its tour, nothing personal.
    #[schema(example = "JT1.AZprLpmZfiGaPyuMTV5vcAGaay4iInohmj8rjE1eb3A.q2mUv1cCrMMA9U-CJUchcQ")]
    pub code: String,
}

/// The position a checked-in candidate applied to.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinPosition {
    pub id: Uuid,
    #[schema(example = "Conseiller clientèle bancaire (H/F)")]
    pub title: String,
    pub organisation_id: Uuid,
    #[schema(example = "Crédit Mosellan")]
    pub employer_name: String,
}

/// The interview slot a candidate booked at this stop.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinSlot {
    pub id: Uuid,
    /// In the tour's time zone.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<FixedOffset>,
}

/// A candidate checked in at a stop.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a6b2e-5555-7e21-9a3f-2b8c4d5e6f70", "stop_id": "019a6b2e-3333-7e21-9a3f-2b8c4d5e6f70",
    "application_id": "019a6b2e-9999-7e21-9a3f-2b8c4d5e6f70", "first_name": "Camille",
    "position": { "id": "019a6b2e-7c4d-7e21-9a3f-2b8c4d5e6f70", "title": "Conseiller clientèle bancaire (H/F)",
        "organisation_id": "019a6b2e-1111-7e21-9a3f-2b8c4d5e6f70", "employer_name": "Crédit Mosellan" },
    "slot": { "id": "019a6b2e-4444-7e21-9a3f-2b8c4d5e6f70", "starts_at": "2027-10-19T10:00:00+02:00",
        "ends_at": "2027-10-19T10:20:00+02:00" },
    "timing": "on_time", "walk_in": false, "forced": false,
    "scanned_at": "2027-10-19T07:52:00Z", "recorded_at": "2027-10-19T07:52:01Z",
    "by_user_id": "019a6b2e-6666-7e21-9a3f-2b8c4d5e6f70"
}))]
pub struct Checkin {
    pub id: Uuid,
    pub stop_id: Uuid,
    pub application_id: Uuid,
    /// `null` once the candidate's data was erased.
    pub first_name: Option<String>,
    pub position: CheckinPosition,
    /// The interview booked at this stop, if any.
    pub slot: Option<CheckinSlot>,
    /// Against that slot: `early` (more than 15 minutes before), `on_time` or `late` (after it
    /// began); `null` without one.
    #[schema(schema_with = timing_schema)]
    pub timing: Option<String>,
    /// Registered at the bus without having applied.
    pub walk_in: bool,
    /// Let in by an organiser outside the stop's hours.
    pub forced: bool,
    /// When the code was scanned (as the scanning phone said, when it was offline).
    pub scanned_at: DateTime<Utc>,
    /// When the server recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The staff member who scanned it.
    pub by_user_id: Option<Uuid>,
}

fn timing_schema() -> utoipa::openapi::Object {
    crate::openapi::string_enum_or_null(&rules::Timing::ALL.map(rules::Timing::as_str))
}

/// One scan of a check-in code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "code": "JT1.AZprLpmZfiGaPyuMTV5vcAGaay4iInohmj8rjE1eb3A.q2mUv1cCrMMA9U-CJUchcQ" }))]
pub struct Scan {
    /// The code read from the candidate's QR code.
    #[schema(max_length = 200)]
    pub code: String,
    /// When the phone scanned it, if it was offline then: not in the future, not before the
    /// stop's day. Default: now.
    pub scanned_at: Option<DateTime<Utc>>,
}

impl Scan {
    /// A code longer than any this server signs is refused with the request (422), before any
    /// scan of a batch is taken.
    fn check_length(&self, field: &str) -> ApiResult<()> {
        if self.code.chars().count() > MAX_CODE_CHARS {
            return Err(ApiError::invalid_field(
                field,
                "too_long",
                format!("must be at most {MAX_CODE_CHARS} characters"),
            ));
        }
        Ok(())
    }
}

/// An offline phone's queue of scans, replayed: in any order, as often as needed; each
/// application counts once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanBatch {
    #[schema(min_items = 1, max_items = 500)]
    pub scans: Vec<Scan>,
}

/// One scan, or a batch of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CheckinRequest {
    One(Scan),
    Batch(ScanBatch),
}

/// The answer to one scan (a `Checkin`) or to a batch (`ScanResults`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum CheckinAnswer {
    One(Box<Checkin>),
    Batch(ScanResults),
}

/// What became of one scan of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanResult {
    /// The scan's place in the batch, from 0.
    pub index: usize,
    /// What the scan alone would have been answered: 201 (checked in), 200 (already), 409 or 422.
    pub status: u16,
    /// The check-in that stands, on 200 and 201.
    pub checkin: Option<Checkin>,
    /// Why not, otherwise.
    pub problem: Option<Problem>,
}

/// One result per scan of a batch, in the batch's order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanResults {
    pub results: Vec<ScanResult>,
}

/// `?force=true`: an organiser checks in outside the stop's hours.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ForceQuery {
    /// Outside the stop's hours (an hour before arrival to departure): organisers only.
    pub force: Option<bool>,
}

/// A candidate who came to the bus without having applied: the fields of an application, and
/// one of the stop's positions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "first_name": "Yanis", "last_name": "Benali", "email": "yanis.benali@example.org",
    "phone": "06 98 76 54 32", "position_id": "019a6b2e-7c4d-7e21-9a3f-2b8c4d5e6f70", "consent": true
}))]
pub struct NewWalkIn {
    #[schema(schema_with = text::person_name)]
    pub first_name: String,
    #[schema(schema_with = text::person_name)]
    pub last_name: String,
    #[schema(schema_with = text::email)]
    pub email: String,
    #[schema(value_type = Option<String>, max_length = 32, pattern = r"^\s*(\+|00)?[0-9][0-9 .()\u00a0-]*$")]
    pub phone: Option<String>,
    #[schema(schema_with = text::message_or_null, required = false)]
    pub message: Option<String>,
    /// A position offered at this stop: every application is to a position (its employer's
    /// pipeline, the duplicate rule, the data rights hang on it).
    pub position_id: Uuid,
    #[schema(schema_with = applications::consent_schema)]
    pub consent: bool,
}

/// A walk-in registered and checked in.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalkIn {
    /// With its `access_token`, shown once: show the candidate its QR code, or send the link.
    pub application: Application,
    pub checkin: Checkin,
}

/// The figures of one employer at a stop.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmployerAttendance {
    pub organisation_id: Uuid,
    #[schema(example = "Crédit Mosellan")]
    pub name: String,
    /// Candidates for its positions checked in here, walk-ins included.
    pub checked_in: i64,
    /// Of them, those who walked in.
    pub walk_ins: i64,
    /// Booked in its interview slots here, not checked in (yet).
    pub booked_not_arrived: i64,
}

/// Who came to a stop.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "stop_id": "019a6b2e-3333-7e21-9a3f-2b8c4d5e6f70", "checked_in": 42, "walk_ins": 9, "booked_not_arrived": 6,
    "by_employer": [{ "organisation_id": "019a6b2e-1111-7e21-9a3f-2b8c4d5e6f70", "name": "Crédit Mosellan",
        "checked_in": 17, "walk_ins": 3, "booked_not_arrived": 2 }]
}))]
pub struct Attendance {
    pub stop_id: Uuid,
    pub checked_in: i64,
    pub walk_ins: i64,
    pub booked_not_arrived: i64,
    /// Every employer with a check-in or a booking here, by name.
    pub by_employer: Vec<EmployerAttendance>,
}

/// A one-use key to the attendance stream, for a browser's `EventSource` (which cannot send
/// an `Authorization` header).
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamTicket {
    #[schema(example = "jtt_Yx2kq0y5Zr8m2Y7c4b1vQm3n0p9s8t7u6w5x4y3z2a1")]
    pub ticket: String,
    /// 60 seconds from now: open the stream before then.
    pub expires_at: DateTime<Utc>,
    /// The stream's address with the ticket.
    #[schema(example = "/api/v1/stops/019a6b2e-3333-7e21-9a3f-2b8c4d5e6f70/attendance/stream?ticket=jtt_Yx2k…")]
    pub stream_url: String,
}

/// Paging of check-ins.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckinQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// How a browser opens the stream.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// From `POST /stops/{id}/attendance/ticket`, instead of an `Authorization` header.
    #[param(max_length = 100)]
    pub ticket: Option<String>,
}

/// The candidate's check-in code (with its access token; staff who may read the application
/// too): a QR code as SVG, or with `Accept: application/json` the code itself. It names the
/// application and its tour, signed; withdrawing, being rejected or erasing the data voids it.
#[utoipa::path(tag = "check-in", operation_id = "getCheckinCode", params(("id" = Uuid, Path)),
    security(("candidate" = []), ("bearer" = [])), responses(
    (status = 200, description = "The code", content(
        (String = "image/svg+xml"),
        (CheckinCodeBody = "application/json"),
    )),
    (status = 409, description = "`application_not_active`: withdrawn or rejected", body = Problem, content_type = "application/problem+json"),
))]
#[get("/applications/{id}/checkin-code")]
pub async fn checkin_code(
    state: Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let model = repo::applications::find(state.db.conn(), id.into_inner())
        .await?
        .filter(|m| m.erased_at.is_none())
        .ok_or_else(|| ApiError::not_found("application"))?;
    policy::may(
        &actor,
        Action::Read,
        Object::Application {
            id: model.id,
            organisation_id: model.organisation_id,
        },
    )?;
    admitted(&model)?;
    let code = CheckinCode {
        application_id: model.id,
        tour_id: model.tour_id,
    }
    .sign(&state.signing_key.0);
    if wants_json(&req) {
        return Ok(HttpResponse::Ok().json(CheckinCodeBody { code }));
    }
    let qr =
        qrcode::QrCode::with_error_correction_level(code.as_bytes(), qrcode::EcLevel::M).map_err(ApiError::internal)?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// Checks candidates in at the stop (organisers, and the staff of the tour's employers): one
/// scan → 201 with the candidate's first name, position and booked slot (early, on time or
/// late), or 200 with the first check-in when the code was scanned here before. A batch (`{
/// "scans": […] }`, up to 500, e.g. an offline phone's queue) → 200 with one result per scan;
/// replaying it counts nobody twice. Refused: a code of another tour (409 `wrong_tour`), of a
/// withdrawn, rejected or erased application (409 `application_not_active`), a forged or
/// damaged one (422, field `code`), a scan outside the stop's hours (409 `stop_not_open`:
/// from an hour before the bus arrives until it leaves) unless an organiser says `?force=true`.
#[utoipa::path(tag = "check-in", operation_id = "createCheckins", params(("id" = Uuid, Path, description = "The stop"), ForceQuery),
    request_body = CheckinRequest, security(("bearer" = [])), responses(
    (status = 201, description = "Checked in", body = Checkin),
    (status = 200, description = "Checked in before (one scan: the first check-in), or a batch's results", body = CheckinAnswer),
    (status = 409, description = "`wrong_tour`, `application_not_active`, `stop_not_open`", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "A forged or damaged code (`code`: `invalid_code`), or a `scanned_at` in the future or before the stop's day", body = Problem, content_type = "application/problem+json"),
))]
#[post("/stops/{id}/checkins")]
pub async fn check_in(
    signed_in: SignedIn,
    state: Data<AppState>,
    id: Path<Uuid>,
    query: Query<ForceQuery>,
    body: Json<CheckinRequest>,
) -> ApiResult<HttpResponse> {
    let desk = Desk::open(&state, &signed_in, id.into_inner(), Action::Create, query.force).await?;
    match body.into_inner() {
        CheckinRequest::One(scan) => {
            scan.check_length("code")?;
            let (checkin, created) = desk.check_in(&state, scan).await?;
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            Ok(HttpResponse::build(status).json(CheckinAnswer::One(Box::new(checkin))))
        }
        CheckinRequest::Batch(batch) => {
            if batch.scans.is_empty() || batch.scans.len() > MAX_BATCH {
                return Err(ApiError::invalid_field(
                    "scans",
                    "out_of_range",
                    format!("must hold 1 to {MAX_BATCH} scans"),
                ));
            }
            for (i, scan) in batch.scans.iter().enumerate() {
                scan.check_length(&format!("scans[{i}].code"))?;
            }
            let mut results = Vec::with_capacity(batch.scans.len());
            for (index, scan) in batch.scans.into_iter().enumerate() {
                results.push(match desk.check_in(&state, scan).await {
                    Ok((checkin, created)) => ScanResult {
                        index,
                        status: if created { 201 } else { 200 },
                        checkin: Some(checkin),
                        problem: None,
                    },
                    // The database failing is the batch's failure: the phone sends it again.
                    Err(e) if e.status_code().is_server_error() => return Err(e),
                    Err(e) => ScanResult {
                        index,
                        status: e.status_code().as_u16(),
                        checkin: None,
                        problem: Some(e.problem_in(crate::messages::current())),
                    },
                });
            }
            Ok(HttpResponse::Ok().json(CheckinAnswer::Batch(ScanResults { results })))
        }
    }
}

/// The stop's check-ins, in the order they were recorded (the tour's staff).
#[utoipa::path(tag = "check-in", operation_id = "listCheckins", params(("id" = Uuid, Path, description = "The stop"), CheckinQuery),
    security(("bearer" = [])), responses(
    (status = 200, description = "One page of check-ins", body = Page<Checkin>),
))]
#[get("/stops/{id}/checkins")]
pub async fn list(
    signed_in: SignedIn,
    state: Data<AppState>,
    id: Path<Uuid>,
    query: Query<CheckinQuery>,
) -> ApiResult<HttpResponse> {
    let desk = Desk::open(&state, &signed_in, id.into_inner(), Action::Read, None).await?;
    let page = PageRequest::<Uuid>::parse(query.limit, query.cursor.as_deref())?;
    let db = state.db.conn();
    let rows = repo::checkins::page_for_stop(db, desk.stop.id, &page).await?;
    let page = http::page_of(rows, page.limit, |m| m.id, |m| m);
    Ok(HttpResponse::Ok().json(Page {
        items: render(db, page.items, desk.tz).await?,
        next_cursor: page.next_cursor,
    }))
}

/// Registers a candidate who came to the bus without having applied (the tour's staff): an
/// application like one made online (the same fields, consent and duplicate rule: 409
/// `duplicate_application`), with source `walk_in` and this stop preferred, checked in at
/// once. The answer holds the application's access token, once, to show the candidate its QR
/// code or send it the link (the acknowledgement e-mail carries it too).
#[utoipa::path(tag = "check-in", operation_id = "createWalkIn", params(("id" = Uuid, Path, description = "The stop"), ForceQuery),
    request_body = NewWalkIn, security(("bearer" = [])), responses(
    (status = 201, description = "Registered and checked in", body = WalkIn, headers(("Location" = String, description = "The application"))),
    (status = 409, description = "`duplicate_application`, `position_not_open`, `stop_not_open`", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid fields; a `position_id` not offered at this stop (`not_at_stop`)", body = Problem, content_type = "application/problem+json"),
))]
#[post("/stops/{id}/walk-ins")]
pub async fn register_walk_in(
    signed_in: SignedIn,
    state: Data<AppState>,
    id: Path<Uuid>,
    query: Query<ForceQuery>,
    body: Json<NewWalkIn>,
) -> ApiResult<HttpResponse> {
    let desk = Desk::open(&state, &signed_in, id.into_inner(), Action::Create, query.force).await?;
    let b = body.into_inner();
    let now = repo::now();
    desk.within_hours(now)?;
    let tx = state.db.begin().await?;
    let not_here = || ApiError::invalid_field("position_id", "not_at_stop", "must be a position offered at this stop");
    let position = repo::positions::find_for_share(&tx, b.position_id)
        .await?
        .filter(|p| p.tour_id == desk.stop.tour_id)
        .ok_or_else(not_here)?;
    let target = applications::Target::read(&tx, position, desk.tour.clone()).await?;
    if !target.offers(desk.stop.id) {
        return Err(not_here());
    }
    let tour_status = TourStatus::parse(&desk.tour.status).map_err(|e| ApiError::internal(e.message))?;
    let position = &target.position;
    let status = PositionStatus::parse(&position.status).map_err(|e| ApiError::internal(e.message))?;
    accepts_applications(tour_status, status, position.closes_at, now)?;
    let candidate = NewApplication {
        first_name: b.first_name,
        last_name: b.last_name,
        email: b.email,
        phone: b.phone,
        message: b.message,
        preferred_stop_id: Some(desk.stop.id),
        consent: b.consent,
    };
    let registered = applications::register(&tx, &state, &target, candidate, "walk_in", auth::random_bytes()).await?;
    let model = &registered.model;
    let (checkin, _) = repo::checkins::record(&tx, desk.new_checkin(model, now, true)).await?;
    let event = event(&tx, &checkin, model).await?;
    let location = format!("/api/v1/applications/{}", model.id);
    let mut application = registered.shown;
    let checkin = desk.render_one(&tx, checkin).await?;
    tx.commit().await?;
    state.live.publish(event).await;
    application.access_token = Some(registered.token);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(WalkIn { application, checkin }))
}

/// Who came to the stop (the tour's staff): checked in (walk-ins included), walked in, booked
/// but not arrived, per employer and in all.
#[utoipa::path(tag = "check-in", operation_id = "getAttendance", params(("id" = Uuid, Path, description = "The stop")),
    security(("bearer" = [])), responses(
    (status = 200, description = "The figures", body = Attendance),
))]
#[get("/stops/{id}/attendance")]
pub async fn attendance(signed_in: SignedIn, state: Data<AppState>, id: Path<Uuid>) -> ApiResult<Json<Attendance>> {
    let desk = Desk::open(&state, &signed_in, id.into_inner(), Action::Read, None).await?;
    let db = state.db.conn();
    let arrivals = repo::checkins::arrivals_by_employer(db, desk.stop.id).await?;
    let waiting = repo::checkins::booked_not_arrived(db, desk.stop.id).await?;
    let ids: Vec<Uuid> = arrivals
        .keys()
        .chain(waiting.keys())
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let names = repo::organisations::names(db, &ids).await?;
    let mut by_employer: Vec<EmployerAttendance> = ids
        .into_iter()
        .map(|id| {
            let a = arrivals.get(&id).copied().unwrap_or_default();
            EmployerAttendance {
                organisation_id: id,
                name: names.get(&id).cloned().unwrap_or_default(),
                checked_in: a.checked_in,
                walk_ins: a.walk_ins,
                booked_not_arrived: waiting.get(&id).copied().unwrap_or(0),
            }
        })
        .collect();
    by_employer.sort_by(|a, b| a.name.cmp(&b.name).then(a.organisation_id.cmp(&b.organisation_id)));
    Ok(Json(Attendance {
        stop_id: desk.stop.id,
        checked_in: by_employer.iter().map(|e| e.checked_in).sum(),
        walk_ins: by_employer.iter().map(|e| e.walk_ins).sum(),
        booked_not_arrived: by_employer.iter().map(|e| e.booked_not_arrived).sum(),
        by_employer,
    }))
}

/// A one-use ticket, valid 60 seconds, that opens the stop's attendance stream without an
/// `Authorization` header (a browser's `EventSource` cannot send one).
#[utoipa::path(tag = "check-in", operation_id = "createAttendanceTicket", params(("id" = Uuid, Path, description = "The stop")),
    security(("bearer" = [])), responses(
    (status = 201, description = "The ticket", body = StreamTicket),
))]
#[post("/stops/{id}/attendance/ticket")]
pub async fn open_ticket(signed_in: SignedIn, state: Data<AppState>, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let desk = Desk::open(&state, &signed_in, id.into_inner(), Action::Read, None).await?;
    let (ticket, token_hash) = auth::stream_ticket();
    let expires_at = repo::now() + TICKET_TTL;
    repo::checkins::insert_ticket(
        state.db.conn(),
        stream_ticket::Model {
            token_hash,
            stop_id: desk.stop.id,
            user_id: signed_in.0.user_id,
            expires_at,
        },
    )
    .await?;
    let stream_url = format!("/api/v1/stops/{}/attendance/stream?ticket={ticket}", desk.stop.id);
    Ok(HttpResponse::Created().json(StreamTicket {
        ticket,
        expires_at,
        stream_url,
    }))
}

/// The stop's check-ins as they happen, as Server-Sent Events (`text/event-stream`), for a
/// screen on the bus: an event `checkin` per check-in (a `CheckinEvent`: first name, employer,
/// walk-in or not, the stop's counts), a comment every 15 s to keep the connection open. The
/// tour's staff: a bearer token, or `?ticket=` from `POST …/attendance/ticket`. After a
/// reconnection, read `GET …/attendance` for what was missed.
#[utoipa::path(tag = "check-in", operation_id = "streamAttendance", params(("id" = Uuid, Path, description = "The stop"), StreamQuery),
    security(("bearer" = [])), responses(
    (status = 200, description = "An endless stream of `checkin` events, each a `CheckinEvent` as JSON", content(
        (String = "text/event-stream"),
    )),
))]
#[get("/stops/{id}/attendance/stream")]
pub async fn stream(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
    query: Query<StreamQuery>,
) -> ApiResult<HttpResponse> {
    let stop_id = id.into_inner();
    let staff = match (Actor::extract(&req).await?, &query.ticket) {
        (Actor::Anonymous, Some(ticket)) => ticket_holder(&state, ticket, stop_id).await?,
        (actor, _) => *actor.staff()?,
    };
    Desk::open(&state, &SignedIn(staff), stop_id, Action::Read, None).await?;
    state.live.ready(Duration::from_secs(2)).await;
    let events = state.live.subscribe();
    let heartbeat = tokio::time::interval(HEARTBEAT);
    let body = futures_util::stream::unfold((events, heartbeat), move |(mut events, mut heartbeat)| async move {
        use tokio::sync::broadcast::error::RecvError;
        let chunk = loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(e) if e.stop_id == stop_id => {
                        let data = serde_json::to_string(&*e).unwrap_or_default();
                        break format!("id: {}\nevent: checkin\ndata: {data}\n\n", e.checkin_id);
                    }
                    Ok(_) => {}
                    // A screen that fell behind is told so, and goes on with what comes.
                    Err(RecvError::Lagged(missed)) => break format!("event: lagged\ndata: {missed}\n\n"),
                    Err(RecvError::Closed) => return None,
                },
                _ = heartbeat.tick() => break ": keep-alive\n\n".to_owned(),
            }
        };
        Some((Ok::<_, actix_web::Error>(Bytes::from(chunk)), (events, heartbeat)))
    });
    let body = futures_util::stream::once(async { Ok(Bytes::from_static(b"retry: 3000\n\n")) }).chain(body);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // Sent as it comes: no compression buffering it, no proxy either.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

/// The staff member a stream ticket was given to, using the ticket up; 401 `invalid_ticket`
/// for an unknown, expired, used or other stop's ticket.
async fn ticket_holder(state: &AppState, ticket: &str, stop_id: Uuid) -> ApiResult<Staff> {
    let invalid = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_ticket",
            "the stream ticket is unknown, expired or used: ask for another",
        )
    };
    let db = state.db.conn();
    let taken = repo::checkins::take_ticket(db, &auth::token_hash(ticket), stop_id, repo::now())
        .await?
        .ok_or_else(invalid)?;
    let user = repo::users::find(db, taken.user_id).await?.ok_or_else(invalid)?;
    Ok(Staff {
        user_id: user.id,
        session_id: Uuid::nil(),
        role: Role::parse(&user.role).map_err(|e| ApiError::internal(e.message))?,
        organisation_id: user.organisation_id,
    })
}

/// A stop's desk, as one staff member works it: the stop, its tour, who is at it, and whether
/// an organiser let check-ins through outside the hours.
struct Desk {
    stop: stop::Model,
    tour: tour::Model,
    tz: Tz,
    user_id: Uuid,
    force: bool,
}

impl Desk {
    /// The stop, after checking that the caller works at it (organisers, and the staff of the
    /// tour's employers) and may `force` if asked to.
    async fn open(
        state: &AppState,
        signed_in: &SignedIn,
        stop_id: Uuid,
        action: Action,
        force: Option<bool>,
    ) -> ApiResult<Self> {
        let db = state.db.conn();
        let stop = repo::stops::find(db, stop_id)
            .await?
            .ok_or_else(|| ApiError::not_found("stop"))?;
        let tour = repo::tours::find(db, stop.tour_id)
            .await?
            .ok_or_else(|| ApiError::not_found("stop"))?;
        let takes_part = match signed_in.0.organisation_id {
            Some(org) if signed_in.0.role == Role::Partner => repo::tours::takes_part(db, tour.id, org).await?,
            _ => false,
        };
        let desk = Object::StopDesk {
            takes_part,
            public: is_public(&tour),
        };
        let actor = signed_in.actor();
        policy::may(&actor, action, desk)?;
        let force = force == Some(true);
        if force {
            policy::may(&actor, Action::Override, desk)?;
        }
        let tz = tour_zone(&tour)?;
        Ok(Self {
            stop,
            tour,
            tz,
            user_id: signed_in.0.user_id,
            force,
        })
    }

    /// Whether a scan made `at` may check someone in: within the stop's hours, or forced.
    fn within_hours(&self, at: DateTime<Utc>) -> ApiResult<()> {
        if self.force {
            return Ok(());
        }
        Ok(rules::within_hours(self.stop.arrives_at, self.stop.departs_at, at)?)
    }

    /// When the stop's day began, in the tour's time zone: offline scans are not older.
    fn day_start(&self) -> DateTime<Utc> {
        let day = self.stop.arrives_at.with_timezone(&self.tz).date_naive();
        self.tz
            .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map_or(self.stop.arrives_at, |t| t.with_timezone(&Utc))
    }

    fn new_checkin(
        &self,
        application: &application::Model,
        scanned_at: DateTime<Utc>,
        walk_in: bool,
    ) -> repo::checkins::New {
        repo::checkins::New {
            stop_id: self.stop.id,
            tour_id: self.stop.tour_id,
            application_id: application.id,
            organisation_id: application.organisation_id,
            walk_in,
            // Forced only when it had to be.
            forced: self.force && rules::within_hours(self.stop.arrives_at, self.stop.departs_at, scanned_at).is_err(),
            scanned_at,
            by_user_id: self.user_id,
            now: repo::now(),
        }
    }

    /// One scan: the check-in that stands and whether this scan made it. The code's signature
    /// is checked before the database is asked anything.
    async fn check_in(&self, state: &AppState, scan: Scan) -> ApiResult<(Checkin, bool)> {
        let code = CheckinCode::verify(&scan.code, &state.signing_key.0).map_err(|e| DomainError::field("code", e))?;
        let now = repo::now();
        let at = rules::scan_time(scan.scanned_at, now, self.day_start())
            .map_err(|e| DomainError::field("scanned_at", e))?;
        if code.tour_id != self.stop.tour_id {
            return Err(wrong_tour());
        }
        let tx = state.db.begin().await?;
        // Signed by this server, so it was an application of this tour; erased since, or
        // gone with its data, it is void.
        let model = repo::applications::find(&tx, code.application_id)
            .await?
            .ok_or_else(|| not_active("erased"))?;
        if model.tour_id != self.stop.tour_id {
            return Err(wrong_tour());
        }
        admitted(&model)?;
        // A code scanned here before is answered with its first check-in, whenever it comes
        // back (an offline queue replayed after the bus left).
        if let Some(existing) = repo::checkins::find_at(&tx, self.stop.id, model.id).await? {
            let checkin = self.render_one(&tx, existing).await?;
            return Ok((checkin, false));
        }
        self.within_hours(at)?;
        let (checkin, created) = repo::checkins::record(&tx, self.new_checkin(&model, at, false)).await?;
        let event = if created {
            Some(event(&tx, &checkin, &model).await?)
        } else {
            None
        };
        let rendered = self.render_one(&tx, checkin).await?;
        tx.commit().await?;
        if let Some(event) = event {
            state.live.publish(event).await;
        }
        Ok((rendered, created))
    }

    async fn render_one(&self, db: &impl ConnectionTrait, m: checkin::Model) -> ApiResult<Checkin> {
        render(db, vec![m], self.tz)
            .await?
            .pop()
            .ok_or_else(|| ApiError::internal("a rendered check-in went missing"))
    }
}

fn wrong_tour() -> ApiError {
    ApiError::conflict("wrong_tour", "this check-in code is for another tour than this stop's")
}

fn not_active(status: &str) -> ApiError {
    ApiError::conflict(
        "application_not_active",
        format!("the application is {status}: its check-in code is void"),
    )
}

/// Whether the application may still be checked in (409 `application_not_active`).
fn admitted(m: &application::Model) -> ApiResult<()> {
    let status = ApplicationStatus::parse(&m.status).map_err(|e| ApiError::internal(e.message))?;
    rules::admits(status, m.erased_at.is_some()).map_err(|e| match e {
        DomainError::ApplicationNotActive { status } => not_active(status),
        e => e.into(),
    })
}

/// The event a new check-in sends to the screens, with the stop's counts (as this transaction
/// sees them).
async fn event(db: &impl ConnectionTrait, c: &checkin::Model, a: &application::Model) -> ApiResult<CheckinEvent> {
    let counts = repo::checkins::arrivals(db, c.stop_id).await?;
    Ok(CheckinEvent {
        checkin_id: c.id,
        stop_id: c.stop_id,
        first_name: a.first_name.clone(),
        organisation_id: c.organisation_id,
        walk_in: c.walk_in,
        scanned_at: c.scanned_at,
        checked_in: counts.checked_in,
        walk_ins: counts.walk_ins,
    })
}

/// Check-ins as the API shows them: a fixed number of queries for a page.
async fn render(db: &impl ConnectionTrait, rows: Vec<checkin::Model>, tz: Tz) -> ApiResult<Vec<Checkin>> {
    let application_ids: Vec<Uuid> = rows.iter().map(|c| c.application_id).collect();
    let candidates = repo::applications::find_many(db, &application_ids).await?;
    let position_ids: Vec<Uuid> = candidates.values().map(|a| a.position_id).collect();
    let positions = repo::positions::find_many(db, &position_ids).await?;
    let names =
        repo::organisations::names(db, &positions.values().map(|p| p.organisation_id).collect::<Vec<_>>()).await?;
    let bookings = repo::slots::active_bookings(db, &application_ids).await?;
    let slots = repo::slots::find_many(db, &bookings.values().filter_map(|b| b.slot_id).collect::<Vec<_>>()).await?;
    rows.into_iter()
        .map(|c| {
            let a = candidates
                .get(&c.application_id)
                .ok_or_else(|| ApiError::internal("a check-in's application is gone"))?;
            let p = positions
                .get(&a.position_id)
                .ok_or_else(|| ApiError::internal("an application's position is gone"))?;
            let slot = bookings
                .get(&a.id)
                .and_then(|b| slots.get(&b.slot_id?))
                .filter(|s| s.stop_id == c.stop_id);
            Ok(Checkin {
                id: c.id,
                stop_id: c.stop_id,
                application_id: c.application_id,
                first_name: a.first_name.clone(),
                position: CheckinPosition {
                    id: p.id,
                    title: p.title.clone(),
                    organisation_id: p.organisation_id,
                    employer_name: names.get(&p.organisation_id).cloned().unwrap_or_default(),
                },
                timing: slot.map(|s| timing(c.scanned_at, s.starts_at).as_str().to_owned()),
                slot: slot.map(|s| CheckinSlot {
                    id: s.id,
                    starts_at: s.starts_at.with_timezone(&tz).fixed_offset(),
                    ends_at: s.ends_at.with_timezone(&tz).fixed_offset(),
                }),
                walk_in: c.walk_in,
                forced: c.forced,
                scanned_at: c.scanned_at,
                recorded_at: c.created_at,
                by_user_id: c.by_user_id,
            })
        })
        .collect()
}

/// Whether the caller prefers JSON to an image (`Accept`, q-values honoured).
fn wants_json(req: &HttpRequest) -> bool {
    http::prefers(req, |m| m.subtype() == mime::JSON, |m| m.type_() == mime::IMAGE)
}
