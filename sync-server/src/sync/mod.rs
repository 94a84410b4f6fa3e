//! The automerge-repo sync endpoint: `samod` does the protocol and document
//! work; this module authenticates connections, checks every inbound frame
//! against document claims, limits frames, and adapts storage.

mod attach;
pub mod cluster;
pub mod protocol;
mod registry;
mod repos;
mod samod_storage;
pub mod session_watch;
mod throttle;
pub(crate) mod ws;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use registry::{ConnId, ConnectionCaps, ConnectionRegistry};
pub use repos::{RepoHandle, RepoKey, Repos};
pub use samod_storage::{SamodStorage, StorageHealth};
pub use throttle::TenantThrottle;
pub use ws::sync_handler;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::now_ms;
use crate::storage::{DocClaim, DynStorage};

/// Document claims with a cache: a claim never moves, so a cached claim
/// never goes stale.
#[derive(Debug)]
pub struct Gate {
    storage: DynStorage,
    cache: Mutex<HashMap<String, DocClaim>>,
}

impl Gate {
    /// A gate over `storage`.
    pub fn new(storage: DynStorage) -> Self {
        Self {
            storage,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The claim of `doc_id`, if any.
    pub async fn claim_of(&self, doc_id: &str) -> Result<Option<DocClaim>> {
        if let Some(c) = self.cache.lock().expect("gate lock").get(doc_id) {
            return Ok(Some(c.clone()));
        }
        let claim = patiently(|| self.storage.doc_claim(doc_id)).await?;
        if let Some(c) = &claim {
            self.remember(c);
        }
        Ok(claim)
    }

    /// Claims `doc_id` for `who` unless claimed; returns the claim in force.
    pub async fn claim(&self, doc_id: &str, who: &Principal) -> Result<DocClaim> {
        let wanted = DocClaim {
            doc_id: doc_id.to_string(),
            tenant_id: who.tenant_id().to_string(),
            store_id: who.store_id().map(str::to_string),
            claimed_by: who.label(),
            claimed_at: now_ms(),
        };
        let claim = patiently(|| self.storage.claim_doc(&wanted)).await?;
        if claim.claimed_by == who.label() {
            tracing::info!(doc_id, tenant = %claim.tenant_id, store = ?claim.store_id, "document claimed");
        }
        self.remember(&claim);
        Ok(claim)
    }

    fn remember(&self, c: &DocClaim) {
        let mut cache = self.cache.lock().expect("gate lock");
        if cache.len() > 1_000_000 {
            cache.clear();
        }
        cache.insert(c.doc_id.clone(), c.clone());
    }

    /// Whether `who` may reach `doc_id` (claimed and within its tenant/store).
    pub async fn allows(&self, doc_id: &str, who: &Principal) -> Result<bool> {
        Ok(self
            .claim_of(doc_id)
            .await?
            .is_some_and(|c| crate::access::may_see_document(who, &c)))
    }
}

/// How long a claim lookup keeps asking for a database connection before it gives up (and the
/// sync connection whose frame needed it is closed). When every till of a fleet reconnects at
/// once, the pool's own timeout means "busy", not "down": the frame waits rather than the
/// till being sent away to reconnect into the same crowd.
const CLAIM_PATIENCE: Duration = Duration::from_secs(30);

/// Runs `op` again, after a growing pause, while it fails because no database connection came
/// free in the pool's time, until [`CLAIM_PATIENCE`] has passed.
async fn patiently<T, F, Fut>(mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let deadline = Instant::now() + CLAIM_PATIENCE;
    let mut pause = Duration::from_millis(50);
    loop {
        match op().await {
            Err(Error::Database(sqlx::Error::PoolTimedOut))
                if Instant::now() + pause < deadline =>
            {
                tracing::warn!(
                    retry_in_ms = pause.as_millis() as u64,
                    "claim lookup: database pool busy"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            other => return other,
        }
    }
}

/// samod share policy of a repo of `tenant` (its own or one of its stores'): a peer id is
/// shared a document only when the connection that bound that peer id in this tenant belongs
/// to the document's tenant/store.
pub fn share_policy(
    registry: Arc<ConnectionRegistry>,
    gate: Arc<Gate>,
    tenant: String,
) -> impl samod::SharePolicy {
    move |doc_id: samod::DocumentId, peer_id: samod::PeerId| {
        let registry = registry.clone();
        let gate = gate.clone();
        let tenant = tenant.clone();
        futures::stream::once(async move {
            let doc = doc_id.to_string();
            // Only authenticated instances can bind these peer ids (ws.rs), and
            // instances dial only instances listed in the database.
            if crate::access::is_instance_peer(peer_id.as_str()) {
                return samod::ShareConfig::read_write();
            }
            let Some(who) = registry.principal_of_peer(&tenant, peer_id.as_str()) else {
                tracing::debug!(%doc, peer = %peer_id, "share denied: unknown peer");
                return samod::ShareConfig::none();
            };
            match gate.allows(&doc, &who).await {
                Ok(true) => samod::ShareConfig::read_write(),
                Ok(false) => samod::ShareConfig::none(),
                Err(e) => {
                    tracing::error!(error = %e, %doc, "share policy: claim lookup failed, denying");
                    samod::ShareConfig::none()
                }
            }
        })
    }
}
