//! Email receipts (issue 17) end to end with a real SMTP server: aiosmtpd, from a virtualenv
//! under the target directory (installed from PyPI when missing), writes every message it
//! receives into a maildir. A real sync-server process (embedded store) is configured with its
//! `smtp_url`; a real pos-core till sells and queues an email while offline (before its sync
//! client runs): nothing goes out. Once online the till's queue hands it over (the server may
//! first answer `not_synced` until the sale arrives) and exactly one message arrives, with a
//! plain-text and an HTML body, to the customer, with the store's name and receipt number in
//! the subject and the receipt's link; a retry of the same send sends nothing more; a bad
//! address is refused in words (by the till and by the server); another store's till cannot
//! send this store's receipt; and once the store's retention is 0 days the address is gone from
//! the server's send log and the till's queue.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pos_core::Terminal;
use pos_core::enrolment::enrol;
use pos_core::receipt_mail::{SendId, SendState};
use pos_core::shared_model::sale::Sale;
use pos_core::sync::client::{SyncClient, SyncConfig};
use serde_json::{Value, json};
use snapkasir_tests::processes::{ServerProcess, api_token, create_tenant_args, http_client};
use sync_server::storage::SqliteStorage;
use sync_server::storage::prelude::*;

type Till = Arc<Mutex<Terminal>>;

/// The SMTP server the test runs, pinned.
const AIOSMTPD: &str = "aiosmtpd==1.4.6";

fn lock(t: &Till) -> std::sync::MutexGuard<'_, Terminal> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

/// The virtualenv's python with aiosmtpd, installed when missing.
fn smtpd_python() -> PathBuf {
    snapkasir_tests::pypi::venv_program("aiosmtpd-venv", AIOSMTPD, "python")
}

/// aiosmtpd on a loopback port, delivering into a maildir; killed when dropped.
struct Smtpd {
    child: Child,
    port: u16,
    maildir: PathBuf,
    python: PathBuf,
}

impl Smtpd {
    fn start(dir: &Path) -> Smtpd {
        let python = smtpd_python();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let maildir = dir.join("maildir");
        let log = std::fs::File::create(dir.join("smtpd.log")).unwrap();
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start aiosmtpd");
        let smtpd = Smtpd {
            child,
            port,
            maildir,
            python,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen in 20 s; see {}",
                dir.join("smtpd.log").display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        smtpd
    }

    /// The messages received, each parsed by Python's `email` package: `from`, `to`,
    /// `subject`, `content_type` and its `parts` (`type`, decoded `body`).
    fn messages(&self) -> Vec<Value> {
        let new = self.maildir.join("new");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&new)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|f| {
                let out = Command::new(&self.python)
                    .arg("-c")
                    .arg(PARSE)
                    .arg(f)
                    .output()
                    .expect("python parses the message");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                serde_json::from_slice(&out.stdout).expect("json")
            })
            .collect()
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const PARSE: &str = r#"
import email, email.policy, json, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
parts = [{"type": p.get_content_type(), "body": p.get_content()} for p in m.walk() if not p.is_multipart()]
print(json.dumps({"from": str(m["from"]), "to": str(m["to"]), "subject": str(m["subject"]),
                  "content_type": m.get_content_type(), "parts": parts}))
"#;

/// Sells one "Aqua" in cash.
fn sell(t: &Till) -> Sale {
    snapkasir_tests::demo_sale::sell(&mut lock(t), &["Aqua"], Vec::new())
}

fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `POST /api/v1/terminal/receipts/email` with `credential`: status and JSON body.
fn post_email(
    rt: &tokio::runtime::Runtime,
    base: &str,
    credential: &str,
    body: Value,
) -> (u16, Value) {
    rt.block_on(async {
        let r = http_client()
            .post(format!("{base}/api/v1/terminal/receipts/email"))
            .bearer_auth(credential)
            .json(&body)
            .send()
            .await
            .expect("request");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    })
}

#[test]
fn a_receipt_queued_offline_is_emailed_once_when_online_and_the_address_is_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let smtpd = Smtpd::start(dir.path());
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "smtp_url = \"smtp://127.0.0.1:{}\"\nsmtp_from = \"SnapKasir <struk@toko.example>\"\n\
             contact_purge_interval_secs = 1\n",
            smtpd.port
        ),
    )
    .unwrap();
    let data = dir.path().join("server-data");
    std::fs::create_dir_all(&data).unwrap();
    let server = ServerProcess::start_with(
        &[
            "--data-dir".into(),
            data.display().to_string(),
            "--config".into(),
            config.display().to_string(),
        ],
        &[],
        "127.0.0.1:0",
        &dir.path().join("server.log"),
    );
    let base = server.url();
    let made = server.admin(&create_tenant_args(
        "Surel",
        "SRL",
        "Toko Surel",
        "owner@surel.test",
    ));
    let store_id = made["store_id"].as_str().unwrap().to_string();
    let code = server.enrollment_code(&store_id, "Kasir 1");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let till: Till = Arc::new(Mutex::new(
        Terminal::open(dir.path().join("t1.db")).unwrap(),
    ));
    rt.block_on(enrol(&till, &base, &code, true))
        .expect("enrols");
    let sale = sell(&till);
    let token = sale.receipt_token.clone().expect("a receipt token");

    // The till refuses a mistyped address in words; nothing is queued.
    let bad = lock(&till)
        .queue_receipt_email(sale.id, "budi@pelanggan", "id")
        .unwrap_err();
    assert!(bad.to_string().contains("not an email address"), "{bad}");

    // Offline (no sync client yet, the sale is not on the server): queued, nothing sent.
    let customer = "budi@pelanggan.example";
    let send: SendId = lock(&till)
        .queue_receipt_email(sale.id, customer, "id")
        .unwrap();
    let queued = lock(&till).receipt_sends(sale.id).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].state, SendState::Waiting);
    std::thread::sleep(Duration::from_secs(1));
    assert!(smtpd.messages().is_empty());

    // Online: the sale syncs, the queue hands the send over, the customer gets one message.
    let client = {
        let _inside = rt.enter();
        let (enrolment, credential) = lock(&till).enrolment().unwrap().unwrap();
        let mut config = SyncConfig::new(&enrolment.server_url, credential);
        config.poll_interval = Duration::from_millis(50);
        config.heartbeat_interval = Duration::from_millis(200);
        config.email_interval = Duration::from_millis(100);
        SyncClient::start(till.clone(), config)
    };
    wait_for("the email sent", 60, || {
        lock(&till)
            .receipt_send(&send)
            .unwrap()
            .is_some_and(|s| s.state == SendState::Sent)
    });
    let messages = smtpd.messages();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let m = &messages[0];
    assert_eq!(m["to"], customer);
    assert_eq!(m["from"], "SnapKasir <struk@toko.example>");
    assert_eq!(
        m["subject"],
        format!("Struk Toko Surel {}", sale.receipt_no)
    );
    assert_eq!(m["content_type"], "multipart/alternative");
    let link = format!("{base}/r/{token}");
    let types: Vec<&str> = m["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["text/plain", "text/html"]);
    for part in m["parts"].as_array().unwrap() {
        let body = part["body"].as_str().unwrap();
        assert!(body.contains("Toko Surel"), "{body}");
        assert!(body.contains(&sale.receipt_no.to_string()), "{body}");
        assert!(body.contains(&link), "{link} missing from {body}");
        assert!(body.contains("Tunai"), "{body}");
    }

    // A retry of the same send (the till lost the answer) sends nothing more.
    let (_, credential) = lock(&till).enrolment().unwrap().unwrap();
    let (status, answer) = post_email(
        &rt,
        &base,
        &credential.0,
        json!({"send_id": send.0, "receipt_token": token, "email": customer, "lang": "id"}),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "sent");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(smtpd.messages().len(), 1);

    // A bad address is refused by the server in words.
    let (status, answer) = post_email(
        &rt,
        &base,
        &credential.0,
        json!({"send_id": uuid_v4(), "receipt_token": token, "email": "budi at pelanggan", "lang": "id"}),
    );
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("not an email address"),
        "{answer}"
    );

    // Another store's till cannot send this store's receipt: as if it did not exist.
    let other = server.admin(&create_tenant_args(
        "Lain",
        "LAIN",
        "Toko Lain",
        "owner@lain.test",
    ));
    let other_till = server.enroll(&rt, other["store_id"].as_str().unwrap(), "Kasir B");
    let (status, answer) = post_email(
        &rt,
        &base,
        other_till["device_credential"].as_str().unwrap(),
        json!({"send_id": uuid_v4(), "receipt_token": token, "email": customer, "lang": "en"}),
    );
    assert_eq!(status, 404, "{answer}");
    assert_eq!(smtpd.messages().len(), 1);

    // The server kept the address for the store's retention (30 days by default)…
    let storage = rt.block_on(SqliteStorage::open(&data)).unwrap();
    let row = rt
        .block_on(storage.receipt_email(&send.0))
        .unwrap()
        .expect("the send is logged");
    assert_eq!(row.state, "sent");
    assert_eq!(row.email.as_deref(), Some(customer));
    // …until the store keeps contacts 0 days: gone from the server's log and the till's queue.
    rt.block_on(async {
        let client = http_client();
        let token = api_token(&client, &base, "owner@surel.test", "rahasia-panjang-1").await;
        let r = client
            .patch(format!("{base}/api/v1/stores/{store_id}/settings"))
            .bearer_auth(token)
            .json(&json!({"contact_retention_days": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    });
    wait_for("the server to forget the address", 30, || {
        rt.block_on(storage.receipt_email(&send.0))
            .unwrap()
            .is_some_and(|r| r.email.is_none())
    });
    wait_for("the till to forget the address", 30, || {
        lock(&till)
            .receipt_send(&send)
            .unwrap()
            .is_some_and(|s| s.email.is_none())
    });
    drop(client);
}

/// A fresh send id.
fn uuid_v4() -> String {
    let bytes: [u8; 16] = rand::random();
    let h: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}
