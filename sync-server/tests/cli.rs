//! The real binary: migrate, admin subcommands, serve on a free port with
//! readiness on stdout, graceful shutdown on SIGTERM; both backends.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sync-server");

fn run(args: &[&str], db_args: &[String]) -> String {
    let out = Command::new(BIN)
        .args(db_args)
        .args(args)
        .env("SNAPKASIR_LOG", "warn")
        .env_remove("SNAPKASIR_DATABASE_URL")
        .output()
        .expect("run sync-server");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn http_get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

fn story(db_args: Vec<String>) {
    run(&["migrate"], &db_args);
    run(&["migrate"], &db_args);
    let email = format!("o-{}@example.com", uuid::Uuid::now_v7().simple());
    let out = run(
        &[
            "admin",
            "create-tenant",
            "--tenant-name",
            "Toko",
            "--store-code",
            "S1",
            "--store-name",
            "Satu",
            "--owner-email",
            &email,
            "--owner-password",
            "rahasia-123",
        ],
        &db_args,
    );
    let b: serde_json::Value = serde_json::from_str(&out).unwrap();
    let store_id = b["store_id"].as_str().unwrap();
    let out = run(
        &[
            "admin",
            "enrollment-code",
            "--store-id",
            store_id,
            "--terminal-name",
            "K1",
        ],
        &db_args,
    );
    let code: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code["code"].as_str().unwrap().len(), 14);
    // No store has a root yet: nothing is due.
    let out = run(&["admin", "write-baselines"], &db_args);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap(),
        serde_json::json!([])
    );

    let mut child = Command::new(BIN)
        .args(&db_args)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SNAPKASIR_LOG", "warn")
        .env_remove("SNAPKASIR_DATABASE_URL")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("readiness line: {line:?}"))
        .to_string();
    assert!(http_get(&addr, "/healthz").starts_with("HTTP/1.1 200"));
    assert!(http_get(&addr, "/readyz").starts_with("HTTP/1.1 200"));

    // Enrol over HTTP, then revoke with the admin command.
    let body = format!(r#"{{"code":"{}"}}"#, code["code"].as_str().unwrap());
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /api/v1/terminals/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let json: serde_json::Value =
        serde_json::from_str(resp.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let terminal_id = json["terminal_id"].as_str().unwrap();
    let out = run(
        &["admin", "revoke-terminal", "--terminal-id", terminal_id],
        &db_args,
    );
    assert!(out.contains("revoked"));

    // SIGTERM: graceful shutdown, exit status 0.
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn binary_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    story(vec!["--data-dir".into(), dir.path().display().to_string()]);
    assert!(dir.path().join("snapkasir-server.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_on_postgres() {
    let db = common::TestDb::create().await;
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || story(vec!["--database-url".into(), url]))
        .await
        .unwrap();
}

#[test]
fn serve_refuses_to_start_with_a_bad_tls_certificate_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-cert.pem");
    let out = Command::new(BIN)
        .args(["--data-dir", &dir.path().display().to_string()])
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&missing)
        .arg("--tls-key")
        .arg(dir.path().join("key.pem"))
        .env("SNAPKASIR_LOG", "warn")
        .env_remove("SNAPKASIR_DATABASE_URL")
        .output()
        .expect("run sync-server");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read the TLS certificate") && stderr.contains("no-such-cert.pem"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "it must not say it is listening");
    // A certificate without its key is refused by the flags already.
    let out = Command::new(BIN)
        .args(["serve", "--tls-cert"])
        .arg(&missing)
        .output()
        .expect("run sync-server");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key"));
}

#[test]
fn logs_written_to_a_file_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let status = Command::new(BIN)
        .args(["--data-dir", &dir.path().display().to_string(), "migrate"])
        .env("SNAPKASIR_LOG", "info")
        .env_remove("SNAPKASIR_LOG_FORMAT")
        .env_remove("SNAPKASIR_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .status()
        .expect("run sync-server");
    assert!(status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("storage: embedded sqlite"), "{text:?}");
    assert!(
        !text.contains("\x1b["),
        "colour codes in a log file: {text:?}"
    );
}
