//! The pure proofs of LAN sync: the store key, the HMAC proofs both ends exchange before any
//! document moves, and the mDNS advert of a store's till. No IO: tested without sockets.

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
pub(super) use shared_model::codec::now_ms;

use crate::error::{CoreError, CoreResult};
use crate::terminal::Terminal;

use super::*;

/// The store key from enrolment: the secret the store's terminals share for LAN sync. Hidden
/// from `Debug`, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey(String);

impl StoreKey {
    pub fn new(key: impl Into<String>) -> CoreResult<StoreKey> {
        let key = key.into();
        if key.len() < 16 {
            return Err(CoreError::Invalid(
                "a store key has at least 16 characters".into(),
            ));
        }
        Ok(StoreKey(key))
    }

    fn mac(&self, message: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(message.as_bytes());
        mac
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(<hidden>)")
    }
}

impl Terminal {
    /// Keeps the store key from enrolment (in `sync_meta`, next to the documents).
    pub fn set_store_key(&mut self, key: &StoreKey) -> CoreResult<()> {
        self.set_sync_meta(SYNC_META_KEY, Some(&key.0))
    }

    /// The store key, if this terminal was enrolled with one.
    pub fn store_key(&self) -> CoreResult<Option<StoreKey>> {
        Ok(self.sync_meta(SYNC_META_KEY)?.map(StoreKey))
    }
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

pub(super) fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 32
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Why a proof was refused (said to the peer and logged; never contains the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("no LAN proof")]
    Missing,
    #[error("malformed LAN proof")]
    Malformed,
    #[error("LAN proof is outside the ±5 minute window (clock skew {0} ms)")]
    Stale(i64),
    #[error("LAN proof does not verify (not enrolled in this store)")]
    BadMac,
    #[error("LAN proof was already used")]
    Replayed,
    #[error("the peer claims this terminal's own code")]
    SelfConnection,
}

/// Makes and checks the proofs of one terminal (`docs/lan-sync.md`).
#[derive(Debug, Clone)]
pub struct LanAuth {
    key: StoreKey,
    store_id: String,
    pub(super) terminal_code: String,
}

/// A dialer's proof as sent, kept to check the acceptor's answer.
#[derive(Debug, Clone)]
pub struct DialProof {
    pub header: String,
    mac: String,
}

impl LanAuth {
    pub fn new(key: StoreKey, store_id: &str, terminal_code: &str) -> LanAuth {
        LanAuth {
            key,
            store_id: store_id.into(),
            terminal_code: terminal_code.into(),
        }
    }

    fn dial_message(&self, code: &str, ms: i64, nonce: &str) -> String {
        format!("lan/v1/dial/{}/{code}/{ms}/{nonce}", self.store_id)
    }

    fn accept_message(&self, code: &str, ms: i64, dialer_mac: &str) -> String {
        format!("lan/v1/accept/{}/{code}/{ms}/{dialer_mac}", self.store_id)
    }

    /// The dialer's `Authorization` value:
    /// `SnapKasir-LAN <terminal code>:<unix ms>:<nonce hex>:<HMAC hex>`.
    pub fn dial_proof(&self, ms: i64) -> DialProof {
        let nonce = hex(&rand::rng().random::<[u8; 16]>());
        let mac = hex(&self
            .key
            .mac(&self.dial_message(&self.terminal_code, ms, &nonce))
            .finalize()
            .into_bytes());
        DialProof {
            header: format!("{AUTH_SCHEME} {}:{ms}:{nonce}:{mac}", self.terminal_code),
            mac,
        }
    }

    /// Checks a dialer's `Authorization` value; returns its terminal code and its MAC (the key
    /// of the replay cache and what the acceptor's proof is bound to).
    pub fn check_dial(
        &self,
        header: Option<&str>,
        now: i64,
    ) -> Result<(String, String), ProofError> {
        let header = header.ok_or(ProofError::Missing)?;
        let rest = header
            .strip_prefix(AUTH_SCHEME)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(ProofError::Malformed)?;
        let parts: Vec<&str> = rest.split(':').collect();
        let [code, ms, nonce, mac] = parts[..] else {
            return Err(ProofError::Malformed);
        };
        let ms: i64 = ms.parse().map_err(|_| ProofError::Malformed)?;
        if !valid_code(code) || nonce.len() != 32 || unhex(nonce).is_none() {
            return Err(ProofError::Malformed);
        }
        let mac_bytes = unhex(mac).ok_or(ProofError::Malformed)?;
        if (now - ms).abs() > MAX_PROOF_AGE_MS {
            return Err(ProofError::Stale(now - ms));
        }
        self.key
            .mac(&self.dial_message(code, ms, nonce))
            .verify_slice(&mac_bytes)
            .map_err(|_| ProofError::BadMac)?;
        if code == self.terminal_code {
            return Err(ProofError::SelfConnection);
        }
        Ok((code.to_string(), mac.to_ascii_lowercase()))
    }

    /// The acceptor's answer (`x-snapkasir-lan: <terminal code>:<unix ms>:<HMAC hex>`), bound to
    /// the dialer's MAC so it cannot be replayed to another dialer.
    pub fn accept_proof(&self, ms: i64, dialer_mac: &str) -> String {
        let mac = self
            .key
            .mac(&self.accept_message(&self.terminal_code, ms, dialer_mac))
            .finalize()
            .into_bytes();
        format!("{}:{ms}:{}", self.terminal_code, hex(&mac))
    }

    /// Checks the acceptor's answer to our proof; returns its terminal code.
    pub fn check_accept(
        &self,
        header: Option<&str>,
        sent: &DialProof,
        now: i64,
    ) -> Result<String, ProofError> {
        let header = header.ok_or(ProofError::Missing)?;
        let parts: Vec<&str> = header.split(':').collect();
        let [code, ms, mac] = parts[..] else {
            return Err(ProofError::Malformed);
        };
        let ms: i64 = ms.parse().map_err(|_| ProofError::Malformed)?;
        let mac = unhex(mac).ok_or(ProofError::Malformed)?;
        if !valid_code(code) {
            return Err(ProofError::Malformed);
        }
        if (now - ms).abs() > MAX_PROOF_AGE_MS {
            return Err(ProofError::Stale(now - ms));
        }
        self.key
            .mac(&self.accept_message(code, ms, &sent.mac))
            .verify_slice(&mac)
            .map_err(|_| ProofError::BadMac)?;
        if code == self.terminal_code {
            return Err(ProofError::SelfConnection);
        }
        Ok(code.to_string())
    }

    /// What the terminal advertises as its store in mDNS: an HMAC of the store id under the
    /// store key (16 hex digits), so that only the store's own tills can tell which store it is.
    pub fn store_tag(&self) -> String {
        let mac = self
            .key
            .mac(&format!("lan/v1/mdns/{}", self.store_id))
            .finalize()
            .into_bytes();
        hex(&mac[..8])
    }

    /// The TXT records of this terminal's mDNS advert.
    pub fn txt_records(&self) -> Vec<(String, String)> {
        vec![
            ("v".into(), "1".into()),
            ("store".into(), self.store_tag()),
            ("code".into(), self.terminal_code.clone()),
        ]
    }

    /// The terminal code of a discovered advert if it is another terminal of this store.
    pub fn peer_of_advert(&self, txt: &HashMap<String, String>) -> Option<String> {
        if txt.get("v").map(String::as_str) != Some("1") {
            return None;
        }
        if txt.get("store")? != &self.store_tag() {
            return None;
        }
        let code = txt.get("code")?;
        (valid_code(code) && *code != self.terminal_code).then(|| code.clone())
    }

    /// Whether this terminal dials a discovered peer: of two tills that both discover each
    /// other, the one with the smaller code dials, so they open one connection, not two.
    pub fn dials_discovered(&self, peer_code: &str) -> bool {
        self.terminal_code.as_str() < peer_code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(key: &str, code: &str) -> LanAuth {
        LanAuth::new(StoreKey::new(key).unwrap(), "store-1", code)
    }

    #[test]
    fn lan_proofs_authenticate_both_ends() {
        let a = auth("kunci-toko-rahasia-1", "T1");
        let b = auth("kunci-toko-rahasia-1", "T2");
        let now = now_ms();
        let proof = a.dial_proof(now);
        let (code, mac) = b.check_dial(Some(&proof.header), now + 1000).unwrap();
        assert_eq!(code, "T1");
        let answer = b.accept_proof(now, &mac);
        assert_eq!(a.check_accept(Some(&answer), &proof, now).unwrap(), "T2");
        // The answer is bound to the dialer's proof: it does not verify another dial.
        let other = a.dial_proof(now);
        assert_eq!(
            a.check_accept(Some(&answer), &other, now),
            Err(ProofError::BadMac)
        );
    }

    #[test]
    fn lan_proofs_refuse_wrong_key_stale_tampered_and_self() {
        let a = auth("kunci-toko-rahasia-1", "T1");
        let b = auth("kunci-toko-rahasia-1", "T2");
        let stranger = auth("kunci-toko-lain-0000", "T9");
        let now = now_ms();
        let p = stranger.dial_proof(now);
        assert_eq!(b.check_dial(Some(&p.header), now), Err(ProofError::BadMac));
        let p = a.dial_proof(now - MAX_PROOF_AGE_MS - 1);
        assert!(matches!(
            b.check_dial(Some(&p.header), now),
            Err(ProofError::Stale(_))
        ));
        let p = a.dial_proof(now);
        let tampered = p.header.replacen("T1:", "T3:", 1);
        assert_eq!(b.check_dial(Some(&tampered), now), Err(ProofError::BadMac));
        assert_eq!(b.check_dial(None, now), Err(ProofError::Missing));
        assert_eq!(
            b.check_dial(Some("Bearer abc"), now),
            Err(ProofError::Malformed)
        );
        assert_eq!(
            a.check_dial(Some(&p.header), now),
            Err(ProofError::SelfConnection)
        );
        // A stranger cannot answer as an acceptor of this store either.
        let (_, mac) = b.check_dial(Some(&p.header), now).unwrap();
        let fake = stranger.accept_proof(now, &mac);
        assert_eq!(
            a.check_accept(Some(&fake), &p, now),
            Err(ProofError::BadMac)
        );
    }

    #[test]
    fn lan_store_key_is_hidden_from_debug() {
        let k = StoreKey::new("kunci-toko-rahasia-1").unwrap();
        assert!(!format!("{k:?}").contains("rahasia"));
        assert!(!format!("{:?}", auth("kunci-toko-rahasia-1", "T1")).contains("rahasia"));
        assert!(StoreKey::new("short").is_err());
    }

    #[test]
    fn lan_discovery_keeps_only_peers_of_the_same_store() {
        let a = auth("kunci-toko-rahasia-1", "T1");
        let b = auth("kunci-toko-rahasia-1", "T2");
        let other_store = LanAuth::new(
            StoreKey::new("kunci-toko-rahasia-1").unwrap(),
            "store-2",
            "T2",
        );
        let other_key = auth("kunci-toko-lain-0000", "T2");
        let map =
            |a: &LanAuth| -> HashMap<String, String> { a.txt_records().into_iter().collect() };
        assert_eq!(a.peer_of_advert(&map(&b)), Some("T2".into()));
        assert_eq!(b.peer_of_advert(&map(&a)), Some("T1".into()));
        assert_eq!(a.peer_of_advert(&map(&a)), None, "itself");
        assert_eq!(a.peer_of_advert(&map(&other_store)), None);
        assert_eq!(a.peer_of_advert(&map(&other_key)), None);
        // The advert does not carry the store id.
        assert!(map(&a).values().all(|v| !v.contains("store-1")));
        let mut bad = map(&b);
        bad.insert("code".into(), "T2:evil".into());
        assert_eq!(a.peer_of_advert(&bad), None);
        let mut v2 = map(&b);
        v2.insert("v".into(), "2".into());
        assert_eq!(a.peer_of_advert(&v2), None);
        // Exactly one of two tills dials the other.
        assert!(a.dials_discovered("T2") != b.dials_discovered("T1"));
    }
}
