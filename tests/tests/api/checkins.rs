//! The day at the bus: check-in codes, scanning (one, a batch, fifty at once), walk-ins,
//! attendance and its live stream.

use crate::applications::{application_body, apply_with, move_to};
use crate::common::{Backend, TestApp, both, count, error_fields, expect_json, expect_problem, spawn};
use crate::positions::join;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use futures_util::future::join_all;
use reqwest::header::ACCEPT;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

both!(
    a_code_is_read_scanned_and_scanned_again,
    void_forged_and_foreign_codes_are_refused,
    the_stop_hours_hold_unless_an_organiser_forces,
    a_walk_in_applies_and_checks_in_at_once,
    attendance_and_stats_equal_the_counts,
    an_offline_queue_replayed_twice_counts_once,
    fifty_scans_of_one_code_check_in_once,
    the_stream_delivers_checkins_to_ticket_and_bearer_holders,
);

/// A published tour on the road today: stop `now` (the bus is there: arrived half an hour ago,
/// leaves in three hours), stop `later` (tonight, not open yet) and stop `earlier` (this
/// morning's, over); an employer taking part with its partner, a position at every stop, and a
/// second employer not taking part.
pub struct Today {
    pub tour: String,
    pub now: String,
    pub later: String,
    pub earlier: String,
    /// When `earlier` was open.
    pub earlier_arrived: DateTime<Utc>,
    pub employer: String,
    pub partner: String,
    pub outsider: String,
    pub position: String,
    /// A position at `later` only.
    pub later_position: String,
}

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub async fn today(app: &TestApp) -> Today {
    let now = Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap();
    let org = app.create_organisation("Lorraine Contact Client").await;
    let day = |d: i64| (now + TimeDelta::days(d)).date_naive().to_string();
    let body = json!({
        "name": "Un job au bout du fil, aujourd'hui", "starts_on": day(-1), "ends_on": day(1),
        "organiser_organisation_id": org["id"], "positions_target": 100,
    });
    let tour = id(&expect_json(
        app.post("/api/v1/tours", Some(&app.organiser), &body).await,
        StatusCode::CREATED,
    )
    .await);
    let mut stops = Vec::new();
    let earlier_arrived = now - TimeDelta::hours(10);
    for (city, arrives, departs) in [
        ("Metz", now - TimeDelta::minutes(30), now + TimeDelta::hours(3)),
        ("Nancy", now + TimeDelta::hours(5), now + TimeDelta::hours(6)),
        ("Thionville", earlier_arrived, now - TimeDelta::hours(8)),
    ] {
        let body = crate::tours::stop_body(city, 49.1, 6.1, &at(arrives), &at(departs));
        let res = app
            .post(&format!("/api/v1/tours/{tour}/stops"), Some(&app.organiser), &body)
            .await;
        stops.push(id(&expect_json(res, StatusCode::CREATED).await));
    }
    let res = app
        .patch(
            &format!("/api/v1/tours/{tour}"),
            Some(&app.organiser),
            &json!({ "status": "published" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let employer = id(&app.create_organisation("Crédit Mosellan").await);
    join(app, &tour, &employer).await;
    let (_, partner) = app.partner_of(&employer).await;
    let outsider_org = id(&app.create_organisation("Ailleurs SA").await);
    let (_, outsider) = app.partner_of(&outsider_org).await;
    let [now_stop, later, earlier]: [String; 3] = stops.try_into().unwrap();
    let post = |title: &str, stop_ids: Vec<&String>| {
        let body = json!({
            "tour_id": tour, "title": title, "contract_type": "cdi", "city": "Metz",
            "openings": 20, "status": "open", "stop_ids": stop_ids,
        });
        let partner = partner.clone();
        async move {
            id(&expect_json(
                app.post("/api/v1/positions", Some(&partner), &body).await,
                StatusCode::CREATED,
            )
            .await)
        }
    };
    let position = post("Conseiller clientèle", vec![&now_stop, &later, &earlier]).await;
    let later_position = post("Technicien support", vec![&later]).await;
    Today {
        tour,
        now: now_stop,
        later,
        earlier,
        earlier_arrived,
        employer,
        partner,
        outsider,
        position,
        later_position,
    }
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// A candidate who applied to the position: `(application id, token)`.
async fn candidate(app: &TestApp, t: &Today, email: &str) -> (String, String) {
    let a = apply_with(app, &t.position, &application_body(email)).await;
    (id(&a), a["access_token"].as_str().unwrap().to_owned())
}

/// The application's check-in code, as JSON.
async fn code_of(app: &TestApp, application: &str, token: &str) -> String {
    let res = app
        .request(
            Method::GET,
            &format!("/api/v1/applications/{application}/checkin-code"),
            Some(token),
        )
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn scan(app: &TestApp, stop: &str, token: &str, body: &Value) -> reqwest::Response {
    app.post(&format!("/api/v1/stops/{stop}/checkins"), Some(token), body)
        .await
}

/// The text a QR code drawn as SVG holds, read by an independent decoder (`rqrr`) from the
/// picture `resvg` paints of it.
fn decode_qr(svg: &str) -> String {
    let tree = resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).expect("an SVG");
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let (w, h) = (pixmap.width(), pixmap.height());
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
        pixmap.pixel(x as u32, y as u32).unwrap().red()
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().expect("a readable QR code").1
}

async fn a_code_is_read_scanned_and_scanned_again(app: TestApp) {
    let t = today(&app).await;
    let (application, token) = candidate(&app, &t, "camille@example.org").await;
    let code = code_of(&app, &application, &token).await;
    assert!(code.starts_with("JT1.") && code.len() == 70, "{code}");
    assert!(!code.contains("camille"), "no personal data in the code");
    // The picture holds the same code.
    let res = app
        .get(
            &format!("/api/v1/applications/{application}/checkin-code"),
            Some(&token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert_eq!(decode_qr(&res.text().await.unwrap()), code);
    // Another candidate's token opens nothing; the employer's staff may print it.
    let (_, other) = candidate(&app, &t, "dominique@example.org").await;
    let res = app
        .get(
            &format!("/api/v1/applications/{application}/checkin-code"),
            Some(&other),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(code_of(&app, &application, &t.partner).await, code);

    let first = expect_json(
        scan(&app, &t.now, &t.partner, &json!({ "code": code })).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["application_id"], application.as_str());
    assert_eq!(first["first_name"], "Camille");
    assert_eq!(first["position"]["title"], "Conseiller clientèle");
    assert_eq!(first["position"]["employer_name"], "Crédit Mosellan");
    assert_eq!(first["walk_in"], false);
    assert_eq!(first["forced"], false);
    assert!(first["slot"].is_null() && first["timing"].is_null(), "{first}");
    // Again, by an organiser this time: the first check-in, unchanged.
    let again = expect_json(
        scan(&app, &t.now, &app.organiser, &json!({ "code": format!(" {code}\n") })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["scanned_at"], first["scanned_at"]);
    let list = expect_json(
        app.get(&format!("/api/v1/stops/{}/checkins", t.now), Some(&t.partner))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], first["id"]);
    // The candidate's export tells where and when it came.
    let export = expect_json(
        app.get(&format!("/api/v1/applications/{application}/export"), Some(&token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(export["checkins"].as_array().unwrap().len(), 1, "{export}");
    assert_eq!(export["checkins"][0]["stop_id"], t.now.as_str());
    assert_eq!(export["checkins"][0]["scanned_at"], first["scanned_at"]);

    // A booked candidate comes early for its interview, in 30 minutes.
    let starts = Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap() + TimeDelta::minutes(30);
    let slot = expect_json(
        app.post(
            &format!("/api/v1/stops/{}/slots", t.now),
            Some(&t.partner),
            &json!({ "starts_at": at(starts), "ends_at": at(starts + TimeDelta::minutes(20)), "capacity": 2 }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let (booked, booked_token) = candidate(&app, &t, "booked@example.org").await;
    let res = app
        .request(
            Method::PUT,
            &format!("/api/v1/slots/{}/booking", id(&slot)),
            Some(&booked_token),
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let code = code_of(&app, &booked, &booked_token).await;
    let early = expect_json(
        scan(&app, &t.now, &t.partner, &json!({ "code": code })).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(early["slot"]["id"], slot["id"]);
    assert_eq!(early["timing"], "early");
    // The same code at another stop of the tour is another check-in (the bus's next day).
    expect_problem(
        scan(&app, &t.later, &app.organiser, &json!({ "code": code })).await,
        StatusCode::CONFLICT,
        "stop_not_open",
    )
    .await;
    let elsewhere = expect_json(forced(&app, &t.later, &code).await, StatusCode::CREATED).await;
    assert_ne!(elsewhere["id"], early["id"]);
    assert!(elsewhere["slot"].is_null(), "the slot is at the other stop");
}

/// Scans at `stop` with `?force=true` as the organiser.
async fn forced(app: &TestApp, stop: &str, code: &str) -> reqwest::Response {
    app.post(
        &format!("/api/v1/stops/{stop}/checkins?force=true"),
        Some(&app.organiser),
        &json!({ "code": code }),
    )
    .await
}

async fn void_forged_and_foreign_codes_are_refused(app: TestApp) {
    let t = today(&app).await;
    let (application, token) = candidate(&app, &t, "camille@example.org").await;
    let code = code_of(&app, &application, &token).await;
    // One character changed, anywhere: a damaged or forged code.
    for i in [0, 4, 20, 40, 60, 69] {
        let mut damaged: Vec<char> = code.chars().collect();
        damaged[i] = if damaged[i] == 'A' { 'B' } else { 'A' };
        let damaged: String = damaged.into_iter().collect();
        let problem = expect_problem(
            scan(&app, &t.now, &t.partner, &json!({ "code": damaged })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "code");
        assert_eq!(problem["errors"][0]["code"], "invalid_code");
    }
    // A code of another tour.
    let c = crate::positions::campaign(&app).await;
    let other_position = id(&expect_json(
        app.post(
            "/api/v1/positions",
            Some(&c.partner),
            &crate::positions::position_body(&c, "Chargé de recouvrement", json!({})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await);
    let other = apply_with(&app, &other_position, &application_body("ailleurs@example.org")).await;
    let other_code = code_of(&app, &id(&other), other["access_token"].as_str().unwrap()).await;
    expect_problem(
        scan(&app, &t.now, &t.partner, &json!({ "code": other_code })).await,
        StatusCode::CONFLICT,
        "wrong_tour",
    )
    .await;
    // Withdrawn: void, and no code is given any more.
    let res = app
        .post(
            &format!("/api/v1/applications/{application}/withdraw"),
            Some(&token),
            &json!({}),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    expect_problem(
        scan(&app, &t.now, &t.partner, &json!({ "code": code })).await,
        StatusCode::CONFLICT,
        "application_not_active",
    )
    .await;
    let res = app
        .get(
            &format!("/api/v1/applications/{application}/checkin-code"),
            Some(&token),
        )
        .await;
    expect_problem(res, StatusCode::CONFLICT, "application_not_active").await;
    // Rejected: void.
    let (rejected, rejected_token) = candidate(&app, &t, "rejected@example.org").await;
    let code = code_of(&app, &rejected, &rejected_token).await;
    move_to(&app, &t.partner, &rejected, &["rejected"]).await;
    expect_problem(
        scan(&app, &t.now, &t.partner, &json!({ "code": code })).await,
        StatusCode::CONFLICT,
        "application_not_active",
    )
    .await;
    // Erased: void, even once checked in before.
    let (erased, erased_token) = candidate(&app, &t, "erased@example.org").await;
    let code = code_of(&app, &erased, &erased_token).await;
    let res = app
        .delete(&format!("/api/v1/applications/{erased}"), Some(&erased_token))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    expect_problem(
        scan(&app, &t.now, &t.partner, &json!({ "code": code })).await,
        StatusCode::CONFLICT,
        "application_not_active",
    )
    .await;
    // Who may scan: not an employer outside the tour, not a candidate, not anonymous.
    let (fresh, fresh_token) = candidate(&app, &t, "fresh@example.org").await;
    let code = code_of(&app, &fresh, &fresh_token).await;
    expect_problem(
        scan(&app, &t.now, &t.outsider, &json!({ "code": code })).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        scan(&app, &t.now, &fresh_token, &json!({ "code": code })).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let res = app
        .post(
            &format!("/api/v1/stops/{}/checkins", t.now),
            None,
            &json!({ "code": code }),
        )
        .await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(count(&app, "SELECT count(*) FROM checkins").await, 0);
}

async fn the_stop_hours_hold_unless_an_organiser_forces(app: TestApp) {
    let t = today(&app).await;
    let (application, token) = candidate(&app, &t, "camille@example.org").await;
    let code = code_of(&app, &application, &token).await;
    // Tonight's stop is not open yet; the employer's partner may not force it, an organiser may.
    let problem = expect_problem(
        scan(&app, &t.later, &t.partner, &json!({ "code": code })).await,
        StatusCode::CONFLICT,
        "stop_not_open",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("from"), "{problem}");
    let res = app
        .post(
            &format!("/api/v1/stops/{}/checkins?force=true", t.later),
            Some(&t.partner),
            &json!({ "code": code }),
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let forced_in = expect_json(forced(&app, &t.later, &code).await, StatusCode::CREATED).await;
    assert_eq!(forced_in["forced"], true);
    // This morning's stop is over: a scan now is refused, a queued scan made while it was on
    // is taken with its time.
    expect_problem(
        scan(&app, &t.earlier, &t.partner, &json!({ "code": code })).await,
        StatusCode::CONFLICT,
        "stop_not_open",
    )
    .await;
    let then = t.earlier_arrived + TimeDelta::minutes(10);
    let queued = expect_json(
        scan(
            &app,
            &t.earlier,
            &t.partner,
            &json!({ "code": code, "scanned_at": at(then) }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        queued["scanned_at"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(),
        then
    );
    // Not in the future, not before the stop's day.
    let (other, other_token) = candidate(&app, &t, "dominique@example.org").await;
    let code = code_of(&app, &other, &other_token).await;
    for (scanned_at, why) in [
        (Utc::now() + TimeDelta::minutes(10), "in_future"),
        (t.earlier_arrived - TimeDelta::days(1), "before_stop_day"),
    ] {
        let problem = expect_problem(
            scan(
                &app,
                &t.earlier,
                &t.partner,
                &json!({ "code": code, "scanned_at": at(scanned_at) }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "scanned_at");
        assert_eq!(problem["errors"][0]["code"], why);
    }
}

async fn a_walk_in_applies_and_checks_in_at_once(app: TestApp) {
    let t = today(&app).await;
    let path = format!("/api/v1/stops/{}/walk-ins", t.now);
    let body = json!({
        "first_name": "Yanis", "last_name": "Benali", "email": "Yanis.Benali@example.org",
        "phone": "06 98 76 54 32", "position_id": t.position, "consent": true,
    });
    let res = app.post(&path, Some(&t.partner), &body).await;
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let walked = expect_json(res, StatusCode::CREATED).await;
    let application = &walked["application"];
    assert_eq!(location, format!("/api/v1/applications/{}", id(application)));
    assert_eq!(application["source"], "walk_in");
    assert_eq!(application["email"], "yanis.benali@example.org");
    assert_eq!(application["phone"], "+33698765432");
    assert_eq!(application["preferred_stop_id"], t.now.as_str());
    assert_eq!(walked["checkin"]["walk_in"], true);
    assert_eq!(walked["checkin"]["application_id"], application["id"]);
    // Its token opens the application and gives its code, which scans as "checked in before".
    let token = application["access_token"].as_str().unwrap();
    let res = app.get(&location, Some(token)).await;
    let seen = expect_json(res, StatusCode::OK).await;
    let mut answered = application.clone();
    answered.as_object_mut().unwrap().remove("access_token");
    assert_eq!(seen, answered, "the walk-in's application as reading it gives");
    let code = code_of(&app, &id(application), token).await;
    let again = expect_json(
        scan(&app, &t.now, &t.partner, &json!({ "code": code })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["id"], walked["checkin"]["id"]);
    // The duplicate rule of applying: once per e-mail and position, walk-in or online.
    expect_problem(
        app.post(&path, Some(&app.organiser), &body).await,
        StatusCode::CONFLICT,
        "duplicate_application",
    )
    .await;
    let online = apply_with(&app, &t.position, &application_body("online@example.org")).await;
    let mut dup = body.clone();
    dup["email"] = json!("online@example.org");
    expect_problem(
        app.post(&path, Some(&t.partner), &dup).await,
        StatusCode::CONFLICT,
        "duplicate_application",
    )
    .await;
    assert_eq!(online["source"], "web");
    // A position not offered at this stop, consent withheld, a bad e-mail: 422 by field.
    let mut elsewhere = body.clone();
    elsewhere["email"] = json!("other@example.org");
    elsewhere["position_id"] = json!(t.later_position);
    let problem = expect_problem(
        app.post(&path, Some(&t.partner), &elsewhere).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "position_id");
    assert_eq!(problem["errors"][0]["code"], "not_at_stop");
    let mut bad = body.clone();
    bad["email"] = json!("pas une adresse");
    bad["consent"] = json!(false);
    let problem = expect_problem(
        app.post(&path, Some(&t.partner), &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields = error_fields(&problem);
    assert!(fields.contains(&"email") && fields.contains(&"consent"), "{problem}");
    // Not at a stop that is not on: the same hours as scanning.
    let mut tonight = body.clone();
    tonight["email"] = json!("tonight@example.org");
    tonight["position_id"] = json!(t.later_position);
    expect_problem(
        app.post(
            &format!("/api/v1/stops/{}/walk-ins", t.later),
            Some(&t.partner),
            &tonight,
        )
        .await,
        StatusCode::CONFLICT,
        "stop_not_open",
    )
    .await;
    // Nothing half-written by the refusals.
    assert_eq!(
        count(&app, "SELECT count(*) FROM applications WHERE source = 'walk_in'").await,
        1
    );
    assert_eq!(count(&app, "SELECT count(*) FROM checkins").await, 1);
}

async fn attendance_and_stats_equal_the_counts(app: TestApp) {
    let t = today(&app).await;
    let starts = Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap() + TimeDelta::minutes(40);
    let slot = id(&expect_json(
        app.post(
            &format!("/api/v1/stops/{}/slots", t.now),
            Some(&t.partner),
            &json!({ "starts_at": at(starts), "ends_at": at(starts + TimeDelta::minutes(30)), "capacity": 10 }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await);
    // Six candidates: four book the slot; two of the booked and one other arrive; two walk in.
    let mut codes = Vec::new();
    for i in 0..6 {
        let (application, token) = candidate(&app, &t, &format!("c{i}@example.org")).await;
        if i < 4 {
            let res = app
                .request(Method::PUT, &format!("/api/v1/slots/{slot}/booking"), Some(&token))
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{}", res.status());
        }
        codes.push(code_of(&app, &application, &token).await);
    }
    for code in [&codes[0], &codes[1], &codes[4]] {
        expect_json(
            scan(&app, &t.now, &t.partner, &json!({ "code": code })).await,
            StatusCode::CREATED,
        )
        .await;
    }
    for i in 0..2 {
        let body = json!({
            "first_name": "Walk", "last_name": "In", "email": format!("walk{i}@example.org"),
            "position_id": t.position, "consent": true,
        });
        let res = app
            .post(
                &format!("/api/v1/stops/{}/walk-ins", t.now),
                Some(&app.organiser),
                &body,
            )
            .await;
        expect_json(res, StatusCode::CREATED).await;
    }
    let a = expect_json(
        app.get(&format!("/api/v1/stops/{}/attendance", t.now), Some(&t.partner))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(a["checked_in"], 5, "{a}");
    assert_eq!(a["walk_ins"], 2, "{a}");
    assert_eq!(a["booked_not_arrived"], 2, "{a}");
    assert_eq!(a["by_employer"].as_array().unwrap().len(), 1, "{a}");
    assert_eq!(a["by_employer"][0]["organisation_id"], t.employer.as_str());
    assert_eq!(a["by_employer"][0]["name"], "Crédit Mosellan");
    assert_eq!(a["by_employer"][0]["checked_in"], 5);
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) FROM checkins WHERE walk_in = {}", sql_true(&app))
        )
        .await,
        2
    );
    // The tour's figures, per stop.
    let stats = expect_json(
        app.get(&format!("/api/v1/tours/{}/stats", t.tour), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    let stop = |sid: &str| {
        stats["by_stop"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stop_id"] == sid)
            .unwrap()
            .clone()
    };
    assert_eq!(stop(&t.now)["checked_in"], 5, "{stats}");
    assert_eq!(stop(&t.now)["walk_ins"], 2, "{stats}");
    assert_eq!(stop(&t.later)["checked_in"], 0, "{stats}");
    // Empty stop: zeros, no employers.
    let empty = expect_json(
        app.get(&format!("/api/v1/stops/{}/attendance", t.later), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(empty["checked_in"], 0);
    assert_eq!(empty["by_employer"], json!([]));
    // Staff only, and the tour's.
    let res = app
        .get(&format!("/api/v1/stops/{}/attendance", t.now), Some(&t.outsider))
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

fn sql_true(app: &TestApp) -> &'static str {
    if app.database_url().starts_with("sqlite") {
        "1"
    } else {
        "true"
    }
}

async fn an_offline_queue_replayed_twice_counts_once(app: TestApp) {
    let t = today(&app).await;
    let mut scans = Vec::new();
    let base = Utc::now() - TimeDelta::minutes(20);
    for i in 0..5 {
        let (application, token) = candidate(&app, &t, &format!("q{i}@example.org")).await;
        let code = code_of(&app, &application, &token).await;
        scans.push(json!({ "code": code, "scanned_at": at(base + TimeDelta::minutes(i)) }));
    }
    scans.push(json!({ "code": "JT1.not-a-code.at-all" }));
    let first = expect_json(
        scan(&app, &t.now, &t.partner, &json!({ "scans": scans })).await,
        StatusCode::OK,
    )
    .await;
    let statuses = |v: &Value| -> Vec<u64> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(statuses(&first), [201, 201, 201, 201, 201, 422], "{first}");
    assert_eq!(first["results"][5]["problem"]["errors"][0]["code"], "invalid_code");
    assert_eq!(first["results"][2]["index"], 2);
    // Replayed, backwards, after the phone got its connection back: nobody twice.
    scans.reverse();
    let second = expect_json(
        scan(&app, &t.now, &t.partner, &json!({ "scans": scans })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(statuses(&second), [422, 200, 200, 200, 200, 200], "{second}");
    assert_eq!(
        second["results"][1]["checkin"]["id"],
        first["results"][4]["checkin"]["id"]
    );
    let a = expect_json(
        app.get(&format!("/api/v1/stops/{}/attendance", t.now), Some(&t.partner))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(a["checked_in"], 5);
    assert_eq!(count(&app, "SELECT count(*) FROM checkins").await, 5);
    // A batch holds 1 to 500 scans.
    for n in [0, 501] {
        let many: Vec<Value> = (0..n).map(|_| json!({ "code": "x" })).collect();
        let res = scan(&app, &t.now, &t.partner, &json!({ "scans": many })).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}

async fn fifty_scans_of_one_code_check_in_once(app: TestApp) {
    let t = today(&app).await;
    let (application, token) = candidate(&app, &t, "camille@example.org").await;
    let code = code_of(&app, &application, &token).await;
    let body = json!({ "code": code });
    let answers = join_all((0..50).map(|_| async {
        let res = scan(&app, &t.now, &t.partner, &body).await;
        let status = res.status();
        (status, res.json::<Value>().await.unwrap())
    }))
    .await;
    let created = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let again = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| s.as_u16()).collect();
    assert_eq!((created, again), (1, 49), "{statuses:?}");
    let ids: std::collections::HashSet<&str> = answers.iter().map(|(_, b)| b["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(count(&app, "SELECT count(*) FROM checkins").await, 1);
}

/// Reads the stream until an event `checkin` comes (at most 10 s); its data.
async fn next_checkin(res: &mut reqwest::Response) -> Value {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(start) = text.find("event: checkin\ndata: ") {
            let rest = &text[start + "event: checkin\ndata: ".len()..];
            if let Some(end) = rest.find("\n\n") {
                return serde_json::from_str(&rest[..end]).unwrap();
            }
        }
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .expect("a check-in event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

async fn open_stream(app: &TestApp, base: &str, stop: &str, token: &str) -> reqwest::Response {
    // A browser's EventSource: no Authorization header, a one-use ticket instead.
    let ticket = expect_json(
        app.post(
            &format!("/api/v1/stops/{stop}/attendance/ticket"),
            Some(token),
            &json!({}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let url = format!("{base}{}", ticket["stream_url"].as_str().unwrap());
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    // Used up.
    let again = app.client.get(&url).send().await.unwrap();
    expect_problem(again, StatusCode::UNAUTHORIZED, "invalid_ticket").await;
    res
}

async fn the_stream_delivers_checkins_to_ticket_and_bearer_holders(app: TestApp) {
    let t = today(&app).await;
    let mut by_ticket = open_stream(&app, &app.address, &t.now, &t.partner).await;
    let mut by_bearer = app
        .get(
            &format!("/api/v1/stops/{}/attendance/stream", t.now),
            Some(&app.organiser),
        )
        .await;
    assert_eq!(by_bearer.status(), StatusCode::OK);
    let (application, token) = candidate(&app, &t, "camille@example.org").await;
    let code = code_of(&app, &application, &token).await;
    let checkin = expect_json(
        scan(&app, &t.now, &t.partner, &json!({ "code": code })).await,
        StatusCode::CREATED,
    )
    .await;
    for stream in [&mut by_ticket, &mut by_bearer] {
        let event = next_checkin(stream).await;
        assert_eq!(event["checkin_id"], checkin["id"]);
        assert_eq!(event["first_name"], "Camille");
        assert_eq!(event["checked_in"], 1);
        assert!(
            event.get("email").is_none() && event.get("last_name").is_none(),
            "{event}"
        );
    }
    // A ticket for one stop does not open another's; a made-up one opens nothing.
    let ticket = expect_json(
        app.post(
            &format!("/api/v1/stops/{}/attendance/ticket", t.now),
            Some(&t.partner),
            &json!({}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let wrong = format!(
        "/api/v1/stops/{}/attendance/stream?ticket={}",
        t.later,
        ticket["ticket"].as_str().unwrap()
    );
    expect_problem(app.get(&wrong, None).await, StatusCode::UNAUTHORIZED, "invalid_ticket").await;
    let res = app
        .get(&format!("/api/v1/stops/{}/attendance/stream", t.now), None)
        .await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let res = app
        .post(
            &format!("/api/v1/stops/{}/attendance/ticket", t.now),
            Some(&t.outsider),
            &json!({}),
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

/// Two instances on one PostgreSQL database: a screen on one sees the check-ins made through
/// the other (`LISTEN/NOTIFY`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_hears_checkins_made_through_another_instance() {
    let Some(app) = spawn(Backend::Postgres).await else {
        return;
    };
    let second = app.another_server().await;
    let t = today(&app).await;
    let mut screen = open_stream(&app, &second, &t.now, &t.partner).await;
    let (application, token) = candidate(&app, &t, "camille@example.org").await;
    let code = code_of(&app, &application, &token).await;
    let checkin = expect_json(
        scan(&app, &t.now, &t.partner, &json!({ "code": code })).await,
        StatusCode::CREATED,
    )
    .await;
    let event = next_checkin(&mut screen).await;
    assert_eq!(event["checkin_id"], checkin["id"]);
    // And the second instance checks the first one's codes: one key for all.
    let (other, other_token) = candidate(&app, &t, "dominique@example.org").await;
    let code = code_of(&app, &other, &other_token).await;
    let res = app
        .client
        .post(format!("{second}/api/v1/stops/{}/checkins", t.now))
        .bearer_auth(&t.partner)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::CREATED).await;
    assert_eq!(next_checkin(&mut screen).await["first_name"], "Camille");
}
