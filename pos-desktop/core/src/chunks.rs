//! Automerge chunks in the terminal's SQLite file, keyed like samod / automerge-repo storage
//! keys (a list of components; stored joined with `/`).
//!
//! The functions take a connection so they run inside the caller's transaction; [`ChunkStore`]
//! owns a connection of its own to the same file for a sync layer (e.g. a samod `Storage`
//! adapter) that writes chunks on its own schedule. Unlike samod's trait, every call reports
//! its errors.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{CoreError, CoreResult};

/// A storage key: e.g. `["<doc id>", "incremental", "<hash>"]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChunkKey(Vec<String>);

impl ChunkKey {
    /// Components may not be empty or contain `/`.
    pub fn new<S: AsRef<str>>(parts: &[S]) -> CoreResult<ChunkKey> {
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            let p = p.as_ref();
            if p.is_empty() || p.contains('/') {
                return Err(CoreError::Invalid(format!(
                    "bad storage key component {p:?}"
                )));
            }
            out.push(p.to_string());
        }
        if out.is_empty() {
            return Err(CoreError::Invalid("empty storage key".into()));
        }
        Ok(ChunkKey(out))
    }

    pub fn parts(&self) -> &[String] {
        &self.0
    }

    fn encoded(&self) -> String {
        self.0.join("/")
    }

    fn decode(s: &str) -> ChunkKey {
        ChunkKey(s.split('/').map(str::to_string).collect())
    }

    pub fn is_prefix_of(&self, other: &ChunkKey) -> bool {
        other.0.starts_with(&self.0)
    }
}

pub fn put(conn: &Connection, key: &ChunkKey, data: &[u8]) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO chunks (key, data) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET data = excluded.data",
    )?
    .execute(params![key.encoded(), data])?;
    Ok(())
}

pub fn load(conn: &Connection, key: &ChunkKey) -> CoreResult<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT data FROM chunks WHERE key = ?1")?
        .query_row([key.encoded()], |r| r.get(0))
        .optional()?)
}

/// Every chunk whose key starts with `prefix` (whole components), in key order.
pub fn load_range(conn: &Connection, prefix: &ChunkKey) -> CoreResult<BTreeMap<ChunkKey, Vec<u8>>> {
    let p = prefix.encoded();
    // Keys below `p/` up to (not including) `p0`: '0' is the character after '/'.
    let mut stmt = conn.prepare_cached(
        "SELECT key, data FROM chunks WHERE key = ?1 OR (key >= ?2 AND key < ?3) ORDER BY key",
    )?;
    let rows = stmt.query_map(params![p, format!("{p}/"), format!("{p}0")], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (k, v) = row?;
        out.insert(ChunkKey::decode(&k), v);
    }
    Ok(out)
}

/// Deletes every chunk whose key starts with `prefix` (whole components), without reading
/// them.
pub fn delete_range(conn: &Connection, prefix: &ChunkKey) -> CoreResult<()> {
    let p = prefix.encoded();
    conn.prepare_cached("DELETE FROM chunks WHERE key = ?1 OR (key >= ?2 AND key < ?3)")?
        .execute(params![p, format!("{p}/"), format!("{p}0")])?;
    Ok(())
}

pub fn delete(conn: &Connection, key: &ChunkKey) -> CoreResult<()> {
    conn.prepare_cached("DELETE FROM chunks WHERE key = ?1")?
        .execute([key.encoded()])?;
    Ok(())
}

/// A chunk store over the terminal file with its own connection, for a sync layer. Cloning
/// shares the connection.
#[derive(Debug, Clone)]
pub struct ChunkStore {
    conn: Arc<Mutex<Connection>>,
}

impl ChunkStore {
    /// Opens the (already created) terminal file.
    pub fn open(path: &Path) -> CoreResult<ChunkStore> {
        let conn = crate::db::connect(path)?;
        Ok(ChunkStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> CoreResult<T>) -> CoreResult<T> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| CoreError::Invalid("chunk store lock poisoned".into()))?;
        f(&conn)
    }

    pub fn load(&self, key: &ChunkKey) -> CoreResult<Option<Vec<u8>>> {
        self.with(|c| load(c, key))
    }

    pub fn load_range(&self, prefix: &ChunkKey) -> CoreResult<BTreeMap<ChunkKey, Vec<u8>>> {
        self.with(|c| load_range(c, prefix))
    }

    pub fn put(&self, key: &ChunkKey, data: &[u8]) -> CoreResult<()> {
        self.with(|c| put(c, key, data))
    }

    pub fn delete(&self, key: &ChunkKey) -> CoreResult<()> {
        self.with(|c| delete(c, key))
    }
}
