//! Staff users: creation rules, uniqueness, password bounds, self-protection.

use crate::common::{PASSWORD, TestApp, both, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::json;

both!(
    emails_are_unique_case_insensitively,
    password_length_rules,
    a_partner_needs_an_existing_organisation,
    an_organiser_cannot_delete_itself,
    organisers_move_users_between_roles,
);

async fn emails_are_unique_case_insensitively(app: TestApp) {
    let body = json!({ "email": "Claire.Martin@Example.org", "password": PASSWORD, "role": "organiser" });
    let created = expect_json(
        app.post("/api/v1/users", Some(&app.organiser), &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["email"], "claire.martin@example.org");
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());
    let again = json!({ "email": "claire.MARTIN@example.ORG", "password": PASSWORD, "role": "organiser" });
    let p = expect_problem(
        app.post("/api/v1/users", Some(&app.organiser), &again).await,
        StatusCode::CONFLICT,
        "email_taken",
    )
    .await;
    let detail = p["detail"].as_str().unwrap().to_lowercase();
    assert!(
        !detail.contains("unique") && !detail.contains("duplicate") && !detail.contains("constraint"),
        "{detail}"
    );
}

async fn password_length_rules(app: TestApp) {
    let short = json!({ "email": "a@example.org", "password": "too short", "role": "organiser" });
    let p = expect_problem(
        app.post("/api/v1/users", Some(&app.organiser), &short).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "password");
    let long = "é".repeat(128);
    let ok = json!({ "email": "b@example.org", "password": long, "role": "organiser" });
    expect_json(
        app.post("/api/v1/users", Some(&app.organiser), &ok).await,
        StatusCode::CREATED,
    )
    .await;
    app.login("b@example.org", &long).await;
}

async fn a_partner_needs_an_existing_organisation(app: TestApp) {
    let none = json!({ "email": "p@example.org", "password": PASSWORD, "role": "partner" });
    let p = expect_problem(
        app.post("/api/v1/users", Some(&app.organiser), &none).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "organisation_id");
    let ghost = json!({ "email": "p@example.org", "password": PASSWORD, "role": "partner", "organisation_id": uuid::Uuid::now_v7() });
    let p = expect_problem(
        app.post("/api/v1/users", Some(&app.organiser), &ghost).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "not_found");
    let bad_role = json!({ "email": "p@example.org", "password": PASSWORD, "role": "admin" });
    let p = expect_problem(
        app.post("/api/v1/users", Some(&app.organiser), &bad_role).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "role");
}

async fn an_organiser_cannot_delete_itself(app: TestApp) {
    let me = expect_json(app.get("/api/v1/me", Some(&app.organiser)).await, StatusCode::OK).await;
    let path = format!("/api/v1/users/{}", me["id"].as_str().unwrap());
    expect_problem(
        app.delete(&path, Some(&app.organiser)).await,
        StatusCode::CONFLICT,
        "cannot_delete_self",
    )
    .await;
}

async fn organisers_move_users_between_roles(app: TestApp) {
    let org = app.create_organisation("Bouygues Telecom").await;
    let (user, token) = app.partner_of(org["id"].as_str().unwrap()).await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let res = app
        .patch(
            &path,
            Some(&app.organiser),
            &json!({ "role": "organiser", "organisation_id": null }),
        )
        .await;
    let changed = expect_json(res, StatusCode::OK).await;
    assert_eq!(changed["role"], "organiser");
    // The new role applies at once to the existing token.
    assert_eq!(
        app.post(
            "/api/v1/organisations",
            Some(&token),
            &json!({ "name": "X", "kind": "other" })
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    let res = app
        .patch(&path, Some(&app.organiser), &json!({ "role": "partner" }))
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "organisation_id");
}
