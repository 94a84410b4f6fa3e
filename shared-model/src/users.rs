//! Cashiers and supervisors of a store. A PIN is a local convenience for switching cashier and
//! authorising voids, never a network credential; the hash is argon2 (PHC string), made and
//! checked here for the terminal and the server alike.

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

/// Hashes a PIN: argon2 with default parameters (argon2id, m=19456, t=2, p=1) and 16 random
/// salt bytes, as a PHC string. Every stored hash was made with these parameters, and the
/// server's staff API and the terminal both call this, so either verifies the other's hashes.
/// CPU-bound (tens of milliseconds): async callers run it on a blocking thread.
pub fn hash_pin(pin: &str) -> ModelResult<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let bad = |what: &str, e: argon2::password_hash::Error| ModelError::Invalid {
        field: "PIN hash",
        reason: format!("{what}: {e}"),
    };
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| bad("salt", e))?;
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| bad("hash", e))
}

/// Whether `pin` matches a PHC string made by [`hash_pin`] (a malformed hash matches nothing).
pub fn verify_pin(pin_hash: &str, pin: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(pin_hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(pin.as_bytes(), &h)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_hashes_verify_and_old_hashes_still_do() {
        let h = hash_pin("1234").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_pin(&h, "1234"));
        assert!(!verify_pin(&h, "4321"));
        assert!(!verify_pin("not a hash", "1234"));
        assert_ne!(h, hash_pin("1234").unwrap(), "a fresh salt every time");
    }
}
