//! TLS for the connection to the sync server: `https://` (and `wss://`) server URLs are spoken
//! over rustls with the ring crypto provider, for the WebSocket and the HTTP calls alike.
//!
//! Trust is the operating system's certificate store plus, optionally, one PEM file of extra CA
//! certificates from the sync configuration (a store running its own server with a private CA).
//! Verification is never turned off: a certificate that does not check out is a failed
//! connection, reported in plain words ([`describe`]) and retried with the client's backoff.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{CertificateError, RootCertStore};
use tracing::{debug, warn};

use crate::error::{CoreError, CoreResult};

/// The operating system's trusted roots, read once per process.
///
/// Why the OS store (rustls-native-certs) and not a compiled-in bundle (webpki-roots): a till
/// runs for years on a shop PC that gets operating-system updates far more often than it gets a
/// new SnapKasir build, so the OS store keeps up with CA changes a frozen bundle would miss, and a
/// store whose IT already installs its own CA into the OS trusts it here too. When the store is
/// empty (a minimal Linux without `ca-certificates`) only the configured CA file is trusted, and
/// a public certificate fails with "not trusted" — the log says why.
fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        if !found.errors.is_empty() {
            warn!(errors = ?found.errors, "some of the system's CA certificates could not be read");
        }
        if found.certs.is_empty() {
            warn!("no CA certificates in the system store: only the configured CA file is trusted");
        }
        debug!(count = found.certs.len(), "system CA certificates loaded");
        found.certs
    })
}

/// Reads every certificate of a PEM file (the store's own CA).
fn read_ca_file(path: &Path) -> CoreResult<Vec<CertificateDer<'static>>> {
    let bytes = std::fs::read(path).map_err(|e| {
        CoreError::Sync(format!(
            "cannot read the CA certificate file {}: {e}",
            path.display()
        ))
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            CoreError::Sync(format!(
                "the CA certificate file {} is not PEM: {e}",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(CoreError::Sync(format!(
            "the CA certificate file {} holds no certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// The rustls client configuration (ring provider): the system's roots plus those of `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> CoreResult<Arc<rustls::ClientConfig>> {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(native_roots().iter().cloned());
    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots.add(cert).map_err(|e| {
                CoreError::Sync(format!(
                    "the CA certificate file {} holds an unusable certificate: {e}",
                    path.display()
                ))
            })?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .map_err(|e| CoreError::Sync(format!("TLS setup: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// An HTTP client for the sync server, with the same TLS trust as the WebSocket.
///
/// Every `reqwest::Client` in this workspace must come from here (or be given a rustls
/// configuration some other way): reqwest is built without a crypto provider of its own (its
/// `rustls` feature brings aws-lc-rs), so `reqwest::Client::new()` panics.
pub fn http_client(ca_file: Option<&Path>, timeout: Duration) -> CoreResult<reqwest::Client> {
    let tls = Arc::unwrap_or_clone(client_config(ca_file)?);
    reqwest::Client::builder()
        .timeout(timeout)
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| CoreError::Sync(format!("http client: {e}")))
}

/// A WebSocket to the sync server.
pub type SyncSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the sync WebSocket of `request` with the device `credential` as its bearer token and
/// the document `schema` this till writes ([`shared_model::compat::SCHEMA_HEADER`]), over
/// rustls with the system's roots plus `ca_file`, within `timeout`: the one way the sync client
/// and the enrolment client dial the server. The outer error is one that retrying does not
/// mend: a local problem (a credential that is not a header value, an unreadable CA file) or
/// the server's refusal of this till's version ([`CoreError::VersionMismatch`]); the inner one
/// says in words why the server could not be reached ([`describe`]), for each caller to
/// classify.
pub async fn connect_sync_socket(
    mut request: tokio_tungstenite::tungstenite::handshake::client::Request,
    credential: &str,
    schema: u64,
    ca_file: Option<&Path>,
    timeout: Duration,
) -> CoreResult<Result<SyncSocket, String>> {
    let headers = request.headers_mut();
    headers.insert(
        "authorization",
        format!("Bearer {credential}")
            .parse()
            .map_err(|_| CoreError::Sync("credential is not a valid header".into()))?,
    );
    headers.insert(shared_model::compat::SCHEMA_HEADER, schema.into());
    let tls = client_config(ca_file)?;
    // Sync frames are small: with Nagle's algorithm, a sale's frame written while the one
    // before was unacknowledged waited for the server's delayed ACK, up to 40 ms.
    let disable_nagle = true;
    let connecting = tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        disable_nagle,
        Some(tokio_tungstenite::Connector::Rustls(tls)),
    );
    Ok(match tokio::time::timeout(timeout, connecting).await {
        Err(_) => Err("connect timed out".into()),
        Ok(Err(e)) => {
            if let Some(refusal) = version_refusal(&e) {
                return Err(refusal);
            }
            Err(describe("connect", &e))
        }
        Ok(Ok((socket, _))) => Ok(socket),
    })
}

/// The server's refusal of this till's document schema (its JSON error body's `code` names the
/// side to update, `message` says it in words), if `error` is one.
fn version_refusal(error: &tokio_tungstenite::tungstenite::Error) -> Option<CoreError> {
    #[derive(serde::Deserialize)]
    struct Body {
        code: String,
        message: String,
    }
    let tokio_tungstenite::tungstenite::Error::Http(response) = error else {
        return None;
    };
    let body: Body = serde_json::from_slice(response.body().as_deref()?).ok()?;
    let outdated = shared_model::compat::Outdated::from_code(&body.code)?;
    Some(CoreError::VersionMismatch {
        outdated,
        detail: body.message,
    })
}

/// What went wrong with a connection, in words for the cashier's status line and the log:
/// certificate problems say so ("server certificate not trusted: …"), anything else is
/// `what: error`.
pub fn describe(what: &str, error: &(dyn std::error::Error + 'static)) -> String {
    match find_rustls_error(error) {
        Some(rustls::Error::InvalidCertificate(e)) => {
            format!("server certificate not trusted: {}", certificate_problem(e))
        }
        Some(e) => format!("{what}: TLS handshake failed: {e}"),
        None => format!("{what}: {}", chain(error)),
    }
}

/// The error and its causes, `a: b: c` (reqwest's own text is only "error sending request").
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        next = e.source();
    }
    out
}

/// The rustls error behind `error`, if any. `io::Error::source` skips the error it wraps, so
/// wrapped errors are looked at with `get_ref`.
fn find_rustls_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
        {
            return Some(r);
        }
        next = e.source();
    }
    None
}

fn certificate_problem(e: &CertificateError) -> String {
    match e {
        CertificateError::UnknownIssuer => "it is issued by an unknown certificate authority \
             (a private CA needs its certificate in the sync settings' CA file)"
            .into(),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("it is not valid for this server's name ({e})")
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            format!("it has expired ({e})")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            format!("it is not valid yet; check this terminal's clock ({e})")
        }
        CertificateError::Revoked => "it has been revoked".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sync_socket_sends_small_frames_without_waiting_for_acks() {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio_tungstenite::accept_async(tcp).await.unwrap()
        });
        let request = format!("ws://{addr}/sync").into_client_request().unwrap();
        let ws = connect_sync_socket(request, "credential", 1, None, Duration::from_secs(10))
            .await
            .unwrap()
            .unwrap();
        let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = ws.get_ref() else {
            panic!("a ws:// URL is dialled without TLS");
        };
        assert!(
            tcp.nodelay().unwrap(),
            "Nagle's algorithm is on for the sync socket"
        );
        server.await.unwrap();
    }

    #[test]
    fn certificate_errors_are_told_in_plain_words() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let ws = tokio_tungstenite::tungstenite::Error::Io(io);
        let text = describe("connect", &ws);
        assert!(
            text.starts_with("server certificate not trusted: it is issued by an unknown"),
            "{text}"
        );
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(describe("connect", &refused), "connect: refused");
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_an_error_not_a_silent_default() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.pem");
        let e = client_config(Some(&missing)).unwrap_err().to_string();
        assert!(e.contains("cannot read the CA certificate file"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let e = client_config(Some(&empty)).unwrap_err().to_string();
        assert!(e.contains("holds no certificate"), "{e}");
        assert!(client_config(None).is_ok());
        assert!(http_client(None, Duration::from_secs(1)).is_ok());
    }
}
