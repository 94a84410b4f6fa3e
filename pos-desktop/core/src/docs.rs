//! Automerge documents kept as chunks in the terminal file, with an in-memory cache.
//!
//! A changed document is saved as an incremental chunk (`<doc>/incremental/<sha256>`) inside
//! the same SQLite transaction as the query-table rows it goes with. From [`COMPACT_DUE`]
//! chunks on, the document is due to be written as one snapshot (`<doc>/snapshot/<sha256>`)
//! with its incrementals deleted, in one transaction: by [`Docs::compact_due`]
//! ([`crate::Terminal::compact_documents`]), which the shell runs after the command that wrote
//! returns, because saving a large document whole takes long (~250 ms for a catalog of 100,000
//! products, which the edit itself would otherwise wait for). A write that finds a document at
//! [`COMPACT_AFTER`] chunks still compacts it itself. The bound is a count, not the
//! incrementals' weight against the snapshot, because loading a large document costs memory per
//! change applied after its snapshot: automerge 0.12 keeps ~21 MiB more for each of them on a
//! catalog of 100,000 products (BENCHMARKS.md, "Scale (issue 17): idle re-run").
//! Every open of the store uses a fresh actor id.
//!
//! Also the helpers every use-case writes documents with: registering a document's kind and
//! scope, and reading and writing entries of a document's root maps.

use std::collections::{HashMap, HashSet};

use automerge::{ActorId, AutoCommit, ChangeHash, ObjType, Patch, ReadDoc};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use shared_model::documents::{self, Document, DocumentKind};
/// Document ids and `automerge:` URLs, as the server makes and reads them.
pub use shared_model::wire::{id_of, new_document_id, url};

use crate::chunks::{self, ChunkKey};
use crate::error::{CoreError, CoreResult};

/// Chunks a document may collect before a write compacts it into a snapshot itself.
pub const COMPACT_AFTER: usize = 64;

/// Chunks from which a document is due for compaction off the write path
/// ([`Docs::compact_due`]).
pub const COMPACT_DUE: usize = COMPACT_AFTER / 2;

fn sha_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug)]
struct Cached {
    doc: AutoCommit,
    saved: Vec<ChangeHash>,
    /// Chunks the file holds for it.
    chunks: usize,
}

/// A document's new changes, saved in a write's transaction and not yet committed.
#[derive(Debug)]
pub struct Persisted {
    id: String,
    heads: Vec<ChangeHash>,
    /// Chunks the file holds for it once the transaction commits.
    chunks: usize,
}

/// The document cache of one open store.
#[derive(Debug)]
pub struct Docs {
    actor: ActorId,
    cache: HashMap<String, Cached>,
    touched: HashSet<String>,
}

impl Docs {
    pub fn new() -> Docs {
        Docs {
            actor: ActorId::random(),
            cache: HashMap::new(),
            touched: HashSet::new(),
        }
    }

    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    fn ensure(&mut self, conn: &Connection, doc_id: &str) -> CoreResult<&mut Cached> {
        if !self.cache.contains_key(doc_id) {
            let loaded =
                load_doc(conn, doc_id, &self.actor)?.ok_or_else(|| CoreError::NotFound {
                    what: "document",
                    id: doc_id.to_string(),
                })?;
            self.cache.insert(doc_id.to_string(), loaded);
        }
        self.cache
            .get_mut(doc_id)
            .ok_or_else(|| CoreError::Invalid("document cache".into()))
    }

    /// Whether the document has chunks in the file (or is cached).
    pub fn exists(&self, conn: &Connection, doc_id: &str) -> CoreResult<bool> {
        if self.cache.contains_key(doc_id) {
            return Ok(true);
        }
        let prefix = ChunkKey::new(&[doc_id])?;
        let n: i64 = conn.query_row(
            "SELECT count(*) FROM chunks WHERE key >= ?1 AND key < ?2",
            params![
                format!("{}/", prefix.parts()[0]),
                format!("{}0", prefix.parts()[0])
            ],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// The document for reading.
    pub fn get(&mut self, conn: &Connection, doc_id: &str) -> CoreResult<&mut AutoCommit> {
        Ok(&mut self.ensure(conn, doc_id)?.doc)
    }

    /// The document for writing inside [`Docs::begin`] … [`Docs::persist`].
    pub fn get_mut(&mut self, conn: &Connection, doc_id: &str) -> CoreResult<&mut AutoCommit> {
        self.touched.insert(doc_id.to_string());
        Ok(&mut self.ensure(conn, doc_id)?.doc)
    }

    /// Creates a new document holding `value` (not yet saved).
    pub fn create<D: Document>(&mut self, doc_id: &str, value: &D) -> CoreResult<()> {
        let mut doc = documents::create(value)?;
        doc.set_actor(self.actor.clone());
        self.cache.insert(
            doc_id.to_string(),
            Cached {
                doc,
                saved: Vec::new(),
                chunks: 0,
            },
        );
        self.touched.insert(doc_id.to_string());
        Ok(())
    }

    /// Adds a document received from outside (enrollment, a peer, the sync layer): its bytes
    /// are merged into what this store holds. Returns the patches of what the merge changed
    /// (see [`with_patches`]), or `None` when the document is new here.
    pub fn merge_bytes(
        &mut self,
        conn: &Connection,
        doc_id: &str,
        bytes: &[u8],
    ) -> CoreResult<Option<Vec<Patch>>> {
        let mut incoming = documents::load_bytes(bytes)?;
        let mut patches = None;
        if self.exists(conn, doc_id)? {
            let c = self.ensure(conn, doc_id)?;
            patches = with_patches(&mut c.doc, |doc| Ok(doc.merge(&mut incoming)?))?.1;
        } else {
            incoming.set_actor(self.actor.clone());
            self.cache.insert(
                doc_id.to_string(),
                Cached {
                    doc: incoming,
                    saved: Vec::new(),
                    chunks: 0,
                },
            );
        }
        self.touched.insert(doc_id.to_string());
        Ok(patches)
    }

    /// Starts a write: nothing is touched yet.
    pub fn begin(&mut self) {
        self.touched.clear();
    }

    /// Saves the touched documents' new changes as chunks in `conn`'s transaction.
    pub fn persist(&mut self, conn: &Connection) -> CoreResult<Vec<Persisted>> {
        let mut saved = Vec::new();
        for id in self.touched.iter() {
            let Some(c) = self.cache.get_mut(id) else {
                continue;
            };
            let heads = c.doc.get_heads();
            if heads == c.saved {
                continue;
            }
            // A document's first save (new here, or received whole) is a snapshot: compressed,
            // and loaded faster than its changes one by one.
            let chunks = if c.saved.is_empty() || c.chunks >= COMPACT_AFTER {
                write_snapshot(conn, id, &c.doc.save())?
            } else {
                let bytes = c.doc.save_after(&c.saved);
                let key = ChunkKey::new(&[id.as_str(), "incremental", &sha_hex(&bytes)])?;
                chunks::put(conn, &key, &bytes)?;
                c.chunks + 1
            };
            saved.push(Persisted {
                id: id.clone(),
                heads,
                chunks,
            });
        }
        Ok(saved)
    }

    /// Compacts, in `conn`'s transaction, every cached document with [`COMPACT_DUE`] chunks or
    /// more and nothing unsaved; [`Docs::committed`] once the transaction commits.
    pub fn compact_due(&mut self, conn: &Connection) -> CoreResult<Vec<Persisted>> {
        let mut compacted = Vec::new();
        for (id, c) in self.cache.iter_mut() {
            if c.chunks < COMPACT_DUE || c.doc.get_heads() != c.saved {
                continue;
            }
            compacted.push(Persisted {
                id: id.clone(),
                heads: c.saved.clone(),
                chunks: write_snapshot(conn, id, &c.doc.save())?,
            });
        }
        Ok(compacted)
    }

    /// After the transaction committed: what was persisted is now the saved state.
    pub fn committed(&mut self, saved: Vec<Persisted>) {
        for p in saved {
            if let Some(c) = self.cache.get_mut(&p.id) {
                c.chunks = p.chunks;
                c.saved = p.heads;
            }
        }
        self.touched.clear();
    }

    /// After a failed write: forget the touched documents so they reload from the file.
    pub fn abort(&mut self) {
        for id in self.touched.drain() {
            self.cache.remove(&id);
        }
    }

    /// Drops every cached document (they reload from the file on next use).
    pub fn clear(&mut self) {
        self.cache.clear();
        self.touched.clear();
    }

    /// The whole document as bytes, for a peer or the sync layer.
    pub fn save(&mut self, conn: &Connection, doc_id: &str) -> CoreResult<Vec<u8>> {
        Ok(self.ensure(conn, doc_id)?.doc.save())
    }

    pub fn heads(&mut self, conn: &Connection, doc_id: &str) -> CoreResult<Vec<ChangeHash>> {
        Ok(self.ensure(conn, doc_id)?.doc.get_heads())
    }
}

impl Default for Docs {
    fn default() -> Self {
        Docs::new()
    }
}

/// Replaces every chunk of document `id` by `snapshot`, its whole save, in `conn`'s
/// transaction; returns the chunks it then has (one).
fn write_snapshot(conn: &Connection, id: &str, snapshot: &[u8]) -> CoreResult<usize> {
    chunks::delete_range(conn, &ChunkKey::new(&[id])?)?;
    let key = ChunkKey::new(&[id, "snapshot", &sha_hex(snapshot)])?;
    chunks::put(conn, &key, snapshot)?;
    Ok(1)
}

/// Loads a document from its chunks: snapshots first, then incrementals. `None` when it has
/// no chunks; malformed chunks are an error.
fn load_doc(conn: &Connection, doc_id: &str, actor: &ActorId) -> CoreResult<Option<Cached>> {
    let prefix = ChunkKey::new(&[doc_id])?;
    let all = chunks::load_range(conn, &prefix)?;
    if all.is_empty() {
        return Ok(None);
    }
    let mut doc = AutoCommit::new();
    let bad = |e: automerge::AutomergeError| CoreError::Document {
        doc: doc_id.to_string(),
        reason: e.to_string(),
    };
    let mut chunks = 0;
    for kind in ["snapshot", "incremental"] {
        for bytes in all
            .iter()
            .filter(|(k, _)| k.parts().get(1).map(String::as_str) == Some(kind))
            .map(|(_, b)| b)
        {
            doc.load_incremental(bytes).map_err(bad)?;
            chunks += 1;
        }
    }
    doc.set_actor(actor.clone());
    let saved = doc.get_heads();
    Ok(Some(Cached { doc, saved, chunks }))
}

/// Applies a received sync message to `doc` (document `doc_id`); a malformed one is the
/// document's error.
pub(crate) fn receive_sync(
    doc: &mut AutoCommit,
    doc_id: &str,
    state: &mut automerge::sync::State,
    message: automerge::sync::Message,
) -> CoreResult<()> {
    use automerge::sync::SyncDoc;
    doc.sync()
        .receive_sync_message(state, message)
        .map_err(|e| CoreError::Document {
            doc: doc_id.into(),
            reason: e.to_string(),
        })
}

/// Runs `apply` (a received sync message, merged bytes) on `doc` and returns, beside its
/// result, the patches of what it changed, recorded while the changes were applied, so that
/// finding them costs what the change costs. `AutoCommit::diff` between two heads scans every
/// operation of the document instead (1.4 million in a catalog of 100,000 products). The
/// patches are `None` when the document was empty before: then everything in it is new.
pub(crate) fn with_patches<T>(
    doc: &mut AutoCommit,
    apply: impl FnOnce(&mut AutoCommit) -> CoreResult<T>,
) -> CoreResult<(T, Option<Vec<Patch>>)> {
    let was_empty = doc.get_heads().is_empty();
    doc.update_diff_cursor();
    let applied = apply(doc);
    let patches = match (&applied, was_empty) {
        (Ok(_), false) => Some(doc.diff_incremental()),
        _ => None,
    };
    // Stop recording: the document's own edits need no patches.
    doc.reset_diff_cursor();
    Ok((applied?, patches))
}

/// Reads a typed document.
pub fn read<D: Document>(doc: &AutoCommit) -> CoreResult<D> {
    Ok(documents::read(doc)?)
}

/// Records which document an id is. The (kind, scope) of an id never changes.
pub(crate) fn register_doc(
    tx: &Connection,
    doc_id: &str,
    kind: DocumentKind,
    scope: &str,
) -> CoreResult<()> {
    let existing: Option<(String, String)> = tx
        .query_row(
            "SELECT kind, scope FROM documents WHERE doc_id = ?1",
            [doc_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match existing {
        Some((k, s)) if k == kind.as_str() && s == scope => Ok(()),
        Some((k, s)) => Err(CoreError::Document {
            doc: doc_id.into(),
            reason: format!("is a {k} ({s}), received as a {} ({scope})", kind.as_str()),
        }),
        None => {
            tx.execute(
                "INSERT INTO documents (doc_id, kind, scope) VALUES (?1, ?2, ?3)",
                params![doc_id, kind.as_str(), scope],
            )
            .map_err(|e| CoreError::Document {
                doc: doc_id.into(),
                reason: format!("cannot register: {e}"),
            })?;
            Ok(())
        }
    }
}

/// The scope of a document from its content: journals `<terminal>/<date>`, adjustments their
/// period, baselines their date, period indexes their month.
pub(crate) fn scope_of(doc: &AutoCommit, kind: DocumentKind) -> String {
    let s = |key: &str| documents::root_str(doc, key).unwrap_or_default();
    match kind {
        DocumentKind::Journal => format!("{}/{}", s("terminal_code"), s("business_date")),
        DocumentKind::StockAdjustments => s("period"),
        DocumentKind::StockBaseline => s("business_date"),
        DocumentKind::PeriodIndex => s("month"),
        _ => String::new(),
    }
}

/// The object id of a map at the root of a document.
pub(crate) fn root_map(doc: &AutoCommit, key: &str) -> CoreResult<automerge::ObjId> {
    match doc.get(automerge::ROOT, key)? {
        Some((automerge::Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(CoreError::Document {
            doc: String::new(),
            reason: format!("has no map {key:?} at its root"),
        }),
    }
}

/// Writes one entry of a root map.
pub(crate) fn put_entry<R: autosurgeon::Reconcile>(
    doc: &mut AutoCommit,
    map: &str,
    key: &str,
    value: &R,
) -> CoreResult<()> {
    let obj = root_map(doc, map)?;
    autosurgeon::reconcile_prop(doc, &obj, key, value).map_err(|e| CoreError::Document {
        doc: String::new(),
        reason: e.to_string(),
    })
}

/// Entries to write into a map, leaving its other entries alone (one automerge change for
/// all of them, unlike one `put_entry` each).
struct PartialMap<'a, V>(&'a [(String, &'a V)]);

impl<V: autosurgeon::Reconcile> autosurgeon::Reconcile for PartialMap<'_, V> {
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

/// Writes many entries of a root map in one change.
pub(crate) fn put_entries<V: autosurgeon::Reconcile>(
    doc: &mut AutoCommit,
    map: &str,
    entries: &[(String, &V)],
) -> CoreResult<()> {
    autosurgeon::reconcile_prop(doc, automerge::ROOT, map, PartialMap(entries)).map_err(|e| {
        CoreError::Document {
            doc: String::new(),
            reason: e.to_string(),
        }
    })
}

/// Reads one entry of a root map; `None` when absent.
pub(crate) fn get_entry<H: autosurgeon::Hydrate>(
    doc: &AutoCommit,
    map: &str,
    key: &str,
) -> CoreResult<Option<H>> {
    let obj = root_map(doc, map)?;
    if doc.get(&obj, key)?.is_none() {
        return Ok(None);
    }
    autosurgeon::hydrate_prop(doc, &obj, key)
        .map(Some)
        .map_err(|e| CoreError::Document {
            doc: String::new(),
            reason: e.to_string(),
        })
}

/// Whether a root map holds `key`.
pub(crate) fn has_entry(doc: &AutoCommit, map: &str, key: &str) -> CoreResult<bool> {
    let obj = root_map(doc, map)?;
    Ok(doc.get(&obj, key)?.is_some())
}
