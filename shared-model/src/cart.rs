//! The cart a cashier builds: lines with a snapshot of the product at the time it was added.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::catalog::{Product, Unit, check_text};
use crate::error::{ModelError, ModelResult};
use crate::ids::{CartId, CategoryId, LineId, ProductId, VariantId};
use crate::money::{Currency, Money, Percent, Quantity};
use crate::tax::TaxRule;

/// What the line sells, frozen when the line is added: later catalog edits do not change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct ProductSnapshot {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub sku: String,
    pub name: String,
    pub category_id: Option<CategoryId>,
    pub unit: Unit,
    /// Price per unit in the store's price mode.
    pub unit_price: Money,
    pub tax: TaxRule,
}

impl ProductSnapshot {
    /// Freezes a product (or one of its variants) with the tax rule of its class.
    pub fn of(product: &Product, variant: Option<VariantId>, tax: TaxRule) -> ModelResult<Self> {
        if tax.class != product.tax_class {
            return Err(ModelError::UnknownTaxClass(product.tax_class.clone()));
        }
        let (variant_id, sku, name, price) = match variant {
            None => (
                None,
                product.sku.clone(),
                product.name.clone(),
                product.price,
            ),
            Some(id) => {
                let v = product.variant(id).ok_or_else(|| ModelError::Invalid {
                    field: "variant",
                    reason: format!("{id} is not a variant of {}", product.sku),
                })?;
                (
                    Some(id),
                    v.sku.clone(),
                    format!("{} {}", product.name, v.name),
                    v.price.unwrap_or(product.price),
                )
            }
        };
        Ok(ProductSnapshot {
            product_id: product.id,
            variant_id,
            sku,
            name,
            category_id: product.category_id,
            unit: product.unit,
            unit_price: price,
            tax,
        })
    }
}

/// A discount on a line or on the whole cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub enum Discount {
    Amount(Money),
    Percent(Percent),
}

impl Discount {
    pub fn validate(&self, currency: &Currency) -> ModelResult<()> {
        if let Discount::Amount(m) = self {
            currency.parse_amount(m.non_negative("discount")?.0)?;
        }
        Ok(())
    }

    /// The discount on `amount`, rounded to the currency; never more than `amount`.
    pub fn on(&self, amount: Money, currency: &Currency) -> ModelResult<Money> {
        match self {
            Discount::Amount(m) if *m > amount => Err(ModelError::DiscountExceedsAmount {
                discount: m.0,
                available: amount.0,
            }),
            Discount::Amount(m) => Ok(*m),
            Discount::Percent(p) => Ok(currency.round(p.of(amount)?).min(amount)),
        }
    }

    /// The discount as a percentage of `amount`, for supervisor thresholds.
    pub fn percent_of(&self, amount: Money) -> rust_decimal::Decimal {
        match self {
            Discount::Percent(p) => p.value(),
            Discount::Amount(_) if amount.is_zero() => rust_decimal::Decimal::ONE_HUNDRED,
            Discount::Amount(m) => m.0 * rust_decimal::Decimal::ONE_HUNDRED / amount.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct CartLine {
    pub id: LineId,
    pub item: ProductSnapshot,
    pub quantity: Quantity,
    pub discount: Option<Discount>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Cart {
    pub id: CartId,
    pub lines: Vec<CartLine>,
    pub discount: Option<Discount>,
    pub note: Option<String>,
}

impl Default for Cart {
    fn default() -> Self {
        Cart::new()
    }
}

impl Cart {
    pub fn new() -> Cart {
        Cart {
            id: CartId::new(),
            lines: Vec::new(),
            discount: None,
            note: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Adds an item. Scanning the same piece item again raises the quantity of its plain line
    /// (no discount, no note); weighed items always get a line of their own.
    pub fn add(&mut self, item: ProductSnapshot, quantity: Quantity) -> ModelResult<LineId> {
        item.unit.check_sale_quantity(quantity)?;
        item.unit_price.non_negative("price")?;
        if item.unit == Unit::Piece
            && let Some(line) = self
                .lines
                .iter_mut()
                .find(|l| l.item == item && l.discount.is_none() && l.note.is_none())
        {
            line.quantity = line.quantity.checked_add(quantity)?;
            return Ok(line.id);
        }
        let id = LineId::new();
        self.lines.push(CartLine {
            id,
            item,
            quantity,
            discount: None,
            note: None,
        });
        Ok(id)
    }

    pub fn remove(&mut self, line: LineId) -> ModelResult<CartLine> {
        let idx = self.index_of(line)?;
        Ok(self.lines.remove(idx))
    }

    pub fn set_quantity(&mut self, line: LineId, quantity: Quantity) -> ModelResult<()> {
        let idx = self.index_of(line)?;
        let l = &mut self.lines[idx];
        l.quantity = l.item.unit.check_sale_quantity(quantity)?;
        Ok(())
    }

    pub fn set_line_discount(
        &mut self,
        line: LineId,
        discount: Option<Discount>,
        currency: &Currency,
    ) -> ModelResult<()> {
        if let Some(d) = &discount {
            d.validate(currency)?;
        }
        let idx = self.index_of(line)?;
        self.lines[idx].discount = discount;
        Ok(())
    }

    pub fn set_cart_discount(
        &mut self,
        discount: Option<Discount>,
        currency: &Currency,
    ) -> ModelResult<()> {
        if let Some(d) = &discount {
            d.validate(currency)?;
        }
        self.discount = discount;
        Ok(())
    }

    pub fn set_line_note(&mut self, line: LineId, note: Option<String>) -> ModelResult<()> {
        let note = clean_note(note)?;
        let idx = self.index_of(line)?;
        self.lines[idx].note = note;
        Ok(())
    }

    pub fn set_note(&mut self, note: Option<String>) -> ModelResult<()> {
        self.note = clean_note(note)?;
        Ok(())
    }

    fn index_of(&self, line: LineId) -> ModelResult<usize> {
        self.lines
            .iter()
            .position(|l| l.id == line)
            .ok_or_else(|| ModelError::UnknownLine(line.to_string()))
    }
}

fn clean_note(note: Option<String>) -> ModelResult<Option<String>> {
    match note.map(|n| n.trim().to_string()) {
        Some(n) if n.is_empty() => Ok(None),
        Some(n) => {
            check_text("note", &n, 500)?;
            Ok(Some(n))
        }
        None => Ok(None),
    }
}
