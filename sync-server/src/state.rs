//! Application state shared by every handler, the sync endpoint and the background tasks:
//! the [`Services`], the sync hub ([`SyncHub`]: the tenants' and stores' samod repos, claim
//! gate, storage health, projector) and the [`Metrics`]. Kept apart from the wiring
//! ([`crate::app`]) so that lower layers can name the state without importing every route.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::config::Config;
use crate::error::Result;
use crate::projection::{LiveDocuments, Projector};
use crate::service::Services;
use crate::storage::DynStorage;
use crate::sync::{Gate, Repos, StorageHealth, TenantThrottle};

/// Counters exported at `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub connections_total: AtomicU64,
    pub frames_in: AtomicU64,
    pub frames_rejected: AtomicU64,
    pub denied: AtomicU64,
    /// Frames after which a tenant over its inbound budget had to wait.
    pub throttled: AtomicU64,
}

/// The sync side: the tenants' and stores' samod repos, claim gate.
pub struct SyncHub {
    pub repos: Repos,
    pub gate: Arc<Gate>,
    pub health: Arc<StorageHealth>,
    pub metrics: Metrics,
    /// Projects changed documents into the report tables.
    pub projector: Arc<Projector>,
    /// Id of this instance (cluster peering).
    pub instance_id: String,
    /// Inbound budget per tenant.
    pub throttle: TenantThrottle,
}

impl std::fmt::Debug for SyncHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncHub")
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

/// Shared state of every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    pub services: Services,
    pub sync: Arc<SyncHub>,
}

impl AppState {
    /// Builds services and the sync hub over migrated `storage`.
    pub async fn new(storage: DynStorage, config: Arc<Config>) -> Result<Self> {
        let throttle = TenantThrottle::new(
            config.tenant_bytes_per_sec,
            config.tenant_frames_per_sec,
            config.max_frame_bytes,
        );
        let services = Services::new(storage.clone(), config).await?;
        let gate = Arc::new(Gate::new(storage.clone()));
        let health = Arc::new(StorageHealth::default());
        let projector = Arc::new(Projector::default());
        let instance_id = uuid::Uuid::now_v7().to_string();
        let repos = Repos::new(
            storage,
            services.connections.clone(),
            gate.clone(),
            health.clone(),
            projector.clone(),
            instance_id.clone(),
        );
        let sync = Arc::new(SyncHub {
            repos,
            gate,
            health,
            metrics: Metrics::default(),
            projector,
            instance_id,
            throttle,
        });
        // Weak: the hub owns the projector.
        let hub = Arc::downgrade(&sync);
        sync.projector
            .read_live_documents_with(LiveDocuments(Box::new(move |claim| {
                hub.upgrade()?.repos.live_document(claim)
            })));
        Ok(Self { services, sync })
    }

    /// Closes every connection and stops samod, waiting for pending storage writes.
    pub async fn shutdown(&self) {
        self.services.connections.close_all("server shutting down");
        self.sync.repos.stop_all().await;
    }
}
