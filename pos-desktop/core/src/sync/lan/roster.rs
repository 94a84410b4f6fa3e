//! Honouring the store's LAN roster on the till: which tills (by their LAN keys) this till may
//! sync with on the shop's network, as the server signed it.
//!
//! The roster arrives two ways: from the server (`LanInfo`, at enrolment and from
//! `GET /api/v1/terminal/lan`, over the till's authenticated connection: it also carries the
//! store's signing key, the store key and its version) and in the store root document
//! (`lan_roster`), which tills also sync with each other. Either way a roster is taken only when
//! it verifies against the store's signing key from the server, names this store and is newer
//! than the one held ([`SignedLanRoster::verify_newer`]); an unsigned, forged or older one is
//! ignored with a warning. The signing key itself is only ever taken from the server.

use std::sync::{Arc, Mutex};

use shared_model::documents::{self, StoreRootDoc};
use shared_model::lan_roster::{LanInfo, LanRoster, SignedLanRoster};
use tracing::{info, warn};

use crate::error::{CoreError, CoreResult};
use crate::terminal::Terminal;

use super::super::client::{DeviceCredential, lock};
use super::StoreKey;

const META_SIGNING_KEY: &str = "lan_store_signing_key";
const META_ROSTER: &str = "lan_roster";

impl Terminal {
    /// The store's roster-signing public key (hex), as the server gave it.
    pub fn lan_signing_key(&self) -> CoreResult<Option<String>> {
        self.sync_meta(META_SIGNING_KEY)
    }

    /// The latest verified roster this till holds.
    pub fn lan_roster(&self) -> CoreResult<Option<LanRoster>> {
        let (Some(key), Some(text)) = (self.lan_signing_key()?, self.sync_meta(META_ROSTER)?)
        else {
            return Ok(None);
        };
        let signed: SignedLanRoster = serde_json::from_str(&text)
            .map_err(|e| CoreError::Sync(format!("the stored LAN roster: {e}")))?;
        Ok(Some(signed.verify(&key)?))
    }

    /// The version of the roster held (0 for none).
    pub fn lan_roster_version(&self) -> CoreResult<u64> {
        Ok(self.lan_roster()?.map(|r| r.version).unwrap_or(0))
    }

    fn keep_roster(&mut self, signed: &SignedLanRoster, roster: &LanRoster) -> CoreResult<()> {
        let text = serde_json::to_string(signed)
            .map_err(|e| CoreError::Sync(format!("LAN roster: {e}")))?;
        self.set_sync_meta(META_ROSTER, Some(&text))?;
        info!(
            version = roster.version,
            store_key_version = roster.store_key_version,
            "LAN roster taken"
        );
        Ok(())
    }

    /// A roster found in the store root document (from the server or a peer): taken when it
    /// verifies against the store's signing key, is of this store and is newer than the one
    /// held. Returns whether it was taken; a forged or older one is ignored with a warning.
    pub fn adopt_lan_roster(&mut self, signed: &SignedLanRoster) -> CoreResult<bool> {
        let Some(key) = self.lan_signing_key()? else {
            // No trust anchor yet: only the server can give one.
            return Ok(false);
        };
        let store_id = self.identity()?.store_id.clone();
        let held = self.lan_roster_version()?;
        match signed.verify_newer(&key, &store_id, held) {
            Ok(roster) => {
                self.keep_roster(signed, &roster)?;
                Ok(true)
            }
            Err(e) => {
                // The same roster again is no news; anything else is worth a warning.
                if !matches!(signed.verify(&key), Ok(r) if r.version == held) {
                    warn!(reason = %e, "LAN roster in the store root ignored");
                }
                Ok(false)
            }
        }
    }

    /// Takes the roster of the store root document, when it is newer and signed by the store.
    pub(crate) fn adopt_root_lan_roster(&mut self) -> CoreResult<bool> {
        let root_id = self.identity()?.root_doc.clone();
        let root: StoreRootDoc = documents::read(self.docs.get(&self.conn, &root_id)?)?;
        match root.lan_roster {
            Some(signed) => self.adopt_lan_roster(&signed),
            None => Ok(false),
        }
    }

    /// What the server said about the LAN (at enrolment or from `GET /api/v1/terminal/lan`):
    /// keeps the store's signing key, the roster when newer, the store key when not older.
    pub fn apply_lan_info(&mut self, info: &LanInfo) -> CoreResult<()> {
        if let Some(held) = self.lan_signing_key()?
            && !held.eq_ignore_ascii_case(&info.store_signing_key)
        {
            warn!("the server gave another store signing key; taking the server's");
        }
        let store_id = self.identity()?.store_id.clone();
        // Checked before it is kept: a roster that does not verify against the key given with it
        // means something is wrong with the server's answer.
        let roster = info.roster.verify(&info.store_signing_key)?;
        if roster.store_id != store_id {
            return Err(CoreError::Sync(format!(
                "the server's LAN roster is of store {}",
                roster.store_id
            )));
        }
        self.set_sync_meta(META_SIGNING_KEY, Some(&info.store_signing_key))?;
        if roster.version > self.lan_roster_version()? {
            self.keep_roster(&info.roster, &roster)?;
        }
        if info.store_key_version >= self.store_key_version()? {
            self.set_store_key_version(
                &StoreKey::new(info.store_key.clone())?,
                info.store_key_version,
            )?;
        }
        self.set_pin_pepper(&shared_model::users::PinPepper::from_hex(&info.pin_pepper)?)?;
        Ok(())
    }
}

#[derive(serde::Deserialize)]
struct ErrorReply {
    #[serde(default)]
    message: String,
}

/// Fetches this till's `LanInfo` from the server and applies it; registers the till's LAN key
/// first (`PUT /api/v1/terminal/lan-key`) when the roster does not list it with that key (a till
/// enrolled before LAN keys existed, or one whose key was replaced). Returns the roster version
/// now held.
pub async fn refresh_lan_info(
    terminal: &Arc<Mutex<Terminal>>,
    server_url: &str,
    credential: &DeviceCredential,
    ca_file: Option<&std::path::Path>,
) -> CoreResult<u64> {
    let (code, key) = {
        let mut t = lock(terminal);
        let key = t.lan_identity()?.public_key_hex();
        (t.identity()?.terminal_code.clone(), key)
    };
    let base = server_url.trim_end_matches('/');
    let client = crate::sync::tls::http_client(ca_file, std::time::Duration::from_secs(10))?;
    let answer = |r: reqwest::Response| async move {
        let status = r.status();
        if !status.is_success() {
            let why = r
                .json::<ErrorReply>()
                .await
                .map(|e| e.message)
                .unwrap_or_default();
            return Err(CoreError::Sync(format!(
                "LAN info from the server: {status} {why}"
            )));
        }
        r.json::<LanInfo>()
            .await
            .map_err(|e| CoreError::Sync(format!("LAN info from the server: {e}")))
    };
    let send_err = |e: reqwest::Error| CoreError::Sync(format!("LAN info from the server: {e}"));
    let mut info = answer(
        client
            .get(format!("{base}/api/v1/terminal/lan"))
            .bearer_auth(&credential.0)
            .send()
            .await
            .map_err(send_err)?,
    )
    .await?;
    let listed = info
        .roster
        .verify(&info.store_signing_key)
        .map(|r| r.trusts(&code, &key))
        .unwrap_or(false);
    if !listed {
        info = answer(
            client
                .put(format!("{base}/api/v1/terminal/lan-key"))
                .bearer_auth(&credential.0)
                .json(&serde_json::json!({ "lan_key": key }))
                .send()
                .await
                .map_err(send_err)?,
        )
        .await?;
    }
    let mut t = lock(terminal);
    t.apply_lan_info(&info)?;
    t.lan_roster_version()
}
