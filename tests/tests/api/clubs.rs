//! Professional clubs: members with their history, the figures summed on the club, mergers
//! (concurrent ones too).

use crate::common::{TestApp, both, count, expect_json, expect_problem};
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both!(
    memberships_are_idempotent_and_keep_their_history,
    every_refusal_of_a_membership,
    a_merger_moves_each_member_once_and_freezes_the_clubs,
    of_two_concurrent_mergers_of_one_club_one_wins,
);

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn org(app: &TestApp, name: &str, kind: &str, employees: i64, centres: i64) -> String {
    let body = json!({ "name": name, "kind": kind, "employees": employees, "centres": centres });
    id(&expect_json(
        app.post("/api/v1/organisations", Some(&app.organiser), &body).await,
        StatusCode::CREATED,
    )
    .await)
}

async fn put_member(app: &TestApp, club: &str, member: &str, body: Option<Value>) -> reqwest::Response {
    let req = app.request(
        Method::PUT,
        &format!("/api/v1/organisations/{club}/members/{member}"),
        Some(&app.organiser),
    );
    match body {
        Some(b) => req.json(&b),
        None => req,
    }
    .send()
    .await
    .unwrap()
}

async fn members(app: &TestApp, club: &str, at: Option<&str>) -> Vec<String> {
    let path = match at {
        Some(day) => format!("/api/v1/organisations/{club}/members?at={day}"),
        None => format!("/api/v1/organisations/{club}/members"),
    };
    let page = expect_json(app.get(&path, None).await, StatusCode::OK).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["organisation"]["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn get(app: &TestApp, id: &str) -> Value {
    expect_json(
        app.get(&format!("/api/v1/organisations/{id}"), None).await,
        StatusCode::OK,
    )
    .await
}

async fn memberships_are_idempotent_and_keep_their_history(app: TestApp) {
    let viatis = org(&app, "Viatis", "club", 0, 0).await;
    let sage = org(&app, "Sage Metz", "employer", 400, 1).await;
    let arvato = org(&app, "Arvato Metz", "employer", 1200, 2).await;
    let res = put_member(&app, &viatis, &sage, Some(json!({ "joined_on": "2005-06-01" }))).await;
    let first = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(first["joined_on"], "2005-06-01");
    assert!(first["left_on"].is_null());
    assert_eq!(first["organisation"]["name"], "Sage Metz");
    // Again, with another date: a member already, unchanged.
    let again = expect_json(
        put_member(&app, &viatis, &sage, Some(json!({ "joined_on": "2010-01-01" }))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["joined_on"], "2005-06-01");
    // Without a body: from today.
    let today = expect_json(put_member(&app, &viatis, &arvato, None).await, StatusCode::CREATED).await;
    assert_eq!(members(&app, &viatis, None).await, [sage.clone(), arvato.clone()]);
    // The club sums its members; each member names its clubs.
    let club = get(&app, &viatis).await;
    assert_eq!(
        club["membership"],
        json!({ "members": 2, "employees": 1600, "centres": 3 })
    );
    assert_eq!(get(&app, &sage).await["clubs"][0]["name"], "Viatis");
    // The ETag follows: a member's new head count shows on the club.
    let etag = app
        .get(&format!("/api/v1/organisations/{viatis}"), None)
        .await
        .headers()["etag"]
        .clone();
    let res = app
        .patch(
            &format!("/api/v1/organisations/{sage}"),
            Some(&app.organiser),
            &json!({ "employees": 500 }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let res = app
        .request(Method::GET, &format!("/api/v1/organisations/{viatis}"), None)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "not 304: the figures changed");
    assert_eq!(get(&app, &viatis).await["membership"]["employees"], 1700);
    // Sage leaves today: gone from today's list, still there on an earlier day, kept.
    let res = app
        .delete(
            &format!("/api/v1/organisations/{viatis}/members/{sage}"),
            Some(&app.organiser),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(members(&app, &viatis, None).await, std::slice::from_ref(&arvato));
    assert_eq!(
        members(&app, &viatis, Some("2012-05-01")).await,
        std::slice::from_ref(&sage)
    );
    assert!(members(&app, &viatis, Some("2005-05-31")).await.is_empty());
    assert_eq!(get(&app, &viatis).await["membership"]["members"], 1);
    assert_eq!(get(&app, &sage).await["clubs"], json!([]));
    let res = app
        .delete(
            &format!("/api/v1/organisations/{viatis}/members/{sage}"),
            Some(&app.organiser),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(count(&app, "SELECT count(*) FROM memberships").await, 2);
    // Joining again opens a new membership beside the old one.
    expect_json(put_member(&app, &viatis, &sage, None).await, StatusCode::CREATED).await;
    assert_eq!(count(&app, "SELECT count(*) FROM memberships").await, 3);
    assert_eq!(today["club_id"], viatis.as_str());
    // Twenty joins of one member at once: one membership.
    let other = org(&app, "Aticall", "employer", 300, 1).await;
    let answers = join_all((0..20).map(|_| put_member(&app, &viatis, &other, None))).await;
    let created = answers.iter().filter(|r| r.status() == StatusCode::CREATED).count();
    let ok = answers.iter().filter(|r| r.status() == StatusCode::OK).count();
    assert_eq!((created, ok), (1, 19));
}

async fn every_refusal_of_a_membership(app: TestApp) {
    let club = org(&app, "Connect", "club", 0, 0).await;
    let employer = org(&app, "Crédit Mosellan", "employer", 900, 3).await;
    expect_problem(
        put_member(&app, &employer, &club, None).await,
        StatusCode::CONFLICT,
        "not_a_club",
    )
    .await;
    expect_problem(
        put_member(&app, &club, &club, None).await,
        StatusCode::CONFLICT,
        "own_member",
    )
    .await;
    let res = app
        .get(&format!("/api/v1/organisations/{employer}/members"), None)
        .await;
    expect_problem(res, StatusCode::CONFLICT, "not_a_club").await;
    let missing = uuid::Uuid::now_v7();
    expect_problem(
        put_member(&app, &club, &missing.to_string(), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let res = put_member(&app, &club, &employer, Some(json!({ "joined_on": "30/03/2016" }))).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Figures are never negative.
    let res = app
        .patch(
            &format!("/api/v1/organisations/{employer}"),
            Some(&app.organiser),
            &json!({ "centres": -1 }),
        )
        .await;
    let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "centres");
    // Partners do not manage clubs.
    let (_, partner) = app.partner_of(&employer).await;
    let res = app
        .request(
            Method::PUT,
            &format!("/api/v1/organisations/{club}/members/{employer}"),
            Some(&partner),
        )
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(count(&app, "SELECT count(*) FROM memberships").await, 0);
}

async fn merge(app: &TestApp, body: &Value) -> reqwest::Response {
    app.post("/api/v1/organisations/merge", Some(&app.organiser), body)
        .await
}

async fn a_merger_moves_each_member_once_and_freezes_the_clubs(app: TestApp) {
    let viatis = org(&app, "Viatis", "club", 0, 0).await;
    let connect = org(&app, "Connect", "club", 0, 0).await;
    let (sage, arvato, common) = (
        org(&app, "Sage", "employer", 400, 1).await,
        org(&app, "Arvato", "employer", 1200, 2).await,
        org(&app, "Banque commune", "employer", 100, 1).await,
    );
    for (club, member) in [
        (&viatis, &sage),
        (&viatis, &common),
        (&connect, &arvato),
        (&connect, &common),
    ] {
        expect_json(
            put_member(&app, club, member, Some(json!({ "joined_on": "2010-01-01" }))).await,
            StatusCode::CREATED,
        )
        .await;
    }
    // A tour the club organised stays its.
    let tour = expect_json(
        app.post(
            "/api/v1/tours",
            Some(&app.organiser),
            &json!({ "name": "Un job au bout du fil", "starts_on": "2027-10-19", "ends_on": "2027-10-23",
                     "organiser_organisation_id": viatis }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // Refusals first: into itself, not a club, a single club, neither or both targets.
    let employer = org(&app, "Pas un club", "employer", 1, 1).await;
    for (body, status, code) in [
        (
            json!({ "from": [viatis, connect], "into_id": viatis, "effective_on": "2016-03-30" }),
            409,
            "merge_into_itself",
        ),
        (
            json!({ "from": [viatis, employer], "into": { "name": "X" }, "effective_on": "2016-03-30" }),
            409,
            "not_a_club",
        ),
        (
            json!({ "from": [viatis, connect], "into_id": employer, "effective_on": "2016-03-30" }),
            409,
            "not_a_club",
        ),
        (
            json!({ "from": [viatis], "into": { "name": "X" }, "effective_on": "2016-03-30" }),
            422,
            "validation_failed",
        ),
        (
            json!({ "from": [viatis, connect], "effective_on": "2016-03-30" }),
            422,
            "validation_failed",
        ),
        (
            json!({ "from": [viatis, connect], "into": { "name": " " }, "effective_on": "2016-03-30" }),
            422,
            "validation_failed",
        ),
    ] {
        expect_problem(merge(&app, &body).await, StatusCode::from_u16(status).unwrap(), code).await;
    }
    assert_eq!(
        count(&app, "SELECT count(*) FROM organisations WHERE kind = 'club'").await,
        2,
        "nothing half-done"
    );

    let res = merge(
        &app,
        &json!({ "from": [viatis, connect], "into": { "name": "Lorraine Contact Client", "city": "Metz" },
                 "effective_on": "2016-03-30" }),
    )
    .await;
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let merged = expect_json(res, StatusCode::CREATED).await;
    let l2c = id(&merged["club"]);
    assert_eq!(location, format!("/api/v1/organisations/{l2c}"));
    assert_eq!(merged["club"]["kind"], "club");
    assert_eq!(merged["club"]["founded_on"], "2016-03-30");
    assert_eq!(merged["members_moved"], 3);
    assert_eq!(merged["memberships_ended"], 4);
    assert_eq!(
        merged["club"]["membership"],
        json!({ "members": 3, "employees": 1700, "centres": 4 })
    );
    // The common member belongs once; the old memberships ended on the day.
    let mut now = members(&app, &l2c, None).await;
    now.sort();
    let mut expected = vec![sage.clone(), arvato.clone(), common.clone()];
    expected.sort();
    assert_eq!(now, expected);
    assert!(members(&app, &l2c, Some("2016-03-29")).await.is_empty());
    assert_eq!(
        members(&app, &viatis, Some("2016-03-29")).await,
        [sage.clone(), common.clone()]
    );
    assert!(members(&app, &viatis, Some("2016-03-30")).await.is_empty());
    let clubs = get(&app, &common).await["clubs"].clone();
    assert_eq!(clubs.as_array().unwrap().len(), 1, "{clubs}");
    assert_eq!(clubs[0]["name"], "Lorraine Contact Client");
    // The merged clubs: marked, frozen, still the tour's organiser.
    let old = get(&app, &viatis).await;
    assert_eq!(old["status"], "merged");
    assert_eq!(old["merged_into_id"], l2c.as_str());
    let res = app
        .patch(
            &format!("/api/v1/organisations/{viatis}"),
            Some(&app.organiser),
            &json!({ "description": "x" }),
        )
        .await;
    expect_problem(res, StatusCode::CONFLICT, "organisation_merged").await;
    expect_problem(
        put_member(&app, &viatis, &employer, None).await,
        StatusCode::CONFLICT,
        "organisation_merged",
    )
    .await;
    let res = app
        .delete(
            &format!("/api/v1/organisations/{connect}/members/{arvato}"),
            Some(&app.organiser),
        )
        .await;
    expect_problem(res, StatusCode::CONFLICT, "organisation_merged").await;
    let third = org(&app, "Troisième club", "club", 0, 0).await;
    expect_problem(
        merge(
            &app,
            &json!({ "from": [viatis, third], "into_id": l2c, "effective_on": "2017-01-01" }),
        )
        .await,
        StatusCode::CONFLICT,
        "organisation_merged",
    )
    .await;
    let tour = expect_json(
        app.get(&format!("/api/v1/tours/{}", id(&tour)), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tour["organiser_organisation_id"], viatis.as_str());
    assert_eq!(tour["organiser_merged_into_id"], l2c.as_str());
    // Into an existing club: its members stay, the newcomers join.
    let fourth = org(&app, "Quatrième club", "club", 0, 0).await;
    expect_json(put_member(&app, &third, &sage, None).await, StatusCode::CREATED).await;
    let res = merge(
        &app,
        &json!({ "from": [third, fourth], "into_id": l2c, "effective_on": "2020-01-01" }),
    )
    .await;
    let into_existing = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(into_existing["members_moved"], 0, "Sage is an L2C member already");
    assert_eq!(into_existing["memberships_ended"], 1);
    assert_eq!(into_existing["club"]["membership"]["members"], 3);
}

async fn of_two_concurrent_mergers_of_one_club_one_wins(app: TestApp) {
    let shared = org(&app, "Club disputé", "club", 0, 0).await;
    let (a, b) = (
        org(&app, "Club A", "club", 0, 0).await,
        org(&app, "Club B", "club", 0, 0).await,
    );
    for club in [&shared, &a, &b] {
        let member = org(&app, &format!("Membre de {club}"), "employer", 10, 1).await;
        expect_json(put_member(&app, club, &member, None).await, StatusCode::CREATED).await;
    }
    let bodies = [
        json!({ "from": [shared, a], "into": { "name": "Fusion 1" }, "effective_on": "2026-01-01" }),
        json!({ "from": [b, shared], "into": { "name": "Fusion 2" }, "effective_on": "2026-01-01" }),
    ];
    let answers = join_all(bodies.iter().map(|b| merge(&app, b))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    // The loser left nothing: one new club, and only the winner's clubs merged.
    assert_eq!(
        count(&app, "SELECT count(*) FROM organisations WHERE name LIKE 'Fusion%'").await,
        1
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM organisations WHERE status = 'merged'").await,
        2
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM memberships WHERE left_on IS NULL").await,
        3
    );
}
