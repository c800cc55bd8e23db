//! Applying from a phone, the candidate's token, idempotent retries, the hiring pipeline, the
//! CSV export and the campaign figures.

use crate::common::{Backend, TestApp, both, count, expect_json, expect_problem, spawn_with};
use crate::positions::{Campaign, campaign, id, position_body, post_position};
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both!(
    applying_gives_a_secret_token_shown_once,
    one_application_per_email_per_position,
    only_open_positions_take_applications,
    invalid_applications_get_per_field_errors,
    a_retry_with_the_same_key_replays_the_first_answer,
    the_same_key_with_another_body_is_refused,
    fifty_concurrent_retries_with_one_key_make_one_application,
    a_key_left_in_flight_waits_then_is_taken_over,
    a_token_opens_its_own_application_only,
    the_candidate_withdraws,
    partners_see_and_move_their_own_applications_only,
    every_pipeline_edge_follows_the_workflow,
    the_last_hire_fills_the_position,
    two_concurrent_hires_for_the_last_opening_one_wins,
    the_pipeline_lists_and_filters,
    the_csv_opens_in_a_spreadsheet_with_formulas_defused,
    the_figures_match_an_independent_count,
);

pub fn application_body(email: &str) -> Value {
    json!({ "first_name": "Camille", "last_name": "Durand", "email": email, "consent": true })
}

/// Applies anonymously; returns the answer (with its access token).
pub async fn apply_with(app: &TestApp, position: &str, body: &Value) -> Value {
    let res = app
        .post(&format!("/api/v1/positions/{position}/applications"), None, body)
        .await;
    expect_json(res, StatusCode::CREATED).await
}

/// Applies anonymously; returns the application's id.
pub async fn apply(app: &TestApp, position: &str, email: &str) -> String {
    id(&apply_with(app, position, &application_body(email)).await)
}

/// Moves the application through `statuses`, one PATCH each.
pub async fn move_to(app: &TestApp, token: &str, application: &str, statuses: &[&str]) {
    for status in statuses {
        let res = app
            .patch(
                &format!("/api/v1/applications/{application}"),
                Some(token),
                &json!({ "status": status }),
            )
            .await;
        assert_eq!(expect_json(res, StatusCode::OK).await["status"], *status);
    }
}

async fn open_position(app: &TestApp, c: &Campaign, openings: i64) -> String {
    id(&post_position(
        app,
        &c.partner,
        &position_body(c, "Conseiller clientèle", json!({ "openings": openings })),
    )
    .await)
}

fn path(application: &str) -> String {
    format!("/api/v1/applications/{application}")
}

async fn applying_gives_a_secret_token_shown_once(app: TestApp) {
    let c = campaign(&app).await;
    let position = open_position(&app, &c, 2).await;
    let res = app
        .post(
            &format!("/api/v1/positions/{position}/applications"),
            None,
            &json!({ "first_name": " Camille ", "last_name": "Durand", "email": "Camille.Durand@Example.org",
                     "phone": "06 12 34 56 78", "message": "Disponible dès novembre.",
                     "preferred_stop_id": c.stops[1], "consent": true }),
        )
        .await;
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let a = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(location, path(&id(&a)));
    let token = a["access_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("jtc_") && token.len() > 40, "{token}");
    assert_eq!(a["first_name"], "Camille");
    assert_eq!(a["email"], "camille.durand@example.org");
    assert_eq!(a["phone"], "+33612345678");
    assert_eq!(a["status"], "submitted");
    assert_eq!(a["privacy_notice_version"], "2026-11");
    assert!(a["consent_at"].is_string());
    assert_eq!(a["position"]["title"], "Conseiller clientèle");
    assert_eq!(a["position"]["employer_name"], "Crédit Mosellan");
    assert_eq!(a["position"]["stops"].as_array().unwrap().len(), 2);
    assert_eq!(
        a["history"],
        json!([{ "from": null, "to": "submitted", "by": "candidate", "by_user_id": null, "note": null, "at": a["created_at"] }])
    );
    assert_eq!(a["next_statuses"], json!(["withdrawn"]));
    // The token opens it; it is never shown again and is stored only as a hash.
    let seen = expect_json(app.get(&location, Some(&token)).await, StatusCode::OK).await;
    assert!(seen.get("access_token").is_none());
    assert_eq!(seen["position"]["stops"][0]["city"], "Metz");
    // The answer to applying (made without reading the application back) is what reading gives.
    let mut answered = a.clone();
    answered.as_object_mut().unwrap().remove("access_token");
    assert_eq!(seen, answered);
    let digests = count(
        &app,
        &format!(
            "SELECT count(*) FROM applications WHERE token_hash = '{}'",
            jobtour_api::auth::token_hash(&token)
        ),
    )
    .await;
    assert_eq!(digests, 1);
    let plain = count(
        &app,
        &format!(
            "SELECT count(*) FROM applications WHERE token_hash LIKE '%{}%'",
            &token[4..]
        ),
    )
    .await;
    assert_eq!(plain, 0);
    // Anonymous callers do not read applications.
    expect_problem(
        app.get(&location, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

async fn one_application_per_email_per_position(app: TestApp) {
    let c = campaign(&app).await;
    let position = open_position(&app, &c, 2).await;
    let other = open_position(&app, &c, 2).await;
    apply(&app, &position, "camille@example.org").await;
    for email in ["camille@example.org", "CAMILLE@Example.ORG", " camille@example.org "] {
        let res = app
            .post(
                &format!("/api/v1/positions/{position}/applications"),
                None,
                &application_body(email),
            )
            .await;
        expect_problem(res, StatusCode::CONFLICT, "duplicate_application").await;
    }
    apply(&app, &other, "camille@example.org").await;
    assert_eq!(count(&app, "SELECT count(*) FROM applications").await, 2);
    // Twenty candidates' phones racing with one address, cased differently: one application.
    let third = open_position(&app, &c, 2).await;
    let statuses = join_all((0..20).map(|i| {
        let (app, third) = (&app, &third);
        async move {
            let email = if i % 2 == 0 {
                "Race@Example.org"
            } else {
                "race@example.ORG"
            };
            let res = app
                .post(
                    &format!("/api/v1/positions/{third}/applications"),
                    None,
                    &application_body(email),
                )
                .await;
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    }))
    .await;
    let created = statuses.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    assert_eq!(created, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|(s, b)| *s == StatusCode::CREATED || b["code"] == "duplicate_application")
    );
    assert_eq!(count(&app, "SELECT count(*) FROM applications").await, 3);
}

async fn only_open_positions_take_applications(app: TestApp) {
    let c = campaign(&app).await;
    let draft = id(&post_position(
        &app,
        &c.partner,
        &position_body(&c, "Brouillon", json!({ "status": "draft" })),
    )
    .await);
    let closed = open_position(&app, &c, 1).await;
    let res = app
        .patch(
            &format!("/api/v1/positions/{closed}"),
            Some(&c.partner),
            &json!({ "status": "closed" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let filled = open_position(&app, &c, 1).await;
    let hired = apply(&app, &filled, "first@example.org").await;
    move_to(
        &app,
        &c.partner,
        &hired,
        &["screening", "interview", "offered", "hired"],
    )
    .await;
    let expired = id(&post_position(
        &app,
        &c.partner,
        &position_body(&c, "Expiré", json!({ "closes_on": "2021-06-30" })),
    )
    .await);
    for position in [&draft, &closed, &filled, &expired] {
        let res = app
            .post(
                &format!("/api/v1/positions/{position}/applications"),
                None,
                &application_body("late@example.org"),
            )
            .await;
        expect_problem(res, StatusCode::CONFLICT, "position_not_open").await;
    }
    // A position of a tour the public cannot see does not exist for it.
    let hidden = crate::tours::tour(&app).await;
    crate::positions::join(&app, crate::tours::id(&hidden), &c.employer).await;
    let p = post_position(
        &app,
        &app.organiser,
        &json!({ "tour_id": crate::tours::id(&hidden), "organisation_id": c.employer, "title": "Caché",
                 "contract_type": "cdi", "city": "Metz", "status": "open" }),
    )
    .await;
    let res = app
        .post(
            &format!("/api/v1/positions/{}/applications", id(&p)),
            None,
            &application_body("x@example.org"),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .post(
            &format!("/api/v1/positions/{}/applications", uuid::Uuid::now_v7()),
            None,
            &application_body("x@example.org"),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(count(&app, "SELECT count(*) FROM applications").await, 1);
}

async fn invalid_applications_get_per_field_errors(app: TestApp) {
    let c = campaign(&app).await;
    let position = id(&post_position(
        &app,
        &c.partner,
        &position_body(&c, "X", json!({ "stop_ids": [c.stops[0]] })),
    )
    .await);
    let res = app
        .post(
            &format!("/api/v1/positions/{position}/applications"),
            None,
            &json!({ "first_name": "", "last_name": "Durand", "email": "nobody", "phone": "12",
                     "preferred_stop_id": c.stops[1], "consent": false }),
        )
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let got: Vec<(&str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("first_name", "blank"),
            ("email", "invalid_email"),
            ("phone", "invalid_phone"),
            ("preferred_stop_id", "not_a_stop_of_the_position"),
            ("consent", "consent_required"),
        ]
    );
    let res = app
        .post(
            &format!("/api/v1/positions/{position}/applications"),
            None,
            &json!({ "first_name": "A", "last_name": "B", "email": "a@example.org" }),
        )
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "consent");
    assert_eq!(count(&app, "SELECT count(*) FROM applications").await, 0);
}

async fn post_with_key(app: &TestApp, position: &str, key: &str, body: &Value) -> reqwest::Response {
    app.request(
        Method::POST,
        &format!("/api/v1/positions/{position}/applications"),
        None,
    )
    .header("idempotency-key", key)
    .json(body)
    .send()
    .await
    .unwrap()
}

async fn a_retry_with_the_same_key_replays_the_first_answer(app: TestApp) {
    let c = campaign(&app).await;
    let position = open_position(&app, &c, 2).await;
    let body = application_body("camille@example.org");
    let first = post_with_key(&app, &position, "5f0c9e4e-retry", &body).await;
    let (location, etag) = (first.headers()["location"].clone(), first.headers()["etag"].clone());
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = expect_json(first, StatusCode::CREATED).await;
    // The same body laid out differently is the same request.
    let reordered =
        json!({ "consent": true, "email": "camille@example.org", "last_name": "Durand", "first_name": "Camille" });
    for retry_body in [&body, &reordered] {
        let again = post_with_key(&app, &position, "5f0c9e4e-retry", retry_body).await;
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.headers()["location"], location);
        assert_eq!(again.headers()["etag"], etag);
        assert_eq!(
            expect_json(again, StatusCode::CREATED).await,
            first,
            "same body, same token"
        );
    }
    assert_eq!(count(&app, "SELECT count(*) FROM applications").await, 1);
    // The replayed token works; no key is stored in the clear.
    let token = first["access_token"].as_str().unwrap();
    assert_eq!(
        app.get(location.to_str().unwrap(), Some(token)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM idempotency_keys WHERE key_hash LIKE '%retry%'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM idempotency_keys WHERE body LIKE '%{}%'",
                &token[4..]
            )
        )
        .await,
        0
    );
    // Without a key, a second attempt is a duplicate, not a replay.
    let res = app
        .post(&format!("/api/v1/positions/{position}/applications"), None, &body)
        .await;
    expect_problem(res, StatusCode::CONFLICT, "duplicate_application").await;
    // A failed request does not keep its key: corrected, the retry runs.
    let bad = json!({ "first_name": "A", "last_name": "B", "email": "b@example.org", "consent": false });
    let res = post_with_key(&app, &position, "key-2", &bad).await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fixed = json!({ "first_name": "A", "last_name": "B", "email": "b@example.org", "consent": true });
    expect_json(
        post_with_key(&app, &position, "key-2", &fixed).await,
        StatusCode::CREATED,
    )
    .await;
    // A malformed key is a 400.
    let res = post_with_key(&app, &position, &"k".repeat(256), &body).await;
    expect_problem(res, StatusCode::BAD_REQUEST, "invalid_header").await;
}

async fn the_same_key_with_another_body_is_refused(app: TestApp) {
    let c = campaign(&app).await;
    let position = open_position(&app, &c, 2).await;
    let other_position = open_position(&app, &c, 2).await;
    expect_json(
        post_with_key(&app, &position, "k", &application_body("a@example.org")).await,
        StatusCode::CREATED,
    )
    .await;
    let res = post_with_key(&app, &position, "k", &application_body("b@example.org")).await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;
    let res = post_with_key(&app, &other_position, "k", &application_body("a@example.org")).await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;
    assert_eq!(count(&app, "SELECT count(*) FROM applications").await, 1);
}

async fn fifty_concurrent_retries_with_one_key_make_one_application(app: TestApp) {
    let c = campaign(&app).await;
    let position = open_position(&app, &c, 2).await;
    let body = application_body("camille@example.org");
    let answers = join_all((0..50).map(|_| {
        let (app, position, body) = (&app, &position, &body);
        async move {
            let res = post_with_key(app, position, "one-key-for-fifty", body).await;
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    }))
    .await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .map(|(_, b)| b)
        .collect();
    assert!(!created.is_empty());
    assert!(created.iter().all(|b| *b == created[0]), "every 201 is the same answer");
    for (status, body) in &answers {
        assert!(
            *status == StatusCode::CREATED
                || (*status == StatusCode::CONFLICT && body["code"] == "idempotency_key_in_flight"),
            "{status} {body}"
        );
    }
    assert_eq!(count(&app, "SELECT count(*) FROM applications").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM application_events").await, 1);
    // Once done, the key answers with the replay.
    let res = post_with_key(&app, &position, "one-key-for-fifty", &body).await;
    assert_eq!(&expect_json(res, StatusCode::CREATED).await, created[0]);
}

/// A request that died (its client went away, its server stopped) leaves its key in flight:
/// retries are told to wait, then take the key over.
async fn a_key_left_in_flight_waits_then_is_taken_over(app: TestApp) {
    use jobtour_api::entities::idempotency_key::{ActiveModel, Entity};
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let c = campaign(&app).await;
    let position = open_position(&app, &c, 2).await;
    let body = application_body("camille@example.org");
    // The fingerprint the API takes: the position and the body as it reads it.
    let read: jobtour_api::routes::applications::NewApplication = serde_json::from_value(body.clone()).unwrap();
    let fingerprint = jobtour_api::idempotency::fingerprint(&(position.parse::<uuid::Uuid>().unwrap(), &read));
    let left = |key: &str, age_secs: i64| ActiveModel {
        scope: Set("createApplication".into()),
        key_hash: Set(jobtour_api::auth::token_hash(key)),
        fingerprint: Set(fingerprint.clone()),
        state: Set("in_flight".into()),
        status_code: Set(None),
        location: Set(None),
        etag: Set(None),
        body: Set(None),
        secret_salt: Set("00".repeat(32)),
        created_at: Set(jobtour_api::repo::now() - chrono::TimeDelta::seconds(age_secs)),
        expires_at: Set(jobtour_api::repo::now() + chrono::TimeDelta::days(1)),
        resource_id: Set(None),
    };
    Entity::insert(left("fresh", 1)).exec(app.db.conn()).await.unwrap();
    Entity::insert(left("stale", 600)).exec(app.db.conn()).await.unwrap();
    let res = post_with_key(&app, &position, "fresh", &body).await;
    assert_eq!(res.headers()["retry-after"], "1");
    expect_problem(res, StatusCode::CONFLICT, "idempotency_key_in_flight").await;
    let taken = expect_json(
        post_with_key(&app, &position, "stale", &body).await,
        StatusCode::CREATED,
    )
    .await;
    let again = expect_json(
        post_with_key(&app, &position, "stale", &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(again, taken, "the new holder's answer is replayed");
    assert_eq!(count(&app, "SELECT count(*) FROM applications").await, 1);
}

async fn a_token_opens_its_own_application_only(app: TestApp) {
    let c = campaign(&app).await;
    let position = open_position(&app, &c, 2).await;
    let mine = apply_with(&app, &position, &application_body("me@example.org")).await;
    let theirs = apply_with(&app, &position, &application_body("them@example.org")).await;
    let token = mine["access_token"].as_str().unwrap();
    assert_eq!(app.get(&path(&id(&mine)), Some(token)).await.status(), StatusCode::OK);
    expect_problem(
        app.get(&path(&id(&theirs)), Some(token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let res = app
        .post(&format!("{}/withdraw", path(&id(&theirs))), Some(token), &json!({}))
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    // Nothing else opens with it: the pipeline, a PATCH, staff endpoints.
    expect_problem(
        app.get("/api/v1/applications", Some(token)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let res = app
        .patch(&path(&id(&mine)), Some(token), &json!({ "status": "screening" }))
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    expect_problem(
        app.get("/api/v1/me", Some(token)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let res = app.get(&format!("/api/v1/tours/{}/stats", c.tour), Some(token)).await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    // It reads what the public reads.
    assert_eq!(app.get("/api/v1/positions", Some(token)).await.status(), StatusCode::OK);
    // A made-up token is a 401.
    let res = app.get(&path(&id(&mine)), Some("jtc_forged")).await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_token").await;
    // The candidate does not see staff notes.
    let res = app
        .patch(
            &path(&id(&mine)),
            Some(&c.partner),
            &json!({ "status": "screening", "note": "appeler lundi" }),
        )
        .await;
    let staff_view = expect_json(res, StatusCode::OK).await;
    assert_eq!(staff_view["history"][1]["note"], "appeler lundi");
    assert!(staff_view["history"][1]["by_user_id"].is_string());
    assert_eq!(staff_view["next_statuses"], json!(["interview", "rejected"]));
    let own_view = expect_json(app.get(&path(&id(&mine)), Some(token)).await, StatusCode::OK).await;
    assert_eq!(own_view["history"][1]["note"], Value::Null);
    assert_eq!(own_view["history"][1]["by_user_id"], Value::Null);
    assert_eq!(own_view["history"][1]["to"], "screening");
}

async fn the_candidate_withdraws(app: TestApp) {
    let c = campaign(&app).await;
    let position = open_position(&app, &c, 2).await;
    let a = apply_with(&app, &position, &application_body("me@example.org")).await;
    let token = a["access_token"].as_str().unwrap();
    let withdraw = format!("{}/withdraw", path(&id(&a)));
    // Staff cannot withdraw for the candidate.
    let res = app.post(&withdraw, Some(&c.partner), &json!({})).await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app.request(Method::POST, &withdraw, Some(token)).send().await.unwrap();
    let done = expect_json(res, StatusCode::OK).await;
    assert_eq!(done["status"], "withdrawn");
    assert_eq!(done["history"][1]["by"], "candidate");
    let again = app.request(Method::POST, &withdraw, Some(token)).send().await.unwrap();
    assert_eq!(
        expect_json(again, StatusCode::OK).await["history"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "idempotent"
    );
    let res = app
        .patch(&path(&id(&a)), Some(&c.partner), &json!({ "status": "screening" }))
        .await;
    let p = expect_problem(res, StatusCode::CONFLICT, "invalid_transition").await;
    assert_eq!(p["allowed"], json!([]));
    // A hired candidate can no longer withdraw.
    let b = apply_with(&app, &position, &application_body("hired@example.org")).await;
    move_to(
        &app,
        &c.partner,
        &id(&b),
        &["screening", "interview", "offered", "hired"],
    )
    .await;
    let res = app
        .request(
            Method::POST,
            &format!("{}/withdraw", path(&id(&b))),
            Some(b["access_token"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::CONFLICT, "invalid_transition").await;
}

async fn partners_see_and_move_their_own_applications_only(app: TestApp) {
    let c = campaign(&app).await;
    let mine = open_position(&app, &c, 2).await;
    let theirs = id(&post_position(&app, &c.other_partner, &position_body(&c, "Technicien", json!({}))).await);
    let to_mine = apply(&app, &mine, "a@example.org").await;
    let to_theirs = apply(&app, &theirs, "b@example.org").await;
    let listed = crate::positions::all_ids(&app, "/api/v1/applications", Some(&c.partner)).await;
    assert_eq!(listed, std::slice::from_ref(&to_mine));
    let listed = crate::positions::all_ids(
        &app,
        &format!("/api/v1/applications?position_id={theirs}"),
        Some(&c.partner),
    )
    .await;
    assert!(listed.is_empty(), "a filter does not widen the scope");
    expect_problem(
        app.get(&path(&to_theirs), Some(&c.partner)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let res = app
        .patch(&path(&to_theirs), Some(&c.partner), &json!({ "status": "screening" }))
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(
        app.get(&path(&to_theirs), Some(&c.other_partner)).await.status(),
        StatusCode::OK
    );
    let all = crate::positions::all_ids(&app, "/api/v1/applications", Some(&app.organiser)).await;
    assert_eq!(all, [to_mine, to_theirs]);
    expect_problem(
        app.get("/api/v1/applications", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

async fn every_pipeline_edge_follows_the_workflow(app: TestApp) {
    let c = campaign(&app).await;
    let position = open_position(&app, &c, 100).await;
    let chain = ["submitted", "screening", "interview", "offered", "hired"];
    let all = [
        "submitted",
        "screening",
        "interview",
        "offered",
        "hired",
        "rejected",
        "withdrawn",
    ];
    let mut n = 0;
    // Reach each state, then try every move from it.
    for (depth, from) in chain.iter().enumerate().chain([(4usize, &"rejected")]) {
        for to in all {
            n += 1;
            let a = apply(&app, &position, &format!("edge{n}@example.org")).await;
            let path_to_from: Vec<&str> = if *from == "rejected" {
                vec!["rejected"]
            } else {
                chain[1..=depth].to_vec()
            };
            move_to(&app, &c.partner, &a, &path_to_from).await;
            let res = app.patch(&path(&a), Some(&c.partner), &json!({ "status": to })).await;
            let allowed: &[&str] = match *from {
                "submitted" => &["screening", "rejected"],
                "screening" => &["interview", "rejected"],
                "interview" => &["offered", "rejected"],
                "offered" => &["hired", "rejected"],
                _ => &[],
            };
            if to == *from || allowed.contains(&to) {
                assert_eq!(expect_json(res, StatusCode::OK).await["status"], to, "{from} -> {to}");
            } else {
                let p = expect_problem(res, StatusCode::CONFLICT, "invalid_transition").await;
                assert_eq!(p["allowed"], json!(allowed), "{from} -> {to}");
            }
        }
    }
    // The history says who moved what, when, with the note.
    let a = apply(&app, &position, "history@example.org").await;
    let res = app
        .patch(
            &path(&a),
            Some(&c.partner),
            &json!({ "status": "screening", "note": "CV solide" }),
        )
        .await;
    let h = expect_json(res, StatusCode::OK).await["history"].clone();
    assert_eq!(h.as_array().unwrap().len(), 2);
    assert_eq!(
        (h[1]["from"].as_str(), h[1]["to"].as_str(), h[1]["by"].as_str()),
        (Some("submitted"), Some("screening"), Some("staff"))
    );
    assert_eq!(h[1]["note"], "CV solide");
    assert!(h[1]["at"].is_string() && h[1]["by_user_id"].is_string());
    let res = app
        .patch(&path(&a), Some(&c.partner), &json!({ "status": "nonsense" }))
        .await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

async fn the_last_hire_fills_the_position(app: TestApp) {
    let c = campaign(&app).await;
    let position = open_position(&app, &c, 2).await;
    let ids: Vec<String> = join_all((0..3).map(|i| {
        let (app, position) = (&app, &position);
        async move { apply(app, position, &format!("c{i}@example.org")).await }
    }))
    .await;
    for a in &ids {
        move_to(&app, &c.partner, a, &["screening", "interview", "offered"]).await;
    }
    let pos_path = format!("/api/v1/positions/{position}");
    move_to(&app, &c.partner, &ids[0], &["hired"]).await;
    let p = expect_json(app.get(&pos_path, None).await, StatusCode::OK).await;
    assert_eq!((p["status"].as_str(), p["filled"].as_i64()), (Some("open"), Some(1)));
    move_to(&app, &c.partner, &ids[1], &["hired"]).await;
    let p = expect_json(app.get(&pos_path, None).await, StatusCode::OK).await;
    assert_eq!((p["status"].as_str(), p["filled"].as_i64()), (Some("filled"), Some(2)));
    let res = app
        .patch(&path(&ids[2]), Some(&c.partner), &json!({ "status": "hired" }))
        .await;
    expect_problem(res, StatusCode::CONFLICT, "position_filled").await;
    let third = expect_json(app.get(&path(&ids[2]), Some(&c.partner)).await, StatusCode::OK).await;
    assert_eq!(third["status"], "offered", "the refused hire changed nothing");
    // The filled position leaves the board.
    let board = crate::positions::all_ids(&app, "/api/v1/positions", None).await;
    assert!(!board.contains(&position));
}

async fn two_concurrent_hires_for_the_last_opening_one_wins(app: TestApp) {
    let c = campaign(&app).await;
    for round in 0..3 {
        let position = open_position(&app, &c, 1).await;
        let mut offered = Vec::new();
        for i in 0..6 {
            let a = apply(&app, &position, &format!("r{round}c{i}@example.org")).await;
            move_to(&app, &c.partner, &a, &["screening", "interview", "offered"]).await;
            offered.push(a);
        }
        let answers = join_all(offered.iter().map(|a| {
            let (app, token) = (&app, &c.partner);
            async move {
                let res = app.patch(&path(a), Some(token), &json!({ "status": "hired" })).await;
                let status = res.status();
                (status, res.json::<Value>().await.unwrap())
            }
        }))
        .await;
        let won = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        assert_eq!(won, 1, "{answers:?}");
        for (status, body) in &answers {
            assert!(
                *status == StatusCode::OK || body["code"] == "position_filled",
                "{status} {body}"
            );
        }
        let p = expect_json(
            app.get(&format!("/api/v1/positions/{position}"), None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!((p["status"].as_str(), p["filled"].as_i64()), (Some("filled"), Some(1)));
        let hired = count(
            &app,
            "SELECT count(*) FROM applications WHERE status = 'hired' AND position_id IN (SELECT id FROM positions WHERE title = 'Conseiller clientèle' AND filled = 1 AND openings = 1)",
        )
        .await;
        assert_eq!(hired, round + 1);
    }
}

async fn the_pipeline_lists_and_filters(app: TestApp) {
    let c = campaign(&app).await;
    let p1 = id(&post_position(&app, &c.partner, &position_body(&c, "Un", json!({}))).await);
    let p2 = id(&post_position(&app, &c.partner, &position_body(&c, "Deux", json!({}))).await);
    let mut made = Vec::new();
    for i in 0..7 {
        let position = if i % 2 == 0 { &p1 } else { &p2 };
        let mut body = application_body(&format!("p{i}@example.org"));
        body["preferred_stop_id"] = json!(c.stops[i % 2]);
        let a = id(&apply_with(&app, position, &body).await);
        if i < 3 {
            move_to(&app, &c.partner, &a, &["screening"]).await;
        }
        made.push(a);
    }
    let list = |q: String| {
        let app = &app;
        let token = c.partner.clone();
        async move { crate::positions::all_ids(app, &format!("/api/v1/applications?limit=2&{q}"), Some(&token)).await }
    };
    assert_eq!(list(String::new()).await, made, "creation order, each once");
    assert_eq!(
        list(format!("position_id={p1}")).await,
        [made[0].clone(), made[2].clone(), made[4].clone(), made[6].clone()]
    );
    assert_eq!(
        list(format!("stop_id={}", c.stops[1])).await,
        [made[1].clone(), made[3].clone(), made[5].clone()]
    );
    assert_eq!(list("status=screening".into()).await, made[..3].to_vec());
    assert_eq!(list(format!("tour_id={}", c.tour)).await.len(), 7);
    assert!(list(format!("tour_id={}", uuid::Uuid::now_v7())).await.is_empty());
    let res = app.get("/api/v1/applications?status=lost", Some(&c.partner)).await;
    expect_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
}

async fn the_csv_opens_in_a_spreadsheet_with_formulas_defused(app: TestApp) {
    let c = campaign(&app).await;
    let position = id(&post_position(&app, &c.partner, &position_body(&c, "=Conseiller", json!({}))).await);
    let nasty = json!({
        "first_name": "=HYPERLINK(\"http://evil.example\")", "last_name": "@SUM(A1)", "email": "x@example.org",
        "phone": "+33 6 12 34 56 78", "message": "-2+3; \"quoted\"\nsecond line", "preferred_stop_id": c.stops[0],
        "consent": true,
    });
    let a = id(&apply_with(&app, &position, &nasty).await);
    let plain = apply(&app, &position, "plain@example.org").await;
    // Another employer's applications are not in this partner's file.
    let theirs = id(&post_position(&app, &c.other_partner, &position_body(&c, "Autre", json!({}))).await);
    apply(&app, &theirs, "other@example.org").await;
    let res = app
        .request(Method::GET, "/api/v1/applications?limit=1", Some(&c.partner))
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 byte-order mark");
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(&bytes[3..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header[0], "id");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "every match, whatever the page size");
    let row = rows.iter().find(|r| r[col("id")] == a).unwrap();
    assert_eq!(&row[col("first_name")], "'=HYPERLINK(\"http://evil.example\")");
    assert_eq!(&row[col("last_name")], "'@SUM(A1)");
    assert_eq!(&row[col("phone")], "'+33612345678");
    assert_eq!(&row[col("message")], "'-2+3; \"quoted\"\nsecond line");
    assert_eq!(&row[col("position_title")], "'=Conseiller");
    assert_eq!(&row[col("preferred_stop")], "Metz");
    assert_eq!(&row[col("status")], "submitted");
    assert!(
        rows.iter()
            .any(|r| r[col("id")] == plain && &r[col("email")] == "plain@example.org")
    );
    // JSON stays the default; an Accept preferring JSON gets JSON.
    let res = app
        .request(Method::GET, "/api/v1/applications", Some(&c.partner))
        .header("accept", "application/json, text/csv;q=0.5")
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

async fn the_figures_match_an_independent_count(app: TestApp) {
    let c = campaign(&app).await;
    // (owner token, openings, status after creation)
    let plan: [(&str, i64, &str); 5] = [
        (&c.partner, 3, "open"),
        (&c.partner, 2, "open"),
        (&c.partner, 4, "draft"),
        (&c.other_partner, 5, "open"),
        (&c.other_partner, 1, "closed"),
    ];
    let mut positions = Vec::new();
    for (i, (token, openings, status)) in plan.iter().enumerate() {
        let body = position_body(
            &c,
            &format!("Poste {i}"),
            json!({ "openings": openings, "status": if *status == "draft" { "draft" } else { "open" } }),
        );
        positions.push((id(&post_position(&app, token, &body).await), *token, *openings, *status));
    }
    // Applications: (position index, preferred stop, final status)
    let mut expected_apps = [0i64; 2];
    let mut expected_hires = [0i64; 2];
    let mut by_stop_apps = [0i64; 2];
    let mut by_stop_hires = [0i64; 2];
    let mut n = 0;
    for (pi, stop, fate) in [
        (0, 0, "hired"),
        (0, 1, "submitted"),
        (0, 0, "rejected"),
        (1, 1, "hired"),
        (1, 1, "hired"),
        (3, 0, "hired"),
        (3, 1, "screening"),
        (3, 0, "submitted"),
        (4, 0, "submitted"),
    ] {
        n += 1;
        let (position, token, _, _) = &positions[pi];
        let mut body = application_body(&format!("f{n}@example.org"));
        body["preferred_stop_id"] = json!(c.stops[stop]);
        let a = id(&apply_with(&app, position, &body).await);
        let steps: &[&str] = match fate {
            "hired" => &["screening", "interview", "offered", "hired"],
            "rejected" => &["rejected"],
            "screening" => &["screening"],
            _ => &[],
        };
        move_to(&app, token, &a, steps).await;
        let org = usize::from(*token != c.partner);
        expected_apps[org] += 1;
        by_stop_apps[stop] += 1;
        if fate == "hired" {
            expected_hires[org] += 1;
            by_stop_hires[stop] += 1;
        }
    }
    let res = app
        .patch(
            &format!("/api/v1/positions/{}", positions[4].0),
            Some(&c.other_partner),
            &json!({ "status": "closed" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    // Offered: every position but the draft.
    let partner = c.partner.as_str();
    let offered = |org: usize| {
        positions
            .iter()
            .filter(move |p| p.3 != "draft" && usize::from(p.1 != partner) == org)
    };
    let (pos0, open0) = (offered(0).count() as i64, offered(0).map(|p| p.2).sum::<i64>());
    let (pos1, open1) = (offered(1).count() as i64, offered(1).map(|p| p.2).sum::<i64>());

    let stats = expect_json(
        app.get(&format!("/api/v1/tours/{}/stats", c.tour), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["positions_target"], 500);
    assert_eq!(stats["positions"], pos0 + pos1);
    assert_eq!(stats["openings"], open0 + open1);
    assert_eq!(stats["applications"], expected_apps[0] + expected_apps[1]);
    assert_eq!(stats["hires"], expected_hires[0] + expected_hires[1]);
    let by_stop = stats["by_stop"].as_array().unwrap();
    assert_eq!(by_stop.len(), 2);
    for (i, s) in by_stop.iter().enumerate() {
        assert_eq!(s["stop_id"], c.stops[i].as_str());
        assert_eq!(
            (s["applications"].as_i64(), s["hires"].as_i64()),
            (Some(by_stop_apps[i]), Some(by_stop_hires[i]))
        );
    }
    assert_eq!(by_stop[0]["city"], "Metz");
    let by_org = stats["by_organisation"].as_array().unwrap();
    assert_eq!(by_org.len(), 2);
    assert_eq!(by_org[0]["name"], "Crédit Mosellan");
    assert_eq!(
        by_org[0],
        json!({ "organisation_id": c.employer, "name": "Crédit Mosellan", "positions": pos0,
        "openings": open0, "applications": expected_apps[0], "hires": expected_hires[0] })
    );
    assert_eq!(by_org[1]["positions"], pos1);
    assert_eq!(by_org[1]["hires"], expected_hires[1]);
    // The same counts straight from the tables.
    assert_eq!(
        count(&app, "SELECT count(*) FROM applications WHERE status = 'hired'").await,
        stats["hires"].as_i64().unwrap()
    );
    assert_eq!(
        count(&app, "SELECT coalesce(sum(filled), 0) FROM positions").await,
        stats["hires"].as_i64().unwrap()
    );
    // A partner sees its own organisation's figures only.
    let own = expect_json(
        app.get(&format!("/api/v1/tours/{}/stats", c.tour), Some(&c.partner))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (own["positions"].as_i64(), own["openings"].as_i64()),
        (Some(pos0), Some(open0))
    );
    assert_eq!(
        (own["applications"].as_i64(), own["hires"].as_i64()),
        (Some(expected_apps[0]), Some(expected_hires[0]))
    );
    assert_eq!(own["by_organisation"].as_array().unwrap().len(), 1);
    let own_stop_apps: i64 = own["by_stop"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["applications"].as_i64().unwrap())
        .sum();
    assert_eq!(own_stop_apps, expected_apps[0]);
    expect_problem(
        app.get(&format!("/api/v1/tours/{}/stats", c.tour), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // A tour without anything counts zeros, every stop listed.
    let empty = crate::tours::tour(&app).await;
    let zero = expect_json(
        app.get(
            &format!("/api/v1/tours/{}/stats", crate::tours::id(&empty)),
            Some(&app.organiser),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            zero["positions"].as_i64(),
            zero["openings"].as_i64(),
            zero["hires"].as_i64()
        ),
        (Some(0), Some(0), Some(0))
    );
}

/// Keys live for the configured time: after it, the same key is a new request; the sweep
/// removes what expired.
mod expired_keys_are_forgotten_and_swept {
    use super::*;

    async fn run(backend: Backend) {
        let Some(app) = spawn_with(backend, |_, serve| serve.idempotency_ttl_secs = 1).await else {
            return;
        };
        let c = campaign(&app).await;
        let position = open_position(&app, &c, 2).await;
        expect_json(
            post_with_key(&app, &position, "short-lived", &application_body("a@example.org")).await,
            StatusCode::CREATED,
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let res = post_with_key(&app, &position, "short-lived", &application_body("b@example.org")).await;
        assert!(res.headers().get("idempotent-replayed").is_none());
        expect_json(res, StatusCode::CREATED).await;
        assert_eq!(count(&app, "SELECT count(*) FROM idempotency_keys").await, 1);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let swept = jobtour_api::idempotency::sweep(app.db.conn(), jobtour_api::repo::now())
            .await
            .unwrap();
        assert_eq!(swept, 1);
        assert_eq!(count(&app, "SELECT count(*) FROM idempotency_keys").await, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(Backend::Postgres).await;
    }
}
