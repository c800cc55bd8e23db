//! What the edge refuses for every endpoint: a NUL character in any path segment, query
//! parameter or JSON string (PostgreSQL cannot store one; SQLite would). Walks the OpenAPI
//! document, so an endpoint added later is covered without a line here.

use crate::common::{TestApp, both, expect_problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both!(nul_characters_are_refused_on_every_input, the_cases_found_in_review);

/// Every operation of the document: `(method, path template, operation)`.
fn operations() -> Vec<(Method, String, Value)> {
    let doc = serde_json::to_value(jobtour_api::openapi::document()).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (name, method) in [
            ("get", Method::GET),
            ("post", Method::POST),
            ("put", Method::PUT),
            ("patch", Method::PATCH),
            ("delete", Method::DELETE),
        ] {
            if let Some(op) = item.get(name) {
                out.push((method, path.clone(), op.clone()));
            }
        }
    }
    out
}

/// The property names of an operation's JSON request body, `$ref`s resolved.
fn body_properties(op: &Value) -> Vec<String> {
    let doc = serde_json::to_value(jobtour_api::openapi::document()).unwrap();
    let mut schema = &op["requestBody"]["content"]["application/json"]["schema"];
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        schema = &doc["components"]["schemas"][name];
    }
    let schema = schema.clone();
    schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn concrete(path: &str, nul_in: Option<&str>) -> String {
    let mut out = Vec::new();
    for segment in path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            out.push(if Some(name) == nul_in {
                "a%00b".to_owned()
            } else {
                uuid::Uuid::now_v7().to_string()
            });
        } else {
            out.push(segment.to_owned());
        }
    }
    out.join("/")
}

async fn nul_characters_are_refused_on_every_input(app: TestApp) {
    let mut checked = (0, 0, 0);
    let mut failures = Vec::new();
    for (method, path, op) in operations() {
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap();
            let (url, code) = match param["in"].as_str() {
                Some("path") => (concrete(&path, Some(name)), "invalid_path"),
                Some("query") => (format!("{}?{name}=a%00b", concrete(&path, None)), "invalid_query"),
                _ => continue,
            };
            let res = app
                .request(method.clone(), &url, Some(&app.organiser))
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            if status != StatusCode::BAD_REQUEST || body["code"] != code {
                failures.push(format!("{method} {url}: {status} {body}"));
            }
            if code == "invalid_path" {
                checked.0 += 1;
            } else {
                checked.1 += 1;
            }
        }
        for field in body_properties(&op) {
            let url = concrete(&path, None);
            let body = json!({ field.clone(): "a\u{0}b" });
            let res = app.send_json(method.clone(), &url, Some(&app.organiser), &body).await;
            let status = res.status();
            let problem: Value = res.json().await.unwrap_or(Value::Null);
            let named =
                problem["errors"][0]["field"] == field.as_str() && problem["errors"][0]["code"] == "invalid_characters";
            if status != StatusCode::UNPROCESSABLE_ENTITY || !named {
                failures.push(format!("{method} {url} body field {field}: {status} {problem}"));
            }
            checked.2 += 1;
        }
    }
    assert!(failures.is_empty(), "NUL not refused:\n{}", failures.join("\n"));
    assert!(
        checked.0 > 20 && checked.1 > 10 && checked.2 > 30,
        "the walk covered too little: {checked:?}"
    );
}

/// The two answers found in review: 500s on PostgreSQL where SQLite answered 401 and 200.
async fn the_cases_found_in_review(app: TestApp) {
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({ "email": "a\u{0}b@x.org", "password": "whatever it is" }),
        )
        .await;
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "email");
    expect_problem(
        app.get("/api/v1/organisations?city=a%00b", None).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    // The text `\u0000` (an escaped backslash) is ordinary text and is kept as it is.
    let res = app
        .request(Method::POST, "/api/v1/organisations", Some(&app.organiser))
        .header("content-type", "application/json")
        .body(r#"{"name":"Back\\u0000slash","kind":"other"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        crate::common::expect_json(res, StatusCode::CREATED).await["name"],
        "Back\\u0000slash"
    );
}
