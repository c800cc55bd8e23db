//! The `jobtour` binary: settings, user creation, JSON logs, shutdown on SIGTERM.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_jobtour");

fn temp_db() -> (String, std::path::PathBuf) {
    let dir = std::env::temp_dir()
        .join("jobtour-cli-tests")
        .join(uuid::Uuid::now_v7().simple().to_string());
    std::fs::create_dir_all(&dir).unwrap();
    (format!("sqlite://{}/jobtour.db", dir.display()), dir)
}

fn jobtour(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env("JOBTOUR_LOG_FORMAT", "json");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null()).output().unwrap()
}

#[test]
fn help_lists_every_setting() {
    let out = jobtour(&["serve", "--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for setting in [
        "DATABASE_URL",
        "JOBTOUR_BIND",
        "JOBTOUR_CORS_ORIGINS",
        "JOBTOUR_LOG_FORMAT",
        "JOBTOUR_DB_POOL_SIZE",
        "JOBTOUR_DB_ACQUIRE_TIMEOUT_MS",
        "JOBTOUR_WORKERS",
        "JOBTOUR_TOKEN_TTL_MINUTES",
        "JOBTOUR_SHUTDOWN_TIMEOUT_SECS",
        "--no-migrate",
    ] {
        assert!(
            help.contains(setting),
            "`serve --help` does not mention {setting}:\n{help}"
        );
    }
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    for (name, value) in [
        ("JOBTOUR_DB_POOL_SIZE", "lots"),
        ("JOBTOUR_BIND", "nowhere"),
        ("DATABASE_URL", "mysql://x"),
        ("JOBTOUR_CORS_ORIGINS", "partners.example.org"),
        ("JOBTOUR_LOG_FORMAT", "xml"),
    ] {
        let out = jobtour(&["serve"], &[(name, value)]);
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        let first = err.lines().next().unwrap_or_default();
        assert!(first.starts_with("error:") && first.contains(name), "{name}: {err}");
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    }
    let out = jobtour(
        &["migrate"],
        &[
            ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
            ("JOBTOUR_DB_ACQUIRE_TIMEOUT_MS", "500"),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{err}");
    assert!(err.contains("PostgreSQL") && !err.contains("panicked"), "{err}");
}

#[test]
fn user_create_takes_the_password_from_the_environment_or_stdin() {
    let (url, dir) = temp_db();
    let out = jobtour(
        &["user", "create", "--email", "First@Example.org", "--role", "organiser"],
        &[("DATABASE_URL", &url), ("JOBTOUR_PASSWORD", "a long enough password")],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("organiser first@example.org")
    );

    let mut child = Command::new(BIN)
        .args([
            "user",
            "create",
            "--email",
            "second@example.org",
            "--role",
            "organiser",
            "--password-stdin",
        ])
        .env("DATABASE_URL", &url)
        .env_remove("JOBTOUR_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"another long password\n")
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());

    let again = jobtour(
        &[
            "user",
            "create",
            "--email",
            "FIRST@example.org",
            "--role",
            "organiser",
            "--password",
            "whatever password",
        ],
        &[("DATABASE_URL", &url)],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8(again.stderr).unwrap().contains("already exists"));

    let weak = jobtour(
        &[
            "user",
            "create",
            "--email",
            "x@example.org",
            "--role",
            "partner",
            "--password",
            "short",
        ],
        &[("DATABASE_URL", &url)],
    );
    let err = String::from_utf8(weak.stderr).unwrap();
    assert!(err.contains("password") && err.contains("organisation_id"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

fn http_get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn serve_logs_json_with_request_ids_and_stops_cleanly_on_sigterm() {
    let (url, dir) = temp_db();
    let mut child = Command::new(BIN)
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("JOBTOUR_BIND", "127.0.0.1:0")
        .env("JOBTOUR_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = Instant::now();
    let port = loop {
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        let line = lines.next().unwrap().unwrap();
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
            panic!("not JSON: {line}")
        };
        if event["message"] == "serving" {
            break event["port"].as_u64().unwrap() as u16;
        }
    };
    let answer = http_get(port, "/healthz");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let request_id = answer
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .unwrap()
        .trim()
        .to_owned();

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let logged_request = rest.iter().any(|l| {
        serde_json::from_str::<serde_json::Value>(l)
            .is_ok_and(|e| e["span"]["request_id"] == request_id.as_str() && e["status"] == 200)
    });
    assert!(
        logged_request,
        "no JSON log line with request id {request_id}:\n{}",
        rest.join("\n")
    );
    assert!(rest.iter().any(|l| l.contains("\"stopped\"")), "{}", rest.join("\n"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn purge_counts_on_a_dry_run_then_erases() {
    let (url, dir) = temp_db();
    let env = [("DATABASE_URL", url.as_str())];
    assert!(jobtour(&["demo"], &env).status.success());
    let later = ["purge", "--now", "2100-01-01T00:00:00Z"];
    let dry = jobtour(&[&later[..], &["--dry-run"]].concat(), &env);
    let out = String::from_utf8(dry.stdout).unwrap();
    assert!(dry.status.success(), "{out}");
    assert!(
        out.starts_with("would erase the personal data of 300 application(s)"),
        "{out}"
    );
    let early = jobtour(&["purge", "--now", "2026-01-01T00:00:00Z"], &env);
    assert!(
        String::from_utf8(early.stdout)
            .unwrap()
            .starts_with("erased the personal data of 0 application(s)")
    );
    let real = jobtour(&later, &env);
    assert!(
        String::from_utf8(real.stdout)
            .unwrap()
            .starts_with("erased the personal data of 300 application(s)")
    );
    let again = jobtour(&later, &env);
    assert!(
        String::from_utf8(again.stdout)
            .unwrap()
            .starts_with("erased the personal data of 0 application(s)")
    );
    let bad = jobtour(&["purge", "--now", "yesterday"], &env);
    assert!(!bad.status.success());
    let _ = std::fs::remove_dir_all(dir);
}
