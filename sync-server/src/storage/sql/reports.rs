//! SQL of [`ReportStorage`]: aggregates over the projected rows.
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::{Backend, Db};
use crate::error::Result;
use crate::storage::{
    ConflictListRow, DayTotal, KeyTotal, LowStockRow, OverRefundRow, ProductTotal,
    QuarterHourTotal, RefundListRow, ReportStorage, SaleListRow, ShiftListRow, StockLevel,
};

/// Implements [`ReportStorage`] reads over a store's business-date range:
/// `name -> Row = filter, sql;` binds `$1` store, `$2`..=`$3` dates and, with `NON_VOIDED`,
/// `$4 = false` (the `voided` filter).
macro_rules! ranged_reports {
    ($($(#[$doc:meta])* $name:ident -> $row:ty = $voided:expr, $sql:expr;)*) => {
        $(
            $(#[$doc])*
            fn $name<'a>(
                &'a self,
                store_id: &'a str,
                from: &'a str,
                to: &'a str,
            ) -> BoxFuture<'a, Result<Vec<$row>>> {
                self.ranged($sql, store_id, from, to, $voided)
            }
        )*
    };
}

/// Implements [`ReportStorage`] reads of a whole store: `name -> Row = sql;` binds `$1`
/// store.
macro_rules! store_reports {
    ($($name:ident -> $row:ty = $sql:expr;)*) => {
        $(
            fn $name<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<Vec<$row>>> {
                Box::pin(async move {
                    Ok(sqlx::query_as($sql).bind(store_id).fetch_all(&self.pool).await?)
                })
            }
        )*
    };
}

/// With the `voided = $4` filter: only non-voided sales.
const NON_VOIDED: bool = true;
/// Every row, voided sales included.
const ALL: bool = false;

impl Backend {
    /// Rows of `sql` for `$1` = `store_id`, `$2` = `from`, `$3` = `to` and, when `non_voided`,
    /// `$4` = `false`.
    fn ranged<'a, T>(
        &'a self,
        sql: &'static str,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
        non_voided: bool,
    ) -> BoxFuture<'a, Result<Vec<T>>>
    where
        T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin + 'a,
    {
        Box::pin(async move {
            let q = sqlx::query_as(sql).bind(store_id).bind(from).bind(to);
            let q = if non_voided { q.bind(false) } else { q };
            Ok(q.fetch_all(&self.pool).await?)
        })
    }
}

impl ReportStorage for Backend {
    ranged_reports! {
        report_sales_by_day -> DayTotal = NON_VOIDED,
            "SELECT business_date, COUNT(*) AS sales, CAST(COALESCE(SUM(total_e4), 0) AS BIGINT) AS total_e4, \
             CAST(COALESCE(SUM(tax_e4), 0) AS BIGINT) AS tax_e4, \
             CAST(COALESCE(SUM(discount_e4), 0) AS BIGINT) AS discount_e4 FROM sales \
             WHERE store_id = $1 AND business_date >= $2 AND business_date <= $3 AND voided = $4 \
             GROUP BY business_date ORDER BY business_date";
        report_sales_by_payment -> KeyTotal = NON_VOIDED,
            "SELECT p.method AS key, CAST(NULL AS TEXT) AS name, COUNT(*) AS count, CAST(COALESCE(SUM(p.amount_e4), 0) AS BIGINT) AS amount_e4 \
             FROM payments p JOIN sales s ON s.id = p.sale_id \
             WHERE s.store_id = $1 AND s.business_date >= $2 AND s.business_date <= $3 AND s.voided = $4 \
             GROUP BY p.method ORDER BY p.method";
        report_sales_by_product -> ProductTotal = NON_VOIDED,
            "SELECT l.product_id, MAX(l.name) AS name, CAST(COALESCE(SUM(l.quantity_e4), 0) AS BIGINT) AS quantity_e4, \
             CAST(COALESCE(SUM(l.amount_e4), 0) AS BIGINT) AS amount_e4 \
             FROM sale_lines l JOIN sales s ON s.id = l.sale_id \
             WHERE s.store_id = $1 AND s.business_date >= $2 AND s.business_date <= $3 AND s.voided = $4 \
             GROUP BY l.product_id ORDER BY amount_e4 DESC, l.product_id";
        report_sales_by_category -> KeyTotal = NON_VOIDED,
            "SELECT g.key, g.count, g.amount_e4, (SELECT MAX(n.name) FROM projected_names n \
             WHERE n.store_id = $1 AND n.kind = 'category' AND n.id = g.key) AS name FROM \
             (SELECT COALESCE(l.category_id, '') AS key, COUNT(*) AS count, \
             CAST(COALESCE(SUM(l.amount_e4), 0) AS BIGINT) AS amount_e4 \
             FROM sale_lines l JOIN sales s ON s.id = l.sale_id \
             WHERE s.store_id = $1 AND s.business_date >= $2 AND s.business_date <= $3 AND s.voided = $4 \
             GROUP BY COALESCE(l.category_id, '')) g ORDER BY g.amount_e4 DESC, g.key";
        report_sales_by_cashier -> KeyTotal = NON_VOIDED,
            "SELECT g.key, g.count, g.amount_e4, (SELECT MAX(n.name) FROM projected_names n \
             WHERE n.store_id = $1 AND n.kind = 'user' AND n.id = g.key) AS name FROM \
             (SELECT cashier_id AS key, COUNT(*) AS count, CAST(COALESCE(SUM(total_e4), 0) AS BIGINT) AS amount_e4 \
             FROM sales WHERE store_id = $1 AND business_date >= $2 AND business_date <= $3 AND voided = $4 \
             GROUP BY cashier_id) g ORDER BY g.amount_e4 DESC, g.key";
        report_sales_list -> SaleListRow = ALL,
            "SELECT id, receipt_no, terminal_code, business_date, created_at, cashier_id, total_e4, tax_e4, voided \
             FROM sales WHERE store_id = $1 AND business_date >= $2 AND business_date <= $3 \
             ORDER BY created_at, id";
        report_refunds -> RefundListRow = ALL,
            "SELECT r.id, r.receipt_no, r.sale_id, s.receipt_no AS sale_receipt_no, r.terminal_code, \
             r.business_date, r.created_at, r.total_e4, r.tax_e4 \
             FROM refunds r LEFT JOIN sales s ON s.id = r.sale_id \
             WHERE r.store_id = $1 AND r.business_date >= $2 AND r.business_date <= $3 \
             ORDER BY r.created_at, r.id";
        report_shifts -> ShiftListRow = ALL,
            "SELECT id, terminal_code, cashier_id, business_date, opened_at, closed_at, opening_float_e4, \
             expected_cash_e4, counted_cash_e4, difference_e4 \
             FROM shifts WHERE store_id = $1 AND business_date >= $2 AND business_date <= $3 \
             ORDER BY opened_at, id";
        /// Integer division on both backends (BIGINT / integer).
        report_sales_by_quarter_hour -> QuarterHourTotal = NON_VOIDED,
            "SELECT created_at / 900000 AS bucket, COUNT(*) AS sales, \
             CAST(COALESCE(SUM(total_e4), 0) AS BIGINT) AS total_e4, \
             CAST(COALESCE(SUM(tax_e4), 0) AS BIGINT) AS tax_e4 FROM sales \
             WHERE store_id = $1 AND business_date >= $2 AND business_date <= $3 AND voided = $4 \
             GROUP BY created_at / 900000 ORDER BY bucket";
    }

    store_reports! {
        report_doc_conflicts -> ConflictListRow =
            "SELECT DISTINCT kind, key, detail FROM doc_conflicts WHERE store_id = $1 ORDER BY key";
        report_over_refunds -> OverRefundRow =
            "SELECT r.sale_id, r.sale_line_id, MAX(l.quantity_e4) AS sold_e4, \
             CAST(SUM(r.quantity_e4) AS BIGINT) AS refunded_e4 \
             FROM refund_lines r JOIN sale_lines l ON l.sale_id = r.sale_id AND l.line_id = r.sale_line_id \
             WHERE r.store_id = $1 GROUP BY r.sale_id, r.sale_line_id \
             HAVING SUM(r.quantity_e4) > MAX(l.quantity_e4) ORDER BY r.sale_id, r.sale_line_id";
        report_stock_on_hand -> StockLevel =
            "SELECT product_id, CAST(COALESCE(SUM(quantity_e4), 0) AS BIGINT) AS quantity_e4 \
             FROM stock_movements WHERE store_id = $1 GROUP BY product_id ORDER BY product_id";
    }

    fn report_low_stock<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<LowStockRow>>> {
        Box::pin(async move {
            // On hand is the sum of every projected movement, as in report_stock_on_hand;
            // a product without movements has none.
            Ok(sqlx::query_as(
                "SELECT p.id AS product_id, p.sku, p.name, \
                 CAST(COALESCE(SUM(m.quantity_e4), 0) AS BIGINT) AS on_hand_e4, \
                 p.low_stock_threshold_e4 AS threshold_e4 \
                 FROM products p LEFT JOIN stock_movements m \
                 ON m.store_id = p.store_id AND m.product_id = p.id \
                 WHERE p.store_id = $1 AND p.active = $2 AND p.low_stock_threshold_e4 IS NOT NULL \
                 GROUP BY p.id, p.sku, p.name, p.low_stock_threshold_e4 \
                 HAVING COALESCE(SUM(m.quantity_e4), 0) <= p.low_stock_threshold_e4 \
                 ORDER BY p.sku, p.id",
            )
            .bind(store_id)
            .bind(true)
            .fetch_all(&self.pool)
            .await?)
        })
    }
}
