//! The LAN roster: which tills of a store may sync with each other on the shop's network, as
//! the server signed it. Defined once for the server (which signs and publishes it) and the
//! tills (which verify it and honour it); pure data and signature checks, no IO.
//!
//! Every till holds an Ed25519 *LAN key* of its own (the private half never leaves it; the
//! server learns the public half at enrolment or through `PUT /api/v1/terminal/lan-key`). The
//! server keeps one Ed25519 *roster-signing key* per store and signs the roster with it: the
//! store's tills with their LAN keys and whether each is revoked, a version that grows with
//! every change, and the version of the store key in force. The signed roster travels in the
//! store root document (`lan_roster`), which tills also sync with each other, so a till accepts
//! a roster only when it is signed by its store's key, names its store, and is newer than the
//! one it holds ([`SignedLanRoster::verify_newer`]). `ed25519-dalek` 2 does the signatures: the
//! RustCrypto/dalek implementation, pure Rust, audited and widely used.
//!
//! What a till receives from the server (at enrolment and from `GET /api/v1/terminal/lan`) is
//! [`LanInfo`]: the store's public signing key, the signed roster, the current store key and
//! its version, and the store's PIN pepper (see [`crate::users`]).

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, ModelResult};

/// Length in bytes of an Ed25519 public key (64 hex characters on the wire).
pub const LAN_KEY_LEN: usize = 32;

fn invalid(field: &'static str, reason: impl Into<String>) -> ModelError {
    ModelError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// Parses a hex Ed25519 public key (a till's LAN key or a store's signing key).
pub fn parse_public_key(hex_key: &str) -> ModelResult<VerifyingKey> {
    let bytes =
        hex::decode(hex_key.trim()).map_err(|e| invalid("Ed25519 public key", e.to_string()))?;
    let bytes: [u8; LAN_KEY_LEN] = bytes
        .try_into()
        .map_err(|_| invalid("Ed25519 public key", "must be 32 bytes (64 hex digits)"))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| invalid("Ed25519 public key", e.to_string()))
}

/// A till's LAN key in the one spelling the roster uses (lower-case hex), after checking its
/// form: 32 bytes as 64 hex digits. Whether the bytes are a usable Ed25519 point is the till's
/// own concern (a till that sent a bad key cannot prove itself to anyone), so the server's API
/// accepts every key its OpenAPI schema describes.
pub fn normalize_lan_key(hex_key: &str) -> ModelResult<String> {
    let key = hex_key.trim();
    if key.len() != 2 * LAN_KEY_LEN || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid("LAN key", "must be 32 bytes (64 hex digits)"));
    }
    Ok(key.to_ascii_lowercase())
}

/// The public half of a signing key, hex, as [`LanInfo::store_signing_key`] carries it.
pub fn public_key_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().as_bytes())
}

/// One till of the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterTill {
    pub terminal_id: String,
    /// `T1`, `T2`, … (the second half of its peer id and receipt numbers).
    pub terminal_code: String,
    /// The till's Ed25519 LAN public key, 64 lower-case hex digits; empty while the till has
    /// not given one (such a till is trusted by nobody on the LAN).
    pub lan_key: String,
    /// Revoked tills stay listed so that a till holding an older roster learns of it.
    pub revoked: bool,
}

/// The store's tills as the server vouches for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LanRoster {
    pub store_id: String,
    /// Grows by one with every change (a till enrolled, a key set, a till revoked).
    pub version: u64,
    /// The version of the store key in force; a revocation rotates the key and bumps this.
    pub store_key_version: u32,
    /// When the server signed this version (unix ms).
    pub issued_at_ms: i64,
    pub tills: Vec<RosterTill>,
}

impl LanRoster {
    /// Whether the till `terminal_code` holding `lan_key` (hex) is a till of this roster that
    /// is not revoked. A till without a key is trusted by nobody.
    pub fn trusts(&self, terminal_code: &str, lan_key: &str) -> bool {
        let Ok(key) = normalize_lan_key(lan_key) else {
            return false;
        };
        self.tills.iter().any(|t| {
            t.terminal_code == terminal_code
                && !t.revoked
                && !t.lan_key.is_empty()
                && t.lan_key == key
        })
    }

    /// The till of `terminal_code`, revoked or not.
    pub fn till(&self, terminal_code: &str) -> Option<&RosterTill> {
        self.tills.iter().find(|t| t.terminal_code == terminal_code)
    }

    /// The JSON the signature covers: serde's field order of these structs, no whitespace.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("a roster always serialises")
    }
}

/// A roster with the store's signature, as it travels in the store root document and in
/// [`LanInfo`]. `roster` is the exact text that was signed; readers parse it only after the
/// signature checks out.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    autosurgeon::Reconcile,
    autosurgeon::Hydrate,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedLanRoster {
    /// The roster as canonical JSON ([`LanRoster::canonical_json`]).
    pub roster: String,
    /// Ed25519 signature over the bytes of `roster`, 128 hex digits.
    pub signature: String,
}

impl SignedLanRoster {
    /// Signs `roster` with the store's roster-signing key.
    pub fn sign(roster: &LanRoster, key: &SigningKey) -> Self {
        let text = roster.canonical_json();
        let signature = key.sign(text.as_bytes());
        SignedLanRoster {
            roster: text,
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// The roster, once its signature checks out against the store's public signing key
    /// (hex). An unsigned, badly signed or unparsable roster is an error.
    pub fn verify(&self, store_signing_public_key: &str) -> ModelResult<LanRoster> {
        let key = parse_public_key(store_signing_public_key)?;
        let sig =
            hex::decode(&self.signature).map_err(|e| invalid("roster signature", e.to_string()))?;
        let sig: [u8; 64] = sig
            .try_into()
            .map_err(|_| invalid("roster signature", "must be 64 bytes (128 hex digits)"))?;
        key.verify(self.roster.as_bytes(), &Signature::from_bytes(&sig))
            .map_err(|_| invalid("roster signature", "does not match the store's signing key"))?;
        serde_json::from_str(&self.roster).map_err(|e| invalid("LAN roster", e.to_string()))
    }

    /// What a till does with a roster it finds in the store root document: verifies it, checks
    /// that it is of `store_id`, and accepts it only when its version is above `held_version`
    /// (the version of the roster the till trusts now; 0 for none). A replayed older roster,
    /// another store's, or a forged one is an error and the till keeps the one it holds.
    pub fn verify_newer(
        &self,
        store_signing_public_key: &str,
        store_id: &str,
        held_version: u64,
    ) -> ModelResult<LanRoster> {
        let roster = self.verify(store_signing_public_key)?;
        if roster.store_id != store_id {
            return Err(invalid(
                "LAN roster",
                format!("is of store {}", roster.store_id),
            ));
        }
        if roster.version <= held_version {
            return Err(invalid(
                "LAN roster",
                format!(
                    "version {} is not newer than {held_version}",
                    roster.version
                ),
            ));
        }
        Ok(roster)
    }
}

/// What a till receives from the server for the LAN: at enrolment (besides the enrolment
/// fields) and from `GET /api/v1/terminal/lan`. Secrets are hidden from `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LanInfo {
    /// The store's Ed25519 roster-signing public key, 64 hex digits.
    pub store_signing_key: String,
    /// The current roster, signed.
    pub roster: SignedLanRoster,
    /// The store key in force (secret; rotated when a till is revoked).
    pub store_key: String,
    pub store_key_version: u32,
    /// The store's PIN pepper, 64 hex digits (secret; never written in any document): the
    /// argon2 secret of PIN hashes ([`crate::users::PinPepper`]).
    pub pin_pepper: String,
}

impl std::fmt::Debug for LanInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanInfo")
            .field("store_signing_key", &self.store_signing_key)
            .field("store_key_version", &self.store_key_version)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn roster(version: u64) -> LanRoster {
        LanRoster {
            store_id: "s1".into(),
            version,
            store_key_version: 1,
            issued_at_ms: 1,
            tills: vec![
                RosterTill {
                    terminal_id: "a".into(),
                    terminal_code: "T1".into(),
                    lan_key: public_key_hex(&key(1)),
                    revoked: false,
                },
                RosterTill {
                    terminal_id: "b".into(),
                    terminal_code: "T2".into(),
                    lan_key: public_key_hex(&key(2)),
                    revoked: true,
                },
                RosterTill {
                    terminal_id: "c".into(),
                    terminal_code: "T3".into(),
                    lan_key: String::new(),
                    revoked: false,
                },
            ],
        }
    }

    #[test]
    fn a_signed_roster_verifies_and_trusts_only_live_keyed_tills() {
        let store = key(9);
        let signed = SignedLanRoster::sign(&roster(3), &store);
        let r = signed.verify(&public_key_hex(&store)).unwrap();
        assert_eq!(r, roster(3));
        assert!(r.trusts("T1", &public_key_hex(&key(1))));
        assert!(r.trusts("T1", &public_key_hex(&key(1)).to_uppercase()));
        assert!(
            !r.trusts("T1", &public_key_hex(&key(2))),
            "another till's key"
        );
        assert!(!r.trusts("T2", &public_key_hex(&key(2))), "revoked");
        assert!(!r.trusts("T3", ""), "no key");
        assert!(!r.trusts("T4", &public_key_hex(&key(4))), "not listed");
    }

    #[test]
    fn forged_tampered_older_and_foreign_rosters_are_refused() {
        let store = key(9);
        let public = public_key_hex(&store);
        let forged = SignedLanRoster::sign(&roster(5), &key(8));
        assert!(forged.verify(&public).is_err());
        let mut tampered = SignedLanRoster::sign(&roster(5), &store);
        tampered.roster = tampered.roster.replace("true", "false");
        assert!(tampered.verify(&public).is_err());
        let unsigned = SignedLanRoster {
            roster: roster(5).canonical_json(),
            signature: String::new(),
        };
        assert!(unsigned.verify(&public).is_err());
        let old = SignedLanRoster::sign(&roster(2), &store);
        assert!(old.verify_newer(&public, "s1", 3).is_err());
        assert!(old.verify_newer(&public, "s1", 2).is_err());
        assert!(old.verify_newer(&public, "s2", 0).is_err());
        assert_eq!(old.verify_newer(&public, "s1", 1).unwrap().version, 2);
    }

    #[test]
    fn lan_keys_are_checked_and_normalised() {
        assert!(normalize_lan_key("abcd").is_err());
        assert!(normalize_lan_key(&"zz".repeat(32)).is_err());
        let k = public_key_hex(&key(1));
        assert_eq!(normalize_lan_key(&k.to_uppercase()).unwrap(), k);
    }

    #[test]
    fn lan_info_hides_its_secrets() {
        let info = LanInfo {
            store_signing_key: "pub".into(),
            roster: SignedLanRoster::sign(&roster(1), &key(9)),
            store_key: "secret-store-key".into(),
            store_key_version: 1,
            pin_pepper: "secret-pepper".into(),
        };
        let shown = format!("{info:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
