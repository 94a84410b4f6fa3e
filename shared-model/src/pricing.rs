//! Pricing a cart: line discounts, then promotions, then the cart discount spread over the
//! lines by value, then tax per line (see `tax` for the rounding rule).

use autosurgeon::{Hydrate, Reconcile};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::cart::{Cart, Discount, ProductSnapshot};
use crate::catalog::Unit;
use crate::error::{ModelError, ModelResult};
use crate::ids::{LineId, PromotionId};
use crate::money::{Currency, Money, Quantity, allocate, checked_sum};
use crate::promotion::{Promotion, PromotionRule};
use crate::tax::{PriceMode, TaxSplit};

/// What pricing needs to know about the store.
#[derive(Debug, Clone)]
pub struct PricingPolicy {
    pub currency: Currency,
    pub price_mode: PriceMode,
    pub promotions: Vec<Promotion>,
}

/// A line with every figure that makes its amount. All amounts are in the store's price mode
/// except `tax`, which splits `amount` into net, base, tax and gross.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct PricedLine {
    pub line_id: LineId,
    pub item: ProductSnapshot,
    pub quantity: Quantity,
    pub note: Option<String>,
    /// `round(quantity × unit price)`.
    pub base: Money,
    pub line_discount: Money,
    pub promotion_discount: Money,
    /// This line's share of the cart discount, spread by value.
    pub cart_discount_share: Money,
    /// `base − line_discount − promotion_discount − cart_discount_share`.
    pub amount: Money,
    pub tax: TaxSplit,
    pub promotions: Vec<PromotionId>,
}

impl PricedLine {
    pub fn discount_total(&self) -> ModelResult<Money> {
        self.line_discount
            .checked_add(self.promotion_discount)?
            .checked_add(self.cart_discount_share)
    }

    /// The arithmetic a line must satisfy; used to reject tampered or corrupted records.
    pub fn check(&self) -> ModelResult<()> {
        let expected = self.base.checked_sub(self.discount_total()?)?;
        if expected != self.amount || self.amount.is_negative() {
            return Err(ModelError::Invalid {
                field: "sale line",
                reason: format!("{} − discounts ≠ amount {}", self.base, self.amount),
            });
        }
        if self.tax.net.checked_add(self.tax.tax)? != self.tax.gross {
            return Err(ModelError::Invalid {
                field: "sale line",
                reason: "net + tax ≠ gross".into(),
            });
        }
        Ok(())
    }
}

/// Totals of a priced cart, each the sum of the lines' figures.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Reconcile, Hydrate,
)]
pub struct CartTotals {
    /// Sum of line bases, before any discount.
    pub subtotal: Money,
    pub line_discounts: Money,
    pub promotion_discounts: Money,
    pub cart_discount: Money,
    /// Sum of the lines' tax splits: `tax.gross` is what the customer owes.
    pub tax: TaxSplit,
}

impl CartTotals {
    pub fn total(&self) -> Money {
        self.tax.gross
    }

    pub fn discount_total(&self) -> ModelResult<Money> {
        self.line_discounts
            .checked_add(self.promotion_discounts)?
            .checked_add(self.cart_discount)
    }

    /// Re-derives the totals from lines.
    pub fn from_lines(lines: &[PricedLine]) -> ModelResult<CartTotals> {
        let mut t = CartTotals::default();
        for l in lines {
            t.subtotal = t.subtotal.checked_add(l.base)?;
            t.line_discounts = t.line_discounts.checked_add(l.line_discount)?;
            t.promotion_discounts = t.promotion_discounts.checked_add(l.promotion_discount)?;
            t.cart_discount = t.cart_discount.checked_add(l.cart_discount_share)?;
            t.tax = t.tax.checked_add(l.tax)?;
        }
        Ok(t)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedCart {
    pub lines: Vec<PricedLine>,
    pub totals: CartTotals,
    pub cart_discount: Option<Discount>,
}

impl PricedCart {
    pub fn total(&self) -> Money {
        self.totals.total()
    }
}

/// Prices a cart. Fails on an empty cart, a discount larger than what it applies to, amounts
/// that do not fit the currency, or overflow.
pub fn price_cart(cart: &Cart, policy: &PricingPolicy) -> ModelResult<PricedCart> {
    if cart.lines.is_empty() {
        return Err(ModelError::EmptyCart);
    }
    let currency = &policy.currency;
    let mut lines = Vec::with_capacity(cart.lines.len());
    for l in &cart.lines {
        l.item.unit.check_sale_quantity(l.quantity)?;
        currency.parse_amount(l.item.unit_price.non_negative("price")?.0)?;
        let base = currency.round(l.item.unit_price.checked_mul(l.quantity.0)?);
        let line_discount = match &l.discount {
            Some(d) => {
                d.validate(currency)?;
                d.on(base, currency)?
            }
            None => Money::ZERO,
        };
        lines.push(PricedLine {
            line_id: l.id,
            item: l.item.clone(),
            quantity: l.quantity,
            note: l.note.clone(),
            base,
            line_discount,
            promotion_discount: Money::ZERO,
            cart_discount_share: Money::ZERO,
            amount: base.checked_sub(line_discount)?,
            tax: TaxSplit::default(),
            promotions: Vec::new(),
        });
    }
    for promo in policy.promotions.iter().filter(|p| p.active) {
        apply_promotion(promo, &mut lines, currency)?;
    }
    if let Some(d) = &cart.discount {
        d.validate(currency)?;
        let remaining = checked_sum(lines.iter().map(|l| l.amount))?;
        let discount = d.on(remaining, currency)?;
        let shares = allocate(
            discount,
            &lines.iter().map(|l| l.amount).collect::<Vec<_>>(),
            currency,
        )?;
        for (line, share) in lines.iter_mut().zip(shares) {
            line.cart_discount_share = share;
            line.amount = line.amount.checked_sub(share)?;
        }
    }
    for line in &mut lines {
        line.tax = line
            .item
            .tax
            .split(line.amount, policy.price_mode, currency)?;
    }
    let totals = CartTotals::from_lines(&lines)?;
    Ok(PricedCart {
        lines,
        totals,
        cart_discount: cart.discount,
    })
}

fn apply_promotion(
    promo: &Promotion,
    lines: &mut [PricedLine],
    currency: &Currency,
) -> ModelResult<()> {
    promo.validate()?;
    match &promo.rule {
        PromotionRule::BuyXGetY {
            product_id,
            buy,
            get,
        } => {
            let idx: Vec<usize> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.item.product_id == *product_id && l.item.unit == Unit::Piece)
                .map(|(i, _)| i)
                .collect();
            if idx.is_empty() {
                return Ok(());
            }
            let pieces = idx
                .iter()
                .try_fold(Decimal::ZERO, |a, i| a.checked_add(lines[*i].quantity.0));
            let pieces = pieces.ok_or(ModelError::Overflow)?;
            let group = Decimal::from(u64::from(*buy) + u64::from(*get));
            let free = (pieces / group).trunc() * Decimal::from(*get);
            if free.is_zero() {
                return Ok(());
            }
            // The free pieces are valued at the cheapest unit price among the lines.
            let cheapest = idx
                .iter()
                .map(|i| lines[*i].item.unit_price)
                .min()
                .unwrap_or(Money::ZERO);
            let available = checked_sum(idx.iter().map(|i| lines[*i].amount))?;
            let discount = currency.round(cheapest.checked_mul(free)?).min(available);
            let weights: Vec<Money> = idx.iter().map(|i| lines[*i].amount).collect();
            for (i, share) in idx.iter().zip(allocate(discount, &weights, currency)?) {
                take_promotion(&mut lines[*i], promo.id, share)?;
            }
        }
        PromotionRule::PercentOffCategory {
            category_id,
            percent,
        } => {
            for line in lines
                .iter_mut()
                .filter(|l| l.item.category_id == Some(*category_id))
            {
                let off = currency.round(percent.of(line.amount)?).min(line.amount);
                take_promotion(line, promo.id, off)?;
            }
        }
    }
    Ok(())
}

fn take_promotion(
    line: &mut PricedLine,
    promo: crate::ids::PromotionId,
    amount: Money,
) -> ModelResult<()> {
    if amount.is_zero() {
        return Ok(());
    }
    line.promotion_discount = line.promotion_discount.checked_add(amount)?;
    line.amount = line.amount.checked_sub(amount)?;
    line.promotions.push(promo);
    Ok(())
}
