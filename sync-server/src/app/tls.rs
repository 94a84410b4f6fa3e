//! TLS termination by the server itself (`--tls-cert` and `--tls-key`): rustls with the ring
//! provider, in front of the same router. The handshake runs per connection in its own task, so
//! a slow or silent client never holds up the others.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::Config;
use crate::error::{Error, Result};

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The acceptor for the configured certificate and key, or `None` when TLS is not configured.
/// Fails, saying which file and why, when only one of the two is set or a file is unusable, and
/// with instance peering, which dials the other instances over plain `ws://`.
pub fn acceptor(config: &Config) -> Result<Option<TlsAcceptor>> {
    match (&config.tls_cert, &config.tls_key) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) if config.advertise_url.is_some() => Err(Error::Config(
            "instance peering (advertise_url) dials other instances over plain ws://, which a \
             server serving TLS itself does not answer: terminate TLS in a proxy in front of \
             clustered instances instead"
                .into(),
        )),
        (Some(cert), Some(key)) => load(cert, key).map(Some),
        _ => Err(Error::Config(
            "TLS needs both a certificate and a key (tls_cert and tls_key, or --tls-cert and \
             --tls-key)"
                .into(),
        )),
    }
}

/// Reads a PEM certificate chain (server certificate first) and its PEM private key.
pub fn load(cert: &Path, key: &Path) -> Result<TlsAcceptor> {
    let cert_pem = std::fs::read(cert).map_err(|e| {
        Error::Config(format!(
            "cannot read the TLS certificate {}: {e}",
            cert.display()
        ))
    })?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::Config(format!(
                "the TLS certificate {} is not PEM: {e}",
                cert.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(Error::Config(format!(
            "the TLS certificate file {} holds no certificate",
            cert.display()
        )));
    }
    let key_pem = std::fs::read(key)
        .map_err(|e| Error::Config(format!("cannot read the TLS key {}: {e}", key.display())))?;
    let private_key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        Error::Config(format!(
            "the TLS key {} holds no usable PEM private key: {e}",
            key.display()
        ))
    })?;
    let mut server = rustls::ServerConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Config(format!("TLS setup: {e}")))?
    .with_no_client_auth()
    .with_single_cert(chain, private_key)
    .map_err(|e| {
        Error::Config(format!(
            "the TLS certificate {} and key {} do not go together: {e}",
            cert.display(),
            key.display()
        ))
    })?;
    // HTTP/1.1 only: the server is built without HTTP/2, and WebSockets upgrade over 1.1.
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(server)))
}

/// A TCP listener that hands `axum::serve` connections whose TLS handshake has completed.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("tcp", &self.tcp)
            .field("handshakes", &self.handshakes.len())
            .finish_non_exhaustive()
    }
}

impl TlsListener {
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> Self {
        Self {
            tcp,
            acceptor,
            handshakes: JoinSet::new(),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    // Cancel-safe, as `axum::serve` needs: accepted sockets wait in `handshakes`, not in
    // this future.
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((stream, addr)) => {
                        super::tune_accepted(&stream);
                        let acceptor = self.acceptor.clone();
                        self.handshakes.spawn(async move {
                            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                Ok(Ok(tls)) => Some((tls, addr)),
                                Ok(Err(e)) => {
                                    // Debug: scanners and clients that reject the certificate
                                    // would fill the log (the client logs its side in words).
                                    tracing::debug!(%addr, error = %e, "TLS handshake failed");
                                    None
                                }
                                Err(_) => {
                                    tracing::debug!(%addr, "TLS handshake timed out");
                                    None
                                }
                            }
                        });
                    }
                    Err(e) => accept_error(e).await,
                },
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(connection)) = done {
                        return connection;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// As `axum::serve` does for plain TCP: per-connection errors are skipped, others (too many
/// open files) wait a second.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error of loading `cert` and `key`, in words.
    fn error(cert: Option<&Path>, key: Option<&Path>) -> String {
        match acceptor(&config(cert, key)) {
            Ok(_) => panic!("{cert:?} and {key:?} must not load"),
            Err(e) => e.to_string(),
        }
    }

    fn config(cert: Option<&Path>, key: Option<&Path>) -> Config {
        Config {
            tls_cert: cert.map(Path::to_path_buf),
            tls_key: key.map(Path::to_path_buf),
            ..Config::default()
        }
    }

    #[tokio::test]
    async fn connections_accepted_over_tls_send_small_frames_without_waiting_for_acks() {
        use axum::serve::Listener;
        let dir = tempfile::tempdir().unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let mut listener = TlsListener::new(tcp, load(&cert, &key).unwrap());

        let mut roots = rustls::RootCertStore::empty();
        roots.add(made.cert.der().clone()).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(
            rustls::crypto::ring::default_provider().into(),
        )
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let dial = async {
            let tcp = TcpStream::connect(addr).await.unwrap();
            connector.connect(name, tcp).await.unwrap()
        };
        let (_client, (accepted, _)) = tokio::join!(dial, listener.accept());
        assert!(
            accepted.get_ref().0.nodelay().unwrap(),
            "Nagle's algorithm is on for a connection accepted over TLS"
        );
    }

    #[test]
    fn bad_certificate_or_key_files_are_named_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        assert!(acceptor(&config(None, None)).unwrap().is_none());
        assert!(
            acceptor(&config(Some(&cert), Some(&key)))
                .unwrap()
                .is_some()
        );

        let missing = dir.path().join("missing.pem");
        let e = error(Some(&missing), Some(&key));
        assert!(e.contains("cannot read the TLS certificate") && e.contains("missing.pem"));
        let e = error(Some(&cert), None);
        assert!(e.contains("both a certificate and a key"), "{e}");
        let clustered = Config {
            advertise_url: Some("ws://10.0.0.2:8080/sync".into()),
            ..config(Some(&cert), Some(&key))
        };
        let e = acceptor(&clustered)
            .err()
            .expect("peering with TLS")
            .to_string();
        assert!(e.contains("instance peering"), "{e}");
        // The certificate given as the key, and a key that is not this certificate's.
        let e = error(Some(&cert), Some(&cert));
        assert!(e.contains("no usable PEM private key"), "{e}");
        let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let other_key = dir.path().join("other-key.pem");
        std::fs::write(&other_key, other.signing_key.serialize_pem()).unwrap();
        let e = error(Some(&cert), Some(&other_key));
        assert!(e.contains("do not go together"), "{e}");
    }
}
