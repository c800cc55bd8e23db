//! Tours, stops and partners: the itinerary rules, visibility, the workflow, the schedule.

use crate::common::{TestApp, both, error_fields, expect_json, expect_problem};
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both!(
    drafts_are_invisible_to_the_public,
    the_status_follows_the_workflow,
    a_stop_must_lie_within_the_tour_days_in_its_time_zone,
    a_stop_across_the_daylight_saving_change_keeps_its_instants,
    overlapping_stops_are_refused_naming_the_other,
    twenty_concurrent_overlapping_stops_exactly_one_wins,
    moving_the_tour_rechecks_its_stops,
    partners_join_idempotently,
    the_schedule_measures_each_leg,
    stops_list_in_time_order_with_the_tour_offset,
);

/// A draft tour 19–23 October 2027 in Paris, organised by a fresh organisation.
pub async fn tour(app: &TestApp) -> Value {
    let org = app.create_organisation("Club des relations clients").await;
    let body = json!({
        "name": "Un job au bout du fil", "starts_on": "2027-10-19", "ends_on": "2027-10-23",
        "organiser_organisation_id": org["id"], "positions_target": 500,
    });
    expect_json(
        app.post("/api/v1/tours", Some(&app.organiser), &body).await,
        StatusCode::CREATED,
    )
    .await
}

pub fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

async fn publish(app: &TestApp, tour: &Value) {
    let res = app
        .patch(
            &format!("/api/v1/tours/{}", id(tour)),
            Some(&app.organiser),
            &json!({ "status": "published" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
}

pub fn stop_body(city: &str, lat: f64, lon: f64, arrives: &str, departs: &str) -> Value {
    json!({ "city": city, "latitude": lat, "longitude": lon, "arrives_at": arrives, "departs_at": departs })
}

async fn add_stop(app: &TestApp, tour: &Value, body: &Value) -> reqwest::Response {
    app.post(&format!("/api/v1/tours/{}/stops", id(tour)), Some(&app.organiser), body)
        .await
}

async fn drafts_are_invisible_to_the_public(app: TestApp) {
    let t = tour(&app).await;
    assert_eq!(t["status"], "draft");
    assert_eq!(t["timezone"], "Europe/Paris");
    let org = app.create_organisation("Partner").await;
    let (_, partner) = app.partner_of(id(&org)).await;
    let path = format!("/api/v1/tours/{}", id(&t));
    for token in [None, Some(partner.as_str())] {
        expect_problem(app.get(&path, token).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_problem(
            app.get(&format!("{path}/stops"), token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let list = expect_json(app.get("/api/v1/tours", token).await, StatusCode::OK).await;
        assert!(list["items"].as_array().unwrap().is_empty());
    }
    assert_eq!(app.get(&path, Some(&app.organiser)).await.status(), StatusCode::OK);
    publish(&app, &t).await;
    assert_eq!(
        expect_json(app.get(&path, None).await, StatusCode::OK).await["status"],
        "published"
    );
    let list = expect_json(
        app.get("/api/v1/tours?status=published&from=2027-10-20&to=2027-10-20", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let list = expect_json(app.get("/api/v1/tours?from=2027-10-24", None).await, StatusCode::OK).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    // Partners read published tours but never change them.
    let res = app.patch(&path, Some(&partner), &json!({ "name": "Mine now" })).await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

async fn the_status_follows_the_workflow(app: TestApp) {
    let t = tour(&app).await;
    let path = format!("/api/v1/tours/{}", id(&t));
    let p = expect_problem(
        app.patch(&path, Some(&app.organiser), &json!({ "status": "completed" }))
            .await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["allowed"], json!(["published", "cancelled"]));
    publish(&app, &t).await;
    let p = expect_problem(
        app.patch(&path, Some(&app.organiser), &json!({ "status": "draft" }))
            .await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["allowed"], json!(["completed", "cancelled"]));
    expect_json(
        app.patch(&path, Some(&app.organiser), &json!({ "status": "cancelled" }))
            .await,
        StatusCode::OK,
    )
    .await;
    let p = expect_problem(
        app.patch(&path, Some(&app.organiser), &json!({ "status": "published" }))
            .await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["allowed"], json!([]));
    expect_problem(app.get(&path, None).await, StatusCode::NOT_FOUND, "not_found").await;
    let p = expect_problem(
        app.patch(&path, Some(&app.organiser), &json!({ "status": "archived" }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "status");
}

async fn a_stop_must_lie_within_the_tour_days_in_its_time_zone(app: TestApp) {
    let t = tour(&app).await;
    // 23:30 UTC on the last day is 01:30 on the 24th in Paris: outside.
    let late = stop_body(
        "Thionville",
        49.3579,
        6.1684,
        "2027-10-23T20:00:00Z",
        "2027-10-23T23:30:00Z",
    );
    let p = expect_problem(
        add_stop(&app, &t, &late).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "outside_tour");
    let fine = stop_body(
        "Thionville",
        49.3579,
        6.1684,
        "2027-10-23T20:00:00Z",
        "2027-10-23T21:30:00Z",
    );
    expect_json(add_stop(&app, &t, &fine).await, StatusCode::CREATED).await;
    let backwards = stop_body(
        "Toul",
        48.6750,
        5.8917,
        "2027-10-21T12:00:00+02:00",
        "2027-10-21T11:00:00+02:00",
    );
    let p = expect_problem(
        add_stop(&app, &t, &backwards).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "departs_at");
    let nowhere = stop_body(
        "Nowhere",
        91.0,
        200.0,
        "2027-10-21T09:00:00+02:00",
        "2027-10-21T11:00:00+02:00",
    );
    let p = expect_problem(
        add_stop(&app, &t, &nowhere).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields = error_fields(&p);
    assert_eq!(fields, ["latitude", "longitude"]);
}

async fn a_stop_across_the_daylight_saving_change_keeps_its_instants(app: TestApp) {
    let org = app.create_organisation("Night bus").await;
    let body = json!({ "name": "Night", "starts_on": "2026-10-24", "ends_on": "2026-10-26", "organiser_organisation_id": org["id"] });
    let t = expect_json(
        app.post("/api/v1/tours", Some(&app.organiser), &body).await,
        StatusCode::CREATED,
    )
    .await;
    let dst = stop_body(
        "Metz",
        49.1193,
        6.1757,
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:30:00+01:00",
    );
    let stop = expect_json(add_stop(&app, &t, &dst).await, StatusCode::CREATED).await;
    assert_eq!(stop["arrives_at"], "2026-10-25T01:00:00+02:00");
    assert_eq!(stop["departs_at"], "2026-10-25T02:30:00+01:00");
    let arrives = chrono::DateTime::parse_from_rfc3339(stop["arrives_at"].as_str().unwrap()).unwrap();
    let departs = chrono::DateTime::parse_from_rfc3339(stop["departs_at"].as_str().unwrap()).unwrap();
    assert_eq!((departs - arrives).num_minutes(), 150);
    let again = expect_json(
        app.get(&format!("/api/v1/stops/{}", id(&stop)), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again, stop);
}

async fn overlapping_stops_are_refused_naming_the_other(app: TestApp) {
    let t = tour(&app).await;
    let metz = expect_json(
        add_stop(
            &app,
            &t,
            &stop_body(
                "Metz",
                49.1193,
                6.1757,
                "2027-10-19T09:00:00+02:00",
                "2027-10-19T17:00:00+02:00",
            ),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let clash = stop_body(
        "Nancy",
        48.6921,
        6.1844,
        "2027-10-19T16:00:00+02:00",
        "2027-10-19T18:00:00+02:00",
    );
    let p = expect_problem(add_stop(&app, &t, &clash).await, StatusCode::CONFLICT, "stop_overlap").await;
    assert_eq!(p["conflicting_stop_id"], metz["id"]);
    let touching = stop_body(
        "Nancy",
        48.6921,
        6.1844,
        "2027-10-19T17:00:00+02:00",
        "2027-10-19T18:00:00+02:00",
    );
    let nancy = expect_json(add_stop(&app, &t, &touching).await, StatusCode::CREATED).await;
    // Moving a stop onto another is refused too; moving it onto itself is fine.
    let path = format!("/api/v1/stops/{}", id(&nancy));
    let res = app
        .patch(
            &path,
            Some(&app.organiser),
            &json!({ "arrives_at": "2027-10-19T16:30:00+02:00" }),
        )
        .await;
    expect_problem(res, StatusCode::CONFLICT, "stop_overlap").await;
    let res = app
        .patch(
            &path,
            Some(&app.organiser),
            &json!({ "departs_at": "2027-10-19T19:00:00+02:00" }),
        )
        .await;
    assert_eq!(
        expect_json(res, StatusCode::OK).await["departs_at"],
        "2027-10-19T19:00:00+02:00"
    );
}

async fn twenty_concurrent_overlapping_stops_exactly_one_wins(app: TestApp) {
    let t = tour(&app).await;
    let app = &app;
    let t = &t;
    let attempts = (0..20).map(|i| async move {
        // Every attempt overlaps every other around 12:00 on the 20th.
        let arrives = format!("2027-10-20T{:02}:{:02}:00+02:00", 9 + i / 6, (i % 6) * 10);
        let body = stop_body(&format!("City {i}"), 48.7, 6.2, &arrives, "2027-10-20T15:00:00+02:00");
        add_stop(app, t, &body).await.status()
    });
    let statuses = join_all(attempts).await;
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((created, refused), (1, 19), "{statuses:?}");
    let stops = expect_json(
        app.get(&format!("/api/v1/tours/{}/stops", id(t)), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stops["items"].as_array().unwrap().len(), 1);
}

async fn moving_the_tour_rechecks_its_stops(app: TestApp) {
    let t = tour(&app).await;
    let last_day = expect_json(
        add_stop(
            &app,
            &t,
            &stop_body(
                "Thionville",
                49.3579,
                6.1684,
                "2027-10-23T09:00:00+02:00",
                "2027-10-23T17:30:00+02:00",
            ),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/api/v1/tours/{}", id(&t));
    let p = expect_problem(
        app.patch(&path, Some(&app.organiser), &json!({ "ends_on": "2027-10-22" }))
            .await,
        StatusCode::CONFLICT,
        "stops_outside_tour",
    )
    .await;
    assert_eq!(p["stop_ids"], json!([last_day["id"]]));
    // 09:00–17:30 Paris is 16:00–00:30 in Tokyo: past the last day there.
    let p = expect_problem(
        app.patch(&path, Some(&app.organiser), &json!({ "timezone": "Asia/Tokyo" }))
            .await,
        StatusCode::CONFLICT,
        "stops_outside_tour",
    )
    .await;
    assert_eq!(p["stop_ids"], json!([last_day["id"]]));
    let moved = expect_json(
        app.patch(&path, Some(&app.organiser), &json!({ "ends_on": "2027-10-24" }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["ends_on"], "2027-10-24");
    let p = expect_problem(
        app.patch(&path, Some(&app.organiser), &json!({ "timezone": "Mars/Olympus" }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "timezone");
}

async fn partners_join_idempotently(app: TestApp) {
    let t = tour(&app).await;
    let bank = app.create_organisation("Banque").await;
    let path = format!("/api/v1/tours/{}/partners/{}", id(&t), id(&bank));
    let first = app
        .request(Method::PUT, &path, Some(&app.organiser))
        .json(&json!({ "role": "employer" }))
        .send()
        .await
        .unwrap();
    let first = expect_json(first, StatusCode::CREATED).await;
    assert_eq!(first["organisation"]["name"], "Banque");
    let again = app
        .request(Method::PUT, &path, Some(&app.organiser))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(again, StatusCode::OK).await["role"], "employer");
    let sponsor = app
        .request(Method::PUT, &path, Some(&app.organiser))
        .json(&json!({ "role": "sponsor" }))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(sponsor, StatusCode::OK).await["role"], "sponsor");
    let bad = app
        .request(Method::PUT, &path, Some(&app.organiser))
        .json(&json!({ "role": "boss" }))
        .send()
        .await
        .unwrap();
    expect_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    // The body may be left out, but one that is sent is read strictly.
    for (body, status, code) in [
        (
            json!({ "role": null }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({ "role": "host", "extra": 1 }),
            StatusCode::BAD_REQUEST,
            "unknown_field",
        ),
    ] {
        let res = app
            .request(Method::PUT, &path, Some(&app.organiser))
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_problem(res, status, code).await;
    }
    let res = app
        .request(Method::PUT, &path, Some(&app.organiser))
        .header("content-type", "application/json")
        .body("{\"role\": ")
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    let list = expect_json(
        app.get(&format!("/api/v1/tours/{}/partners", id(&t)), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["organisation"]["id"], bank["id"]);
    // An organisation taking part in a tour is in use.
    expect_problem(
        app.delete(&format!("/api/v1/organisations/{}", id(&bank)), Some(&app.organiser))
            .await,
        StatusCode::CONFLICT,
        "in_use",
    )
    .await;
    assert_eq!(
        app.delete(&path, Some(&app.organiser)).await.status(),
        StatusCode::NO_CONTENT
    );
    expect_problem(
        app.delete(&path, Some(&app.organiser)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn the_schedule_measures_each_leg(app: TestApp) {
    let t = tour(&app).await;
    for body in [
        stop_body(
            "Metz",
            49.1193,
            6.1757,
            "2027-10-19T09:00:00+02:00",
            "2027-10-19T17:00:00+02:00",
        ),
        stop_body(
            "Nancy",
            48.6921,
            6.1844,
            "2027-10-19T17:30:00+02:00",
            "2027-10-19T20:00:00+02:00",
        ),
        stop_body(
            "Épinal",
            48.1724,
            6.4496,
            "2027-10-20T09:00:00+02:00",
            "2027-10-20T17:00:00+02:00",
        ),
    ] {
        expect_json(add_stop(&app, &t, &body).await, StatusCode::CREATED).await;
    }
    let s = expect_json(
        app.get(&format!("/api/v1/tours/{}/schedule", id(&t)), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    let legs = s["legs"].as_array().unwrap();
    assert_eq!(legs.len(), 2);
    let metz_nancy = legs[0]["distance_km"].as_f64().unwrap();
    assert!((46.0..49.0).contains(&metz_nancy), "{metz_nancy}");
    assert_eq!(legs[0]["gap_minutes"], 30);
    assert_eq!(legs[0]["required_minutes"], 62);
    assert_eq!(legs[0]["feasible"], false);
    assert_eq!(legs[1]["feasible"], true);
    assert_eq!(s["feasible"], false);
    let fast = expect_json(
        app.get(
            &format!("/api/v1/tours/{}/schedule?speed_kmh=150&road_factor=1", id(&t)),
            Some(&app.organiser),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(fast["legs"][0]["feasible"], true);
    expect_problem(
        app.get(
            &format!("/api/v1/tours/{}/schedule?speed_kmh=0", id(&t)),
            Some(&app.organiser),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

async fn stops_list_in_time_order_with_the_tour_offset(app: TestApp) {
    let t = tour(&app).await;
    for (city, day) in [("Toul", 21), ("Metz", 19), ("Nancy", 20)] {
        let body = stop_body(
            city,
            48.7,
            6.2,
            &format!("2027-10-{day}T07:00:00Z"),
            &format!("2027-10-{day}T15:00:00Z"),
        );
        expect_json(add_stop(&app, &t, &body).await, StatusCode::CREATED).await;
    }
    let first = expect_json(
        app.get(&format!("/api/v1/tours/{}/stops?limit=2", id(&t)), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = expect_json(
        app.get(
            &format!("/api/v1/tours/{}/stops?limit=2&cursor={cursor}", id(&t)),
            Some(&app.organiser),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let cities: Vec<_> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|s| s["city"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(cities, ["Metz", "Nancy", "Toul"]);
    assert_eq!(first["items"][0]["arrives_at"], "2027-10-19T09:00:00+02:00");
    assert!(second["next_cursor"].is_null());
}

both!(the_calendar_has_one_event_per_stop, the_route_is_valid_geojson);

async fn three_stops(app: &TestApp) -> Value {
    let t = tour(app).await;
    for body in [
        stop_body(
            "Metz",
            49.1193,
            6.1757,
            "2027-10-19T09:00:00+02:00",
            "2027-10-19T17:00:00+02:00",
        ),
        stop_body(
            "Nancy",
            48.6921,
            6.1844,
            "2027-10-20T09:00:00+02:00",
            "2027-10-20T17:00:00+02:00",
        ),
        stop_body(
            "Épinal",
            48.1724,
            6.4496,
            "2027-10-21T09:00:00+02:00",
            "2027-10-21T17:00:00+02:00",
        ),
    ] {
        expect_json(add_stop(app, &t, &body).await, StatusCode::CREATED).await;
    }
    publish(app, &t).await;
    t
}

async fn the_calendar_has_one_event_per_stop(app: TestApp) {
    let t = three_stops(&app).await;
    let res = app.get(&format!("/api/v1/tours/{}/calendar.ics", id(&t)), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let text = res.text().await.unwrap();
    // An independent parser (the `ical` crate) reads it back.
    let calendars: Vec<_> = ical::IcalParser::new(text.as_bytes())
        .collect::<Result<_, _>>()
        .expect("valid iCalendar");
    assert_eq!(calendars.len(), 1);
    let events = &calendars[0].events;
    assert_eq!(events.len(), 3);
    let prop = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
        e.properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_default()
    };
    assert_eq!(prop(&events[0], "DTSTART"), "20271019T070000Z");
    assert_eq!(prop(&events[0], "DTEND"), "20271019T150000Z");
    assert_eq!(prop(&events[0], "GEO"), "49.119300;6.175700");
    assert!(prop(&events[2], "LOCATION").contains("Épinal"));
    assert!(prop(&events[1], "SUMMARY").contains("Nancy"));
    let uids: std::collections::HashSet<_> = events.iter().map(|e| prop(e, "UID")).collect();
    assert_eq!(uids.len(), 3);
    // Stable: the same UIDs on the next read.
    let again = app
        .get(&format!("/api/v1/tours/{}/calendar.ics", id(&t)), None)
        .await
        .text()
        .await
        .unwrap();
    let again: Vec<_> = ical::IcalParser::new(again.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let again_uids: std::collections::HashSet<_> = again[0].events.iter().map(|e| prop(e, "UID")).collect();
    assert_eq!(uids, again_uids);
}

async fn the_route_is_valid_geojson(app: TestApp) {
    let t = three_stops(&app).await;
    let res = app.get(&format!("/api/v1/tours/{}/route.geojson", id(&t)), None).await;
    assert_eq!(res.headers()["content-type"], "application/geo+json");
    let text = res.text().await.unwrap();
    let parsed: geojson::GeoJson = text.parse().expect("valid GeoJSON");
    let geojson::GeoJson::FeatureCollection(fc) = parsed else {
        panic!("not a FeatureCollection")
    };
    assert_eq!(fc.features.len(), 4);
    let points: Vec<_> = fc
        .features
        .iter()
        .filter_map(|f| match &f.geometry.as_ref()?.value {
            geojson::GeometryValue::Point { coordinates } => Some(serde_json::to_value(coordinates).unwrap()),
            _ => None,
        })
        .collect();
    assert_eq!(points.len(), 3);
    assert_eq!(points[0], json!([6.1757, 49.1193]), "[longitude, latitude]");
    let line = fc.features.iter().find_map(|f| match &f.geometry.as_ref()?.value {
        geojson::GeometryValue::LineString { coordinates } => Some(serde_json::to_value(coordinates).unwrap()),
        _ => None,
    });
    assert_eq!(line.unwrap(), Value::Array(points));
}

both!(the_database_refuses_overlapping_stops_too);

/// Past the API's own check, straight to the repository: the database still refuses.
async fn the_database_refuses_overlapping_stops_too(app: TestApp) {
    use jobtour_api::error::{Violation, violation};
    use jobtour_domain::tour::{StopFields, StopInput, TourDates, parse_timezone};
    let t = tour(&app).await;
    expect_json(
        add_stop(
            &app,
            &t,
            &stop_body(
                "Metz",
                49.1193,
                6.1757,
                "2027-10-19T09:00:00+02:00",
                "2027-10-19T17:00:00+02:00",
            ),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let tour_id: uuid::Uuid = id(&t).parse().unwrap();
    let dates = TourDates::new("2027-10-19".parse().unwrap(), "2027-10-23".parse().unwrap()).unwrap();
    let stay = |from: &str, to: &str| {
        let input = StopInput {
            city: "Nancy".into(),
            postcode: None,
            venue: None,
            address: None,
            latitude: 48.69,
            longitude: 6.18,
            arrives_at: from.parse().unwrap(),
            departs_at: to.parse().unwrap(),
            notes: None,
        };
        StopFields::parse(input, dates, parse_timezone("Europe/Paris").unwrap()).unwrap()
    };
    let overlapping = stay("2027-10-19T14:00:00Z", "2027-10-19T16:00:00Z");
    let err = jobtour_api::repo::stops::insert(app.db.conn(), tour_id, overlapping)
        .await
        .unwrap_err();
    assert_eq!(violation(&err), Some(Violation::Exclusion), "{err}");
    let touching = stay("2027-10-19T15:00:00Z", "2027-10-19T16:00:00Z");
    let ok = jobtour_api::repo::stops::insert(app.db.conn(), tour_id, touching)
        .await
        .unwrap();
    let moved = stay("2027-10-19T12:00:00Z", "2027-10-19T16:00:00Z");
    let err = jobtour_api::repo::stops::update(app.db.conn(), ok.id, ok.version, moved)
        .await
        .unwrap_err();
    assert_eq!(violation(&err), Some(Violation::Exclusion), "{err}");
}
