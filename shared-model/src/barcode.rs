//! Barcodes: EAN-13, EAN-8 and UPC-A with their check digits, internal codes, and the
//! weighed-item EAN-13 codes that scales print (prefixes 20–29).

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, Reconcile};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, ModelResult};
use crate::money::{Money, Quantity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BarcodeKind {
    Ean13,
    Ean8,
    UpcA,
    /// A store's own code (letters, digits, `-`, `.`, `_`); no check digit.
    Internal,
}

/// A validated barcode. Numeric codes of 8, 12 or 13 digits must carry a correct check digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Barcode(String);

const MAX_BARCODE_LEN: usize = 48;

impl Barcode {
    pub fn parse(code: &str) -> ModelResult<Barcode> {
        let code = code.trim();
        if code.is_empty() {
            return Err(ModelError::Empty { field: "barcode" });
        }
        if code.len() > MAX_BARCODE_LEN {
            return Err(ModelError::TooLong {
                field: "barcode",
                max: MAX_BARCODE_LEN,
            });
        }
        if !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(ModelError::Invalid {
                field: "barcode",
                reason: format!("{code:?} may hold only letters, digits, '-', '.' and '_'"),
            });
        }
        if is_gtin_length(code) {
            let (body, check) = code.split_at(code.len() - 1);
            let expected = gtin_check_digit(body);
            if check.parse::<u32>().ok() != Some(expected) {
                return Err(ModelError::BadCheckDigit {
                    code: code.to_string(),
                    expected,
                });
            }
        }
        Ok(Barcode(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> BarcodeKind {
        if !is_gtin_length(&self.0) {
            return BarcodeKind::Internal;
        }
        match self.0.len() {
            13 => BarcodeKind::Ean13,
            12 => BarcodeKind::UpcA,
            _ => BarcodeKind::Ean8,
        }
    }
}

fn is_gtin_length(code: &str) -> bool {
    matches!(code.len(), 8 | 12 | 13) && code.bytes().all(|b| b.is_ascii_digit())
}

/// The GS1 check digit of the digits before it: weights 3,1,3,… from the right.
pub fn gtin_check_digit(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10
}

impl fmt::Display for Barcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Barcode {
    type Err = ModelError;
    fn from_str(s: &str) -> ModelResult<Barcode> {
        Barcode::parse(s)
    }
}

impl TryFrom<String> for Barcode {
    type Error = ModelError;
    fn try_from(s: String) -> ModelResult<Barcode> {
        Barcode::parse(&s)
    }
}

impl From<Barcode> for String {
    fn from(b: Barcode) -> String {
        b.0
    }
}

crate::codec::string_codec!(Barcode);

/// What the value digits of a weighed-item code mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub enum EmbeddedValue {
    /// Weight in grams (e.g. `01250` = 1.250 kg).
    WeightGrams,
    /// Price in the currency's major units (IDR: rupiah).
    Price,
}

/// A store's rule for in-store EAN-13 codes: `PP IIIII VVVVV C` — a two-digit prefix 20–29,
/// an item code and a value, then the check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct WeighedBarcodeRule {
    pub prefix: u8,
    /// Digits of the item code after the prefix (the value takes the rest, before the check).
    pub item_digits: u8,
    pub value: EmbeddedValue,
}

impl WeighedBarcodeRule {
    /// The common layout: prefix 20–29, a five-digit item code and a five-digit weight.
    pub fn default_rules() -> Vec<WeighedBarcodeRule> {
        (20..=29)
            .map(|prefix| WeighedBarcodeRule {
                prefix,
                item_digits: 5,
                value: EmbeddedValue::WeightGrams,
            })
            .collect()
    }

    pub fn validate(&self) -> ModelResult<()> {
        if !(20..=29).contains(&self.prefix) || !(1..=9).contains(&self.item_digits) {
            return Err(ModelError::Invalid {
                field: "weighed barcode rule",
                reason: format!(
                    "prefix {} (20–29) with {} item digits (1–9)",
                    self.prefix, self.item_digits
                ),
            });
        }
        Ok(())
    }
}

/// A decoded weighed-item code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeighedBarcode {
    /// The item code as the scale printed it (the product's PLU / internal code).
    pub item_code: String,
    pub value: WeighedValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeighedValue {
    Weight { kilograms: Quantity },
    Price(Money),
}

/// Decodes a scanned code with the first rule whose prefix matches. `None` when the code is
/// not a valid EAN-13 or no rule matches, so the caller looks it up as an ordinary barcode.
pub fn decode_weighed(code: &str, rules: &[WeighedBarcodeRule]) -> Option<WeighedBarcode> {
    let barcode = Barcode::parse(code).ok()?;
    if barcode.kind() != BarcodeKind::Ean13 {
        return None;
    }
    let digits = barcode.as_str();
    let prefix: u8 = digits[..2].parse().ok()?;
    let rule = rules
        .iter()
        .find(|r| r.prefix == prefix && r.validate().is_ok())?;
    let item_end = 2 + usize::from(rule.item_digits);
    if item_end >= 12 {
        return None;
    }
    let item_code = digits[2..item_end].to_string();
    let raw: i64 = digits[item_end..12].parse().ok()?;
    let value = match rule.value {
        EmbeddedValue::WeightGrams => WeighedValue::Weight {
            kilograms: Quantity(Decimal::new(raw, 3)),
        },
        EmbeddedValue::Price => WeighedValue::Price(Money::from_i64(raw)),
    };
    Some(WeighedBarcode { item_code, value })
}
