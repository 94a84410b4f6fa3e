//! An `https://` sync server the terminal does not trust: the status says so in plain words and
//! the client keeps trying with its backoff. The server is a real rustls listener on loopback
//! with a CA and certificate made for the test; `snapkasir-tests`' tests/tls.rs runs a whole sync
//! over wss against the real sync server.

mod common;

use common::new_terminal;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pos_core::Terminal;
use pos_core::sync::SyncStatus;
use pos_core::sync::client::{DeviceCredential, SyncClient, SyncConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A CA (its PEM written to `ca.pem` in `dir`) and a server certificate it signed for
/// 127.0.0.1 and localhost.
fn test_ca(dir: &Path) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Toko Uji CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    (
        vec![cert.der().clone()],
        PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).unwrap(),
    )
}

/// A TLS listener that counts connection attempts and completed handshakes, then hangs up.
struct TlsServer {
    addr: std::net::SocketAddr,
    attempts: Arc<AtomicUsize>,
    handshakes: Arc<AtomicUsize>,
}

async fn tls_server(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> TlsServer {
    let config = rustls::ServerConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let attempts = Arc::new(AtomicUsize::new(0));
    let handshakes = Arc::new(AtomicUsize::new(0));
    let (a, h) = (attempts.clone(), handshakes.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let h = h.clone();
            tokio::spawn(async move {
                if acceptor.accept(stream).await.is_ok() {
                    h.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    TlsServer {
        addr,
        attempts,
        handshakes,
    }
}

fn terminal(dir: &Path) -> Arc<Mutex<Terminal>> {
    std::fs::create_dir_all(dir).unwrap();
    let t = new_terminal(&dir.join("t.db"), "T1");
    Arc::new(Mutex::new(t))
}

fn config(url: &str) -> SyncConfig {
    let mut config = SyncConfig::new(url, DeviceCredential("skd_test".into()));
    config.min_backoff = Duration::from_millis(50);
    config.max_backoff = Duration::from_millis(200);
    config
}

async fn wait_for(client: &SyncClient, what: &str, f: impl Fn(&SyncStatus) -> bool) -> SyncStatus {
    let mut rx = client.subscribe();
    tokio::time::timeout(Duration::from_secs(20), async {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_server_certificate_is_reported_and_retried() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = test_ca(dir.path());
    let server = tls_server(chain, key).await;
    let client = SyncClient::start(
        terminal(dir.path()),
        config(&format!("https://{}", server.addr)),
    );
    let status = wait_for(&client, "the certificate error", |s| {
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains("certificate"))
    })
    .await;
    let error = status.last_error.unwrap();
    assert!(
        error.contains("server certificate not trusted: it is issued by an unknown"),
        "{error}"
    );
    assert!(!status.online);
    // Still trying, with its backoff, and never past the handshake.
    tokio::time::timeout(Duration::from_secs(20), async {
        while server.attempts.load(Ordering::SeqCst) < 4 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the client must keep retrying");
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 0);
    assert!(!client.status().online);
    client.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stores_own_ca_file_is_trusted_and_a_bad_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = test_ca(dir.path());
    let server = tls_server(chain, key).await;

    // With the CA file the handshake completes (this server then hangs up: no WebSocket).
    let mut trusted = config(&format!("wss://localhost:{}", server.addr.port()));
    trusted.ca_file = Some(dir.path().join("ca.pem"));
    let client = SyncClient::start(terminal(&dir.path().join("a")), trusted);
    tokio::time::timeout(Duration::from_secs(20), async {
        while server.handshakes.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the handshake must succeed with the store's CA");
    let status = wait_for(&client, "an error after the handshake", |s| {
        s.last_error.is_some()
    })
    .await;
    assert!(
        !status.last_error.unwrap().contains("certificate"),
        "{:?}",
        client.status()
    );
    client.stop().await;

    // A CA file that is not there is an error in the status, not a crash or a silent default.
    let mut missing = config(&format!("https://{}", server.addr));
    missing.ca_file = Some(dir.path().join("no-such-ca.pem"));
    let client = SyncClient::start(terminal(&dir.path().join("b")), missing);
    let status = wait_for(&client, "the CA file error", |s| s.last_error.is_some()).await;
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap()
            .contains("cannot read the CA certificate file"),
        "{status:?}"
    );
    client.stop().await;
}
