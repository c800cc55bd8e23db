//! Interview slots, bookings and waiting lines: never overbooked, under any load.

use crate::applications::{application_body, apply_with};
use crate::common::{TestApp, both, expect_json, expect_problem};
use crate::positions::{Campaign, campaign, id, join, position_body, post_position};
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;

both!(
    slots_and_grids_follow_the_stop_and_never_overlap,
    a_grid_across_the_daylight_saving_change_keeps_real_durations,
    a_candidate_books_rebooks_and_cancels,
    moving_a_booking_frees_the_old_seat,
    every_refusal_of_a_booking,
    deleting_a_booked_slot_needs_an_organiser_and_force,
    capacity_never_drops_below_the_bookings_and_a_rise_seats_the_line,
    the_waiting_line_fills_a_freed_seat_first_come_first_served,
    a_promotion_moves_the_candidate_and_its_old_seat_goes_down_the_line,
    a_withdrawn_or_rejected_application_frees_its_seat,
    staff_see_who_booked_names_for_the_employer_only,
    two_hundred_candidates_race_for_ten_seats,
    one_application_fired_at_twenty_slots_books_one,
    thirty_candidates_join_a_line_at_once,
    a_stop_keeps_its_slots_inside_and_a_hired_candidate_leaves_the_line,
);

/// A campaign with one open position of the employer at both stops.
struct World {
    c: Campaign,
    position: String,
}

async fn world(app: &TestApp) -> World {
    let c = campaign(app).await;
    let position = id(&post_position(
        app,
        &c.partner,
        &position_body(&c, "Conseiller", json!({ "openings": 50 })),
    )
    .await);
    World { c, position }
}

/// A slot at the first stop (Metz, 19 October 2027, 09:00–17:00 in Paris) for the employer.
pub async fn slot_at(app: &TestApp, c: &Campaign, hour: u32, capacity: i64) -> String {
    let body = json!({
        "starts_at": format!("2027-10-19T{hour:02}:00:00+02:00"),
        "ends_at": format!("2027-10-19T{hour:02}:20:00+02:00"),
        "capacity": capacity,
    });
    let res = app
        .post(&format!("/api/v1/stops/{}/slots", c.stops[0]), Some(&c.partner), &body)
        .await;
    id(&expect_json(res, StatusCode::CREATED).await)
}

/// A candidate who applied to the world's position: `(application id, token)`.
async fn candidate(app: &TestApp, w: &World, email: &str) -> (String, String) {
    let a = apply_with(app, &w.position, &application_body(email)).await;
    (id(&a), a["access_token"].as_str().unwrap().to_owned())
}

pub async fn book(app: &TestApp, slot: &str, token: &str, query: &str) -> reqwest::Response {
    app.request(
        Method::PUT,
        &format!("/api/v1/slots/{slot}/booking{query}"),
        Some(token),
    )
    .send()
    .await
    .unwrap()
}

async fn wait(app: &TestApp, slot: &str, token: &str, query: &str) -> reqwest::Response {
    app.request(
        Method::PUT,
        &format!("/api/v1/slots/{slot}/waitlist{query}"),
        Some(token),
    )
    .send()
    .await
    .unwrap()
}

async fn slot(app: &TestApp, slot: &str) -> Value {
    expect_json(app.get(&format!("/api/v1/slots/{slot}"), None).await, StatusCode::OK).await
}

async fn application(app: &TestApp, application: &str, token: &str) -> Value {
    expect_json(
        app.get(&format!("/api/v1/applications/{application}"), Some(token))
            .await,
        StatusCode::OK,
    )
    .await
}

/// `(booked, available, waiting)` of a slot.
async fn seats(app: &TestApp, s: &str) -> (i64, i64, i64) {
    let v = slot(app, s).await;
    (
        v["booked"].as_i64().unwrap(),
        v["available"].as_i64().unwrap(),
        v["waiting"].as_i64().unwrap(),
    )
}

async fn slots_and_grids_follow_the_stop_and_never_overlap(app: TestApp) {
    let w = world(&app).await;
    let c = &w.c;
    let path = format!("/api/v1/stops/{}/slots", c.stops[0]);
    let one = json!({ "starts_at": "2027-10-19T07:00:00Z", "ends_at": "2027-10-19T07:20:00Z" });
    let res = app.post(&path, Some(&c.partner), &one).await;
    assert_eq!(
        res.headers()["location"].to_str().unwrap().len(),
        "/api/v1/slots/".len() + 36
    );
    let first = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(
        first["starts_at"], "2027-10-19T09:00:00+02:00",
        "shown in the tour's zone"
    );
    assert_eq!(
        (first["capacity"].as_i64(), first["available"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(first["organisation_id"], c.employer.as_str());
    // Overlapping the employer's own slot: 409 naming it; another employer may interview then.
    let overlapping = json!({ "starts_at": "2027-10-19T09:10:00+02:00", "ends_at": "2027-10-19T09:30:00+02:00" });
    let p = expect_problem(
        app.post(&path, Some(&c.partner), &overlapping).await,
        StatusCode::CONFLICT,
        "slot_overlap",
    )
    .await;
    assert_eq!(p["slot_id"], first["id"]);
    expect_json(
        app.post(&path, Some(&c.other_partner), &overlapping).await,
        StatusCode::CREATED,
    )
    .await;
    // A grid: 09:20 to 12:00 in 20-minute slots, all or nothing.
    let grid = json!({ "from": "2027-10-19T09:20:00+02:00", "to": "2027-10-19T12:00:00+02:00", "duration_minutes": 20, "capacity": 2 });
    let made = expect_json(app.post(&path, Some(&c.partner), &grid).await, StatusCode::CREATED).await;
    let items = made["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    assert_eq!(items[7]["ends_at"], "2027-10-19T12:00:00+02:00");
    let again = app.post(&path, Some(&c.partner), &grid).await;
    expect_problem(again, StatusCode::CONFLICT, "slot_overlap").await;
    let listed = crate::positions::all_ids(&app, &format!("{path}?organisation_id={}", c.employer), None).await;
    assert_eq!(listed.len(), 9, "the refused grid left nothing behind");
    // Outside the stop's stay, bad capacities and durations: 422 with the field named.
    for (body, field) in [
        (
            json!({ "starts_at": "2027-10-19T16:50:00+02:00", "ends_at": "2027-10-19T17:10:00+02:00" }),
            "starts_at",
        ),
        (
            json!({ "starts_at": "2027-10-19T13:00:00+02:00", "ends_at": "2027-10-19T12:00:00+02:00" }),
            "ends_at",
        ),
        (
            json!({ "starts_at": "2027-10-19T13:00:00+02:00", "ends_at": "2027-10-19T13:20:00+02:00", "capacity": 51 }),
            "capacity",
        ),
        (
            json!({ "from": "2027-10-19T13:00:00+02:00", "to": "2027-10-19T14:00:00+02:00", "duration_minutes": 2 }),
            "duration_minutes",
        ),
        (
            json!({ "from": "2027-10-19T13:00:00+02:00", "to": "2027-10-19T13:10:00+02:00", "duration_minutes": 20 }),
            "to",
        ),
    ] {
        let p = expect_problem(
            app.post(&path, Some(&c.partner), &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], field, "{body}");
    }
    let res = app
        .post(
            &path,
            Some(&c.partner),
            &json!({ "starts_at": "2027-10-19T13:00:00+02:00", "ends_at": "x" }),
        )
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "invalid_body").await;
    let res = app
        .post(
            &path,
            Some(&c.partner),
            &json!({ "from": "2027-10-19T13:00:00+02:00", "colour": 1 }),
        )
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "unknown_field").await;
    // Whose slots: a partner for its own organisation, which takes part in the tour.
    let for_other = json!({ "organisation_id": c.other_employer, "starts_at": "2027-10-19T14:00:00+02:00", "ends_at": "2027-10-19T14:20:00+02:00" });
    expect_problem(
        app.post(&path, Some(&c.partner), &for_other).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let outsider = app.create_organisation("Absent").await;
    let body = json!({ "organisation_id": outsider["id"], "starts_at": "2027-10-19T14:00:00+02:00", "ends_at": "2027-10-19T14:20:00+02:00" });
    let p = expect_problem(
        app.post(&path, Some(&app.organiser), &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "not_a_tour_partner");
    // A position of the slot: the employer's, met at this stop.
    let elsewhere = id(&post_position(
        &app,
        &c.partner,
        &position_body(c, "Ailleurs", json!({ "stop_ids": [c.stops[1]] })),
    )
    .await);
    for (position, status) in [
        (&w.position, StatusCode::CREATED),
        (&elsewhere, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let body = json!({ "position_id": position, "starts_at": "2027-10-19T15:00:00+02:00", "ends_at": "2027-10-19T15:20:00+02:00" });
        assert_eq!(app.post(&path, Some(&c.partner), &body).await.status(), status);
    }
    // The public reads them; `available=true` keeps those with a free seat.
    let public = crate::positions::all_ids(&app, &format!("{path}?limit=3"), None).await;
    assert_eq!(public.len(), 11);
    assert_eq!(
        crate::positions::all_ids(&app, &format!("{path}?position_id={}", w.position), None)
            .await
            .len(),
        1
    );
}

async fn a_grid_across_the_daylight_saving_change_keeps_real_durations(app: TestApp) {
    let org = app.create_organisation("Club").await;
    let body = json!({ "name": "Nuit du changement d'heure", "starts_on": "2027-10-30", "ends_on": "2027-11-01",
                       "organiser_organisation_id": org["id"] });
    let tour = expect_json(
        app.post("/api/v1/tours", Some(&app.organiser), &body).await,
        StatusCode::CREATED,
    )
    .await;
    let tour_id = id(&tour);
    let stop = crate::tours::stop_body(
        "Metz",
        49.1193,
        6.1757,
        "2027-10-31T00:30:00+02:00",
        "2027-10-31T05:00:00+01:00",
    );
    let stop = expect_json(
        app.post(&format!("/api/v1/tours/{tour_id}/stops"), Some(&app.organiser), &stop)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let employer = app.create_organisation("Employeur").await;
    join(&app, &tour_id, employer["id"].as_str().unwrap()).await;
    let grid = json!({ "organisation_id": employer["id"], "from": "2027-10-31T01:30:00+02:00", "to": "2027-10-31T03:30:00+01:00",
                       "duration_minutes": 30 });
    let made = expect_json(
        app.post(
            &format!("/api/v1/stops/{}/slots", id(&stop)),
            Some(&app.organiser),
            &grid,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let times: Vec<(&str, &str)> = made["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["starts_at"].as_str().unwrap(), s["ends_at"].as_str().unwrap()))
        .collect();
    assert_eq!(
        times,
        [
            ("2027-10-31T01:30:00+02:00", "2027-10-31T02:00:00+02:00"),
            ("2027-10-31T02:00:00+02:00", "2027-10-31T02:30:00+02:00"),
            ("2027-10-31T02:30:00+02:00", "2027-10-31T02:00:00+01:00"),
            ("2027-10-31T02:00:00+01:00", "2027-10-31T02:30:00+01:00"),
            ("2027-10-31T02:30:00+01:00", "2027-10-31T03:00:00+01:00"),
            ("2027-10-31T03:00:00+01:00", "2027-10-31T03:30:00+01:00"),
        ],
        "six slots of thirty real minutes: the hour from 02:00 to 03:00 comes twice"
    );
    for (start, end) in times {
        let (s, e) = (
            chrono::DateTime::parse_from_rfc3339(start).unwrap(),
            chrono::DateTime::parse_from_rfc3339(end).unwrap(),
        );
        assert_eq!(e - s, chrono::TimeDelta::minutes(30));
    }
}

async fn a_candidate_books_rebooks_and_cancels(app: TestApp) {
    let w = world(&app).await;
    let s = slot_at(&app, &w.c, 10, 2).await;
    let (a, token) = candidate(&app, &w, "camille@example.org").await;
    let res = book(&app, &s, &token, "").await;
    assert_eq!(res.headers()["location"], format!("/api/v1/slots/{s}/booking"));
    let booked = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(
        (booked["slot_id"].as_str(), booked["application_id"].as_str()),
        (Some(s.as_str()), Some(a.as_str()))
    );
    assert_eq!(booked["starts_at"], "2027-10-19T10:00:00+02:00");
    let again = expect_json(book(&app, &s, &token, "").await, StatusCode::OK).await;
    assert_eq!(again, booked, "booking twice is the same booking");
    assert_eq!(seats(&app, &s).await, (1, 1, 0));
    assert_eq!(application(&app, &a, &token).await["booking"], booked);
    let cancel = format!("/api/v1/slots/{s}/booking");
    assert_eq!(app.delete(&cancel, Some(&token)).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(seats(&app, &s).await, (0, 2, 0));
    assert_eq!(application(&app, &a, &token).await["booking"], Value::Null);
    expect_problem(
        app.delete(&cancel, Some(&token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_json(book(&app, &s, &token, "").await, StatusCode::CREATED).await;
    assert_eq!(seats(&app, &s).await, (1, 1, 0));
    // Only a candidate books: anonymous 401, staff 403.
    expect_problem(book(&app, &s, "", "").await, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let res = app
        .request(Method::PUT, &format!("/api/v1/slots/{s}/booking"), None)
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    expect_problem(
        book(&app, &s, &w.c.partner, "").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let missing = uuid::Uuid::now_v7().to_string();
    expect_problem(
        book(&app, &missing, &token, "").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn moving_a_booking_frees_the_old_seat(app: TestApp) {
    let w = world(&app).await;
    let (first, second) = (slot_at(&app, &w.c, 10, 1).await, slot_at(&app, &w.c, 11, 1).await);
    let (a, token) = candidate(&app, &w, "camille@example.org").await;
    expect_json(book(&app, &first, &token, "").await, StatusCode::CREATED).await;
    let p = expect_problem(
        book(&app, &second, &token, "").await,
        StatusCode::CONFLICT,
        "already_booked",
    )
    .await;
    assert_eq!(p["slot_id"], first.as_str());
    expect_json(book(&app, &second, &token, "?move=true").await, StatusCode::CREATED).await;
    assert_eq!(seats(&app, &first).await, (0, 1, 0));
    assert_eq!(seats(&app, &second).await, (1, 0, 0));
    assert_eq!(
        application(&app, &a, &token).await["booking"]["slot_id"],
        second.as_str()
    );
    // A move into a full slot fails whole: the old booking stays.
    let (_, other) = candidate(&app, &w, "other@example.org").await;
    expect_json(book(&app, &first, &other, "").await, StatusCode::CREATED).await;
    expect_problem(
        book(&app, &first, &token, "?move=true").await,
        StatusCode::CONFLICT,
        "slot_full",
    )
    .await;
    assert_eq!(
        application(&app, &a, &token).await["booking"]["slot_id"],
        second.as_str()
    );
    assert_eq!(seats(&app, &second).await, (1, 0, 0));
}

async fn every_refusal_of_a_booking(app: TestApp) {
    let w = world(&app).await;
    let c = &w.c;
    let s = slot_at(&app, &w.c, 10, 1).await;
    let (_, first) = candidate(&app, &w, "first@example.org").await;
    let (_, second) = candidate(&app, &w, "second@example.org").await;
    expect_json(book(&app, &s, &first, "").await, StatusCode::CREATED).await;
    expect_problem(book(&app, &s, &second, "").await, StatusCode::CONFLICT, "slot_full").await;
    // Withdrawn, rejected, hired: no more interviews.
    let (a, withdrawn) = candidate(&app, &w, "gone@example.org").await;
    app.request(
        Method::POST,
        &format!("/api/v1/applications/{a}/withdraw"),
        Some(&withdrawn),
    )
    .send()
    .await
    .unwrap();
    let free = slot_at(&app, &w.c, 11, 1).await;
    expect_problem(
        book(&app, &free, &withdrawn, "").await,
        StatusCode::CONFLICT,
        "application_not_active",
    )
    .await;
    let (r, rejected) = candidate(&app, &w, "rejected@example.org").await;
    crate::applications::move_to(&app, &c.partner, &r, &["rejected"]).await;
    expect_problem(
        book(&app, &free, &rejected, "").await,
        StatusCode::CONFLICT,
        "application_not_active",
    )
    .await;
    // Another employer's slot.
    let body = json!({ "starts_at": "2027-10-19T12:00:00+02:00", "ends_at": "2027-10-19T12:20:00+02:00" });
    let theirs = id(&expect_json(
        app.post(
            &format!("/api/v1/stops/{}/slots", c.stops[0]),
            Some(&c.other_partner),
            &body,
        )
        .await,
        StatusCode::CREATED,
    )
    .await);
    expect_problem(
        book(&app, &theirs, &second, "").await,
        StatusCode::CONFLICT,
        "wrong_employer",
    )
    .await;
    // A slot that has begun: a tour in the past.
    let past = past_tour_slot(&app, c).await;
    let pos = post_position(
        &app,
        &app.organiser,
        &json!({ "tour_id": past.0, "organisation_id": c.employer, "title": "Passé",
        "contract_type": "cdi", "city": "Metz", "status": "open" }),
    )
    .await;
    let old = apply_with(&app, &id(&pos), &application_body("late@example.org")).await;
    let late = old["access_token"].as_str().unwrap();
    expect_problem(
        book(&app, &past.1, late, "").await,
        StatusCode::CONFLICT,
        "slot_started",
    )
    .await;
    // A slot of another tour than the application's.
    expect_problem(
        book(&app, &past.1, &second, "").await,
        StatusCode::CONFLICT,
        "wrong_tour",
    )
    .await;
    // A cancelled tour books nothing (its slots are still found by the candidate).
    let res = app
        .patch(
            &format!("/api/v1/tours/{}", c.tour),
            Some(&app.organiser),
            &json!({ "status": "cancelled" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    expect_problem(
        book(&app, &free, &second, "").await,
        StatusCode::CONFLICT,
        "tour_cancelled",
    )
    .await;
    expect_problem(
        wait(&app, &s, &second, "").await,
        StatusCode::CONFLICT,
        "tour_cancelled",
    )
    .await;
}

/// A published tour of the past (1–2 November 2026) with a stop and a slot of the campaign's
/// employer: `(tour id, slot id)`.
async fn past_tour_slot(app: &TestApp, c: &Campaign) -> (String, String) {
    let body = json!({ "name": "Passée", "starts_on": "2026-11-01", "ends_on": "2026-11-02", "organiser_organisation_id": c.employer });
    let tour = id(&expect_json(
        app.post("/api/v1/tours", Some(&app.organiser), &body).await,
        StatusCode::CREATED,
    )
    .await);
    let stop = crate::tours::stop_body(
        "Toul",
        48.675,
        5.8917,
        "2026-11-01T09:00:00+01:00",
        "2026-11-01T17:00:00+01:00",
    );
    let stop = id(&expect_json(
        app.post(&format!("/api/v1/tours/{tour}/stops"), Some(&app.organiser), &stop)
            .await,
        StatusCode::CREATED,
    )
    .await);
    join(app, &tour, &c.employer).await;
    let res = app
        .patch(
            &format!("/api/v1/tours/{tour}"),
            Some(&app.organiser),
            &json!({ "status": "published" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let body = json!({ "organisation_id": c.employer, "starts_at": "2026-11-01T10:00:00+01:00", "ends_at": "2026-11-01T10:20:00+01:00" });
    let slot = id(&expect_json(
        app.post(&format!("/api/v1/stops/{stop}/slots"), Some(&app.organiser), &body)
            .await,
        StatusCode::CREATED,
    )
    .await);
    (tour, slot)
}

async fn deleting_a_booked_slot_needs_an_organiser_and_force(app: TestApp) {
    let w = world(&app).await;
    let s = slot_at(&app, &w.c, 10, 2).await;
    let empty = slot_at(&app, &w.c, 11, 2).await;
    let (a, token) = candidate(&app, &w, "camille@example.org").await;
    expect_json(book(&app, &s, &token, "").await, StatusCode::CREATED).await;
    let path = format!("/api/v1/slots/{s}");
    expect_problem(
        app.delete(&path, Some(&w.c.partner)).await,
        StatusCode::CONFLICT,
        "slot_has_bookings",
    )
    .await;
    let force = format!("{path}?force=true");
    expect_problem(
        app.delete(&force, Some(&w.c.partner)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(
        app.delete(&format!("/api/v1/slots/{empty}"), Some(&w.c.partner))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&force, Some(&app.organiser)).await.status(),
        StatusCode::NO_CONTENT
    );
    expect_problem(app.get(&path, None).await, StatusCode::NOT_FOUND, "not_found").await;
    // The booking is gone from the application, kept with its reason; the candidate books again.
    assert_eq!(application(&app, &a, &token).await["booking"], Value::Null);
    let other = slot_at(&app, &w.c, 12, 1).await;
    expect_json(book(&app, &other, &token, "").await, StatusCode::CREATED).await;
    let kept = crate::common::count(
        &app,
        "SELECT count(*) FROM bookings WHERE cancel_reason = 'slot_deleted' AND slot_id IS NULL",
    )
    .await;
    assert_eq!(kept, 1);
}

async fn capacity_never_drops_below_the_bookings_and_a_rise_seats_the_line(app: TestApp) {
    let w = world(&app).await;
    let s = slot_at(&app, &w.c, 10, 2).await;
    let mut tokens = Vec::new();
    for i in 0..5 {
        tokens.push(candidate(&app, &w, &format!("c{i}@example.org")).await);
    }
    for (_, t) in &tokens[..2] {
        expect_json(book(&app, &s, t, "").await, StatusCode::CREATED).await;
    }
    for (i, (_, t)) in tokens[2..].iter().enumerate() {
        let place = expect_json(wait(&app, &s, t, "").await, StatusCode::CREATED).await;
        assert_eq!(place["position"], i as i64 + 1);
    }
    let path = format!("/api/v1/slots/{s}");
    let p = expect_problem(
        app.patch(&path, Some(&w.c.partner), &json!({ "capacity": 1 })).await,
        StatusCode::CONFLICT,
        "capacity_below_booked",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains('2'));
    let raised = expect_json(
        app.patch(&path, Some(&w.c.partner), &json!({ "capacity": 4 })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (raised["booked"].as_i64(), raised["waiting"].as_i64()),
        (Some(4), Some(1)),
        "the first two in line got the seats"
    );
    let (a2, t2) = &tokens[2];
    assert_eq!(application(&app, a2, t2).await["booking"]["slot_id"], s.as_str());
    let (a4, t4) = &tokens[4];
    let last = application(&app, a4, t4).await;
    assert_eq!(
        (last["booking"].clone(), last["waiting"]["position"].as_i64()),
        (Value::Null, Some(1))
    );
}

async fn the_waiting_line_fills_a_freed_seat_first_come_first_served(app: TestApp) {
    let w = world(&app).await;
    let s = slot_at(&app, &w.c, 10, 1).await;
    let other = slot_at(&app, &w.c, 11, 1).await;
    let (holder, holder_token) = candidate(&app, &w, "holder@example.org").await;
    let (a, first) = candidate(&app, &w, "first@example.org").await;
    let (b, second) = candidate(&app, &w, "second@example.org").await;
    // A slot with a free seat is booked, not waited for.
    expect_problem(wait(&app, &s, &first, "").await, StatusCode::CONFLICT, "slot_available").await;
    expect_json(book(&app, &s, &holder_token, "").await, StatusCode::CREATED).await;
    expect_problem(
        wait(&app, &s, &holder_token, "").await,
        StatusCode::CONFLICT,
        "already_booked",
    )
    .await;
    let place = expect_json(wait(&app, &s, &first, "").await, StatusCode::CREATED).await;
    assert_eq!(place["position"], 1);
    assert_eq!(
        expect_json(wait(&app, &s, &first, "").await, StatusCode::OK).await["position"],
        1
    );
    assert_eq!(
        expect_json(wait(&app, &s, &second, "").await, StatusCode::CREATED).await["position"],
        2
    );
    assert_eq!(seats(&app, &s).await, (1, 0, 2));
    assert_eq!(application(&app, &b, &second).await["waiting"]["position"], 2);
    // One line at a time, unless moving.
    expect_json(
        book(&app, &other, &holder_token, "?move=true").await,
        StatusCode::CREATED,
    )
    .await;
    // The holder moved: its seat went to the first in line, in the same request.
    assert_eq!(application(&app, &a, &first).await["booking"]["slot_id"], s.as_str());
    assert_eq!(application(&app, &b, &second).await["waiting"]["position"], 1);
    assert_eq!(seats(&app, &s).await, (1, 0, 1));
    let _ = holder;
    let (c, third) = candidate(&app, &w, "third@example.org").await;
    expect_json(wait(&app, &other, &third, "").await, StatusCode::CREATED).await;
    let p = expect_problem(
        wait(&app, &s, &third, "").await,
        StatusCode::CONFLICT,
        "already_waiting",
    )
    .await;
    assert_eq!(p["slot_id"], other.as_str());
    assert_eq!(
        expect_json(wait(&app, &s, &third, "?move=true").await, StatusCode::CREATED).await["position"],
        2
    );
    assert_eq!(seats(&app, &other).await, (1, 0, 0));
    // Leaving the line; cancelling a seat hands it to the next in line.
    let leave = format!("/api/v1/slots/{s}/waitlist");
    assert_eq!(app.delete(&leave, Some(&second)).await.status(), StatusCode::NO_CONTENT);
    expect_problem(
        app.delete(&leave, Some(&second)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(application(&app, &c, &third).await["waiting"]["position"], 1);
    assert_eq!(
        app.delete(&format!("/api/v1/slots/{s}/booking"), Some(&first))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let promoted = application(&app, &c, &third).await;
    assert_eq!(
        (promoted["booking"]["slot_id"].as_str(), promoted["waiting"].clone()),
        (Some(s.as_str()), Value::Null)
    );
    assert_eq!(seats(&app, &s).await, (1, 0, 0));
}

async fn a_promotion_moves_the_candidate_and_its_old_seat_goes_down_the_line(app: TestApp) {
    let w = world(&app).await;
    let (s1, s2) = (slot_at(&app, &w.c, 10, 1).await, slot_at(&app, &w.c, 11, 1).await);
    let (x, tx) = candidate(&app, &w, "x@example.org").await;
    let (_, ty) = candidate(&app, &w, "y@example.org").await;
    let (z, tz) = candidate(&app, &w, "z@example.org").await;
    expect_json(book(&app, &s1, &tx, "").await, StatusCode::CREATED).await;
    expect_json(book(&app, &s2, &ty, "").await, StatusCode::CREATED).await;
    // X, booked in S1, waits for S2; Z waits for S1.
    expect_json(wait(&app, &s2, &tx, "").await, StatusCode::CREATED).await;
    expect_json(wait(&app, &s1, &tz, "").await, StatusCode::CREATED).await;
    // Y cancels S2: X moves there, and the seat X leaves in S1 goes to Z.
    assert_eq!(
        app.delete(&format!("/api/v1/slots/{s2}/booking"), Some(&ty))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let xv = application(&app, &x, &tx).await;
    assert_eq!(
        (xv["booking"]["slot_id"].as_str(), xv["waiting"].clone()),
        (Some(s2.as_str()), Value::Null)
    );
    let zv = application(&app, &z, &tz).await;
    assert_eq!(
        (zv["booking"]["slot_id"].as_str(), zv["waiting"].clone()),
        (Some(s1.as_str()), Value::Null)
    );
    assert_eq!(seats(&app, &s1).await, (1, 0, 0));
    assert_eq!(seats(&app, &s2).await, (1, 0, 0));
    let moved = crate::common::count(&app, "SELECT count(*) FROM bookings WHERE cancel_reason = 'moved'").await;
    assert_eq!(moved, 1);
}

async fn a_withdrawn_or_rejected_application_frees_its_seat(app: TestApp) {
    let w = world(&app).await;
    let s = slot_at(&app, &w.c, 10, 1).await;
    let (a, holder) = candidate(&app, &w, "holder@example.org").await;
    let (b, next) = candidate(&app, &w, "next@example.org").await;
    let (c, last) = candidate(&app, &w, "last@example.org").await;
    expect_json(book(&app, &s, &holder, "").await, StatusCode::CREATED).await;
    expect_json(wait(&app, &s, &next, "").await, StatusCode::CREATED).await;
    expect_json(wait(&app, &s, &last, "").await, StatusCode::CREATED).await;
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/applications/{a}/withdraw"),
            Some(&holder),
        )
        .send()
        .await
        .unwrap();
    let gone = expect_json(res, StatusCode::OK).await;
    assert_eq!(
        (gone["status"].as_str(), gone["booking"].clone()),
        (Some("withdrawn"), Value::Null)
    );
    assert_eq!(application(&app, &b, &next).await["booking"]["slot_id"], s.as_str());
    crate::applications::move_to(&app, &w.c.partner, &b, &["rejected"]).await;
    assert_eq!(application(&app, &c, &last).await["booking"]["slot_id"], s.as_str());
    assert_eq!(seats(&app, &s).await, (1, 0, 0));
}

async fn staff_see_who_booked_names_for_the_employer_only(app: TestApp) {
    let w = world(&app).await;
    let s = slot_at(&app, &w.c, 10, 2).await;
    let (a, token) = candidate(&app, &w, "camille@example.org").await;
    expect_json(book(&app, &s, &token, "").await, StatusCode::CREATED).await;
    let path = format!("/api/v1/slots/{s}/bookings");
    for who in [&w.c.partner, &app.organiser] {
        let page = expect_json(app.get(&path, Some(who)).await, StatusCode::OK).await;
        assert_eq!(page["items"][0]["application_id"], a.as_str());
        assert_eq!(
            (
                page["items"][0]["first_name"].as_str(),
                page["items"][0]["last_name"].as_str()
            ),
            (Some("Camille"), Some("Durand"))
        );
    }
    let page = expect_json(app.get(&path, Some(&w.c.other_partner)).await, StatusCode::OK).await;
    assert_eq!(page["items"][0]["first_name"], Value::Null);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    expect_problem(app.get(&path, None).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    expect_problem(app.get(&path, Some(&token)).await, StatusCode::FORBIDDEN, "forbidden").await;
}

async fn two_hundred_candidates_race_for_ten_seats(app: TestApp) {
    let w = world(&app).await;
    let s = slot_at(&app, &w.c, 10, 10).await;
    let mut tokens = Vec::new();
    for i in 0..200 {
        tokens.push(candidate(&app, &w, &format!("race{i}@example.org")).await.1);
    }
    let statuses = join_all(tokens.iter().map(|t| {
        let (app, s) = (&app, &s);
        async move {
            let res = book(app, s, t, "").await;
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    }))
    .await;
    let ok = statuses.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let full = statuses
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "slot_full")
        .count();
    let failed: Vec<_> = statuses.iter().filter(|(s, _)| s.is_server_error()).collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!((ok, full), (10, 190));
    assert_eq!(seats(&app, &s).await, (10, 0, 0));
    assert_eq!(
        crate::common::count(&app, "SELECT count(*) FROM bookings WHERE status = 'active'").await,
        10
    );
}

async fn one_application_fired_at_twenty_slots_books_one(app: TestApp) {
    let w = world(&app).await;
    let grid = json!({ "from": "2027-10-19T09:00:00+02:00", "to": "2027-10-19T15:40:00+02:00", "duration_minutes": 20, "capacity": 3 });
    let made = expect_json(
        app.post(
            &format!("/api/v1/stops/{}/slots", w.c.stops[0]),
            Some(&w.c.partner),
            &grid,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let ids: Vec<String> = made["items"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(ids.len(), 20);
    let (a, token) = candidate(&app, &w, "eager@example.org").await;
    let statuses = join_all(ids.iter().map(|s| {
        let (app, token) = (&app, &token);
        async move {
            let res = book(app, s, token, "").await;
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    }))
    .await;
    let ok = statuses.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    assert_eq!(ok, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|(s, b)| *s == StatusCode::CREATED || b["code"] == "already_booked"),
        "{statuses:?}"
    );
    assert_eq!(
        crate::common::count(&app, "SELECT count(*) FROM bookings WHERE status = 'active'").await,
        1
    );
    let booked = application(&app, &a, &token).await["booking"]["slot_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut total = 0;
    for s in &ids {
        let (b, _, _) = seats(&app, s).await;
        total += b;
        assert_eq!(b, i64::from(*s == booked));
    }
    assert_eq!(total, 1);
}

async fn thirty_candidates_join_a_line_at_once(app: TestApp) {
    let w = world(&app).await;
    let s = slot_at(&app, &w.c, 10, 1).await;
    let (_, holder) = candidate(&app, &w, "holder@example.org").await;
    expect_json(book(&app, &s, &holder, "").await, StatusCode::CREATED).await;
    let mut tokens = Vec::new();
    for i in 0..30 {
        tokens.push(candidate(&app, &w, &format!("line{i}@example.org")).await);
    }
    let places = join_all(tokens.iter().map(|(_, t)| {
        let (app, s) = (&app, &s);
        async move {
            expect_json(wait(app, s, t, "").await, StatusCode::CREATED).await["position"]
                .as_i64()
                .unwrap()
        }
    }))
    .await;
    let distinct: HashSet<i64> = places.iter().copied().collect();
    assert_eq!(
        distinct,
        (1..=30).collect::<HashSet<i64>>(),
        "places 1..30, no gap, no repeat: {places:?}"
    );
    assert_eq!(seats(&app, &s).await, (1, 0, 30));
    // Each candidate's place, read back, is the one it was given.
    for ((a, t), place) in tokens.iter().zip(&places) {
        assert_eq!(application(&app, a, t).await["waiting"]["position"], *place);
    }
}

async fn a_stop_keeps_its_slots_inside_and_a_hired_candidate_leaves_the_line(app: TestApp) {
    let w = world(&app).await;
    let early = slot_at(&app, &w.c, 9, 1).await;
    let late = slot_at(&app, &w.c, 16, 1).await;
    let stop = format!("/api/v1/stops/{}", w.c.stops[0]);
    let res = app
        .patch(
            &stop,
            Some(&app.organiser),
            &json!({ "arrives_at": "2027-10-19T10:00:00+02:00", "departs_at": "2027-10-19T16:00:00+02:00" }),
        )
        .await;
    let p = expect_problem(res, StatusCode::CONFLICT, "slots_outside_stop").await;
    let named: HashSet<&str> = p["slot_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(named, HashSet::from([early.as_str(), late.as_str()]));
    let res = app
        .patch(
            &stop,
            Some(&app.organiser),
            &json!({ "arrives_at": "2027-10-19T08:30:00+02:00" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    // A hired candidate waits in no line any more.
    let (_, holder) = candidate(&app, &w, "holder@example.org").await;
    expect_json(book(&app, &early, &holder, "").await, StatusCode::CREATED).await;
    let (a, token) = candidate(&app, &w, "hired@example.org").await;
    expect_json(wait(&app, &early, &token, "").await, StatusCode::CREATED).await;
    crate::applications::move_to(&app, &w.c.partner, &a, &["screening", "interview", "offered", "hired"]).await;
    assert_eq!(application(&app, &a, &token).await["waiting"], Value::Null);
    assert_eq!(seats(&app, &early).await, (1, 0, 0));
}
