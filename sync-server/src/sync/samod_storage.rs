//! samod's `Storage` cannot report errors (`put` returns `()`, `load`
//! returns `Option`). This adapter never swallows one: every operation is
//! retried with capped backoff until it succeeds, and while it keeps failing
//! the connections that touched the document are closed with an error and
//! readiness reports the storage as failing. A load therefore never reports
//! "absent" for a document whose chunks could not be read, and a put is
//! never dropped.
//!
//! Puts and deletes go through one [`PutBatcher`] per instance (shared by every repo), which
//! writes whatever has queued up while the previous batch was committing in one transaction: a
//! commit per chunk made storage the slowest part of ingest, and the database's own CPU competed
//! with the server's on the same cores. Deletes are samod's compaction (it saves a document
//! whole and deletes the chunks that save covers; how often is patched, see
//! `vendor/samod-core/VENDORED.md`): with 1,000 tills selling, a thousand deletes a second, each
//! a commit and a pooled connection of its own, left heartbeats waiting for a connection.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use samod::storage::StorageKey;

use super::ConnectionRegistry;
use crate::error::Result;
use crate::projection::Projector;
use crate::storage::{ChunkDelete, ChunkPut, DynStorage, doc_id_of_key};

/// Failure counters shared with `/readyz` and `/metrics`.
#[derive(Debug, Default)]
pub struct StorageHealth {
    /// Operations currently failing (retrying).
    pub failing: AtomicU64,
    /// Total failed attempts since start.
    pub errors_total: AtomicU64,
    /// Chunks written since start.
    pub puts_total: AtomicU64,
    /// Bytes of the chunks written since start.
    pub put_bytes_total: AtomicU64,
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
    /// The tenant whose repo this adapter serves: it reads and writes only that tenant's chunks
    /// (and the batch writer takes tenants in turn).
    tenant: Arc<str>,
    retrier: Retrier,
    puts: PutBatcher,
}

/// Chunks a batch holds at most.
const MAX_BATCH: usize = 1_000;

/// Bytes a batch holds at most (a single larger chunk goes alone): one tenant's big chunks must
/// not make every tenant's next commit wait for a long transaction.
const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Failed attempts after which affected connections are closed.
const CLOSE_AFTER: u32 = 3;

/// A chunk to write (its bytes), or to delete (`None`), and who waits for its batch to commit.
struct QueuedPut {
    tenant: Arc<str>,
    key: String,
    data: Option<Vec<u8>>,
    done: tokio::sync::oneshot::Sender<()>,
}

/// A batch's chunk writes, each key either put or deleted: of two writes of one key, the later
/// wins.
#[derive(Default)]
struct Writes {
    puts: Vec<ChunkPut>,
    deletes: Vec<ChunkDelete>,
    put_keys: HashSet<(Arc<str>, String)>,
    delete_keys: HashSet<(Arc<str>, String)>,
    waiting: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl Writes {
    fn add(&mut self, p: QueuedPut) {
        let QueuedPut {
            tenant,
            key,
            data,
            done,
        } = p;
        self.waiting.push(done);
        let id = (tenant.clone(), key.clone());
        match data {
            Some(data) => {
                if self.delete_keys.remove(&id) {
                    self.deletes.retain(|d| d.tenant != tenant || d.key != key);
                }
                self.put_keys.insert(id);
                // `put_chunks` keeps the last put of a key.
                self.puts.push(ChunkPut { tenant, key, data });
            }
            None => {
                if self.put_keys.remove(&id) {
                    self.puts.retain(|c| c.tenant != tenant || c.key != key);
                }
                if self.delete_keys.insert(id) {
                    self.deletes.push(ChunkDelete { tenant, key });
                }
            }
        }
    }

    fn keys(&self) -> Vec<&str> {
        let puts = self.puts.iter().map(|c| c.key.as_str());
        puts.chain(self.deletes.iter().map(|d| d.key.as_str()))
            .collect()
    }
}

/// Puts waiting for a batch, one queue per tenant, taken in turn ([`Pending::take_batch`]):
/// a tenant with a backlog of thousands of chunks does not hold up another tenant's one chunk
/// by more than one batch.
#[derive(Default)]
struct Pending {
    queues: HashMap<Arc<str>, VecDeque<QueuedPut>>,
    /// Tenants with queued puts, in the order they are served.
    turn: VecDeque<Arc<str>>,
}

impl Pending {
    fn push(&mut self, p: QueuedPut) {
        let q = self.queues.entry(p.tenant.clone()).or_default();
        if q.is_empty() {
            self.turn.push_back(p.tenant.clone());
        }
        q.push_back(p);
    }

    fn is_empty(&self) -> bool {
        self.turn.is_empty()
    }

    /// One put of each waiting tenant in turn, up to [`MAX_BATCH`] puts or [`MAX_BATCH_BYTES`].
    fn take_batch(&mut self) -> Vec<QueuedPut> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        while batch.len() < MAX_BATCH
            && bytes < MAX_BATCH_BYTES
            && let Some(tenant) = self.turn.pop_front()
        {
            let Some(q) = self.queues.get_mut(&tenant) else {
                continue;
            };
            if let Some(p) = q.pop_front() {
                bytes += p.data.as_ref().map_or(0, Vec::len);
                batch.push(p);
            }
            if q.is_empty() {
                self.queues.remove(&tenant);
            } else {
                self.turn.push_back(tenant);
            }
        }
        batch
    }
}

/// Writes queued chunk puts in batches, one transaction each; a put's future resolves once
/// its batch is committed. Batches take the tenants' puts in turn ([`Pending`]). A failing
/// batch is retried like every other operation, and takes in the puts that queue up meanwhile,
/// so that their documents' connections are closed too.
#[derive(Debug, Clone)]
pub struct PutBatcher {
    queue: tokio::sync::mpsc::UnboundedSender<QueuedPut>,
}

impl std::fmt::Debug for QueuedPut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedPut")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
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
            let mut pending = Pending::default();
            loop {
                if pending.is_empty() {
                    match rx.recv().await {
                        Some(p) => pending.push(p),
                        None => break,
                    }
                }
                while let Ok(p) = rx.try_recv() {
                    pending.push(p);
                }
                let mut writes = Writes::default();
                for p in pending.take_batch() {
                    writes.add(p);
                }
                let mut failure = Failure::default();
                loop {
                    match storage.write_chunks(&writes.puts, &writes.deletes).await {
                        Ok(()) => {
                            retrier.recovered(&failure, "write", &writes.keys());
                            break;
                        }
                        Err(e) => {
                            retrier
                                .failed(&mut failure, "write", &writes.keys(), &e)
                                .await;
                            while let Ok(p) = rx.try_recv() {
                                writes.add(p);
                            }
                        }
                    }
                }
                let health = &retrier.health;
                health
                    .puts_total
                    .fetch_add(writes.puts.len() as u64, Ordering::Relaxed);
                health.put_bytes_total.fetch_add(
                    writes.puts.iter().map(|p| p.data.len() as u64).sum(),
                    Ordering::Relaxed,
                );
                for ChunkPut { key, .. } in &writes.puts {
                    if let Some(doc) = doc_id_of_key(key) {
                        projector.mark(doc);
                    }
                }
                for done in writes.waiting {
                    let _ = done.send(());
                }
            }
        });
        Self { queue }
    }

    /// Queues a put of `tenant` (a delete when `data` is `None`) and waits until it is
    /// committed.
    async fn put(&self, tenant: Arc<str>, key: String, data: Option<Vec<u8>>) {
        let (done, committed) = tokio::sync::oneshot::channel();
        let queued = QueuedPut {
            tenant,
            key: key.clone(),
            data,
            done,
        };
        if self.queue.send(queued).is_err() || committed.await.is_err() {
            // Only when the runtime is shutting down: never report a write that was not made.
            tracing::error!(key, "chunk write abandoned: the batch writer stopped");
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
        tenant: &str,
        registry: Arc<ConnectionRegistry>,
        health: Arc<StorageHealth>,
        puts: PutBatcher,
    ) -> Self {
        Self {
            storage,
            tenant: tenant.into(),
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
                .retry("load", &[&k], || this.storage.load_chunk(&this.tenant, &k))
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
                    this.storage.load_chunk_range(&this.tenant, &p)
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
            this.puts
                .put(this.tenant.clone(), key.to_string(), Some(data))
                .await
        }
    }

    fn delete(&self, key: StorageKey) -> impl Future<Output = ()> + Send {
        let this = self.clone();
        async move {
            this.puts
                .put(this.tenant.clone(), key.to_string(), None)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(tenant: &str, key: &str, len: usize) -> QueuedPut {
        QueuedPut {
            tenant: tenant.into(),
            key: key.into(),
            data: Some(vec![0; len]),
            done: tokio::sync::oneshot::channel().0,
        }
    }

    fn delete(tenant: &str, key: &str) -> QueuedPut {
        QueuedPut {
            data: None,
            ..put(tenant, key, 0)
        }
    }

    #[test]
    fn the_later_write_of_a_key_wins_within_a_batch() {
        let mut w = Writes::default();
        w.add(put("t", "doc/incremental/a", 1));
        w.add(put("t", "doc/incremental/b", 1));
        w.add(delete("t", "doc/incremental/a"));
        w.add(delete("u", "doc/incremental/b"));
        w.add(delete("t", "doc/incremental/c"));
        w.add(put("t", "doc/incremental/c", 2));
        w.add(delete("t", "doc/incremental/d"));
        w.add(delete("t", "doc/incremental/d"));
        let puts: Vec<_> = w
            .puts
            .iter()
            .map(|c| (&*c.tenant, c.key.as_str()))
            .collect();
        assert_eq!(
            puts,
            [("t", "doc/incremental/b"), ("t", "doc/incremental/c")]
        );
        let deletes: Vec<_> = w
            .deletes
            .iter()
            .map(|d| (&*d.tenant, d.key.as_str()))
            .collect();
        assert_eq!(
            deletes,
            [
                ("t", "doc/incremental/a"),
                ("u", "doc/incremental/b"),
                ("t", "doc/incremental/d")
            ]
        );
        assert_eq!(w.waiting.len(), 8, "every writer hears of the commit");
    }

    #[test]
    fn batches_take_tenants_in_turn_and_stay_small() {
        let mut p = Pending::default();
        for i in 0..5_000 {
            p.push(put("busy", &format!("b{i}"), 10));
        }
        p.push(put("quiet", "q0", 10));
        let first = p.take_batch();
        assert_eq!(first.len(), MAX_BATCH);
        assert!(
            first.iter().any(|q| q.key == "q0"),
            "the quiet tenant's chunk waits for no more than one batch"
        );
        let mut big = Pending::default();
        for i in 0..10 {
            big.push(put("big", &format!("k{i}"), MAX_BATCH_BYTES / 2));
        }
        assert_eq!(
            big.take_batch().len(),
            2,
            "a batch holds about MAX_BATCH_BYTES"
        );
        let mut huge = Pending::default();
        huge.push(put("big", "k", MAX_BATCH_BYTES * 3));
        assert_eq!(huge.take_batch().len(), 1, "an oversized chunk goes alone");
        assert!(huge.is_empty());
    }
}
