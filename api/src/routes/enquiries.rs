//! The development agency's enquiry form: a company writes (`POST /enquiries`, anonymous) and
//! gets a secret access token, shown once, that reads, exports and erases that one enquiry;
//! organisers list, assign and move enquiries along `new → in_progress → answered → closed`,
//! and count them by subject and month.

use crate::auth::{self, Actor, SignedIn};
use crate::entities::{enquiry::Model, enquiry_event};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, Page, PageRequest};
use crate::notify;
use crate::openapi::{string_enum, text};
use crate::policy::{self, Action, Object};
use crate::privacy;
use crate::repo;
use crate::state::AppState;
use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use jobtour_domain::DomainError;
use jobtour_domain::enquiry::{EnquiryFields, EnquiryInput, EnquiryStatus, EnquirySubject};
use jobtour_domain::user::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

fn subject_schema() -> utoipa::openapi::Object {
    string_enum(&EnquirySubject::ALL.map(EnquirySubject::as_str))
}

fn status_schema() -> utoipa::openapi::Object {
    string_enum(&EnquiryStatus::ALL.map(EnquiryStatus::as_str))
}

/// A company's enquiry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Claire Martin", "email": "claire.martin@example.org", "company": "Martin Relation Client SAS",
    "phone": "03 87 12 34 56", "subject": "setting_up",
    "message": "Nous envisageons un centre de 50 postes à Metz.", "consent": true
}))]
pub struct NewEnquiry {
    #[schema(schema_with = text::person_name)]
    pub name: String,
    #[schema(schema_with = text::email)]
    pub email: String,
    #[schema(schema_with = text::name)]
    pub company: String,
    /// A French number or an international one; stored as E.164.
    #[schema(value_type = Option<String>, max_length = 32, pattern = r"^\s*(\+|00)?[0-9][0-9 .()\u00a0-]*$")]
    pub phone: Option<String>,
    #[schema(schema_with = subject_schema)]
    pub subject: String,
    /// Up to 5 000 characters.
    #[schema(max_length = 5000)]
    pub message: String,
    #[schema(schema_with = crate::routes::applications::consent_schema)]
    pub consent: bool,
}

/// One step of an enquiry's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnquiryChange {
    /// `null` when it arrived.
    pub from: Option<String>,
    #[schema(schema_with = status_schema)]
    pub to: String,
    /// Who it was with from then on (not shown to the enquirer).
    pub assignee_id: Option<Uuid>,
    /// The organiser who moved it (not shown to the enquirer).
    pub by_user_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// An enquiry, as organisers and its enquirer see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enquiry {
    pub id: Uuid,
    pub name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    #[schema(schema_with = subject_schema)]
    pub subject: String,
    pub message: Option<String>,
    pub consent_at: DateTime<Utc>,
    pub privacy_notice_version: String,
    #[schema(schema_with = status_schema)]
    pub status: String,
    /// The organiser in charge (not shown to the enquirer).
    pub assignee_id: Option<Uuid>,
    /// Where an organiser may move it next.
    pub next_statuses: Vec<String>,
    pub history: Vec<EnquiryChange>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Only in the answer to `POST /enquiries`, once: the key to this enquiry
    /// (`Authorization: Bearer <access_token>`), stored only as a hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

/// Assigning and moving an enquiry: absent fields stay as they are; `assignee_id: null`
/// unassigns.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "status": "in_progress", "assignee_id": "019a6b2e-6666-7e21-9a3f-2b8c4d5e6f70" }))]
pub struct EnquiryPatch {
    /// One step along `new → in_progress → answered → closed`.
    #[schema(schema_with = status_schema, required = false)]
    pub status: Option<String>,
    /// An organiser.
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Option<Uuid>, required = false)]
    pub assignee_id: Option<Option<Uuid>>,
}

/// Filters and paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EnquiryQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
    #[param(schema_with = subject_schema)]
    pub subject: Option<String>,
    pub assignee_id: Option<Uuid>,
}

/// The period counted.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// First day counted (UTC); default: the first day of the month a year before `to`.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Last day counted (UTC), included; default today.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
}

/// Enquiries of one subject in one month.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthCount {
    /// `YYYY-MM` (UTC).
    #[schema(example = "2026-11")]
    pub month: String,
    #[schema(schema_with = subject_schema)]
    pub subject: String,
    pub count: i64,
}

/// How many enquiries arrived, by subject and month (erased ones count, anonymously).
#[derive(Debug, Serialize, ToSchema)]
pub struct EnquiryStats {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub total: i64,
    /// Every subject, with 0 for those without an enquiry.
    #[schema(example = json!({ "setting_up": 4, "developing": 2, "recruiting": 7, "partnership": 1, "other": 0 }))]
    pub by_subject: BTreeMap<String, i64>,
    /// Month by month, subject by subject; only the pairs with enquiries.
    pub by_month: Vec<MonthCount>,
}

/// What is held about an enquirer.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnquiryExport {
    pub exported_at: DateTime<Utc>,
    pub enquiry: Enquiry,
    /// The e-mails sent, or to send, about it, without their content once sent.
    pub notifications: Vec<crate::routes::applications::Notification>,
}

/// Writes to the development agency (anyone, no account): setting up, developing, recruiting,
/// a partnership. The answer carries the enquiry's secret `access_token`, once; an
/// acknowledgement e-mail carries a link with it. Limited per client address like a
/// candidate's writes.
#[utoipa::path(tag = "enquiries", operation_id = "createEnquiry", request_body = NewEnquiry, responses(
    (status = 201, description = "Received: the answer holds the access token, shown once", body = Enquiry,
        headers(("Location" = String), ("ETag" = String))),
))]
#[post("/enquiries")]
pub async fn create(state: Data<AppState>, actor: Actor, body: Json<NewEnquiry>) -> ApiResult<HttpResponse> {
    policy::may(&actor, Action::Create, Object::Enquiries)?;
    let b = body.into_inner();
    let fields = EnquiryFields::parse(EnquiryInput {
        name: b.name,
        email: b.email,
        company: b.company,
        phone: b.phone,
        subject: b.subject,
        message: b.message,
        consent: b.consent,
    })?;
    let (token, token_hash) = auth::enquirer_token();
    let now = repo::now();
    let tx = state.db.begin().await?;
    let model = repo::enquiries::insert(&tx, &fields, token_hash, &state.settings.privacy_notice_version, now).await?;
    let link = notify::mail::enquiry_link(&state.settings.notify.public_url, model.id, &token);
    notify::enquiry_received(&tx, &model, &link, now).await?;
    let version = model.version;
    let mut body = render(&tx, model, true).await?;
    tx.commit().await?;
    body.access_token = Some(token);
    Ok(http::created(format!("/api/v1/enquiries/{}", body.id), &body, version))
}

/// The enquiries (organisers), in the order they came; filters `status`, `subject`,
/// `assignee_id`.
#[utoipa::path(tag = "enquiries", operation_id = "listEnquiries", params(EnquiryQuery), security(("bearer" = [])), responses(
    (status = 200, description = "One page of enquiries", body = Page<Enquiry>),
))]
#[get("/enquiries")]
pub async fn list(signed_in: SignedIn, state: Data<AppState>, query: Query<EnquiryQuery>) -> ApiResult<HttpResponse> {
    policy::may(&signed_in.actor(), Action::Read, Object::Enquiries)?;
    let q = query.into_inner();
    let filter = repo::enquiries::Filter {
        status: http::query_choice("status", q.status.as_deref(), EnquiryStatus::parse)?,
        subject: http::query_choice("subject", q.subject.as_deref(), EnquirySubject::parse)?
            .map(|s| s.as_str().to_owned()),
        assignee_id: q.assignee_id,
    };
    let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref())?;
    let db = state.db.conn();
    let rows = repo::enquiries::list(db, &filter, &page).await?;
    let page = http::page_of(rows, page.limit, |m| m.id, |m| m);
    Ok(HttpResponse::Ok().json(Page {
        items: render_all(db, page.items, true).await?,
        next_cursor: page.next_cursor,
    }))
}

/// How many enquiries arrived between `from` and `to` (organisers), by subject and by month:
/// the form's stated use, "managing enquiries and statistics".
#[utoipa::path(tag = "enquiries", operation_id = "getEnquiryStats", params(StatsQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The counts", body = EnquiryStats),
    (status = 422, description = "`to` before `from`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/enquiries/stats")]
pub async fn stats(
    signed_in: SignedIn,
    state: Data<AppState>,
    query: Query<StatsQuery>,
) -> ApiResult<Json<EnquiryStats>> {
    policy::may(&signed_in.actor(), Action::Read, Object::Enquiries)?;
    let to = query.to.unwrap_or_else(|| Utc::now().date_naive());
    let from = match query.from {
        Some(from) => from,
        None => (to - Months::new(12)).with_day(1).unwrap_or(to),
    };
    if from > to {
        return Err(ApiError::invalid_field("to", "before_start", "must not precede from"));
    }
    let start = from.and_time(chrono::NaiveTime::MIN).and_utc();
    let end = (to + chrono::Days::new(1)).and_time(chrono::NaiveTime::MIN).and_utc();
    let arrivals = repo::enquiries::arrivals(state.db.conn(), start, end).await?;
    let mut by_subject: BTreeMap<String, i64> =
        EnquirySubject::ALL.iter().map(|s| (s.as_str().to_owned(), 0)).collect();
    let mut by_month: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (subject, at) in &arrivals {
        *by_subject.entry(subject.clone()).or_default() += 1;
        *by_month
            .entry((at.format("%Y-%m").to_string(), subject.clone()))
            .or_default() += 1;
    }
    Ok(Json(EnquiryStats {
        from,
        to,
        total: arrivals.len() as i64,
        by_subject,
        by_month: by_month
            .into_iter()
            .map(|((month, subject), count)| MonthCount { month, subject, count })
            .collect(),
    }))
}

/// One enquiry: for organisers, and for its enquirer with the access token (without who
/// handles it).
#[utoipa::path(tag = "enquiries", operation_id = "getEnquiry", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("enquirer" = [])), responses(
    (status = 200, description = "The enquiry", body = Enquiry, headers(("ETag" = String))),
))]
#[get("/enquiries/{id}")]
pub async fn get(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let db = state.db.conn();
    let model = readable(db, &actor, Action::Read, id.into_inner()).await?;
    let version = model.version;
    let body = render(db, model, staff_view(&actor)).await?;
    Ok(http::ok_with_etag(&body, version))
}

/// Assigns an enquiry to an organiser and moves it along `new → in_progress → answered →
/// closed` (organisers), with a history. The new assignee is told by e-mail. Honours
/// `If-Match`.
#[utoipa::path(tag = "enquiries", operation_id = "updateEnquiry",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = EnquiryPatch, security(("bearer" = [])), responses(
    (status = 200, description = "The enquiry", body = Enquiry, headers(("ETag" = String))),
    (status = 409, description = "`invalid_transition` (with `allowed`)", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, description = "`assignee_id` not an organiser (`not_an_organiser`)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[patch("/enquiries/{id}")]
pub async fn update(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<EnquiryPatch>,
) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    let id = id.into_inner();
    policy::may(&actor, Action::Update, Object::Enquiry { id })?;
    let b = body.into_inner();
    let to = b
        .status
        .as_deref()
        .map(EnquiryStatus::parse)
        .transpose()
        .map_err(|e| DomainError::field("status", e))?;
    let (body, version) = state
        .db
        .transaction(async |tx| {
            let current = repo::enquiries::find_for_update(tx, id)
                .await?
                .filter(|m| m.erased_at.is_none())
                .ok_or_else(|| ApiError::not_found("enquiry"))?;
            let from = EnquiryStatus::parse(&current.status).map_err(|e| ApiError::internal(e.message))?;
            let status = match to {
                Some(to) => from.transition(to)?,
                None => from,
            };
            let assignee = b.assignee_id.unwrap_or(current.assignee_id);
            let assignee_email = match assignee {
                Some(user) if Some(user) != current.assignee_id => Some(organiser_email(tx, user).await?),
                _ => None,
            };
            http::check_if_match(&req, current.version)?;
            if status == from && assignee == current.assignee_id {
                let version = current.version;
                return Ok((render(tx, current, true).await?, version));
            }
            let now = repo::now();
            let model = repo::enquiries::update(tx, &current, status, assignee, now)
                .await?
                .ok_or_else(ApiError::precondition_failed)?;
            repo::enquiries::add_event(tx, &model, Some(from.as_str()), Some(signed_in.0.user_id), now).await?;
            if let Some(to) = assignee_email {
                notify::enquiry_assigned(tx, &model, &to, now).await?;
            }
            let version = model.version;
            Ok((render(tx, model, true).await?, version))
        })
        .await?;
    Ok(http::ok_with_etag(&body, version))
}

/// Everything held about the enquirer (GDPR Art. 15 and 20), as a JSON download: the enquiry,
/// its history, and the e-mails about it. With its token, or for an organiser.
#[utoipa::path(tag = "enquiries", operation_id = "exportEnquiry", params(("id" = Uuid, Path)),
    security(("enquirer" = []), ("bearer" = [])), responses(
    (status = 200, description = "The enquirer's data", body = EnquiryExport,
        headers(("Content-Disposition" = String, description = "`attachment`: a file to keep"))),
))]
#[get("/enquiries/{id}/export")]
pub async fn export(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let db = state.db.conn();
    let model = readable(db, &actor, Action::Export, id.into_inner()).await?;
    let notifications = repo::outbox::of_enquiry(db, model.id)
        .await?
        .into_iter()
        .map(crate::routes::applications::Notification::from)
        .collect();
    let id = model.id;
    let body = EnquiryExport {
        exported_at: repo::now(),
        enquiry: render(db, model, true).await?,
        notifications,
    };
    Ok(http::json_download(&format!("jobtour-enquiry-{id}.json"), &body))
}

/// Erases the enquirer's personal data (GDPR Art. 17), with its token or by an organiser:
/// name, e-mail, company, phone, message, the token and the e-mails about it. An anonymous row
/// (subject, status, dates) stays for the statistics; the enquiry answers 404 afterwards.
#[utoipa::path(tag = "enquiries", operation_id = "eraseEnquiry", params(("id" = Uuid, Path)),
    security(("enquirer" = []), ("bearer" = [])), responses((status = 204, description = "Erased")))]
#[delete("/enquiries/{id}")]
pub async fn erase(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    state
        .db
        .transaction(async |tx| {
            // Who may is decided by the id alone: asked before the row is looked for.
            policy::may(&actor, Action::Delete, Object::Enquiry { id })?;
            repo::enquiries::find_for_update(tx, id)
                .await?
                .filter(|m| m.erased_at.is_none())
                .ok_or_else(|| ApiError::not_found("enquiry"))?;
            privacy::erase_enquiry(tx, id, repo::now()).await
        })
        .await?;
    privacy::scrub(&state.db).await;
    Ok(HttpResponse::NoContent().finish())
}

/// The enquiry, if it holds data still and the caller may `action` it.
async fn readable(db: &impl sea_orm::ConnectionTrait, actor: &Actor, action: Action, id: Uuid) -> ApiResult<Model> {
    policy::may(actor, action, Object::Enquiry { id })?;
    repo::enquiries::find(db, id)
        .await?
        .filter(|m| m.erased_at.is_none())
        .ok_or_else(|| ApiError::not_found("enquiry"))
}

fn staff_view(actor: &Actor) -> bool {
    matches!(actor, Actor::Staff(_))
}

/// The e-mail of the organiser `user`; 422 on `assignee_id` for anyone else.
async fn organiser_email(db: &impl sea_orm::ConnectionTrait, user: Uuid) -> ApiResult<String> {
    repo::users::find(db, user)
        .await?
        .filter(|u| u.role == Role::Organiser.as_str())
        .map(|u| u.email)
        .ok_or_else(|| ApiError::invalid_field("assignee_id", "not_an_organiser", "must be an organiser's user id"))
}

async fn render(db: &impl sea_orm::ConnectionTrait, m: Model, staff: bool) -> ApiResult<Enquiry> {
    render_all(db, vec![m], staff)
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("a rendered enquiry went missing"))
}

/// Enquiries as the API shows them, with their histories: two queries for a whole page.
async fn render_all(db: &impl sea_orm::ConnectionTrait, models: Vec<Model>, staff: bool) -> ApiResult<Vec<Enquiry>> {
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let mut histories = repo::enquiries::histories(db, &ids).await?;
    Ok(models
        .into_iter()
        .map(|m| {
            let history = histories.remove(&m.id).unwrap_or_default();
            enquiry(m, history, staff)
        })
        .collect())
}

fn enquiry(m: Model, history: Vec<enquiry_event::Model>, staff: bool) -> Enquiry {
    let next_statuses = EnquiryStatus::parse(&m.status)
        .map(|s| s.next().iter().map(|n| n.as_str().to_owned()).collect())
        .unwrap_or_default();
    Enquiry {
        id: m.id,
        name: m.name,
        email: m.email,
        company: m.company,
        phone: m.phone,
        subject: m.subject,
        message: m.message,
        consent_at: m.consent_at,
        privacy_notice_version: m.privacy_notice_version,
        status: m.status,
        assignee_id: m.assignee_id.filter(|_| staff),
        next_statuses,
        history: history
            .into_iter()
            .map(|e| EnquiryChange {
                from: e.from_status,
                to: e.to_status,
                assignee_id: e.assignee_id.filter(|_| staff),
                by_user_id: e.by_user_id.filter(|_| staff),
                at: e.created_at,
            })
            .collect(),
        created_at: m.created_at,
        updated_at: m.updated_at,
        closed_at: m.closed_at,
        access_token: None,
    }
}
