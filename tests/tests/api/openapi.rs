//! The OpenAPI document: committed file current, served document equal to it, every
//! documented operation served, nothing served that is not documented, `/docs` offline.

use crate::common::{Backend, TestApp, expect_json, spawn};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const YAML: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");

#[test]
fn openapi_yaml_is_current() {
    let generated = jobtour_api::openapi::yaml();
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(YAML, &generated).expect("write openapi.yaml");
    }
    let committed = std::fs::read_to_string(YAML).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.yaml is stale: regenerate it with `cargo run -q -- openapi > openapi.yaml`"
    );
}

/// Generated clients name their functions after `operationId`: each must be there, unique, and
/// say what it does in lowerCamelCase (`listPositions`, `createApplication`).
#[test]
fn operation_ids_are_unique_and_descriptive() {
    let doc = serde_json::to_value(jobtour_api::openapi::document()).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(id) = op["operationId"].as_str() else {
                failures.push(format!("{method} {path} has no operationId"));
                continue;
            };
            let camel = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && id.chars().all(|c| c.is_ascii_alphanumeric());
            if !camel {
                failures.push(format!("{method} {path}: `{id}` is not lowerCamelCase"));
            }
            if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                failures.push(format!("`{id}` names both {other} and {method} {path}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(seen.len() >= 32);
}

/// Routes are registered only through `utoipa_actix_web` (so they are documented). The only
/// exception is the `/docs` redirect, part of the documentation itself.
#[test]
fn no_route_bypasses_the_document() {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/src");
    let mut offenders = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(src)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests build throwaway apps of their own.
            for line in text.lines().take_while(|l| !l.starts_with("#[cfg(test)]")) {
                let raw = line.contains(".route(") || line.contains("web::resource(") || line.contains("web::scope(");
                if raw && !line.contains("\"/docs\"") {
                    offenders.push(format!("{}: {}", path.display(), line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "routes registered outside utoipa_actix_web:\n{}",
        offenders.join("\n")
    );
}

async fn served_document_matches_the_routes(app: TestApp) {
    let served = expect_json(app.get("/api/v1/openapi.json", None).await, StatusCode::OK).await;
    let generated = serde_json::to_value(jobtour_api::openapi::document()).unwrap();
    assert_eq!(served, generated);

    let mut failures = Vec::new();
    for (path, item) in served["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{organisation_id}", &uuid::Uuid::now_v7().to_string());
        for method in ["get", "post", "put", "patch", "delete"] {
            let documented = item.get(method).is_some();
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // POST /auth/logout revokes the token: later calls answer 401, which is still routed.
            let mut req = app.request(m.clone(), &concrete, Some(&app.organiser));
            if matches!(method, "post" | "put" | "patch") {
                req = req.json(&serde_json::json!({}));
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let code = res
                .json::<Value>()
                .await
                .ok()
                .and_then(|b| b["code"].as_str().map(str::to_owned));
            let unrouted = matches!(code.as_deref(), Some("route_not_found" | "method_not_allowed"));
            if documented && unrouted {
                failures.push(format!("{method} {path} is documented but not served ({status})"));
            }
            if !documented && status != StatusCode::METHOD_NOT_ALLOWED {
                failures.push(format!("{method} {path} is not documented but answered {status}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn docs_work_offline(app: TestApp) {
    let res = app.get("/docs", None).await;
    assert_eq!(res.status(), StatusCode::OK, "/docs redirects to the page");
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            assets.push(part.split('"').next().unwrap().to_owned());
        }
    }
    assert!(!assets.is_empty());
    for asset in &assets {
        assert!(
            !asset.starts_with("http") && !asset.starts_with("//"),
            "external asset {asset}"
        );
        let url = if asset.starts_with('/') {
            asset.clone()
        } else {
            format!("/docs/{}", asset.trim_start_matches("./"))
        };
        let res = app.get(&url, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        let body = res.text().await.unwrap();
        assert!(
            !body.contains("https://unpkg.com") && !body.contains("cdn.jsdelivr"),
            "{url} loads from a CDN"
        );
    }
    let init = app
        .get("/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_document_matches_the_routes_sqlite() {
    if let Some(app) = spawn(Backend::Sqlite).await {
        served_document_matches_the_routes(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_work_offline_sqlite() {
    if let Some(app) = spawn(Backend::Sqlite).await {
        docs_work_offline(app).await;
    }
}
