//! The till's own LAN identity: an Ed25519 key pair made once on the till, its private half kept
//! in the till's SQLite (`sync_meta`) and never sent anywhere, its public half registered with
//! the server (at enrolment, or `PUT /api/v1/terminal/lan-key`) so the store's roster can list
//! it. TLS between tills presents a self-signed certificate of this key (rcgen): the certificate
//! is only a carrier for the key, trust comes from the roster, not from a CA.

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::{CoreError, CoreResult};
use crate::terminal::Terminal;

use super::proof::{hex, unhex};

const SYNC_META_IDENTITY: &str = "lan_identity_pkcs8";

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// A till's LAN key pair. The private key is hidden from `Debug` and never logged.
#[derive(Clone)]
pub struct LanIdentity {
    pkcs8: Vec<u8>,
    public: [u8; 32],
}

impl std::fmt::Debug for LanIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanIdentity")
            .field("public", &self.public_key_hex())
            .finish_non_exhaustive()
    }
}

impl LanIdentity {
    /// A new random key pair.
    pub fn generate() -> CoreResult<LanIdentity> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
            .map_err(|e| CoreError::Sync(format!("cannot make a LAN key: {e}")))?;
        LanIdentity::from_pkcs8(key.serialize_der())
    }

    fn from_pkcs8(pkcs8: Vec<u8>) -> CoreResult<LanIdentity> {
        let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(pkcs8.as_slice()),
            &rcgen::PKCS_ED25519,
        )
        .map_err(|e| CoreError::Sync(format!("the stored LAN key is unusable: {e}")))?;
        let public: [u8; 32] = key
            .public_key_raw()
            .try_into()
            .map_err(|_| CoreError::Sync("the stored LAN key is not Ed25519".into()))?;
        Ok(LanIdentity { pkcs8, public })
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The public key as the server and the roster write it (64 hex digits).
    pub fn public_key_hex(&self) -> String {
        hex(&self.public)
    }

    /// A self-signed certificate of this key, naming the terminal; and the private key for
    /// rustls.
    pub(super) fn certificate(
        &self,
        terminal_code: &str,
    ) -> CoreResult<(CertificateDer<'static>, PrivateKeyDer<'static>)> {
        let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(self.pkcs8.as_slice()),
            &rcgen::PKCS_ED25519,
        )
        .map_err(|e| CoreError::Sync(format!("the LAN key is unusable: {e}")))?;
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            format!("SnapKasir till {terminal_code}"),
        );
        let cert = params
            .self_signed(&key)
            .map_err(|e| CoreError::Sync(format!("cannot make the LAN certificate: {e}")))?;
        Ok((
            cert.der().clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.pkcs8.clone())),
        ))
    }
}

/// The raw Ed25519 key of a peer's certificate, or why it is not one.
pub(super) fn certificate_key(cert: &CertificateDer<'_>) -> Result<[u8; 32], rustls::Error> {
    let parsed = rustls::server::ParsedCertificate::try_from(cert)?;
    let spki = parsed.subject_public_key_info();
    let spki = spki.as_ref();
    match spki.strip_prefix(&ED25519_SPKI_PREFIX[..]) {
        Some(raw) if raw.len() == 32 => Ok(raw.try_into().unwrap_or([0; 32])),
        _ => Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::ApplicationVerificationFailure,
        )),
    }
}

impl Terminal {
    /// This till's LAN key pair, made and stored the first time it is asked for.
    pub fn lan_identity(&mut self) -> CoreResult<LanIdentity> {
        if let Some(stored) = self.sync_meta(SYNC_META_IDENTITY)? {
            let der = unhex(&stored)
                .ok_or_else(|| CoreError::Sync("the stored LAN key is not hex".into()))?;
            return LanIdentity::from_pkcs8(der);
        }
        let made = LanIdentity::generate()?;
        self.set_sync_meta(SYNC_META_IDENTITY, Some(&hex(&made.pkcs8)))?;
        Ok(made)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lan_identity_certificate_carries_its_key_and_hides_the_private_half() {
        let id = LanIdentity::generate().unwrap();
        let (cert, _) = id.certificate("T1").unwrap();
        assert_eq!(certificate_key(&cert).unwrap(), id.public_key());
        assert_eq!(id.public_key_hex().len(), 64);
        let shown = format!("{id:?}");
        assert!(!shown.contains(&hex(&id.pkcs8)[..40]));
        let again = LanIdentity::from_pkcs8(id.pkcs8.clone()).unwrap();
        assert_eq!(again.public_key(), id.public_key());
    }
}
