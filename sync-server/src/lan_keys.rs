//! The store's roster-signing key as the server keeps it, and the check of the roster a stored
//! store root holds. Apart from the services ([`crate::service`]) and the roster writer
//! ([`crate::lan_publish`]) because the projector ([`crate::store_index`]) calls the check, and
//! the layers below the services must not import them.

use ed25519_dalek::SigningKey;
use shared_model::documents::{self, StoreRootDoc};
use shared_model::lan_roster::public_key_hex;

use crate::error::{Error, Result};
use crate::storage::{DynStorage, StoreLanRow};

/// The store's roster-signing key from its row.
pub fn signing_key(row: &StoreLanRow) -> Result<SigningKey> {
    let bytes: [u8; 32] = hex::decode(&row.signing_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            Error::Internal(format!("store {} has a bad LAN signing key", row.store_id))
        })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// Checks the roster a stored store root holds (the projector calls this for every root it
/// loads): when the server has written a roster into it and the root now holds none, or one
/// that is not signed by the store's key, is of another store, or is older than the one
/// written, the roster is marked for writing again.
pub async fn check_root(
    storage: &DynStorage,
    store_id: &str,
    doc: &(impl automerge::ReadDoc + autosurgeon::ReadDoc + Sync),
) -> Result<()> {
    let Some(row) = storage.store_lan(store_id).await? else {
        return Ok(());
    };
    let published = storage.lan_roster_published(store_id).await?;
    if published == 0 {
        return Ok(());
    }
    let public = public_key_hex(&signing_key(&row)?);
    let held = documents::read::<StoreRootDoc>(doc)
        .ok()
        .and_then(|r| r.lan_roster)
        .and_then(|r| r.verify(&public).ok());
    let sound = held.is_some_and(|r| {
        r.store_id == store_id && i64::try_from(r.version).is_ok_and(|v| v >= published)
    });
    if !sound {
        tracing::warn!(
            store_id,
            "the store root holds no roster the server signed, or an older one; writing it again"
        );
        storage.reset_lan_roster_published(store_id).await?;
    }
    Ok(())
}
