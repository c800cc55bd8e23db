//! The job board: who posts what, who sees what, every filter, French search, paging, the
//! position workflow.

use crate::common::{TestApp, both, error_fields, expect_json, expect_problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;

both!(
    the_public_sees_open_positions_of_published_tours_only,
    partners_post_for_their_own_organisation_only,
    every_filter_narrows_the_board,
    search_is_french_and_blind_to_accents_and_case,
    paging_through_120_positions_gives_each_once,
    the_position_workflow_and_its_refusals,
    invalid_positions_get_per_field_errors,
    a_position_with_applications_cannot_be_deleted,
    the_closing_day_ends_at_midnight_in_the_tour_zone,
    stops_are_shown_in_itinerary_order,
    a_word_that_begins_many_indexed_words_finds_them_all,
    positions_written_before_the_search_index_changed_are_found,
);

/// A published tour with two stops, an employer taking part with a partner user, and a second
/// employer with its own partner.
pub struct Campaign {
    pub tour: String,
    pub stops: [String; 2],
    pub employer: String,
    pub partner: String,
    pub other_employer: String,
    pub other_partner: String,
}

pub async fn campaign(app: &TestApp) -> Campaign {
    let tour = crate::tours::tour(app).await;
    let tour_id = crate::tours::id(&tour).to_owned();
    let mut stops = Vec::new();
    for (city, lat, lon, day) in [("Metz", 49.1193, 6.1757, 19), ("Nancy", 48.6936, 6.1834, 20)] {
        let body = crate::tours::stop_body(
            city,
            lat,
            lon,
            &format!("2027-10-{day}T09:00:00+02:00"),
            &format!("2027-10-{day}T17:00:00+02:00"),
        );
        let res = app
            .post(&format!("/api/v1/tours/{tour_id}/stops"), Some(&app.organiser), &body)
            .await;
        stops.push(
            expect_json(res, StatusCode::CREATED).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let res = app
        .patch(
            &format!("/api/v1/tours/{tour_id}"),
            Some(&app.organiser),
            &json!({ "status": "published" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let mut employers = Vec::new();
    for name in ["Crédit Mosellan", "Lorraine Télécom Services"] {
        let org = app.create_organisation(name).await["id"].as_str().unwrap().to_owned();
        join(app, &tour_id, &org).await;
        let (_, token) = app.partner_of(&org).await;
        employers.push((org, token));
    }
    let [(employer, partner), (other_employer, other_partner)]: [(String, String); 2] = employers.try_into().unwrap();
    Campaign {
        tour: tour_id,
        stops: stops.try_into().unwrap(),
        employer,
        partner,
        other_employer,
        other_partner,
    }
}

/// Adds the organisation to the tour's partners.
pub async fn join(app: &TestApp, tour: &str, org: &str) {
    let res = app
        .request(
            Method::PUT,
            &format!("/api/v1/tours/{tour}/partners/{org}"),
            Some(&app.organiser),
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
}

/// A position body for the campaign's tour: open, at both stops, with `extra` laid over it.
pub fn position_body(c: &Campaign, title: &str, extra: Value) -> Value {
    let mut body = json!({
        "tour_id": c.tour, "title": title, "contract_type": "cdi", "city": "Metz",
        "openings": 2, "status": "open", "stop_ids": c.stops,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// Posts a position as `token`; returns it.
pub async fn post_position(app: &TestApp, token: &str, body: &Value) -> Value {
    expect_json(
        app.post("/api/v1/positions", Some(token), body).await,
        StatusCode::CREATED,
    )
    .await
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// The ids a public search `q` (URL-encoded) finds, through every page of `limit`.
async fn searched(app: &TestApp, q: String, limit: u32) -> Vec<String> {
    all_ids(app, &format!("/api/v1/positions?q={q}&limit={limit}"), None).await
}

/// The ids a list answers, following every cursor.
pub async fn all_ids(app: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}cursor={c}"),
            None => path.to_owned(),
        };
        let page = expect_json(app.get(&url, token).await, StatusCode::OK).await;
        ids.extend(page["items"].as_array().unwrap().iter().map(id));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

async fn the_public_sees_open_positions_of_published_tours_only(app: TestApp) {
    let c = campaign(&app).await;
    let open = post_position(&app, &c.partner, &position_body(&c, "Conseiller clientèle", json!({}))).await;
    let draft = post_position(
        &app,
        &c.partner,
        &position_body(&c, "Brouillon", json!({ "status": "draft" })),
    )
    .await;
    let closed = post_position(&app, &c.partner, &position_body(&c, "Fermé", json!({}))).await;
    let res = app
        .patch(
            &format!("/api/v1/positions/{}", id(&closed)),
            Some(&c.partner),
            &json!({ "status": "closed" }),
        )
        .await;
    assert_eq!(expect_json(res, StatusCode::OK).await["status"], "closed");
    let expired = post_position(
        &app,
        &c.partner,
        &position_body(&c, "Expiré", json!({ "closes_on": "2020-01-01" })),
    )
    .await;
    // A position of a draft tour (organisers may post there) is not on the board either.
    let hidden_tour = crate::tours::tour(&app).await;
    join(&app, crate::tours::id(&hidden_tour), &c.employer).await;
    let unpublished = post_position(
        &app,
        &app.organiser,
        &json!({ "tour_id": crate::tours::id(&hidden_tour), "organisation_id": c.employer, "title": "Caché",
                 "contract_type": "cdd", "city": "Metz", "status": "open" }),
    )
    .await;
    assert_eq!(open["employer_name"], "Crédit Mosellan");
    assert_eq!(open["filled"], 0);
    assert_eq!(open["stop_ids"], json!(c.stops));

    let board = all_ids(&app, "/api/v1/positions", None).await;
    assert_eq!(board, [id(&open)], "anonymous board");
    let other = all_ids(&app, "/api/v1/positions", Some(&c.other_partner)).await;
    assert_eq!(other, [id(&open)], "another employer's partner sees the board only");
    let own: HashSet<String> = all_ids(&app, "/api/v1/positions", Some(&c.partner))
        .await
        .into_iter()
        .collect();
    let expected: HashSet<String> = [&open, &draft, &closed, &expired, &unpublished]
        .iter()
        .map(|v| id(v))
        .collect();
    assert_eq!(own, expected, "the employer's partner sees all its own");
    assert_eq!(all_ids(&app, "/api/v1/positions", Some(&app.organiser)).await.len(), 5);
    let drafts = all_ids(&app, "/api/v1/positions?status=draft", None).await;
    assert!(drafts.is_empty(), "a status filter does not widen the board");

    // One position: a shared link keeps working once closed; a draft exists for its employer only.
    let path = |v: &Value| format!("/api/v1/positions/{}", id(v));
    assert_eq!(
        expect_json(app.get(&path(&closed), None).await, StatusCode::OK).await["status"],
        "closed"
    );
    for token in [None, Some(c.other_partner.as_str())] {
        expect_problem(app.get(&path(&draft), token).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_problem(
            app.get(&path(&unpublished), token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    assert_eq!(app.get(&path(&draft), Some(&c.partner)).await.status(), StatusCode::OK);
    let res = app.get(&path(&open), None).await;
    assert_eq!(res.headers()["etag"], "\"1\"");
}

async fn partners_post_for_their_own_organisation_only(app: TestApp) {
    let c = campaign(&app).await;
    let mine = post_position(&app, &c.partner, &position_body(&c, "Superviseur", json!({}))).await;
    assert_eq!(
        mine["organisation_id"],
        c.employer.as_str(),
        "absent organisation_id: the partner's own"
    );
    let res = app
        .post(
            "/api/v1/positions",
            Some(&c.partner),
            &position_body(&c, "Pour un autre", json!({ "organisation_id": c.other_employer })),
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    // Organisers post for any employer, but must say which.
    let res = app
        .post(
            "/api/v1/positions",
            Some(&app.organiser),
            &position_body(&c, "X", json!({})),
        )
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "organisation_id");
    let theirs = post_position(
        &app,
        &app.organiser,
        &position_body(&c, "Technicien support", json!({ "organisation_id": c.other_employer })),
    )
    .await;
    // An employer that does not take part in the tour cannot post for it.
    let outsider = app.create_organisation("Absent").await;
    let res = app
        .post(
            "/api/v1/positions",
            Some(&app.organiser),
            &position_body(&c, "X", json!({ "organisation_id": outsider["id"] })),
        )
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "not_a_tour_partner");
    // A stop of another tour.
    let other_tour = crate::tours::tour(&app).await;
    let res = app
        .post(
            &format!("/api/v1/tours/{}/stops", crate::tours::id(&other_tour)),
            Some(&app.organiser),
            &crate::tours::stop_body(
                "Toul",
                48.675,
                5.8917,
                "2027-10-21T09:00:00+02:00",
                "2027-10-21T17:00:00+02:00",
            ),
        )
        .await;
    let foreign_stop = expect_json(res, StatusCode::CREATED).await;
    let res = app
        .post(
            "/api/v1/positions",
            Some(&c.partner),
            &position_body(&c, "X", json!({ "stop_ids": [c.stops[0], foreign_stop["id"]] })),
        )
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "stop_ids[1]");
    assert_eq!(p["errors"][0]["code"], "not_a_stop_of_the_tour");
    // A partner cannot post into a tour it cannot see.
    let res = app
        .post(
            "/api/v1/positions",
            Some(&c.partner),
            &position_body(
                &c,
                "X",
                json!({ "tour_id": crate::tours::id(&other_tour), "stop_ids": [] }),
            ),
        )
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "tour_id");
    // Editing: own yes, another's no.
    let path = |v: &Value| format!("/api/v1/positions/{}", id(v));
    let res = app
        .patch(&path(&mine), Some(&c.partner), &json!({ "openings": 5 }))
        .await;
    assert_eq!(expect_json(res, StatusCode::OK).await["openings"], 5);
    let res = app
        .patch(&path(&theirs), Some(&c.partner), &json!({ "openings": 5 }))
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    expect_problem(
        app.delete(&path(&theirs), Some(&c.partner)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let res = app.patch(&path(&theirs), None, &json!({ "openings": 5 })).await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

async fn every_filter_narrows_the_board(app: TestApp) {
    let c = campaign(&app).await;
    let a = post_position(
        &app,
        &c.partner,
        &position_body(
            &c,
            "Conseiller bancaire",
            json!({ "contract_type": "cdi", "working_time": "full_time", "city": "Metz", "sector": "banking", "stop_ids": [c.stops[0]] }),
        ),
    )
    .await;
    let b = post_position(
        &app,
        &c.partner,
        &position_body(
            &c,
            "Chargé d'accueil",
            json!({ "contract_type": "cdd", "working_time": "part_time", "city": "Nancy", "sector": "insurance", "stop_ids": [c.stops[1]] }),
        ),
    )
    .await;
    let other = post_position(
        &app,
        &c.other_partner,
        &position_body(
            &c,
            "Technicien",
            json!({ "contract_type": "interim", "city": "Metz", "sector": "telecoms", "stop_ids": c.stops }),
        ),
    )
    .await;
    let second_tour = crate::tours::tour(&app).await;
    let second = crate::tours::id(&second_tour).to_owned();
    join(&app, &second, &c.employer).await;
    let res = app
        .patch(
            &format!("/api/v1/tours/{second}"),
            Some(&app.organiser),
            &json!({ "status": "published" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let elsewhere = post_position(
        &app,
        &c.partner,
        &json!({ "tour_id": second, "title": "Ailleurs", "contract_type": "cdi", "city": "Épinal", "status": "open" }),
    )
    .await;
    let (a, b, other, elsewhere) = (id(&a), id(&b), id(&other), id(&elsewhere));
    let set = |v: &[&String]| v.iter().map(|s| (*s).clone()).collect::<HashSet<String>>();
    for (query, expected) in [
        (format!("tour_id={}", c.tour), set(&[&a, &b, &other])),
        (format!("tour_id={second}"), set(&[&elsewhere])),
        (format!("stop_id={}", c.stops[0]), set(&[&a, &other])),
        (format!("stop_id={}", c.stops[1]), set(&[&b, &other])),
        (format!("organisation_id={}", c.other_employer), set(&[&other])),
        ("contract_type=cdd".to_owned(), set(&[&b])),
        ("contract_type=interim".to_owned(), set(&[&other])),
        ("working_time=part_time".to_owned(), set(&[&b])),
        ("city=Metz".to_owned(), set(&[&a, &other])),
        ("city=%C3%89pinal".to_owned(), set(&[&elsewhere])),
        ("sector=insurance".to_owned(), set(&[&b])),
        (format!("city=Metz&organisation_id={}", c.employer), set(&[&a])),
        (format!("contract_type=cdi&tour_id={}", c.tour), set(&[&a])),
    ] {
        let got: HashSet<String> = all_ids(&app, &format!("/api/v1/positions?{query}"), None)
            .await
            .into_iter()
            .collect();
        assert_eq!(got, expected, "{query}");
    }
    // Staff filter on status; bad values are 400s.
    let res = app
        .patch(
            &format!("/api/v1/positions/{b}"),
            Some(&c.partner),
            &json!({ "status": "closed" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let closed: Vec<String> = all_ids(&app, "/api/v1/positions?status=closed", Some(&app.organiser)).await;
    assert_eq!(closed, std::slice::from_ref(&b));
    for bad in [
        "status=gone",
        "contract_type=freelance",
        "working_time=x",
        "tour_id=nope",
        "q=".to_owned().as_str(),
    ] {
        let res = app.get(&format!("/api/v1/positions?{bad}"), None).await;
        if bad == "q=" {
            assert_eq!(res.status(), StatusCode::OK, "an empty search is no search");
        } else {
            expect_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
        }
    }
}

async fn search_is_french_and_blind_to_accents_and_case(app: TestApp) {
    let c = campaign(&app).await;
    let conseillere = post_position(
        &app,
        &c.partner,
        &position_body(
            &c,
            "Conseillère clientèle",
            json!({ "description": "Accueil téléphonique des clients." }),
        ),
    )
    .await;
    let telecom = post_position(
        &app,
        &c.partner,
        &position_body(
            &c,
            "Technicien support Télécom",
            json!({ "description": "Assistance aux abonnés." }),
        ),
    )
    .await;
    let described = post_position(
        &app,
        &c.partner,
        &position_body(
            &c,
            "Superviseur d'équipe",
            json!({ "description": "Vous encadrez une équipe de conseillers en relation client." }),
        ),
    )
    .await;
    let plain = post_position(&app, &c.partner, &position_body(&c, "Manager de plateau", json!({}))).await;
    let ids = |q: &str| searched(&app, q.to_owned(), 50);
    // "conseiller" finds "Conseillère" and "conseillers"; the title match ranks first.
    assert_eq!(ids("conseiller").await, [id(&conseillere), id(&described)]);
    assert_eq!(ids("CONSEILLER").await, [id(&conseillere), id(&described)]);
    assert_eq!(ids("conseill%C3%A8re").await, [id(&conseillere), id(&described)]);
    assert_eq!(ids("telecom").await, [id(&telecom)]);
    assert_eq!(ids("T%C3%A9l%C3%A9com").await, [id(&telecom)]);
    assert_eq!(ids("equipe").await, [id(&described)]);
    assert_eq!(ids("%C3%A9quipe%20relation").await, [id(&described)]);
    assert_eq!(ids("manager").await, [id(&plain)]);
    assert!(ids("boulanger").await.is_empty());
    assert!(ids("de%20la").await.is_empty(), "stop words alone find nothing");
    assert!(ids("%21%21").await.is_empty(), "punctuation alone finds nothing");
    assert!(
        ids("client%20t%C3%A9l%C3%A9phonique").await == [id(&conseillere)],
        "every word must match"
    );
    // Search syntax is text: nothing of it reaches the engine.
    for q in [
        "%27%20OR%201%3D1",
        "a%20%26%20%7C%20%21",
        "%22conseiller%22*",
        "NEAR(a%20b)",
        "conseil%3A*",
    ] {
        let res = app.get(&format!("/api/v1/positions?q={q}"), None).await;
        assert_eq!(res.status(), StatusCode::OK, "{q}");
    }
    // Search combines with filters and with the visibility rules.
    let res = app
        .patch(
            &format!("/api/v1/positions/{}", id(&described)),
            Some(&c.partner),
            &json!({ "status": "closed" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    assert_eq!(ids("conseiller").await, [id(&conseillere)]);
    let staff = all_ids(&app, "/api/v1/positions?q=conseiller&status=closed", Some(&c.partner)).await;
    assert_eq!(staff, [id(&described)]);
    // A changed title is searched by its new words.
    let res = app
        .patch(
            &format!("/api/v1/positions/{}", id(&plain)),
            Some(&c.partner),
            &json!({ "title": "Chargé de recouvrement" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    assert!(ids("manager").await.is_empty());
    assert_eq!(ids("recouvrement").await, [id(&plain)]);
    // A deleted position is no longer found.
    expect_json(
        app.delete(&format!("/api/v1/positions/{}", id(&plain)), Some(&c.partner))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert!(ids("recouvrement").await.is_empty());
}

async fn paging_through_120_positions_gives_each_once(app: TestApp) {
    let c = campaign(&app).await;
    let mut created = Vec::new();
    for i in 0..120 {
        let (title, city) = if i % 3 == 0 {
            (format!("Conseiller clientèle n°{i}"), "Metz")
        } else {
            (format!("Technicien n°{i}"), "Nancy")
        };
        // A third of the technicians work with a "conseiller": a match in the description.
        let description = if i % 3 == 1 { "Avec un conseiller." } else { "" };
        let body = position_body(&c, &title, json!({ "city": city, "description": description }));
        let p = post_position(&app, &c.partner, &body).await;
        created.push((id(&p), i % 3 == 0));
    }
    let every: Vec<String> = created.iter().map(|(id, _)| id.clone()).rev().collect();
    let metz: Vec<String> = created
        .iter()
        .filter(|(_, m)| *m)
        .map(|(id, _)| id.clone())
        .rev()
        .collect();
    let paged = all_ids(&app, "/api/v1/positions?limit=7", None).await;
    assert_eq!(paged, every, "newest first, each once");
    let filtered = all_ids(&app, "/api/v1/positions?limit=7&city=Metz", None).await;
    assert_eq!(filtered, metz);
    // A search: title matches newest first, then description matches newest first, the pages
    // of seven crossing from one to the other.
    let described: Vec<String> = every.iter().skip(1).step_by(3).cloned().collect();
    assert_eq!(described.len(), 40);
    let searched = all_ids(&app, "/api/v1/positions?limit=7&q=conseiller", None).await;
    assert_eq!(searched, [metz.clone(), described].concat());
    let searched_city = all_ids(&app, "/api/v1/positions?limit=3&q=technicien&city=Nancy", None).await;
    assert_eq!(searched_city.len(), 80);
    assert_eq!(searched_city.iter().collect::<HashSet<_>>().len(), 80);
    // A cursor of a search is not a cursor of the plain list.
    let page = expect_json(
        app.get("/api/v1/positions?limit=5&q=conseiller", None).await,
        StatusCode::OK,
    )
    .await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let res = app.get(&format!("/api/v1/positions?cursor={cursor}"), None).await;
    expect_problem(res, StatusCode::BAD_REQUEST, "invalid_cursor").await;
}

async fn the_position_workflow_and_its_refusals(app: TestApp) {
    let c = campaign(&app).await;
    let p = post_position(
        &app,
        &c.partner,
        &position_body(&c, "Conseiller", json!({ "status": "draft", "openings": 1 })),
    )
    .await;
    assert_eq!(p["status"], "draft");
    let path = format!("/api/v1/positions/{}", id(&p));
    let set = |status: &'static str| {
        let (app, path, token) = (&app, path.clone(), c.partner.clone());
        async move { app.patch(&path, Some(&token), &json!({ "status": status })).await }
    };
    let problem = expect_problem(set("closed").await, StatusCode::CONFLICT, "invalid_transition").await;
    assert_eq!(problem["allowed"], json!(["open"]));
    expect_problem(set("filled").await, StatusCode::CONFLICT, "invalid_transition").await;
    assert_eq!(expect_json(set("open").await, StatusCode::OK).await["status"], "open");
    let problem = expect_problem(set("filled").await, StatusCode::CONFLICT, "invalid_transition").await;
    assert_eq!(problem["allowed"], json!(["closed"]), "filled comes with hires only");
    let res = app
        .post(
            "/api/v1/positions",
            Some(&c.partner),
            &position_body(&c, "X", json!({ "status": "filled" })),
        )
        .await;
    let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "invalid_initial_status");

    // A hire fills the only opening; more openings reopen it; fewer than the hires are refused.
    let app_id = crate::applications::apply(&app, &id(&p), "camille@example.org").await;
    crate::applications::move_to(
        &app,
        &c.partner,
        &app_id,
        &["screening", "interview", "offered", "hired"],
    )
    .await;
    let now = expect_json(app.get(&path, Some(&c.partner)).await, StatusCode::OK).await;
    assert_eq!(
        (now["status"].as_str(), now["filled"].as_i64()),
        (Some("filled"), Some(1))
    );
    let res = app.patch(&path, Some(&c.partner), &json!({ "openings": 3 })).await;
    let now = expect_json(res, StatusCode::OK).await;
    assert_eq!(
        (now["status"].as_str(), now["openings"].as_i64()),
        (Some("open"), Some(3))
    );
    let res = app.patch(&path, Some(&c.partner), &json!({ "openings": 1 })).await;
    assert_eq!(
        expect_json(res, StatusCode::OK).await["status"],
        "filled",
        "back to filled"
    );
    let res = app.patch(&path, Some(&c.partner), &json!({ "openings": 0 })).await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        expect_json(set("closed").await, StatusCode::OK).await["status"],
        "closed"
    );
    expect_problem(set("open").await, StatusCode::CONFLICT, "invalid_transition").await;
    // openings below the hires
    let q = post_position(
        &app,
        &c.partner,
        &position_body(&c, "Deux postes", json!({ "openings": 2 })),
    )
    .await;
    let qpath = format!("/api/v1/positions/{}", id(&q));
    for email in ["a@example.org", "b@example.org"] {
        let a = crate::applications::apply(&app, &id(&q), email).await;
        crate::applications::move_to(&app, &c.partner, &a, &["screening", "interview", "offered", "hired"]).await;
    }
    let res = app.patch(&qpath, Some(&c.partner), &json!({ "openings": 1 })).await;
    expect_problem(res, StatusCode::CONFLICT, "openings_below_filled").await;
    // Stale If-Match.
    let res = app
        .request(Method::PATCH, &qpath, Some(&c.partner))
        .header("if-match", "\"1\"")
        .json(&json!({ "title": "Nouveau" }))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::PRECONDITION_FAILED, "precondition_failed").await;
}

async fn invalid_positions_get_per_field_errors(app: TestApp) {
    let c = campaign(&app).await;
    let res = app
        .post(
            "/api/v1/positions",
            Some(&c.partner),
            &position_body(
                &c,
                " ",
                json!({ "contract_type": "freelance", "openings": 0, "salary_min": 2300, "salary_max": 1900, "salary_period": "month" }),
            ),
        )
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields = error_fields(&p);
    assert_eq!(fields, ["openings", "title", "contract_type", "salary_max"]);
    let res = app
        .post(
            "/api/v1/positions",
            Some(&c.partner),
            &position_body(&c, "X", json!({ "salary_min": 1900 })),
        )
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
        (Some("salary_period"), Some("required"))
    );
    let ok = post_position(
        &app,
        &c.partner,
        &position_body(
            &c,
            "Avec salaire",
            json!({ "salary_min": 1900, "salary_max": 2300.0, "salary_period": "month" }),
        ),
    )
    .await;
    assert_eq!(
        (ok["salary_min"].as_i64(), ok["salary_max"].as_i64()),
        (Some(1900), Some(2300))
    );
    let res = app
        .patch(
            &format!("/api/v1/positions/{}", id(&ok)),
            Some(&c.partner),
            &json!({ "salary_min": null, "salary_max": null }),
        )
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        p["errors"][0]["code"], "without_salary",
        "the period alone makes no salary"
    );
    let res = app
        .patch(
            &format!("/api/v1/positions/{}", id(&ok)),
            Some(&c.partner),
            &json!({ "salary_min": null, "salary_max": null, "salary_period": null }),
        )
        .await;
    assert_eq!(expect_json(res, StatusCode::OK).await["salary_period"], Value::Null);
    let res = app
        .patch(
            &format!("/api/v1/positions/{}", id(&ok)),
            Some(&c.partner),
            &json!({ "tour_id": c.tour }),
        )
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "unknown_field").await;
}

async fn a_position_with_applications_cannot_be_deleted(app: TestApp) {
    let c = campaign(&app).await;
    let p = post_position(&app, &c.partner, &position_body(&c, "Conseiller", json!({}))).await;
    let empty = post_position(&app, &c.partner, &position_body(&c, "Sans candidat", json!({}))).await;
    crate::applications::apply(&app, &id(&p), "camille@example.org").await;
    let res = app
        .delete(&format!("/api/v1/positions/{}", id(&p)), Some(&c.partner))
        .await;
    expect_problem(res, StatusCode::CONFLICT, "in_use").await;
    let res = app
        .delete(&format!("/api/v1/positions/{}", id(&empty)), Some(&c.partner))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .get(&format!("/api/v1/positions/{}", id(&empty)), Some(&c.partner))
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

async fn the_closing_day_ends_at_midnight_in_the_tour_zone(app: TestApp) {
    use jobtour_api::entities::position::Entity;
    use sea_orm::EntityTrait;
    let c = campaign(&app).await;
    let p = post_position(
        &app,
        &c.partner,
        &position_body(&c, "X", json!({ "closes_on": "2027-10-23" })),
    )
    .await;
    let position_id: uuid::Uuid = id(&p).parse().unwrap();
    let closes_at = || async {
        let row = Entity::find_by_id(position_id)
            .one(app.db.conn())
            .await
            .unwrap()
            .unwrap();
        row.closes_at.unwrap().to_rfc3339()
    };
    assert_eq!(
        closes_at().await,
        "2027-10-23T22:00:00+00:00",
        "midnight in Paris (CEST)"
    );
    // The tour moves to Cayenne (UTC−3): the same day now ends five hours later.
    let res = app
        .patch(
            &format!("/api/v1/tours/{}", c.tour),
            Some(&app.organiser),
            &json!({ "timezone": "America/Cayenne" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    assert_eq!(closes_at().await, "2027-10-24T03:00:00+00:00");
    let seen = expect_json(
        app.get(&format!("/api/v1/positions/{}", id(&p)), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["closes_on"], "2027-10-23");
}

/// A position's stops come in the order the bus reaches them, not the order they were added or
/// listed in: a stop moved after the others comes last, by id and in the list.
async fn stops_are_shown_in_itinerary_order(app: TestApp) {
    let c = campaign(&app).await;
    let p = post_position(&app, &c.partner, &position_body(&c, "Itinéraire", json!({}))).await;
    assert_eq!(p["stop_ids"], json!(c.stops), "as created");
    let res = app
        .patch(
            &format!("/api/v1/stops/{}", c.stops[0]),
            Some(&app.organiser),
            &json!({ "arrives_at": "2027-10-22T09:00:00+02:00", "departs_at": "2027-10-22T17:00:00+02:00" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let itinerary = json!([c.stops[1], c.stops[0]]);
    let res = app.get(&format!("/api/v1/positions/{}", id(&p)), None).await;
    assert_eq!(expect_json(res, StatusCode::OK).await["stop_ids"], itinerary, "by id");
    let res = app.get("/api/v1/positions", None).await;
    assert_eq!(
        expect_json(res, StatusCode::OK).await["items"][0]["stop_ids"],
        itinerary,
        "listed"
    );
    let lone = post_position(
        &app,
        &c.partner,
        &position_body(&c, "Sans étape", json!({ "stop_ids": [] })),
    )
    .await;
    let res = app.get(&format!("/api/v1/positions/{}", id(&lone)), None).await;
    assert_eq!(expect_json(res, StatusCode::OK).await["stop_ids"], json!([]), "no stop");
}

/// On SQLite a typed word is replaced by the indexed words it begins; a word that begins more
/// than a search replaces is looked up as a prefix by the index itself. Both find the same.
async fn a_word_that_begins_many_indexed_words_finds_them_all(app: TestApp) {
    let c = campaign(&app).await;
    let words: Vec<String> = (1..=250).map(|i| format!("codex{i}")).collect();
    let described = post_position(
        &app,
        &c.partner,
        &position_body(&c, "Archiviste", json!({ "description": words.join(" ") })),
    )
    .await;
    let titled = post_position(&app, &c.partner, &position_body(&c, "Codex", json!({}))).await;
    let ids = |q: &str| searched(&app, q.to_owned(), 1);
    // 251 words begin "codex": the title match first, then the description's.
    assert_eq!(ids("codex").await, [id(&titled), id(&described)]);
    assert_eq!(ids("CODEX%20archiviste").await, [id(&described)]);
    // 62 words begin "codex2", one is "codex117".
    assert_eq!(ids("codex2").await, [id(&described)]);
    assert_eq!(ids("codex117").await, [id(&described)]);
    assert!(ids("codex251").await.is_empty());
    assert!(ids("zodex").await.is_empty());
}

/// The migration that changed SQLite's search index (stems and their vocabulary instead of
/// words) indexes the positions already there: undone and done again, the search finds them.
async fn positions_written_before_the_search_index_changed_are_found(app: TestApp) {
    use jobtour_migrations::{Migrator, MigratorTrait};
    let c = campaign(&app).await;
    let conseillere = post_position(
        &app,
        &c.partner,
        &position_body(
            &c,
            "Conseillère clientèle",
            json!({ "description": "Accueil téléphonique." }),
        ),
    )
    .await;
    let described = post_position(
        &app,
        &c.partner,
        &position_body(
            &c,
            "Superviseur",
            json!({ "description": "Une équipe de conseillers." }),
        ),
    )
    .await;
    Migrator::down(app.db.conn(), Some(1)).await.unwrap();
    Migrator::up(app.db.conn(), None).await.unwrap();
    let ids = |q: &str| searched(&app, q.to_owned(), 50);
    assert_eq!(ids("conseiller").await, [id(&conseillere), id(&described)]);
    assert_eq!(ids("t%C3%A9l%C3%A9phonique").await, [id(&conseillere)]);
    // And what is written afterwards is indexed as before.
    let later = post_position(&app, &c.partner, &position_body(&c, "Conseiller emploi", json!({}))).await;
    assert_eq!(ids("conseil").await, [id(&later), id(&conseillere), id(&described)]);
}
