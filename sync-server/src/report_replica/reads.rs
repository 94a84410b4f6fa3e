//! The report reads of [`ReportReads`]: each read of [`ReportStorage`] and
//! [`DetailReportStorage`] through [`ReportReads::read`], to the replica or the primary.

use futures::future::BoxFuture;

use super::ReportReads;
use crate::error::Result;
use crate::storage::{
    ConflictListRow, DayTotal, DetailReportStorage, KeyTotal, LowStockRow, MovementListRow,
    OverRefundRow, ProductNameRow, ProductTotal, QuarterHourTotal, RefundListRow, RefundedLineRow,
    ReportStorage, SaleListRow, ShiftListRow, SoldLineRow, StockLevel, VoidListRow,
};

impl ReportStorage for ReportReads {
    fn report_sales_by_day<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<DayTotal>>> {
        self.read(move |db| db.report_sales_by_day(store_id, from, to))
    }

    fn report_sales_by_payment<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KeyTotal>>> {
        self.read(move |db| db.report_sales_by_payment(store_id, from, to))
    }

    fn report_sales_by_product<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ProductTotal>>> {
        self.read(move |db| db.report_sales_by_product(store_id, from, to))
    }

    fn report_sales_by_category<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KeyTotal>>> {
        self.read(move |db| db.report_sales_by_category(store_id, from, to))
    }

    fn report_sales_by_cashier<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KeyTotal>>> {
        self.read(move |db| db.report_sales_by_cashier(store_id, from, to))
    }

    fn report_sales_list<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SaleListRow>>> {
        self.read(move |db| db.report_sales_list(store_id, from, to))
    }

    fn report_refunds<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<RefundListRow>>> {
        self.read(move |db| db.report_refunds(store_id, from, to))
    }

    fn report_shifts<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ShiftListRow>>> {
        self.read(move |db| db.report_shifts(store_id, from, to))
    }

    fn report_sales_by_quarter_hour<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<QuarterHourTotal>>> {
        self.read(move |db| db.report_sales_by_quarter_hour(store_id, from, to))
    }

    fn report_doc_conflicts<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ConflictListRow>>> {
        self.read(move |db| db.report_doc_conflicts(store_id))
    }

    fn report_over_refunds<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<OverRefundRow>>> {
        self.read(move |db| db.report_over_refunds(store_id))
    }

    fn report_stock_on_hand<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StockLevel>>> {
        self.read(move |db| db.report_stock_on_hand(store_id))
    }

    fn report_low_stock<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<LowStockRow>>> {
        self.read(move |db| db.report_low_stock(store_id))
    }
}

impl DetailReportStorage for ReportReads {
    fn report_voids<'a>(
        &'a self,
        store_id: &'a str,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, Result<Vec<VoidListRow>>> {
        self.read(move |db| db.report_voids(store_id, from, to))
    }

    fn report_movements<'a>(
        &'a self,
        store_id: &'a str,
        product_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<MovementListRow>>> {
        self.read(move |db| db.report_movements(store_id, product_id))
    }

    fn report_product_names<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ProductNameRow>>> {
        self.read(move |db| db.report_product_names(store_id))
    }

    fn report_sale_lines<'a>(
        &'a self,
        store_id: &'a str,
        sale_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SoldLineRow>>> {
        self.read(move |db| db.report_sale_lines(store_id, sale_id))
    }

    fn report_refunded_lines<'a>(
        &'a self,
        store_id: &'a str,
        sale_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<RefundedLineRow>>> {
        self.read(move |db| db.report_refunded_lines(store_id, sale_id))
    }
}
