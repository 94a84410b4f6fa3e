//! Tax as data: a rate applied to a fraction of the price (the tax base).
//!
//! Indonesian PPN since 2025: 12% on a "DPP nilai lain" of 11/12 of the price for ordinary goods
//! (effectively 11%), 12% on the full price for luxury goods.
//!
//! # Rounding rule
//! Tax is computed **per line**, on the line's amount after every discount, and rounded half
//! away from zero to the currency's minor units. The receipt's tax, base and totals are the sums
//! of the lines' rounded figures, so every total can be reproduced from the stored lines, and a
//! refunded line returns exactly the tax it carried. For exclusive prices the tax is
//! `round(net × rate × base)`; for inclusive prices it is `round(gross × r / (1 + r))` with
//! `r = rate × base`, and the net is `gross − tax`, so that net + tax = gross exactly.

use autosurgeon::{Hydrate, Reconcile};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, ModelResult};
use crate::money::{Currency, Money, Percent};

/// Whether shelf prices already include tax (common in Indonesian retail) or tax is added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub enum PriceMode {
    Inclusive,
    Exclusive,
}

/// One tax class of a store: e.g. `standard` (PPN on 11/12), `luxury` (PPN on the full price),
/// `exempt`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct TaxRule {
    /// The class products refer to, e.g. `standard`.
    pub class: String,
    /// Shown on receipts, e.g. `PPN 12%`.
    pub name: String,
    /// Percent, e.g. 12.
    pub rate_percent: Percent,
    /// The tax base as a fraction of the price, e.g. 11/12.
    pub base_numerator: u32,
    pub base_denominator: u32,
}

/// How one amount divides into tax base, tax and totals.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Reconcile, Hydrate,
)]
pub struct TaxSplit {
    /// Price without tax.
    pub net: Money,
    /// Tax base (DPP): the net times the base fraction.
    pub dpp: Money,
    pub tax: Money,
    /// Price with tax: net + tax.
    pub gross: Money,
}

impl TaxRule {
    pub fn new(
        class: &str,
        name: &str,
        rate_percent: Decimal,
        base: (u32, u32),
    ) -> ModelResult<Self> {
        let rule = TaxRule {
            class: class.trim().to_string(),
            name: name.trim().to_string(),
            rate_percent: Percent::new(rate_percent).map_err(|_| ModelError::Invalid {
                field: "tax rate",
                reason: format!("{rate_percent}%"),
            })?,
            base_numerator: base.0,
            base_denominator: base.1,
        };
        rule.validate()?;
        Ok(rule)
    }

    /// PPN for ordinary goods: 12% on 11/12 of the price.
    pub fn ppn_standard() -> Self {
        TaxRule {
            class: "standard".into(),
            name: "PPN 12% (DPP 11/12)".into(),
            rate_percent: Percent(Decimal::from(12)),
            base_numerator: 11,
            base_denominator: 12,
        }
    }

    /// PPN for luxury goods: 12% on the full price.
    pub fn ppn_luxury() -> Self {
        TaxRule {
            class: "luxury".into(),
            name: "PPN 12%".into(),
            base_numerator: 1,
            base_denominator: 1,
            ..Self::ppn_standard()
        }
    }

    /// Goods not subject to PPN.
    pub fn exempt() -> Self {
        TaxRule {
            class: "exempt".into(),
            name: "Bebas PPN".into(),
            rate_percent: Percent(Decimal::ZERO),
            base_numerator: 1,
            base_denominator: 1,
        }
    }

    pub fn validate(&self) -> ModelResult<()> {
        if self.class.is_empty() {
            return Err(ModelError::Empty { field: "tax class" });
        }
        if self.name.is_empty() {
            return Err(ModelError::Empty { field: "tax name" });
        }
        if self.base_denominator == 0 || self.base_numerator > self.base_denominator {
            return Err(ModelError::Invalid {
                field: "tax base",
                reason: format!(
                    "{}/{} must be a fraction between 0 and 1",
                    self.base_numerator, self.base_denominator
                ),
            });
        }
        Ok(())
    }

    /// The effective rate as a fraction: rate × base, e.g. 0.11 for standard PPN.
    pub fn effective_rate(&self) -> Decimal {
        self.rate_percent.value() * Decimal::from(self.base_numerator)
            / (Decimal::ONE_HUNDRED * Decimal::from(self.base_denominator))
    }

    /// Splits an amount (in the store's price mode) into net, base, tax and gross.
    pub fn split(
        &self,
        amount: Money,
        mode: PriceMode,
        currency: &Currency,
    ) -> ModelResult<TaxSplit> {
        let rate = self.rate_percent.value();
        let num = Decimal::from(self.base_numerator);
        let den = Decimal::from(self.base_denominator);
        let overflow = || ModelError::Overflow;
        match mode {
            PriceMode::Exclusive => {
                let net = amount;
                let tax_exact = net.0.checked_mul(rate * num).ok_or_else(overflow)?
                    / (den * Decimal::ONE_HUNDRED);
                let tax = currency.round(tax_exact);
                let dpp = currency.round(net.0.checked_mul(num).ok_or_else(overflow)? / den);
                Ok(TaxSplit {
                    net,
                    dpp,
                    tax,
                    gross: net.checked_add(tax)?,
                })
            }
            PriceMode::Inclusive => {
                let gross = amount;
                let rn = rate * num;
                let tax_exact = gross.0.checked_mul(rn).ok_or_else(overflow)?
                    / (den * Decimal::ONE_HUNDRED + rn);
                let tax = currency.round(tax_exact);
                let net = gross.checked_sub(tax)?;
                let dpp = currency.round(net.0.checked_mul(num).ok_or_else(overflow)? / den);
                Ok(TaxSplit {
                    net,
                    dpp,
                    tax,
                    gross,
                })
            }
        }
    }
}

impl TaxSplit {
    pub fn checked_add(self, other: TaxSplit) -> ModelResult<TaxSplit> {
        Ok(TaxSplit {
            net: self.net.checked_add(other.net)?,
            dpp: self.dpp.checked_add(other.dpp)?,
            tax: self.tax.checked_add(other.tax)?,
            gross: self.gross.checked_add(other.gross)?,
        })
    }
}
