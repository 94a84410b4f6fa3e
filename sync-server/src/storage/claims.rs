//! Which tenant owns each document id (claims never move), and which server instances are alive.

use futures::future::BoxFuture;

use crate::error::Result;
use crate::storage::{DocClaim, InstanceRow};

/// Document claims and live instances.
pub trait ClaimStorage: Send + Sync {
    /// Claims a document id unless already claimed; returns the claim in force.
    fn claim_doc<'a>(&'a self, claim: &'a DocClaim) -> BoxFuture<'a, Result<DocClaim>>;
    fn doc_claim<'a>(&'a self, doc_id: &'a str) -> BoxFuture<'a, Result<Option<DocClaim>>>;
    /// Every store as `(tenant id, store id)`: whose derived document ids to reserve
    /// ([`crate::period_index::reserve_all`]).
    fn store_tenants(&self) -> BoxFuture<'_, Result<Vec<(String, String)>>>;
    /// Records that instance `id` is alive and reachable at `url`.
    fn heartbeat_instance<'a>(
        &'a self,
        id: &'a str,
        url: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<()>>;
    /// Instances with a heartbeat at or after `since`: `(id, url)`.
    fn live_instances(&self, since: i64) -> BoxFuture<'_, Result<Vec<InstanceRow>>>;
}
