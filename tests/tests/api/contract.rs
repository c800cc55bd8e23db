//! The contract every endpoint keeps: problem+json for every failure, ETag/If-Match,
//! 201 + Location, request ids.

use crate::common::{TestApp, both, error_fields, expect_json, expect_problem};
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(
    malformed_json_is_a_400_problem,
    unknown_field_is_a_400_problem,
    invalid_values_get_per_field_errors,
    missing_required_field_is_named,
    a_2_mib_body_is_a_413_problem,
    malformed_uuid_in_path_is_a_400_problem,
    missing_resource_is_a_404_problem,
    wrong_content_type_is_a_415_problem,
    stale_if_match_is_a_412_problem,
    sql_looking_strings_are_stored_as_plain_text,
    unknown_routes_and_methods_are_problems,
    bad_query_parameters_are_400_problems,
    an_empty_cursor_is_no_cursor,
    request_ids_are_echoed_or_made,
    created_answers_carry_location_and_etag,
    problems_speak_french_when_asked,
);

async fn malformed_json_is_a_400_problem(app: TestApp) {
    let res = app
        .request(Method::POST, "/api/v1/organisations", Some(&app.organiser))
        .header("content-type", "application/json")
        .body(r#"{"name": "Banque", "kind": "#)
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
}

async fn unknown_field_is_a_400_problem(app: TestApp) {
    let res = app
        .post(
            "/api/v1/organisations",
            Some(&app.organiser),
            &json!({ "name": "Banque", "kind": "employer", "colour": "red" }),
        )
        .await;
    let p = expect_problem(res, StatusCode::BAD_REQUEST, "unknown_field").await;
    assert!(p["detail"].as_str().unwrap().contains("colour"));
}

async fn invalid_values_get_per_field_errors(app: TestApp) {
    let res = app
        .post(
            "/api/v1/organisations",
            Some(&app.organiser),
            &json!({ "name": "  ", "kind": "bank", "website": "not a url", "contact_email": "nobody", "sectors": ["ok", ""] }),
        )
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields = error_fields(&p);
    assert_eq!(fields, ["name", "kind", "sectors[1]", "website", "contact_email"]);
    for e in p["errors"].as_array().unwrap() {
        assert!(e["code"].is_string() && e["message"].is_string());
    }
}

async fn missing_required_field_is_named(app: TestApp) {
    let res = app
        .post(
            "/api/v1/organisations",
            Some(&app.organiser),
            &json!({ "name": "Banque" }),
        )
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "kind");
}

async fn a_2_mib_body_is_a_413_problem(app: TestApp) {
    let big = "x".repeat(2 * 1024 * 1024);
    let res = app
        .post(
            "/api/v1/organisations",
            Some(&app.organiser),
            &json!({ "name": "Banque", "kind": "employer", "description": big }),
        )
        .await;
    expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

async fn malformed_uuid_in_path_is_a_400_problem(app: TestApp) {
    for path in [
        "/api/v1/organisations/not-a-uuid",
        "/api/v1/users/123",
        "/api/v1/organisations/%27%20OR%201=1",
    ] {
        let res = app.get(path, Some(&app.organiser)).await;
        expect_problem(res, StatusCode::BAD_REQUEST, "invalid_path").await;
    }
}

async fn missing_resource_is_a_404_problem(app: TestApp) {
    let id = uuid::Uuid::now_v7();
    for path in [format!("/api/v1/organisations/{id}"), format!("/api/v1/users/{id}")] {
        expect_problem(
            app.get(&path, Some(&app.organiser)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let res = app.patch(&path, Some(&app.organiser), &json!({})).await;
        expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        expect_problem(
            app.delete(&path, Some(&app.organiser)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}

async fn wrong_content_type_is_a_415_problem(app: TestApp) {
    for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let mut req = app
            .request(Method::POST, "/api/v1/organisations", Some(&app.organiser))
            .body(r#"{"name":"Banque","kind":"employer"}"#);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.unwrap();
        expect_problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    }
}

async fn stale_if_match_is_a_412_problem(app: TestApp) {
    let org = app.create_organisation("Banque").await;
    let path = format!("/api/v1/organisations/{}", org["id"].as_str().unwrap());
    let res = app.get(&path, None).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();

    let ok = app
        .request(Method::PATCH, &path, Some(&app.organiser))
        .header("if-match", &etag)
        .json(&json!({ "city": "Metz" }))
        .send()
        .await
        .unwrap();
    let new_etag = ok.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    assert_eq!(expect_json(ok, StatusCode::OK).await["city"], "Metz");

    let stale = app
        .request(Method::PATCH, &path, Some(&app.organiser))
        .header("if-match", &etag)
        .json(&json!({ "city": "Nancy" }))
        .send()
        .await
        .unwrap();
    expect_problem(stale, StatusCode::PRECONDITION_FAILED, "precondition_failed").await;
    let stale_delete = app
        .request(Method::DELETE, &path, Some(&app.organiser))
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    expect_problem(stale_delete, StatusCode::PRECONDITION_FAILED, "precondition_failed").await;
    assert_eq!(
        expect_json(app.get(&path, None).await, StatusCode::OK).await["city"],
        "Metz"
    );

    let fresh_delete = app
        .request(Method::DELETE, &path, Some(&app.organiser))
        .header("if-match", &new_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh_delete.status(), StatusCode::NO_CONTENT);
}

async fn sql_looking_strings_are_stored_as_plain_text(app: TestApp) {
    let nasty = "Robert'); DROP TABLE organisations;-- \" OR 1=1 --";
    let org = app.create_organisation(nasty).await;
    assert_eq!(org["name"], nasty);
    let path = format!("/api/v1/organisations/{}", org["id"].as_str().unwrap());
    assert_eq!(
        expect_json(app.get(&path, None).await, StatusCode::OK).await["name"],
        nasty
    );
    let res = app
        .get(&format!("/api/v1/organisations?city={}", "x'%20OR%20'1'='1"), None)
        .await;
    assert!(
        expect_json(res, StatusCode::OK).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The table is still there.
    assert_eq!(app.get("/api/v1/organisations", None).await.status(), StatusCode::OK);
}

async fn unknown_routes_and_methods_are_problems(app: TestApp) {
    expect_problem(
        app.get("/api/v1/nowhere", None).await,
        StatusCode::NOT_FOUND,
        "route_not_found",
    )
    .await;
    let res = app
        .request(Method::PUT, "/api/v1/organisations", Some(&app.organiser))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "GET, POST");
    expect_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

async fn bad_query_parameters_are_400_problems(app: TestApp) {
    for query in [
        "limit=0",
        "limit=201",
        "limit=abc",
        "cursor=garbage",
        "kind=bank",
        "colour=red",
    ] {
        let res = app.get(&format!("/api/v1/organisations?{query}"), None).await;
        let code = if query.starts_with("cursor") {
            "invalid_cursor"
        } else {
            "invalid_query"
        };
        expect_problem(res, StatusCode::BAD_REQUEST, code).await;
    }
}

async fn an_empty_cursor_is_no_cursor(app: TestApp) {
    let tour = crate::tours::tour(&app).await;
    let tour_id = crate::tours::id(&tour);
    for list in [
        "/api/v1/organisations".to_owned(),
        "/api/v1/users".to_owned(),
        "/api/v1/tours".to_owned(),
        format!("/api/v1/tours/{tour_id}/stops"),
        format!("/api/v1/tours/{tour_id}/partners"),
    ] {
        let first = expect_json(app.get(&list, Some(&app.organiser)).await, StatusCode::OK).await;
        let empty = app.get(&format!("{list}?cursor="), Some(&app.organiser)).await;
        assert_eq!(expect_json(empty, StatusCode::OK).await, first, "{list}");
    }
}

async fn request_ids_are_echoed_or_made(app: TestApp) {
    let res = app
        .request(Method::GET, "/healthz", None)
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
    let res = app.get("/api/v1/nowhere", None).await;
    let made = res.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(made).is_ok());
}

async fn created_answers_carry_location_and_etag(app: TestApp) {
    let res = app
        .post(
            "/api/v1/organisations",
            Some(&app.organiser),
            &json!({ "name": "Université de Lorraine", "kind": "university" }),
        )
        .await;
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(res.headers().contains_key("etag"));
    let body = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(
        location,
        format!("/api/v1/organisations/{}", body["id"].as_str().unwrap())
    );
    assert_eq!(expect_json(app.get(&location, None).await, StatusCode::OK).await, body);
}

async fn problems_speak_french_when_asked(app: TestApp) {
    let body = json!({ "name": "  ", "kind": "bank", "website": "not a url", "contact_email": "nobody" });
    let invalid = |lang: Option<&'static str>| {
        let mut req = app
            .request(Method::POST, "/api/v1/organisations", Some(&app.organiser))
            .json(&body);
        if let Some(lang) = lang {
            req = req.header("accept-language", lang);
        }
        req.send()
    };
    // French: the best match of the header, q-values honoured.
    for lang in ["fr", "fr-FR,fr;q=0.9,en;q=0.8", "en;q=0.4, fr-CA;q=0.6", "de, fr;q=0.5"] {
        let res = invalid(Some(lang)).await.unwrap();
        assert_eq!(res.headers()["content-language"], "fr", "{lang}");
        let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(p["title"], "Contenu invalide");
        assert_eq!(p["detail"], "4 champ(s) invalide(s) : voir `errors`.");
        let by_field = |f: &str| {
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["field"] == f)
                .cloned()
                .unwrap()
        };
        assert_eq!(by_field("contact_email")["code"], "invalid_email", "codes unchanged");
        assert_eq!(
            by_field("contact_email")["message"],
            "doit être une adresse e-mail comme nom@exemple.fr"
        );
        assert!(
            by_field("kind")["message"]
                .as_str()
                .unwrap()
                .starts_with("doit être l'une de ces valeurs : "),
            "{}",
            by_field("kind")
        );
    }
    // English otherwise.
    for lang in [None, Some("en-US,en;q=0.9,fr;q=0.8"), Some("de"), Some("*")] {
        let res = invalid(lang).await.unwrap();
        assert_eq!(res.headers()["content-language"], "en", "{lang:?}");
        let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(p["title"], "Unprocessable Entity");
        assert_eq!(p["detail"], "4 field(s) are invalid");
    }
    // A 404, a 401 and an extractor's 400 in French too.
    let res = app
        .request(Method::GET, &format!("/api/v1/tours/{}", uuid::Uuid::now_v7()), None)
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-language"], "fr");
    let p = expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(p["title"], "Introuvable");
    assert_eq!(
        p["detail"],
        "Cette ressource n'existe pas, ou vous ne pouvez pas la voir."
    );
    let res = app
        .request(Method::GET, "/api/v1/me", None)
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(p["title"], "Authentification requise");
    let res = app
        .request(Method::POST, "/api/v1/organisations", Some(&app.organiser))
        .header("accept-language", "fr")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    assert_eq!(p["detail"], "Le corps de la requête n'est pas du JSON valide.");
}
