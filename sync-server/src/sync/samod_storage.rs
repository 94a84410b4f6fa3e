//! samod's `Storage` cannot report errors (`put` returns `()`, `load`
//! returns `Option`). This adapter never swallows one: every operation is
//! retried with capped backoff until it succeeds, and while it keeps failing
//! the connections that touched the document are closed with an error and
//! readiness reports the storage as failing. A load therefore never reports
//! "absent" for a document whose chunks could not be read, and a put is
//! never dropped.
//!
//! Puts go through one [`PutBatcher`] per instance (shared by every tenant's repo), which writes
//! whatever has queued up while the previous batch was committing in one transaction: a commit
//! per chunk made storage the slowest part of ingest, and the database's own CPU competed with
//! the server's on the same cores.

use std::collections::{BTreeSet, HashMap};
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
    retrier: Retrier,
    puts: PutBatcher,
}

/// Chunks a batch holds at most.
const MAX_BATCH: usize = 1_000;

/// Failed attempts after which affected connections are closed.
const CLOSE_AFTER: u32 = 3;

type QueuedPut = (String, Vec<u8>, tokio::sync::oneshot::Sender<()>);

/// Writes queued chunk puts in batches, one transaction each; a put's future resolves once
/// its batch is committed. A failing batch is retried like every other operation, and takes in
/// the puts that queue up meanwhile, so that their documents' connections are closed too.
#[derive(Debug, Clone)]
pub struct PutBatcher {
    queue: tokio::sync::mpsc::UnboundedSender<QueuedPut>,
}

impl PutBatcher {
    /// Starts the batching task (on the current tokio runtime). It ends when every handle to
    /// the batcher is gone and the queue is drained.
    pub fn start(
        storage: DynStorage,
        registry: Arc<ConnectionRegistry>,
        health: Arc<StorageHealth>,
        projector: Arc<Projector>,
    ) -> Self {
        let (queue, mut rx) = tokio::sync::mpsc::unbounded_channel::<QueuedPut>();
        let retrier = Retrier { registry, health };
        tokio::spawn(async move {
            let mut incoming: Vec<QueuedPut> = Vec::new();
            while rx.recv_many(&mut incoming, MAX_BATCH).await > 0 {
                let (mut chunks, mut waiting): (Vec<_>, Vec<_>) = incoming
                    .drain(..)
                    .map(|(key, data, done)| ((key, data), done))
                    .unzip();
                let mut failure = Failure::default();
                loop {
                    let keys: Vec<&str> = chunks.iter().map(|(k, _)| k.as_str()).collect();
                    match storage.put_chunks(&chunks).await {
                        Ok(()) => {
                            retrier.recovered(&failure, "put", &keys);
                            break;
                        }
                        Err(e) => {
                            retrier.failed(&mut failure, "put", &keys, &e).await;
                            while let Ok((key, data, done)) = rx.try_recv() {
                                chunks.push((key, data));
                                waiting.push(done);
                            }
                        }
                    }
                }
                retrier
                    .health
                    .puts_total
                    .fetch_add(chunks.len() as u64, Ordering::Relaxed);
                for (key, _) in &chunks {
                    if let Some(doc) = doc_id_of_key(key) {
                        projector.mark(doc);
                    }
                }
                for done in waiting {
                    let _ = done.send(());
                }
            }
        });
        Self { queue }
    }

    /// Queues a put and waits until it is committed.
    async fn put(&self, key: String, data: Vec<u8>) {
        let (done, committed) = tokio::sync::oneshot::channel();
        if self.queue.send((key.clone(), data, done)).is_err() || committed.await.is_err() {
            // Only when the runtime is shutting down: never report a put that was not written.
            tracing::error!(key, "chunk put abandoned: the batch writer stopped");
            std::future::pending::<()>().await;
        }
    }
}

/// Retries storage operations and reports their failures; shared by the adapter and the
/// batcher.
#[derive(Debug, Clone)]
struct Retrier {
    registry: Arc<ConnectionRegistry>,
    health: Arc<StorageHealth>,
}

/// The failed attempts of one operation so far.
#[derive(Debug)]
struct Failure {
    attempts: u32,
    delay: Duration,
    /// Documents whose connections were already closed.
    closed: BTreeSet<String>,
}

impl Default for Failure {
    fn default() -> Self {
        Self {
            attempts: 0,
            delay: Duration::from_millis(50),
            closed: BTreeSet::new(),
        }
    }
}

impl SamodStorage {
    /// An adapter whose puts go through `puts`; `registry` is used to close affected
    /// connections.
    pub fn new(
        storage: DynStorage,
        registry: Arc<ConnectionRegistry>,
        health: Arc<StorageHealth>,
        puts: PutBatcher,
    ) -> Self {
        Self {
            storage,
            retrier: Retrier { registry, health },
            puts,
        }
    }
}

impl Retrier {
    /// Runs `f` until it succeeds.
    async fn retry<T, F, Fut>(&self, op: &'static str, keys: &[&str], mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut failure = Failure::default();
        loop {
            match f().await {
                Ok(v) => {
                    self.recovered(&failure, op, keys);
                    return v;
                }
                Err(e) => self.failed(&mut failure, op, keys, &e).await,
            }
        }
    }

    /// Counts and logs a failed attempt; from the [`CLOSE_AFTER`]th on, closes the connections
    /// that touched the documents of `keys` (each document once); then waits before the next
    /// attempt (capped exponential backoff).
    async fn failed(
        &self,
        failure: &mut Failure,
        op: &'static str,
        keys: &[&str],
        e: &crate::error::Error,
    ) {
        failure.attempts += 1;
        if failure.attempts == 1 {
            self.health.failing.fetch_add(1, Ordering::Relaxed);
        }
        self.health.errors_total.fetch_add(1, Ordering::Relaxed);
        tracing::error!(op, key = keys.first(), chunks = keys.len(), attempt = failure.attempts, error = %e, "storage operation failed, retrying");
        if failure.attempts >= CLOSE_AFTER {
            for doc in keys.iter().filter_map(|k| doc_id_of_key(k)) {
                if failure.closed.insert(doc.to_string()) {
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
            }
        }
        tokio::time::sleep(failure.delay).await;
        failure.delay = (failure.delay * 2).min(Duration::from_secs(5));
    }

    /// Ends a failure (if there was one) once the operation succeeded.
    fn recovered(&self, failure: &Failure, op: &'static str, keys: &[&str]) {
        if failure.attempts > 0 {
            self.health.failing.fetch_sub(1, Ordering::Relaxed);
            tracing::info!(
                op,
                key = keys.first(),
                chunks = keys.len(),
                attempt = failure.attempts,
                "storage recovered"
            );
        }
    }
}

impl samod::storage::Storage for SamodStorage {
    fn load(&self, key: StorageKey) -> impl Future<Output = Option<Vec<u8>>> + Send {
        let this = self.clone();
        async move {
            let k = key.to_string();
            this.retrier
                .retry("load", &[&k], || this.storage.load_chunk(&k))
                .await
        }
    }

    fn load_range(
        &self,
        prefix: StorageKey,
    ) -> impl Future<Output = HashMap<StorageKey, Vec<u8>>> + Send {
        let this = self.clone();
        async move {
            let p = prefix.to_string();
            let range = format!("{p}/");
            let rows = this
                .retrier
                .retry("load_range", &[&range], || {
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
        async move { this.puts.put(key.to_string(), data).await }
    }

    fn delete(&self, key: StorageKey) -> impl Future<Output = ()> + Send {
        let this = self.clone();
        async move {
            let k = key.to_string();
            this.retrier
                .retry("delete", &[&k], || this.storage.delete_chunk(&k))
                .await
        }
    }
}
