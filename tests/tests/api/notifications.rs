//! Notifications through the outbox: e-mails to a local SMTP sink that is down and then up,
//! signed webhooks to a local receiver that fails and then accepts, target checks, and two
//! servers sharing one outbox.

use crate::common::{Backend, TestApp, both, count, expect_json, expect_problem, per_backend, spawn_with};
use crate::positions::{campaign, id, position_body, post_position};
use hmac::{KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

per_backend!(
    an_email_waits_for_the_mail_server,
    a_confirmation_overtaken_by_its_cancellation_is_dropped,
    webhooks_are_signed_retried_and_recorded,
    two_servers_deliver_each_message_once,
);
both!(webhook_targets_in_private_networks_are_refused);

const WAIT: Duration = Duration::from_secs(20);

/// A mail server for tests: takes every message, keeps it whole. Its port is chosen first, so
/// the server under test can be pointed at it before it listens.
pub struct SmtpSink {
    port: u16,
    mails: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub fn reserve() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Self {
            port,
            mails: Arc::default(),
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub async fn start(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("the sink's port");
        let mails = self.mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(smtp_session(stream, mails.clone()));
            }
        });
    }

    pub fn mails(&self) -> Vec<String> {
        self.mails.lock().unwrap().clone()
    }

    /// The mails received once there are at least `n`; panics after [`WAIT`].
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        at_least(n, "mail", || self.mails()).await
    }
}

async fn smtp_session(stream: tokio::net::TcpStream, mails: Arc<Mutex<Vec<String>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
            "DATA" => {
                let _ = write.write_all(b"354 go ahead\r\n").await;
                let mut mail = String::new();
                while let Ok(Some(l)) = lines.next_line().await {
                    if l == "." {
                        break;
                    }
                    mail.push_str(l.strip_prefix('.').unwrap_or(&l));
                    mail.push('\n');
                }
                mails.lock().unwrap().push(mail);
                b"250 queued\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"250 ok\r\n",
        };
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}

/// What `seen` gives once it holds at least `n` things; panics after [`WAIT`].
async fn at_least<T>(n: usize, what: &str, seen: impl Fn() -> Vec<T>) -> Vec<T> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let got = seen();
        if got.len() >= n {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} {what}(s) arrived, {n} expected",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `Message-ID` of a mail.
fn message_id(mail: &str) -> String {
    mail.lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap_or_default()
        .to_owned()
}

/// One call a receiver got.
#[derive(Debug, Clone)]
pub struct Call {
    pub signature: String,
    pub event_id: String,
    pub body: String,
}

/// A partner's server for tests: answers 500 to the first `failures` calls, then 200.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Receiver {
    pub fn start(failures: usize) -> Self {
        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
        let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!(
            "http://127.0.0.1:{}/hooks/jobtour",
            listener.local_addr().unwrap().port()
        );
        let seen = calls.clone();
        let server = HttpServer::new(move || {
            let seen = seen.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let seen = seen.clone();
                async move {
                    let header = |name: &str| {
                        req.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let mut calls = seen.lock().unwrap();
                    calls.push(Call {
                        signature: header("jobtour-signature"),
                        event_id: header("jobtour-event-id"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    if calls.len() <= failures {
                        HttpResponse::InternalServerError().finish()
                    } else {
                        HttpResponse::Ok().finish()
                    }
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        Self { url, calls }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, n: usize) -> Vec<Call> {
        at_least(n, "call", || self.calls()).await
    }
}

/// Checks `Jobtour-Signature: t=…,v1=…` against the secret, as a partner would.
pub fn signature_holds(secret: &str, header: &str, body: &str) -> bool {
    let Some((t, v1)) = header.strip_prefix("t=").and_then(|rest| rest.split_once(",v1=")) else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    expected == v1
}

/// Waits until the outbox holds nothing waiting or being sent.
pub async fn outbox_settled(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while count(
        app,
        "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')",
    )
    .await
        > 0
    {
        assert!(tokio::time::Instant::now() < deadline, "the outbox did not empty");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A counter from a server's `/metrics`.
async fn metric(client: &reqwest::Client, address: &str, series: &str) -> i64 {
    let text = client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok())
        .map_or(0, |v| v as i64)
}

const EMAIL_DELIVERED: &str = r#"jobtour_outbox_deliveries_total{kind="email",outcome="delivered"}"#;
const EMAIL_RETRIED: &str = r#"jobtour_outbox_deliveries_total{kind="email",outcome="retried"}"#;

async fn an_email_waits_for_the_mail_server(backend: Backend) {
    let sink = SmtpSink::reserve();
    let url = sink.url();
    let Some(app) = spawn_with(backend, |_, s| s.notify.smtp_url = Some(url)).await else {
        return;
    };
    let c = campaign(&app).await;
    let position = id(&post_position(&app, &c.partner, &position_body(&c, "Conseiller", json!({}))).await);
    // The mail server is down: the application is taken all the same.
    let body = json!({ "first_name": "Léa", "last_name": "Martin", "email": "lea.martin@example.org",
                       "preferred_stop_id": c.stops[0], "consent": true });
    let a = crate::applications::apply_with(&app, &position, &body).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while metric(&app.client, &app.address, EMAIL_RETRIED).await < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no retry was counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE kind = 'email' AND status IN ('pending', 'sending')"
        )
        .await,
        1
    );
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"jobtour_outbox_messages{status="pending"}"#),
        "{metrics}"
    );

    // Up again: the confirmation arrives, once, with the self-service link.
    sink.start().await;
    let mails = sink.wait_for(1).await;
    let mail = &mails[0];
    assert!(mail.contains("To: lea.martin@example.org"), "{mail}");
    assert!(message_id(mail).starts_with('<') && message_id(mail).ends_with("@jobtour>"));
    assert!(
        mail.replace("=\n", "").contains(&id(&a)),
        "the link names the application: {mail}"
    );

    // A booking is confirmed with the interview as a calendar file.
    let token = a["access_token"].as_str().unwrap();
    let slot = crate::slots::slot_at(&app, &c, 10, 1).await;
    let res = crate::slots::book(&app, &slot, token, "").await;
    expect_json(res, StatusCode::CREATED).await;
    let mails = sink.wait_for(2).await;
    assert!(mails[1].contains("text/calendar"), "{}", mails[1]);
    assert!(mails[1].contains("BEGIN:VCALENDAR") || mails[1].contains("Content-Transfer-Encoding: base64"));

    // Screening is the employer's business; an invitation to an interview is the candidate's.
    crate::applications::move_to(&app, &c.partner, &id(&a), &["screening"]).await;
    outbox_settled(&app).await;
    assert_eq!(sink.mails().len(), 2);
    crate::applications::move_to(&app, &c.partner, &id(&a), &["interview"]).await;
    sink.wait_for(3).await;

    outbox_settled(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mails = sink.mails();
    assert_eq!(mails.len(), 3, "nothing is sent twice");
    let ids: HashSet<String> = mails.iter().map(|m| message_id(m)).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE status = 'delivered' AND payload IS NULL"
        )
        .await,
        3,
        "a delivered message keeps no copy of what it said"
    );
    assert_eq!(metric(&app.client, &app.address, EMAIL_DELIVERED).await, 3);
}

async fn a_confirmation_overtaken_by_its_cancellation_is_dropped(backend: Backend) {
    let sink = SmtpSink::reserve();
    let url = sink.url();
    let Some(app) = spawn_with(backend, |_, s| s.notify.smtp_url = Some(url)).await else {
        return;
    };
    let c = campaign(&app).await;
    let position = id(&post_position(&app, &c.partner, &position_body(&c, "Conseiller", json!({}))).await);
    let a = crate::applications::apply_with(
        &app,
        &position,
        &crate::applications::application_body("late@example.org"),
    )
    .await;
    let token = a["access_token"].as_str().unwrap();
    // While the mail server is down, the candidate books and cancels.
    let slot = crate::slots::slot_at(&app, &c, 10, 1).await;
    expect_json(crate::slots::book(&app, &slot, token, "").await, StatusCode::CREATED).await;
    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/slots/{slot}/booking"),
            Some(token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    sink.start().await;
    outbox_settled(&app).await;
    // The acknowledgement and the cancellation; the confirmation of a booking that is no more
    // is not sent.
    let mails = sink.mails();
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails.iter().all(|m| m.contains("To: late@example.org")));
    assert_eq!(
        count(&app, "SELECT count(*) FROM outbox WHERE event_type = 'booking.confirmed' AND status = 'cancelled' AND payload IS NULL").await,
        1
    );
    assert_eq!(
        metric(
            &app.client,
            &app.address,
            r#"jobtour_outbox_deliveries_total{kind="email",outcome="dropped"}"#
        )
        .await,
        1
    );
}

async fn webhooks_are_signed_retried_and_recorded(backend: Backend) {
    let receiver = Receiver::start(2);
    let Some(app) = spawn_with(backend, |_, s| s.notify.webhook_allow_private = true).await else {
        return;
    };
    let c = campaign(&app).await;
    let hooks = format!("/api/v1/organisations/{}/webhooks", c.employer);
    let res = app
        .post(
            &hooks,
            Some(&c.partner),
            &json!({ "url": receiver.url, "events": ["application.created", "booking.created"] }),
        )
        .await;
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/api/v1/webhooks/")
    );
    let hook = expect_json(res, StatusCode::CREATED).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_") && secret.len() > 40);
    let listed = expect_json(app.get(&hooks, Some(&c.partner)).await, StatusCode::OK).await;
    assert_eq!(listed["items"][0]["id"], hook["id"]);
    assert_eq!(
        listed["items"][0]["events"],
        json!(["application.created", "booking.created"])
    );
    assert!(listed["items"][0].get("secret").is_none(), "the secret is shown once");

    // Another employer's application is none of this partner's business.
    let theirs = position_body(&c, "Vendeur", json!({ "organisation_id": c.other_employer }));
    let theirs = id(&post_position(&app, &app.organiser, &theirs).await);
    crate::applications::apply(&app, &theirs, "elsewhere@example.org").await;

    let position = id(&post_position(&app, &c.partner, &position_body(&c, "Conseiller", json!({}))).await);
    let a = crate::applications::apply(&app, &position, "hooked@example.org").await;
    let calls = receiver.wait_for(3).await;
    for call in &calls {
        assert!(
            signature_holds(&secret, &call.signature, &call.body),
            "signature {} does not verify",
            call.signature
        );
        assert!(!signature_holds("another secret", &call.signature, &call.body));
    }
    let event: Value = serde_json::from_str(&calls[2].body).unwrap();
    assert_eq!(event["type"], "application.created");
    assert_eq!(event["data"]["application_id"], a.as_str());
    assert_eq!(event["data"]["position_id"], position.as_str());
    assert_eq!(event["id"], calls[2].event_id.as_str());
    assert!(event["created_at"].is_string());
    assert!(
        calls
            .iter()
            .all(|c| c.body == calls[0].body && c.event_id == calls[0].event_id),
        "a retry sends the same event"
    );
    assert!(!calls[0].body.contains("hooked@example.org"), "no personal data");

    let deliveries = format!("/api/v1/webhooks/{}/deliveries", id(&hook));
    let deadline = tokio::time::Instant::now() + WAIT;
    let listed = loop {
        let listed = expect_json(app.get(&deliveries, Some(&c.partner)).await, StatusCode::OK).await;
        if listed["items"].as_array().unwrap().len() == 3 && listed["items"][2]["event_status"] == "delivered" {
            break listed;
        }
        assert!(tokio::time::Instant::now() < deadline, "deliveries: {listed}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let items = listed["items"].as_array().unwrap();
    let seen: Vec<(i64, i64)> = items
        .iter()
        .map(|d| (d["attempt"].as_i64().unwrap(), d["status_code"].as_i64().unwrap()))
        .collect();
    assert_eq!(seen, [(1, 500), (2, 500), (3, 200)]);
    assert_eq!(items[0]["error"], "answered 500");
    assert!(
        items
            .iter()
            .all(|d| d["event_id"] == event["id"] && d["event_type"] == "application.created")
    );
    assert_eq!(items[2]["error"], Value::Null);
    // Another partner does not see them; nothing more is sent once accepted.
    expect_problem(
        app.get(&deliveries, Some(&c.other_partner)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.calls().len(), 3);

    // Deleted: nothing more is sent.
    let res = app
        .delete(&format!("/api/v1/webhooks/{}", id(&hook)), Some(&c.partner))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    crate::applications::apply(&app, &position, "after@example.org").await;
    outbox_settled(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.calls().len(), 3);
    expect_problem(
        app.get(&deliveries, Some(&c.partner)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn webhook_targets_in_private_networks_are_refused(app: TestApp) {
    let c = campaign(&app).await;
    let hooks = format!("/api/v1/organisations/{}/webhooks", c.employer);
    for (url, code) in [
        ("http://127.0.0.1:9/hook", "private_address"),
        ("http://localhost:8080/hook", "private_address"),
        ("http://10.1.2.3/hook", "private_address"),
        ("http://192.168.0.10/hook", "private_address"),
        ("http://169.254.169.254/latest/meta-data", "private_address"),
        ("http://[::1]:8080/hook", "invalid_url"),
        ("http://0x7f000001/hook", "private_address"),
        ("ftp://hooks.example.org/", "invalid_url"),
        ("https://user:pw@hooks.example.org/", "invalid_url"),
    ] {
        let res = app
            .post(
                &hooks,
                Some(&c.partner),
                &json!({ "url": url, "events": ["booking.created"] }),
            )
            .await;
        let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{url}: {problem}");
    }
    let res = app
        .post(
            &hooks,
            Some(&c.partner),
            &json!({ "url": "https://hooks.example.org/", "events": ["nope"] }),
        )
        .await;
    let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "events[0]");
    // A public address is taken; another organisation's webhooks are not this partner's.
    let ok = json!({ "url": "https://93.184.215.14/hooks", "events": ["position.filled"] });
    expect_json(app.post(&hooks, Some(&c.partner), &ok).await, StatusCode::CREATED).await;
    let theirs = format!("/api/v1/organisations/{}/webhooks", c.other_employer);
    expect_problem(
        app.post(&theirs, Some(&c.partner), &ok).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

async fn two_servers_deliver_each_message_once(backend: Backend) {
    use jobtour_api::notify::{Letter, mail::Mail};
    use jobtour_api::repo::outbox;
    const MESSAGES: usize = 500;
    let sink = SmtpSink::reserve();
    sink.start().await;
    let url = sink.url();
    let Some(app) = spawn_with(backend, |_, s| s.notify.smtp_url = Some(url)).await else {
        return;
    };
    let second = app.another_server().await;
    // 500 messages appear at once (one transaction), for both couriers to take.
    let tx = app.db.begin().await.unwrap();
    let now = jobtour_api::repo::now();
    for i in 0..MESSAGES {
        let mail = Mail {
            to: format!("candidate-{i}@example.org"),
            subject: format!("Message {i}"),
            text: "Bonjour".to_owned(),
            calendar: None,
        };
        let new = outbox::New {
            id: uuid::Uuid::now_v7(),
            kind: "email",
            event_type: "test".to_owned(),
            application_id: None,
            enquiry_id: None,
            webhook_id: None,
            summary: mail.subject.clone(),
            payload: serde_json::to_string(&Letter::Written(mail)).unwrap(),
        };
        outbox::enqueue(&tx, new, now).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mails = sink.wait_for(MESSAGES).await;
    outbox_settled(&app).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = if sink.mails().len() > mails.len() {
        sink.mails()
    } else {
        mails
    };
    let ids: HashSet<String> = mails.iter().map(|m| message_id(m)).collect();
    assert_eq!(ids.len(), MESSAGES, "every message arrived");
    assert_eq!(mails.len(), MESSAGES, "none arrived twice");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE status = 'delivered' AND attempts = 1"
        )
        .await,
        MESSAGES as i64
    );
    let by_first = metric(&app.client, &app.address, EMAIL_DELIVERED).await;
    let by_second = metric(&app.client, &second, EMAIL_DELIVERED).await;
    assert_eq!(by_first + by_second, MESSAGES as i64);
    eprintln!("delivered by the first server: {by_first}, by the second: {by_second}");
    assert!(by_first > 0 && by_second > 0, "both servers took a share");
}
