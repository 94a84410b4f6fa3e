//! The server's HTTP client for outside services (the S3 copy of backups, payment gateways):
//! reqwest on rustls with the ring provider and the system's root certificates. reqwest's own
//! `rustls` feature brings aws-lc-rs, which needs cmake to build, hence this one place that
//! sets rustls up.

use std::time::Duration;

use crate::error::{Error, Result};

/// A client that gives up connecting after `connect` and reading after `read`.
pub fn client(connect: Duration, read: Duration) -> Result<reqwest::Client> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        // A certificate of the system's that rustls cannot use is left out, as browsers do.
        let _ = roots.add(cert);
    }
    let tls = rustls::ClientConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Internal(format!("TLS set-up: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(connect)
        .read_timeout(read)
        .build()
        .map_err(|e| Error::Internal(format!("HTTP client set-up: {e}")))
}
