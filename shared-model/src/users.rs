//! Cashiers and supervisors of a store. A PIN is a local convenience for switching cashier and
//! authorising voids, never a network credential; the hash is argon2 (PHC string) keyed with the
//! store's PIN pepper, made and checked here for the terminal and the server alike.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::catalog::check_text;
use crate::error::{ModelError, ModelResult};
use crate::ids::UserId;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Reconcile,
    Hydrate,
)]
pub enum Role {
    Cashier,
    Supervisor,
    Manager,
}

impl Role {
    /// Supervisors and managers may authorise voids, refunds and large discounts.
    pub fn can_authorize(self) -> bool {
        self >= Role::Supervisor
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct StoreUser {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    /// argon2 PHC string of the PIN.
    pub pin_hash: String,
    pub active: bool,
}

impl StoreUser {
    pub fn validate(&self) -> ModelResult<()> {
        check_text("user name", &self.name, 100)?;
        if !self.pin_hash.starts_with("$argon2") {
            return Err(ModelError::Invalid {
                field: "PIN hash",
                reason: "not an argon2 hash".into(),
            });
        }
        Ok(())
    }
}

/// A PIN is 4–8 digits.
pub fn check_pin(pin: &str) -> ModelResult<()> {
    if !(4..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ModelError::Invalid {
            field: "PIN",
            reason: "must be 4–8 digits".into(),
        });
    }
    Ok(())
}

/// A store's PIN pepper: 32 random bytes the server makes once per store and hands to the
/// store's tills in [`crate::lan_roster::LanInfo`] (never written in any document). PIN hashes
/// are keyed with it (argon2's `secret`) and name it in their PHC string (`keyid=`), so the
/// hashes in the users document, which every till of the store and the server hold, are
/// useless to an offline guesser who has not also taken the pepper from a till or the server.
#[derive(Clone, PartialEq, Eq)]
pub struct PinPepper([u8; 32]);

impl std::fmt::Debug for PinPepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PinPepper(keyid {})", hex::encode(self.key_id()))
    }
}

impl PinPepper {
    /// A fresh random pepper.
    pub fn random() -> Self {
        PinPepper(rand::random())
    }

    /// The pepper from its hex spelling ([`PinPepper::to_hex`]).
    pub fn from_hex(hex_pepper: &str) -> ModelResult<Self> {
        let bytes = hex::decode(hex_pepper.trim()).map_err(|e| ModelError::Invalid {
            field: "PIN pepper",
            reason: e.to_string(),
        })?;
        Ok(PinPepper(bytes.try_into().map_err(|_| {
            ModelError::Invalid {
                field: "PIN pepper",
                reason: "must be 32 bytes (64 hex digits)".into(),
            }
        })?))
    }

    /// 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The 6 bytes a PHC string names the pepper by (`keyid=`): the start of a SHA-256 of it,
    /// so that a hash tells which pepper it needs without revealing the pepper.
    pub fn key_id(&self) -> [u8; 6] {
        use sha2::Digest;
        let digest = sha2::Sha256::new()
            .chain_update(b"snapkasir/pin-pepper-id/")
            .chain_update(self.0)
            .finalize();
        let mut id = [0u8; 6];
        id.copy_from_slice(&digest[..6]);
        id
    }
}

/// Hashes a PIN: argon2id with argon2's default cost (m=19456 KiB, t=2, p=1) and 16 random salt
/// bytes, as a PHC string; keyed with the store's `pepper` when one is given (the PHC string
/// then carries `keyid=`). This is the one PIN hash of the product: the terminal (pos-core) and
/// the server's staff API both call it, so either verifies the other's hashes. Tills that know
/// their store's pepper (every enrolled till) always pass it; `None` is for a till with no
/// server (the demo store). CPU-bound (tens of milliseconds): async callers run it on a
/// blocking thread.
pub fn hash_pin(pin: &str, pepper: Option<&PinPepper>) -> ModelResult<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let bad = |what: &str, e: argon2::password_hash::Error| ModelError::Invalid {
        field: "PIN hash",
        reason: format!("{what}: {e}"),
    };
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| bad("salt", e))?;
    let hash = match pepper {
        None => argon2::Argon2::default().hash_password(pin.as_bytes(), &salt),
        Some(p) => {
            let params = argon2::ParamsBuilder::new()
                .keyid(argon2::KeyId::new(&p.key_id()).map_err(|e| bad("keyid", e.into()))?)
                .build()
                .map_err(|e| bad("params", e.into()))?;
            argon2::Argon2::new_with_secret(
                &p.0,
                argon2::Algorithm::Argon2id,
                argon2::Version::V0x13,
                params,
            )
            .map_err(|e| bad("secret", e.into()))?
            .hash_password(pin.as_bytes(), &salt)
        }
    };
    hash.map(|h| h.to_string()).map_err(|e| bad("hash", e))
}

/// Whether a PHC string is keyed with a pepper (carries `keyid=`).
pub fn is_peppered(pin_hash: &str) -> bool {
    use argon2::password_hash::PasswordHash;
    PasswordHash::new(pin_hash).is_ok_and(|h| h.params.get("keyid").is_some())
}

/// Whether `pin` matches a PHC string made by [`hash_pin`] (a malformed hash matches nothing).
/// A keyed hash needs the pepper it names; an unkeyed hash (made before stores had a pepper)
/// verifies without one, until the PIN is next changed.
pub fn verify_pin(pin_hash: &str, pin: &str, pepper: Option<&PinPepper>) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let Ok(hash) = PasswordHash::new(pin_hash) else {
        return false;
    };
    let Some(keyid) = hash.params.get("keyid") else {
        return argon2::Argon2::default()
            .verify_password(pin.as_bytes(), &hash)
            .is_ok();
    };
    let Some(pepper) = pepper else {
        return false;
    };
    let mut named = [0u8; 8];
    if keyid.b64_decode(&mut named).ok() != Some(&pepper.key_id()[..]) {
        return false;
    }
    argon2::Argon2::new_with_secret(
        &pepper.0,
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::default(),
    )
    .is_ok_and(|a| a.verify_password(pin.as_bytes(), &hash).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_hashes_verify_and_old_hashes_still_do() {
        let h = hash_pin("1234", None).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!is_peppered(&h));
        assert!(verify_pin(&h, "1234", None));
        assert!(
            verify_pin(&h, "1234", Some(&PinPepper::random())),
            "old hashes verify"
        );
        assert!(!verify_pin(&h, "4321", None));
        assert!(!verify_pin("not a hash", "1234", None));
        assert_ne!(
            h,
            hash_pin("1234", None).unwrap(),
            "a fresh salt every time"
        );
    }

    #[test]
    fn peppered_hashes_need_their_pepper() {
        let pepper = PinPepper::random();
        let h = hash_pin("1234", Some(&pepper)).unwrap();
        assert!(
            h.starts_with("$argon2id$v=19$m=19456,t=2,p=1,keyid="),
            "{h}"
        );
        assert!(is_peppered(&h));
        assert!(verify_pin(&h, "1234", Some(&pepper)));
        assert!(!verify_pin(&h, "4321", Some(&pepper)));
        assert!(!verify_pin(&h, "1234", None), "no pepper");
        assert!(
            !verify_pin(&h, "1234", Some(&PinPepper::random())),
            "another pepper"
        );
        let again = PinPepper::from_hex(&pepper.to_hex()).unwrap();
        assert!(verify_pin(&h, "1234", Some(&again)));
        assert!(!format!("{pepper:?}").contains(&pepper.to_hex()));
        assert!(PinPepper::from_hex("abcd").is_err());
    }
}
