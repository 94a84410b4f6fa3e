//! Device credentials recently accepted, so that a till's heartbeat every 2 s and each of its
//! sync connections do not all look its credential up in the database (a heartbeat took a
//! pooled connection three times: for its credential, its report and its lookup).
//!
//! A credential is kept for [`KEEP_MS`] after its lookup. A revocation made here forgets its
//! terminal at once; one made on another instance or by the admin CLI is forgotten at the next
//! revocation poll (`revocation_poll_ms`), when that terminal's open connections close too, and
//! by [`KEEP_MS`] at the latest if the polls fail. Each poll reports the revocations of the last
//! 5 s, so a lookup that raced a revocation here is forgotten by the next poll too. Unknown and
//! revoked credentials are never kept. Hand-written: a map with an age check is all this needs,
//! and the eviction by terminal id is not a cache crate's key.
//!
//! It also remembers when each terminal's `last_seen_at` was last written (by a touch or a
//! heartbeat report), so that a kept credential does not touch its row on every request.

use std::collections::HashMap;
use std::sync::Mutex;

/// How long an accepted credential is kept.
pub const KEEP_MS: i64 = 30_000;

/// Past this many credentials, everything is forgotten (a bound on memory; it costs one lookup
/// per terminal).
const MAX_KEPT: usize = 200_000;

/// The terminal behind an accepted credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownTerminal {
    pub terminal_id: String,
    pub tenant_id: String,
    pub store_id: String,
}

#[derive(Debug)]
struct Kept {
    terminal: KnownTerminal,
    looked_up_at: i64,
}

#[derive(Debug, Default)]
struct Inner {
    /// By the credential's SHA-256 (hex).
    by_hash: HashMap<String, Kept>,
    /// When each terminal's `last_seen_at` was last written, by terminal id.
    seen_at: HashMap<String, i64>,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct DeviceCredentials {
    inner: Mutex<Inner>,
}

impl DeviceCredentials {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The terminal of a credential accepted less than [`KEEP_MS`] before `now`.
    pub fn get(&self, hash: &str, now: i64) -> Option<KnownTerminal> {
        let mut inner = self.lock();
        match inner.by_hash.get(hash) {
            Some(k) if now - k.looked_up_at < KEEP_MS => Some(k.terminal.clone()),
            Some(_) => {
                inner.by_hash.remove(hash);
                None
            }
            None => None,
        }
    }

    /// Keeps a credential just looked up and found valid, with its row's `last_seen_at`.
    pub fn keep(&self, hash: &str, terminal: KnownTerminal, last_seen_at: Option<i64>, now: i64) {
        let mut inner = self.lock();
        if inner.by_hash.len() >= MAX_KEPT {
            *inner = Inner::default();
        }
        if let Some(at) = last_seen_at {
            let seen = inner
                .seen_at
                .entry(terminal.terminal_id.clone())
                .or_insert(at);
            *seen = (*seen).max(at);
        }
        inner.by_hash.insert(
            hash.to_string(),
            Kept {
                terminal,
                looked_up_at: now,
            },
        );
    }

    /// When the terminal's `last_seen_at` was last written, as far as this instance knows.
    pub fn seen_at(&self, terminal_id: &str) -> Option<i64> {
        self.lock().seen_at.get(terminal_id).copied()
    }

    /// The terminal's `last_seen_at` was written with `at`.
    pub fn seen(&self, terminal_id: &str, at: i64) {
        let mut inner = self.lock();
        if inner.seen_at.len() >= MAX_KEPT {
            inner.seen_at.clear();
        }
        let seen = inner.seen_at.entry(terminal_id.to_string()).or_insert(at);
        *seen = (*seen).max(at);
    }

    /// Forgets every credential of a terminal (it was revoked).
    pub fn forget_terminal(&self, terminal_id: &str) {
        let mut inner = self.lock();
        inner
            .by_hash
            .retain(|_, k| k.terminal.terminal_id != terminal_id);
        inner.seen_at.remove(terminal_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn till(id: &str) -> KnownTerminal {
        KnownTerminal {
            terminal_id: id.into(),
            tenant_id: "t".into(),
            store_id: "s".into(),
        }
    }

    #[test]
    fn a_kept_credential_is_answered_until_it_is_too_old() {
        let kept = DeviceCredentials::default();
        kept.keep("h1", till("a"), None, 1_000);
        assert_eq!(kept.get("h1", 1_000 + KEEP_MS - 1), Some(till("a")));
        assert_eq!(kept.get("h1", 1_000 + KEEP_MS), None);
        assert_eq!(kept.get("h1", 1_000), None, "an expired entry is dropped");
        assert_eq!(kept.get("h2", 1_000), None);
    }

    #[test]
    fn a_revoked_terminal_is_forgotten_with_all_its_credentials() {
        let kept = DeviceCredentials::default();
        kept.keep("h1", till("a"), Some(5), 0);
        kept.keep("h2", till("a"), None, 0);
        kept.keep("h3", till("b"), None, 0);
        kept.forget_terminal("a");
        assert_eq!(kept.get("h1", 1), None);
        assert_eq!(kept.get("h2", 1), None);
        assert_eq!(kept.get("h3", 1), Some(till("b")));
        assert_eq!(kept.seen_at("a"), None);
    }

    #[test]
    fn the_last_seen_time_only_moves_forward() {
        let kept = DeviceCredentials::default();
        kept.keep("h1", till("a"), Some(100), 0);
        kept.seen("a", 50);
        assert_eq!(kept.seen_at("a"), Some(100));
        kept.seen("a", 200);
        kept.keep("h1", till("a"), Some(150), 0);
        assert_eq!(kept.seen_at("a"), Some(200));
    }
}
