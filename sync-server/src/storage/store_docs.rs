//! Storage of what the server knows about each store's documents (migration 0007): store roots,
//! journals, stock-adjustment documents and the stock baselines it wrote. A supertrait of
//! [`super::Storage`]; `sql/store_docs.rs` implements it for both backends.

use futures::future::BoxFuture;

use crate::error::Result;
use crate::storage::{StockBaselineRow, StoreAdjustmentsRow, StoreJournalRow, StoreRootRow};

/// The store-document tables.
pub trait StoreDocsStorage: Send + Sync {
    /// Records a store root unless the store already has one; updates the links of the root the
    /// store has. Returns the root in force (a second root for a store is not recorded).
    fn upsert_store_root<'a>(&'a self, r: &'a StoreRootRow) -> BoxFuture<'a, Result<StoreRootRow>>;
    fn store_root<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<Option<StoreRootRow>>>;
    /// Every store with a root.
    fn store_roots(&self) -> BoxFuture<'_, Result<Vec<StoreRootRow>>>;
    /// Records a journal (its store, terminal and date never change).
    fn insert_store_journal<'a>(&'a self, j: &'a StoreJournalRow) -> BoxFuture<'a, Result<()>>;
    fn store_journals<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoreJournalRow>>>;
    /// Journals not yet listed by the server in a period index, oldest date first.
    fn unindexed_journals(&self, limit: i64) -> BoxFuture<'_, Result<Vec<StoreJournalRow>>>;
    fn mark_journals_indexed<'a>(
        &'a self,
        doc_ids: &'a [String],
        at: i64,
    ) -> BoxFuture<'a, Result<()>>;
    fn insert_store_adjustments<'a>(
        &'a self,
        a: &'a StoreAdjustmentsRow,
    ) -> BoxFuture<'a, Result<()>>;
    fn store_adjustments<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoreAdjustmentsRow>>>;
    /// Elects `claimed_by` as the writer of a store's baseline for a date: inserts the row if
    /// absent, or takes over an election older than `stale_before` whose writer never finished.
    /// Returns whether `claimed_by` is the writer.
    fn elect_baseline_writer<'a>(
        &'a self,
        store_id: &'a str,
        business_date: &'a str,
        claimed_by: &'a str,
        now: i64,
        stale_before: i64,
    ) -> BoxFuture<'a, Result<bool>>;
    /// Records the written baseline document.
    fn finish_baseline<'a>(
        &'a self,
        store_id: &'a str,
        business_date: &'a str,
        doc_id: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<()>>;
    fn stock_baselines<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StockBaselineRow>>>;
}
