//! Prometheus metrics: request counts and latency by route and status, pool gauges.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};
use std::time::Instant;

/// The registry and the series this service exports.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    queries: HistogramVec,
    pool: IntGaugeVec,
    deliveries: IntCounterVec,
    outbox: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("jobtour".into()), None)?;
        let labels = &["method", "route", "status"];
        let requests = IntCounterVec::new(Opts::new("http_requests_total", "HTTP requests answered"), labels)?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer an HTTP request").buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            labels,
        )?;
        let queries = HistogramVec::new(
            HistogramOpts::new(
                "http_request_db_queries",
                "Database statements one HTTP request made (a list's should not grow with its page)",
            )
            .buckets(vec![0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0, 64.0]),
            &["method", "route"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let deliveries = IntCounterVec::new(
            Opts::new(
                "outbox_deliveries_total",
                "Delivery attempts of e-mails and webhook calls by outcome (delivered, retried, failed, dropped)",
            ),
            &["kind", "outcome"],
        )?;
        let outbox = IntGaugeVec::new(
            Opts::new(
                "outbox_messages",
                "Messages waiting, being sent or failed in the outbox",
            ),
            &["status"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(queries.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(deliveries.clone()))?;
        registry.register(Box::new(outbox.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            queries,
            pool,
            deliveries,
            outbox,
        })
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64, queries: u32) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
        self.queries
            .with_label_values(&[method, route])
            .observe(f64::from(queries));
    }

    /// One delivery attempt of the outbox and how it went.
    pub fn outbox_delivery(&self, kind: &str, outcome: &str) {
        self.deliveries.with_label_values(&[kind, outcome]).inc();
    }

    /// The exposition text, with the pool gauges and the outbox's counts (`status`, count)
    /// read now.
    pub fn render(&self, pool: (u32, usize, u32), outbox: &[(String, i64)]) -> String {
        for status in ["pending", "sending", "failed"] {
            let n = outbox.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
            self.outbox.with_label_values(&[status]).set(n);
        }
        let (open, idle, pool_max) = pool;
        let idle = i64::try_from(idle).unwrap_or(0);
        self.pool.with_label_values(&["idle"]).set(idle);
        self.pool.with_label_values(&["in_use"]).set(i64::from(open) - idle);
        self.pool.with_label_values(&["max"]).set(i64::from(pool_max));
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed series.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

tokio::task_local! {
    /// Statements run by the request being served (its handler runs in the request's task).
    static QUERIES: std::cell::Cell<u32>;
}

/// Counts one statement for the request being served, if any (called by the database
/// connection for every statement it runs).
pub fn count_query() {
    let _ = QUERIES.try_with(|n| n.set(n.get().saturating_add(1)));
}

/// Middleware: times every request and counts it, and its database statements, under its
/// route pattern (never the raw path, which would make one series per id).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let metrics = req
        .app_data::<web::Data<crate::state::AppState>>()
        .map(|s| s.metrics.clone());
    let method = req.method().as_str().to_owned();
    let (res, queries) = QUERIES
        .scope(std::cell::Cell::new(0), async {
            let res = next.call(req).await;
            (res, QUERIES.with(std::cell::Cell::get))
        })
        .await;
    let res = res?;
    if let Some(metrics) = metrics {
        let route = crate::http::route_pattern(res.request());
        let route = route.as_deref().unwrap_or("unmatched");
        metrics.observe(
            &method,
            route,
            res.status().as_u16(),
            started.elapsed().as_secs_f64(),
            queries,
        );
    }
    Ok(res)
}
