//! The sales receipt layout.

use chrono::NaiveDateTime;

use crate::document::{Block, Document, TextStyle};
use crate::error::PrinterError;
use crate::layout::builder::Builder;
use crate::layout::{LayoutOptions, header};
use crate::model::{Quantity, Receipt, ReceiptLine};
use crate::money::Currency;
use crate::profile::PrinterProfile;

/// Lays `receipt` out for `profile`.
pub fn receipt_document(
    receipt: &Receipt,
    profile: &PrinterProfile,
    options: &LayoutOptions,
) -> Result<Document, PrinterError> {
    let labels = &options.labels;
    let cur = &receipt.currency;
    let mut b = Builder::new(profile);
    if options.open_drawer {
        b.block(Block::DrawerKick);
    }
    header::store_header(&mut b, receipt.logo.as_ref(), &receipt.store, labels)?;
    if receipt.is_copy {
        b.centered(labels.copy_banner, TextStyle::BOLD);
    }
    if !receipt.title.is_empty() {
        b.centered(&receipt.title, TextStyle::BOLD);
    }
    b.rule();
    b.left_right(labels.number, &receipt.number, TextStyle::default());
    b.left_right(
        labels.date,
        &date_time(receipt.issued_at),
        TextStyle::default(),
    );
    b.left_right(labels.cashier, &receipt.cashier, TextStyle::default());
    if let Some(terminal) = &receipt.terminal {
        b.left_right(labels.terminal, terminal, TextStyle::default());
    }
    b.rule();
    for line in &receipt.lines {
        article(&mut b, line, cur);
    }
    b.rule();
    let plain = TextStyle::default();
    b.left_right(labels.subtotal, &cur.money(receipt.subtotal), plain);
    for adj in &receipt.cart_adjustments {
        b.left_right(&adj.label, &cur.money(adj.amount), plain);
    }
    if let Some(tax) = &receipt.tax {
        b.left_right(&tax.base_label, &cur.money(tax.base), plain);
        let label = if tax.included {
            format!("{} ({})", tax.tax_label, labels.tax_included)
        } else {
            tax.tax_label.clone()
        };
        b.left_right(&label, &cur.money(tax.tax), plain);
    }
    if let Some(rounding) = receipt.rounding {
        b.left_right(labels.rounding, &cur.money(rounding), plain);
    }
    b.left_right(labels.total, &cur.money(receipt.total), TextStyle::TALL);
    for payment in &receipt.payments {
        b.left_right(&payment.method, &cur.money(payment.amount), plain);
        if let Some(reference) = &payment.reference {
            b.left_right_indented(2, labels.reference, reference, plain);
        }
    }
    if let Some(change) = receipt.change {
        b.left_right(labels.change, &cur.money(change), TextStyle::BOLD);
    }
    if let Some(reference) = &receipt.qris_reference {
        b.left_right(labels.qris_reference, reference, plain);
    }
    if !receipt.footer.is_empty() {
        b.rule();
        for line in &receipt.footer {
            b.centered(line, plain);
        }
    }
    if let Some(payload) = &receipt.qr_payload {
        let module_size =
            crate::qr::module_size_for(payload, profile.qr_module_size, profile.width_dots)?;
        b.block(Block::Qr {
            payload: payload.clone(),
            module_size,
        });
    }
    if receipt.is_copy {
        b.centered(labels.copy_banner, TextStyle::BOLD);
    }
    if options.cut {
        b.block(Block::Cut);
    }
    Ok(b.finish())
}

fn article(b: &mut Builder<'_>, line: &ReceiptLine, cur: &Currency) {
    let plain = TextStyle::default();
    b.text(&line.name, plain);
    let quantity = match &line.quantity {
        Quantity::Count(n) => decimal_with(cur, *n),
        Quantity::Measure { value, unit } => format!("{} {unit}", decimal_with(cur, *value)),
    };
    let detail = format!("{quantity} x {}", cur.amount(line.unit_price));
    b.left_right_indented(2, &detail, &cur.amount(line.amount), plain);
    for discount in &line.discounts {
        b.left_right_indented(2, &discount.label, &cur.amount(discount.amount), plain);
    }
}

/// A quantity as written with the currency's decimal separator, keeping the
/// scale it was given with ("0,750") but dropping a zero fraction ("2").
fn decimal_with(cur: &Currency, value: rust_decimal::Decimal) -> String {
    let text = if value.fract().is_zero() {
        value.trunc().to_string()
    } else {
        value.to_string()
    };
    text.replace('.', &cur.decimal_separator.to_string())
}

/// "25-11-2026 09:14".
pub(crate) fn date_time(at: NaiveDateTime) -> String {
    at.format("%d-%m-%Y %H:%M").to_string()
}
