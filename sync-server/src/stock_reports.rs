//! Stock reports read row by row: the movements of one product with the stock after each, and
//! the oversells merging revealed (two offline tills selling the same last units: both sales
//! count, so the stock on hand goes below zero and stays visible until someone counts).
//!
//! Both walk a product's movements in time order (`at`, the writer's clock) from zero, the way
//! stock on hand is defined (the sum of every movement).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::reports::{DateRange, dec};
use crate::service::Services;
use crate::storage::{DetailReportStorage, MovementListRow, ProductNameRow, ReportStorage};

/// `?product_id=…&from=…&to=…` of a product's movements.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MovementsQuery {
    /// The product's id.
    #[param(format = Uuid)]
    pub product_id: String,
    /// First business date, `YYYY-MM-DD` (with `to`; both absent: every movement).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last business date, `YYYY-MM-DD`.
    #[param(format = Date)]
    pub to: Option<String>,
}

impl MovementsQuery {
    fn range(&self) -> Result<Option<DateRange>> {
        match (&self.from, &self.to) {
            (None, None) => Ok(None),
            (Some(from), Some(to)) => {
                let r = DateRange {
                    from: from.clone(),
                    to: to.clone(),
                };
                r.check()?;
                Ok(Some(r))
            }
            _ => Err(Error::BadRequest(
                "give both `from` and `to`, or neither".into(),
            )),
        }
    }
}

/// One stock movement and the stock on hand right after it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MovementItem {
    pub id: String,
    /// Unix ms, the writer's clock.
    pub at: i64,
    /// The business date of `at` in the store's business day.
    pub business_date: String,
    /// `sale`, `refund`, `adjustment`, `receipt`, `transfer_in`, `transfer_out`, `count`.
    pub kind: String,
    /// Signed: positive adds stock.
    pub quantity: String,
    /// Stock on hand after this movement (every movement up to it, in time order).
    pub balance: String,
    /// Receipt number, delivery note or count reference.
    pub reference: Option<String>,
    /// The till whose journal holds it (null for managers' adjustments).
    pub terminal_code: Option<String>,
}

/// A product's movements (of the range, oldest first) and its stock on hand now.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductMovements {
    pub product_id: String,
    /// Empty when the product is not in the projected catalog.
    pub sku: String,
    pub name: String,
    pub on_hand: String,
    pub movements: Vec<MovementItem>,
}

/// A tracked product whose stock went below zero because sales (typically on tills that were
/// offline together) took more than was on hand.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OversellItem {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    /// The lowest stock on hand reached (negative).
    pub lowest: String,
    /// When it first went below zero (unix ms).
    pub first_below_zero_at: i64,
    /// The tills whose sales took it below zero or sold while it was below zero.
    pub terminals: Vec<String>,
    /// Those sales' receipt numbers.
    pub receipts: Vec<String>,
    pub on_hand: String,
}

fn is_stock_in(kind: &str) -> bool {
    !matches!(kind, "sale" | "refund")
}

/// The oversells of one product's movements (in time order): `None` unless the product is
/// tracked (it has a movement other than sales and refunds: a receipt, count, transfer or
/// adjustment, so a store that does not keep stock sees no noise) and a sale took it below
/// zero.
fn oversell_of(product: &ProductNameRow, rows: &[MovementListRow]) -> Option<OversellItem> {
    if !rows.iter().any(|m| is_stock_in(&m.kind)) {
        return None;
    }
    let mut balance = 0i64;
    let mut lowest = 0i64;
    let mut first = None;
    let mut terminals = BTreeSet::new();
    let mut receipts = Vec::new();
    for m in rows {
        balance = balance.saturating_add(m.quantity_e4);
        if balance < 0 && m.kind == "sale" {
            first.get_or_insert(m.at);
            lowest = lowest.min(balance);
            terminals.extend(m.terminal_code.clone());
            receipts.extend(m.reference.clone());
        }
    }
    Some(OversellItem {
        product_id: product.id.clone(),
        sku: product.sku.clone(),
        name: product.name.clone(),
        lowest: dec(lowest),
        first_below_zero_at: first?,
        terminals: terminals.into_iter().collect(),
        receipts,
        on_hand: dec(balance),
    })
}

/// Each product's movements, grouped (the rows come ordered by product, then time).
fn by_product(rows: Vec<MovementListRow>) -> BTreeMap<String, Vec<MovementListRow>> {
    let mut out: BTreeMap<String, Vec<MovementListRow>> = BTreeMap::new();
    for r in rows {
        out.entry(r.product_id.clone()).or_default().push(r);
    }
    out
}

impl Services {
    /// The movements of one product (of the business dates of the range, or all), oldest
    /// first, each with the stock on hand after it.
    #[instrument(skip_all, fields(store_id))]
    pub async fn stock_movements(
        &self,
        who: &Principal,
        store_id: &str,
        q: &MovementsQuery,
    ) -> Result<ProductMovements> {
        let range = q.range()?;
        self.readable_store(who, store_id).await?;
        let day = self.business_day(store_id).await?;
        let rows = self
            .reports
            .report_movements(store_id, Some(&q.product_id))
            .await?;
        let product = self
            .reports
            .report_product_names(store_id)
            .await?
            .into_iter()
            .find(|p| p.id == q.product_id);
        if product.is_none() && rows.is_empty() {
            return Err(Error::NotFound("product not found"));
        }
        let mut balance = 0i64;
        let mut movements = Vec::new();
        for m in rows {
            balance = balance.saturating_add(m.quantity_e4);
            let date = chrono::DateTime::from_timestamp_millis(m.at)
                .and_then(|t| day.business_date(shared_model::codec::Timestamp(t)).ok())
                .map(|d| d.0.to_string())
                .unwrap_or_default();
            if let Some(r) = &range
                && (date < r.from || date > r.to)
            {
                continue;
            }
            movements.push(MovementItem {
                id: m.id,
                at: m.at,
                business_date: date,
                kind: m.kind,
                quantity: dec(m.quantity_e4),
                balance: dec(balance),
                reference: m.reference,
                terminal_code: m.terminal_code,
            });
        }
        let (sku, name) = product.map(|p| (p.sku, p.name)).unwrap_or_default();
        Ok(ProductMovements {
            product_id: q.product_id.clone(),
            sku,
            name,
            on_hand: dec(balance),
            movements,
        })
    }

    /// Tracked products whose stock sales took below zero, by SKU.
    #[instrument(skip_all, fields(store_id))]
    pub async fn oversells(&self, who: &Principal, store_id: &str) -> Result<Vec<OversellItem>> {
        self.readable_store(who, store_id).await?;
        let names: BTreeMap<String, ProductNameRow> = self
            .reports
            .report_product_names(store_id)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let rows = self.reports.report_movements(store_id, None).await?;
        let mut out: Vec<OversellItem> = by_product(rows)
            .into_iter()
            .filter_map(|(id, rows)| {
                let unknown = ProductNameRow {
                    id: id.clone(),
                    sku: String::new(),
                    name: String::new(),
                };
                oversell_of(names.get(&id).unwrap_or(&unknown), &rows)
            })
            .collect();
        out.sort_by(|a, b| (&a.sku, &a.product_id).cmp(&(&b.sku, &b.product_id)));
        Ok(out)
    }

    /// Stock on hand of every product with movements or in the catalog, with SKU and name,
    /// by SKU; `search` (case-insensitive) keeps those whose SKU or name contains it.
    #[instrument(skip_all, fields(store_id))]
    pub async fn stock_list(
        &self,
        who: &Principal,
        store_id: &str,
        search: Option<&str>,
    ) -> Result<Vec<StockListItem>> {
        self.readable_store(who, store_id).await?;
        let mut on_hand: BTreeMap<String, i64> = self
            .reports
            .report_stock_on_hand(store_id)
            .await?
            .into_iter()
            .map(|s| (s.product_id, s.quantity_e4))
            .collect();
        let needle = search
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
        let keep = |sku: &str, name: &str| {
            needle
                .as_deref()
                .is_none_or(|n| sku.to_lowercase().contains(n) || name.to_lowercase().contains(n))
        };
        let mut out = Vec::new();
        for p in self.reports.report_product_names(store_id).await? {
            let q = on_hand.remove(&p.id).unwrap_or(0);
            if keep(&p.sku, &p.name) {
                out.push(StockListItem {
                    product_id: p.id,
                    sku: p.sku,
                    name: p.name,
                    on_hand: dec(q),
                });
            }
        }
        // Movements of products the projected catalog does not (yet) have.
        for (id, q) in on_hand {
            if keep("", &id) {
                out.push(StockListItem {
                    product_id: id,
                    sku: String::new(),
                    name: String::new(),
                    on_hand: dec(q),
                });
            }
        }
        Ok(out)
    }
}

/// A product's stock on hand, with its SKU and name.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StockListItem {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub on_hand: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kind: &str, q: i64, at: i64, till: Option<&str>, reference: &str) -> MovementListRow {
        MovementListRow {
            id: format!("m{at}"),
            product_id: "p".into(),
            kind: kind.into(),
            quantity_e4: q * 10_000,
            at,
            reference: Some(reference.into()),
            terminal_code: till.map(Into::into),
        }
    }

    fn product() -> ProductNameRow {
        ProductNameRow {
            id: "p".into(),
            sku: "IDM".into(),
            name: "Indomie".into(),
        }
    }

    #[test]
    fn two_tills_selling_the_last_units_is_an_oversell() {
        let rows = [
            m("receipt", 3, 1, None, "DO-1"),
            m("sale", -2, 2, Some("T1"), "A-T1-1"),
            m("sale", -2, 3, Some("T2"), "A-T2-1"),
            m("sale", -1, 4, Some("T1"), "A-T1-2"),
            m("refund", 1, 5, Some("T1"), "A-T1-3"),
        ];
        let o = oversell_of(&product(), &rows).expect("an oversell");
        assert_eq!(o.lowest, "-2");
        assert_eq!(o.first_below_zero_at, 3);
        assert_eq!(o.terminals, ["T1", "T2"]);
        assert_eq!(o.receipts, ["A-T2-1", "A-T1-2"]);
        assert_eq!(o.on_hand, "-1");
    }

    #[test]
    fn untracked_or_never_negative_products_are_no_oversell() {
        // No receipt, count or adjustment: the store does not keep this product's stock.
        let untracked = [m("sale", -2, 2, Some("T1"), "A-T1-1")];
        assert!(oversell_of(&product(), &untracked).is_none());
        let fine = [
            m("receipt", 2, 1, None, "DO-1"),
            m("sale", -2, 2, Some("T1"), "A-T1-1"),
        ];
        assert!(oversell_of(&product(), &fine).is_none());
        // A correction that goes negative is no sale's doing.
        let counted = [
            m("receipt", 1, 1, None, "DO-1"),
            m("count", -2, 2, None, "OPN-1"),
        ];
        assert!(oversell_of(&product(), &counted).is_none());
    }
}
