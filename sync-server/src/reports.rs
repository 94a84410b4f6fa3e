//! Report use-cases over the projected tables. Amounts are decimal strings.

use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::access;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::projection::from_e4;
use crate::report_replica::ReportReads;
use crate::service::Services;
use crate::storage::ReportStorage as Db;
use crate::storage::{DetailReportStorage, KeyTotal, QUARTER_HOUR_MS, QuarterHourTotal, StoreRow};
use futures::future::BoxFuture;

/// A [`Db`] (report storage) read of a store's rows over a business-date range (`from`, `to`),
/// through the report reads (the replica while it keeps up, else the primary).
type RangedRead<T> =
    for<'a> fn(&'a ReportReads, &'a str, &'a str, &'a str) -> BoxFuture<'a, Result<Vec<T>>>;
use shared_model::business_day::BusinessDayConfig;

/// Inclusive range of business dates, `YYYY-MM-DD`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateRange {
    /// First business date, `YYYY-MM-DD`.
    #[param(format = Date)]
    pub from: String,
    /// Last business date, `YYYY-MM-DD`; not before `from`.
    #[param(format = Date)]
    pub to: String,
}

impl DateRange {
    pub(crate) fn check(&self) -> Result<()> {
        for d in [&self.from, &self.to] {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                Error::BadRequest(format!("invalid date {d:?}, expected YYYY-MM-DD"))
            })?;
        }
        if self.from > self.to {
            return Err(Error::BadRequest("`from` is after `to`".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DaySales {
    pub business_date: String,
    pub sales: i64,
    pub total: String,
    pub tax: String,
    /// Line discounts, promotions and cart discounts the sales gave.
    pub discount: String,
}

/// Non-voided sales whose `created_at` falls in one hour of the day, in the store's time zone.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HourSales {
    /// 0–23, local time of the store.
    pub hour: u32,
    pub sales: i64,
    pub total: String,
    pub tax: String,
}

/// An active product whose stock on hand is at or below its low-stock threshold.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LowStockItem {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub on_hand: String,
    pub threshold: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MethodSales {
    /// `cash`, `qris`, `card`, `ewallet:<provider>`, `other:<name>`.
    pub method: String,
    pub payments: i64,
    pub amount: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductSales {
    pub product_id: String,
    pub name: String,
    pub quantity: String,
    pub amount: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StockOnHand {
    pub product_id: String,
    pub quantity: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeySales {
    /// Category id (`""` for none) or cashier id.
    pub key: String,
    /// The category's or cashier's name (null when no catalog or users document names it).
    pub name: Option<String>,
    /// Lines (by category) or sales (by cashier).
    pub count: i64,
    pub amount: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefundItem {
    pub id: String,
    /// The refund's own receipt number (null for refunds projected before it was kept).
    pub receipt_no: Option<String>,
    pub sale_id: String,
    /// The refunded sale's receipt number (null when that sale is not on the server).
    pub sale_receipt_no: Option<String>,
    pub terminal_code: String,
    pub business_date: String,
    pub created_at: i64,
    pub total: String,
    pub tax: String,
}

/// A voided sale: it counts in no total; the void says when, why and who approved it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VoidItem {
    pub sale_id: String,
    pub receipt_no: String,
    pub terminal_code: String,
    pub business_date: String,
    /// When the sale was made (unix ms).
    pub created_at: i64,
    pub cashier_id: String,
    pub total: String,
    pub tax: String,
    /// When it was voided (unix ms; null for sales projected before it was kept).
    pub voided_at: Option<i64>,
    pub reason: Option<String>,
    /// The supervisor who approved the void (user id).
    pub authorized_by: Option<String>,
}

/// Refunds and voided sales of a range.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefundsAndVoids {
    pub refunds: Vec<RefundItem>,
    pub voids: Vec<VoidItem>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShiftItem {
    pub id: String,
    pub terminal_code: String,
    pub cashier_id: String,
    pub business_date: String,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub opening_float: String,
    pub expected_cash: Option<String>,
    pub counted_cash: Option<String>,
    /// Counted minus expected cash.
    pub difference: Option<String>,
}

/// A conflict that merging revealed; `detail` is the model's `Conflict` as JSON.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConflictItem {
    /// `over_refund`, `double_resumed_cart`, `duplicate_barcode`, `duplicate_sku`.
    pub kind: String,
    /// Stable key of the conflict.
    pub key: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// A text cell of a CSV export: always quoted, and a spreadsheet formula (`=`, `+`, `-`, `@`,
/// tab, CR, LF first) neutralised by shared-model's [`csv_cell`](shared_model::csv_cell), the one
/// rule every CSV writer of SnapKasir follows. Amounts are written as numbers, not through this.
pub(crate) fn csv_field(s: &str) -> String {
    let s = shared_model::csv_cell::neutralise(s);
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub(crate) fn dec(v: i64) -> String {
    from_e4(v).to_string()
}

fn key_sales(k: KeyTotal) -> KeySales {
    KeySales {
        key: k.key,
        name: k.name,
        count: k.count,
        amount: dec(k.amount_e4),
    }
}

/// Adds quarter-hour buckets into the 24 hours of the day in `tz` (every hour present).
pub fn hours_of_day<Tz: chrono::TimeZone>(buckets: &[QuarterHourTotal], tz: &Tz) -> Vec<HourSales> {
    use chrono::Timelike;
    let mut sums = [(0i64, 0i64, 0i64); 24];
    for b in buckets {
        let Some(start) =
            chrono::DateTime::from_timestamp_millis(b.bucket.saturating_mul(QUARTER_HOUR_MS))
        else {
            continue;
        };
        let hour = start.with_timezone(tz).hour() as usize;
        let s = &mut sums[hour % 24];
        s.0 += b.sales;
        s.1 += b.total_e4;
        s.2 += b.tax_e4;
    }
    sums.iter()
        .zip(0u32..)
        .map(|(&(sales, total, tax), hour)| HourSales {
            hour,
            sales,
            total: dec(total),
            tax: dec(tax),
        })
        .collect()
}

impl Services {
    /// The store's business day (time zone and cut-off hour) from its settings document; the
    /// default (Asia/Jakarta, 04:00) until one arrives or when the stored one is unusable. The
    /// result always validates.
    pub(crate) async fn business_day(&self, store_id: &str) -> Result<BusinessDayConfig> {
        let Some(s) = self.storage.store_settings(store_id).await? else {
            return Ok(BusinessDayConfig::default());
        };
        let day = BusinessDayConfig {
            time_zone: s.time_zone,
            cutoff_hour: u8::try_from(s.cutoff_hour).unwrap_or(u8::MAX),
        };
        match day.validate() {
            Ok(_) => Ok(day),
            Err(e) => {
                tracing::warn!(store_id, error = %e, "store business day unusable; using the default");
                Ok(BusinessDayConfig::default())
            }
        }
    }

    /// The store, once `who` may read its reports.
    pub(crate) async fn readable_store(&self, who: &Principal, store_id: &str) -> Result<StoreRow> {
        let store = self
            .storage
            .store(store_id)
            .await?
            .ok_or(Error::NotFound("store not found"))?;
        access::read_reports(who, &store)?;
        Ok(store)
    }

    /// Checks the range and the caller's right to the store's reports, then reads `rows` of
    /// the range and maps each with `f`.
    async fn ranged<T, U>(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
        rows: RangedRead<T>,
        f: impl FnMut(T) -> U,
    ) -> Result<Vec<U>> {
        r.check()?;
        self.readable_store(who, store_id).await?;
        let rows = rows(&self.reports, store_id, &r.from, &r.to).await?;
        Ok(rows.into_iter().map(f).collect())
    }

    /// Non-voided sales per business day.
    #[instrument(skip_all, fields(store_id))]
    pub async fn sales_by_day(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Vec<DaySales>> {
        self.ranged(who, store_id, r, Db::report_sales_by_day, |d| DaySales {
            business_date: d.business_date,
            sales: d.sales,
            total: dec(d.total_e4),
            tax: dec(d.tax_e4),
            discount: dec(d.discount_e4),
        })
        .await
    }

    /// Non-voided sales of the business dates in the range per hour of the day of their
    /// `created_at`, in the store's time zone (its settings document's business day, else
    /// Asia/Jakarta). All 24 hours are listed.
    #[instrument(skip_all, fields(store_id))]
    pub async fn sales_by_hour(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Vec<HourSales>> {
        r.check()?;
        self.readable_store(who, store_id).await?;
        let tz = self
            .business_day(store_id)
            .await?
            .validate()
            .map_err(|e| Error::Internal(e.to_string()))?;
        let buckets = self
            .reports
            .report_sales_by_quarter_hour(store_id, &r.from, &r.to)
            .await?;
        Ok(hours_of_day(&buckets, &tz))
    }

    /// Payments per method.
    #[instrument(skip_all, fields(store_id))]
    pub async fn sales_by_payment_method(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Vec<MethodSales>> {
        self.ranged(who, store_id, r, Db::report_sales_by_payment, |k| {
            MethodSales {
                method: k.key,
                payments: k.count,
                amount: dec(k.amount_e4),
            }
        })
        .await
    }

    /// Sales per product.
    #[instrument(skip_all, fields(store_id))]
    pub async fn sales_by_product(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Vec<ProductSales>> {
        self.ranged(who, store_id, r, Db::report_sales_by_product, |p| {
            ProductSales {
                product_id: p.product_id,
                name: p.name,
                quantity: dec(p.quantity_e4),
                amount: dec(p.amount_e4),
            }
        })
        .await
    }

    /// Sales per category.
    pub async fn sales_by_category(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Vec<KeySales>> {
        self.ranged(who, store_id, r, Db::report_sales_by_category, key_sales)
            .await
    }

    /// Sales per cashier.
    pub async fn sales_by_cashier(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Vec<KeySales>> {
        self.ranged(who, store_id, r, Db::report_sales_by_cashier, key_sales)
            .await
    }

    /// Refunds in the range.
    pub async fn refunds(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Vec<RefundItem>> {
        self.ranged(who, store_id, r, Db::report_refunds, |x| RefundItem {
            id: x.id,
            receipt_no: x.receipt_no,
            sale_id: x.sale_id,
            sale_receipt_no: x.sale_receipt_no,
            terminal_code: x.terminal_code,
            business_date: x.business_date,
            created_at: x.created_at,
            total: dec(x.total_e4),
            tax: dec(x.tax_e4),
        })
        .await
    }

    /// Voided sales in the range, with when, why and who approved the void.
    #[instrument(skip_all, fields(store_id))]
    pub async fn voids(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Vec<VoidItem>> {
        self.ranged(who, store_id, r, DetailReportStorage::report_voids, |x| {
            VoidItem {
                sale_id: x.sale_id,
                receipt_no: x.receipt_no,
                terminal_code: x.terminal_code,
                business_date: x.business_date,
                created_at: x.created_at,
                cashier_id: x.cashier_id,
                total: dec(x.total_e4),
                tax: dec(x.tax_e4),
                voided_at: x.voided_at,
                reason: x.void_reason,
                authorized_by: x.void_authorized_by,
            }
        })
        .await
    }

    /// Refunds and voided sales of the range together (the refunds-and-voids report).
    pub async fn refunds_and_voids(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<RefundsAndVoids> {
        Ok(RefundsAndVoids {
            refunds: self.refunds(who, store_id, r).await?,
            voids: self.voids(who, store_id, r).await?,
        })
    }

    /// Shifts in the range, with cash differences.
    pub async fn shifts(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Vec<ShiftItem>> {
        self.ranged(who, store_id, r, Db::report_shifts, |x| ShiftItem {
            id: x.id,
            terminal_code: x.terminal_code,
            cashier_id: x.cashier_id,
            business_date: x.business_date,
            opened_at: x.opened_at,
            closed_at: x.closed_at,
            opening_float: dec(x.opening_float_e4),
            expected_cash: x.expected_cash_e4.map(dec),
            counted_cash: x.counted_cash_e4.map(dec),
            difference: x.difference_e4.map(dec),
        })
        .await
    }

    /// Every sale of the range as CSV (voided ones marked).
    pub async fn sales_csv(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<String> {
        r.check()?;
        self.readable_store(who, store_id).await?;
        let rows = self
            .reports
            .report_sales_list(store_id, &r.from, &r.to)
            .await?;
        let mut out = String::from(
            "sale_id,receipt_no,terminal_code,business_date,created_at,cashier_id,total,tax,voided\r\n",
        );
        for x in rows {
            let created = chrono::DateTime::from_timestamp_millis(x.created_at)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            let fields = [
                csv_field(&x.id),
                csv_field(&x.receipt_no),
                csv_field(&x.terminal_code),
                csv_field(&x.business_date),
                csv_field(&created),
                csv_field(&x.cashier_id),
                dec(x.total_e4),
                dec(x.tax_e4),
                x.voided.to_string(),
            ];
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
        Ok(out)
    }

    /// Conflicts of a store: over-refunds across journals, duplicate
    /// barcodes/SKUs in catalogs, parked carts resumed on two tills.
    pub async fn conflicts(&self, who: &Principal, store_id: &str) -> Result<Vec<ConflictItem>> {
        self.readable_store(who, store_id).await?;
        let mut out = Vec::new();
        for o in self.reports.report_over_refunds(store_id).await? {
            out.push(ConflictItem {
                kind: "over_refund".into(),
                key: format!("over-refund:{}:{}", o.sale_id, o.sale_line_id),
                detail: serde_json::json!({
                    "sale_id": o.sale_id,
                    "sale_line_id": o.sale_line_id,
                    "sold": dec(o.sold_e4),
                    "refunded": dec(o.refunded_e4),
                }),
            });
        }
        for c in self.reports.report_doc_conflicts(store_id).await? {
            out.push(ConflictItem {
                kind: c.kind,
                key: c.key,
                detail: serde_json::from_str(&c.detail).unwrap_or(serde_json::Value::Null),
            });
        }
        Ok(out)
    }

    /// Active products with a threshold whose stock on hand is at or below it.
    #[instrument(skip_all, fields(store_id))]
    pub async fn low_stock(&self, who: &Principal, store_id: &str) -> Result<Vec<LowStockItem>> {
        self.readable_store(who, store_id).await?;
        Ok(self
            .reports
            .report_low_stock(store_id)
            .await?
            .into_iter()
            .map(|p| LowStockItem {
                product_id: p.product_id,
                sku: p.sku,
                name: p.name,
                on_hand: dec(p.on_hand_e4),
                threshold: dec(p.threshold_e4),
            })
            .collect())
    }

    /// Stock on hand per product (sum of every projected movement).
    #[instrument(skip_all, fields(store_id))]
    pub async fn stock_on_hand(&self, who: &Principal, store_id: &str) -> Result<Vec<StockOnHand>> {
        self.readable_store(who, store_id).await?;
        Ok(self
            .reports
            .report_stock_on_hand(store_id)
            .await?
            .into_iter()
            .map(|s| StockOnHand {
                product_id: s.product_id,
                quantity: dec(s.quantity_e4),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(utc: &str, sales: i64, total_e4: i64) -> QuarterHourTotal {
        let ms = chrono::DateTime::parse_from_rfc3339(utc)
            .unwrap()
            .timestamp_millis();
        assert_eq!(ms % QUARTER_HOUR_MS, 0, "{utc} starts a quarter hour");
        QuarterHourTotal {
            bucket: ms / QUARTER_HOUR_MS,
            sales,
            total_e4,
            tax_e4: total_e4 / 10,
        }
    }

    fn busy(hours: &[HourSales]) -> Vec<(u32, i64, &str)> {
        assert_eq!(hours.len(), 24);
        hours
            .iter()
            .filter(|h| h.sales > 0)
            .map(|h| (h.hour, h.sales, h.total.as_str()))
            .collect()
    }

    fn hours_in(b: &[QuarterHourTotal], time_zone: &str) -> Vec<HourSales> {
        let tz = BusinessDayConfig {
            time_zone: time_zone.into(),
            cutoff_hour: 4,
        }
        .validate()
        .unwrap();
        hours_of_day(b, &tz)
    }

    #[test]
    fn quarter_hours_fall_into_local_hours() {
        let b = [
            bucket("2026-11-20T02:00:00Z", 1, 10_000),
            bucket("2026-11-20T02:45:00Z", 2, 20_000),
            bucket("2026-11-20T18:15:00Z", 1, 5_000),
        ];
        // Jakarta, +07:00.
        assert_eq!(
            busy(&hours_in(&b, "Asia/Jakarta")),
            [(1, 1, "0.5"), (9, 3, "3")]
        );
        // Kathmandu, +05:45: 02:00 → 07:45, 02:45 → 08:30, 18:15 → 00:00.
        assert_eq!(
            busy(&hours_in(&b, "Asia/Kathmandu")),
            [(0, 1, "0.5"), (7, 1, "1"), (8, 2, "2")]
        );
    }

    #[test]
    fn daylight_saving_time_is_followed() {
        // 12:00 UTC is 14:00 in Berlin in summer and 13:00 in winter.
        let b = [
            bucket("2026-07-01T12:00:00Z", 1, 10_000),
            bucket("2026-12-01T12:00:00Z", 1, 10_000),
        ];
        assert_eq!(
            busy(&hours_in(&b, "Europe/Berlin")),
            [(13, 1, "1"), (14, 1, "1")]
        );
    }
}
