//! The catalog: products, variants, barcodes, units, categories.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::barcode::Barcode;
use crate::codec::Timestamp;
use crate::error::{ModelError, ModelResult};
use crate::ids::{CategoryId, ProductId, VariantId};
use crate::money::{Currency, Money, Quantity};

/// How a product is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub enum Unit {
    /// Whole pieces.
    Piece,
    /// Weighed, price per kilogram, quantity in kilograms with up to 3 decimals.
    Kilogram,
    /// Weighed, price per gram, quantity in grams with up to 1 decimal.
    Gram,
}

impl Unit {
    pub fn is_weighed(self) -> bool {
        !matches!(self, Unit::Piece)
    }

    /// Decimals a quantity of this unit may carry.
    pub fn max_decimals(self) -> u32 {
        match self {
            Unit::Piece => 0,
            Unit::Kilogram => 3,
            Unit::Gram => 1,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Piece => "pcs",
            Unit::Kilogram => "kg",
            Unit::Gram => "g",
        }
    }

    pub fn parse(s: &str) -> ModelResult<Unit> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "pcs" | "piece" | "pc" | "unit" => Ok(Unit::Piece),
            "kg" | "kilogram" => Ok(Unit::Kilogram),
            "g" | "gram" => Ok(Unit::Gram),
            other => Err(ModelError::Invalid {
                field: "unit",
                reason: format!("{other:?} (use pcs, kg or g)"),
            }),
        }
    }

    /// Checks a cart quantity: positive, whole for pieces, at most `max_decimals` for weights.
    pub fn check_sale_quantity(self, quantity: Quantity) -> ModelResult<Quantity> {
        if !quantity.is_positive() {
            return Err(ModelError::NonPositiveQuantity(quantity.0));
        }
        if quantity.0.normalize().scale() > self.max_decimals() {
            return match self {
                Unit::Piece => Err(ModelError::FractionalPieces {
                    quantity: quantity.0,
                }),
                _ => Err(ModelError::Invalid {
                    field: "weight",
                    reason: format!(
                        "{} has more than {} decimals",
                        quantity.0,
                        self.max_decimals()
                    ),
                }),
            };
        }
        Ok(quantity)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub parent: Option<CategoryId>,
}

impl Category {
    pub fn validate(&self) -> ModelResult<()> {
        check_text("category name", &self.name, 100)
    }
}

/// A variant of a product (size, colour) with its own SKU, barcodes and optional price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Variant {
    pub id: VariantId,
    pub name: String,
    pub sku: String,
    /// Overrides the product's price when set.
    pub price: Option<Money>,
    pub barcodes: Vec<Barcode>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Product {
    pub id: ProductId,
    pub sku: String,
    pub name: String,
    pub category_id: Option<CategoryId>,
    pub unit: Unit,
    /// Shelf price per unit, in the store's price mode (inclusive or exclusive of tax).
    pub price: Money,
    pub cost: Option<Money>,
    /// A tax class defined in the store's settings, e.g. `standard`.
    pub tax_class: String,
    pub active: bool,
    pub barcodes: Vec<Barcode>,
    pub variants: Vec<Variant>,
    /// At or below this stock on hand the product shows on the low-stock list.
    pub low_stock_threshold: Option<Quantity>,
    pub updated_at: Timestamp,
}

impl Product {
    /// A new active piece product with no barcode; fill in the rest and call `validate`.
    pub fn new(sku: &str, name: &str, price: Money, tax_class: &str) -> Product {
        Product {
            id: ProductId::new(),
            sku: sku.trim().to_string(),
            name: name.trim().to_string(),
            category_id: None,
            unit: Unit::Piece,
            price,
            cost: None,
            tax_class: tax_class.to_string(),
            active: true,
            barcodes: Vec::new(),
            variants: Vec::new(),
            low_stock_threshold: None,
            updated_at: Timestamp::now(),
        }
    }

    pub fn validate(&self, currency: &Currency) -> ModelResult<()> {
        check_text("product name", &self.name, 200)?;
        check_code("SKU", &self.sku)?;
        check_price("price", self.price, currency)?;
        if let Some(cost) = self.cost {
            check_price("cost", cost, currency)?;
        }
        if self.tax_class.trim().is_empty() {
            return Err(ModelError::Empty { field: "tax class" });
        }
        if let Some(t) = self.low_stock_threshold
            && t.0.is_sign_negative()
            && !t.0.is_zero()
        {
            return Err(ModelError::Negative {
                field: "low-stock threshold",
                value: t.0,
            });
        }
        for v in &self.variants {
            check_text("variant name", &v.name, 100)?;
            check_code("variant SKU", &v.sku)?;
            if let Some(p) = v.price {
                check_price("variant price", p, currency)?;
            }
        }
        Ok(())
    }

    /// Every barcode of the product and its variants.
    pub fn all_barcodes(&self) -> impl Iterator<Item = &Barcode> {
        self.barcodes
            .iter()
            .chain(self.variants.iter().flat_map(|v| v.barcodes.iter()))
    }

    pub fn variant(&self, id: VariantId) -> Option<&Variant> {
        self.variants.iter().find(|v| v.id == id)
    }
}

/// The largest price or cost a product may have: Rp 1 trillion, far above any shelf price and
/// well inside what the server's reports compute with (amounts scaled by 10^4 in 64 bits).
pub const MAX_PRICE: i64 = 1_000_000_000_000;

fn check_price(field: &'static str, price: Money, currency: &Currency) -> ModelResult<()> {
    currency.parse_amount(price.non_negative(field)?.0)?;
    if price.0 > rust_decimal::Decimal::from(MAX_PRICE) {
        return Err(ModelError::Invalid {
            field,
            reason: format!("{} is more than the largest allowed ({MAX_PRICE})", price.0),
        });
    }
    Ok(())
}

pub(crate) fn check_text(field: &'static str, value: &str, max: usize) -> ModelResult<()> {
    if value.trim().is_empty() {
        return Err(ModelError::Empty { field });
    }
    if value.chars().count() > max {
        return Err(ModelError::TooLong { field, max });
    }
    if value.chars().any(char::is_control) {
        return Err(ModelError::Invalid {
            field,
            reason: "contains control characters".into(),
        });
    }
    Ok(())
}

fn check_code(field: &'static str, value: &str) -> ModelResult<()> {
    check_text(field, value, 64)?;
    if value.chars().any(char::is_whitespace) {
        return Err(ModelError::Invalid {
            field,
            reason: format!("{value:?} contains spaces"),
        });
    }
    Ok(())
}
