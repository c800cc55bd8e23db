//! Partners' webhooks: `POST/GET /organisations/{id}/webhooks`, `DELETE /webhooks/{id}`,
//! `GET /webhooks/{id}/deliveries`. The signing secret is shown once, at creation.

use crate::auth::{self, SignedIn};
use crate::entities::{outbox, webhook::Model, webhook_delivery};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, Page, PageRequest};
use crate::notify::courier::WEBHOOK_TIMEOUT;
use crate::openapi::string_enum;
use crate::policy::{self, Action, Object};
use crate::repo::{self, webhooks};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpResponse, delete, get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jobtour_domain::DomainError;
use jobtour_domain::webhook::{self, EventType, WebhookFields};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

fn events_schema() -> utoipa::openapi::Array {
    ArrayBuilder::new()
        .items(string_enum(&EventType::ALL.map(EventType::as_str)))
        .min_items(Some(1))
        .build()
}

fn url_schema() -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(webhook::MAX_URL_LEN))
        .pattern(Some(webhook::URL_PATTERN))
        .build()
}

fn message_status_schema() -> utoipa::openapi::Object {
    string_enum(&["pending", "sending", "delivered", "failed", "cancelled"])
}

/// A subscription: where to POST which events.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a6b2e-dddd-7e21-9a3f-2b8c4d5e6f70", "organisation_id": "019a6b2e-eeee-7e21-9a3f-2b8c4d5e6f70",
    "url": "https://ats.example.org/hooks/jobtour", "events": ["application.created", "booking.created"],
    "created_at": "2027-09-01T08:00:00Z"
}))]
pub struct Webhook {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub url: String,
    #[schema(schema_with = events_schema)]
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// The signing secret (HMAC-SHA256 key), in the creation answer only: keep it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<Model> for Webhook {
    fn from(m: Model) -> Self {
        Self {
            events: webhooks::events(&m).iter().map(|e| e.as_str().to_owned()).collect(),
            id: m.id,
            organisation_id: m.organisation_id,
            url: m.url,
            created_at: m.created_at,
            secret: None,
        }
    }
}

/// A new subscription. Each delivery is a POST of `{ "id", "type", "created_at", "data" }`
/// with `Jobtour-Event-Id` and `Jobtour-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
/// "<t>.<body>")>`; anything but a 2xx within 5 s is tried again, with growing pauses, for 24 h.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// An `http(s)` address that resolves to public addresses only.
    #[schema(schema_with = url_schema, example = "https://ats.example.org/hooks/jobtour")]
    pub url: String,
    #[schema(schema_with = events_schema)]
    pub events: Vec<String>,
}

/// One attempt to deliver an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    /// The event (its `Jobtour-Event-Id`).
    pub event_id: Uuid,
    #[schema(example = "booking.created")]
    pub event_type: Option<String>,
    /// 1 for the first try.
    pub attempt: i32,
    /// The partner's answer, if it answered.
    pub status_code: Option<i32>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    pub at: DateTime<Utc>,
    /// Where the event stands now.
    #[schema(schema_with = message_status_schema)]
    pub event_status: Option<String>,
    /// When the next try is due, while the event is pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl Delivery {
    fn new(d: webhook_delivery::Model, event: Option<outbox::Model>) -> Self {
        Self {
            id: d.id,
            event_id: d.outbox_id,
            event_type: event.as_ref().map(|e| e.event_type.clone()),
            attempt: d.attempt,
            status_code: d.status_code,
            error: d.error,
            at: d.at,
            next_attempt_at: event
                .as_ref()
                .filter(|e| e.status == "pending")
                .map(|e| e.next_attempt_at),
            event_status: event.map(|e| e.status),
        }
    }
}

/// Paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WebhookQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Subscribes the organisation's systems to events about its positions (organisers, or a
/// partner for its own organisation). 422 `private_address` for a target in a private network.
#[utoipa::path(tag = "webhooks", operation_id = "createWebhook", params(("id" = Uuid, Path, description = "The organisation")),
    request_body = NewWebhook, security(("bearer" = [])), responses(
    (status = 201, description = "Subscribed: the answer holds the signing secret, shown once", body = Webhook, headers(("Location" = String))),
))]
#[post("/organisations/{id}/webhooks")]
pub async fn create(
    signed_in: SignedIn,
    state: Data<AppState>,
    id: Path<Uuid>,
    body: Json<NewWebhook>,
) -> ApiResult<HttpResponse> {
    let organisation_id = id.into_inner();
    policy::may(&signed_in.actor(), Action::Create, Object::Webhooks { organisation_id })?;
    repo::organisations::find(state.db.conn(), organisation_id)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation"))?;
    let fields = WebhookFields::parse(&body.url, &body.events)?;
    if !state.settings.notify.webhook_allow_private {
        public_target(&fields.url).await?;
    }
    let secret = format!("whsec_{}", URL_SAFE_NO_PAD.encode(auth::random_bytes()));
    let model = webhooks::insert(
        state.db.conn(),
        organisation_id,
        fields.url.as_str(),
        &fields.events,
        &secret,
        repo::now(),
    )
    .await?;
    let location = format!("/api/v1/webhooks/{}", model.id);
    let mut body = Webhook::from(model);
    body.secret = Some(secret);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(body))
}

/// The organisation's webhooks, oldest first (without their secrets).
#[utoipa::path(tag = "webhooks", operation_id = "listWebhooks", params(("id" = Uuid, Path, description = "The organisation"), WebhookQuery),
    security(("bearer" = [])), responses(
    (status = 200, description = "One page of webhooks", body = Page<Webhook>),
))]
#[get("/organisations/{id}/webhooks")]
pub async fn list(
    signed_in: SignedIn,
    state: Data<AppState>,
    id: Path<Uuid>,
    query: Query<WebhookQuery>,
) -> ApiResult<Json<Page<Webhook>>> {
    let organisation_id = id.into_inner();
    policy::may(&signed_in.actor(), Action::Read, Object::Webhooks { organisation_id })?;
    let q = query.into_inner();
    let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref())?;
    let rows = webhooks::of_organisation(state.db.conn(), organisation_id, &page).await?;
    Ok(Json(http::page_of(rows, page.limit, |m| m.id, Webhook::from)))
}

/// Unsubscribes: nothing more is sent, and the record of deliveries goes with it.
#[utoipa::path(tag = "webhooks", operation_id = "deleteWebhook", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Deleted")))]
#[delete("/webhooks/{id}")]
pub async fn remove(signed_in: SignedIn, state: Data<AppState>, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let hook = visible(&signed_in, &state, id.into_inner(), Action::Delete).await?;
    webhooks::delete(state.db.conn(), hook.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every attempt to deliver the webhook's events, in the order they were made: the answer's
/// status or the failure, and where each event stands (retries to come, delivered, failed).
#[utoipa::path(tag = "webhooks", operation_id = "listWebhookDeliveries", params(("id" = Uuid, Path), WebhookQuery),
    security(("bearer" = [])), responses(
    (status = 200, description = "One page of delivery attempts", body = Page<Delivery>),
))]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    signed_in: SignedIn,
    state: Data<AppState>,
    id: Path<Uuid>,
    query: Query<WebhookQuery>,
) -> ApiResult<Json<Page<Delivery>>> {
    let hook = visible(&signed_in, &state, id.into_inner(), Action::Read).await?;
    let q = query.into_inner();
    let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref())?;
    let rows = repo::outbox::attempts(state.db.conn(), hook.id, &page).await?;
    Ok(Json(http::page_of(
        rows,
        page.limit,
        |(d, _)| d.id,
        |(d, m)| Delivery::new(d, m),
    )))
}

async fn visible(signed_in: &SignedIn, state: &AppState, id: Uuid, action: Action) -> ApiResult<Model> {
    let hook = webhooks::find(state.db.conn(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook"))?;
    policy::may(
        &signed_in.actor(),
        action,
        Object::Webhook {
            organisation_id: hook.organisation_id,
        },
    )?;
    Ok(hook)
}

/// Refuses a target that is, or resolves to, an address of a private network. A name that does
/// not resolve now is accepted: it is resolved, and checked, again at each delivery.
async fn public_target(url: &url::Url) -> ApiResult<()> {
    let private = |e: jobtour_domain::error::Invalid| ApiError::from(DomainError::field("url", e));
    if let Some(ip) = webhook::literal_address(url) {
        return webhook::refused_address(ip).map_or(Ok(()), |e| Err(private(e)));
    }
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return Ok(());
    };
    let lookup = tokio::time::timeout(WEBHOOK_TIMEOUT, tokio::net::lookup_host((host, port))).await;
    if let Ok(Ok(addrs)) = lookup {
        for addr in addrs {
            if let Some(e) = webhook::refused_address(addr.ip()) {
                return Err(private(e));
            }
        }
    }
    Ok(())
}
