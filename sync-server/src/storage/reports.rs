//! Reports: reads over the projected rows, per store and business-date range.

use futures::future::BoxFuture;

use crate::error::Result;
use crate::storage::{
    ConflictListRow, DayTotal, KeyTotal, LowStockRow, OverRefundRow, ProductTotal,
    QuarterHourTotal, RefundListRow, SaleListRow, ShiftListRow, StockLevel,
};

/// Reports over projected rows.
pub trait ReportStorage: Send + Sync {
    /// Non-voided sales per business day (`from`..=`to`, `YYYY-MM-DD`).
    fn report_sales_by_day<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<DayTotal>>>;
    /// Payments of non-voided sales per method.
    fn report_sales_by_payment<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KeyTotal>>>;
    /// Non-voided sale lines per product.
    fn report_sales_by_product<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ProductTotal>>>;
    /// Non-voided sale lines per category (`""` for none).
    fn report_sales_by_category<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KeyTotal>>>;
    /// Non-voided sales per cashier.
    fn report_sales_by_cashier<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KeyTotal>>>;
    /// Every sale (voided included), oldest first.
    fn report_sales_list<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SaleListRow>>>;
    /// Refunds, oldest first.
    fn report_refunds<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<RefundListRow>>>;
    /// Shifts, oldest first.
    fn report_shifts<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ShiftListRow>>>;
    /// Non-voided sales of the business dates `from`..=`to` per quarter hour of `created_at`.
    fn report_sales_by_quarter_hour<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<QuarterHourTotal>>>;
    /// Per-document conflicts of a store (catalogs, parked carts).
    fn report_doc_conflicts<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ConflictListRow>>>;
    /// Sale lines refunded beyond what was sold, over every journal of the store.
    fn report_over_refunds<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<OverRefundRow>>>;
    /// Stock on hand per product.
    fn report_stock_on_hand<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StockLevel>>>;
    /// Active products with a threshold whose stock on hand (as in
    /// [`Storage::report_stock_on_hand`]) is at or below it, by SKU.
    fn report_low_stock<'a>(&'a self, store_id: &'a str)
    -> BoxFuture<'a, Result<Vec<LowStockRow>>>;
}
