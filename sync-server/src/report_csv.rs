//! CSV export of every report: one function, [`Services::export_csv`], serves the API's
//! `/api/v1/stores/{store_id}/exports/<report>.csv` and the dashboard's download links, so the
//! two give the same bytes. Each export reads through the report's own service function (the
//! same access checks and numbers as its JSON and its page).
//!
//! Format: a header row, CRLF line ends, text cells always quoted and neutralised by
//! [`shared_model::csv_cell`] (a cell a spreadsheet would run as a formula is defused), numbers
//! and amounts bare (decimal point, no thousands separator), times RFC 3339 in the store's
//! time zone.

use chrono::TimeZone;
use tracing::instrument;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::reports::{DateRange, csv_field};
use crate::service::Services;
use crate::stock_reports::MovementsQuery;
use crate::zreport::{BusinessDay, ZTotals};

/// Which report to export, with its parameters.
#[derive(Debug)]
pub enum CsvExport {
    Sales(DateRange),
    Products(DateRange),
    Categories(DateRange),
    Cashiers(DateRange),
    PaymentMethods(DateRange),
    /// Refunds and voided sales, one `kind` column telling them apart.
    RefundsVoids(DateRange),
    Shifts(DateRange),
    ZReport(BusinessDay),
    StockOnHand,
    LowStock,
    Movements(MovementsQuery),
    Oversells,
}

/// A CSV file: its name for `Content-Disposition` and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFile {
    pub filename: String,
    pub body: String,
}

/// Rows being written.
struct Csv(String);

impl Csv {
    fn new(header: &[&str]) -> Csv {
        let mut c = Csv(String::new());
        c.raw(header.iter().map(|h| h.to_string()));
        c
    }

    fn raw(&mut self, cells: impl IntoIterator<Item = String>) {
        let cells: Vec<String> = cells.into_iter().collect();
        self.0.push_str(&cells.join(","));
        self.0.push_str("\r\n");
    }
}

/// A text cell.
fn t(s: &str) -> String {
    csv_field(s)
}

/// An optional text cell (empty and quoted when absent).
fn ot(s: Option<&str>) -> String {
    csv_field(s.unwrap_or(""))
}

/// A number or amount cell (the services give decimal strings); empty when absent.
fn n(s: Option<&str>) -> String {
    s.unwrap_or("").to_string()
}

fn range_name(report: &str, r: &DateRange) -> String {
    format!("{report}_{}_{}.csv", r.from, r.to)
}

impl Services {
    /// A unix-ms time as RFC 3339 in the store's time zone (empty when out of range).
    async fn csv_time_fn(&self, store_id: &str) -> Result<impl Fn(i64) -> String + use<>> {
        let tz = self
            .business_day(store_id)
            .await?
            .validate()
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(move |ms: i64| {
            tz.timestamp_millis_opt(ms)
                .single()
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
        })
    }

    /// The CSV of one report for the caller (the report's own access checks apply).
    #[instrument(skip_all, fields(store_id))]
    pub async fn export_csv(
        &self,
        who: &Principal,
        store_id: &str,
        export: &CsvExport,
    ) -> Result<CsvFile> {
        let (filename, body) = match export {
            CsvExport::Sales(r) => (
                range_name("sales", r),
                self.sales_csv(who, store_id, r).await?,
            ),
            CsvExport::Products(r) => {
                let mut c = Csv::new(&["product_id", "name", "quantity", "amount"]);
                for x in self.sales_by_product(who, store_id, r).await? {
                    c.raw([t(&x.product_id), t(&x.name), x.quantity, x.amount]);
                }
                (range_name("products", r), c.0)
            }
            CsvExport::Categories(r) => {
                let mut c = Csv::new(&["category_id", "name", "lines", "amount"]);
                for x in self.sales_by_category(who, store_id, r).await? {
                    c.raw([
                        t(&x.key),
                        ot(x.name.as_deref()),
                        x.count.to_string(),
                        x.amount,
                    ]);
                }
                (range_name("categories", r), c.0)
            }
            CsvExport::Cashiers(r) => {
                let mut c = Csv::new(&["cashier_id", "name", "sales", "amount"]);
                for x in self.sales_by_cashier(who, store_id, r).await? {
                    c.raw([
                        t(&x.key),
                        ot(x.name.as_deref()),
                        x.count.to_string(),
                        x.amount,
                    ]);
                }
                (range_name("cashiers", r), c.0)
            }
            CsvExport::PaymentMethods(r) => {
                let mut c = Csv::new(&["method", "payments", "amount"]);
                for x in self.sales_by_payment_method(who, store_id, r).await? {
                    c.raw([t(&x.method), x.payments.to_string(), x.amount]);
                }
                (range_name("payment-methods", r), c.0)
            }
            CsvExport::RefundsVoids(r) => {
                let both = self.refunds_and_voids(who, store_id, r).await?;
                let time = self.csv_time_fn(store_id).await?;
                let mut c = Csv::new(&[
                    "kind",
                    "id",
                    "receipt_no",
                    "sale_receipt_no",
                    "terminal_code",
                    "business_date",
                    "at",
                    "total",
                    "tax",
                    "reason",
                    "authorized_by",
                ]);
                for x in both.refunds {
                    c.raw([
                        t("refund"),
                        t(&x.id),
                        ot(x.receipt_no.as_deref()),
                        ot(x.sale_receipt_no.as_deref()),
                        t(&x.terminal_code),
                        t(&x.business_date),
                        t(&time(x.created_at)),
                        x.total,
                        x.tax,
                        t(""),
                        t(""),
                    ]);
                }
                for x in both.voids {
                    c.raw([
                        t("void"),
                        t(&x.sale_id),
                        t(&x.receipt_no),
                        t(&x.receipt_no),
                        t(&x.terminal_code),
                        t(&x.business_date),
                        t(&x.voided_at.map(&time).unwrap_or_default()),
                        x.total,
                        x.tax,
                        ot(x.reason.as_deref()),
                        ot(x.authorized_by.as_deref()),
                    ]);
                }
                (range_name("refunds-voids", r), c.0)
            }
            CsvExport::Shifts(r) => {
                let shifts = self.shifts(who, store_id, r).await?;
                let time = self.csv_time_fn(store_id).await?;
                let mut c = Csv::new(&[
                    "shift_id",
                    "terminal_code",
                    "cashier_id",
                    "business_date",
                    "opened_at",
                    "closed_at",
                    "opening_float",
                    "expected_cash",
                    "counted_cash",
                    "difference",
                ]);
                for x in shifts {
                    c.raw([
                        t(&x.id),
                        t(&x.terminal_code),
                        t(&x.cashier_id),
                        t(&x.business_date),
                        t(&time(x.opened_at)),
                        t(&x.closed_at.map(&time).unwrap_or_default()),
                        x.opening_float,
                        n(x.expected_cash.as_deref()),
                        n(x.counted_cash.as_deref()),
                        n(x.difference.as_deref()),
                    ]);
                }
                (range_name("shifts", r), c.0)
            }
            CsvExport::ZReport(q) => {
                let z = self.z_report(who, store_id, q).await?;
                let mut c = Csv::new(&["scope", "item", "count", "amount"]);
                z_rows(&mut c, "store", &z.store);
                for till in &z.tills {
                    z_rows(&mut c, &till.terminal_code, &till.report);
                }
                (format!("z-report_{}.csv", z.business_date), c.0)
            }
            CsvExport::StockOnHand => {
                let mut c = Csv::new(&["product_id", "sku", "name", "on_hand"]);
                for x in self.stock_list(who, store_id, None).await? {
                    c.raw([t(&x.product_id), t(&x.sku), t(&x.name), x.on_hand]);
                }
                ("stock-on-hand.csv".into(), c.0)
            }
            CsvExport::LowStock => {
                let mut c = Csv::new(&["product_id", "sku", "name", "on_hand", "threshold"]);
                for x in self.low_stock(who, store_id).await? {
                    c.raw([
                        t(&x.product_id),
                        t(&x.sku),
                        t(&x.name),
                        x.on_hand,
                        x.threshold,
                    ]);
                }
                ("low-stock.csv".into(), c.0)
            }
            CsvExport::Movements(q) => {
                let m = self.stock_movements(who, store_id, q).await?;
                let time = self.csv_time_fn(store_id).await?;
                let mut c = Csv::new(&[
                    "at",
                    "business_date",
                    "kind",
                    "quantity",
                    "balance",
                    "reference",
                    "terminal_code",
                ]);
                for x in m.movements {
                    c.raw([
                        t(&time(x.at)),
                        t(&x.business_date),
                        t(&x.kind),
                        x.quantity,
                        x.balance,
                        ot(x.reference.as_deref()),
                        ot(x.terminal_code.as_deref()),
                    ]);
                }
                let name = if m.sku.is_empty() {
                    &m.product_id
                } else {
                    &m.sku
                };
                (format!("movements_{}.csv", file_safe(name)), c.0)
            }
            CsvExport::Oversells => {
                let list = self.oversells(who, store_id).await?;
                let time = self.csv_time_fn(store_id).await?;
                let mut c = Csv::new(&[
                    "product_id",
                    "sku",
                    "name",
                    "lowest",
                    "first_below_zero_at",
                    "terminals",
                    "receipts",
                    "on_hand",
                ]);
                for x in list {
                    c.raw([
                        t(&x.product_id),
                        t(&x.sku),
                        t(&x.name),
                        x.lowest,
                        t(&time(x.first_below_zero_at)),
                        t(&x.terminals.join(" ")),
                        t(&x.receipts.join(" ")),
                        x.on_hand,
                    ]);
                }
                ("oversells.csv".into(), c.0)
            }
        };
        Ok(CsvFile { filename, body })
    }
}

/// A file-name-safe form of `s` (letters, digits, `-`, `_`; the rest `_`).
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A Z report in long form: one row per figure, `method:<key>:<sales|refunds|net>` per method.
fn z_rows(c: &mut Csv, scope: &str, z: &ZTotals) {
    let mut row = |item: &str, count: Option<u64>, amount: Option<&str>| {
        c.raw([
            t(scope),
            t(item),
            count.map(|n| n.to_string()).unwrap_or_default(),
            n(amount),
        ])
    };
    row("sales", Some(z.sales_count), Some(&z.sales_total));
    row("gross_sales", None, Some(&z.gross_sales));
    row("discounts", None, Some(&z.discounts));
    row("tax", None, Some(&z.tax));
    row("dpp", None, Some(&z.dpp));
    row("refunds", Some(z.refunds_count), Some(&z.refunds_total));
    row("refunds_tax", None, Some(&z.refunds_tax));
    row("voids", Some(z.voids_count), None);
    row("cash_rounding", None, Some(&z.cash_rounding));
    for m in &z.by_method {
        row(
            &format!("method:{}:sales", m.method),
            Some(m.count),
            Some(&m.sales),
        );
        row(
            &format!("method:{}:refunds", m.method),
            None,
            Some(&m.refunds),
        );
        row(&format!("method:{}:net", m.method), None, Some(&m.net));
    }
    row("opening_float", None, Some(&z.opening_float));
    row("cash_in", None, Some(&z.cash_in));
    row("cash_out", None, Some(&z.cash_out));
    row("expected_cash", None, Some(&z.expected_cash));
    row("counted_cash", None, z.counted_cash.as_deref());
    row("difference", None, z.difference.as_deref());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        let mut c = Csv::new(&["a", "b"]);
        c.raw([t("=SUM(A1)"), n(Some("-5"))]);
        c.raw([ot(None), t("say \"hi\"")]);
        assert_eq!(
            c.0,
            "a,b\r\n\"'=SUM(A1)\",-5\r\n\"\",\"say \"\"hi\"\"\"\r\n"
        );
    }

    #[test]
    fn file_names_keep_to_safe_characters() {
        assert_eq!(file_safe("IDM-01/x y"), "IDM-01_x_y");
    }
}
