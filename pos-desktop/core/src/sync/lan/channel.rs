//! The channel between tills: TLS 1.3 with mutual authentication (rustls, ring provider, the TLS
//! stack the sync client already uses), each end presenting its own Ed25519 certificate
//! ([`LanIdentity`]). Our verifiers replace the web's CA checks with the store's: a peer's
//! certificate key must be a till of the store's latest verified roster, not revoked ([`Trust`]);
//! the TLS handshake signature is still verified, so a peer proves it holds the private half of
//! that key. Every frame after the handshake is encrypted and authenticated by TLS: nothing is
//! readable or writable without it.
//!
//! Why TLS and not a Noise handshake: rustls and tokio-rustls are already in the workspace, well
//! kept and audited, and give the exporter (RFC 8446 §7.5) the application proof binds to.

use std::sync::{Arc, RwLock};

use rustls::DistinguishedName;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, SignatureScheme};
use shared_model::lan_roster::LanRoster;

use crate::error::{CoreError, CoreResult};

use super::identity::{LanIdentity, certificate_key};
use super::proof::hex;

/// The label of the keying material the application proofs bind to.
pub(super) const EXPORTER_LABEL: &[u8] = b"EXPORTER-snapkasir-lan-v2";

/// The name a dialer puts in its ClientHello: the verifier ignores it (a till is known by its
/// key, not by a host name), but rustls needs one.
pub(super) const SERVER_NAME: &str = "till.snapkasir.invalid";

/// Which certificate keys this till accepts, and as which terminal.
#[derive(Debug)]
pub(super) struct Trust {
    own_key: [u8; 32],
    /// (terminal code, public key hex) of every till of the roster that is not revoked.
    known: RwLock<Vec<(String, String)>>,
}

impl Trust {
    pub(super) fn new(own_key: [u8; 32]) -> Trust {
        Trust {
            own_key,
            known: RwLock::new(Vec::new()),
        }
    }

    /// Trusts exactly the tills of `roster` that have a key and are not revoked.
    pub(super) fn set_roster(&self, roster: &LanRoster) {
        let known = roster
            .tills
            .iter()
            .filter(|t| roster.trusts(&t.terminal_code, &t.lan_key))
            .map(|t| (t.terminal_code.clone(), t.lan_key.to_ascii_lowercase()))
            .collect();
        *self.known.write().unwrap_or_else(|p| p.into_inner()) = known;
    }

    /// The terminal a peer's key belongs to, or why the key is not trusted (not in the roster,
    /// revoked, or this till's own).
    pub(super) fn identify(&self, key: &[u8; 32]) -> Result<String, String> {
        if *key == self.own_key {
            return Err("the peer presents this till's own key".into());
        }
        let key = hex(key);
        self.known
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(_, k)| *k == key)
            .map(|(code, _)| code.clone())
            .ok_or_else(|| {
                format!(
                    "key {}… is not a till of this store's roster (unknown or revoked)",
                    &key[..16]
                )
            })
    }

    fn check(&self, cert: &CertificateDer<'_>) -> Result<(), TlsError> {
        let key = certificate_key(cert)?;
        self.identify(&key).map(|_| ()).map_err(|reason| {
            tracing::warn!(%reason, "LAN peer certificate refused");
            TlsError::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
        })
    }
}

/// The rustls verifier of both directions: the peer's certificate key against [`Trust`], the
/// handshake signature by the provider's algorithms. TLS 1.3 only.
#[derive(Debug)]
struct PeerVerifier {
    trust: Arc<Trust>,
    provider: Arc<CryptoProvider>,
}

impl PeerVerifier {
    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
}

impl ServerCertVerifier for PeerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        self.trust.check(end_entity)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        Err(TlsError::General("TLS 1.2 is not spoken on the LAN".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

impl ClientCertVerifier for PeerVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, TlsError> {
        self.trust.check(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        Err(TlsError::General("TLS 1.2 is not spoken on the LAN".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }
}

/// Both ends of the channel, built once per `LanSync` from the till's identity.
#[derive(Clone)]
pub(super) struct Channel {
    pub(super) acceptor: tokio_rustls::TlsAcceptor,
    pub(super) connector: tokio_rustls::TlsConnector,
    pub(super) own_key: [u8; 32],
    pub(super) trust: Arc<Trust>,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("own_key", &hex(&self.own_key))
            .finish_non_exhaustive()
    }
}

impl Channel {
    pub(super) fn new(identity: &LanIdentity, terminal_code: &str) -> CoreResult<Channel> {
        let tls = |e: TlsError| CoreError::Sync(format!("LAN TLS setup: {e}"));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let trust = Arc::new(Trust::new(identity.public_key()));
        let verifier = Arc::new(PeerVerifier {
            trust: trust.clone(),
            provider: provider.clone(),
        });
        let (cert, key) = identity.certificate(terminal_code)?;
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls)?
            .with_client_cert_verifier(verifier.clone())
            .with_single_cert(vec![cert.clone()], key.clone_key())
            .map_err(tls)?;
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls)?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_auth_cert(vec![cert], key)
            .map_err(tls)?;
        Ok(Channel {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
            connector: tokio_rustls::TlsConnector::from(Arc::new(client)),
            own_key: identity.public_key(),
            trust,
        })
    }
}

/// The certificate key of an established connection's peer.
pub(super) fn peer_key(certs: Option<&[CertificateDer<'_>]>) -> CoreResult<[u8; 32]> {
    let cert = certs
        .and_then(|c| c.first())
        .ok_or_else(|| CoreError::Sync("the LAN peer presented no certificate".into()))?;
    certificate_key(cert).map_err(|e| CoreError::Sync(format!("the LAN peer's certificate: {e}")))
}

/// This session's exported keying material for the application proofs
/// (`export_keying_material([0; 32], EXPORTER_LABEL, None)` of either side's connection).
pub(super) fn exporter(exported: Result<[u8; 32], TlsError>) -> CoreResult<[u8; 32]> {
    exported.map_err(|e| CoreError::Sync(format!("LAN TLS exporter: {e}")))
}
