//! Promotions the store runs; applied automatically when a cart is priced.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::catalog::check_text;
use crate::error::{ModelError, ModelResult};
use crate::ids::{CategoryId, ProductId, PromotionId};
use crate::money::Percent;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Promotion {
    pub id: PromotionId,
    /// Shown on the receipt, e.g. `Beli 2 gratis 1`.
    pub name: String,
    pub rule: PromotionRule,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub enum PromotionRule {
    /// Of every `buy + get` pieces of the product, `get` are free.
    BuyXGetY {
        product_id: ProductId,
        buy: u32,
        get: u32,
    },
    /// A percentage off every line of a category.
    PercentOffCategory {
        category_id: CategoryId,
        percent: Percent,
    },
}

impl Promotion {
    pub fn validate(&self) -> ModelResult<()> {
        check_text("promotion name", &self.name, 100)?;
        if let PromotionRule::BuyXGetY { buy, get, .. } = self.rule
            && (buy == 0 || get == 0 || buy.checked_add(get).is_none())
        {
            return Err(ModelError::Invalid {
                field: "promotion",
                reason: format!("buy {buy} get {get}: both must be at least 1"),
            });
        }
        Ok(())
    }
}
