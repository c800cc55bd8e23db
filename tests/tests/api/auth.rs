//! Staff sign-in: tokens, logout, throttling of failed logins.

use crate::common::{PASSWORD, TestApp, both, expect_json, expect_problem};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

both!(
    login_me_and_logout,
    tokens_are_stored_only_as_hashes,
    forty_wrong_passwords_lock_the_account_not_others,
    wrong_email_and_wrong_password_look_alike,
    malformed_and_unknown_tokens_are_401,
    changing_the_password_signs_out_other_sessions,
);

async fn login_me_and_logout(app: TestApp) {
    let org = app.create_organisation("Orange").await;
    let (user, _) = app.partner_of(org["id"].as_str().unwrap()).await;
    let email = user["email"].as_str().unwrap().to_uppercase();
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await;
    let answer = expect_json(res, StatusCode::OK).await;
    assert!(answer["expires_at"].is_string());
    assert_eq!(answer["user"]["id"], user["id"]);
    assert!(answer["user"].get("password").is_none() && answer["user"].get("password_hash").is_none());
    let token = answer["token"].as_str().unwrap();

    let me = expect_json(app.get("/api/v1/me", Some(token)).await, StatusCode::OK).await;
    assert_eq!(me["id"], user["id"]);
    assert_eq!(me["role"], "partner");
    assert_eq!(me["organisation_id"], org["id"]);

    let res = app.post("/api/v1/auth/logout", Some(token), &json!({})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    expect_problem(
        app.get("/api/v1/me", Some(token)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    expect_problem(
        app.get("/api/v1/me", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

async fn tokens_are_stored_only_as_hashes(app: TestApp) {
    let token = &app.organiser;
    let rows = app
        .db
        .conn()
        .query_all_raw(Statement::from_string(
            app.db.backend(),
            "SELECT token_hash FROM sessions",
        ))
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let stored: String = row.try_get("", "token_hash").unwrap();
        assert_eq!(stored.len(), 64, "a SHA-256 hex digest");
        assert!(!stored.contains(token.as_str()) && !token.contains(&stored));
    }
}

async fn forty_wrong_passwords_lock_the_account_not_others(app: TestApp) {
    let org = app.create_organisation("Crédit Lorrain").await;
    let (victim, _) = app.partner_of(org["id"].as_str().unwrap()).await;
    let (other, _) = app.partner_of(org["id"].as_str().unwrap()).await;
    let wrong = json!({ "email": victim["email"], "password": "not the password at all" });
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..40 {
        let res = app.post("/api/v1/auth/login", None, &wrong).await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
        }
        statuses.push(res.status());
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(*statuses.last().unwrap(), StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    assert!(retry_after.unwrap() > 0);
    // Even the right password is refused while the account is locked…
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({ "email": victim["email"], "password": PASSWORD }),
        )
        .await;
    expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    // …but another account, from the same address, still signs in.
    app.login(other["email"].as_str().unwrap(), PASSWORD).await;
}

async fn wrong_email_and_wrong_password_look_alike(app: TestApp) {
    let unknown = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({ "email": "nobody@example.org", "password": PASSWORD }),
        )
        .await;
    let a = expect_problem(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let org = app.create_organisation("SFR").await;
    let (user, _) = app.partner_of(org["id"].as_str().unwrap()).await;
    let wrong = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({ "email": user["email"], "password": "wrong password!" }),
        )
        .await;
    let b = expect_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(a["detail"], b["detail"]);
}

async fn malformed_and_unknown_tokens_are_401(app: TestApp) {
    for header in ["Bearer jts_forged", "Basic dXNlcjpwYXNz", "Bearer", "jts_x"] {
        let res = app
            .request(reqwest::Method::GET, "/api/v1/me", None)
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_token").await;
    }
}

async fn changing_the_password_signs_out_other_sessions(app: TestApp) {
    let org = app.create_organisation("Capgemini").await;
    let (user, first) = app.partner_of(org["id"].as_str().unwrap()).await;
    let email = user["email"].as_str().unwrap();
    let second = app.login(email, PASSWORD).await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let res = app
        .patch(&path, Some(&first), &json!({ "password": "a brand new passphrase" }))
        .await;
    expect_json(res, StatusCode::OK).await;
    assert_eq!(app.get("/api/v1/me", Some(&first)).await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/me", Some(&second)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login(email, "a brand new passphrase").await;
}
