//! Amounts as they appear on paper: "Rp 12.500", "€ 1.234,50".

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// How a currency is written on receipts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Currency {
    /// ISO 4217 code, e.g. "IDR".
    pub code: String,
    /// Symbol before the amount, e.g. "Rp".
    pub symbol: String,
    /// Digits after the decimal separator (IDR: 0, EUR: 2).
    pub minor_units: u32,
    /// Thousands separator.
    pub group_separator: char,
    /// Decimal separator (unused when `minor_units` is 0).
    pub decimal_separator: char,
}

impl Currency {
    /// Indonesian rupiah: "Rp 12.500".
    pub fn idr() -> Currency {
        Currency {
            code: "IDR".into(),
            symbol: "Rp".into(),
            minor_units: 0,
            group_separator: '.',
            decimal_separator: ',',
        }
    }

    /// Euro written the continental way: "€ 1.234,50".
    pub fn eur() -> Currency {
        Currency {
            code: "EUR".into(),
            symbol: "€".into(),
            minor_units: 2,
            group_separator: '.',
            decimal_separator: ',',
        }
    }

    /// US dollar: "$ 1,234.50".
    pub fn usd() -> Currency {
        Currency {
            code: "USD".into(),
            symbol: "$".into(),
            minor_units: 2,
            group_separator: ',',
            decimal_separator: '.',
        }
    }

    /// The amount without symbol, rounded half away from zero to the minor
    /// units: "12.500", "-2.500", "1.234,50".
    pub fn amount(&self, value: Decimal) -> String {
        let rounded =
            value.round_dp_with_strategy(self.minor_units, RoundingStrategy::MidpointAwayFromZero);
        let negative = rounded.is_sign_negative() && !rounded.is_zero();
        let plain = rounded.abs().to_string();
        let (whole, fraction) = plain.split_once('.').unwrap_or((plain.as_str(), ""));
        let mut out = String::new();
        if negative {
            out.push('-');
        }
        out.push_str(&group_digits(whole, self.group_separator));
        if self.minor_units > 0 {
            out.push(self.decimal_separator);
            let width = self.minor_units as usize;
            out.push_str(&format!("{fraction:0<width$}"));
        }
        out
    }

    /// The amount with symbol: "Rp 12.500", "-Rp 2.500".
    pub fn money(&self, value: Decimal) -> String {
        let amount = self.amount(value);
        match amount.strip_prefix('-') {
            Some(positive) => format!("-{} {positive}", self.symbol),
            None => format!("{} {amount}", self.symbol),
        }
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency::idr()
    }
}

fn group_digits(digits: &str, separator: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rupiah() {
        let idr = Currency::idr();
        assert_eq!(idr.money(dec!(12500)), "Rp 12.500");
        assert_eq!(idr.money(dec!(0)), "Rp 0");
        assert_eq!(idr.money(dec!(999)), "Rp 999");
        assert_eq!(idr.money(dec!(1000)), "Rp 1.000");
        assert_eq!(idr.money(dec!(1234567)), "Rp 1.234.567");
        assert_eq!(idr.money(dec!(-2500)), "-Rp 2.500");
        assert_eq!(idr.amount(dec!(12499.5)), "12.500");
        assert_eq!(idr.amount(dec!(-0.4)), "0");
    }

    #[test]
    fn two_minor_units() {
        let eur = Currency::eur();
        assert_eq!(eur.money(dec!(1234.5)), "€ 1.234,50");
        assert_eq!(eur.amount(dec!(0.005)), "0,01");
        assert_eq!(eur.amount(dec!(12)), "12,00");
        assert_eq!(Currency::usd().money(dec!(-1234567.891)), "-$ 1,234,567.89");
    }
}
