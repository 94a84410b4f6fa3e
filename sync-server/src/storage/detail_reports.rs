//! Detail reports for the dashboard (issue 13): voided sales with their void, a store's stock
//! movements in time order (a product's history, oversells) and product names. A supertrait of
//! [`super::Storage`]; `sql/detail_reports.rs` implements it for both backends. Kept apart from
//! [`super::ReportStorage`] (aggregates) because these read rows one by one.

use futures::future::BoxFuture;

use crate::error::Result;
use crate::storage::{MovementListRow, ProductNameRow, RefundedLineRow, SoldLineRow, VoidListRow};

/// Row-level reads over the projected tables.
pub trait DetailReportStorage: Send + Sync {
    /// Voided sales of the business dates `from`..=`to`, oldest first.
    fn report_voids<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<VoidListRow>>>;
    /// Stock movements of one product (`Some`) or of every product (`None`), by product, then
    /// time, then id.
    fn report_movements<'a>(
        &'a self,
        store_id: &'a str,
        product_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<MovementListRow>>>;
    /// Every product of the store's projected catalog (inactive ones included), by SKU.
    fn report_product_names<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ProductNameRow>>>;
    /// The lines of a sale (with its receipt number), by line number.
    fn report_sale_lines<'a>(
        &'a self,
        store_id: &'a str,
        sale_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SoldLineRow>>>;
    /// The refund lines of a sale with their refund's receipt number, till and time, oldest
    /// first.
    fn report_refunded_lines<'a>(
        &'a self,
        store_id: &'a str,
        sale_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<RefundedLineRow>>>;
}
