//! Organisations: CRUD and the refusal to delete one that still owns data.

use crate::common::{TestApp, both, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::json;

both!(
    organisation_round_trip,
    patch_tells_absent_from_null,
    organisation_with_users_cannot_be_deleted,
    list_filters
);

async fn organisation_round_trip(app: TestApp) {
    let body = json!({
        "name": "Pôle emploi Grand Est", "kind": "public_agency", "sectors": ["employment", "Employment", "training"],
        "city": "Nancy", "website": "https://www.francetravail.fr", "contact_email": "Contact@Example.org",
        "description": "L'agence publique pour l'emploi.",
    });
    let created = expect_json(
        app.post("/api/v1/organisations", Some(&app.organiser), &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["sectors"], json!(["employment", "training"]));
    assert_eq!(created["contact_email"], "contact@example.org");
    let path = format!("/api/v1/organisations/{}", created["id"].as_str().unwrap());
    assert_eq!(expect_json(app.get(&path, None).await, StatusCode::OK).await, created);
    assert_eq!(
        app.delete(&path, Some(&app.organiser)).await.status(),
        StatusCode::NO_CONTENT
    );
    expect_problem(app.get(&path, None).await, StatusCode::NOT_FOUND, "not_found").await;
}

async fn patch_tells_absent_from_null(app: TestApp) {
    let created = expect_json(
        app.post(
            "/api/v1/organisations",
            Some(&app.organiser),
            &json!({ "name": "Teleperformance", "kind": "employer", "city": "Metz", "website": "https://tp.example" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/api/v1/organisations/{}", created["id"].as_str().unwrap());
    let patched = expect_json(
        app.patch(&path, Some(&app.organiser), &json!({ "city": null })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["city"], serde_json::Value::Null);
    assert_eq!(patched["website"], "https://tp.example");
    assert_eq!(patched["name"], "Teleperformance");
    let res = app.patch(&path, Some(&app.organiser), &json!({ "name": null })).await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "name");
}

async fn organisation_with_users_cannot_be_deleted(app: TestApp) {
    let org = app.create_organisation("Arvato").await;
    let (user, _) = app.partner_of(org["id"].as_str().unwrap()).await;
    let path = format!("/api/v1/organisations/{}", org["id"].as_str().unwrap());
    expect_problem(
        app.delete(&path, Some(&app.organiser)).await,
        StatusCode::CONFLICT,
        "in_use",
    )
    .await;
    assert_eq!(app.get(&path, None).await.status(), StatusCode::OK);
    let user_path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    assert_eq!(
        app.delete(&user_path, Some(&app.organiser)).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&path, Some(&app.organiser)).await.status(),
        StatusCode::NO_CONTENT
    );
}

async fn list_filters(app: TestApp) {
    app.create_organisation("Employer A").await;
    app.post(
        "/api/v1/organisations",
        Some(&app.organiser),
        &json!({ "name": "Metz Métropole", "kind": "local_authority", "city": "Metz" }),
    )
    .await;
    let res = app.get("/api/v1/organisations?kind=local_authority", None).await;
    let page = expect_json(res, StatusCode::OK).await;
    let names: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Metz Métropole"]);
    let page = expect_json(app.get("/api/v1/organisations?city=Metz", None).await, StatusCode::OK).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}
