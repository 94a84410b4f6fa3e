//! The relational rows documents project to (written by [`crate::projection`], replaced per
//! document), and the lookups the sync layer makes on them.

use futures::future::BoxFuture;

use crate::error::Result;
use crate::storage::{ProjectedDoc, PublicSale, RecordChanges, StoreSettingsRow};

/// One value of a row the projection writes. A table's rows are collected as values
/// ([`RowValues`]) so that each backend binds them its own way (`insert_projected_rows` in
/// `postgres.rs` and `sqlite.rs`). It borrows what backups' owned [`crate::storage::Cell`]
/// would copy: every string of every row the projector writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowValue<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Bool(bool),
}

impl<'a> From<&'a String> for RowValue<'a> {
    fn from(v: &'a String) -> Self {
        RowValue::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for RowValue<'a> {
    fn from(v: Option<&'a str>) -> Self {
        RowValue::Text(v)
    }
}

impl<'a> From<&'a Option<String>> for RowValue<'a> {
    fn from(v: &'a Option<String>) -> Self {
        RowValue::Text(v.as_deref())
    }
}

impl From<i64> for RowValue<'_> {
    fn from(v: i64) -> Self {
        RowValue::Int(Some(v))
    }
}

impl From<Option<i64>> for RowValue<'_> {
    fn from(v: Option<i64>) -> Self {
        RowValue::Int(v)
    }
}

impl From<bool> for RowValue<'_> {
    fn from(v: bool) -> Self {
        RowValue::Bool(v)
    }
}

/// One row's values, in the column order of its `INSERT`.
#[derive(Debug, Default)]
pub(crate) struct RowValues<'a>(pub(crate) Vec<RowValue<'a>>);

impl<'a> RowValues<'a> {
    /// Adds the next column's value.
    pub(crate) fn push_bind(&mut self, value: impl Into<RowValue<'a>>) -> &mut Self {
        self.0.push(value.into());
        self
    }
}

/// Projected rows.
pub trait ProjectionStorage: Send + Sync {
    /// Replaces every projected row of one document, in one transaction; returns the
    /// `projected_at` it wrote.
    fn project_doc<'a>(&'a self, rows: &'a ProjectedDoc) -> BoxFuture<'a, Result<i64>>;
    /// Writes only the records of `rows` that changed (and removes the gone ones) since the
    /// projection `changes` was made against; the document's small tables (conflicts, names,
    /// settings) are replaced whole. `None`, with nothing written, when another projection of
    /// the document came in between: then [`Self::project_doc`] is the way.
    fn project_doc_changes<'a>(
        &'a self,
        rows: &'a ProjectedDoc,
        changes: &'a RecordChanges,
    ) -> BoxFuture<'a, Result<Option<i64>>>;
    /// Adds the rows of several documents' new records (journals' new sales), in one
    /// transaction: nothing of them is removed or rewritten, and a document's rows are written
    /// only while its `projected_at` is still the one given with it (nobody projected it since).
    /// Returns each document's new `projected_at`, in order; `None` for a document passed over,
    /// which [`Self::project_doc`] is the way for.
    fn project_additions<'a>(
        &'a self,
        docs: &'a [(ProjectedDoc, i64)],
    ) -> BoxFuture<'a, Result<Vec<Option<i64>>>>;
    /// Those of `ids` that are projected sales or refunds of the tenant's store.
    fn projected_records<'a>(
        &'a self,
        tenant_id: &'a str,
        store_id: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<String>>>;
    /// The one projected sale whose receipt token is `token`, with its lines and payments;
    /// `None` when no sale has it, or more than one (a till sent a copy of another sale's
    /// token: the link shows neither).
    fn sale_by_receipt_token<'a>(
        &'a self,
        token: &'a str,
    ) -> BoxFuture<'a, Result<Option<PublicSale>>>;
    /// The store's projected business-day settings, if its settings document arrived.
    fn store_settings<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoreSettingsRow>>>;
}
