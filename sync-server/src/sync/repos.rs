//! One samod repo per tenant, built on first use.
//!
//! samod's hub walks every established connection × every loaded document on each event
//! (samod-core `State::ensure_connections`), so with one repo for the whole server every change
//! costs in proportion to all connections × all documents of the server: with 100 tills that
//! walk took two thirds of the server's CPU (BENCHMARKS.md). Tenants never share a document (a
//! claim never moves, and the gate keeps every peer to its own tenant), so nothing is lost by
//! giving each tenant its own repo, and the walk then grows only with one tenant's tills and
//! documents. samod has no switch for this, hence the partition here.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::samod_storage::PutBatcher;
use super::{ConnectionRegistry, Gate, SamodStorage, StorageHealth};
use crate::auth::instance_peer_id;
use crate::error::{Error, Result};
use crate::projection::Projector;
use crate::storage::DynStorage;

/// A tenant's repo and the acceptor its WebSocket connections are handed to.
#[derive(Clone)]
pub struct TenantRepo {
    pub repo: samod::Repo,
    pub acceptor: samod::AcceptorHandle,
    /// The repo's peer id (sender of the replies the server makes itself).
    pub peer_id: String,
}

impl std::fmt::Debug for TenantRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRepo")
            .field("peer_id", &self.peer_id)
            .finish_non_exhaustive()
    }
}

/// The repos of one server instance, by tenant id.
pub struct TenantRepos {
    storage: DynStorage,
    registry: Arc<ConnectionRegistry>,
    gate: Arc<Gate>,
    health: Arc<StorageHealth>,
    /// One batch writer for every tenant's chunk puts.
    puts: PutBatcher,
    instance_id: String,
    /// `None` once stopped: no repo is built after shutdown began. Each tenant's cell is built
    /// by its first `get` while the map's lock is not held, so a tenant whose repo cannot load
    /// (storage down: our adapter retries until it can) holds up only its own connections.
    repos: std::sync::Mutex<Option<HashMap<String, Arc<tokio::sync::OnceCell<TenantRepo>>>>>,
    open_count: AtomicUsize,
}

impl std::fmt::Debug for TenantRepos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRepos")
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

impl TenantRepos {
    /// No repo yet; each is built by the first [`TenantRepos::get`] of its tenant. Starts the
    /// chunk batch writer, so call it inside the tokio runtime.
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
        }
    }

    /// The repo of `tenant_id`, built on first use. An error once the server is shutting down.
    pub async fn get(&self, tenant_id: &str) -> Result<TenantRepo> {
        if tenant_id.is_empty() {
            return Err(Error::Internal("a repo needs a tenant".into()));
        }
        let cell = {
            let mut guard = self.lock();
            let repos = guard.as_mut().ok_or_else(shutting_down)?;
            repos.entry(tenant_id.to_string()).or_default().clone()
        };
        let r = cell
            .get_or_try_init(|| self.build(tenant_id))
            .await?
            .clone();
        if self.lock().is_none() {
            // Shutdown began while the repo was being built: stop_all did not see it.
            r.repo.stop().await;
            return Err(shutting_down());
        }
        Ok(r)
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<HashMap<String, Arc<tokio::sync::OnceCell<TenantRepo>>>>>
    {
        self.repos.lock().expect("repos lock")
    }

    async fn build(&self, tenant_id: &str) -> Result<TenantRepo> {
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
        tracing::debug!(tenant_id, "tenant repo opened");
        self.open_count.fetch_add(1, Ordering::Relaxed);
        Ok(TenantRepo {
            peer_id: repo.peer_id().to_string(),
            repo,
            acceptor,
        })
    }

    /// The tenants whose repo is open on this instance, with their repos.
    pub fn open(&self) -> Vec<(String, samod::Repo)> {
        self.lock()
            .iter()
            .flatten()
            .filter_map(|(t, cell)| cell.get().map(|r| (t.clone(), r.repo.clone())))
            .collect()
    }

    /// How many tenant repos are open (for `/metrics`).
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
