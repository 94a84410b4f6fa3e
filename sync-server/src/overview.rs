//! The overview of a store over a date range, beside the previous period of the same length:
//! the numbers an owner reads first (sales, transactions, average basket, refunds, discounts,
//! tax), sales per day of both periods, sales per hour of the day, and the top products. The
//! dashboard's overview page reads it; it is built on the report service functions (and their
//! access check, [`crate::access::read_reports`]), whose JSON endpoints give the same figures.
//! Not yet an endpoint of its own.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use tracing::instrument;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::reports::{DateRange, HourSales, ProductSales};
use crate::service::Services;

/// The longest range an overview covers, in days (a year, leap day included).
pub const MAX_DAYS: i64 = 366;
/// How many products the overview lists.
pub const TOP_PRODUCTS: usize = 10;

/// One number of the current period beside the previous one.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Compared {
    /// Decimal string (amounts) or integer string (counts).
    pub current: String,
    pub previous: String,
    /// Change from the previous period in percent, one decimal (`"12.5"`, `"-3.0"`); `None`
    /// when the previous period is zero.
    pub change_pct: Option<String>,
}

/// Sales of one day of the range, beside the same day of the previous period.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DayPair {
    pub business_date: String,
    pub previous_date: String,
    pub total: String,
    pub previous_total: String,
}

/// The overview of a store.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Overview {
    pub from: String,
    pub to: String,
    pub previous_from: String,
    pub previous_to: String,
    /// Total of non-voided sales.
    pub sales: Compared,
    /// Number of non-voided sales.
    pub transactions: Compared,
    /// Sales divided by transactions, rounded to whole units (IDR has none smaller).
    pub average_basket: Compared,
    /// Total refunded.
    pub refunds: Compared,
    /// Number of refunds.
    pub refund_count: Compared,
    /// Tax in the non-voided sales.
    pub tax: Compared,
    /// Discounts the non-voided sales gave (lines, promotions, carts).
    pub discounts: Compared,
    pub days: Vec<DayPair>,
    /// Sales of the range per hour of the day, in the store's time zone.
    pub hours: Vec<HourSales>,
    /// The best-selling products of the range by amount.
    pub top_products: Vec<ProductSales>,
}

/// Totals of one period.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    sales: Decimal,
    transactions: i64,
    refunds: Decimal,
    refund_count: i64,
    tax: Decimal,
    discounts: Decimal,
}

impl Totals {
    fn average_basket(&self) -> Decimal {
        if self.transactions == 0 {
            Decimal::ZERO
        } else {
            (self.sales / Decimal::from(self.transactions))
                .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        }
    }
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_default()
}

/// `current` beside `previous`, with the change in percent.
fn compared(current: Decimal, previous: Decimal) -> Compared {
    let change_pct = (!previous.is_zero()).then(|| {
        let pct = ((current - previous) * Decimal::ONE_HUNDRED / previous.abs())
            .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
        format!("{pct:.1}")
    });
    Compared {
        current: current.normalize().to_string(),
        previous: previous.normalize().to_string(),
        change_pct,
    }
}

/// The previous period of the same length as `from..=to`, ending the day before `from`.
pub fn previous_period(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let len = (to - from).num_days() + 1;
    let prev_to = from - chrono::Duration::days(1);
    (prev_to - chrono::Duration::days(len - 1), prev_to)
}

fn parse(d: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .map_err(|_| Error::BadRequest(format!("invalid date {d:?}, expected YYYY-MM-DD")))
}

impl Services {
    async fn period_totals(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<(Totals, Vec<(String, Decimal)>)> {
        let days = self.sales_by_day(who, store_id, r).await?;
        let refunds = self.refunds(who, store_id, r).await?;
        let mut t = Totals::default();
        let mut per_day = Vec::with_capacity(days.len());
        for d in days {
            let total = dec(&d.total);
            t.sales += total;
            t.tax += dec(&d.tax);
            t.discounts += dec(&d.discount);
            t.transactions += d.sales;
            per_day.push((d.business_date, total));
        }
        for r in &refunds {
            t.refunds += dec(&r.total);
        }
        t.refund_count = refunds.len() as i64;
        Ok((t, per_day))
    }

    /// The overview of `store_id` over `r` beside the previous period of the same length.
    #[instrument(skip_all, fields(store_id))]
    pub async fn overview(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Overview> {
        let (from, to) = (parse(&r.from)?, parse(&r.to)?);
        if from > to {
            return Err(Error::BadRequest("`from` is after `to`".into()));
        }
        if (to - from).num_days() + 1 > MAX_DAYS {
            return Err(Error::BadRequest(format!(
                "the range is longer than {MAX_DAYS} days"
            )));
        }
        let (pfrom, pto) = previous_period(from, to);
        let prev = DateRange {
            from: pfrom.to_string(),
            to: pto.to_string(),
        };
        let (cur, cur_days) = self.period_totals(who, store_id, r).await?;
        let (old, old_days) = self.period_totals(who, store_id, &prev).await?;
        let len = (to - from).num_days() + 1;
        let total_of = |days: &[(String, Decimal)], d: NaiveDate| {
            let key = d.to_string();
            days.iter()
                .find(|(k, _)| *k == key)
                .map_or(Decimal::ZERO, |(_, v)| *v)
        };
        let days = (0..len)
            .map(|i| {
                let d = from + chrono::Duration::days(i);
                let p = pfrom + chrono::Duration::days(i);
                DayPair {
                    business_date: d.to_string(),
                    previous_date: p.to_string(),
                    total: total_of(&cur_days, d).normalize().to_string(),
                    previous_total: total_of(&old_days, p).normalize().to_string(),
                }
            })
            .collect();
        let hours = self.sales_by_hour(who, store_id, r).await?;
        let mut top_products = self.sales_by_product(who, store_id, r).await?;
        top_products.truncate(TOP_PRODUCTS);
        Ok(Overview {
            from: r.from.clone(),
            to: r.to.clone(),
            previous_from: prev.from,
            previous_to: prev.to,
            sales: compared(cur.sales, old.sales),
            transactions: compared(cur.transactions.into(), old.transactions.into()),
            average_basket: compared(cur.average_basket(), old.average_basket()),
            refunds: compared(cur.refunds, old.refunds),
            refund_count: compared(cur.refund_count.into(), old.refund_count.into()),
            tax: compared(cur.tax, old.tax),
            discounts: compared(cur.discounts, old.discounts),
            days,
            hours,
            top_products,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_previous_period_has_the_same_length() {
        assert_eq!(
            previous_period(d("2026-12-03"), d("2026-12-03")),
            (d("2026-12-02"), d("2026-12-02"))
        );
        assert_eq!(
            previous_period(d("2026-12-01"), d("2026-12-07")),
            (d("2026-11-24"), d("2026-11-30"))
        );
        assert_eq!(
            previous_period(d("2026-03-01"), d("2026-03-31")),
            (d("2026-01-29"), d("2026-02-28"))
        );
    }

    #[test]
    fn changes_in_percent() {
        let c = compared(dec!(150000), dec!(120000));
        assert_eq!(
            (c.current.as_str(), c.previous.as_str()),
            ("150000", "120000")
        );
        assert_eq!(c.change_pct.as_deref(), Some("25.0"));
        assert_eq!(
            compared(dec!(0), dec!(3)).change_pct.as_deref(),
            Some("-100.0")
        );
        assert_eq!(compared(dec!(5), dec!(0)).change_pct, None);
        assert_eq!(
            compared(dec!(1), dec!(3)).change_pct.as_deref(),
            Some("-66.7")
        );
    }

    #[test]
    fn average_basket_rounds_to_whole_rupiah() {
        let t = Totals {
            sales: dec!(100000),
            transactions: 3,
            ..Totals::default()
        };
        assert_eq!(t.average_basket(), dec!(33333));
        assert_eq!(Totals::default().average_basket(), Decimal::ZERO);
    }
}
