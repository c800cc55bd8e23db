//! Applications: a candidate applies from a phone without an account (`POST
//! /positions/{id}/applications`, honouring `Idempotency-Key`) and gets a secret access token,
//! shown once, that opens the application for self-service; employer staff read and move the
//! applications to their positions through the hiring pipeline, also as a CSV for a
//! spreadsheet.

use crate::auth::{self, Actor, SignedIn};
use crate::entities::{application::Model, application_event, position, stop, tour};
use crate::error::{ApiError, ApiResult, Violation, violation};
use crate::http::{self, Page, PageRequest};
use crate::idempotency::{self, Begun, Claim};
use crate::notify;
use crate::openapi::{string_enum, text};
use crate::policy::{self, Action, Object};
use crate::privacy;
use crate::repo::{self, applications::By};
use crate::routes::bookings::{Booking, WaitingPlace};
use crate::routes::stops::{Stop, tour_zone};
use crate::routes::tours::is_public;
use crate::seats;
use crate::spreadsheet::Sheet;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post};
use chrono::{DateTime, Utc};
use jobtour_domain::DomainError;
use jobtour_domain::application::{ApplicationFields, ApplicationInput, ApplicationStatus, Mover, Note};
use jobtour_domain::position::{PositionStatus, Staffing, accepts_applications};
use jobtour_domain::tour::TourStatus;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

fn status_schema() -> utoipa::openapi::Object {
    string_enum(&ApplicationStatus::ALL.map(ApplicationStatus::as_str))
}

fn status_or_null_schema() -> utoipa::openapi::Object {
    crate::openapi::string_enum_or_null(&ApplicationStatus::ALL.map(ApplicationStatus::as_str))
}

pub(crate) fn consent_schema() -> utoipa::openapi::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Boolean)
        .enum_values(Some([true]))
        .description(Some("Must be true: the candidate accepts the privacy notice."))
        .build()
}

/// The position an application is for, as the candidate and the employer see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedPosition {
    pub id: Uuid,
    #[schema(example = "Conseiller clientèle bancaire (H/F)")]
    pub title: String,
    pub organisation_id: Uuid,
    #[schema(example = "Crédit Mosellan")]
    pub employer_name: String,
    pub tour_id: Uuid,
    pub status: String,
    /// Where the employer meets candidates, in itinerary order and the tour's time zone.
    pub stops: Vec<Stop>,
}

/// One change of an application's status.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChange {
    /// `null` when the application was made.
    #[schema(schema_with = status_or_null_schema)]
    pub from: Option<String>,
    #[schema(schema_with = status_schema)]
    pub to: String,
    /// `staff` or `candidate`.
    #[schema(example = "staff")]
    pub by: String,
    /// The staff user (not shown to the candidate).
    pub by_user_id: Option<Uuid>,
    /// The staff's note (not shown to the candidate).
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// An application. The candidate sees it with its own token; the employer's staff and
/// organisers see it too, with their notes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a6b2e-9999-7e21-9a3f-2b8c4d5e6f70",
    "position": { "id": "019a6b2e-7c4d-7e21-9a3f-2b8c4d5e6f70", "title": "Conseiller clientèle bancaire (H/F)",
        "organisation_id": "019a6b2e-1111-7e21-9a3f-2b8c4d5e6f70", "employer_name": "Crédit Mosellan",
        "tour_id": "019a6b2e-2222-7e21-9a3f-2b8c4d5e6f70", "status": "open", "stops": [] },
    "first_name": "Camille", "last_name": "Durand", "email": "camille.durand@example.org",
    "phone": "+33612345678", "message": "Disponible dès novembre.",
    "preferred_stop_id": null, "consent_at": "2027-10-19T09:12:00Z", "privacy_notice_version": "2026-11",
    "status": "submitted", "source": "web", "next_statuses": ["withdrawn"],
    "history": [{ "from": null, "to": "submitted", "by": "candidate", "by_user_id": null, "note": null,
        "at": "2027-10-19T09:12:00Z" }],
    "booking": null, "waiting": null,
    "created_at": "2027-10-19T09:12:00Z", "updated_at": "2027-10-19T09:12:00Z",
    "access_token": "jtc_2yJ0cXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9aGVsbG8"
}))]
pub struct Application {
    pub id: Uuid,
    pub position: AppliedPosition,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub message: Option<String>,
    pub preferred_stop_id: Option<Uuid>,
    /// When the candidate accepted the privacy notice, and which version.
    pub consent_at: DateTime<Utc>,
    pub privacy_notice_version: String,
    #[schema(schema_with = status_schema)]
    pub status: String,
    /// `web` (applied online) or `walk_in` (registered at the bus).
    pub source: String,
    /// The statuses the caller may move the application to.
    pub next_statuses: Vec<String>,
    /// Every status change, oldest first.
    pub history: Vec<StatusChange>,
    /// The interview slot booked, if any.
    pub booking: Option<Booking>,
    /// The full slot's line the application waits in, if any.
    pub waiting: Option<WaitingPlace>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Only in the answer to `POST …/applications`, once: the candidate's key to this
    /// application (`Authorization: Bearer <access_token>`). It is stored only as a hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

/// An application from a candidate.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "first_name": "Camille", "last_name": "Durand", "email": "camille.durand@example.org",
    "phone": "06 12 34 56 78", "message": "Disponible dès novembre.", "consent": true
}))]
pub struct NewApplication {
    #[schema(schema_with = text::person_name)]
    pub first_name: String,
    #[schema(schema_with = text::person_name)]
    pub last_name: String,
    #[schema(schema_with = text::email)]
    pub email: String,
    /// A French number (`06 12 34 56 78`) or an international one (`+33 6 12 34 56 78`);
    /// stored as E.164.
    #[schema(value_type = Option<String>, max_length = 32, pattern = r"^\s*(\+|00)?[0-9][0-9 .()\u00a0-]*$")]
    pub phone: Option<String>,
    #[schema(schema_with = text::message_or_null, required = false)]
    pub message: Option<String>,
    /// One of the stops where the employer meets candidates.
    pub preferred_stop_id: Option<Uuid>,
    #[schema(schema_with = consent_schema)]
    pub consent: bool,
}

/// A move along the hiring pipeline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "status": "screening", "note": "Bon profil, à appeler." }))]
pub struct ApplicationPatch {
    /// One step along submitted → screening → interview → offered → hired, or `rejected`
    /// from any of them.
    #[schema(schema_with = status_schema)]
    pub status: String,
    /// Kept in the history, for staff.
    #[schema(schema_with = text::note_or_null, required = false)]
    pub note: Option<String>,
}

/// Filters and paging for the pipeline.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    /// Page size, 1 to 200 (default 50); a CSV holds every match.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub position_id: Option<Uuid>,
    pub tour_id: Option<Uuid>,
    /// The stop the candidate preferred.
    pub stop_id: Option<Uuid>,
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
}

/// Who reads an application: the candidate does not see staff notes and ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Viewer {
    Staff,
    Candidate,
    /// The candidate's export of its data: the staff's notes about it included, not who wrote
    /// them.
    Export,
}

impl Viewer {
    fn of(actor: &Actor) -> Self {
        match actor {
            Actor::Candidate { .. } => Self::Candidate,
            _ => Self::Staff,
        }
    }

    fn mover(self) -> Mover {
        match self {
            Self::Staff => Mover::Staff,
            Self::Candidate | Self::Export => Mover::Candidate,
        }
    }

    fn sees_notes(self) -> bool {
        self != Self::Candidate
    }

    fn sees_staff(self) -> bool {
        self == Self::Staff
    }
}

/// Applies to a position, without an account. The answer carries the application's secret
/// `access_token`, once. With an `Idempotency-Key`, a retry of the same request (a weak
/// connection at a bus stop) gets the same answer, token included, and applies only once.
#[utoipa::path(tag = "applications", operation_id = "createApplication",
    params(("id" = Uuid, Path, description = "The position"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]+$",
            description = "A key of your own (a UUID) that makes retries safe for 24 h: visible ASCII, 1 to 255 characters")),
    request_body = NewApplication, responses(
    (status = 201, description = "Applied: the answer holds the access token, shown once", body = Application,
        headers(("Location" = String), ("ETag" = String), ("Idempotent-Replayed" = Option<String>, description = "`true` on a replayed answer"))),
    (status = 409, description = "`duplicate_application` (one per e-mail per position), `position_not_open`, `idempotency_key_in_flight`", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid fields (`errors`), or `idempotency_key_reused` with another request", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/positions/{id}/applications")]
pub async fn create(
    state: Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<NewApplication>,
) -> ApiResult<HttpResponse> {
    let position_id = id.into_inner();
    let body = body.into_inner();
    let db = state.db.conn();
    let claim = match idempotency::Key::from_request(&req)? {
        None => None,
        Some(key) => {
            let fingerprint = idempotency::fingerprint(&(position_id, &body));
            match idempotency::begin(
                db,
                "createApplication",
                key,
                fingerprint,
                state.settings.idempotency_ttl(),
            )
            .await?
            {
                Begun::Fresh(claim) => Some(claim),
                Begun::Replay(replay) => {
                    let mut answer = replay.body.clone();
                    if replay.status == StatusCode::CREATED {
                        answer["access_token"] = auth::candidate_token(replay.secret).0.into();
                    }
                    return Ok(replay.respond(&answer));
                }
            }
        }
    };
    match apply(&state, &actor, position_id, body, claim.as_ref()).await {
        Ok(res) => Ok(res),
        Err(e) => {
            if let Some(claim) = claim {
                claim.release(db).await;
            }
            Err(e)
        }
    }
}

async fn apply(
    state: &AppState,
    actor: &Actor,
    position_id: Uuid,
    b: NewApplication,
    claim: Option<&Claim>,
) -> ApiResult<HttpResponse> {
    let tx = state.db.begin().await?;
    // Shared: concurrent applications go ahead together; closing the position waits for them.
    let position = repo::positions::find_for_share(&tx, position_id)
        .await?
        .ok_or_else(|| ApiError::not_found("position"))?;
    let tour = repo::tours::find(&tx, position.tour_id)
        .await?
        .ok_or_else(|| ApiError::not_found("position"))?;
    let status = PositionStatus::parse(&position.status).map_err(|e| ApiError::internal(e.message))?;
    // The position of a hidden tour does not exist for the public (404); any other position
    // that does not take applications (draft, filled, closed, past its day) says so (409).
    policy::may(
        actor,
        Action::Read,
        Object::Position {
            organisation_id: position.organisation_id,
            public: is_public(&tour),
        },
    )?;
    let tour_status = TourStatus::parse(&tour.status).map_err(|e| ApiError::internal(e.message))?;
    accepts_applications(tour_status, status, position.closes_at, repo::now())?;
    let target = Target::read(&tx, position, tour).await?;
    let secret = claim.map_or_else(auth::random_bytes, Claim::secret);
    let registered = register(&tx, state, &target, b, "web", secret).await?;
    let version = registered.model.version;
    let location = format!("/api/v1/applications/{}", registered.model.id);
    let mut body = registered.shown;
    if let Some(claim) = claim {
        let stored = serde_json::to_value(&body).map_err(ApiError::internal)?;
        claim
            .complete(
                &tx,
                body.id,
                StatusCode::CREATED,
                Some(location.clone()),
                Some(http::etag(version)),
                &stored,
            )
            .await?;
    }
    tx.commit().await?;
    body.access_token = Some(registered.token);
    Ok(http::created(location, &body, version))
}

/// A position a candidate applies to, with what showing the application needs: its tour, its
/// stops in itinerary order and its employer's name. Read once, before the application is
/// made, it shows the new application without reading it back.
pub struct Target {
    pub position: position::Model,
    tour: tour::Model,
    stops: Vec<stop::Model>,
    employer_name: String,
}

impl Target {
    /// `position` (of `tour`) with its stops and its employer's name: two queries.
    pub async fn read(db: &impl ConnectionTrait, position: position::Model, tour: tour::Model) -> ApiResult<Self> {
        let stops = repo::stops::of_position(db, position.id).await?;
        let employer_name = repo::organisations::names(db, &[position.organisation_id])
            .await?
            .remove(&position.organisation_id)
            .unwrap_or_default();
        Ok(Self {
            position,
            tour,
            stops,
            employer_name,
        })
    }

    /// Whether the position is offered at this stop.
    pub fn offers(&self, stop_id: Uuid) -> bool {
        self.stops.iter().any(|s| s.id == stop_id)
    }

    fn applied(&self) -> ApiResult<AppliedPosition> {
        applied(
            &self.position,
            &self.tour,
            &self.employer_name,
            self.stops.iter().cloned(),
        )
    }
}

/// A new application: the stored row, the application as the candidate sees it (without its
/// access token, which the caller adds once the transaction is committed) and that token.
pub struct Registered {
    pub model: Model,
    pub shown: Application,
    pub token: String,
}

/// Registers a candidate's application to `target` in `tx`: the fields checked, the access
/// token made from `secret`, the duplicate rule (409 `duplicate_application`), the
/// acknowledgement e-mail queued.
pub async fn register(
    tx: &DatabaseTransaction,
    state: &AppState,
    target: &Target,
    b: NewApplication,
    source: &str,
    secret: [u8; 32],
) -> ApiResult<Registered> {
    let position = &target.position;
    let stops: Vec<Uuid> = target.stops.iter().map(|s| s.id).collect();
    let fields = ApplicationFields::parse(
        ApplicationInput {
            first_name: b.first_name,
            last_name: b.last_name,
            email: b.email,
            phone: b.phone,
            message: b.message,
            preferred_stop_id: b.preferred_stop_id,
            consent: b.consent,
        },
        &stops,
    )?;
    let (token, token_hash) = auth::candidate_token(secret);
    let now = repo::now();
    let new = repo::applications::New {
        position_id: position.id,
        tour_id: position.tour_id,
        organisation_id: position.organisation_id,
        fields: &fields,
        token_hash,
        privacy_notice_version: &state.settings.privacy_notice_version,
        source,
        now,
    };
    let (model, submitted) = repo::applications::insert(tx, new)
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::Unique) => ApiError::conflict(
                "duplicate_application",
                "an application with this e-mail to this position exists already: open it with its access token",
            ),
            _ => e.into(),
        })?;
    let link = notify::mail::self_service_link(&state.settings.notify.public_url, model.id, &token);
    notify::application_received(tx, &model, &link, now).await?;
    let shown = application(model.clone(), target.applied()?, vec![submitted], Viewer::Candidate);
    Ok(Registered { model, shown, token })
}

/// The hiring pipeline: the applications to a partner's own positions (everything for
/// organisers), in the order they came. With `Accept: text/csv`, every match as a CSV for a
/// spreadsheet (`;`-separated, UTF-8 with a byte-order mark, formulas defused), streamed.
#[utoipa::path(tag = "applications", operation_id = "listApplications", params(ApplicationQuery), security(("bearer" = [])), responses(
    (status = 200, description = "One page of applications, or all of them as CSV", content(
        (Page<Application> = "application/json"),
        (String = "text/csv"),
    )),
))]
#[get("/applications")]
pub async fn list(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    query: Query<ApplicationQuery>,
) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    policy::may(&actor, Action::Read, Object::Applications)?;
    let q = query.into_inner();
    let filter = repo::applications::Filter {
        organisation_scope: policy::organisation_scope(&signed_in.0),
        position_id: q.position_id,
        tour_id: q.tour_id,
        stop_id: q.stop_id,
        status: http::query_choice("status", q.status.as_deref(), ApplicationStatus::parse)?,
    };
    let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref())?;
    if wants_csv(&req) {
        return Ok(csv(state.into_inner(), filter));
    }
    let db = state.db.conn();
    let rows = repo::applications::list(db, &filter, &page).await?;
    let page = http::page_of(rows, page.limit, |m| m.id, |m| m);
    Ok(HttpResponse::Ok().json(Page {
        items: render(db, page.items, Viewer::Staff).await?,
        next_cursor: page.next_cursor,
    }))
}

/// One application: for its candidate (with the access token), for the employer's staff and
/// for organisers. Another application's id with a candidate's token is a 404.
#[utoipa::path(tag = "applications", operation_id = "getApplication", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("candidate" = [])), responses(
    (status = 200, description = "The application", body = Application, headers(("ETag" = String))),
))]
#[get("/applications/{id}")]
pub async fn get(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let db = state.db.conn();
    // An erased application is gone (DELETE answered 204); its anonymous remains only count in
    // the campaign figures.
    let model = repo::applications::find(db, id.into_inner())
        .await?
        .filter(|m| m.erased_at.is_none())
        .ok_or_else(|| ApiError::not_found("application"))?;
    policy::may(&actor, Action::Read, object(&model))?;
    let version = model.version;
    let body = render_one(db, model, Viewer::of(&actor)).await?;
    Ok(http::ok_with_etag(&body, version))
}

/// Moves an application along the pipeline (the employer's staff and organisers). Hiring the
/// last opening fills the position in the same transaction; of two hires for the last opening,
/// one wins and the other is refused (409 `position_filled`). Honours `If-Match`.
#[utoipa::path(tag = "applications", operation_id = "updateApplication", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = ApplicationPatch, security(("bearer" = [])), responses(
    (status = 200, description = "The moved application", body = Application, headers(("ETag" = String))),
    (status = 409, description = "`invalid_transition` (with `allowed`), `position_filled`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[patch("/applications/{id}")]
pub async fn update(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<ApplicationPatch>,
) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    let b = body.into_inner();
    let to = ApplicationStatus::parse(&b.status).map_err(|e| DomainError::field("status", e))?;
    let note = b
        .note
        .as_deref()
        .map(Note::parse)
        .transpose()
        .map_err(|e| DomainError::field("note", e))?
        .map(Note::into_inner)
        .filter(|n| !n.is_empty());
    let id = id.into_inner();
    let (body, version) = state
        .db
        .transaction(async |tx| {
            let current = locked(tx, &actor, Action::Update, id).await?;
            let to = stored_status(&current)?.transition(to, Mover::Staff)?;
            http::check_if_match(&req, current.version)?;
            let model = move_to(tx, current, to, By::Staff(signed_in.0.user_id), note.clone()).await?;
            let version = model.version;
            Ok((render_one(tx, model, Viewer::Staff).await?, version))
        })
        .await?;
    Ok(http::ok_with_etag(&body, version))
}

/// Takes the application back (the candidate, with its token). Withdrawing twice is a no-op;
/// a hired or rejected application can no longer be withdrawn (409).
#[utoipa::path(tag = "applications", operation_id = "withdrawApplication", params(("id" = Uuid, Path)),
    security(("candidate" = [])), responses(
    (status = 200, description = "The withdrawn application", body = Application, headers(("ETag" = String))),
    (status = 409, description = "`invalid_transition`: hired or rejected already", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/applications/{id}/withdraw")]
pub async fn withdraw(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (body, version) = state
        .db
        .transaction(async |tx| {
            let current = locked(tx, &actor, Action::Withdraw, id).await?;
            let to = stored_status(&current)?.transition(ApplicationStatus::Withdrawn, Mover::Candidate)?;
            let model = move_to(tx, current, to, By::Candidate, None).await?;
            let version = model.version;
            Ok((render_one(tx, model, Viewer::Candidate).await?, version))
        })
        .await?;
    Ok(http::ok_with_etag(&body, version))
}

/// Everything held about the candidate (GDPR Art. 15 and 20), as a JSON download: every
/// application made with its e-mail, with their history (the staff's notes included), consent,
/// interview bookings and waiting places, arrivals at the bus, and the messages sent to it. With
/// the candidate's token, or for an organiser.
#[utoipa::path(tag = "applications", operation_id = "exportApplication", params(("id" = Uuid, Path)),
    security(("candidate" = []), ("bearer" = [])), responses(
    (status = 200, description = "The candidate's data", body = CandidateExport,
        headers(("Content-Disposition" = String, description = "`attachment`: a file to keep"))),
))]
#[get("/applications/{id}/export")]
pub async fn export(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let db = state.db.conn();
    let application = repo::applications::find(db, id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("application"))?;
    policy::may(&actor, Action::Export, object(&application))?;
    let email = application.email.clone();
    let models = match &email {
        Some(email) => repo::applications::with_email(db, email).await?,
        None => vec![application],
    };
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let consents: Vec<Consent> = models
        .iter()
        .map(|m| Consent {
            application_id: m.id,
            given_at: m.consent_at,
            privacy_notice_version: m.privacy_notice_version.clone(),
        })
        .collect();
    let bookings = repo::slots::all_bookings(db, &ids)
        .await?
        .into_iter()
        .map(|b| BookingRecord {
            application_id: b.application_id,
            slot_id: b.slot_id,
            slot_starts_at: b.slot_starts_at,
            status: b.status,
            booked_at: b.created_at,
            cancelled_at: b.cancelled_at,
            cancel_reason: b.cancel_reason,
        })
        .collect();
    let notifications = repo::outbox::of_applications(db, &ids)
        .await?
        .into_iter()
        .map(Notification::from)
        .collect();
    let checkins = repo::checkins::of_applications(db, &ids)
        .await?
        .into_iter()
        .map(|c| CheckinRecord {
            application_id: c.application_id,
            stop_id: c.stop_id,
            scanned_at: c.scanned_at,
            walk_in: c.walk_in,
        })
        .collect();
    let body = CandidateExport {
        exported_at: repo::now(),
        email,
        applications: render(db, models, Viewer::Export).await?,
        consents,
        bookings,
        checkins,
        notifications,
    };
    let id = ids.first().copied().unwrap_or_default();
    Ok(http::json_download(&format!("jobtour-{id}.json"), &body))
}

/// Erases the candidate's personal data (GDPR Art. 17), with its token or by an organiser:
/// every application made with its e-mail loses names, e-mail, phone, message and token, its
/// notes, idempotency records and queued messages; its interview seat goes to the first in line.
/// Anonymous rows stay (status, position, stop, dates), so that the campaign's figures stay
/// right. The token no longer works.
#[utoipa::path(tag = "applications", operation_id = "eraseApplication", params(("id" = Uuid, Path)),
    security(("candidate" = []), ("bearer" = [])), responses((status = 204, description = "Erased")))]
#[delete("/applications/{id}")]
pub async fn erase(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    state
        .db
        .transaction(async |tx| {
            locked(tx, &actor, Action::Delete, id).await?;
            privacy::erase_person(tx, id, repo::now()).await
        })
        .await?;
    privacy::scrub(&state.db).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Everything held about a candidate.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateExport {
    pub exported_at: DateTime<Utc>,
    /// The e-mail the applications were made with (none once erased).
    pub email: Option<String>,
    pub applications: Vec<Application>,
    /// Each consent to the privacy notice, with its version.
    pub consents: Vec<Consent>,
    /// Every interview booking, cancelled ones too.
    pub bookings: Vec<BookingRecord>,
    /// Every arrival at the bus.
    pub checkins: Vec<CheckinRecord>,
    /// The e-mails sent, or to send, to the candidate about the applications, without their
    /// content once sent (the calls to the employer's webhooks carry no personal data and are
    /// not listed).
    pub notifications: Vec<Notification>,
}

/// A consent to the privacy notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct Consent {
    pub application_id: Uuid,
    pub given_at: DateTime<Utc>,
    pub privacy_notice_version: String,
}

/// An interview booking, as kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingRecord {
    pub application_id: Uuid,
    /// `null` once the slot was deleted.
    pub slot_id: Option<Uuid>,
    pub slot_starts_at: DateTime<Utc>,
    /// `active` or `cancelled`.
    pub status: String,
    pub booked_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// `candidate`, `moved`, `withdrawn`, `rejected`, `erased` or `slot_deleted`.
    pub cancel_reason: Option<String>,
}

impl From<crate::entities::outbox::Model> for Notification {
    fn from(m: crate::entities::outbox::Model) -> Self {
        Self {
            application_id: m.application_id,
            channel: m.kind,
            event: m.event_type,
            summary: m.summary,
            status: m.status,
            created_at: m.created_at,
            delivered_at: m.delivered_at,
        }
    }
}

/// An arrival at the bus, as kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinRecord {
    pub application_id: Uuid,
    pub stop_id: Uuid,
    pub scanned_at: DateTime<Utc>,
    /// Registered at the bus without having applied before.
    pub walk_in: bool,
}

/// A message sent, or to send, about an application.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    pub application_id: Option<Uuid>,
    /// `email` or `webhook`.
    pub channel: String,
    pub event: String,
    pub summary: String,
    /// `pending`, `sending`, `delivered`, `failed` or `cancelled`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The application, locked, after checking the caller may `action` it.
async fn locked(tx: &DatabaseTransaction, actor: &Actor, action: Action, id: Uuid) -> ApiResult<Model> {
    let current = repo::applications::find_for_update(tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("application"))?;
    policy::may(actor, action, object(&current))?;
    Ok(current)
}

/// Moves the application to `to` (already checked against the workflow), with what comes
/// with it in the same transaction: a hire counts on its position (the last one fills it) and
/// takes the candidate out of any waiting line; a withdrawn or rejected application gives its
/// interview seat to the first in line and leaves the line it waited in. Staying put changes
/// nothing.
async fn move_to(
    tx: &DatabaseTransaction,
    current: Model,
    to: ApplicationStatus,
    by: By,
    note: Option<String>,
) -> ApiResult<Model> {
    let from = stored_status(&current)?;
    if to == from {
        return Ok(current);
    }
    match to {
        ApplicationStatus::Hired => {
            hire(tx, current.position_id).await?;
            seats::leave_lines(tx, current.id).await?;
        }
        ApplicationStatus::Withdrawn => {
            seats::release_all(tx, current.id, seats::Reason::Withdrawn, repo::now()).await?
        }
        ApplicationStatus::Rejected => seats::release_all(tx, current.id, seats::Reason::Rejected, repo::now()).await?,
        _ => {}
    }
    let model = repo::applications::set_status(tx, &current, to)
        .await?
        .ok_or_else(ApiError::precondition_failed)?;
    repo::applications::add_event(tx, model.id, (Some(from), to), by, note, model.updated_at).await?;
    notify::status_changed(tx, &model, from, to, model.updated_at).await?;
    Ok(model)
}

/// One more hire for the position, under its row lock: refused once every opening is filled
/// (409 `position_filled`); the last one fills it. The database refuses more hires than
/// openings too (CHECK).
pub async fn hire(tx: &impl ConnectionTrait, position_id: Uuid) -> ApiResult<()> {
    let position = repo::positions::find_for_update(tx, position_id)
        .await?
        .ok_or_else(|| ApiError::internal("an application's position is gone"))?;
    let staffing = Staffing::stored(position.openings, position.filled)
        .ok_or_else(|| ApiError::internal("stored staffing breaks the rules"))?
        .hire()?;
    let status = PositionStatus::parse(&position.status)
        .map_err(|e| ApiError::internal(e.message))?
        .settle(staffing);
    if !repo::positions::set_staffing(tx, &position, staffing, status).await? {
        return Err(ApiError::internal("a locked position changed"));
    }
    if status == PositionStatus::Filled && position.status != status.as_str() {
        let filled = position::Model {
            filled: staffing.filled(),
            status: status.as_str().to_owned(),
            ..position
        };
        notify::position_filled(tx, &filled, repo::now()).await?;
    }
    Ok(())
}

fn stored_status(m: &Model) -> ApiResult<ApplicationStatus> {
    ApplicationStatus::parse(&m.status).map_err(|e| ApiError::internal(e.message))
}

fn object(m: &Model) -> Object {
    Object::Application {
        id: m.id,
        organisation_id: m.organisation_id,
    }
}

/// Applications as the API shows them, with their position (title, employer, stops) and
/// history: a fixed number of queries for a whole page.
async fn render(db: &impl ConnectionTrait, models: Vec<Model>, viewer: Viewer) -> ApiResult<Vec<Application>> {
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let position_ids: Vec<Uuid> = unique(models.iter().map(|m| m.position_id));
    let positions = repo::positions::find_many(db, &position_ids).await?;
    let stops_by_position = repo::positions::stops_of(db, &position_ids).await?;
    let stop_ids: Vec<Uuid> = unique(stops_by_position.values().flatten().copied());
    let stops = repo::stops::find_many(db, &stop_ids).await?;
    let tours = repo::tours::find_many(db, &unique(positions.values().map(|p| p.tour_id))).await?;
    let names = repo::organisations::names(db, &unique(positions.values().map(|p| p.organisation_id))).await?;
    let mut histories = repo::applications::histories(db, &ids).await?;
    let mut bookings = repo::slots::active_bookings(db, &ids).await?;
    let mut places = repo::slots::places(db, &ids).await?;
    let booked_slots = repo::slots::find_many(db, &unique(bookings.values().filter_map(|b| b.slot_id))).await?;
    models
        .into_iter()
        .map(|m| {
            let position = positions
                .get(&m.position_id)
                .ok_or_else(|| ApiError::internal("an application's position is gone"))?;
            let applied = applied_position(position, &stops_by_position, &stops, &tours, &names)?;
            let tz = tour_zone(
                tours
                    .get(&m.tour_id)
                    .ok_or_else(|| ApiError::internal("a position's tour is gone"))?,
            )?;
            let booking = bookings
                .remove(&m.id)
                .and_then(|b| Some(Booking::new(&b, booked_slots.get(&b.slot_id?)?, tz)));
            let waiting = places.remove(&m.id).map(|(slot_id, position)| WaitingPlace {
                slot_id,
                application_id: m.id,
                position,
            });
            let history = histories.remove(&m.id).unwrap_or_default();
            let mut a = application(m, applied, history, viewer);
            a.booking = booking;
            a.waiting = waiting;
            Ok(a)
        })
        .collect()
}

pub(crate) async fn render_one(db: &impl ConnectionTrait, model: Model, viewer: Viewer) -> ApiResult<Application> {
    render(db, vec![model], viewer)
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("a rendered application went missing"))
}

fn applied_position(
    p: &position::Model,
    stops_by_position: &HashMap<Uuid, Vec<Uuid>>,
    stops: &HashMap<Uuid, stop::Model>,
    tours: &HashMap<Uuid, tour::Model>,
    names: &HashMap<Uuid, String>,
) -> ApiResult<AppliedPosition> {
    let tour = tours
        .get(&p.tour_id)
        .ok_or_else(|| ApiError::internal("a position's tour is gone"))?;
    let name = names.get(&p.organisation_id).map_or("", String::as_str);
    let at = stops_by_position.get(&p.id).into_iter().flatten();
    applied(p, tour, name, at.filter_map(|id| stops.get(id).cloned()))
}

/// The position `p` (of `tour`) as an application shows it, with its `stops` in itinerary order.
fn applied(
    p: &position::Model,
    tour: &tour::Model,
    employer_name: &str,
    stops: impl Iterator<Item = stop::Model>,
) -> ApiResult<AppliedPosition> {
    let tz = tour_zone(tour)?;
    Ok(AppliedPosition {
        id: p.id,
        title: p.title.clone(),
        organisation_id: p.organisation_id,
        employer_name: employer_name.to_owned(),
        tour_id: p.tour_id,
        status: p.status.clone(),
        stops: stops.map(|s| Stop::in_zone(s, tz)).collect(),
    })
}

fn application(
    m: Model,
    position: AppliedPosition,
    history: Vec<application_event::Model>,
    viewer: Viewer,
) -> Application {
    let next_statuses = ApplicationStatus::parse(&m.status)
        .map(|s| s.next(viewer.mover()).iter().map(|n| n.as_str().to_owned()).collect())
        .unwrap_or_default();
    let (notes, staff) = (viewer.sees_notes(), viewer.sees_staff());
    Application {
        id: m.id,
        position,
        first_name: m.first_name,
        last_name: m.last_name,
        email: m.email,
        phone: m.phone,
        message: m.message,
        preferred_stop_id: m.preferred_stop_id,
        consent_at: m.consent_at,
        privacy_notice_version: m.privacy_notice_version,
        status: m.status,
        source: m.source,
        next_statuses,
        history: history
            .into_iter()
            .map(|e| StatusChange {
                from: e.from_status,
                to: e.to_status,
                by: e.by_kind,
                by_user_id: e.by_user_id.filter(|_| staff),
                note: e.note.filter(|_| notes),
                at: e.created_at,
            })
            .collect(),
        created_at: m.created_at,
        updated_at: m.updated_at,
        booking: None,
        waiting: None,
        access_token: None,
    }
}

fn unique(ids: impl Iterator<Item = Uuid>) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    ids.filter(|id| seen.insert(*id)).collect()
}

/// Whether the caller prefers CSV to JSON (`Accept`, q-values honoured).
fn wants_csv(req: &HttpRequest) -> bool {
    http::prefers(
        req,
        |m| m.type_() == mime::TEXT && m.subtype() == mime::CSV,
        |m| m.subtype() == mime::JSON,
    )
}

const CSV_COLUMNS: &[&str] = &[
    "id",
    "created_at",
    "status",
    "position_id",
    "position_title",
    "preferred_stop",
    "first_name",
    "last_name",
    "email",
    "phone",
    "message",
    "source",
    "updated_at",
];

/// Rows fetched per round trip while streaming a CSV.
const CSV_BATCH: u64 = 500;

/// Every application matching `filter` as CSV, fetched and sent a batch at a time (keyset
/// pages: each row once, memory bounded whatever the count).
fn csv(state: std::sync::Arc<AppState>, filter: repo::applications::Filter) -> HttpResponse {
    struct Cursor {
        state: std::sync::Arc<AppState>,
        filter: repo::applications::Filter,
        sheet: Sheet,
        after: Option<Uuid>,
        done: bool,
    }
    let start = Cursor {
        state,
        filter,
        sheet: Sheet::with_header(CSV_COLUMNS),
        after: None,
        done: false,
    };
    let body = futures_util::stream::unfold(start, |mut c| async move {
        if c.done {
            return None;
        }
        match csv_batch(&mut c.sheet, &c.state, &c.filter, c.after).await {
            Ok(last) => {
                c.done = last.is_none();
                c.after = last;
                Some((Ok::<_, actix_web::Error>(Bytes::from(c.sheet.take())), c))
            }
            Err(e) => {
                tracing::error!(error = %e, "the CSV export stopped");
                c.done = true;
                Some((Err(e.into()), c))
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"applications.csv\""))
        .streaming(body)
}

/// Writes one batch of rows; the last id written when more may follow.
async fn csv_batch(
    sheet: &mut Sheet,
    state: &AppState,
    filter: &repo::applications::Filter,
    after: Option<Uuid>,
) -> ApiResult<Option<Uuid>> {
    let db = state.db.conn();
    let page = PageRequest {
        limit: CSV_BATCH,
        after,
    };
    let mut rows = repo::applications::list(db, filter, &page).await?;
    let more = rows.len() as u64 > CSV_BATCH;
    rows.truncate(CSV_BATCH as usize);
    let positions = repo::positions::find_many(db, &unique(rows.iter().map(|r| r.position_id))).await?;
    let stops = repo::stops::find_many(db, &unique(rows.iter().filter_map(|r| r.preferred_stop_id))).await?;
    for r in &rows {
        let title = positions
            .get(&r.position_id)
            .map(|p| p.title.as_str())
            .unwrap_or_default();
        let stop = r
            .preferred_stop_id
            .and_then(|id| stops.get(&id))
            .map(|s| s.city.as_str())
            .unwrap_or_default();
        let (id, position_id) = (r.id.to_string(), r.position_id.to_string());
        let (created, updated) = (r.created_at.to_rfc3339(), r.updated_at.to_rfc3339());
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let (first, last, email, phone, message) = (
            text(&r.first_name),
            text(&r.last_name),
            text(&r.email),
            text(&r.phone),
            text(&r.message),
        );
        sheet.row([
            id.as_str(),
            created.as_str(),
            r.status.as_str(),
            position_id.as_str(),
            title,
            stop,
            first.as_str(),
            last.as_str(),
            email.as_str(),
            phone.as_str(),
            message.as_str(),
            r.source.as_str(),
            updated.as_str(),
        ]);
    }
    Ok(if more { rows.last().map(|r| r.id) } else { None })
}
