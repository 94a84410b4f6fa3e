//! Terminal sync over TLS (issue #5) against the real `sync-server` binary on SQLite: the server
//! serves https and wss with a certificate from a CA made for the test; a terminal given that
//! CA's file syncs a sale over wss and has it acknowledged by the https heartbeat; a terminal
//! without it never connects and says the certificate is not trusted; plain http still works.
//! The terminals are pos-core in this process.
//!
//! Needs `cargo build -p sync-server` first (scripts/test builds the whole workspace).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::catalog::Product;
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::Tender;
use pos_core::shared_model::settings::StoreSettings;
use pos_core::shared_model::users::Role;
use pos_core::sync::SyncStatus;
use pos_core::sync::client::{DeviceCredential, SyncClient, SyncConfig};
use pos_core::{NewStore, Terminal};
use snapkasir_tests::processes::{ServerProcess, create_tenant_args};

/// A CA (`ca.pem`) and the server's certificate and key for 127.0.0.1 and localhost
/// (`cert.pem`, `key.pem`), all in `dir`.
fn make_certificates(dir: &Path) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Toko Uji CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
}

fn start_server(dir: &Path, tls: bool) -> ServerProcess {
    let db = vec![
        "--data-dir".to_string(),
        dir.join("server").display().to_string(),
    ];
    let serve: Vec<String> = if tls {
        vec![
            "--tls-cert".into(),
            dir.join("cert.pem").display().to_string(),
            "--tls-key".into(),
            dir.join("key.pem").display().to_string(),
        ]
    } else {
        Vec::new()
    };
    let mut server = ServerProcess::start_with(&db, &serve, "127.0.0.1:0", &dir.join("server.log"));
    if tls {
        server.ca_file = Some(dir.join("ca.pem"));
    }
    server
}

/// A store on the server and its first terminal: the store's id and code.
fn create_store(server: &ServerProcess, code: &str) -> (String, String) {
    let owner_email = format!("owner-{code}@example.com");
    let made = server.admin(&create_tenant_args(code, code, code, &owner_email));
    (made["store_id"].as_str().unwrap().to_string(), code.into())
}

struct Till {
    terminal: Arc<Mutex<Terminal>>,
    sale_id: String,
}

/// A terminal of the store with one sale waiting for the server.
fn till(dir: &Path, store: &(String, String), terminal_code: &str) -> Till {
    std::fs::create_dir_all(dir).unwrap();
    let mut t = Terminal::open(dir.join(format!("{terminal_code}.db"))).unwrap();
    t.create_store(NewStore {
        store_id: store.0.clone(),
        store_code: store.1.clone(),
        terminal_code: terminal_code.into(),
        settings: StoreSettings::indonesia("Toko Uji", "Jl. Uji 1"),
    })
    .unwrap();
    let cashier = t.add_user("Siti", Role::Manager, "1234").unwrap();
    t.start_shift(cashier.id, Money::from_i64(100_000)).unwrap();
    let p = t
        .create_product(Product::new(
            "AQ",
            "Aqua",
            Money::from_i64(4_000),
            "standard",
        ))
        .unwrap();
    let mut cart = Cart::new();
    t.cart_add_product(&mut cart, p.id, None, Quantity::ONE)
        .unwrap();
    let total = t.price(&cart).unwrap().total();
    let sale = t
        .checkout(&cart, &[Tender::cash(total)], cashier.id, None)
        .unwrap();
    Till {
        terminal: Arc::new(Mutex::new(t)),
        sale_id: sale.id.to_string(),
    }
}

fn sync_config(url: &str, credential: &str, ca_file: Option<PathBuf>) -> SyncConfig {
    let mut config = SyncConfig::new(url, DeviceCredential(credential.into()));
    config.ca_file = ca_file;
    config.max_backoff = Duration::from_millis(500);
    config.heartbeat_interval = Duration::from_millis(200);
    config.poll_interval = Duration::from_millis(100);
    config
}

async fn wait_for(client: &SyncClient, what: &str, f: impl Fn(&SyncStatus) -> bool) -> SyncStatus {
    let mut rx = client.subscribe();
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let s = rx.borrow_and_update().clone();
            if f(&s) {
                return s;
            }
            rx.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}: {:?}", client.status()))
}

/// Syncs `till` with the server at `url` until the server has acknowledged its sale.
fn sale_is_acknowledged(
    rt: &tokio::runtime::Runtime,
    till: &Till,
    url: &str,
    credential: &str,
    ca_file: Option<PathBuf>,
) {
    let _in_runtime = rt.enter();
    let client = SyncClient::start(till.terminal.clone(), sync_config(url, credential, ca_file));
    let status = rt.block_on(wait_for(&client, "the sale's acknowledgement", |s| {
        s.online && s.waiting_sales == 0
    }));
    assert_eq!(status.last_error, None, "{status:?}");
    let acked = till
        .terminal
        .lock()
        .unwrap()
        .on_server_since(&till.sale_id)
        .unwrap();
    assert!(acked.is_some(), "{url}: sale not acknowledged: {status:?}");
    rt.block_on(client.stop());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_terminal_with_the_stores_ca_syncs_over_wss_and_one_without_it_is_told_why() {
    let dir = tempfile_dir();
    make_certificates(&dir);
    let rt = runtime();
    let server = start_server(&dir, true);
    assert_eq!(server.scheme, "https");
    let store = create_store(&server, "TLS1");

    let trusting = till(&dir, &store, "T1");
    let enrolled = server.enroll(&rt, &store.0, "T1");
    let credential = enrolled["device_credential"].as_str().unwrap();
    sale_is_acknowledged(
        &rt,
        &trusting,
        &server.url(),
        credential,
        Some(dir.join("ca.pem")),
    );

    // The same server and credential without the CA file: no connection, and the reason.
    let doubting = till(&dir, &store, "T2");
    let enrolled = server.enroll(&rt, &store.0, "T2");
    let credential = enrolled["device_credential"].as_str().unwrap();
    let _in_runtime = rt.enter();
    let client = SyncClient::start(
        doubting.terminal.clone(),
        sync_config(&server.url(), credential, None),
    );
    let status = rt.block_on(wait_for(&client, "the certificate error", |s| {
        s.last_error.is_some()
    }));
    let error = status.last_error.clone().unwrap();
    assert!(error.contains("server certificate not trusted"), "{error}");
    assert!(!status.online);
    assert_eq!(status.waiting_sales, 1, "{status:?}");
    rt.block_on(client.stop());

    // TLS does not get in the way of a graceful shutdown.
    let exit = server.terminate();
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn plain_http_still_syncs() {
    let dir = tempfile_dir();
    let rt = runtime();
    let server = start_server(&dir, false);
    assert_eq!(server.scheme, "http");
    let store = create_store(&server, "PLAIN1");
    let t = till(&dir, &store, "T1");
    let enrolled = server.enroll(&rt, &store.0, "T1");
    let credential = enrolled["device_credential"].as_str().unwrap();
    sale_is_acknowledged(&rt, &t, &server.url(), credential, None);
    // ws:// as the configured URL works as well (another store's first terminal).
    let store = create_store(&server, "PLAIN2");
    let t2 = till(&dir.join("plain2"), &store, "T1");
    let enrolled = server.enroll(&rt, &store.0, "T1");
    let credential = enrolled["device_credential"].as_str().unwrap();
    let ws_url = format!("ws://{}", server.addr);
    sale_is_acknowledged(&rt, &t2, &ws_url, credential, None);
}

/// A fresh directory under the system's temporary directory, kept after the test for its logs.
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "snapkasir-tls-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
