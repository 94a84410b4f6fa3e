//! LAN security, the server's half (issue 14): each store has an Ed25519 roster-signing key and a
//! PIN pepper, made on first use and kept in the database; the server signs the store's LAN
//! roster (its tills, their LAN public keys, who is revoked, the store key version) and hands
//! tills their [`LanInfo`]. Enrolling a till, setting its LAN key and revoking it change the
//! roster (its version grows); revoking also rotates the store key, so the revoked till's copy
//! stops opening anything. The roster is written into the store root document by
//! [`crate::lan_publish`].

use shared_model::lan_roster::{
    LanInfo, LanRoster, RosterTill, SignedLanRoster, normalize_lan_key, public_key_hex,
};
use shared_model::users::PinPepper;
use tracing::instrument;

use super::Services;
use super::enrollment::in_enrolment_order;
use crate::auth;
use crate::error::{Error, Result};
use crate::lan_keys::signing_key;
use crate::now_ms;
use crate::storage::{StoreLanRow, TerminalLanKey};

/// Checks a LAN key sent by a till; a bad one is the client's error.
pub(super) fn check_lan_key(key: &str) -> Result<String> {
    normalize_lan_key(key).map_err(|_| {
        Error::BadRequest("lan_key must be an Ed25519 public key: 64 hex digits".into())
    })
}

fn version<T: TryFrom<i64> + Default>(v: i64) -> T {
    T::try_from(v).unwrap_or_default()
}

impl Services {
    /// The store's LAN row, made (with fresh random secrets) on first use.
    pub async fn store_lan(&self, store_id: &str) -> Result<StoreLanRow> {
        if let Some(row) = self.storage.store_lan(store_id).await? {
            return Ok(row);
        }
        let fresh = StoreLanRow {
            store_id: store_id.to_string(),
            signing_key: hex::encode(rand::random::<[u8; 32]>()),
            pin_pepper: PinPepper::random().to_hex(),
            roster_version: 1,
            store_key_version: 1,
            created_at: now_ms(),
        };
        self.storage.store_lan_init(&fresh).await
    }

    /// The store's PIN pepper (PINs set through the staff API are hashed with it).
    pub async fn pin_pepper(&self, store_id: &str) -> Result<PinPepper> {
        PinPepper::from_hex(&self.store_lan(store_id).await?.pin_pepper)
            .map_err(|e| Error::Internal(format!("store {store_id} PIN pepper: {e}")))
    }

    /// The store's roster as of `row`, signed with its key. Tills are listed in enrolment
    /// order with their codes; revoked tills stay listed, marked.
    pub async fn signed_roster(&self, row: &StoreLanRow) -> Result<SignedLanRoster> {
        let terminals = self.storage.terminals_of_store(&row.store_id).await?;
        let keys = self.storage.terminal_lan_keys(&row.store_id).await?;
        let tills = in_enrolment_order(terminals)
            .into_iter()
            .map(|(terminal_code, t)| RosterTill {
                lan_key: keys
                    .iter()
                    .find(|k| k.terminal_id == t.id)
                    .map(|k| k.lan_key.clone())
                    .unwrap_or_default(),
                revoked: t.revoked_at.is_some(),
                terminal_id: t.id,
                terminal_code,
            })
            .collect();
        let roster = LanRoster {
            store_id: row.store_id.clone(),
            version: version(row.roster_version),
            store_key_version: version(row.store_key_version),
            issued_at_ms: now_ms(),
            tills,
        };
        Ok(SignedLanRoster::sign(&roster, &signing_key(row)?))
    }

    /// What a till of `store_id` is given for the LAN (see [`LanInfo`]).
    pub async fn lan_info(&self, store_id: &str) -> Result<LanInfo> {
        let row = self.store_lan(store_id).await?;
        let store = self
            .storage
            .store(store_id)
            .await?
            .ok_or(Error::NotFound("store not found"))?;
        Ok(LanInfo {
            store_signing_key: public_key_hex(&signing_key(&row)?),
            roster: self.signed_roster(&row).await?,
            store_key: store.store_key,
            store_key_version: version(row.store_key_version),
            pin_pepper: row.pin_pepper,
        })
    }

    /// The store's roster for its root document: signed, with the store's public signing key
    /// (hex) and its version.
    pub async fn roster_to_publish(
        &self,
        store_id: &str,
    ) -> Result<(SignedLanRoster, String, i64)> {
        let row = self.store_lan(store_id).await?;
        Ok((
            self.signed_roster(&row).await?,
            public_key_hex(&signing_key(&row)?),
            row.roster_version,
        ))
    }

    /// Sets (or replaces) the LAN key of an enrolled till; the roster's version grows. Answers
    /// the till's new [`LanInfo`].
    #[instrument(skip_all, fields(terminal_id))]
    pub async fn set_lan_key(
        &self,
        terminal_id: &str,
        store_id: &str,
        lan_key: &str,
    ) -> Result<LanInfo> {
        let lan_key = check_lan_key(lan_key)?;
        self.record_lan_key(terminal_id, store_id, Some(lan_key))
            .await?;
        tracing::info!(terminal_id, "till LAN key set");
        self.lan_info(store_id).await
    }

    /// Records a till's key (when given) and bumps the store's roster version.
    pub(super) async fn record_lan_key(
        &self,
        terminal_id: &str,
        store_id: &str,
        lan_key: Option<String>,
    ) -> Result<()> {
        self.store_lan(store_id).await?;
        if let Some(lan_key) = lan_key {
            self.storage
                .set_terminal_lan_key(&TerminalLanKey {
                    terminal_id: terminal_id.to_string(),
                    lan_key,
                    set_at: now_ms(),
                })
                .await?;
        }
        self.storage.bump_lan_roster(store_id).await?;
        Ok(())
    }

    /// After a till is revoked: a new store key (version + 1) and a roster marking the till
    /// revoked (version + 1), in one transaction.
    pub(super) async fn rotate_store_key(&self, store_id: &str) -> Result<StoreLanRow> {
        self.store_lan(store_id).await?;
        self.storage
            .rotate_store_key(store_id, &auth::random_token(32))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn lan_keys_from_tills_are_checked() {
        assert!(matches!(check_lan_key("xyz"), Err(Error::BadRequest(_))));
        let k = public_key_hex(&SigningKey::from_bytes(&[3; 32]));
        assert_eq!(check_lan_key(&k.to_uppercase()).unwrap(), k);
    }
}
