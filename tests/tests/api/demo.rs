//! The demo campaign loads in one command and twice leaves the same data.

use crate::common::{TestApp, both, expect_json};
use reqwest::StatusCode;
use serde_json::Value;

both!(the_demo_loads_once_and_twice_changes_nothing);

async fn snapshot(app: &TestApp) -> Value {
    let tours = expect_json(app.get("/api/v1/tours?limit=200", None).await, StatusCode::OK).await;
    let tour_id = tours["items"][0]["id"].as_str().unwrap().to_owned();
    let stops = expect_json(
        app.get(&format!("/api/v1/tours/{tour_id}/stops?limit=200"), None).await,
        StatusCode::OK,
    )
    .await;
    let partners = expect_json(
        app.get(&format!("/api/v1/tours/{tour_id}/partners?limit=200"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    let orgs = expect_json(app.get("/api/v1/organisations?limit=200", None).await, StatusCode::OK).await;
    let users = expect_json(
        app.get("/api/v1/users?limit=200", Some(&app.organiser)).await,
        StatusCode::OK,
    )
    .await;
    let positions = all(app, "/api/v1/positions?limit=200").await;
    let applications = all(app, "/api/v1/applications?limit=200").await;
    let stats = expect_json(
        app.get(&format!("/api/v1/tours/{tour_id}/stats"), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    serde_json::json!({ "tours": tours, "stops": stops, "partners": partners, "organisations": orgs, "users": users,
                        "positions": positions, "applications": applications, "stats": stats })
}

/// Every item of a list, as the organiser sees it.
async fn all(app: &TestApp, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut url = path.to_owned();
    loop {
        let page = expect_json(app.get(&url, Some(&app.organiser)).await, StatusCode::OK).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{path}&cursor={c}"),
            None => return items,
        }
    }
}

async fn the_demo_loads_once_and_twice_changes_nothing(app: TestApp) {
    jobtour_api::demo::load(&app.db).await.unwrap();
    let first = snapshot(&app).await;
    assert_eq!(first["tours"]["items"].as_array().unwrap().len(), 1);
    assert_eq!(first["tours"]["items"][0]["status"], "published");
    assert_eq!(first["tours"]["items"][0]["name"], jobtour_api::demo::TOUR_NAME);
    let cities: Vec<_> = first["stops"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["city"].as_str().unwrap())
        .collect();
    assert_eq!(cities, ["Metz", "Nancy", "Toul", "Épinal", "Thionville"]);
    assert_eq!(first["partners"]["items"].as_array().unwrap().len(), 8);
    // About 500 openings across the employers, mostly permanent, in French; a few hundred
    // applications over the stops, some of them hired.
    let positions = first["positions"].as_array().unwrap();
    let openings: i64 = positions.iter().map(|p| p["openings"].as_i64().unwrap()).sum();
    assert_eq!(openings, 500);
    let cdi: i64 = positions
        .iter()
        .filter(|p| p["contract_type"] == "cdi")
        .map(|p| p["openings"].as_i64().unwrap())
        .sum();
    assert!(cdi * 2 > openings);
    assert!(
        positions
            .iter()
            .any(|p| p["title"] == "Conseiller clientèle bancaire (H/F)")
    );
    let employers: std::collections::HashSet<&str> =
        positions.iter().map(|p| p["employer_name"].as_str().unwrap()).collect();
    assert_eq!(employers.len(), 4);
    let applications = first["applications"].as_array().unwrap();
    assert_eq!(applications.len(), 300);
    let stats = &first["stats"];
    assert_eq!(
        (stats["openings"].as_i64(), stats["positions_target"].as_i64()),
        (Some(500), Some(500))
    );
    assert_eq!(stats["applications"], 300);
    let hires = applications.iter().filter(|a| a["status"] == "hired").count() as i64;
    assert!(hires > 0);
    assert_eq!(stats["hires"], hires);
    let filled: i64 = positions.iter().map(|p| p["filled"].as_i64().unwrap()).sum();
    assert_eq!(filled, hires, "every hire is counted on its position");
    assert!(
        stats["by_stop"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["applications"].as_i64().unwrap() > 0)
    );
    // Interview slots at every stop, and the candidates at the interview stage booked in them.
    let stop_id = first["stops"]["items"][0]["id"].as_str().unwrap();
    let slots = all(&app, &format!("/api/v1/stops/{stop_id}/slots?limit=200")).await;
    assert_eq!(
        slots.len(),
        4 * 7,
        "four employers, seven twenty-minute slots from 09:30"
    );
    assert_eq!(slots[0]["starts_at"].as_str().unwrap()[11..], *"09:30:00+02:00");
    let booked = applications.iter().filter(|a| a["booking"].is_object()).count();
    let interviews = applications.iter().filter(|a| a["status"] == "interview").count();
    assert!(booked > 0 && booked <= interviews, "{booked} of {interviews}");
    let searched = expect_json(app.get("/api/v1/positions?q=conseiller", None).await, StatusCode::OK).await;
    assert!(!searched["items"].as_array().unwrap().is_empty());
    // The clubs: Viatis and Connect merged into L2C, which organises the tour; the member that
    // belonged to both belongs to L2C once.
    let orgs = first["organisations"]["items"].as_array().unwrap();
    let named = |name: &str| orgs.iter().find(|o| o["name"] == name).unwrap().clone();
    let l2c = named("Lorraine Contact Client");
    assert_eq!(first["tours"]["items"][0]["organiser_organisation_id"], l2c["id"]);
    for old in ["Viatis", "Connect"] {
        assert_eq!(named(old)["status"], "merged");
        assert_eq!(named(old)["merged_into_id"], l2c["id"]);
    }
    let l2c = expect_json(
        app.get(&format!("/api/v1/organisations/{}", l2c["id"].as_str().unwrap()), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(l2c["founded_on"], "2016-03-30");
    assert_eq!(
        l2c["membership"],
        serde_json::json!({ "members": 7, "employees": 3650, "centres": 12 })
    );
    let viatis = named("Viatis")["id"].as_str().unwrap().to_owned();
    let before = expect_json(
        app.get(&format!("/api/v1/organisations/{viatis}/members?at=2016-03-29"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(before["items"].as_array().unwrap().len(), 4);
    let enquiries = expect_json(app.get("/api/v1/enquiries", Some(&app.organiser)).await, StatusCode::OK).await;
    let statuses: Vec<&str> = enquiries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["in_progress", "new", "new"]);
    let again = jobtour_api::demo::load(&app.db).await.unwrap();
    assert!(again.created.is_empty(), "{:?}", again.created);
    assert_eq!(snapshot(&app).await, first);
    app.login(
        jobtour_api::demo::ORGANISER_EMAIL,
        jobtour_api::demo::ORGANISER_PASSWORD,
    )
    .await;
}
