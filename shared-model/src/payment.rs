//! Payments and settlement: split payments, cash rounding and change.
//!
//! Non-cash payments (QRIS, card, e-wallet, other) are applied first and can never exceed
//! what is still due. Whatever is left is paid in cash, rounded to the store's cash unit
//! (e.g. Rp100, half up); the rounding is shown, and change is given on the cash only.

use std::fmt;

use autosurgeon::{Hydrate, Reconcile};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::catalog::check_text;
use crate::error::{ModelError, ModelResult};
use crate::money::{Currency, Money, checked_sum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub enum QrisMode {
    /// The shop's printed QR; the customer types the amount.
    Static,
    /// A QR generated per sale with its own reference.
    Dynamic,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub enum PaymentMethod {
    Cash,
    Qris {
        mode: QrisMode,
    },
    /// Debit or credit card on an EDC terminal.
    Card,
    EWallet {
        provider: String,
    },
    Other {
        name: String,
    },
}

impl PaymentMethod {
    /// A stable key for reports: `cash`, `qris` (the store's static QRIS, confirmed by the
    /// cashier), `qris_dynamic` (a code made by the store's gateway, confirmed by it), `card`,
    /// `ewallet:ovo`, `other:voucher`.
    pub fn key(&self) -> String {
        match self {
            PaymentMethod::Cash => "cash".into(),
            PaymentMethod::Qris {
                mode: QrisMode::Static,
            } => "qris".into(),
            PaymentMethod::Qris {
                mode: QrisMode::Dynamic,
            } => "qris_dynamic".into(),
            PaymentMethod::Card => "card".into(),
            PaymentMethod::EWallet { provider } => format!("ewallet:{}", provider.to_lowercase()),
            PaymentMethod::Other { name } => format!("other:{}", name.to_lowercase()),
        }
    }

    pub fn is_cash(&self) -> bool {
        matches!(self, PaymentMethod::Cash)
    }

    fn needs_reference(&self) -> bool {
        matches!(
            self,
            PaymentMethod::Card
                | PaymentMethod::Qris {
                    mode: QrisMode::Dynamic
                }
        )
    }
}

impl fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaymentMethod::Cash => f.write_str("Tunai"),
            PaymentMethod::Qris { .. } => f.write_str("QRIS"),
            PaymentMethod::Card => f.write_str("Kartu"),
            PaymentMethod::EWallet { provider } => write!(f, "E-wallet {provider}"),
            PaymentMethod::Other { name } => f.write_str(name),
        }
    }
}

/// What the cashier enters: for cash the amount handed over, otherwise the amount charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tender {
    pub method: PaymentMethod,
    pub amount: Money,
    pub reference: Option<String>,
}

impl Tender {
    pub fn cash(amount: Money) -> Tender {
        Tender {
            method: PaymentMethod::Cash,
            amount,
            reference: None,
        }
    }

    pub fn with(method: PaymentMethod, amount: Money, reference: Option<&str>) -> Tender {
        Tender {
            method,
            amount,
            reference: reference.map(str::to_string),
        }
    }
}

/// A payment as recorded on the sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Payment {
    pub method: PaymentMethod,
    /// The amount applied to the sale (for cash: the rounded cash due, not what was handed over).
    pub amount: Money,
    /// Cash handed over, when cash.
    pub tendered: Option<Money>,
    pub reference: Option<String>,
}

/// How a total was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Settlement {
    pub payments: Vec<Payment>,
    /// Cash rounding: `amount_due − total`, positive when rounded up.
    pub cash_rounding: Money,
    /// `total + cash_rounding`: the sum of the payments.
    pub amount_due: Money,
    pub change: Money,
}

/// Rounds to the nearest multiple of `unit`, halves up.
pub fn round_to_unit(amount: Money, unit: Money) -> Money {
    if unit.0 <= Decimal::ZERO {
        return amount;
    }
    let steps =
        (amount.0 / unit.0).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    Money(steps * unit.0)
}

/// Settles `total` with the tenders. `cash_unit` is the store's cash rounding unit (`None` or
/// zero for none).
pub fn settle(
    total: Money,
    tenders: &[Tender],
    cash_unit: Option<Money>,
    currency: &Currency,
) -> ModelResult<Settlement> {
    total.non_negative("total")?;
    let mut payments = Vec::new();
    let mut remaining = total;
    let mut cash_tendered: Option<Money> = None;
    for t in tenders {
        currency.parse_amount(t.amount.0)?;
        if !t.amount.0.is_sign_positive() || t.amount.is_zero() {
            return Err(ModelError::Invalid {
                field: "payment",
                reason: format!("{} must be more than zero", t.amount),
            });
        }
        if t.method.is_cash() {
            let sum = cash_tendered.unwrap_or(Money::ZERO).checked_add(t.amount)?;
            cash_tendered = Some(sum);
            continue;
        }
        let reference = match t.reference.as_deref().map(str::trim) {
            Some("") | None if t.method.needs_reference() => {
                return Err(ModelError::MissingReference(t.method.to_string()));
            }
            Some("") | None => None,
            Some(r) => {
                check_text("payment reference", r, 100)?;
                Some(r.to_string())
            }
        };
        if t.amount > remaining {
            return Err(ModelError::NonCashOverpayment {
                method: t.method.to_string(),
                amount: t.amount.0,
                remaining: remaining.0,
            });
        }
        remaining = remaining.checked_sub(t.amount)?;
        payments.push(Payment {
            method: t.method.clone(),
            amount: t.amount,
            tendered: None,
            reference,
        });
    }
    let (cash_rounding, change) = match cash_tendered {
        None if !remaining.is_zero() => {
            return Err(ModelError::PaymentsShort {
                paid: total.checked_sub(remaining)?.0,
                due: total.0,
            });
        }
        None => (Money::ZERO, Money::ZERO),
        Some(tendered) => {
            let cash_due = round_to_unit(remaining, cash_unit.unwrap_or(Money::ZERO));
            if tendered < cash_due {
                let paid = total.checked_sub(remaining)?.checked_add(tendered)?;
                return Err(ModelError::PaymentsShort {
                    paid: paid.0,
                    due: total.checked_sub(remaining)?.checked_add(cash_due)?.0,
                });
            }
            payments.push(Payment {
                method: crate::payment::PaymentMethod::Cash,
                amount: cash_due,
                tendered: Some(tendered),
                reference: None,
            });
            (
                cash_due.checked_sub(remaining)?,
                tendered.checked_sub(cash_due)?,
            )
        }
    };
    let amount_due = total.checked_add(cash_rounding)?;
    debug_assert_eq!(
        checked_sum(payments.iter().map(|p| p.amount)).ok(),
        Some(amount_due)
    );
    Ok(Settlement {
        payments,
        cash_rounding,
        amount_due,
        change,
    })
}

impl Settlement {
    /// Checks that payments cover `total` as recorded; used on records from outside.
    pub fn check(&self, total: Money) -> ModelResult<()> {
        let paid = checked_sum(self.payments.iter().map(|p| p.amount))?;
        if self.amount_due != total.checked_add(self.cash_rounding)? || paid != self.amount_due {
            return Err(ModelError::PaymentsShort {
                paid: paid.0,
                due: self.amount_due.0,
            });
        }
        for p in &self.payments {
            if p.amount.is_negative() {
                return Err(ModelError::Negative {
                    field: "payment",
                    value: p.amount.0,
                });
            }
        }
        Ok(())
    }

    pub fn cash_applied(&self) -> Money {
        self.payments
            .iter()
            .filter(|p| p.method.is_cash())
            .map(|p| p.amount)
            .sum()
    }
}
