//! What a receipt says, independent of any printer.
//!
//! Amounts are given, not computed: the sale model owns the arithmetic and
//! this crate only lays it out. All types serialize with serde so a print
//! queue can store a job and re-render it later (e.g. as a copy).

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::PrinterError;
use crate::money::Currency;

/// The seller block at the top of every receipt and report.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StoreHeader {
    /// Store name, printed large.
    pub name: String,
    /// Address lines.
    pub address: Vec<String>,
    /// Tax id (NPWP) of a VAT-registered seller.
    pub npwp: Option<String>,
    /// Phone or other contact line.
    pub phone: Option<String>,
}

/// How much of an article was sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quantity {
    /// A count of pieces ("2 x 12.500").
    Count(Decimal),
    /// A weighed or measured amount ("0,750 kg x 40.000").
    Measure {
        /// The amount, e.g. 0.750.
        value: Decimal,
        /// The unit, e.g. "kg".
        unit: String,
    },
}

/// A discount or surcharge with its label, e.g. "Diskon member" −Rp 2.500.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    /// Label printed on the left.
    pub label: String,
    /// Signed amount: discounts are negative.
    pub amount: Decimal,
}

/// One article line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    /// Article name; wrapped to the width.
    pub name: String,
    /// Quantity sold.
    pub quantity: Quantity,
    /// Price of one unit (or one unit of measure).
    pub unit_price: Decimal,
    /// Line amount before the line discounts.
    pub amount: Decimal,
    /// Line discounts, printed under the line.
    pub discounts: Vec<Adjustment>,
}

/// The tax block of a simplified tax invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxSummary {
    /// Label of the tax base, e.g. "DPP Nilai Lain".
    pub base_label: String,
    /// Tax base (DPP).
    pub base: Decimal,
    /// Label of the tax, e.g. "PPN 12%".
    pub tax_label: String,
    /// Tax amount (PPN).
    pub tax: Decimal,
    /// True if prices include the tax (the total does not add it again).
    pub included: bool,
}

/// One payment of a (possibly split) payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Method as shown, e.g. "Tunai", "QRIS", "Debit BCA".
    pub method: String,
    /// Amount tendered with this method.
    pub amount: Decimal,
    /// Reference of a non-cash payment (approval code, QRIS reference).
    pub reference: Option<String>,
}

/// A logo, kept as PNG bytes so the model stays serializable; it is scaled
/// and dithered for the printer at encode time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logo {
    png: Vec<u8>,
}

impl Logo {
    /// A logo from PNG bytes; fails if they do not decode.
    pub fn from_png(png: Vec<u8>) -> Result<Logo, PrinterError> {
        image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .map_err(|e| PrinterError::Logo(e.to_string()))?;
        Ok(Logo { png })
    }

    /// A logo from an image in memory.
    pub fn from_image(image: &image::DynamicImage) -> Result<Logo, PrinterError> {
        let mut png = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(|e| PrinterError::Logo(e.to_string()))?;
        Ok(Logo { png })
    }

    /// The PNG bytes.
    pub fn png(&self) -> &[u8] {
        &self.png
    }

    /// The decoded image.
    pub fn decode(&self) -> Result<image::DynamicImage, PrinterError> {
        image::load_from_memory_with_format(&self.png, image::ImageFormat::Png)
            .map_err(|e| PrinterError::Logo(e.to_string()))
    }
}

/// A sales receipt (or a refund receipt) ready to lay out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Currency the amounts are in.
    pub currency: Currency,
    /// Optional logo above the header.
    pub logo: Option<Logo>,
    /// Seller.
    pub store: StoreHeader,
    /// Title under the header, e.g. "STRUK PENJUALAN" (empty: none).
    pub title: String,
    /// Receipt number `<store>-<terminal>-<yyMMdd>-<seq>`.
    pub number: String,
    /// Local date and time of the sale.
    pub issued_at: NaiveDateTime,
    /// Cashier's display name.
    pub cashier: String,
    /// Terminal code, if shown.
    pub terminal: Option<String>,
    /// Article lines.
    pub lines: Vec<ReceiptLine>,
    /// Sum of the line amounts after line discounts.
    pub subtotal: Decimal,
    /// Cart discounts and promotions (negative amounts).
    pub cart_adjustments: Vec<Adjustment>,
    /// DPP and PPN, if the seller is VAT-registered.
    pub tax: Option<TaxSummary>,
    /// Cash rounding difference (e.g. -20 when 12.520 is rounded to 12.500).
    pub rounding: Option<Decimal>,
    /// Amount due.
    pub total: Decimal,
    /// Payments, in the order taken.
    pub payments: Vec<Payment>,
    /// Change given back, if any.
    pub change: Option<Decimal>,
    /// QRIS transaction reference, if paid with QRIS.
    pub qris_reference: Option<String>,
    /// Free text at the bottom.
    pub footer: Vec<String>,
    /// Payload of a QR code under the footer (e.g. a digital receipt link).
    pub qr_payload: Option<String>,
    /// A reprint: printed with a "COPY" banner.
    pub is_copy: bool,
}

/// Totals of one payment method in a Z report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentTotal {
    /// Method, e.g. "Tunai".
    pub method: String,
    /// Number of payments.
    pub count: u32,
    /// Sum of the payments.
    pub amount: Decimal,
}

/// Cash drawer reconciliation of a shift or day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashCount {
    /// Float at opening.
    pub opening_float: Decimal,
    /// Cash taken in sales, less change.
    pub cash_sales: Decimal,
    /// Cash paid in (positive) and out (negative) outside sales.
    pub cash_in_out: Decimal,
    /// What the drawer should hold.
    pub expected: Decimal,
    /// What was counted.
    pub counted: Decimal,
    /// `counted - expected`.
    pub difference: Decimal,
}

/// The end-of-day (Z) report of one terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZReport {
    /// Currency the amounts are in.
    pub currency: Currency,
    /// Seller.
    pub store: StoreHeader,
    /// Report number, e.g. "Z-T01-261125".
    pub number: String,
    /// Terminal code.
    pub terminal: String,
    /// Business day, e.g. 2026-11-25.
    pub business_date: chrono::NaiveDate,
    /// Shift or day opened.
    pub opened_at: NaiveDateTime,
    /// Shift or day closed.
    pub closed_at: NaiveDateTime,
    /// Who closed it.
    pub closed_by: String,
    /// Number of sales.
    pub sales_count: u32,
    /// Number of refunds.
    pub refund_count: u32,
    /// Number of voided sales.
    pub void_count: u32,
    /// Sales before discounts.
    pub gross_sales: Decimal,
    /// Discounts given (negative).
    pub discounts: Decimal,
    /// Refunds (negative).
    pub refunds: Decimal,
    /// Net sales.
    pub net_sales: Decimal,
    /// Tax base of the net sales.
    pub tax_base: Decimal,
    /// Tax in the net sales.
    pub tax: Decimal,
    /// Label of the tax, e.g. "PPN 12%".
    pub tax_label: String,
    /// Sum of cash rounding differences.
    pub rounding: Decimal,
    /// Per payment method.
    pub payments: Vec<PaymentTotal>,
    /// Cash drawer reconciliation.
    pub cash: CashCount,
    /// First and last receipt number of the day.
    pub receipt_range: Option<(String, String)>,
    /// Printed at.
    pub printed_at: NaiveDateTime,
    /// A reprint of the report.
    pub is_copy: bool,
}
