//! Builds the application (middleware, routes, OpenAPI) and the HTTP server. Tests bind
//! port 0 and read the port back.

use crate::audit;
use crate::cache::{self, PublicCache};
use crate::config::{DbSettings, ServeSettings, SigningKey};
use crate::db::Db;
use crate::edge;
use crate::housekeeping;
use crate::http;
use crate::limits;
use crate::live::Live;
use crate::metrics::{self, Metrics};
use crate::notify::courier::Courier;
use crate::openapi;
use crate::routes::{self, RouteTable};
use crate::state::AppState;
use crate::telemetry::{self, JobtourSpans};
use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;
use std::time::Duration;
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::SwaggerUi;

/// A server bound to its port, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    db: Db,
    chores: tokio::task::JoinHandle<()>,
    courier: tokio::task::JoinHandle<()>,
    listener: Option<tokio::task::JoinHandle<()>>,
    checkins: Option<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Connects to the database, applies migrations (unless told not to) and binds the port.
    pub async fn build(db_settings: &DbSettings, settings: ServeSettings) -> anyhow::Result<Self> {
        let db = Db::connect(db_settings).await?;
        if !settings.no_migrate {
            db.migrate().await?;
        }
        let key = match settings.signing_key.clone() {
            Some(key) => key,
            None => routes::checkins::stored_signing_key(&db).await?,
        };
        Self::with_db(db, settings, key)
    }

    /// Binds the port and builds the server over an open database, and starts its periodic
    /// chores and the outbox's courier (inside a Tokio runtime).
    pub fn with_db(db: Db, settings: ServeSettings, signing_key: SigningKey) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind)
            .map_err(|e| anyhow::anyhow!("JOBTOUR_BIND: cannot listen on {}: {e}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let doc = openapi::document();
        let routes = web::Data::new(RouteTable::from_openapi(&doc));
        let cache = web::Data::new(PublicCache::new(
            settings.cache_megabytes,
            openapi::anonymous_reads(&doc),
            &db,
        ));
        let invalidations = cache.clone().into_inner().spawn_listener();
        let live = std::sync::Arc::new(Live::new(&db));
        let checkins = live.clone().spawn_listener();
        let metrics = Metrics::new()?;
        let courier = Courier::new(db.clone(), &settings.notify, metrics.clone())?;
        let state = web::Data::new(AppState {
            db: db.clone(),
            settings: settings.clone(),
            metrics,
            signing_key,
            live,
        });
        let origins = settings.cors_origins.clone();
        let workers = match settings.workers {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            n => n,
        };

        let server = HttpServer::new(move || {
            // Run on each worker's thread: its requests use a pool of its own.
            let state = web::Data::new(AppState {
                db: state.db.for_worker(workers),
                ..AppState::clone(&state)
            });
            // The document's own routes first: the `/api/v1` scope would otherwise take them.
            let (app, _) = openapi::mount(
                App::new()
                    .service(SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", doc.clone()))
                    .app_data(state.clone())
                    .app_data(routes.clone())
                    .app_data(cache.clone())
                    .app_data(http::json_config())
                    .app_data(http::path_config())
                    .app_data(http::query_config())
                    .app_data(web::PayloadConfig::new(http::MAX_BODY_BYTES)),
            );
            app.route("/docs", web::get().to(docs_redirect))
                .default_service(web::to(routes::fallback))
                .wrap(from_fn(edge::refuse_nul))
                .wrap(from_fn(limits::anonymous_writes))
                .wrap(from_fn(cache::layer))
                .wrap(from_fn(telemetry::catch_panic))
                .wrap(cors(&origins))
                .wrap(Compress::default())
                .wrap(from_fn(audit::record))
                .wrap(from_fn(metrics::track))
                .wrap(TracingLogger::<JobtourSpans>::new())
                .wrap(from_fn(telemetry::request_id))
                .wrap(from_fn(crate::messages::language))
        })
        .shutdown_timeout(settings.shutdown_timeout_secs)
        // A client has 10 s to send its request head (slowloris), and an idle kept-alive
        // connection is closed after 30 s; bodies are bounded by MAX_BODY_BYTES.
        .client_request_timeout(Duration::from_secs(10))
        .keep_alive(Duration::from_secs(30))
        .workers(workers)
        .listen(listener)?
        .run();
        let chores = housekeeping::spawn(db.clone(), settings.retention_months, settings.enquiry_retention_months);
        let courier = courier.spawn();
        Ok(Self {
            port,
            server,
            db,
            chores,
            courier,
            listener: invalidations,
            checkins,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until SIGINT/SIGTERM; in-flight requests get the shutdown timeout to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let stopped = self.server.await;
        self.chores.abort();
        // A message cut off mid-delivery is sent again once its lease runs out.
        self.courier.abort();
        for listener in [self.listener, self.checkins].into_iter().flatten() {
            listener.abort();
        }
        stopped
    }
}

/// `/docs` → `/docs/`, where the bundled Swagger UI lives.
async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// CORS for the configured partner front-end origins only. A request from another origin is
/// served without CORS headers (the browser then withholds the answer), not refused.
fn cors(origins: &[String]) -> Cors {
    let cors = origins.iter().fold(Cors::default(), |c, o| c.allowed_origin(o));
    cors.allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            crate::idempotency::HEADER,
            telemetry::X_REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            telemetry::X_REQUEST_ID,
            crate::idempotency::REPLAYED,
        ])
        .max_age(3600)
        .block_on_origin_mismatch(false)
}
