//! SQL of [`ChunkStorage`]: automerge chunks in `automerge_chunks`, keyed by (tenant, key).
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::Result;
use crate::now_ms;
use crate::storage::{
    Chunk, ChunkDelete, ChunkPut, ChunkStorage, PUT_CHUNKS_ROWS, doc_id_of_key, last_of_each,
    range_end,
};

impl ChunkStorage for Backend {
    fn write_chunks<'a>(
        &'a self,
        puts: &'a [ChunkPut],
        deletes: &'a [ChunkDelete],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let puts = last_of_each(puts, |c| (&*c.tenant, c.key.as_str()));
            if puts.is_empty() && deletes.is_empty() {
                return Ok(());
            }
            let now = now_ms();
            let mut tx = self.pool.begin().await?;
            for rows in puts.chunks(PUT_CHUNKS_ROWS) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO automerge_chunks (tenant_id, key, doc_id, data, updated_at) ",
                );
                q.push_values(rows, |mut row, c| {
                    row.push_bind(&*c.tenant)
                        .push_bind(c.key.as_str())
                        .push_bind(doc_id_of_key(&c.key))
                        .push_bind(c.data.as_slice())
                        .push_bind(now);
                });
                q.push(
                    " ON CONFLICT (tenant_id, key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                );
                q.build().execute(&mut *tx).await?;
            }
            for rows in deletes.chunks(PUT_CHUNKS_ROWS) {
                let mut q = sqlx::QueryBuilder::new(
                    "DELETE FROM automerge_chunks WHERE (tenant_id, key) IN (",
                );
                q.push_values(rows, |mut row, c| {
                    row.push_bind(&*c.tenant).push_bind(c.key.as_str());
                });
                q.push(")");
                q.build().persistent(false).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn load_chunk<'a>(
        &'a self,
        tenant: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            Ok(sqlx::query_scalar(
                "SELECT data FROM automerge_chunks WHERE tenant_id = $1 AND key = $2",
            )
            .bind(tenant)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn load_chunk_range<'a>(
        &'a self,
        tenant: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Chunk>>> {
        Box::pin(async move {
            if prefix.is_empty() {
                return Ok(sqlx::query_as(
                    "SELECT key, data FROM automerge_chunks WHERE tenant_id = $1 ORDER BY key",
                )
                .bind(tenant)
                .fetch_all(&self.pool)
                .await?);
            }
            let start = format!("{prefix}/");
            let end = range_end(prefix);
            Ok(sqlx::query_as(
                "SELECT key, data FROM automerge_chunks \
                 WHERE tenant_id = $1 AND (key = $2 OR (key >= $3 AND key < $4)) ORDER BY key",
            )
            .bind(tenant)
            .bind(prefix)
            .bind(start)
            .bind(end)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn chunk_doc_ids(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            Ok(sqlx::query_scalar(
                "SELECT DISTINCT doc_id FROM automerge_chunks WHERE doc_id IS NOT NULL ORDER BY doc_id",
            )
            .fetch_all(&self.pool)
            .await?)
        })
    }
}
