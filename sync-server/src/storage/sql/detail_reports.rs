//! SQL of [`DetailReportStorage`]: row-level reads over the projected tables.
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::Result;
use crate::storage::{
    DetailReportStorage, MovementListRow, ProductNameRow, RefundedLineRow, SoldLineRow, VoidListRow,
};

impl DetailReportStorage for Backend {
    fn report_voids<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<VoidListRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT id AS sale_id, receipt_no, terminal_code, business_date, created_at, cashier_id, \
                 total_e4, tax_e4, voided_at, void_reason, void_authorized_by FROM sales \
                 WHERE store_id = $1 AND business_date >= $2 AND business_date <= $3 AND voided = $4 \
                 ORDER BY created_at, id",
            )
            .bind(store_id)
            .bind(from)
            .bind(to)
            .bind(true)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn report_movements<'a>(
        &'a self,
        store_id: &'a str,
        product_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<MovementListRow>>> {
        Box::pin(async move {
            // `$2 IS NULL` needs a typed parameter on PostgreSQL: compare as text.
            Ok(sqlx::query_as(
                "SELECT id, product_id, kind, quantity_e4, at, reference, terminal_code \
                 FROM stock_movements WHERE store_id = $1 AND (CAST($2 AS TEXT) IS NULL OR product_id = $2) \
                 ORDER BY product_id, at, id",
            )
            .bind(store_id)
            .bind(product_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn report_product_names<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ProductNameRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT id, sku, name FROM products WHERE store_id = $1 ORDER BY sku, id",
            )
            .bind(store_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn report_sale_lines<'a>(
        &'a self,
        store_id: &'a str,
        sale_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SoldLineRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT s.receipt_no, s.terminal_code, COALESCE(l.line_id, '') AS line_id, l.product_id, \
                 l.sku, l.name, l.quantity_e4, l.amount_e4 \
                 FROM sale_lines l JOIN sales s ON s.id = l.sale_id \
                 WHERE l.store_id = $1 AND l.sale_id = $2 ORDER BY l.line_no",
            )
            .bind(store_id)
            .bind(sale_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn report_refunded_lines<'a>(
        &'a self,
        store_id: &'a str,
        sale_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<RefundedLineRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT r.id AS refund_id, r.receipt_no, r.terminal_code, r.created_at, \
                 l.sale_line_id, l.quantity_e4 \
                 FROM refund_lines l JOIN refunds r ON r.id = l.refund_id \
                 WHERE l.store_id = $1 AND l.sale_id = $2 ORDER BY r.created_at, r.id, l.seq",
            )
            .bind(store_id)
            .bind(sale_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }
}
