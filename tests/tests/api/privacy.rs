//! Candidates' data rights: export, erasure leaving no trace, the retention purge, the audit log.

use crate::applications::{application_body, move_to};
use crate::common::{Backend, TestApp, both, count, expect_json, expect_problem, per_backend, spawn_with};
use crate::notifications::{Receiver, SmtpSink, outbox_settled};
use crate::positions::{campaign, id, position_body, post_position};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

per_backend!(export_holds_everything_and_erasure_leaves_no_trace);
both!(
    the_retention_purge_erases_finished_tours_only,
    the_audit_log_says_who_did_what,
);

/// Personal data distinctive enough to be searched for in a dump of the database.
const FIRST: &str = "Zéphyrine";
const LAST: &str = "Quintavalle-Orbán";
const EMAIL: &str = "zephyrine.quintavalle@unusual-domain.example";
const PHONE: &str = "+33698765432";
const MESSAGE: &str = "Mon message très distinctif 7f3a9c";
const NOTE: &str = "Entretien prometteur 4b8e1d";

async fn export_holds_everything_and_erasure_leaves_no_trace(backend: Backend) {
    // A mail server and the employer's systems, both listening.
    let sink = SmtpSink::reserve();
    sink.start().await;
    let receiver = Receiver::start(0);
    let url = sink.url();
    let Some(app) = spawn_with(backend, |_, s| {
        s.notify.smtp_url = Some(url);
        s.notify.webhook_allow_private = true;
    })
    .await
    else {
        return;
    };
    let c = campaign(&app).await;
    let every_event = json!({ "url": receiver.url, "events": ["application.created", "application.status_changed",
                                "booking.created", "booking.cancelled", "position.filled"] });
    let hooks = format!("/api/v1/organisations/{}/webhooks", c.employer);
    expect_json(
        app.post(&hooks, Some(&c.partner), &every_event).await,
        StatusCode::CREATED,
    )
    .await;
    let first = id(&post_position(
        &app,
        &c.partner,
        &position_body(&c, "Conseiller", json!({ "openings": 5 })),
    )
    .await);
    let second = id(&post_position(&app, &c.partner, &position_body(&c, "Superviseur", json!({}))).await);
    let body = json!({ "first_name": FIRST, "last_name": LAST, "email": EMAIL, "phone": "06 98 76 54 32",
                       "message": MESSAGE, "preferred_stop_id": c.stops[0], "consent": true });
    let res = app
        .request(Method::POST, &format!("/api/v1/positions/{first}/applications"), None)
        .header("idempotency-key", "erasure-test-key")
        .json(&body)
        .send()
        .await
        .unwrap();
    let a = expect_json(res, StatusCode::CREATED).await;
    let (a_id, token) = (id(&a), a["access_token"].as_str().unwrap().to_owned());
    let b = crate::applications::apply_with(&app, &second, &body).await;
    let res = app
        .patch(
            &format!("/api/v1/applications/{a_id}"),
            Some(&c.partner),
            &json!({ "status": "screening", "note": NOTE }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let slot = crate::slots::slot_at(&app, &c, 10, 2).await;
    let res = crate::slots::book(&app, &slot, &token, "").await;
    expect_json(res, StatusCode::CREATED).await;
    // Delivered: two acknowledgements and a booking confirmation to the candidate; the
    // employer's systems heard of both applications, the move to screening, the booking.
    outbox_settled(&app).await;
    let to_candidate = sink
        .mails()
        .iter()
        .filter(|m| m.contains(&format!("To: {EMAIL}")))
        .count();
    assert_eq!(to_candidate, 3);
    let events: Vec<Value> = receiver
        .calls()
        .iter()
        .map(|c| serde_json::from_str(&c.body).unwrap())
        .collect();
    // (Events are delivered side by side: they may arrive in any order.)
    let mut types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    types.sort_unstable();
    assert_eq!(
        types,
        [
            "application.created",
            "application.created",
            "application.status_changed",
            "booking.created"
        ]
    );
    let booked = events.iter().find(|e| e["type"] == "booking.created").unwrap();
    assert_eq!(booked["data"]["application_id"], a_id.as_str());
    // The application's position, also when the slot names none.
    assert_eq!(booked["data"]["position_id"], first.as_str());

    // The export: everything held about the person, both applications, as a download.
    let res = app
        .get(&format!("/api/v1/applications/{a_id}/export"), Some(&token))
        .await;
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let export = expect_json(res, StatusCode::OK).await;
    assert_eq!(export["email"], EMAIL);
    let apps = export["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 2);
    assert!(
        apps.iter()
            .all(|x| x["first_name"] == FIRST && x["last_name"] == LAST && x["phone"] == PHONE)
    );
    assert_eq!(apps[0]["message"], MESSAGE);
    assert_eq!(
        apps[0]["history"][1]["note"], NOTE,
        "the staff's notes about the candidate are its data"
    );
    assert_eq!(apps[0]["history"][1]["by_user_id"], Value::Null);
    assert_eq!(apps[0]["booking"]["slot_id"], slot.as_str());
    assert_eq!(export["consents"].as_array().unwrap().len(), 2);
    assert_eq!(export["consents"][0]["privacy_notice_version"], "2026-11");
    assert_eq!(export["bookings"][0]["status"], "active");
    let sent = export["notifications"].as_array().unwrap();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(
        sent.iter()
            .all(|n| n["channel"] == "email" && n["status"] == "delivered")
    );
    assert!(sent.iter().any(|n| n["event"] == "booking.confirmed"));
    let text = export.to_string();
    assert!(text.contains(&id(&b)));
    // Another candidate's token does not open it; a partner may not export.
    let other = crate::applications::apply_with(&app, &first, &application_body("someone@example.org")).await;
    let res = app
        .get(
            &format!("/api/v1/applications/{a_id}/export"),
            other["access_token"].as_str(),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .get(&format!("/api/v1/applications/{a_id}/export"), Some(&c.partner))
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;

    let before = app.dump();
    for s in [FIRST, EMAIL, MESSAGE, NOTE] {
        assert!(before.contains(s), "the dump should hold {s} before the erasure");
    }

    // The erasure: 204, the token dead, no trace left anywhere in the database.
    assert_eq!(
        app.delete(&format!("/api/v1/applications/{a_id}"), Some(&token))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let res = app.get(&format!("/api/v1/applications/{a_id}"), Some(&token)).await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let dump = app.dump();
    for s in [
        FIRST,
        LAST,
        EMAIL,
        "zephyrine",
        PHONE,
        "98765432",
        MESSAGE,
        NOTE,
        &token[4..],
    ] {
        assert!(!dump.contains(s), "the dump still holds {s}");
    }
    // Anonymous rows stay for the figures; the seat went back.
    let stats = expect_json(
        app.get(&format!("/api/v1/tours/{}/stats", c.tour), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["applications"], 3);
    assert_eq!(stats["by_stop"][0]["applications"], 2);
    // Gone for everyone, organisers included; the anonymous row only counts in the figures.
    let res = app
        .get(&format!("/api/v1/applications/{a_id}"), Some(&app.organiser))
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM applications WHERE first_name IS NULL AND email IS NULL AND status = 'screening' AND erased_at IS NOT NULL",
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM applications WHERE erased_at IS NOT NULL").await,
        2
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM bookings WHERE cancel_reason = 'erased'").await,
        1
    );
    assert_eq!(count(&app, "SELECT count(*) FROM idempotency_keys").await, 0);
    // An organiser may erase too (the other candidate), and erasing twice is harmless.
    let o = id(&other);
    for _ in 0..2 {
        assert_eq!(
            app.delete(&format!("/api/v1/applications/{o}"), Some(&app.organiser))
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
    }
    expect_problem(
        app.delete(&format!("/api/v1/applications/{o}"), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let res = app.delete(&format!("/api/v1/applications/{o}"), Some(&c.partner)).await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

async fn the_retention_purge_erases_finished_tours_only(app: TestApp) {
    let c = campaign(&app).await;
    let position = id(&post_position(&app, &c.partner, &position_body(&c, "Conseiller", json!({}))).await);
    let a = crate::applications::apply_with(&app, &position, &application_body("kept@example.org")).await;
    let purge = |now: &str, dry_run: bool| {
        let (db, now) = (
            app.db.clone(),
            chrono::DateTime::parse_from_rfc3339(now).unwrap().to_utc(),
        );
        async move {
            jobtour_api::privacy::purge(&db, now, 24, dry_run)
                .await
                .unwrap()
                .applications
        }
    };
    // The tour ends on 23 October 2027: its candidates are kept for 24 months after.
    assert_eq!(purge("2029-10-23T12:00:00Z", false).await, 0);
    assert_eq!(purge("2029-11-24T00:00:00Z", true).await, 1, "a dry run counts…");
    let kept = expect_json(
        app.get(&format!("/api/v1/applications/{}", id(&a)), Some(&app.organiser))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["email"], "kept@example.org", "…and changes nothing");
    assert_eq!(purge("2029-11-24T00:00:00Z", false).await, 1);
    let gone = app
        .get(&format!("/api/v1/applications/{}", id(&a)), Some(&app.organiser))
        .await;
    expect_problem(gone, StatusCode::NOT_FOUND, "not_found").await;
    let left = format!(
        "SELECT count(*) FROM applications WHERE id = '{}' AND email IS NULL AND first_name IS NULL",
        id(&a)
    );
    // SQLite keeps UUIDs as blobs: compare through the erasure mark instead.
    let left = if app.database_url().starts_with("sqlite") {
        "SELECT count(*) FROM applications WHERE erased_at IS NOT NULL AND email IS NULL AND first_name IS NULL"
            .to_owned()
    } else {
        left
    };
    assert_eq!(count(&app, &left).await, 1);
    assert_eq!(purge("2029-11-24T00:00:00Z", false).await, 0, "nothing left to erase");
    assert_eq!(
        count(&app, "SELECT count(*) FROM audit_log WHERE actor_kind = 'system'").await,
        1
    );
}

async fn the_audit_log_says_who_did_what(app: TestApp) {
    let c = campaign(&app).await;
    let position = post_position(&app, &c.partner, &position_body(&c, "Conseiller", json!({}))).await;
    let res = app
        .patch(
            &format!("/api/v1/positions/{}", id(&position)),
            Some(&c.partner),
            &json!({ "openings": 4 }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let a = crate::applications::apply_with(&app, &id(&position), &application_body("audited@example.org")).await;
    let token = a["access_token"].as_str().unwrap();
    move_to(&app, &c.partner, &id(&a), &["screening"]).await;
    expect_json(
        app.get(&format!("/api/v1/applications/{}/export", id(&a)), Some(token))
            .await,
        StatusCode::OK,
    )
    .await;
    // A refused write is not an audited change.
    let res = app
        .patch(
            &format!("/api/v1/positions/{}", id(&position)),
            Some(&c.other_partner),
            &json!({ "openings": 9 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.delete(&format!("/api/v1/applications/{}", id(&a)), Some(token))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );

    let me = expect_json(app.get("/api/v1/me", Some(&c.partner)).await, StatusCode::OK).await;
    let log = expect_json(
        app.get(
            &format!("/api/v1/audit?object_id={}", id(&position)),
            Some(&app.organiser),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let items = log["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["POST /api/v1/positions", "PATCH /api/v1/positions/{id}"]);
    assert!(
        items
            .iter()
            .all(|e| e["user_id"] == me["id"] && e["actor"] == "staff" && e["object_type"] == "positions")
    );
    assert!(items.iter().all(|e| !e["request_id"].as_str().unwrap().is_empty()));
    let log = expect_json(
        app.get(
            &format!("/api/v1/audit?object_type=applications&object_id={}", id(&a)),
            Some(&app.organiser),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let seen: Vec<(&str, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("staff", "PATCH /api/v1/applications/{id}"),
            ("candidate", "GET /api/v1/applications/{id}/export"),
            ("candidate", "DELETE /api/v1/applications/{id}"),
        ]
    );
    // The request id ties a line to the logs; only organisers read the log.
    let res = app
        .request(
            Method::PATCH,
            &format!("/api/v1/positions/{}", id(&position)),
            Some(&app.organiser),
        )
        .header("x-request-id", "audit-me-42")
        .json(&json!({ "openings": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let log = expect_json(
        app.get("/api/v1/audit?limit=200", Some(&app.organiser)).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["request_id"] == "audit-me-42")
    );
    expect_problem(
        app.get("/api/v1/audit", Some(&c.partner)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        app.get("/api/v1/audit", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}
