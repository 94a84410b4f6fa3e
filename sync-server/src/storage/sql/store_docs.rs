//! SQL of [`StoreDocsStorage`]: store roots, journals, adjustment documents, stock baselines.
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::{Error, Result};
use crate::storage::{
    StockBaselineRow, StoreAdjustmentsRow, StoreDocsStorage, StoreJournalRow, StoreRootRow,
};

impl StoreDocsStorage for Backend {
    fn upsert_store_root<'a>(&'a self, r: &'a StoreRootRow) -> BoxFuture<'a, Result<StoreRootRow>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO store_roots (tenant_id, store_id, root_doc_id, catalog_doc_id, settings_doc_id, \
                 users_doc_id, parked_carts_doc_id, latest_baseline_doc_id, updated_at) \
                 VALUES ((SELECT tenant_id FROM stores WHERE id = $1), $1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant_id, store_id) DO UPDATE SET catalog_doc_id = excluded.catalog_doc_id, \
                 settings_doc_id = excluded.settings_doc_id, users_doc_id = excluded.users_doc_id, \
                 parked_carts_doc_id = excluded.parked_carts_doc_id, \
                 latest_baseline_doc_id = excluded.latest_baseline_doc_id, \
                 updated_at = excluded.updated_at \
                 WHERE store_roots.root_doc_id = excluded.root_doc_id",
            )
            .bind(&r.store_id)
            .bind(&r.root_doc_id)
            .bind(&r.catalog_doc_id)
            .bind(&r.settings_doc_id)
            .bind(&r.users_doc_id)
            .bind(&r.parked_carts_doc_id)
            .bind(&r.latest_baseline_doc_id)
            .bind(r.updated_at)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::from_insert(e, "document is the root of another store"))?;
            Ok(sqlx::query_as(
                "SELECT store_id, root_doc_id, catalog_doc_id, settings_doc_id, users_doc_id, \
                 parked_carts_doc_id, latest_baseline_doc_id, updated_at FROM store_roots \
                 WHERE store_id = $1",
            )
            .bind(&r.store_id)
            .fetch_one(&self.pool)
            .await?)
        })
    }

    fn store_root<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<Option<StoreRootRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT store_id, root_doc_id, catalog_doc_id, settings_doc_id, users_doc_id, \
                 parked_carts_doc_id, latest_baseline_doc_id, updated_at FROM store_roots \
                 WHERE store_id = $1",
            )
            .bind(store_id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn store_roots(&self) -> BoxFuture<'_, Result<Vec<StoreRootRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT store_id, root_doc_id, catalog_doc_id, settings_doc_id, users_doc_id, \
                 parked_carts_doc_id, latest_baseline_doc_id, updated_at FROM store_roots \
                 ORDER BY store_id",
            )
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn insert_store_journal<'a>(&'a self, j: &'a StoreJournalRow) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO store_journals (tenant_id, doc_id, store_id, terminal_code, business_date, indexed_at) \
                 VALUES ((SELECT tenant_id FROM stores WHERE id = $2), $1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, doc_id) DO NOTHING",
            )
            .bind(&j.doc_id)
            .bind(&j.store_id)
            .bind(&j.terminal_code)
            .bind(&j.business_date)
            .bind(j.indexed_at)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn store_journals<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoreJournalRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT doc_id, store_id, terminal_code, business_date, indexed_at \
                 FROM store_journals WHERE store_id = $1 ORDER BY business_date, terminal_code, doc_id",
            )
            .bind(store_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn unindexed_journals(&self, limit: i64) -> BoxFuture<'_, Result<Vec<StoreJournalRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT doc_id, store_id, terminal_code, business_date, indexed_at \
                 FROM store_journals WHERE indexed_at IS NULL \
                 ORDER BY business_date, store_id, doc_id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn mark_journals_indexed<'a>(
        &'a self,
        doc_ids: &'a [String],
        at: i64,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            for id in doc_ids {
                sqlx::query("UPDATE store_journals SET indexed_at = $2 WHERE doc_id = $1")
                    .bind(id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn insert_store_adjustments<'a>(
        &'a self,
        a: &'a StoreAdjustmentsRow,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO store_adjustments (tenant_id, doc_id, store_id, period) \
                 VALUES ((SELECT tenant_id FROM stores WHERE id = $2), $1, $2, $3) \
                 ON CONFLICT (tenant_id, doc_id) DO NOTHING",
            )
            .bind(&a.doc_id)
            .bind(&a.store_id)
            .bind(&a.period)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn store_adjustments<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoreAdjustmentsRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT doc_id, store_id, period FROM store_adjustments WHERE store_id = $1 \
                 ORDER BY period, doc_id",
            )
            .bind(store_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn elect_baseline_writer<'a>(
        &'a self,
        store_id: &'a str,
        business_date: &'a str,
        claimed_by: &'a str,
        now: i64,
        stale_before: i64,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let inserted = sqlx::query(
                "INSERT INTO stock_baselines (tenant_id, store_id, business_date, claimed_by, claimed_at) \
                 VALUES ((SELECT tenant_id FROM stores WHERE id = $1), $1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, store_id, business_date) DO NOTHING",
            )
            .bind(store_id)
            .bind(business_date)
            .bind(claimed_by)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if inserted == 1 {
                return Ok(true);
            }
            // A writer that was elected but never finished (crashed) is replaced.
            let taken = sqlx::query(
                "UPDATE stock_baselines SET claimed_by = $3, claimed_at = $4 \
                 WHERE store_id = $1 AND business_date = $2 AND doc_id IS NULL AND claimed_at < $5",
            )
            .bind(store_id)
            .bind(business_date)
            .bind(claimed_by)
            .bind(now)
            .bind(stale_before)
            .execute(&self.pool)
            .await?
            .rows_affected();
            Ok(taken == 1)
        })
    }

    fn finish_baseline<'a>(
        &'a self,
        store_id: &'a str,
        business_date: &'a str,
        doc_id: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE stock_baselines SET doc_id = $3, written_at = $4 \
                 WHERE store_id = $1 AND business_date = $2",
            )
            .bind(store_id)
            .bind(business_date)
            .bind(doc_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn stock_baselines<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StockBaselineRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT store_id, business_date, claimed_by, claimed_at, doc_id, written_at \
                 FROM stock_baselines WHERE store_id = $1 ORDER BY business_date",
            )
            .bind(store_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }
}
