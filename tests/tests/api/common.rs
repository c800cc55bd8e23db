//! The harness: the real server on a random port over a fresh database (an SQLite file or a
//! new PostgreSQL database), and an HTTP client that talks to it.

use jobtour_api::config::{DbSettings, ServeSettings};
use jobtour_api::db::Db;
use jobtour_api::routes::users::{NewUser, create_user};
use jobtour_api::startup::Application;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::path::PathBuf;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(TestApp)` once per backend, as `<name>::sqlite` and `<name>::postgres`.
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = crate::common::spawn(crate::common::Backend::Sqlite).await {
                    super::$name(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = crate::common::spawn(crate::common::Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    )*};
}
pub(crate) use both;

/// Runs each named `async fn(Backend)` once per backend, for tests that start their servers
/// themselves (with settings of their own, several servers…).
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(crate::common::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(crate::common::Backend::Postgres).await;
            }
        }
    )*};
}
pub(crate) use per_backend;

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    /// Bearer token of an organiser created at start.
    pub organiser: String,
    settings: (DbSettings, ServeSettings),
    _database: DatabaseGuard,
}

pub async fn spawn(backend: Backend) -> Option<TestApp> {
    spawn_with(backend, |_, _| {}).await
}

/// Like [`spawn`], with the settings adjusted first.
pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut DbSettings, &mut ServeSettings)) -> Option<TestApp> {
    if std::env::var_os("TEST_LOG").is_some() {
        jobtour_api::telemetry::init(jobtour_api::config::LogFormat::Pretty);
    }
    let guard = DatabaseGuard::create(backend).await?;
    let mut db_settings = DbSettings {
        database_url: Some(guard.url.clone()),
        db_pool_size: 5,
        db_acquire_timeout_ms: 5000,
    };
    let mut serve = ServeSettings::on("127.0.0.1:0".parse().expect("address"));
    serve.workers = 2;
    // The outbox at test pace: looked at every 50 ms, a failed delivery retried after 100 ms.
    serve.notify.outbox_poll_ms = 50;
    serve.notify.outbox_retry_base_ms = 100;
    // Tests fire hundreds of candidate writes from one address; the limit has its own test.
    serve.anon_writes_per_minute = 0;
    adjust(&mut db_settings, &mut serve);
    let settings = (db_settings.clone(), serve.clone());
    let app = Application::build(&db_settings, serve)
        .await
        .expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());

    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("client");
    let email = format!("organiser-{}@jobtour.example", Uuid::now_v7().simple());
    create_user(
        &db,
        NewUser {
            email: email.clone(),
            password: PASSWORD.into(),
            role: "organiser".into(),
            organisation_id: None,
        },
    )
    .await
    .expect("organiser created");
    let mut app = TestApp {
        address,
        client,
        db,
        organiser: String::new(),
        settings,
        _database: guard,
    };
    app.organiser = app.login(&email, PASSWORD).await;
    Some(app)
}

impl TestApp {
    /// Starts another server over the same database, with the same settings; its address.
    pub async fn another_server(&self) -> String {
        let (db, serve) = self.settings.clone();
        let app = Application::build(&db, serve).await.expect("the second server starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        address
    }

    /// The database's URL (an SQLite file or a PostgreSQL database of its own).
    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    /// Everything the database holds, as text: `pg_dump` of the PostgreSQL database, or the
    /// bytes of the SQLite file and its write-ahead log.
    pub fn dump(&self) -> String {
        let url = self.database_url();
        match url.strip_prefix("sqlite://") {
            Some(path) => {
                let mut bytes = std::fs::read(path).expect("the SQLite file");
                bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
                String::from_utf8_lossy(&bytes).into_owned()
            }
            None => {
                let out = std::process::Command::new("pg_dump")
                    .arg("--data-only")
                    .arg(url)
                    .output()
                    .expect("pg_dump runs");
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                String::from_utf8(out.stdout).expect("a text dump")
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request, with the bearer token when given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let req = self.client.request(method, self.url(path));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token).send().await.expect("GET")
    }

    pub async fn send_json(&self, method: Method, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(method, path, token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send_json(Method::POST, path, token, body).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send_json(Method::PATCH, path, token, body).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token).send().await.expect("DELETE")
    }

    /// Logs in and returns the token; panics if the login is refused.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let res = self
            .post(
                "/api/v1/auth/login",
                None,
                &json!({ "email": email, "password": password }),
            )
            .await;
        let body = expect_json(res, StatusCode::OK).await;
        body["token"].as_str().expect("token").to_owned()
    }

    /// Creates an organisation as the organiser; returns its JSON.
    pub async fn create_organisation(&self, name: &str) -> Value {
        let res = self
            .post(
                "/api/v1/organisations",
                Some(&self.organiser),
                &json!({ "name": name, "kind": "employer" }),
            )
            .await;
        expect_json(res, StatusCode::CREATED).await
    }

    /// Creates a partner user of `organisation_id` and logs it in: `(user JSON, token)`.
    pub async fn partner_of(&self, organisation_id: &str) -> (Value, String) {
        let email = format!("partner-{}@example.org", Uuid::now_v7().simple());
        let res = self
            .post(
                "/api/v1/users",
                Some(&self.organiser),
                &json!({ "email": email, "password": PASSWORD, "role": "partner", "organisation_id": organisation_id }),
            )
            .await;
        let user = expect_json(res, StatusCode::CREATED).await;
        let token = self.login(&email, PASSWORD).await;
        (user, token)
    }
}

/// The one number a SQL query answers (`SELECT count(*) …`), straight from the database.
pub async fn count(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::Statement;
    let backend = app.db.backend();
    let row = app
        .db
        .conn()
        .query_one_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a number")
}

/// Asserts the status and returns the JSON body.
pub async fn expect_json(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The fields a validation problem names, in its order.
pub fn error_fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect()
}

/// Asserts a problem+json answer with this status and code; returns the problem.
pub async fn expect_problem(res: Response, status: StatusCode, code: &str) -> Value {
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let problem = expect_json(res, status).await;
    assert_eq!(content_type, "application/problem+json", "problem: {problem}");
    assert_eq!(problem["code"], code, "problem: {problem}");
    assert_eq!(problem["status"], status.as_u16());
    assert_eq!(problem["type"], format!("urn:jobtour:problem:{code}"));
    assert!(
        problem["title"].is_string() && problem["detail"].is_string(),
        "problem: {problem}"
    );
    problem
}

/// A fresh database that is removed when the test ends.
struct DatabaseGuard {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl DatabaseGuard {
    async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join("jobtour-tests");
                std::fs::create_dir_all(&dir).expect("temp dir");
                let path = dir.join(format!("{}.db", Uuid::now_v7().simple()));
                Some(Self {
                    url: format!("sqlite://{}", path.display()),
                    cleanup: Cleanup::File(path),
                })
            }
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_DATABASE_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
                let admin = match Database::connect(&admin_url).await {
                    Ok(conn) => conn,
                    Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                        panic!("CI=true but PostgreSQL is unreachable at {admin_url}: {e}")
                    }
                    Err(e) => {
                        eprintln!(
                            "skipping: PostgreSQL unreachable at {admin_url} ({e}); set CI=true to make this fail"
                        );
                        return None;
                    }
                };
                let name = format!("jobtour_test_{}", Uuid::now_v7().simple());
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                let _ = admin.close().await;
                let (base, query) = admin_url
                    .split_once('?')
                    .map_or((admin_url.as_str(), ""), |(b, q)| (b, q));
                let (server, _) = base.rsplit_once('/').expect("database URL has a path");
                let url = if query.is_empty() {
                    format!("{server}/{name}")
                } else {
                    format!("{server}/{name}?{query}")
                };
                Some(Self {
                    url,
                    cleanup: Cleanup::Postgres { admin_url, name },
                })
            }
        }
    }
}

impl Drop for DatabaseGuard {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: do the async clean-up on a thread of its own.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                        return;
                    };
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}
