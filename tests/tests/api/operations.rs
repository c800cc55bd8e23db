//! Operations: health, readiness, metrics, CORS.

use crate::common::{Backend, TestApp, both, expect_json, expect_problem, spawn_with};
use reqwest::{Method, StatusCode};

both!(health_and_readiness, metrics_count_requests_by_route);

async fn health_and_readiness(app: TestApp) {
    assert_eq!(
        expect_json(app.get("/healthz", None).await, StatusCode::OK).await["status"],
        "ok"
    );
    assert_eq!(
        expect_json(app.get("/readyz", None).await, StatusCode::OK).await["status"],
        "ok"
    );
    // The database goes away: not ready, and API calls are 503 problems, quickly.
    app.db.clone().close().await.unwrap();
    expect_problem(
        app.get("/readyz", None).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "database_unavailable",
    )
    .await;
    let res = app.get("/api/v1/organisations", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        expect_json(app.get("/healthz", None).await, StatusCode::OK).await["status"],
        "ok"
    );
}

async fn metrics_count_requests_by_route(app: TestApp) {
    let org = app.create_organisation("Counted").await;
    app.get(&format!("/api/v1/organisations/{}", org["id"].as_str().unwrap()), None)
        .await;
    app.get("/api/v1/nowhere", None).await;
    let res = app.get("/metrics", None).await;
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    for needle in [
        r#"jobtour_http_requests_total{method="POST",route="/api/v1/organisations",status="201"} 1"#,
        r#"jobtour_http_requests_total{method="GET",route="/api/v1/organisations/{id}",status="200"} 1"#,
        r#"route="unmatched",status="404""#,
        "jobtour_http_request_duration_seconds_bucket",
        r#"jobtour_db_pool_connections{state="idle"}"#,
        r#"jobtour_db_pool_connections{state="max"} 5"#,
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

/// The values of a comma-separated header, lower-cased (none when it is absent).
fn listed(headers: &reqwest::header::HeaderMap, name: &str) -> Vec<String> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .unwrap()
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default()
}

async fn cors_allows_only_configured_origins(backend: Backend) {
    let Some(app) = spawn_with(backend, |_, serve| {
        serve.cors_origins = vec!["https://partners.example.org".into()]
    })
    .await
    else {
        return;
    };
    let preflight = app
        .request(Method::OPTIONS, "/api/v1/organisations", None)
        .header("origin", "https://partners.example.org")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, if-match, if-none-match, idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "https://partners.example.org");
    for method in ["get", "post", "put", "patch", "delete"] {
        assert!(
            listed(h, "access-control-allow-methods").contains(&method.to_owned()),
            "{method}"
        );
    }
    for header in [
        "authorization",
        "content-type",
        "if-match",
        "if-none-match",
        "idempotency-key",
    ] {
        assert!(
            listed(h, "access-control-allow-headers").contains(&header.to_owned()),
            "{header}"
        );
    }
    assert!(
        h.get("access-control-allow-credentials").is_none(),
        "no credentials mode"
    );
    let allowed = app
        .request(Method::GET, "/api/v1/organisations", None)
        .header("origin", "https://partners.example.org")
        .send()
        .await
        .unwrap();
    let h = allowed.headers();
    assert_eq!(h["access-control-allow-origin"], "https://partners.example.org");
    assert!(
        h.get("access-control-allow-credentials").is_none(),
        "no credentials mode"
    );
    let exposed = listed(h, "access-control-expose-headers");
    for header in ["etag", "location", "retry-after", "x-request-id"] {
        assert!(exposed.contains(&header.to_owned()), "{header} exposed: {exposed:?}");
    }
    let vary: Vec<&str> = h.get_all("vary").iter().map(|v| v.to_str().unwrap()).collect();
    assert!(
        vary.iter().any(|v| v.to_ascii_lowercase().contains("origin")),
        "Vary: Origin, got {vary:?}"
    );
    let other = app
        .request(Method::GET, "/api/v1/organisations", None)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

mod cors_allows_only_configured_origins {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::cors_allows_only_configured_origins(super::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::cors_allows_only_configured_origins(super::Backend::Postgres).await;
    }
}
