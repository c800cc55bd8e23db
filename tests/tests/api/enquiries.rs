//! The development agency's enquiry form: validation and consent, the token's scope, the
//! organisers' workflow, statistics, export and erasure, the retention purge, the e-mails.

use crate::common::{
    Backend, TestApp, both, count, error_fields, expect_json, expect_problem, per_backend, spawn_with,
};
use crate::notifications::{SmtpSink, outbox_settled};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both!(
    an_enquiry_is_checked_and_its_token_opens_it_alone,
    organisers_move_and_assign_enquiries_with_a_history,
    the_statistics_equal_the_counts,
    export_before_and_nothing_left_after_erasure,
    the_retention_purge_erases_closed_enquiries_only,
);
per_backend!(the_enquirer_and_the_assignee_are_written_to);

fn body(email: &str, subject: &str) -> Value {
    json!({
        "name": "Claire Martin", "email": email, "company": "Martin Relation Client SAS",
        "phone": "03 87 12 34 56", "subject": subject,
        "message": "Nous envisageons un centre de cinquante postes à Metz.", "consent": true,
    })
}

/// Sends an enquiry: `(id, token)`.
async fn send(app: &TestApp, email: &str, subject: &str) -> (String, String) {
    let e = expect_json(
        app.post("/api/v1/enquiries", None, &body(email, subject)).await,
        StatusCode::CREATED,
    )
    .await;
    (
        e["id"].as_str().unwrap().to_owned(),
        e["access_token"].as_str().unwrap().to_owned(),
    )
}

async fn an_enquiry_is_checked_and_its_token_opens_it_alone(app: TestApp) {
    let res = app
        .post(
            "/api/v1/enquiries",
            None,
            &body("claire.martin@example.org", "setting_up"),
        )
        .await;
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(created["status"], "new");
    assert_eq!(created["phone"], "+33387123456");
    assert_eq!(created["privacy_notice_version"], "2026-11");
    let token = created["access_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("jte_"));
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/enquiries/{id}"));
    // Its token reads it, without the access token and without who handles it.
    let mine = expect_json(app.get(&location, Some(&token)).await, StatusCode::OK).await;
    assert_eq!(mine["company"], "Martin Relation Client SAS");
    assert!(mine.get("access_token").is_none());
    // …and nothing else.
    let (other, _) = send(&app, "autre@example.org", "recruiting").await;
    expect_problem(
        app.get(&format!("/api/v1/enquiries/{other}"), Some(&token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.get("/api/v1/enquiries", Some(&token)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        app.patch(&location, Some(&token), &json!({ "status": "in_progress" }))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        app.get("/api/v1/applications", Some(&token)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        app.get(&location, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let org = app.create_organisation("Partenaire").await;
    let (_, partner) = app.partner_of(org["id"].as_str().unwrap()).await;
    expect_problem(
        app.get(&location, Some(&partner)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Every bad field at once, consent included; nothing stored.
    let before = count(&app, "SELECT count(*) FROM enquiries").await;
    let res = app
        .post(
            "/api/v1/enquiries",
            None,
            &json!({ "name": "", "email": "nobody", "company": " ", "phone": "12", "subject": "lunch",
                     "message": "x".repeat(5001), "consent": false }),
        )
        .await;
    let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields = error_fields(&problem);
    assert_eq!(
        fields,
        ["name", "email", "company", "phone", "subject", "message", "consent"]
    );
    assert_eq!(problem["errors"][6]["code"], "consent_required");
    assert_eq!(count(&app, "SELECT count(*) FROM enquiries").await, before);
}

async fn organisers_move_and_assign_enquiries_with_a_history(app: TestApp) {
    let (id, token) = send(&app, "claire.martin@example.org", "developing").await;
    let path = format!("/api/v1/enquiries/{id}");
    let me = expect_json(app.get("/api/v1/me", Some(&app.organiser)).await, StatusCode::OK).await;
    let me = me["id"].as_str().or(me["user"]["id"].as_str()).unwrap().to_owned();
    // Not two steps at once.
    let problem = expect_problem(
        app.patch(&path, Some(&app.organiser), &json!({ "status": "answered" }))
            .await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    assert_eq!(problem["allowed"], json!(["in_progress"]));
    // Only an organiser is assigned.
    let org = app.create_organisation("Partenaire").await;
    let (partner, _) = app.partner_of(org["id"].as_str().unwrap()).await;
    let problem = expect_problem(
        app.patch(&path, Some(&app.organiser), &json!({ "assignee_id": partner["id"] }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "not_an_organiser");
    let moved = expect_json(
        app.patch(
            &path,
            Some(&app.organiser),
            &json!({ "status": "in_progress", "assignee_id": me }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["assignee_id"], me.as_str());
    assert_eq!(moved["next_statuses"], json!(["answered"]));
    for status in ["answered", "closed"] {
        let res = app
            .patch(&path, Some(&app.organiser), &json!({ "status": status }))
            .await;
        expect_json(res, StatusCode::OK).await;
    }
    let done = expect_json(app.get(&path, Some(&app.organiser)).await, StatusCode::OK).await;
    let steps: Vec<(&str, &str)> = done["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["from"].as_str().unwrap_or("-"), h["to"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("-", "new"),
            ("new", "in_progress"),
            ("in_progress", "answered"),
            ("answered", "closed")
        ]
    );
    assert_eq!(done["history"][1]["by_user_id"], me.as_str());
    assert!(done["closed_at"].is_string());
    // The enquirer sees the steps, not who took them.
    let seen = expect_json(app.get(&path, Some(&token)).await, StatusCode::OK).await;
    assert_eq!(seen["status"], "closed");
    assert!(seen["assignee_id"].is_null() && seen["history"][1]["by_user_id"].is_null());
    // Filters.
    let (_, _) = send(&app, "autre@example.org", "recruiting").await;
    let page = |q: String| {
        let app = &app;
        async move {
            let v = expect_json(
                app.get(&format!("/api/v1/enquiries?{q}"), Some(&app.organiser)).await,
                StatusCode::OK,
            )
            .await;
            v["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(page("status=closed".into()).await, 1);
    assert_eq!(page("subject=recruiting".into()).await, 1);
    assert_eq!(page(format!("assignee_id={me}")).await, 1);
    assert_eq!(page("status=new".into()).await, 1);
    let res = app.get("/api/v1/enquiries?status=lost", Some(&app.organiser)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn the_statistics_equal_the_counts(app: TestApp) {
    let subjects = [
        "setting_up",
        "setting_up",
        "recruiting",
        "partnership",
        "recruiting",
        "recruiting",
    ];
    for (i, subject) in subjects.iter().enumerate() {
        send(&app, &format!("e{i}@example.org"), subject).await;
    }
    // An erased enquiry still counts.
    let (id, token) = send(&app, "gone@example.org", "other").await;
    let res = app.delete(&format!("/api/v1/enquiries/{id}"), Some(&token)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let today = chrono::Utc::now().date_naive();
    let stats = expect_json(
        app.get(
            &format!("/api/v1/enquiries/stats?from={today}&to={today}"),
            Some(&app.organiser),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["total"], 7);
    assert_eq!(
        stats["by_subject"],
        json!({ "setting_up": 2, "developing": 0, "recruiting": 3, "partnership": 1, "other": 1 })
    );
    let month = today.format("%Y-%m").to_string();
    let by_month: Vec<(String, String, i64)> = stats["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["month"].as_str().unwrap().to_owned(),
                m["subject"].as_str().unwrap().to_owned(),
                m["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_month,
        [
            (month.clone(), "other".to_owned(), 1),
            (month.clone(), "partnership".to_owned(), 1),
            (month.clone(), "recruiting".to_owned(), 3),
            (month, "setting_up".to_owned(), 2),
        ]
    );
    // A period before them counts none; a reversed one is refused.
    let empty = expect_json(
        app.get(
            "/api/v1/enquiries/stats?from=2020-01-01&to=2020-12-31",
            Some(&app.organiser),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(empty["total"], 0);
    let res = app
        .get(
            "/api/v1/enquiries/stats?from=2021-01-01&to=2020-12-31",
            Some(&app.organiser),
        )
        .await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app.get("/api/v1/enquiries/stats", Some(&token)).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the erased enquiry's token is gone"
    );
}

const STRINGS: [&str; 5] = [
    "claire.secret@example.org",
    "Claire Secrète",
    "Entreprise Très Discrète",
    "+33387999888",
    "Un projet confidentiel à Thionville",
];

async fn export_before_and_nothing_left_after_erasure(app: TestApp) {
    let res = app
        .post(
            "/api/v1/enquiries",
            None,
            &json!({ "name": STRINGS[1], "email": STRINGS[0], "company": STRINGS[2], "phone": "03 87 99 98 88",
                     "subject": "setting_up", "message": STRINGS[4], "consent": true }),
        )
        .await;
    let created = expect_json(res, StatusCode::CREATED).await;
    let (id, token) = (
        created["id"].as_str().unwrap(),
        created["access_token"].as_str().unwrap(),
    );
    let res = app.get(&format!("/api/v1/enquiries/{id}/export"), Some(token)).await;
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let export = expect_json(res, StatusCode::OK).await;
    let text = export.to_string();
    for s in STRINGS {
        assert!(text.contains(s), "{s} in the export");
    }
    assert_eq!(export["notifications"][0]["event"], "enquiry.received");
    outbox_settled(&app).await;
    let res = app.delete(&format!("/api/v1/enquiries/{id}"), Some(token)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    expect_problem(
        app.get(&format!("/api/v1/enquiries/{id}"), Some(token)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    expect_problem(
        app.get(&format!("/api/v1/enquiries/{id}"), Some(&app.organiser)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let dump = app.dump();
    for s in STRINGS {
        assert!(!dump.contains(s), "{s} left in the database");
    }
    // The anonymous row stays for the figures.
    assert_eq!(
        count(&app, "SELECT count(*) FROM enquiries WHERE erased_at IS NOT NULL").await,
        1
    );
}

async fn the_retention_purge_erases_closed_enquiries_only(app: TestApp) {
    let (closed, _) = send(&app, "closed@example.org", "developing").await;
    let (open, _) = send(&app, "open@example.org", "developing").await;
    for status in ["in_progress", "answered", "closed"] {
        let res = app
            .patch(
                &format!("/api/v1/enquiries/{closed}"),
                Some(&app.organiser),
                &json!({ "status": status }),
            )
            .await;
        expect_json(res, StatusCode::OK).await;
    }
    let purge = |months: i64, dry_run: bool| {
        let db = app.db.clone();
        async move {
            let now = chrono::Utc::now() + chrono::TimeDelta::days(31 * months);
            jobtour_api::privacy::purge_enquiries(&db, now, 36, dry_run)
                .await
                .unwrap()
        }
    };
    assert_eq!(purge(35, false).await, 0, "not yet");
    assert_eq!(purge(37, true).await, 1, "a dry run counts…");
    let still = expect_json(
        app.get(&format!("/api/v1/enquiries/{closed}"), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(still["email"], "closed@example.org", "…and changes nothing");
    assert_eq!(purge(37, false).await, 1);
    expect_problem(
        app.get(&format!("/api/v1/enquiries/{closed}"), Some(&app.organiser))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_json(
        app.get(&format!("/api/v1/enquiries/{open}"), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(purge(37, false).await, 0, "nothing left");
}

async fn the_enquirer_and_the_assignee_are_written_to(backend: Backend) {
    let sink = SmtpSink::reserve();
    let url = sink.url();
    let Some(app) = spawn_with(backend, |_, s| s.notify.smtp_url = Some(url)).await else {
        return;
    };
    sink.start().await;
    let (id, token) = send(&app, "claire.martin@example.org", "recruiting").await;
    let mails = sink.wait_for(1).await;
    let ack = mails[0].replace("=\r\n", "").replace("=\n", "");
    assert!(ack.contains("To: claire.martin@example.org"), "{ack}");
    assert!(
        ack.contains(&id) && ack.contains(&token[..20]),
        "the link, with its token: {ack}"
    );
    let me = expect_json(app.get("/api/v1/me", Some(&app.organiser)).await, StatusCode::OK).await;
    let (my_id, my_email) = match me.get("user") {
        Some(user) => (user["id"].clone(), user["email"].as_str().unwrap().to_owned()),
        None => (me["id"].clone(), me["email"].as_str().unwrap().to_owned()),
    };
    let res = app
        .request(Method::PATCH, &format!("/api/v1/enquiries/{id}"), Some(&app.organiser))
        .json(&json!({ "assignee_id": my_id }))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await;
    let mails = sink.wait_for(2).await;
    let note = mails[1].replace("=\r\n", "").replace("=\n", "");
    assert!(note.contains(&format!("To: {my_email}")), "{note}");
    assert!(note.contains(&id), "{note}");
    assert!(
        !note.contains("claire.martin"),
        "no more of the enquirer than the company: {note}"
    );
    outbox_settled(&app).await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE event_type LIKE 'enquiry.%' AND status = 'delivered' AND payload IS NULL"
        )
        .await,
        2
    );
}
