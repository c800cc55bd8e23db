//! Operations: liveness, readiness, metrics.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process is up and serving. Touches nothing else.
#[utoipa::path(operation_id = "getHealth", tag = "operations", responses((status = 200, description = "The process is up", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// Readiness: the database answers within a second. 503 problem when it does not.
#[utoipa::path(operation_id = "getReadiness", tag = "operations", responses(
    (status = 200, description = "Ready to serve", body = Health),
    (status = 503, description = "The database is unreachable", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<web::Json<Health>> {
    if state.db.ping(Duration::from_secs(1)).await {
        Ok(web::Json(Health { status: "ok" }))
    } else {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database does not answer",
        ))
    }
}

/// Prometheus metrics: `jobtour_http_requests_total` and `jobtour_http_request_duration_seconds`
/// by method, route and status; `jobtour_db_pool_connections` by state;
/// `jobtour_outbox_deliveries_total` by kind (`email`, `webhook`) and outcome (`delivered`,
/// `retried`, `failed`, `dropped`: nothing left to send); `jobtour_outbox_messages` by status.
#[utoipa::path(operation_id = "getMetrics", tag = "operations", responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let outbox = match crate::repo::outbox::count_by_status(state.db.conn()).await {
        Ok(counts) => counts,
        Err(e) => {
            tracing::warn!(error = %e, "could not count the outbox for the metrics");
            Vec::new()
        }
    };
    let body = state.metrics.render(state.db.pool_usage(), &outbox);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}
