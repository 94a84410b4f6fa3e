//! Refunds reference the original sale and its lines. A line returns its share of every
//! discount and its own tax; partial quantities return a proportional share, and the last
//! units return whatever remains, so refunds of a line sum exactly to what it was sold for.

use std::collections::HashMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::catalog::check_text;
use crate::codec::{BusinessDate, Timestamp};
use crate::error::{ModelError, ModelResult};
use crate::ids::{LineId, ProductId, RefundId, SaleId, ShiftId, UserId};
use crate::money::{Currency, Money, Quantity, checked_sum};
use crate::payment::{Settlement, Tender, settle};
use crate::receipt_number::ReceiptNumber;
use crate::sale::Sale;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct RefundLine {
    pub sale_line_id: LineId,
    pub product_id: ProductId,
    pub name: String,
    pub quantity: Quantity,
    /// Gross amount returned for this line.
    pub amount: Money,
    /// Tax included in `amount`.
    pub tax: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Refund {
    pub id: RefundId,
    pub receipt_no: ReceiptNumber,
    pub business_date: BusinessDate,
    pub sale_id: SaleId,
    pub sale_receipt_no: ReceiptNumber,
    pub created_at: Timestamp,
    pub cashier_id: UserId,
    pub authorized_by: Option<UserId>,
    pub shift_id: Option<ShiftId>,
    pub lines: Vec<RefundLine>,
    pub total: Money,
    pub tax: Money,
    /// How the money went back (cash rounding applies to a cash payout as to a sale).
    pub payout: Settlement,
    pub reason: String,
}

/// Who, where and when for a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundContext {
    pub id: RefundId,
    pub receipt_no: ReceiptNumber,
    pub created_at: Timestamp,
    pub cashier_id: UserId,
    pub authorized_by: Option<UserId>,
    pub shift_id: Option<ShiftId>,
    pub cash_unit: Option<Money>,
    pub reason: String,
}

/// Quantity and amount of a sale line already refunded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refunded {
    pub quantity: Quantity,
    pub amount: Money,
    pub tax: Money,
}

/// Sums the refunds of `sale` per line.
pub fn refunded_per_line(
    sale: &Sale,
    refunds: &[Refund],
) -> ModelResult<HashMap<LineId, Refunded>> {
    let mut out: HashMap<LineId, Refunded> = HashMap::new();
    for r in refunds.iter().filter(|r| r.sale_id == sale.id) {
        for l in &r.lines {
            let e = out.entry(l.sale_line_id).or_default();
            e.quantity = e.quantity.checked_add(l.quantity)?;
            e.amount = e.amount.checked_add(l.amount)?;
            e.tax = e.tax.checked_add(l.tax)?;
        }
    }
    Ok(out)
}

/// Builds a refund of `requests` (sale line, quantity) against `sale`, knowing the earlier
/// `refunds` of it. Never more than was sold minus what was already refunded.
pub fn build_refund(
    sale: &Sale,
    earlier: &[Refund],
    requests: &[(LineId, Quantity)],
    tenders: &[Tender],
    ctx: RefundContext,
) -> ModelResult<Refund> {
    check_text("refund reason", &ctx.reason, 200)?;
    if requests.is_empty() {
        return Err(ModelError::EmptyCart);
    }
    let currency = sale.currency();
    let done = refunded_per_line(sale, earlier)?;
    let mut lines = Vec::new();
    let mut asked: HashMap<LineId, Quantity> = HashMap::new();
    for (line_id, qty) in requests {
        let line = sale
            .lines
            .iter()
            .find(|l| l.line_id == *line_id)
            .ok_or_else(|| ModelError::UnknownLine(line_id.to_string()))?;
        line.item.unit.check_sale_quantity(*qty)?;
        let before = done.get(line_id).copied().unwrap_or_default();
        let already = asked.get(line_id).copied().unwrap_or_default();
        let refundable = line
            .quantity
            .checked_sub(before.quantity)?
            .checked_sub(already)?;
        if *qty > refundable {
            return Err(ModelError::OverRefund {
                line: line.item.name.clone(),
                requested: qty.0,
                refundable: refundable.0,
            });
        }
        let prior = Refunded {
            quantity: before.quantity.checked_add(already)?,
            amount: before.amount.checked_add(share(
                line.tax.gross,
                already,
                line.quantity,
                &currency,
            )?)?,
            tax: before
                .tax
                .checked_add(share(line.tax.tax, already, line.quantity, &currency)?)?,
        };
        let (amount, tax) = if *qty == refundable {
            (
                line.tax.gross.checked_sub(prior.amount)?,
                line.tax.tax.checked_sub(prior.tax)?,
            )
        } else {
            (
                share(line.tax.gross, *qty, line.quantity, &currency)?,
                share(line.tax.tax, *qty, line.quantity, &currency)?,
            )
        };
        asked.insert(*line_id, already.checked_add(*qty)?);
        lines.push(RefundLine {
            sale_line_id: *line_id,
            product_id: line.item.product_id,
            name: line.item.name.clone(),
            quantity: *qty,
            amount: amount.non_negative("refund amount")?,
            tax: tax.non_negative("refund tax")?,
        });
    }
    let total = checked_sum(lines.iter().map(|l| l.amount))?;
    let tax = checked_sum(lines.iter().map(|l| l.tax))?;
    let payout = settle(total, tenders, ctx.cash_unit, &currency)?;
    Ok(Refund {
        id: ctx.id,
        business_date: ctx.receipt_no.business_date,
        receipt_no: ctx.receipt_no,
        sale_id: sale.id,
        sale_receipt_no: sale.receipt_no.clone(),
        created_at: ctx.created_at,
        cashier_id: ctx.cashier_id,
        authorized_by: ctx.authorized_by,
        shift_id: ctx.shift_id,
        lines,
        total,
        tax,
        payout,
        reason: ctx.reason,
    })
}

/// `round(amount × part / whole)`.
fn share(
    amount: Money,
    part: Quantity,
    whole: Quantity,
    currency: &Currency,
) -> ModelResult<Money> {
    if whole.0.is_zero() {
        return Ok(Money::ZERO);
    }
    let exact = amount.0.checked_mul(part.0).ok_or(ModelError::Overflow)? / whole.0;
    Ok(currency.round(exact))
}

/// A sale line refunded beyond what was sold: only merging documents of two offline tills can
/// produce it. It is flagged, never dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverRefund {
    pub sale_id: SaleId,
    pub sale_line_id: LineId,
    pub sold: Quantity,
    pub refunded: Quantity,
    pub refund_ids: Vec<RefundId>,
}

/// Every line of `sale` whose refunds, merged from all terminals, exceed what was sold.
pub fn over_refunds(sale: &Sale, refunds: &[Refund]) -> ModelResult<Vec<OverRefund>> {
    let done = refunded_per_line(sale, refunds)?;
    let mut out = Vec::new();
    for line in &sale.lines {
        let Some(r) = done.get(&line.line_id) else {
            continue;
        };
        if r.quantity > line.quantity || r.amount > line.tax.gross {
            let refund_ids = refunds
                .iter()
                .filter(|x| {
                    x.sale_id == sale.id && x.lines.iter().any(|l| l.sale_line_id == line.line_id)
                })
                .map(|x| x.id)
                .collect();
            out.push(OverRefund {
                sale_id: sale.id,
                sale_line_id: line.line_id,
                sold: line.quantity,
                refunded: r.quantity,
                refund_ids,
            });
        }
    }
    Ok(out)
}
