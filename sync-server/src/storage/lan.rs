//! Storage of LAN security (migration 0009): each store's roster-signing key, PIN pepper and the
//! versions of its roster and store key, and each till's LAN public key. A supertrait of
//! [`super::Storage`]; `sql/lan.rs` implements it for both backends.

use futures::future::BoxFuture;

use crate::error::Result;
use crate::storage::{StoreLanRow, TerminalLanKey};

/// The LAN tables.
pub trait LanStorage: Send + Sync {
    /// Records `fresh` unless the store has its LAN row; returns the row in force (so that
    /// instances racing to make one agree on the first).
    fn store_lan_init<'a>(&'a self, fresh: &'a StoreLanRow) -> BoxFuture<'a, Result<StoreLanRow>>;
    fn store_lan<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<Option<StoreLanRow>>>;
    /// Adds one to the store's roster version (after a change of its tills); returns the row.
    fn bump_lan_roster<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<StoreLanRow>>;
    /// Replaces the store key with `new_key` and adds one to the store key version and to the
    /// roster version, in one transaction; returns the row.
    fn rotate_store_key<'a>(
        &'a self,
        store_id: &'a str,
        new_key: &'a str,
    ) -> BoxFuture<'a, Result<StoreLanRow>>;
    /// Stores with a store root whose roster version is above the one last written into it:
    /// `(store_id, roster_version)`.
    fn lan_rosters_to_publish(&self) -> BoxFuture<'_, Result<Vec<(String, i64)>>>;
    /// Records that the roster of `version` is in the store's root document.
    fn mark_lan_roster_published<'a>(
        &'a self,
        store_id: &'a str,
        version: i64,
    ) -> BoxFuture<'a, Result<()>>;
    /// The roster version last written into the store's root (0: none).
    fn lan_roster_published<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<i64>>;
    /// Marks the store's roster as not written (the root lost it): it is written again.
    fn reset_lan_roster_published<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<()>>;
    /// Sets (or replaces) a till's LAN public key.
    fn set_terminal_lan_key<'a>(&'a self, key: &'a TerminalLanKey) -> BoxFuture<'a, Result<()>>;
    /// The LAN keys of a store's tills.
    fn terminal_lan_keys<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<TerminalLanKey>>>;
}
