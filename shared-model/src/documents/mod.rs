//! The automerge documents of DESIGN.md as versioned Rust types.
//!
//! Every document has a `kind` and a `schema_version` at its root, so a reader can tell what it
//! holds and refuse versions it does not know. Collections are maps keyed by the entry's id
//! (as a string), so concurrent inserts from several terminals merge without conflicts.
//! Documents stay small: sales live in one journal per terminal per business day.

pub mod catalog_entries;
mod kinds;
pub mod materialize;

pub use kinds::*;

use automerge::{AutoCommit, ReadDoc};
use autosurgeon::{Hydrate, Reconcile};

use crate::error::{ModelError, ModelResult};

/// The schema version this build writes and reads (and every earlier one it still reads):
/// - 1: the first;
/// - 2: a journal's sale is one string, its JSON, not a map of its fields ([`crate::sale::Sale`]).
pub const SCHEMA_VERSION: u64 = 2;

/// Which document a root describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    StoreRoot,
    PeriodIndex,
    Catalog,
    Journal,
    StockAdjustments,
    StockBaseline,
    Settings,
    Users,
    ParkedCarts,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 9] = [
        DocumentKind::StoreRoot,
        DocumentKind::PeriodIndex,
        DocumentKind::Catalog,
        DocumentKind::Journal,
        DocumentKind::StockAdjustments,
        DocumentKind::StockBaseline,
        DocumentKind::Settings,
        DocumentKind::Users,
        DocumentKind::ParkedCarts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::StoreRoot => "store-root",
            DocumentKind::PeriodIndex => "period-index",
            DocumentKind::Catalog => "catalog",
            DocumentKind::Journal => "journal",
            DocumentKind::StockAdjustments => "stock-adjustments",
            DocumentKind::StockBaseline => "stock-baseline",
            DocumentKind::Settings => "settings",
            DocumentKind::Users => "users",
            DocumentKind::ParkedCarts => "parked-carts",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Reads the kind of an automerge document, `None` when it has none we know.
    pub fn of(doc: &impl ReadDoc) -> Option<DocumentKind> {
        DocumentKind::parse(&root_str(doc, "kind")?)
    }
}

/// The string at `key` in a document's root, `None` when it is absent or not a string.
pub fn root_str(doc: &impl ReadDoc, key: &str) -> Option<String> {
    match doc.get(automerge::ROOT, key).ok()?? {
        (automerge::Value::Scalar(s), _) => match s.as_ref() {
            automerge::ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Records that `doc` holds a layout of schema `version` (a journal begun by a build of schema 1
/// that is given a sale of schema 2), unless its root records that schema or a later one: a
/// till of an older schema reading it is then told to upgrade, instead of failing on the entry.
pub fn raise_schema(doc: &mut AutoCommit, version: u64) -> ModelResult<()> {
    use automerge::transaction::Transactable;
    let bad = |reason: String| ModelError::Invalid {
        field: "schema_version",
        reason,
    };
    let recorded: Option<u64> = autosurgeon::hydrate_prop(doc, automerge::ROOT, "schema_version")
        .map_err(|e| bad(e.to_string()))?;
    if recorded.is_some_and(|v| v >= version) {
        return Ok(());
    }
    doc.put(automerge::ROOT, "schema_version", version)
        .map_err(|e| bad(e.to_string()))
}

/// Whether `doc` holds the change `hash`. automerge 0.12's `get_change_by_hash` rebuilds the
/// whole change from the document's operations, a cost that grows with the document, only to
/// answer yes or no; the change's metadata comes from the change graph alone.
pub fn has_change(doc: &automerge::Automerge, hash: &automerge::ChangeHash) -> bool {
    doc.get_change_meta_by_hash(hash).is_some()
}

/// Whether `doc` holds every one of `hashes` ([`has_change`]); `true` for none.
pub fn has_changes(doc: &automerge::Automerge, hashes: &[automerge::ChangeHash]) -> bool {
    hashes.iter().all(|h| has_change(doc, h))
}

/// A document type of ours.
pub trait Document: Reconcile + Hydrate {
    const KIND: DocumentKind;
    fn kind(&self) -> &str;
    fn schema_version(&self) -> u64;
}

/// Writes `value` into `doc` (only the differences become changes).
pub fn write<D: Document>(doc: &mut AutoCommit, value: &D) -> ModelResult<()> {
    autosurgeon::reconcile(doc, value).map_err(|e| ModelError::Invalid {
        field: "document",
        reason: e.to_string(),
    })
}

/// Reads a document, checking its kind and schema version. [`materialize::read`] reads the same
/// in one pass.
pub fn read<D: Document>(doc: &(impl ReadDoc + autosurgeon::ReadDoc)) -> ModelResult<D> {
    check_kind::<D>(doc)?;
    let value: D = autosurgeon::hydrate(doc).map_err(|e| ModelError::Invalid {
        field: "document",
        reason: e.to_string(),
    })?;
    check_schema(&value)?;
    Ok(value)
}

/// Refuses a document that is not a `D`.
fn check_kind<D: Document>(doc: &impl ReadDoc) -> ModelResult<()> {
    let found = DocumentKind::of(doc);
    if found != Some(D::KIND) {
        return Err(ModelError::Invalid {
            field: "document",
            reason: format!(
                "expected a {} document, found {:?}",
                D::KIND.as_str(),
                found.map(DocumentKind::as_str)
            ),
        });
    }
    Ok(())
}

/// Refuses a document written by a newer schema than this build's.
fn check_schema<D: Document>(value: &D) -> ModelResult<()> {
    if value.schema_version() > SCHEMA_VERSION {
        return Err(ModelError::Invalid {
            field: "document",
            reason: format!(
                "schema version {} is newer than this build ({SCHEMA_VERSION}): upgrade",
                value.schema_version()
            ),
        });
    }
    Ok(())
}

/// A new automerge document holding `value`.
pub fn create<D: Document>(value: &D) -> ModelResult<AutoCommit> {
    let mut doc = AutoCommit::new();
    write(&mut doc, value)?;
    Ok(doc)
}

/// Loads bytes received from outside; malformed bytes are an error, never a panic.
pub fn load_bytes(bytes: &[u8]) -> ModelResult<AutoCommit> {
    AutoCommit::load(bytes).map_err(|e| ModelError::Invalid {
        field: "automerge document",
        reason: e.to_string(),
    })
}

/// The id of a store's period index for a month (`YYYY-MM`). It is derived, not random, so
/// that every terminal and the server name the same document without asking anyone.
pub fn period_index_id(store_id: &str, month: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("snapkasir/period-index/{store_id}/{month}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    crate::wire::document_id_from_bytes(&bytes)
}

/// The first change of a period index, byte-identical wherever it is made (derived actor, time
/// zero), so that tills creating it concurrently while offline end up with one document whose
/// `journals` map takes every till's entries. The returned document writes with a fresh actor.
pub fn period_index_genesis(store_id: &str, month: &str) -> ModelResult<AutoCommit> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("snapkasir/period-index-actor/{store_id}/{month}"));
    let mut doc = AutoCommit::new().with_actor(automerge::ActorId::from(&digest[..16]));
    write(&mut doc, &PeriodIndexDoc::new(store_id, month))?;
    doc.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
    // Later changes are this writer's own.
    doc.set_actor(automerge::ActorId::random());
    Ok(doc)
}

/// Entries to write into a map, leaving its other entries alone.
struct PartialMap<'a, V>(&'a [(String, &'a V)]);

impl<V: Reconcile> Reconcile for PartialMap<'_, V> {
    type Key<'k> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: autosurgeon::Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
        use autosurgeon::reconcile::MapReconciler;
        let mut m = r.map()?;
        for (k, v) in self.0 {
            m.put(k, *v)?;
        }
        Ok(())
    }
}

/// Writes `entries` into the root map `map` (e.g. a catalog's `products`) in one change,
/// without reading or touching the map's other entries: editing one product of a 100k-product
/// catalog costs one product.
pub fn put_entries<V: Reconcile>(
    doc: &mut AutoCommit,
    map: &str,
    entries: &[(String, &V)],
) -> ModelResult<()> {
    autosurgeon::reconcile_prop(doc, automerge::ROOT, map, PartialMap(entries)).map_err(|e| {
        ModelError::Invalid {
            field: "document",
            reason: e.to_string(),
        }
    })
}

/// Reads the entry `key` of the root map `map`; `None` when absent.
pub fn get_entry<H: Hydrate>(doc: &AutoCommit, map: &str, key: &str) -> ModelResult<Option<H>> {
    let bad = |e: String| ModelError::Invalid {
        field: "document",
        reason: e,
    };
    let Some((_, obj)) = doc
        .get(automerge::ROOT, map)
        .map_err(|e| bad(e.to_string()))?
    else {
        return Ok(None);
    };
    if doc
        .get(&obj, key)
        .map_err(|e| bad(e.to_string()))?
        .is_none()
    {
        return Ok(None);
    }
    autosurgeon::hydrate_prop(doc, &obj, key)
        .map(Some)
        .map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    #[test]
    fn has_change_knows_the_documents_changes_and_no_other() {
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "k", 1).unwrap();
        doc.commit();
        let first = doc.get_heads();
        doc.put(automerge::ROOT, "k", 2).unwrap();
        doc.commit();
        let mut other = AutoCommit::new();
        other.put(automerge::ROOT, "k", 3).unwrap();
        other.commit();
        for h in first.iter().chain(&doc.get_heads()) {
            assert!(has_change(doc.document(), h));
        }
        assert!(!has_change(doc.document(), &other.get_heads()[0]));
        assert!(!has_change(doc.document(), &automerge::ChangeHash([7; 32])));
        let all: Vec<_> = first.iter().chain(&doc.get_heads()).copied().collect();
        assert!(has_changes(doc.document(), &all));
        assert!(!has_changes(
            doc.document(),
            &[all[0], other.get_heads()[0]]
        ));
    }
}
