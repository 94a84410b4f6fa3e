//! Gateway keys at rest. A store's gateway secrets (Midtrans server key, Xendit secret key and
//! callback token) can move money, so the database never holds them in clear: they are sealed
//! with XChaCha20-Poly1305 under the server's payment key, with the store id as associated data
//! (a sealed blob copied into another store's row does not open). The payment key lives in a
//! file outside the database (`payment_key_file`), so a stolen database dump or backup holds no
//! usable key. On the embedded store the server makes one in its data directory (0600) when
//! none is configured; with PostgreSQL it must be configured, because every instance needs the
//! same key and the database is the one place they share.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::{Error, Result};

const NONCE: usize = 24;
const KEY_FILE_NAME: &str = "payment-secrets.key";

/// The server's payment key.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)")
    }
}

/// Where the payment key comes from: the configured file, else (embedded store only) a file in
/// the data directory, made on first use.
pub fn key_path(config: &Config) -> Option<(PathBuf, bool)> {
    match (&config.payment_key_file, &config.database_url) {
        (Some(file), _) => Some((file.clone(), false)),
        (None, None) => Some((config.data_dir.join(KEY_FILE_NAME), true)),
        (None, Some(_)) => None,
    }
}

impl Sealer {
    /// Reads the key file (32 bytes or more; its SHA-256 is the key), making it first when
    /// `create` and it is missing.
    pub fn load(path: &Path, create: bool) -> Result<Sealer> {
        if create && !path.exists() {
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(mut f) => std::io::Write::write_all(&mut f, hex::encode(key).as_bytes())?,
                // Another instance made it meanwhile: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e.into()),
            }
        }
        let bytes = std::fs::read(path).map_err(|e| {
            Error::Config(format!(
                "cannot read the payment key file {}: {e}",
                path.display()
            ))
        })?;
        if bytes.len() < 32 {
            return Err(Error::Config(format!(
                "the payment key file {} holds {} bytes; it needs 32 or more (e.g. `head -c 32 /dev/urandom | xxd -p -c 64 > {}`)",
                path.display(),
                bytes.len(),
                path.display()
            )));
        }
        let key = Sha256::digest(&bytes);
        Ok(Sealer {
            cipher: XChaCha20Poly1305::new(&key),
        })
    }

    /// `plain` sealed for `store_id`: the nonce, then the ciphertext and its tag.
    pub fn seal(&self, store_id: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: store_id.as_bytes(),
                },
            )
            .map_err(|_| Error::Internal("sealing gateway secrets failed".into()))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// Opens what [`Sealer::seal`] sealed for `store_id`; another key or store is refused.
    pub fn open(&self, store_id: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < NONCE {
            return Err(Error::Internal(
                "sealed gateway secrets are cut short".into(),
            ));
        }
        let (nonce, body) = sealed.split_at(NONCE);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: store_id.as_bytes(),
                },
            )
            .map_err(|_| {
                Error::Internal(
                    "the store's gateway secrets do not open with this server's payment key \
                     (was payment_key_file changed?)"
                        .into(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_open_with_the_same_key_and_store_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let a = Sealer::load(&path, true).unwrap();
        let sealed = a.seal("store-1", b"SB-Mid-server-abc").unwrap();
        assert!(
            !sealed.windows(6).any(|w| w == b"server"),
            "stored in clear"
        );
        let again = Sealer::load(&path, true).unwrap();
        assert_eq!(
            again.open("store-1", &sealed).unwrap(),
            b"SB-Mid-server-abc"
        );
        assert!(again.open("store-2", &sealed).is_err());
        let other = dir.path().join("other");
        std::fs::write(&other, [7u8; 40]).unwrap();
        assert!(
            Sealer::load(&other, false)
                .unwrap()
                .open("store-1", &sealed)
                .is_err()
        );
        std::fs::write(&other, [7u8; 8]).unwrap();
        let short = Sealer::load(&other, false).unwrap_err().to_string();
        assert!(short.contains("needs 32 or more"), "{short}");
    }
}
