//! The automerge chunks samod stores, keyed by their tenant and as samod keys them (components
//! joined by '/'), and the key arithmetic both backends share. Every repo belongs to one tenant
//! (its own, or one of its stores'), so every call names the tenant: a repo reads and writes
//! only its tenant's chunks, and the table is distributed by tenant (docs/scaling.md).

use futures::future::BoxFuture;

use crate::error::Result;
use crate::storage::{Chunk, ChunkDelete, ChunkPut};

/// Chunk storage: what [`crate::sync::SamodStorage`] reads and writes.
pub trait ChunkStorage: Send + Sync {
    /// Inserts or replaces one chunk of `tenant`.
    fn put_chunk<'a>(
        &'a self,
        tenant: &'a str,
        key: &'a str,
        data: &'a [u8],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let put = ChunkPut {
                tenant: tenant.into(),
                key: key.to_string(),
                data: data.to_vec(),
            };
            self.put_chunks(std::slice::from_ref(&put)).await
        })
    }
    /// Inserts or replaces several chunks, of any tenants, in one transaction (all or none); of
    /// two chunks with the same tenant and key, the later wins.
    fn put_chunks<'a>(&'a self, chunks: &'a [ChunkPut]) -> BoxFuture<'a, Result<()>> {
        self.write_chunks(chunks, &[])
    }
    /// Loads one chunk of `tenant`.
    fn load_chunk<'a>(
        &'a self,
        tenant: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>>>;
    /// Loads every chunk of `tenant` whose key is `prefix` or starts with `prefix/`, in key
    /// order (every chunk of the tenant when `prefix` is empty).
    fn load_chunk_range<'a>(
        &'a self,
        tenant: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Chunk>>>;
    /// Deletes one chunk of `tenant` (no error when absent).
    fn delete_chunk<'a>(&'a self, tenant: &'a str, key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let delete = ChunkDelete {
                tenant: tenant.into(),
                key: key.to_string(),
            };
            self.write_chunks(&[], std::slice::from_ref(&delete)).await
        })
    }
    /// Inserts or replaces `puts` and deletes `deletes` (no error for an absent one), of any
    /// tenants, in one transaction (all or none). A key must not be in both.
    fn write_chunks<'a>(
        &'a self,
        puts: &'a [ChunkPut],
        deletes: &'a [ChunkDelete],
    ) -> BoxFuture<'a, Result<()>>;
    /// Every document id that has chunks, of every tenant.
    fn chunk_doc_ids(&self) -> BoxFuture<'_, Result<Vec<String>>>;
}

/// Upper bound of a key range: every key starting with `prefix/` sorts before
/// `prefix0` ('0' is the byte after '/'), with byte-wise collation.
pub(crate) fn range_end(prefix: &str) -> String {
    format!("{prefix}0")
}

/// Rows per multi-row `INSERT` of [`Storage::put_chunks`]: four parameters each, well under
/// SQLite's 32,766 and PostgreSQL's 65,535 bind parameters.
pub(crate) const PUT_CHUNKS_ROWS: usize = 500;

/// `items` with only the last of each `key`, each where it stands (one multi-row upsert may
/// not touch a row twice on PostgreSQL): chunks by tenant and key, projected products by
/// tenant, store and id.
pub(crate) fn last_of_each<'a, T, K: Eq + std::hash::Hash>(
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    let mut last = std::collections::HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        last.insert(key(item), i);
    }
    items
        .iter()
        .enumerate()
        .filter(|&(i, item)| last.get(&key(item)) == Some(&i))
        .map(|(_, item)| item)
        .collect()
}

/// First component of a storage key when it looks like a document id.
pub(crate) fn doc_id_of_key(key: &str) -> Option<&str> {
    let first = key.split('/').next()?;
    (key.contains('/') && !first.is_empty()).then_some(first)
}
