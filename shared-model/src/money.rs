//! Money and quantities: `rust_decimal` everywhere, never floats; overflow is an error.

use std::fmt;
use std::iter::Sum;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, ModelResult};

/// A currency: ISO code and the number of minor units it is counted in (IDR 0, USD 2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Currency {
    pub code: String,
    pub minor_units: u32,
}

impl Currency {
    pub fn idr() -> Self {
        Currency {
            code: "IDR".into(),
            minor_units: 0,
        }
    }

    pub fn usd() -> Self {
        Currency {
            code: "USD".into(),
            minor_units: 2,
        }
    }

    pub fn new(code: &str, minor_units: u32) -> ModelResult<Self> {
        let code = code.trim().to_ascii_uppercase();
        if code.len() != 3 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ModelError::Invalid {
                field: "currency code",
                reason: code,
            });
        }
        if minor_units > 4 {
            return Err(ModelError::Invalid {
                field: "minor units",
                reason: format!("{minor_units} (at most 4)"),
            });
        }
        Ok(Currency { code, minor_units })
    }

    /// Rounds half away from zero to this currency's minor units (the rule for tax and prices).
    pub fn round(&self, amount: Decimal) -> Money {
        Money(
            amount.round_dp_with_strategy(self.minor_units, RoundingStrategy::MidpointAwayFromZero),
        )
    }

    /// Accepts an amount as written by a person or a file: it must fit the minor units.
    pub fn parse_amount(&self, amount: Decimal) -> ModelResult<Money> {
        if amount.normalize().scale() > self.minor_units {
            return Err(ModelError::TooManyDecimals {
                amount,
                currency: self.code.clone(),
                minor_units: self.minor_units,
            });
        }
        Ok(Money(amount))
    }

    /// Formats for receipts and screens: `Rp 12.500` for IDR, `USD 3.50` otherwise.
    pub fn format(&self, amount: Money) -> String {
        let value = amount.0.round_dp(self.minor_units);
        let negative = value.is_sign_negative() && !value.is_zero();
        let abs = value.abs();
        let whole = abs.trunc().to_string();
        let (thousands, decimal) = if self.code == "IDR" {
            ('.', ',')
        } else {
            (',', '.')
        };
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(thousands);
            }
            grouped.push(c);
        }
        if self.minor_units > 0 {
            let frac = (abs.fract() * Decimal::from(10u64.pow(self.minor_units))).trunc();
            grouped.push(decimal);
            grouped.push_str(&format!(
                "{:0width$}",
                frac,
                width = self.minor_units as usize
            ));
        }
        let symbol = if self.code == "IDR" {
            "Rp"
        } else {
            self.code.as_str()
        };
        format!("{}{symbol} {grouped}", if negative { "-" } else { "" })
    }
}

/// An amount of money in the store's currency. Arithmetic is checked.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub Decimal);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn new(value: Decimal) -> Self {
        Money(value)
    }

    pub fn from_i64(value: i64) -> Self {
        Money(Decimal::from(value))
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    pub fn checked_add(self, other: Money) -> ModelResult<Money> {
        self.0
            .checked_add(other.0)
            .map(Money)
            .ok_or(ModelError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> ModelResult<Money> {
        self.0
            .checked_sub(other.0)
            .map(Money)
            .ok_or(ModelError::Overflow)
    }

    pub fn checked_mul(self, factor: Decimal) -> ModelResult<Decimal> {
        self.0.checked_mul(factor).ok_or(ModelError::Overflow)
    }

    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn min(self, other: Money) -> Money {
        if self <= other { self } else { other }
    }

    /// Fails when negative; `field` names the value in the error.
    pub fn non_negative(self, field: &'static str) -> ModelResult<Money> {
        if self.is_negative() {
            return Err(ModelError::Negative {
                field,
                value: self.0,
            });
        }
        Ok(self)
    }
}

/// Sums with overflow reported.
pub fn checked_sum<I: IntoIterator<Item = Money>>(items: I) -> ModelResult<Money> {
    items.into_iter().try_fold(Money::ZERO, Money::checked_add)
}

impl Sum for Money {
    /// Only for values already known to fit (e.g. re-summing validated lines); prefer `checked_sum`.
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

impl std::ops::Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Money {
    type Err = ModelError;
    fn from_str(s: &str) -> ModelResult<Money> {
        Decimal::from_str_exact(s.trim())
            .map(Money)
            .map_err(|e| ModelError::Invalid {
                field: "amount",
                reason: format!("{s:?}: {e}"),
            })
    }
}

/// A quantity: whole pieces, or a weight in kilograms/grams with decimals. Signed, because
/// stock movements carry deltas; cart quantities are checked to be positive.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Quantity(pub Decimal);

impl Quantity {
    pub const ZERO: Quantity = Quantity(Decimal::ZERO);
    pub const ONE: Quantity = Quantity(Decimal::ONE);

    pub fn new(value: Decimal) -> Self {
        Quantity(value)
    }

    pub fn from_i64(value: i64) -> Self {
        Quantity(Decimal::from(value))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    pub fn checked_add(self, other: Quantity) -> ModelResult<Quantity> {
        self.0
            .checked_add(other.0)
            .map(Quantity)
            .ok_or(ModelError::Overflow)
    }

    pub fn checked_sub(self, other: Quantity) -> ModelResult<Quantity> {
        self.0
            .checked_sub(other.0)
            .map(Quantity)
            .ok_or(ModelError::Overflow)
    }

    pub fn is_positive(self) -> bool {
        self.0 > Decimal::ZERO
    }
}

impl std::ops::Neg for Quantity {
    type Output = Quantity;
    fn neg(self) -> Quantity {
        Quantity(-self.0)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.normalize().fmt(f)
    }
}

impl FromStr for Quantity {
    type Err = ModelError;
    fn from_str(s: &str) -> ModelResult<Quantity> {
        Decimal::from_str_exact(s.trim())
            .map(Quantity)
            .map_err(|e| ModelError::Invalid {
                field: "quantity",
                reason: format!("{s:?}: {e}"),
            })
    }
}

/// A percentage between 0 and 100 inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Percent(pub(crate) Decimal);

impl Percent {
    pub fn new(value: Decimal) -> ModelResult<Self> {
        if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
            return Err(ModelError::DiscountPercentOutOfRange(value));
        }
        Ok(Percent(value))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    /// `amount × percent / 100`, unrounded.
    pub fn of(self, amount: Money) -> ModelResult<Decimal> {
        amount
            .0
            .checked_mul(self.0)
            .and_then(|v| v.checked_div(Decimal::ONE_HUNDRED))
            .ok_or(ModelError::Overflow)
    }
}

impl TryFrom<Decimal> for Percent {
    type Error = ModelError;
    fn try_from(value: Decimal) -> ModelResult<Self> {
        Percent::new(value)
    }
}

impl From<Percent> for Decimal {
    fn from(p: Percent) -> Decimal {
        p.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.normalize().fmt(f)
    }
}

impl FromStr for Percent {
    type Err = ModelError;
    fn from_str(s: &str) -> ModelResult<Percent> {
        let d = Decimal::from_str_exact(s.trim()).map_err(|e| ModelError::Invalid {
            field: "percent",
            reason: format!("{s:?}: {e}"),
        })?;
        Percent::new(d)
    }
}

/// Splits `total` over `weights` in proportion, in whole minor units, so that the parts sum to
/// `total` exactly (largest remainder; ties go to the earlier weight). Zero weights get zero
/// unless every weight is zero, in which case the total is split evenly.
pub fn allocate(total: Money, weights: &[Money], currency: &Currency) -> ModelResult<Vec<Money>> {
    if weights.is_empty() {
        return Ok(Vec::new());
    }
    let unit = Decimal::new(1, currency.minor_units);
    let weight_sum = checked_sum(weights.iter().map(|w| Money(w.0.abs())))?;
    let weights: Vec<Decimal> = if weight_sum.is_zero() {
        vec![Decimal::ONE; weights.len()]
    } else {
        weights.iter().map(|w| w.0.abs()).collect()
    };
    let weight_sum: Decimal = weights
        .iter()
        .try_fold(Decimal::ZERO, |a, w| a.checked_add(*w))
        .ok_or(ModelError::Overflow)?;
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut assigned = Decimal::ZERO;
    for (i, w) in weights.iter().enumerate() {
        let exact = total
            .0
            .checked_mul(*w)
            .and_then(|v| v.checked_div(weight_sum))
            .ok_or(ModelError::Overflow)?;
        let floor = (exact / unit).trunc() * unit;
        parts.push(floor);
        remainders.push((i, (exact - floor).abs()));
        assigned += floor;
    }
    let mut left = total.0 - assigned;
    remainders.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let step = if left.is_sign_negative() { -unit } else { unit };
    let mut k = 0;
    while !left.is_zero() && k < remainders.len() * 2 {
        let idx = remainders[k % remainders.len()].0;
        parts[idx] += step;
        left -= step;
        k += 1;
    }
    Ok(parts.into_iter().map(Money).collect())
}
