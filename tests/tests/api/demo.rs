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
    serde_json::json!({ "tours": tours, "stops": stops, "partners": partners, "organisations": orgs, "users": users })
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
    let again = jobtour_api::demo::load(&app.db).await.unwrap();
    assert!(again.created.is_empty(), "{:?}", again.created);
    assert_eq!(snapshot(&app).await, first);
    app.login(
        jobtour_api::demo::ORGANISER_EMAIL,
        jobtour_api::demo::ORGANISER_PASSWORD,
    )
    .await;
}
