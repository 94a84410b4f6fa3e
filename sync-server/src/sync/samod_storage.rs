//! samod's `Storage` cannot report errors (`put` returns `()`, `load`
//! returns `Option`). This adapter never swallows one: every operation is
//! retried with capped backoff until it succeeds, and while it keeps failing
//! the connections that touched the document are closed with an error and
//! readiness reports the storage as failing. A load therefore never reports
//! "absent" for a document whose chunks could not be read, and a put is
//! never dropped.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use samod::storage::StorageKey;

use super::ConnectionRegistry;
use crate::error::Result;
use crate::projection::Projector;
use crate::storage::{DynStorage, doc_id_of_key};

/// Failure counters shared with `/readyz` and `/metrics`.
#[derive(Debug, Default)]
pub struct StorageHealth {
    /// Operations currently failing (retrying).
    pub failing: AtomicU64,
    /// Total failed attempts since start.
    pub errors_total: AtomicU64,
    /// Chunks written since start.
    pub puts_total: AtomicU64,
}

impl StorageHealth {
    /// Whether no storage operation is currently failing.
    pub fn healthy(&self) -> bool {
        self.failing.load(Ordering::Relaxed) == 0
    }
}

/// The samod storage adapter over a [`crate::storage::Storage`].
#[derive(Debug, Clone)]
pub struct SamodStorage {
    storage: DynStorage,
    registry: Arc<ConnectionRegistry>,
    health: Arc<StorageHealth>,
    projector: Arc<Projector>,
}

/// Failed attempts after which affected connections are closed.
const CLOSE_AFTER: u32 = 3;

impl SamodStorage {
    /// An adapter; `registry` is used to close affected connections.
    pub fn new(
        storage: DynStorage,
        registry: Arc<ConnectionRegistry>,
        health: Arc<StorageHealth>,
        projector: Arc<Projector>,
    ) -> Self {
        Self {
            storage,
            registry,
            health,
            projector,
        }
    }

    async fn retry<T, F, Fut>(&self, op: &'static str, key: &str, mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempt: u32 = 0;
        let mut delay = Duration::from_millis(50);
        loop {
            match f().await {
                Ok(v) => {
                    if attempt > 0 {
                        self.health.failing.fetch_sub(1, Ordering::Relaxed);
                        tracing::info!(op, key, attempt, "storage recovered");
                    }
                    return v;
                }
                Err(e) => {
                    attempt += 1;
                    if attempt == 1 {
                        self.health.failing.fetch_add(1, Ordering::Relaxed);
                    }
                    self.health.errors_total.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(op, key, attempt, error = %e, "storage operation failed, retrying");
                    if attempt == CLOSE_AFTER
                        && let Some(doc) = doc_id_of_key(key)
                    {
                        let closed = self
                            .registry
                            .close_doc(doc, "server storage unavailable, retry later");
                        tracing::error!(
                            op,
                            doc,
                            closed,
                            "closed connections of a document whose storage fails"
                        );
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

impl samod::storage::Storage for SamodStorage {
    fn load(&self, key: StorageKey) -> impl Future<Output = Option<Vec<u8>>> + Send {
        let this = self.clone();
        async move {
            let k = key.to_string();
            this.retry("load", &k, || this.storage.load_chunk(&k)).await
        }
    }

    fn load_range(
        &self,
        prefix: StorageKey,
    ) -> impl Future<Output = HashMap<StorageKey, Vec<u8>>> + Send {
        let this = self.clone();
        async move {
            let p = prefix.to_string();
            let rows = this
                .retry("load_range", &format!("{p}/"), || {
                    this.storage.load_chunk_range(&p)
                })
                .await;
            let mut out = HashMap::with_capacity(rows.len());
            for (k, v) in rows {
                match StorageKey::from_parts(k.split('/')) {
                    Ok(key) => {
                        out.insert(key, v);
                    }
                    Err(_) => tracing::error!(key = %k, "stored chunk has an invalid key; skipped"),
                }
            }
            out
        }
    }

    fn put(&self, key: StorageKey, data: Vec<u8>) -> impl Future<Output = ()> + Send {
        let this = self.clone();
        async move {
            let k = key.to_string();
            this.retry("put", &k, || this.storage.put_chunk(&k, &data))
                .await;
            this.health.puts_total.fetch_add(1, Ordering::Relaxed);
            if let Some(doc) = doc_id_of_key(&k) {
                this.projector.mark(doc);
            }
        }
    }

    fn delete(&self, key: StorageKey) -> impl Future<Output = ()> + Send {
        let this = self.clone();
        async move {
            let k = key.to_string();
            this.retry("delete", &k, || this.storage.delete_chunk(&k))
                .await
        }
    }
}
