//! Conflicts merging revealed, explained: [`Services::conflicts`] gives each conflict as the
//! model keeps it (ids); this adds what a store owner needs to act on it — the sale's receipt
//! number and product, which tills refunded it and how much more than was sold, which products
//! share a barcode or SKU, which tills resumed one parked cart. The dashboard's conflicts page
//! and `GET …/reports/conflict-details` answer this.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::auth::Principal;
use crate::error::Result;
use crate::reports::dec;
use crate::service::Services;
use crate::storage::DetailReportStorage;

/// A refund that took part in an over-refund.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefundRef {
    /// The refund's receipt number (null for refunds projected before it was kept).
    pub receipt_no: Option<String>,
    pub terminal_code: String,
    /// Unix ms.
    pub at: i64,
    /// Quantity of the line it refunded.
    pub quantity: String,
}

/// A product named by a conflict.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductRef {
    pub product_id: String,
    /// Empty when the product is not in the projected catalog.
    pub sku: String,
    pub name: String,
}

/// One conflict with what the page says about it. Which fields are set depends on `kind`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConflictDetail {
    /// `over_refund`, `double_resumed_cart`, `duplicate_barcode`, `duplicate_sku`.
    pub kind: String,
    /// Stable key of the conflict.
    pub key: String,
    /// over_refund: the sale's receipt number and till.
    pub sale_receipt_no: Option<String>,
    pub sale_terminal_code: Option<String>,
    /// over_refund: the refunded product.
    pub product: Option<ProductRef>,
    /// over_refund: quantities sold and refunded, and refunded beyond what was sold.
    pub sold: Option<String>,
    pub refunded: Option<String>,
    pub excess_quantity: Option<String>,
    /// over_refund: the line's price share of the excess quantity (what was paid out too much).
    pub excess_amount: Option<String>,
    /// over_refund: the refunds of that line, oldest first.
    pub refunds: Vec<RefundRef>,
    /// double_resumed_cart: the parked cart.
    pub cart_id: Option<String>,
    /// double_resumed_cart: the tills that resumed it; over_refund: the tills that refunded.
    pub terminals: Vec<String>,
    /// duplicate_barcode / duplicate_sku: the shared code.
    pub code: Option<String>,
    /// duplicate_barcode / duplicate_sku: the products sharing it.
    pub products: Vec<ProductRef>,
}

impl ConflictDetail {
    fn new(kind: &str, key: &str) -> ConflictDetail {
        ConflictDetail {
            kind: kind.into(),
            key: key.into(),
            sale_receipt_no: None,
            sale_terminal_code: None,
            product: None,
            sold: None,
            refunded: None,
            excess_quantity: None,
            excess_amount: None,
            refunds: Vec::new(),
            cart_id: None,
            terminals: Vec::new(),
            code: None,
            products: Vec::new(),
        }
    }
}

fn strings(v: &serde_json::Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `amount × part / whole` on scaled integers, rounded toward zero (0 when `whole` is 0).
fn share(amount_e4: i64, part_e4: i64, whole_e4: i64) -> i64 {
    if whole_e4 == 0 {
        return 0;
    }
    let v = i128::from(amount_e4) * i128::from(part_e4) / i128::from(whole_e4);
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Services {
    /// The store's conflicts (as [`Services::conflicts`]) with receipts, tills, products and
    /// amounts.
    #[instrument(skip_all, fields(store_id))]
    pub async fn conflict_details(
        &self,
        who: &Principal,
        store_id: &str,
    ) -> Result<Vec<ConflictDetail>> {
        let conflicts = self.conflicts(who, store_id).await?;
        let products: BTreeMap<String, ProductRef> = self
            .reports
            .report_product_names(store_id)
            .await?
            .into_iter()
            .map(|p| {
                let r = ProductRef {
                    product_id: p.id.clone(),
                    sku: p.sku,
                    name: p.name,
                };
                (p.id, r)
            })
            .collect();
        let product = |id: &str| {
            products.get(id).cloned().unwrap_or(ProductRef {
                product_id: id.into(),
                sku: String::new(),
                name: String::new(),
            })
        };
        let mut out = Vec::new();
        for c in conflicts {
            let mut d = ConflictDetail::new(&c.kind, &c.key);
            match c.kind.as_str() {
                "over_refund" => {
                    let sale_id = c.detail["sale_id"].as_str().unwrap_or_default();
                    let line_id = c.detail["sale_line_id"].as_str().unwrap_or_default();
                    let lines = self.reports.report_sale_lines(store_id, sale_id).await?;
                    let refunded = self
                        .reports
                        .report_refunded_lines(store_id, sale_id)
                        .await?;
                    if let Some(l) = lines.iter().find(|l| l.line_id == line_id) {
                        let back: i64 = refunded
                            .iter()
                            .filter(|r| r.sale_line_id == line_id)
                            .map(|r| r.quantity_e4)
                            .sum();
                        let excess = (back - l.quantity_e4).max(0);
                        d.sale_receipt_no = Some(l.receipt_no.clone());
                        d.sale_terminal_code = Some(l.terminal_code.clone());
                        d.product = Some(ProductRef {
                            sku: l.sku.clone(),
                            name: l.name.clone(),
                            ..product(&l.product_id)
                        });
                        d.sold = Some(dec(l.quantity_e4));
                        d.refunded = Some(dec(back));
                        d.excess_quantity = Some(dec(excess));
                        d.excess_amount = Some(dec(share(l.amount_e4, excess, l.quantity_e4)));
                    } else {
                        d.sold = c.detail["sold"].as_str().map(str::to_string);
                        d.refunded = c.detail["refunded"].as_str().map(str::to_string);
                    }
                    for r in refunded.into_iter().filter(|r| r.sale_line_id == line_id) {
                        if !d.terminals.contains(&r.terminal_code) {
                            d.terminals.push(r.terminal_code.clone());
                        }
                        d.refunds.push(RefundRef {
                            receipt_no: r.receipt_no,
                            terminal_code: r.terminal_code,
                            at: r.created_at,
                            quantity: dec(r.quantity_e4),
                        });
                    }
                }
                "double_resumed_cart" => {
                    d.cart_id = c.detail["cart_id"].as_str().map(str::to_string);
                    d.terminals = strings(&c.detail, "terminals");
                }
                "duplicate_barcode" | "duplicate_sku" => {
                    let code = if c.kind == "duplicate_barcode" {
                        "barcode"
                    } else {
                        "sku"
                    };
                    d.code = c.detail[code].as_str().map(str::to_string);
                    d.products = strings(&c.detail, "products")
                        .iter()
                        .map(|id| product(id))
                        .collect();
                }
                _ => {}
            }
            out.push(d);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_excess_share_is_exact_and_safe() {
        // 2 sold for 7,000; 1 refunded too many: 3,500.
        assert_eq!(share(70_000_000, 10_000, 20_000), 35_000_000);
        assert_eq!(share(5, 1, 0), 0);
        assert_eq!(share(i64::MAX, 2, 1), i64::MAX);
    }
}
