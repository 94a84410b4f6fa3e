//! SQL of [`ChunkStorage`]: automerge chunks in `automerge_chunks`.
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::Result;
use crate::now_ms;
use crate::storage::{
    Chunk, ChunkStorage, PUT_CHUNKS_ROWS, doc_id_of_key, last_of_each_key, range_end,
};

impl ChunkStorage for Backend {
    fn put_chunk<'a>(&'a self, key: &'a str, data: &'a [u8]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO automerge_chunks (key, doc_id, data, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(doc_id_of_key(key))
            .bind(data)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn put_chunks<'a>(&'a self, chunks: &'a [Chunk]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let chunks = last_of_each_key(chunks);
            if chunks.is_empty() {
                return Ok(());
            }
            let now = now_ms();
            let mut tx = self.pool.begin().await?;
            for rows in chunks.chunks(PUT_CHUNKS_ROWS) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO automerge_chunks (key, doc_id, data, updated_at) ",
                );
                q.push_values(rows, |mut row, (key, data)| {
                    row.push_bind(key.as_str())
                        .push_bind(doc_id_of_key(key))
                        .push_bind(data.as_slice())
                        .push_bind(now);
                });
                q.push(
                    " ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                );
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn load_chunk<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar("SELECT data FROM automerge_chunks WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?,
            )
        })
    }

    fn load_chunk_range<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<Chunk>>> {
        Box::pin(async move {
            if prefix.is_empty() {
                return Ok(
                    sqlx::query_as("SELECT key, data FROM automerge_chunks ORDER BY key")
                        .fetch_all(&self.pool)
                        .await?,
                );
            }
            let start = format!("{prefix}/");
            let end = range_end(prefix);
            Ok(sqlx::query_as(
                "SELECT key, data FROM automerge_chunks \
                 WHERE key = $1 OR (key >= $2 AND key < $3) ORDER BY key",
            )
            .bind(prefix)
            .bind(start)
            .bind(end)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn delete_chunk<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM automerge_chunks WHERE key = $1")
                .bind(key)
                .execute(&self.pool)
                .await?;
            Ok(())
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
