//! One samod repo per store and one per tenant, built on first use and linked in-process.
//!
//! samod's hub walks every established connection × every loaded document on each event
//! (samod-core `State::ensure_connections`), and each repo runs all its document actors on one
//! task. With one repo for the whole server every change cost in proportion to all connections
//! × all documents of the server (with 100 tills that walk took two thirds of the server's CPU,
//! BENCHMARKS.md). Documents never move between scopes (a claim never moves), so:
//!
//! * a store's tills (and its managers) connect to the **store's repo**, which holds the store's
//!   documents and the tenant-wide documents its tills open;
//! * the tenant's owners connect to the **tenant's repo**, which holds tenant-wide documents
//!   and the store documents owners open;
//! * each store repo is linked to its tenant repo by an in-process samod connection
//!   (`ChannelDialer`). Over it the tenant repo offers a store repo that store's documents and
//!   the tenant-wide ones; a store repo offers its tenant repo the tenant-wide documents, and
//!   answers (without offering) for its own documents when the tenant repo asks for one an
//!   owner opened. So an owner's write reaches the tills and a till's write reaches the owner,
//!   while the tenant repo holds only what owners use, not every store's documents.
//!
//! The walk then covers one store's tills and documents. samod has no switch for this, hence
//! the partition here.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::samod_storage::PutBatcher;
use super::{ConnectionRegistry, Gate, SamodStorage, StorageHealth};
use crate::auth::{INSTANCE_PEER_PREFIX, Principal};
use crate::error::{Error, Result};
use crate::projection::Projector;
use crate::storage::DynStorage;

/// Which documents a repo holds: a store's, or (no store) the tenant-wide ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    pub tenant_id: String,
    pub store_id: Option<String>,
}

impl Scope {
    /// The repo a principal's connections go to (`None` for instances, which name theirs).
    pub fn of(principal: &Principal) -> Option<Scope> {
        match principal {
            Principal::Instance { .. } => None,
            p => Some(Scope {
                tenant_id: p.tenant_id().to_string(),
                store_id: p.store_id().map(str::to_string),
            }),
        }
    }

    /// The repo of a document claimed for `tenant_id` and `store_id`.
    pub fn of_claim(tenant_id: &str, store_id: Option<&str>) -> Scope {
        Scope {
            tenant_id: tenant_id.to_string(),
            store_id: store_id.map(str::to_string),
        }
    }

    fn tenant(&self) -> Scope {
        Scope {
            tenant_id: self.tenant_id.clone(),
            store_id: None,
        }
    }

    /// `tenant` or `tenant.store` (ids are UUIDs, so `.` separates them unambiguously).
    fn key(&self) -> String {
        match &self.store_id {
            Some(s) => format!("{}.{s}", self.tenant_id),
            None => self.tenant_id.clone(),
        }
    }
}

/// A repo and the acceptor its WebSocket connections are handed to.
#[derive(Clone)]
pub struct ScopeRepo {
    pub repo: samod::Repo,
    pub acceptor: samod::AcceptorHandle,
    /// The repo's peer id (sender of the replies the server makes itself).
    pub peer_id: String,
}

impl std::fmt::Debug for ScopeRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeRepo")
            .field("peer_id", &self.peer_id)
            .finish_non_exhaustive()
    }
}

/// Peer id of `instance_id`'s repo for `scope`: instance peering opens one connection per
/// scope, and each needs its own peer id (the registry lets one peer id hold one connection).
pub fn instance_peer_id(instance_id: &str, scope: &Scope) -> String {
    format!("{INSTANCE_PEER_PREFIX}{instance_id}.{}", scope.key())
}

/// The repos of one server instance, by scope.
pub struct Repos {
    storage: DynStorage,
    registry: Arc<ConnectionRegistry>,
    gate: Arc<Gate>,
    health: Arc<StorageHealth>,
    /// One batch writer for every repo's chunk puts.
    puts: PutBatcher,
    instance_id: String,
    /// `None` once stopped: no repo is built after shutdown began.
    repos: tokio::sync::Mutex<Option<HashMap<Scope, ScopeRepo>>>,
    /// Store repos' links to their tenant repos (kept so that the links stay dialled).
    links: std::sync::Mutex<Vec<samod::DialerHandle<std::convert::Infallible>>>,
    open_count: AtomicUsize,
}

impl std::fmt::Debug for Repos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repos")
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

impl Repos {
    /// No repo yet; each is built by the first [`Repos::get`] of its scope. Starts the chunk
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
            repos: tokio::sync::Mutex::new(Some(HashMap::new())),
            links: std::sync::Mutex::new(Vec::new()),
            open_count: AtomicUsize::new(0),
        }
    }

    /// The repo of `scope`, built on first use; a store's repo is linked to its tenant's,
    /// which is built too if need be. An error once the server is shutting down.
    pub async fn get(&self, scope: &Scope) -> Result<ScopeRepo> {
        if scope.tenant_id.is_empty() {
            return Err(Error::Internal("a repo needs a tenant".into()));
        }
        let mut guard = self.repos.lock().await;
        let repos = guard.as_mut().ok_or_else(shutting_down)?;
        if let Some(r) = repos.get(scope) {
            return Ok(r.clone());
        }
        if scope.store_id.is_some() && !repos.contains_key(&scope.tenant()) {
            let tenant = self.build(&scope.tenant()).await?;
            repos.insert(scope.tenant(), tenant);
        }
        let r = self.build(scope).await?;
        if scope.store_id.is_some() {
            let tenant = &repos[&scope.tenant()];
            let link = r
                .repo
                .dial(
                    samod::BackoffConfig {
                        initial_delay: Duration::from_millis(10),
                        max_delay: Duration::from_secs(1),
                        max_retries: None,
                    },
                    Arc::new(samod::transport::channel::ChannelDialer::new(
                        tenant.acceptor.clone(),
                    )),
                )
                .map_err(|_| shutting_down())?;
            self.links.lock().expect("links lock").push(link);
        }
        repos.insert(scope.clone(), r.clone());
        self.open_count.store(repos.len(), Ordering::Relaxed);
        tracing::debug!(scope = %scope.key(), "repo opened");
        Ok(r)
    }

    async fn build(&self, scope: &Scope) -> Result<ScopeRepo> {
        let repo = samod::Repo::build_tokio()
            .with_peer_id(samod::PeerId::from_string(instance_peer_id(
                &self.instance_id,
                scope,
            )))
            .with_storage(SamodStorage::new(
                self.storage.clone(),
                self.registry.clone(),
                self.health.clone(),
                self.puts.clone(),
            ))
            .with_share_policy(super::share_policy(
                self.registry.clone(),
                self.gate.clone(),
                self.instance_id.clone(),
                scope.clone(),
            ))
            .load()
            .await;
        let url = samod::Url::parse("ws://snapkasir-sync/")
            .map_err(|e| Error::Internal(e.to_string()))?;
        let acceptor = repo.make_acceptor(url).map_err(|_| shutting_down())?;
        Ok(ScopeRepo {
            peer_id: repo.peer_id().to_string(),
            repo,
            acceptor,
        })
    }

    /// The scopes whose repo is open on this instance, with their repos.
    pub async fn open(&self) -> Vec<(Scope, samod::Repo)> {
        let guard = self.repos.lock().await;
        guard
            .iter()
            .flatten()
            .map(|(s, r)| (s.clone(), r.repo.clone()))
            .collect()
    }

    /// How many repos are open (for `/metrics`).
    pub fn open_count(&self) -> usize {
        self.open_count.load(Ordering::Relaxed)
    }

    /// Stops every repo, waiting for their pending storage writes; builds none afterwards.
    pub async fn stop_all(&self) {
        let repos = self.repos.lock().await.take().unwrap_or_default();
        self.open_count.store(0, Ordering::Relaxed);
        for link in self.links.lock().expect("links lock").drain(..) {
            link.close();
        }
        for (_, r) in repos {
            r.repo.stop().await;
        }
    }
}

/// What a repo's share policy makes of a peer id.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RepoPeer {
    /// Another instance's repo of the same scope.
    OtherInstance,
    /// This instance's tenant repo, seen from one of its store repos.
    OwnTenantRepo,
    /// This instance's repo of the given store, seen from the tenant repo.
    OwnStoreRepo(String),
    /// Not a server repo: a client.
    Client,
}

/// Classifies `peer` as seen from this instance's repo of `scope`.
pub(crate) fn repo_peer(peer: &str, instance_id: &str, scope: &Scope) -> RepoPeer {
    let Some(rest) = peer.strip_prefix(INSTANCE_PEER_PREFIX) else {
        return RepoPeer::Client;
    };
    let Some(own) = rest
        .strip_prefix(instance_id)
        .and_then(|r| r.strip_prefix('.'))
    else {
        return RepoPeer::OtherInstance;
    };
    // This instance's own repos link only a store's repo with its tenant's repo; any other
    // own peer id is nobody we share with.
    match &scope.store_id {
        Some(_) if own == scope.tenant_id => RepoPeer::OwnTenantRepo,
        Some(_) => RepoPeer::Client,
        None => match own
            .strip_prefix(scope.tenant_id.as_str())
            .and_then(|r| r.strip_prefix('.'))
        {
            Some(store) if !store.is_empty() => RepoPeer::OwnStoreRepo(store.to_string()),
            _ => RepoPeer::Client,
        },
    }
}

fn shutting_down() -> Error {
    Error::Internal("server shutting down".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_classified_by_their_repo_ids() {
        let store = Scope::of_claim("t", Some("s"));
        let tenant = Scope::of_claim("t", None);
        let me = "i1";
        assert_eq!(
            repo_peer(&instance_peer_id(me, &tenant), me, &store),
            RepoPeer::OwnTenantRepo
        );
        assert_eq!(
            repo_peer(&instance_peer_id(me, &store), me, &tenant),
            RepoPeer::OwnStoreRepo("s".into())
        );
        assert_eq!(
            repo_peer(&instance_peer_id("i2", &store), me, &store),
            RepoPeer::OtherInstance
        );
        assert_eq!(
            repo_peer(&instance_peer_id("i2", &tenant), me, &tenant),
            RepoPeer::OtherInstance
        );
        assert_eq!(repo_peer("till-peer", me, &store), RepoPeer::Client);
        // Another store's repo of this instance never links to a store repo.
        let other_store = Scope::of_claim("t", Some("s2"));
        assert_eq!(
            repo_peer(&instance_peer_id(me, &other_store), me, &store),
            RepoPeer::Client
        );
    }
}
