//! One file per resource: handlers, their request and response shapes, their OpenAPI
//! description. Every route is registered through `utoipa_actix_web`, so a served route is
//! a documented route.

pub mod applications;
pub mod audit;
pub mod auth;
pub mod bookings;
pub mod checkins;
pub mod clubs;
pub mod enquiries;
pub mod maps;
pub mod ops;
pub mod organisations;
pub mod positions;
pub mod slots;
pub mod stats;
pub mod stops;
pub mod tours;
pub mod users;
pub mod webhooks;

use crate::error::ApiError;
use actix_web::{HttpRequest, web};
use utoipa::openapi::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

/// The API under `/api/v1`.
pub fn api(cfg: &mut ServiceConfig) {
    cfg.service(auth::login)
        .service(auth::logout)
        .service(auth::me)
        .service(clubs::merge)
        .service(clubs::put_member)
        .service(clubs::remove_member)
        .service(clubs::list_members)
        .service(organisations::list)
        .service(organisations::create)
        .service(organisations::get)
        .service(organisations::update)
        .service(organisations::delete)
        .service(users::list)
        .service(users::create)
        .service(users::get)
        .service(users::update)
        .service(users::delete)
        .service(tours::list)
        .service(tours::create)
        .service(tours::get)
        .service(tours::update)
        .service(tours::delete)
        .service(tours::partners)
        .service(tours::put_partner)
        .service(tours::delete_partner)
        .service(tours::schedule)
        .service(maps::calendar)
        .service(maps::route)
        .service(stops::list)
        .service(stops::create)
        .service(stops::get)
        .service(stops::update)
        .service(stops::delete)
        .service(stats::tour_stats)
        .service(positions::list)
        .service(positions::create)
        .service(positions::get)
        .service(positions::update)
        .service(positions::delete)
        .service(applications::create)
        .service(applications::list)
        .service(applications::get)
        .service(applications::update)
        .service(applications::withdraw)
        .service(applications::export)
        .service(applications::erase)
        .service(slots::list)
        .service(slots::create)
        .service(slots::get)
        .service(slots::update)
        .service(slots::delete)
        .service(bookings::book)
        .service(bookings::cancel)
        .service(bookings::join_waitlist)
        .service(bookings::leave_waitlist)
        .service(bookings::bookings)
        .service(webhooks::create)
        .service(webhooks::list)
        .service(webhooks::remove)
        .service(webhooks::deliveries)
        .service(checkins::checkin_code)
        .service(checkins::check_in)
        .service(checkins::list)
        .service(checkins::register_walk_in)
        .service(checkins::attendance)
        .service(checkins::open_ticket)
        .service(checkins::stream)
        .service(enquiries::create)
        .service(enquiries::list)
        .service(enquiries::stats)
        .service(enquiries::get)
        .service(enquiries::update)
        .service(enquiries::export)
        .service(enquiries::erase)
        .service(audit::list);
}

/// Operations endpoints at the root.
pub fn ops(cfg: &mut ServiceConfig) {
    cfg.service(ops::healthz).service(ops::readyz).service(ops::metrics);
}

/// The documented paths and their methods, to tell "no such route" (404) from "no such
/// method here" (405 with `Allow`).
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<&'static str>)>,
    /// The routes without parameters, by path.
    literals: std::collections::HashMap<String, Vec<&'static str>>,
}

impl RouteTable {
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_owned).collect();
                let mut methods = Vec::new();
                for (method, op) in [
                    ("GET", &item.get),
                    ("POST", &item.post),
                    ("PUT", &item.put),
                    ("PATCH", &item.patch),
                    ("DELETE", &item.delete),
                ] {
                    if op.is_some() {
                        methods.push(method);
                    }
                }
                (segments, methods)
            })
            .collect::<Vec<(Vec<String>, Vec<&'static str>)>>();
        let literals = routes
            .iter()
            .filter(|(segments, _)| segments.iter().all(|s| !s.starts_with('{')))
            .map(|(segments, methods)| (segments.join("/"), methods.clone()))
            .collect();
        Self { routes, literals }
    }

    /// The methods served at `path` when a route of no parameters is exactly it.
    pub fn literal(&self, path: &str) -> Option<&[&'static str]> {
        self.literals.get(path).map(Vec::as_slice)
    }

    /// The methods served at `path`, if any route has this shape.
    pub fn methods(&self, path: &str) -> Option<Vec<&'static str>> {
        let wanted: Vec<&str> = path.split('/').collect();
        self.routes
            .iter()
            .find(|(segments, _)| {
                segments.len() == wanted.len()
                    && segments
                        .iter()
                        .zip(&wanted)
                        .all(|(s, w)| (s.starts_with('{') && !w.is_empty()) || s == w)
            })
            .map(|(_, methods)| methods.clone())
    }
}

/// Whatever no route took: 405 with `Allow` when the path exists, 404 otherwise.
/// Whether `method pattern` (a route as the document and actix spell it) is in `routes`.
pub fn listed(routes: &[(&str, &str)], method: &str, pattern: &str) -> bool {
    routes
        .iter()
        .any(|(m, p)| m.eq_ignore_ascii_case(method) && *p == pattern)
}

pub async fn fallback(req: HttpRequest, table: web::Data<RouteTable>) -> Result<actix_web::HttpResponse, ApiError> {
    Err(match table.methods(req.path()) {
        Some(methods) if !methods.is_empty() => ApiError::method_not_allowed(methods.join(", ")),
        _ => ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "route_not_found",
            format!("no route {} {}", req.method(), req.path()),
        ),
    })
}
