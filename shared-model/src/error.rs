//! The one error type of the domain model.

use rust_decimal::Decimal;

/// Everything the domain can refuse. Callers branch on the variant; the message is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("amount overflow: the number is too large to compute with")]
    Overflow,
    #[error("{field} must not be negative (got {value})")]
    Negative { field: &'static str, value: Decimal },
    #[error("quantity must be greater than zero (got {0})")]
    NonPositiveQuantity(Decimal),
    #[error("quantity {quantity} is not a whole number of pieces")]
    FractionalPieces { quantity: Decimal },
    #[error("{amount} has more decimals than {currency} allows ({minor_units})")]
    TooManyDecimals {
        amount: Decimal,
        currency: String,
        minor_units: u32,
    },
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is too long (at most {max} characters)")]
    TooLong { field: &'static str, max: usize },
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("barcode {code} has a bad check digit (expected {expected})")]
    BadCheckDigit { code: String, expected: u32 },
    #[error("discount of {0}% is outside 0–100%")]
    DiscountPercentOutOfRange(Decimal),
    #[error("discount of {discount} is more than the {available} it applies to")]
    DiscountExceedsAmount {
        discount: Decimal,
        available: Decimal,
    },
    #[error("the cart is empty")]
    EmptyCart,
    #[error("no cart line {0}")]
    UnknownLine(String),
    #[error("tax class {0:?} is not defined for this store")]
    UnknownTaxClass(String),
    #[error("payments of {paid} do not cover the total of {due}")]
    PaymentsShort { paid: Decimal, due: Decimal },
    #[error("a {method} payment of {amount} is more than the {remaining} still due")]
    NonCashOverpayment {
        method: String,
        amount: Decimal,
        remaining: Decimal,
    },
    #[error("a {0} payment needs a reference")]
    MissingReference(String),
    #[error("cash tendered {tendered} is less than the {applied} applied to the sale")]
    TenderedShort { tendered: Decimal, applied: Decimal },
    #[error("line {line}: refunding {requested} but only {refundable} remain refundable")]
    OverRefund {
        line: String,
        requested: Decimal,
        refundable: Decimal,
    },
    #[error("refund refers to sale {expected} but was given sale {given}")]
    WrongSale { expected: String, given: String },
    #[error("the shift is already closed")]
    ShiftClosed,
    #[error("currency mismatch: {0} and {1}")]
    CurrencyMismatch(String, String),
}

pub type ModelResult<T> = Result<T, ModelError>;

/// Field names the model uses, in Bahasa Indonesia.
fn field_id(field: &str) -> &str {
    match field {
        "product name" => "nama produk",
        "price" => "harga",
        "cost" => "harga pokok",
        "tax class" => "kelas pajak",
        "low-stock threshold" => "batas stok rendah",
        "variant name" => "nama varian",
        "variant SKU" => "SKU varian",
        "variant price" => "harga varian",
        "category name" => "nama kategori",
        "unit" => "satuan",
        "store name" => "nama toko",
        "cash rounding unit" => "satuan pembulatan tunai",
        "cut-off hour" => "jam mulai hari usaha",
        "time zone" => "zona waktu",
        "QRIS payload" => "payload QRIS",
        "receipt header" => "kepala struk",
        "receipt footer" => "kaki struk",
        other => other,
    }
}

impl ModelError {
    /// The message in Bahasa Indonesia (the `Display` text is English). Errors no owner-facing
    /// page shows fall back to English.
    pub fn indonesian(&self) -> String {
        match self {
            ModelError::Overflow => "angka terlalu besar untuk dihitung".into(),
            ModelError::Negative { field, value } => {
                format!("{} tidak boleh negatif (tertulis {value})", field_id(field))
            }
            ModelError::TooManyDecimals {
                amount,
                currency,
                minor_units,
            } => format!(
                "{amount} punya lebih banyak desimal daripada yang diizinkan {currency} ({minor_units})"
            ),
            ModelError::Empty { field } => format!("{} tidak boleh kosong", field_id(field)),
            ModelError::TooLong { field, max } => {
                format!(
                    "{} terlalu panjang (paling banyak {max} karakter)",
                    field_id(field)
                )
            }
            ModelError::Invalid { field, reason } => {
                format!("{} tidak valid: {reason}", field_id(field))
            }
            ModelError::BadCheckDigit { code, expected } => {
                format!("barcode {code} salah digit periksa (seharusnya {expected})")
            }
            ModelError::UnknownTaxClass(c) => {
                format!("kelas pajak {c:?} tidak ada di toko ini")
            }
            other => other.to_string(),
        }
    }
}
