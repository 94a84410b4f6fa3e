//! SQL of [`ClaimStorage`]: document claims and the live-instance table.
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::Result;
use crate::storage::{ClaimStorage, DocClaim, InstanceRow};

impl ClaimStorage for Backend {
    fn claim_doc<'a>(&'a self, claim: &'a DocClaim) -> BoxFuture<'a, Result<DocClaim>> {
        Box::pin(async move {
            // No conflict target: a racing claim of the same document may hit the tenant-led
            // primary key before the document's own unique key (schema 18); either means the
            // document is claimed, and the claim is read back below.
            sqlx::query(
                "INSERT INTO doc_claims (doc_id, tenant_id, store_id, claimed_by, claimed_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(&claim.doc_id)
            .bind(&claim.tenant_id)
            .bind(&claim.store_id)
            .bind(&claim.claimed_by)
            .bind(claim.claimed_at)
            .execute(&self.pool)
            .await?;
            Ok(sqlx::query_as(
                "SELECT doc_id, tenant_id, store_id, claimed_by, claimed_at FROM doc_claims \
                 WHERE doc_id = $1",
            )
            .bind(&claim.doc_id)
            .fetch_one(&self.pool)
            .await?)
        })
    }

    fn doc_claim<'a>(&'a self, doc_id: &'a str) -> BoxFuture<'a, Result<Option<DocClaim>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT doc_id, tenant_id, store_id, claimed_by, claimed_at FROM doc_claims \
                 WHERE doc_id = $1",
            )
            .bind(doc_id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn store_tenants(&self) -> BoxFuture<'_, Result<Vec<(String, String)>>> {
        Box::pin(async move {
            Ok(
                sqlx::query_as("SELECT tenant_id, id FROM stores ORDER BY tenant_id, id")
                    .fetch_all(&self.pool)
                    .await?,
            )
        })
    }

    fn heartbeat_instance<'a>(
        &'a self,
        id: &'a str,
        url: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO instances (id, url, heartbeat_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET url = excluded.url, heartbeat_at = excluded.heartbeat_at",
            )
            .bind(id).bind(url).bind(now)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn live_instances(&self, since: i64) -> BoxFuture<'_, Result<Vec<InstanceRow>>> {
        Box::pin(async move {
            Ok(
                sqlx::query_as(
                    "SELECT id, url FROM instances WHERE heartbeat_at >= $1 ORDER BY id",
                )
                .bind(since)
                .fetch_all(&self.pool)
                .await?,
            )
        })
    }
}
