//! The Z report: what a shift or a business day took, per payment method, and the cash that
//! should be in the drawer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ModelResult;
use crate::money::Money;
use crate::refund::Refund;
use crate::sale::Sale;
use crate::shift::CashMovement;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodTotals {
    pub sales: Money,
    pub refunds: Money,
    pub net: Money,
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZReport {
    pub sales_count: u64,
    pub refunds_count: u64,
    pub voids_count: u64,
    /// Before discounts, in the store's price mode.
    pub gross_sales: Money,
    pub discounts: Money,
    /// What customers owed: sum of sale totals.
    pub sales_total: Money,
    pub tax: Money,
    pub dpp: Money,
    pub refunds_total: Money,
    pub refunds_tax: Money,
    pub cash_rounding: Money,
    /// Keyed by `PaymentMethod::key`.
    pub by_method: BTreeMap<String, MethodTotals>,
    pub opening_float: Money,
    pub cash_in: Money,
    pub cash_out: Money,
    /// float + cash taken − cash refunded + cash in − cash out.
    pub expected_cash: Money,
    pub counted_cash: Option<Money>,
    pub difference: Option<Money>,
}

/// What the Z report is computed from: the sales, refunds and cash movements of one shift or
/// one business day (voided sales are passed separately and left out of the totals).
#[derive(Debug, Clone, Copy)]
pub struct ZReportInput<'a> {
    pub sales: &'a [Sale],
    pub voided: &'a [crate::ids::SaleId],
    pub refunds: &'a [Refund],
    pub cash_movements: &'a [CashMovement],
    pub opening_float: Money,
    pub counted_cash: Option<Money>,
}

impl ZReport {
    pub fn compute(input: ZReportInput<'_>) -> ModelResult<ZReport> {
        let mut z = ZReport {
            opening_float: input.opening_float,
            ..ZReport::default()
        };
        let mut cash_taken = Money::ZERO;
        let mut cash_refunded = Money::ZERO;
        for sale in input.sales {
            if input.voided.contains(&sale.id) {
                z.voids_count += 1;
                continue;
            }
            z.sales_count += 1;
            z.gross_sales = z.gross_sales.checked_add(sale.totals.subtotal)?;
            z.discounts = z.discounts.checked_add(sale.totals.discount_total()?)?;
            z.sales_total = z.sales_total.checked_add(sale.total())?;
            z.tax = z.tax.checked_add(sale.totals.tax.tax)?;
            z.dpp = z.dpp.checked_add(sale.totals.tax.dpp)?;
            z.cash_rounding = z.cash_rounding.checked_add(sale.settlement.cash_rounding)?;
            for p in &sale.settlement.payments {
                let m = z.by_method.entry(p.method.key()).or_default();
                m.sales = m.sales.checked_add(p.amount)?;
                m.count += 1;
                if p.method.is_cash() {
                    cash_taken = cash_taken.checked_add(p.amount)?;
                }
            }
        }
        for r in input.refunds {
            z.refunds_count += 1;
            z.refunds_total = z.refunds_total.checked_add(r.total)?;
            z.refunds_tax = z.refunds_tax.checked_add(r.tax)?;
            z.cash_rounding = z.cash_rounding.checked_sub(r.payout.cash_rounding)?;
            for p in &r.payout.payments {
                let m = z.by_method.entry(p.method.key()).or_default();
                m.refunds = m.refunds.checked_add(p.amount)?;
                if p.method.is_cash() {
                    cash_refunded = cash_refunded.checked_add(p.amount)?;
                }
            }
        }
        for m in z.by_method.values_mut() {
            m.net = m.sales.checked_sub(m.refunds)?;
        }
        for c in input.cash_movements {
            match c.direction {
                crate::shift::CashDirection::In => z.cash_in = z.cash_in.checked_add(c.amount)?,
                crate::shift::CashDirection::Out => {
                    z.cash_out = z.cash_out.checked_add(c.amount)?
                }
            }
        }
        z.expected_cash = input
            .opening_float
            .checked_add(cash_taken)?
            .checked_sub(cash_refunded)?
            .checked_add(z.cash_in)?
            .checked_sub(z.cash_out)?;
        z.counted_cash = input.counted_cash;
        z.difference = match input.counted_cash {
            Some(c) => Some(c.checked_sub(z.expected_cash)?),
            None => None,
        };
        Ok(z)
    }
}
