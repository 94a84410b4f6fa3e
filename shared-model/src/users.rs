//! Cashiers and supervisors of a store. A PIN is a local convenience for switching cashier and
//! authorising voids, never a network credential; the hash is argon2 (PHC string), made by the
//! code that does IO.

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
