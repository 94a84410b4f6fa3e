//! The pure proofs of LAN sync: the store key, the HMAC proofs both ends exchange inside the TLS
//! tunnel before any document moves (each names its target and is bound to the TLS session), and
//! the mDNS advert of a store's till. No IO: tested without sockets.

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use sha2::Sha256;

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

    /// Keeps the store key with its version (the server rotates it when a till is revoked).
    pub fn set_store_key_version(&mut self, key: &StoreKey, version: u32) -> CoreResult<()> {
        self.set_sync_meta(SYNC_META_KEY, Some(&key.0))?;
        self.set_sync_meta(SYNC_META_KEY_VERSION, Some(&version.to_string()))
    }

    /// The version of the store key this till holds (0 when the server never said).
    pub fn store_key_version(&self) -> CoreResult<u32> {
        Ok(self
            .sync_meta(SYNC_META_KEY_VERSION)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
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
    #[error("LAN proof does not verify (not enrolled in this store, or not for this connection)")]
    BadMac,
    #[error("the peer claims this terminal's own code")]
    SelfConnection,
    #[error("the peer holds an older store key (version {peer}, this till has {ours})")]
    OlderStoreKey { peer: u32, ours: u32 },
    #[error("the peer holds a newer store key (version {peer}, this till has {ours})")]
    NewerStoreKey { peer: u32, ours: u32 },
}

/// What a proof is bound to: this TLS session (its exported keying material, RFC 5705/8446 §7.5,
/// unique per connection) and the certificate keys of both ends, so a proof made for one
/// connection and one target verifies for no other.
#[derive(Clone, PartialEq, Eq)]
pub struct Binding {
    pub exporter: [u8; 32],
    pub dialer_key: [u8; 32],
    pub acceptor_key: [u8; 32],
}

impl std::fmt::Debug for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binding")
            .field("dialer_key", &hex(&self.dialer_key))
            .field("acceptor_key", &hex(&self.acceptor_key))
            .finish_non_exhaustive()
    }
}

impl Binding {
    fn text(&self) -> String {
        format!(
            "{}/{}/{}",
            hex(&self.dialer_key),
            hex(&self.acceptor_key),
            hex(&self.exporter)
        )
    }
}

/// Makes and checks the proofs of one terminal (`docs/lan-sync.md`).
#[derive(Debug, Clone)]
pub struct LanAuth {
    key: StoreKey,
    key_version: u32,
    /// The newest store key version this till knows of (its own, or the roster's when that is
    /// newer): a peer with an older one is refused.
    known_version: u32,
    /// What the mDNS store tag is keyed with: the store's roster-signing public key when the
    /// till has one (stable across store key rotations), else the store key.
    tag_key: Option<String>,
    store_id: String,
    pub(super) terminal_code: String,
}

/// A dialer's proof as sent, kept to check the acceptor's answer.
#[derive(Debug, Clone)]
pub struct DialProof {
    pub header: String,
    mac: String,
}

fn split_proof(s: &str) -> Result<(&str, u32, Vec<u8>), ProofError> {
    let parts: Vec<&str> = s.split(':').collect();
    let [code, version, mac] = parts[..] else {
        return Err(ProofError::Malformed);
    };
    let version: u32 = version.parse().map_err(|_| ProofError::Malformed)?;
    let mac = unhex(mac).ok_or(ProofError::Malformed)?;
    if !valid_code(code) {
        return Err(ProofError::Malformed);
    }
    Ok((code, version, mac))
}

impl LanAuth {
    pub fn new(key: StoreKey, key_version: u32, store_id: &str, terminal_code: &str) -> LanAuth {
        LanAuth {
            key,
            key_version,
            known_version: key_version,
            tag_key: None,
            store_id: store_id.into(),
            terminal_code: terminal_code.into(),
        }
    }

    /// The same, knowing from the roster that store key `version` exists.
    pub fn knowing_version(mut self, version: u32) -> LanAuth {
        self.known_version = self.key_version.max(version);
        self
    }

    /// The same, with the mDNS store tag keyed by the store's roster-signing public key.
    pub fn with_tag_key(mut self, signing_key_hex: &str) -> LanAuth {
        self.tag_key = Some(signing_key_hex.to_ascii_lowercase());
        self
    }

    /// The version of the store key this till holds.
    pub fn key_version(&self) -> u32 {
        self.key_version
    }

    fn dial_message(&self, code: &str, b: &Binding) -> String {
        format!(
            "lan/v2/dial/{}/{}/{code}/{}",
            self.store_id,
            self.key_version,
            b.text()
        )
    }

    fn accept_message(&self, code: &str, b: &Binding, dialer_mac: &str) -> String {
        format!(
            "lan/v2/accept/{}/{}/{code}/{}/{dialer_mac}",
            self.store_id,
            self.key_version,
            b.text()
        )
    }

    fn versions_match(&self, peer: u32) -> Result<(), ProofError> {
        if peer < self.known_version {
            return Err(ProofError::OlderStoreKey {
                peer,
                ours: self.known_version,
            });
        }
        let ours = self.key_version;
        match peer.cmp(&ours) {
            std::cmp::Ordering::Less => Err(ProofError::OlderStoreKey { peer, ours }),
            std::cmp::Ordering::Greater => Err(ProofError::NewerStoreKey { peer, ours }),
            std::cmp::Ordering::Equal => Ok(()),
        }
    }

    /// The dialer's `Authorization` value inside the TLS tunnel:
    /// `SnapKasir-LAN <terminal code>:<store key version>:<HMAC hex>`, the HMAC over the store
    /// id, the key version, the dialer's code, both certificate keys (the target's names it)
    /// and this session's exporter.
    pub fn dial_proof(&self, b: &Binding) -> DialProof {
        let mac = hex(&self
            .key
            .mac(&self.dial_message(&self.terminal_code, b))
            .finalize()
            .into_bytes());
        DialProof {
            header: format!(
                "{AUTH_SCHEME} {}:{}:{mac}",
                self.terminal_code, self.key_version
            ),
            mac,
        }
    }

    /// Checks a dialer's `Authorization` value for this session; returns its terminal code and
    /// its MAC (what the acceptor's proof is bound to).
    pub fn check_dial(
        &self,
        header: Option<&str>,
        b: &Binding,
    ) -> Result<(String, String), ProofError> {
        let header = header.ok_or(ProofError::Missing)?;
        let rest = header
            .strip_prefix(AUTH_SCHEME)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(ProofError::Malformed)?;
        let (code, version, mac) = split_proof(rest)?;
        self.versions_match(version)?;
        self.key
            .mac(&self.dial_message(code, b))
            .verify_slice(&mac)
            .map_err(|_| ProofError::BadMac)?;
        if code == self.terminal_code {
            return Err(ProofError::SelfConnection);
        }
        Ok((code.to_string(), hex(&mac)))
    }

    /// The acceptor's answer (`x-snapkasir-lan: <terminal code>:<store key version>:<HMAC hex>`),
    /// bound to the session and to the dialer's MAC.
    pub fn accept_proof(&self, b: &Binding, dialer_mac: &str) -> String {
        let mac = self
            .key
            .mac(&self.accept_message(&self.terminal_code, b, dialer_mac))
            .finalize()
            .into_bytes();
        format!("{}:{}:{}", self.terminal_code, self.key_version, hex(&mac))
    }

    /// Checks the acceptor's answer to our proof; returns its terminal code.
    pub fn check_accept(
        &self,
        header: Option<&str>,
        sent: &DialProof,
        b: &Binding,
    ) -> Result<String, ProofError> {
        let (code, version, mac) = split_proof(header.ok_or(ProofError::Missing)?)?;
        self.versions_match(version)?;
        self.key
            .mac(&self.accept_message(code, b, &sent.mac))
            .verify_slice(&mac)
            .map_err(|_| ProofError::BadMac)?;
        if code == self.terminal_code {
            return Err(ProofError::SelfConnection);
        }
        Ok(code.to_string())
    }

    /// What the terminal advertises as its store in mDNS: an HMAC of the store id (16 hex
    /// digits) under the store's roster-signing public key, which only the store's tills get from
    /// the server (under the store key when the till has none), so that only they can tell which
    /// store it is; unlike the store key it does not change when a till is revoked.
    pub fn store_tag(&self) -> String {
        let message = format!("lan/v1/mdns/{}", self.store_id);
        let mac = match &self.tag_key {
            Some(k) => {
                let mut m = <Hmac<Sha256> as Mac>::new_from_slice(k.as_bytes())
                    .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
                m.update(message.as_bytes());
                m
            }
            None => self.key.mac(&message),
        }
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
        LanAuth::new(StoreKey::new(key).unwrap(), 1, "store-1", code)
    }

    fn binding(seed: u8) -> Binding {
        Binding {
            exporter: [seed; 32],
            dialer_key: [1; 32],
            acceptor_key: [2; 32],
        }
    }

    #[test]
    fn lan_proofs_authenticate_both_ends() {
        let a = auth("kunci-toko-rahasia-1", "T1");
        let b = auth("kunci-toko-rahasia-1", "T2");
        let s = binding(7);
        let proof = a.dial_proof(&s);
        let (code, mac) = b.check_dial(Some(&proof.header), &s).unwrap();
        assert_eq!(code, "T1");
        let answer = b.accept_proof(&s, &mac);
        assert_eq!(a.check_accept(Some(&answer), &proof, &s).unwrap(), "T2");
        // The answer is bound to the dialer's proof and session.
        let other = a.dial_proof(&binding(8));
        assert_eq!(
            a.check_accept(Some(&answer), &other, &binding(8)),
            Err(ProofError::BadMac)
        );
    }

    #[test]
    fn lan_proof_is_useless_in_another_session_or_to_another_target() {
        let a = auth("kunci-toko-rahasia-1", "T1");
        let b = auth("kunci-toko-rahasia-1", "T2");
        let s = binding(7);
        let proof = a.dial_proof(&s);
        // Replayed in another TLS session (another exporter) to the same till.
        assert_eq!(
            b.check_dial(Some(&proof.header), &binding(9)),
            Err(ProofError::BadMac)
        );
        // Replayed to another till (another acceptor key), even with the same exporter.
        let mut elsewhere = s.clone();
        elsewhere.acceptor_key = [3; 32];
        assert_eq!(
            b.check_dial(Some(&proof.header), &elsewhere),
            Err(ProofError::BadMac)
        );
        // Presented by another dialer key.
        let mut thief = s.clone();
        thief.dialer_key = [4; 32];
        assert_eq!(
            b.check_dial(Some(&proof.header), &thief),
            Err(ProofError::BadMac)
        );
    }

    #[test]
    fn lan_proofs_refuse_wrong_key_tampered_self_and_other_key_versions() {
        let a = auth("kunci-toko-rahasia-1", "T1");
        let b = auth("kunci-toko-rahasia-1", "T2");
        let stranger = auth("kunci-toko-lain-0000", "T9");
        let s = binding(1);
        let p = stranger.dial_proof(&s);
        assert_eq!(b.check_dial(Some(&p.header), &s), Err(ProofError::BadMac));
        let p = a.dial_proof(&s);
        let tampered = p.header.replacen("T1:", "T3:", 1);
        assert_eq!(b.check_dial(Some(&tampered), &s), Err(ProofError::BadMac));
        assert_eq!(b.check_dial(None, &s), Err(ProofError::Missing));
        assert_eq!(
            b.check_dial(Some("Bearer abc"), &s),
            Err(ProofError::Malformed)
        );
        assert_eq!(
            a.check_dial(Some(&p.header), &s),
            Err(ProofError::SelfConnection)
        );
        let (_, mac) = b.check_dial(Some(&p.header), &s).unwrap();
        let fake = stranger.accept_proof(&s, &mac);
        assert_eq!(a.check_accept(Some(&fake), &p, &s), Err(ProofError::BadMac));
        // A till with an older store key is told so (and a newer one too).
        let old = LanAuth::new(
            StoreKey::new("kunci-toko-lama-0001").unwrap(),
            0,
            "store-1",
            "T3",
        );
        let p = old.dial_proof(&s);
        assert_eq!(
            b.check_dial(Some(&p.header), &s),
            Err(ProofError::OlderStoreKey { peer: 0, ours: 1 })
        );
        let p = b.dial_proof(&s);
        assert_eq!(
            old.check_dial(Some(&p.header), &s),
            Err(ProofError::NewerStoreKey { peer: 1, ours: 0 })
        );
    }

    #[test]
    fn lan_store_key_is_hidden_from_debug() {
        let k = StoreKey::new("kunci-toko-rahasia-1").unwrap();
        assert!(!format!("{k:?}").contains("rahasia"));
        assert!(!format!("{:?}", auth("kunci-toko-rahasia-1", "T1")).contains("rahasia"));
        assert!(!format!("{:?}", binding(0xab)).contains("abab"));
        assert!(StoreKey::new("short").is_err());
    }

    #[test]
    fn lan_discovery_keeps_only_peers_of_the_same_store() {
        let a = auth("kunci-toko-rahasia-1", "T1");
        let b = auth("kunci-toko-rahasia-1", "T2");
        let other_store = LanAuth::new(
            StoreKey::new("kunci-toko-rahasia-1").unwrap(),
            1,
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
