//! Automerge documents kept as chunks in the terminal file, with an in-memory cache.
//!
//! A changed document is saved as an incremental chunk (`<doc>/incremental/<sha256>`) inside
//! the same SQLite transaction as the query-table rows it goes with; after
//! [`COMPACT_AFTER`] incrementals the document is written as one snapshot
//! (`<doc>/snapshot/<sha256>`) and the incrementals are deleted, in one transaction.
//! Every open of the store uses a fresh actor id.

use std::collections::{HashMap, HashSet};

use automerge::{ActorId, AutoCommit, ChangeHash};
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};
use shared_model::documents::{self, Document};
/// Document ids and `automerge:` URLs, as the server makes and reads them.
pub use shared_model::wire::{id_of, new_document_id, url};

use crate::chunks::{self, ChunkKey};
use crate::error::{CoreError, CoreResult};

/// Incremental chunks a document may collect before it is compacted into a snapshot.
pub const COMPACT_AFTER: usize = 64;

fn sha_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug)]
struct Cached {
    doc: AutoCommit,
    saved: Vec<ChangeHash>,
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
    /// are merged into what this store holds.
    pub fn merge_bytes(&mut self, conn: &Connection, doc_id: &str, bytes: &[u8]) -> CoreResult<()> {
        let mut incoming = documents::load_bytes(bytes)?;
        if self.exists(conn, doc_id)? {
            let c = self.ensure(conn, doc_id)?;
            c.doc.merge(&mut incoming)?;
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
        Ok(())
    }

    /// Starts a write: nothing is touched yet.
    pub fn begin(&mut self) {
        self.touched.clear();
    }

    /// Saves the touched documents' new changes as chunks in `conn`'s transaction.
    pub fn persist(&mut self, conn: &Connection) -> CoreResult<Vec<(String, Vec<ChangeHash>)>> {
        let mut saved = Vec::new();
        for id in self.touched.iter() {
            let Some(c) = self.cache.get_mut(id) else {
                continue;
            };
            let heads = c.doc.get_heads();
            if heads == c.saved {
                continue;
            }
            if c.chunks >= COMPACT_AFTER {
                let bytes = c.doc.save();
                let prefix = ChunkKey::new(&[id.as_str()])?;
                for key in chunks::load_range(conn, &prefix)?.into_keys() {
                    chunks::delete(conn, &key)?;
                }
                let key = ChunkKey::new(&[id.as_str(), "snapshot", &sha_hex(&bytes)])?;
                chunks::put(conn, &key, &bytes)?;
            } else {
                let bytes = c.doc.save_after(&c.saved);
                let key = ChunkKey::new(&[id.as_str(), "incremental", &sha_hex(&bytes)])?;
                chunks::put(conn, &key, &bytes)?;
            }
            saved.push((id.clone(), heads));
        }
        Ok(saved)
    }

    /// After the transaction committed: what was persisted is now the saved state.
    pub fn committed(&mut self, saved: Vec<(String, Vec<ChangeHash>)>) {
        for (id, heads) in saved {
            if let Some(c) = self.cache.get_mut(&id) {
                if c.chunks >= COMPACT_AFTER {
                    c.chunks = 1;
                } else {
                    c.chunks += 1;
                }
                c.saved = heads;
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
    let mut n = 0;
    for kind in ["snapshot", "incremental"] {
        for bytes in all
            .iter()
            .filter(|(k, _)| k.parts().get(1).map(String::as_str) == Some(kind))
            .map(|(_, b)| b)
        {
            doc.load_incremental(bytes).map_err(bad)?;
            n += 1;
        }
    }
    doc.set_actor(actor.clone());
    let saved = doc.get_heads();
    Ok(Some(Cached {
        doc,
        saved,
        chunks: n,
    }))
}

/// Reads a typed document.
pub fn read<D: Document>(doc: &AutoCommit) -> CoreResult<D> {
    Ok(documents::read(doc)?)
}
