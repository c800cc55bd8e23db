//! The authorisation matrix: every endpoint × every role × own/other object. Later resources
//! add their rows here.

use crate::common::{TestApp, both, expect_json};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both!(authorisation_matrix);

#[derive(Debug, Clone, Copy)]
enum Who {
    Anonymous,
    Organiser,
    /// A partner of organisation A.
    Partner,
}

/// The objects the matrix acts on: organisation A (the partner's own) and B (another), a
/// colleague of the partner in A, a stranger in B, and the partner itself.
struct World {
    own_org: String,
    other_org: String,
    colleague: String,
    stranger: String,
    me: String,
    partner_token: String,
    draft_tour: String,
    public_tour: String,
    draft_stop: String,
    public_stop: String,
}

async fn world(app: &TestApp) -> World {
    let a = app.create_organisation("Organisation A").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = app.create_organisation("Organisation B").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (me, partner_token) = app.partner_of(&a).await;
    let (colleague, _) = app.partner_of(&a).await;
    let (stranger, _) = app.partner_of(&b).await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    let draft = crate::tours::tour(app).await;
    let public = crate::tours::tour(app).await;
    let stop = |t: &Value| {
        let path = format!("/api/v1/tours/{}/stops", crate::tours::id(t));
        let body = crate::tours::stop_body(
            "Metz",
            49.1193,
            6.1757,
            "2027-10-19T09:00:00+02:00",
            "2027-10-19T17:00:00+02:00",
        );
        async move { expect_json(app.post(&path, Some(&app.organiser), &body).await, StatusCode::CREATED).await }
    };
    let (draft_stop, public_stop) = (stop(&draft).await, stop(&public).await);
    let res = app
        .patch(
            &format!("/api/v1/tours/{}", id(&public)),
            Some(&app.organiser),
            &json!({ "status": "published" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    World {
        own_org: a,
        other_org: b,
        colleague: id(&colleague),
        stranger: id(&stranger),
        me: id(&me),
        partner_token,
        draft_tour: id(&draft),
        public_tour: id(&public),
        draft_stop: id(&draft_stop),
        public_stop: id(&public_stop),
    }
}

async fn authorisation_matrix(app: TestApp) {
    use Who::*;
    let w = world(&app).await;
    let org_body = json!({ "name": "New", "kind": "other" });
    let new_user = |n: &str| json!({ "email": format!("{n}@matrix.example"), "password": "long enough password", "role": "organiser" });
    let rename = json!({ "description": "changed" });
    let tour_body = json!({ "name": "Another tour", "starts_on": "2027-11-01", "ends_on": "2027-11-02", "organiser_organisation_id": w.other_org });
    let stop_body = crate::tours::stop_body(
        "Nancy",
        48.6921,
        6.1844,
        "2027-10-20T09:00:00+02:00",
        "2027-10-20T17:00:00+02:00",
    );

    // (who, method, path, body, expected status)
    let rows: Vec<(Who, Method, String, Option<Value>, StatusCode)> = vec![
        // organisations: a public directory
        (
            Anonymous,
            Method::GET,
            "/api/v1/organisations".into(),
            None,
            StatusCode::OK,
        ),
        (
            Partner,
            Method::GET,
            "/api/v1/organisations".into(),
            None,
            StatusCode::OK,
        ),
        (
            Organiser,
            Method::GET,
            "/api/v1/organisations".into(),
            None,
            StatusCode::OK,
        ),
        (
            Anonymous,
            Method::GET,
            format!("/api/v1/organisations/{}", w.other_org),
            None,
            StatusCode::OK,
        ),
        (
            Anonymous,
            Method::POST,
            "/api/v1/organisations".into(),
            Some(org_body.clone()),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Partner,
            Method::POST,
            "/api/v1/organisations".into(),
            Some(org_body.clone()),
            StatusCode::FORBIDDEN,
        ),
        (
            Organiser,
            Method::POST,
            "/api/v1/organisations".into(),
            Some(org_body.clone()),
            StatusCode::CREATED,
        ),
        (
            Anonymous,
            Method::PATCH,
            format!("/api/v1/organisations/{}", w.own_org),
            Some(rename.clone()),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Partner,
            Method::PATCH,
            format!("/api/v1/organisations/{}", w.own_org),
            Some(rename.clone()),
            StatusCode::OK,
        ),
        (
            Partner,
            Method::PATCH,
            format!("/api/v1/organisations/{}", w.other_org),
            Some(rename.clone()),
            StatusCode::FORBIDDEN,
        ),
        (
            Organiser,
            Method::PATCH,
            format!("/api/v1/organisations/{}", w.other_org),
            Some(rename.clone()),
            StatusCode::OK,
        ),
        (
            Anonymous,
            Method::DELETE,
            format!("/api/v1/organisations/{}", w.other_org),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Partner,
            Method::DELETE,
            format!("/api/v1/organisations/{}", w.own_org),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            Partner,
            Method::DELETE,
            format!("/api/v1/organisations/{}", w.other_org),
            None,
            StatusCode::FORBIDDEN,
        ),
        // users: organisers manage them; a partner sees its colleagues and edits only itself
        (
            Anonymous,
            Method::GET,
            "/api/v1/users".into(),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (Partner, Method::GET, "/api/v1/users".into(), None, StatusCode::OK),
        (Organiser, Method::GET, "/api/v1/users".into(), None, StatusCode::OK),
        (
            Anonymous,
            Method::POST,
            "/api/v1/users".into(),
            Some(new_user("anon")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Partner,
            Method::POST,
            "/api/v1/users".into(),
            Some(new_user("partner")),
            StatusCode::FORBIDDEN,
        ),
        (
            Organiser,
            Method::POST,
            "/api/v1/users".into(),
            Some(new_user("organiser")),
            StatusCode::CREATED,
        ),
        (
            Anonymous,
            Method::GET,
            format!("/api/v1/users/{}", w.colleague),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Partner,
            Method::GET,
            format!("/api/v1/users/{}", w.colleague),
            None,
            StatusCode::OK,
        ),
        (
            Partner,
            Method::GET,
            format!("/api/v1/users/{}", w.stranger),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Organiser,
            Method::GET,
            format!("/api/v1/users/{}", w.stranger),
            None,
            StatusCode::OK,
        ),
        (
            Partner,
            Method::PATCH,
            format!("/api/v1/users/{}", w.me),
            Some(json!({ "email": "me-again@matrix.example" })),
            StatusCode::OK,
        ),
        (
            Partner,
            Method::PATCH,
            format!("/api/v1/users/{}", w.me),
            Some(json!({ "role": "organiser" })),
            StatusCode::FORBIDDEN,
        ),
        (
            Partner,
            Method::PATCH,
            format!("/api/v1/users/{}", w.me),
            Some(json!({ "organisation_id": w.other_org })),
            StatusCode::FORBIDDEN,
        ),
        (
            Partner,
            Method::PATCH,
            format!("/api/v1/users/{}", w.colleague),
            Some(json!({ "email": "x@matrix.example" })),
            StatusCode::FORBIDDEN,
        ),
        (
            Partner,
            Method::PATCH,
            format!("/api/v1/users/{}", w.stranger),
            Some(json!({ "email": "y@matrix.example" })),
            StatusCode::NOT_FOUND,
        ),
        (
            Anonymous,
            Method::PATCH,
            format!("/api/v1/users/{}", w.stranger),
            Some(json!({ "email": "z@matrix.example" })),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Partner,
            Method::DELETE,
            format!("/api/v1/users/{}", w.colleague),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            Partner,
            Method::DELETE,
            format!("/api/v1/users/{}", w.stranger),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Anonymous,
            Method::DELETE,
            format!("/api/v1/users/{}", w.stranger),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Organiser,
            Method::DELETE,
            format!("/api/v1/users/{}", w.stranger),
            None,
            StatusCode::NO_CONTENT,
        ),
        // the caller
        (
            Anonymous,
            Method::GET,
            "/api/v1/me".into(),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (Partner, Method::GET, "/api/v1/me".into(), None, StatusCode::OK),
        (
            Anonymous,
            Method::POST,
            "/api/v1/auth/logout".into(),
            Some(json!({})),
            StatusCode::UNAUTHORIZED,
        ),
    ];

    let mut failures = Vec::new();
    for (who, method, path, body, expected) in rows {
        let token = match who {
            Anonymous => None,
            Organiser => Some(app.organiser.as_str()),
            Partner => Some(w.partner_token.as_str()),
        };
        let mut req = app.request(method.clone(), &path, token);
        if let Some(body) = &body {
            req = req.json(body);
        }
        let res = req.send().await.unwrap();
        if res.status() != expected {
            failures.push(format!(
                "{who:?} {method} {path}: expected {expected}, got {}",
                res.status()
            ));
        }
    }
    assert!(failures.is_empty(), "authorisation matrix:\n{}", failures.join("\n"));

    // What the partner lists is its own organisation's users only.
    let page = expect_json(
        app.get("/api/v1/users?limit=200", Some(&w.partner_token)).await,
        StatusCode::OK,
    )
    .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|u| u["organisation_id"] == w.own_org.as_str()));
    let page = expect_json(
        app.get(
            &format!("/api/v1/users?organisation_id={}", w.other_org),
            Some(&w.partner_token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(page["items"].as_array().unwrap().is_empty());
    // Refused writes changed nothing.
    let other = expect_json(
        app.get(&format!("/api/v1/organisations/{}", w.other_org), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(other["description"], "changed", "only the organiser's PATCH applied");
    let me = expect_json(app.get("/api/v1/me", Some(&w.partner_token)).await, StatusCode::OK).await;
    assert_eq!(
        (me["role"].as_str(), me["organisation_id"].as_str()),
        (Some("partner"), Some(w.own_org.as_str()))
    );
}
