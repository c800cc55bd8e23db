//! What keeps the API fast and fair at campaign scale: lists whose query count does not grow
//! with the page, public reads with `ETag`/`304`/`Cache-Control` served from memory yet never
//! stale after a write (on one instance, and across two through PostgreSQL's LISTEN/NOTIFY),
//! the candidates' write limit per client address, and the scaled demo data.

use crate::common::{Backend, TestApp, both, expect_json, expect_problem, per_backend, spawn, spawn_with};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH, RETRY_AFTER};
use serde_json::{Value, json};

both!(
    list_queries_do_not_grow_with_the_page,
    applying_does_not_read_its_application_back,
    public_reads_carry_an_etag_and_answer_304,
    a_write_is_seen_by_the_next_public_read,
    the_scaled_demo_loads_idempotently,
    slow_clients_do_not_starve_the_others,
);
per_backend!(candidate_writes_are_limited_per_client_address);

/// Statements the server ran for `GET path` (with the organiser's token: not from memory),
/// read from its per-route metric before and after.
async fn queries_of(app: &TestApp, path: &str, route: &str) -> (f64, usize) {
    let before = query_sum(app, "GET", route).await;
    let page = expect_json(app.get(path, Some(&app.organiser)).await, StatusCode::OK).await;
    let after = query_sum(app, "GET", route).await;
    (after - before, page["items"].as_array().map_or(0, Vec::len))
}

async fn query_sum(app: &TestApp, method: &str, route: &str) -> f64 {
    let text = app.get("/metrics", None).await.text().await.unwrap();
    let series = format!("jobtour_http_request_db_queries_sum{{method=\"{method}\",route=\"{route}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&series))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

async fn list_queries_do_not_grow_with_the_page(app: TestApp) {
    jobtour_api::demo::load(&app.db).await.unwrap();
    // A few more rows where the demo has one: a tour, webhooks.
    crate::tours::tour(&app).await;
    let org = app.create_organisation("Banque Témoin").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in 0..3 {
        let res = app
            .post(
                &format!("/api/v1/organisations/{org}/webhooks"),
                Some(&app.organiser),
                &json!({ "url": format!("https://hooks.example.org/{i}"), "events": ["application.created"] }),
            )
            .await;
        expect_json(res, StatusCode::CREATED).await;
    }
    let tours = expect_json(app.get("/api/v1/tours?status=published", None).await, StatusCode::OK).await;
    let tour = tours["items"][0]["id"].as_str().unwrap().to_owned();
    // The demo's organiser is a club of seven members.
    let club = tours["items"][0]["organiser_organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stops = expect_json(
        app.get(&format!("/api/v1/tours/{tour}/stops"), None).await,
        StatusCode::OK,
    )
    .await;
    let stop = stops["items"][0]["id"].as_str().unwrap().to_owned();
    let slots = expect_json(
        app.get(&format!("/api/v1/stops/{stop}/slots"), None).await,
        StatusCode::OK,
    )
    .await;
    let booked = slots["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["booked"].as_i64().unwrap() >= 2)
        .expect("a slot of the demo with two bookings")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let lists = [
        ("/api/v1/organisations", "/api/v1/organisations".to_owned()),
        ("/api/v1/positions", "/api/v1/positions".to_owned()),
        ("/api/v1/positions", "/api/v1/positions?q=conseiller".to_owned()),
        (
            "/api/v1/positions",
            "/api/v1/positions?contract_type=cdi&city=Metz".to_owned(),
        ),
        ("/api/v1/tours", "/api/v1/tours".to_owned()),
        ("/api/v1/tours/{id}/stops", format!("/api/v1/tours/{tour}/stops")),
        ("/api/v1/tours/{id}/partners", format!("/api/v1/tours/{tour}/partners")),
        ("/api/v1/stops/{id}/slots", format!("/api/v1/stops/{stop}/slots")),
        ("/api/v1/applications", "/api/v1/applications".to_owned()),
        (
            "/api/v1/applications",
            format!("/api/v1/applications?tour_id={tour}&status=interview"),
        ),
        ("/api/v1/users", "/api/v1/users".to_owned()),
        ("/api/v1/audit", "/api/v1/audit".to_owned()),
        (
            "/api/v1/organisations/{id}/webhooks",
            format!("/api/v1/organisations/{org}/webhooks"),
        ),
        (
            "/api/v1/organisations/{id}/members",
            format!("/api/v1/organisations/{club}/members"),
        ),
        ("/api/v1/enquiries", "/api/v1/enquiries".to_owned()),
    ];
    for (route, path) in lists {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (one, n1) = queries_of(&app, &format!("{path}{sep}limit=1"), route).await;
        let (many, n) = queries_of(&app, &format!("{path}{sep}limit=200"), route).await;
        assert_eq!(n1, 1, "{path}: one item on a page of one");
        assert!(n >= 2, "{path}: the test needs a page of several items, got {n}");
        assert!(one >= 1.0, "{path}: the metric counts the list's statements");
        if path.contains("q=") {
            // A search walks two tiers (title matches, then the rest), each in at most two
            // statements (the newest rows; the full-text index when they fall short): a bound
            // that does not depend on the page's size either.
            assert!(
                many <= one + 3.0,
                "{path}: {one} statements for one item, {many} for {n}"
            );
        } else {
            assert_eq!(one, many, "{path}: {one} statements for one item, {many} for {n}");
        }
    }
    // A page of the job board costs the statements of one position: its rows come with their
    // employers' names and stops (the token's check is the same on both sides).
    let board = expect_json(app.get("/api/v1/positions?limit=1", None).await, StatusCode::OK).await;
    let position = board["items"][0]["id"].as_str().unwrap().to_owned();
    let (page, n) = queries_of(&app, "/api/v1/positions?status=open&limit=200", "/api/v1/positions").await;
    let (single, _) = queries_of(&app, &format!("/api/v1/positions/{position}"), "/api/v1/positions/{id}").await;
    assert!(n >= 2, "the test needs a page of several positions, got {n}");
    assert_eq!(
        page, single,
        "a page of {n} positions: {page} statements, one position: {single}"
    );
    // A slot's bookings come on one page: an empty slot's list against a full one's.
    let empty = slots["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["booked"] == 0)
        .expect("a slot of the demo without bookings")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let route = "/api/v1/slots/{id}/bookings";
    let (none, n0) = queries_of(&app, &format!("/api/v1/slots/{empty}/bookings"), route).await;
    let (two, n2) = queries_of(&app, &format!("/api/v1/slots/{booked}/bookings"), route).await;
    assert_eq!((n0, n2), (0, 2));
    assert_eq!(
        none, two,
        "a slot's bookings: {none} statements for none, {two} for two"
    );
}

/// Applying is the campaign's hot write: its transaction reads the position (locked), its tour,
/// its stops and its employer's name, writes the application, its history line and the e-mail,
/// looks up the employer's webhooks, and shows the new application from what it holds, without
/// reading it back: eight statements (reading it back made sixteen).
async fn applying_does_not_read_its_application_back(app: TestApp) {
    jobtour_api::demo::load(&app.db).await.unwrap();
    let board = expect_json(app.get("/api/v1/positions?limit=1", None).await, StatusCode::OK).await;
    let position = board["items"][0]["id"].as_str().unwrap().to_owned();
    let route = "/api/v1/positions/{id}/applications";
    let before = query_sum(&app, "POST", route).await;
    let body = crate::applications::application_body("budget@example.org");
    crate::applications::apply_with(&app, &position, &body).await;
    let statements = query_sum(&app, "POST", route).await - before;
    assert!(
        statements <= 8.0,
        "applying took {statements} statements (reading it back took sixteen)"
    );
}

async fn public_reads_carry_an_etag_and_answer_304(app: TestApp) {
    jobtour_api::demo::load(&app.db).await.unwrap();
    let list = app.get("/api/v1/positions?limit=5", None).await;
    assert_eq!(list.status(), StatusCode::OK);
    assert_eq!(list.headers()[CACHE_CONTROL], "public, no-cache");
    let tag = list.headers()[ETAG].to_str().unwrap().to_owned();
    let body: Value = list.json().await.unwrap();
    let position = body["items"][0]["id"].as_str().unwrap().to_owned();

    let again = app
        .request(reqwest::Method::GET, "/api/v1/positions?limit=5", None)
        .header(IF_NONE_MATCH, &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[ETAG].to_str().unwrap(), tag);
    assert!(again.bytes().await.unwrap().is_empty());
    // Another page is another answer.
    let other = app
        .request(reqwest::Method::GET, "/api/v1/positions?limit=6", None)
        .header(IF_NONE_MATCH, &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert_ne!(other.headers()[ETAG].to_str().unwrap(), tag);

    // One position: its version is its tag, the one If-Match takes.
    let one = app.get(&format!("/api/v1/positions/{position}"), None).await;
    assert_eq!(one.headers()[ETAG], "\"1\"");
    let not_modified = app
        .request(reqwest::Method::GET, &format!("/api/v1/positions/{position}"), None)
        .header(IF_NONE_MATCH, "\"7\", W/\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);

    // Signed-in answers are private; large lists are compressed when asked.
    let private = app.get("/api/v1/applications?limit=5", Some(&app.organiser)).await;
    assert_eq!(private.headers()[CACHE_CONTROL], "private, no-store");
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let gz = raw
        .get(app.url("/api/v1/positions?limit=50"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let plain = raw.get(app.url("/api/v1/positions?limit=50")).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert!(gz.bytes().await.unwrap().len() * 4 < plain.bytes().await.unwrap().len());
}

/// A public read of `path`: its status, body and tag.
async fn read(client: &reqwest::Client, base: &str, path: &str) -> (StatusCode, Value, String) {
    let res = client.get(format!("{base}{path}")).send().await.unwrap();
    let status = res.status();
    let tag = res
        .headers()
        .get(ETAG)
        .map(|t| t.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, res.json().await.unwrap_or(Value::Null), tag)
}

async fn a_write_is_seen_by_the_next_public_read(app: TestApp) {
    let c = crate::positions::campaign(&app).await;
    let body = crate::positions::position_body(&c, "Conseiller bancaire", json!({}));
    let position = crate::positions::post_position(&app, &c.partner, &body).await;
    let pid = crate::positions::id(&position);
    let path = format!("/api/v1/positions/{pid}");
    let list = format!("/api/v1/positions?tour_id={}", c.tour);
    // Read twice: the second answer comes from memory.
    for _ in 0..2 {
        assert_eq!(
            read(&app.client, &app.address, &path).await.1["title"],
            "Conseiller bancaire"
        );
        assert_eq!(
            read(&app.client, &app.address, &list).await.1["items"][0]["title"],
            "Conseiller bancaire"
        );
    }
    let (_, _, list_tag) = read(&app.client, &app.address, &list).await;
    let res = app
        .patch(&path, Some(&c.partner), &json!({ "title": "Conseillère bancaire" }))
        .await;
    expect_json(res, StatusCode::OK).await;
    assert_eq!(
        read(&app.client, &app.address, &path).await.1["title"],
        "Conseillère bancaire"
    );
    let (_, after, after_tag) = read(&app.client, &app.address, &list).await;
    assert_eq!(after["items"][0]["title"], "Conseillère bancaire");
    assert_ne!(after_tag, list_tag);

    // A candidate's booking changes what the public sees of the slot at once.
    let slot = crate::slots::slot_at(&app, &c, 10, 2).await;
    let slot_path = format!("/api/v1/slots/{slot}");
    assert_eq!(read(&app.client, &app.address, &slot_path).await.1["booked"], 0);
    let applied = crate::applications::apply_with(
        &app,
        &pid,
        &crate::applications::application_body("camille@example.org"),
    )
    .await;
    let res = crate::slots::book(&app, &slot, applied["access_token"].as_str().unwrap(), "").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(read(&app.client, &app.address, &slot_path).await.1["booked"], 1);

    // Closing it takes it off the public board at once.
    let res = app.patch(&path, Some(&c.partner), &json!({ "status": "closed" })).await;
    expect_json(res, StatusCode::OK).await;
    assert_eq!(read(&app.client, &app.address, &path).await.1["status"], "closed");
    assert_eq!(read(&app.client, &app.address, &list).await.1["items"], json!([]));
}

/// Two servers over one PostgreSQL database: a change made through one is seen through the
/// other, whose copy was in memory, as soon as the notification reaches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_stay_in_step_through_listen_notify() {
    let Some(app) = spawn(Backend::Postgres).await else {
        return;
    };
    let second = app.another_server().await;
    let tour = crate::tours::tour(&app).await;
    let tid = crate::tours::id(&tour).to_owned();
    let res = app
        .patch(
            &format!("/api/v1/tours/{tid}"),
            Some(&app.organiser),
            &json!({ "status": "published" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let path = format!("/api/v1/tours/{tid}");
    // The second server listens once it is up; until then it serves nothing from memory.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for round in 0..20 {
        let name = format!("Tournée d'automne n°{round}");
        // The second server keeps the tour in memory…
        let (_, before, _) = read(&app.client, &second, &path).await;
        let (_, again, _) = read(&app.client, &second, &path).await;
        assert_eq!(before, again);
        // …the first changes it…
        let res = app.patch(&path, Some(&app.organiser), &json!({ "name": name })).await;
        expect_json(res, StatusCode::OK).await;
        // …and the second shows it as soon as PostgreSQL's notification reaches it: at once,
        // unless the machine is too busy to run the listeners (PostgreSQL signals each listening
        // backend at commit, and each passes the message on when it gets to run). Well within a
        // second, where a lost notification would leave the old name for `MAX_AGE` (30 s).
        let shown = async {
            loop {
                let (_, after, _) = read(&app.client, &second, &path).await;
                if after["name"] == name.as_str() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(1), shown)
            .await
            .unwrap_or_else(|_| panic!("round {round}: the second server still shows the old name after 1 s"));
    }
}

async fn candidate_writes_are_limited_per_client_address(backend: Backend) {
    let Some(app) = spawn_with(backend, |_, s| {
        s.anon_writes_per_minute = 3;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await
    else {
        return;
    };
    let c = crate::positions::campaign(&app).await;
    let body = crate::positions::position_body(&c, "Téléconseiller", json!({}));
    let position = crate::positions::post_position(&app, &c.partner, &body).await;
    let pid = crate::positions::id(&position);
    let apply = async |email: &str, from: Option<&str>| {
        let mut req = app
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/positions/{pid}/applications"),
                None,
            )
            .json(&crate::applications::application_body(email));
        if let Some(address) = from {
            req = req.header("x-forwarded-for", address);
        }
        req.send().await.unwrap()
    };
    // The window may turn over during the test: start just after it does if it is about to.
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second > 50 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
    for i in 0..3 {
        let res = apply(&format!("a{i}@example.org"), Some("203.0.113.7")).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let refused = apply("a3@example.org", Some("203.0.113.7")).await;
    let retry: u64 = refused.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let problem = expect_problem(refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    assert!(problem["detail"].as_str().unwrap().contains("3"));
    // A candidate's token, however the scheme is spelt, is no staff token.
    let res = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/positions/{pid}/applications"),
            None,
        )
        .header("authorization", "bearer jtc_whatever")
        .header("x-forwarded-for", "203.0.113.7")
        .json(&crate::applications::application_body("a4@example.org"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another address behind the same trusted proxy has its own count; a client cannot pass
    // for another by writing the header itself (the proxy appends the address it saw).
    let res = apply("b@example.org", Some("198.51.100.9")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = apply("c@example.org", Some("198.51.100.10, 203.0.113.7")).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // An enquiry to the agency counts with them.
    let res = app
        .request(reqwest::Method::POST, "/api/v1/enquiries", None)
        .header("x-forwarded-for", "203.0.113.7")
        .json(
            &json!({ "name": "Claire Martin", "email": "claire@example.org", "company": "Martin SAS",
                       "subject": "other", "message": "Bonjour", "consent": true }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Staff are not candidates.
    let body = crate::positions::position_body(&c, "Superviseur", json!({}));
    crate::positions::post_position(&app, &c.partner, &body).await;
    // Nothing refused was written.
    assert_eq!(crate::common::count(&app, "SELECT COUNT(*) FROM applications").await, 4);

    // Behind no trusted proxy, the header is ignored: the peer (127.0.0.1) is the client.
    let Some(direct) = spawn_with(backend, |_, s| s.anon_writes_per_minute = 2).await else {
        return;
    };
    let c = crate::positions::campaign(&direct).await;
    let body = crate::positions::position_body(&c, "Téléconseiller", json!({}));
    let pid = crate::positions::id(&crate::positions::post_position(&direct, &c.partner, &body).await);
    let mut statuses = Vec::new();
    for i in 0..3 {
        let res = direct
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/positions/{pid}/applications"),
                None,
            )
            .header("x-forwarded-for", format!("192.0.2.{i}"))
            .json(&crate::applications::application_body(&format!("d{i}@example.org")))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    if chrono::Utc::now().timestamp().rem_euclid(60) > 2 {
        assert_eq!(statuses, [201, 201, 429]);
    }
}

async fn the_scaled_demo_loads_idempotently(app: TestApp) {
    let report = jobtour_api::demo::load(&app.db).await.unwrap();
    let club = report.club_id.unwrap();
    let first_day = jobtour_api::demo::demo_start(chrono::Utc::now().date_naive());
    let loaded = jobtour_api::demo::scale::load(&app.db, 2_500, club, first_day)
        .await
        .unwrap();
    assert_eq!(
        (loaded.tours, loaded.employers, loaded.positions, loaded.applications),
        (1, 20, 2_500, 250)
    );
    let again = jobtour_api::demo::scale::load(&app.db, 2_500, club, first_day)
        .await
        .unwrap();
    assert_eq!(
        (again.tours, again.employers, again.positions, again.applications),
        (0, 0, 0, 0)
    );
    let more = jobtour_api::demo::scale::load(&app.db, 3_000, club, first_day)
        .await
        .unwrap();
    assert_eq!(more.positions, 500);

    // The public sees them, filtered and searched like any other.
    let open = crate::common::count(&app, "SELECT COUNT(*) FROM positions WHERE status = 'open'").await;
    assert!(open >= 3_000);
    let page = expect_json(
        app.get("/api/v1/positions?q=conseiller&contract_type=cdi&limit=50", None)
            .await,
        StatusCode::OK,
    )
    .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert!(items.iter().all(|p| p["contract_type"] == "cdi"));
    assert!(items.iter().all(|p| {
        let text = format!("{} {}", p["title"], p["description"]).to_lowercase();
        text.contains("conseil")
    }));
    let tour = items[0]["tour_id"].as_str().unwrap();
    let stops = expect_json(
        app.get(&format!("/api/v1/tours/{tour}/stops"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stops["items"].as_array().unwrap().len(), 5);
}

/// Slowloris: hundreds of connections that send half a request head and then nothing do not
/// keep others from being served, and the server closes them after its client timeout (10 s).
async fn slow_clients_do_not_starve_the_others(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /api/v1/tours HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(s);
    }
    let started = std::time::Instant::now();
    for _ in 0..20 {
        assert_eq!(app.get("/api/v1/tours", None).await.status(), StatusCode::OK);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "served beside the slow ones"
    );
    // Each slow connection is answered 408 and closed once the timeout has run out.
    let mut first = slow.swap_remove(0);
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), first.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server closed the slow connection");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
}
