//! Load on a small pool: every request answered, none with a 5xx.

use crate::common::{Backend, expect_json, spawn_with};
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn sixty_four_requests_on_ten_connections(backend: Backend) {
    let Some(app) = spawn_with(backend, |db, serve| {
        db.db_pool_size = 10;
        serve.workers = 4;
    })
    .await
    else {
        return;
    };
    let org = app.create_organisation("Shared").await;
    let org_path = format!("/api/v1/organisations/{}", org["id"].as_str().unwrap());
    let app = &app;
    let requests = (0..64).map(|i| {
        let org_path = org_path.clone();
        async move {
            let res = match i % 4 {
                0 => {
                    app.post(
                        "/api/v1/organisations",
                        Some(&app.organiser),
                        &json!({ "name": format!("Org {i}"), "kind": "employer" }),
                    )
                    .await
                }
                1 => app.get("/api/v1/organisations?limit=200", None).await,
                2 => {
                    app.patch(
                        &org_path,
                        Some(&app.organiser),
                        &json!({ "description": format!("edit {i}") }),
                    )
                    .await
                }
                _ => app.get("/api/v1/me", Some(&app.organiser)).await,
            };
            (i, res.status())
        }
    });
    let statuses = join_all(requests).await;
    let bad: Vec<_> = statuses.iter().filter(|(_, s)| !s.is_success()).collect();
    assert!(bad.is_empty(), "failed: {bad:?}");
    let page = expect_json(app.get("/api/v1/organisations?limit=200", None).await, StatusCode::OK).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1 + 16);
    let org = expect_json(
        app.request(Method::GET, &org_path, None).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(org["description"].as_str().unwrap().starts_with("edit "));
}

mod sixty_four_requests_on_ten_connections {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        super::sixty_four_requests_on_ten_connections(super::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        super::sixty_four_requests_on_ten_connections(super::Backend::Postgres).await;
    }
}
