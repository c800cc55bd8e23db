//! A tour's itinerary for other tools: an iCalendar feed (`calendar.ics`) for calendar apps
//! and a GeoJSON map (`route.geojson`, RFC 7946) for map libraries.

use crate::auth::Actor;
use crate::error::ApiResult;
use crate::repo;
use crate::routes::tours::visible_tour;
use crate::state::AppState;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use jobtour_domain::tour::TourStatus;
use serde_json::{Value, json};
use uuid::Uuid;

/// The stops as calendar events: one VEVENT per stop with a stable UID, the stay as
/// DTSTART/DTEND (UTC), the venue as LOCATION and the coordinates as GEO.
#[utoipa::path(operation_id = "getTourCalendar", tag = "tours", params(("id" = Uuid, Path)), responses(
    (status = 200, description = "iCalendar (RFC 5545)", body = String, content_type = "text/calendar"),
))]
#[get("/tours/{id}/calendar.ics")]
pub async fn calendar(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let tour = visible_tour(state.db.conn(), &actor, id.into_inner()).await?;
    let stops = repo::stops::all_for_tour(state.db.conn(), tour.id).await?;
    let cancelled = TourStatus::parse(&tour.status) == Ok(TourStatus::Cancelled);
    let mut calendar = Calendar::new();
    calendar.name(&tour.name).timezone(tour.timezone.as_str());
    for stop in &stops {
        let location = crate::routes::stops::place(stop);
        let mut event = Event::new();
        event
            .uid(&format!("stop-{}@jobtour", stop.id))
            .summary(&format!("{} — {}", tour.name, stop.city))
            .location(&location)
            .starts(stop.arrives_at)
            .ends(stop.departs_at)
            .timestamp(stop.updated_at)
            .add_property("GEO", format!("{:.6};{:.6}", stop.latitude, stop.longitude))
            .status(if cancelled {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            });
        if let Some(notes) = &stop.notes {
            event.description(notes);
        }
        calendar.push(event.done());
    }
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("content-disposition", "inline; filename=\"tour.ics\""))
        .body(calendar.done().to_string()))
}

/// The route as a GeoJSON FeatureCollection: one Point per stop (with its city, venue and
/// times) and one LineString through the stops in time order; coordinates are
/// `[longitude, latitude]` (RFC 7946).
#[utoipa::path(operation_id = "getTourRoute", tag = "tours", params(("id" = Uuid, Path)), responses(
    (status = 200, description = "GeoJSON (RFC 7946)", body = Object, content_type = "application/geo+json"),
))]
#[get("/tours/{id}/route.geojson")]
pub async fn route(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let tour = visible_tour(state.db.conn(), &actor, id.into_inner()).await?;
    let tz = crate::routes::stops::tour_zone(&tour)?;
    let stops = repo::stops::all_for_tour(state.db.conn(), tour.id).await?;
    let position = |s: &crate::entities::stop::Model| json!([s.longitude, s.latitude]);
    let mut features: Vec<Value> = stops
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "type": "Feature",
                "id": s.id,
                "geometry": { "type": "Point", "coordinates": position(s) },
                "properties": {
                    "kind": "stop",
                    "order": i + 1,
                    "city": s.city,
                    "venue": s.venue,
                    "arrives_at": s.arrives_at.with_timezone(&tz).to_rfc3339(),
                    "departs_at": s.departs_at.with_timezone(&tz).to_rfc3339(),
                },
            })
        })
        .collect();
    if stops.len() >= 2 {
        features.push(json!({
            "type": "Feature",
            "geometry": { "type": "LineString", "coordinates": stops.iter().map(position).collect::<Vec<_>>() },
            "properties": { "kind": "route", "tour_id": tour.id, "name": tour.name },
        }));
    }
    let body = json!({ "type": "FeatureCollection", "features": features });
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .body(body.to_string()))
}
