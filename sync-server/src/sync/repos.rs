//! One samod repo per store and one per tenant, each built on first use.
//!
//! samod's hub walks every established connection × every loaded document on each event
//! (samod-core `State::ensure_connections`), and each document keeps sync state for every
//! connection of its repo, whether the share policy lets that peer see it or not. With one repo
//! for the whole server every change cost in proportion to all connections × all documents
//! (two thirds of the server's CPU at 100 tills, BENCHMARKS.md); with one repo per tenant, a
//! chain of 100 tills still paid it within its tenant. So documents are partitioned by the
//! narrowest scope their claim gives them:
//!
//! * a document claimed for a store (a till's journal, the store's shifts) lives in that
//!   store's repo, whose connections are the store's tills and the owners reading it;
//! * a tenant-wide document (the catalog, staff, an app's documents) lives in the tenant's repo,
//!   which every client of the tenant is connected to.
//!
//! A document never moves (claims never move), so it is held by one repo only and nothing is
//! synced between the repos of one instance. A client connection is routed over the repos it
//! needs by `ws.rs` ([`super::ws`]); all repos of a tenant present the same peer id, so to the
//! client they are one server. samod has no switch for any of this, hence the partition here.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::samod_storage::PutBatcher;
use super::{ConnectionRegistry, Gate, SamodStorage, StorageHealth};
use crate::auth::instance_peer_id;
use crate::error::{Error, Result};
use crate::projection::Projector;
use crate::storage::{DocClaim, DynStorage};

/// Which repo a document lives in: its tenant's, or its store's within the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoKey {
    pub tenant_id: String,
    pub store_id: Option<String>,
}

impl RepoKey {
    /// The tenant-wide repo of `tenant_id`.
    pub fn tenant(tenant_id: &str) -> Self {
        Self {
            tenant_id: tenant_id.to_string(),
            store_id: None,
        }
    }

    /// The repo of one store of a tenant.
    pub fn store(tenant_id: &str, store_id: &str) -> Self {
        Self {
            tenant_id: tenant_id.to_string(),
            store_id: Some(store_id.to_string()),
        }
    }

    /// The repo a claimed document lives in.
    pub fn of_claim(claim: &DocClaim) -> Self {
        Self {
            tenant_id: claim.tenant_id.clone(),
            store_id: claim.store_id.clone(),
        }
    }

    /// `tenant` or `tenant/store`: for logs, and as the scope an instance's peering connection
    /// binds its peer id in (one link per repo, all with the same peer id).
    pub fn label(&self) -> String {
        match &self.store_id {
            Some(s) => format!("{}/{s}", self.tenant_id),
            None => self.tenant_id.clone(),
        }
    }
}

/// A repo and the acceptor its WebSocket connections are handed to.
#[derive(Clone)]
pub struct RepoHandle {
    pub repo: samod::Repo,
    pub acceptor: samod::AcceptorHandle,
    /// The repo's peer id (sender of the replies the server makes itself); the same for every
    /// repo of a tenant on this instance.
    pub peer_id: String,
}

impl std::fmt::Debug for RepoHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepoHandle")
            .field("peer_id", &self.peer_id)
            .finish_non_exhaustive()
    }
}

type RepoCell = Arc<tokio::sync::OnceCell<RepoHandle>>;

/// The repos of one server instance, by [`RepoKey`].
pub struct Repos {
    storage: DynStorage,
    registry: Arc<ConnectionRegistry>,
    gate: Arc<Gate>,
    health: Arc<StorageHealth>,
    /// One batch writer for every repo's chunk puts.
    puts: PutBatcher,
    instance_id: String,
    /// `None` once stopped: no repo is built after shutdown began. Each repo's cell is built
    /// by its first `get` while the map's lock is not held, so a repo that cannot load
    /// (storage down: our adapter retries until it can) holds up only its own connections.
    repos: std::sync::Mutex<Option<HashMap<RepoKey, RepoCell>>>,
    open_count: AtomicUsize,
    /// Every store repo built, so that owners already connected to the tenant attach to it.
    opened: tokio::sync::broadcast::Sender<RepoKey>,
}

impl std::fmt::Debug for Repos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repos")
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

impl Repos {
    /// No repo yet; each is built by the first [`Repos::get`] of its key. Starts the chunk
    /// batch writer, so call it inside the tokio runtime.
    pub fn new(
        storage: DynStorage,
        registry: Arc<ConnectionRegistry>,
        gate: Arc<Gate>,
        health: Arc<StorageHealth>,
        projector: Arc<Projector>,
        instance_id: String,
    ) -> Self {
        let puts = PutBatcher::start(storage.clone(), registry.clone(), health.clone(), projector);
        Self {
            storage,
            registry,
            gate,
            health,
            puts,
            instance_id,
            repos: std::sync::Mutex::new(Some(HashMap::new())),
            open_count: AtomicUsize::new(0),
            opened: tokio::sync::broadcast::channel(256).0,
        }
    }

    /// The repo of `key`, built on first use. An error once the server is shutting down.
    pub async fn get(&self, key: &RepoKey) -> Result<RepoHandle> {
        if key.tenant_id.is_empty() {
            return Err(Error::Internal("a repo needs a tenant".into()));
        }
        let cell = {
            let mut guard = self.lock();
            let repos = guard.as_mut().ok_or_else(shutting_down)?;
            repos.entry(key.clone()).or_default().clone()
        };
        let r = cell.get_or_try_init(|| self.build(key)).await?.clone();
        if self.lock().is_none() {
            // Shutdown began while the repo was being built: stop_all did not see it.
            r.repo.stop().await;
            return Err(shutting_down());
        }
        Ok(r)
    }

    /// The repo a document with this claim lives in.
    pub async fn of_claim(&self, claim: &DocClaim) -> Result<RepoHandle> {
        self.get(&RepoKey::of_claim(claim)).await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<HashMap<RepoKey, RepoCell>>> {
        self.repos.lock().expect("repos lock")
    }

    async fn build(&self, key: &RepoKey) -> Result<RepoHandle> {
        let tenant_id = key.tenant_id.as_str();
        let repo = samod::Repo::build_tokio()
            .with_peer_id(samod::PeerId::from_string(instance_peer_id(
                &self.instance_id,
                tenant_id,
            )))
            .with_storage(SamodStorage::new(
                self.storage.clone(),
                tenant_id,
                self.registry.clone(),
                self.health.clone(),
                self.puts.clone(),
            ))
            .with_share_policy(super::share_policy(
                self.registry.clone(),
                self.gate.clone(),
                tenant_id.to_string(),
            ))
            .load()
            .await;
        let url = samod::Url::parse("ws://snapkasir-sync/")
            .map_err(|e| Error::Internal(e.to_string()))?;
        let acceptor = repo.make_acceptor(url).map_err(|_| shutting_down())?;
        tracing::debug!(repo = %key.label(), "repo opened");
        self.open_count.fetch_add(1, Ordering::Relaxed);
        if key.store_id.is_some() {
            // Nobody listening is fine.
            let _ = self.opened.send(key.clone());
        }
        Ok(RepoHandle {
            peer_id: repo.peer_id().to_string(),
            repo,
            acceptor,
        })
    }

    /// Store repos opened from now on (a connection of the tenant may want to attach).
    pub fn subscribe_opened(&self) -> tokio::sync::broadcast::Receiver<RepoKey> {
        self.opened.subscribe()
    }

    /// The repos open on this instance, with their keys.
    pub fn open(&self) -> Vec<(RepoKey, RepoHandle)> {
        self.lock()
            .iter()
            .flatten()
            .filter_map(|(k, cell)| cell.get().map(|r| (k.clone(), r.clone())))
            .collect()
    }

    /// The handle of a document this instance's repo holds in memory now (its live copy, what
    /// sync writes to storage); `None` when the repo is not open or does not hold it. Never
    /// opens a repo or waits for a load (a document the repo does not hold starts loading, as
    /// any search does): the projector asks this of documents the repo just stored, and reads
    /// them from storage otherwise. samod keeps each search's subscriber until the document's
    /// state next changes, so callers keep the handle rather than ask again.
    pub fn live_document(&self, claim: &DocClaim) -> Option<samod::DocHandle> {
        let key = RepoKey::of_claim(claim);
        let repo = self.lock().as_ref()?.get(&key)?.get()?.repo.clone();
        let id = std::str::FromStr::from_str(&claim.doc_id).ok()?;
        match repo.search(id).ok()?.0 {
            samod::SearchState::Found(handle) => Some(handle),
            samod::SearchState::Loading | samod::SearchState::Requesting(_) => None,
        }
    }

    /// The store repos of `tenant_id` open on this instance.
    pub fn open_stores_of(&self, tenant_id: &str) -> Vec<RepoKey> {
        self.lock()
            .iter()
            .flatten()
            .filter(|(k, cell)| {
                k.tenant_id == tenant_id && k.store_id.is_some() && cell.initialized()
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// How many repos are open (for `/metrics`).
    pub fn open_count(&self) -> usize {
        self.open_count.load(Ordering::Relaxed)
    }

    /// Stops every repo, waiting for their pending storage writes; builds none afterwards.
    pub async fn stop_all(&self) {
        let repos = self.lock().take().unwrap_or_default();
        self.open_count.store(0, Ordering::Relaxed);
        for (_, cell) in repos {
            if let Some(r) = cell.get() {
                r.repo.stop().await;
            }
        }
    }
}

fn shutting_down() -> Error {
    Error::Internal("server shutting down".into())
}
