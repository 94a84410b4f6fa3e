//! Conflicts that only merging documents from several tills can reveal. They are flagged on the
//! terminals and the dashboard, never dropped: the data that caused them stays as it is.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::documents::{CatalogDoc, ParkedCartsDoc};
use crate::error::ModelResult;
use crate::ids::ProductId;
use crate::refund::{OverRefund, Refund, over_refunds};
use crate::sale::Sale;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Conflict {
    /// Two offline tills refunded more of a sale line than was sold.
    OverRefund(OverRefund),
    /// One parked cart resumed on two (or more) tills.
    DoubleResumedCart {
        cart_id: String,
        terminals: Vec<String>,
    },
    /// Active products sharing a barcode after catalog edits on two tills.
    DuplicateBarcode {
        barcode: String,
        products: Vec<ProductId>,
    },
    /// Active products sharing a SKU.
    DuplicateSku {
        sku: String,
        products: Vec<ProductId>,
    },
}

impl Conflict {
    /// A stable key, so that the same conflict found twice is stored once.
    pub fn key(&self) -> String {
        match self {
            Conflict::OverRefund(o) => format!("over-refund:{}:{}", o.sale_id, o.sale_line_id),
            Conflict::DoubleResumedCart { cart_id, .. } => format!("double-resumed-cart:{cart_id}"),
            Conflict::DuplicateBarcode { barcode, .. } => format!("duplicate-barcode:{barcode}"),
            Conflict::DuplicateSku { sku, .. } => format!("duplicate-sku:{sku}"),
        }
    }
}

/// Duplicate barcodes and SKUs among active products (variants included).
pub fn catalog_conflicts(catalog: &CatalogDoc) -> Vec<Conflict> {
    let mut barcodes: BTreeMap<String, Vec<ProductId>> = BTreeMap::new();
    let mut skus: BTreeMap<String, Vec<ProductId>> = BTreeMap::new();
    for p in catalog.products.values().filter(|p| p.active) {
        let mut codes: Vec<String> = p.all_barcodes().map(|b| b.as_str().to_string()).collect();
        codes.sort();
        codes.dedup();
        for code in codes {
            barcodes.entry(code).or_default().push(p.id);
        }
        skus.entry(p.sku.to_lowercase()).or_default().push(p.id);
        for v in p.variants.iter().filter(|v| v.active) {
            skus.entry(v.sku.to_lowercase()).or_default().push(p.id);
        }
    }
    let dup = |m: BTreeMap<String, Vec<ProductId>>| {
        m.into_iter().filter_map(|(k, mut ids)| {
            ids.sort();
            let distinct = ids.windows(2).any(|w| w[0] != w[1]);
            ids.dedup();
            distinct.then_some((k, ids))
        })
    };
    let mut out: Vec<Conflict> = dup(barcodes)
        .map(|(barcode, products)| Conflict::DuplicateBarcode { barcode, products })
        .collect();
    out.extend(dup(skus).map(|(sku, products)| Conflict::DuplicateSku { sku, products }));
    out
}

/// Parked carts claimed by more than one till.
pub fn parked_cart_conflicts(parked: &ParkedCartsDoc) -> Vec<Conflict> {
    let mut out: Vec<Conflict> = parked
        .carts
        .iter()
        .filter(|(_, c)| c.is_double_claimed())
        .map(|(id, c)| {
            let mut terminals: Vec<String> = c.claims.keys().cloned().collect();
            terminals.sort();
            Conflict::DoubleResumedCart {
                cart_id: id.clone(),
                terminals,
            }
        })
        .collect();
    out.sort_by_key(Conflict::key);
    out
}

/// Over-refunded lines, given every known sale and refund (from all journals).
pub fn refund_conflicts(sales: &[Sale], refunds: &[Refund]) -> ModelResult<Vec<Conflict>> {
    let mut out = Vec::new();
    for sale in sales {
        if refunds.iter().any(|r| r.sale_id == sale.id) {
            out.extend(
                over_refunds(sale, refunds)?
                    .into_iter()
                    .map(Conflict::OverRefund),
            );
        }
    }
    Ok(out)
}
