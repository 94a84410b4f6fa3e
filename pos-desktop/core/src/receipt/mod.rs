//! From the domain's sale, refund and Z report to the printer crate's models
//! ([`receipt_printer::Receipt`], [`receipt_printer::ZReport`]).
//!
//! No IO and no arithmetic of its own beyond sums of figures the sale already holds: the sale
//! model owns the money, this module only chooses what goes on paper and in which words
//! (Indonesian). The printed receipt is a simplified tax invoice: seller name, address and
//! NPWP, the goods, DPP and PPN (included or added), cash rounding, payments, change, the QRIS
//! reference and a QR code linking to the digital receipt. The Z report is in `z_report`.

use chrono::NaiveDateTime;
use receipt_printer::{
    Adjustment, Payment as PrintedPayment, Quantity as PrintedQuantity, Receipt, ReceiptLine,
    StoreHeader, TaxSummary,
};
use rust_decimal::Decimal;
use shared_model::cart::Discount;
use shared_model::catalog::Unit;
use shared_model::codec::Timestamp;
use shared_model::money::{Currency, Money};
use shared_model::payment::{PaymentMethod, Settlement};
use shared_model::pricing::PricedLine;
use shared_model::refund::Refund;
use shared_model::sale::Sale;
use shared_model::settings::StoreSettings;
use shared_model::tax::{PriceMode, TaxRule};

use crate::error::CoreResult;

mod z_report;

pub use z_report::{ZReportContext, z_report, z_report_number};

/// Title of a sales receipt.
pub const SALE_TITLE: &str = "STRUK PENJUALAN";
/// Title of a refund receipt.
pub const REFUND_TITLE: &str = "STRUK PENGEMBALIAN";

/// What a receipt needs besides the record itself.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptContext<'a> {
    /// The store's settings: name, address, NPWP, header and footer lines, time zone.
    pub settings: &'a StoreSettings,
    /// Display name of the cashier who rang the sale up.
    pub cashier: &'a str,
    /// Terminal code, printed under the cashier.
    pub terminal_code: &'a str,
    /// Base of the digital-receipt link in the QR code (e.g. `https://pos.example.id/r`, the
    /// server's public receipt page); the sale's receipt token is appended. `None`: no QR code.
    pub digital_receipt_base_url: Option<&'a str>,
    /// A reprint ("COPY / SALINAN" on paper).
    pub is_copy: bool,
}

/// The printer crate's currency for a store currency: IDR as `Rp 12.500`; others with their
/// ISO code as symbol, grouped the way `shared_model::money::Currency::format` does.
pub fn printer_currency(currency: &Currency) -> receipt_printer::Currency {
    if currency.code == "IDR" {
        return receipt_printer::Currency {
            minor_units: currency.minor_units,
            ..receipt_printer::Currency::idr()
        };
    }
    receipt_printer::Currency {
        code: currency.code.clone(),
        symbol: currency.code.clone(),
        minor_units: currency.minor_units,
        group_separator: ',',
        decimal_separator: '.',
    }
}

/// `base/token`, without a doubled slash.
pub fn digital_receipt_url(base: &str, token: &str) -> String {
    format!("{}/{token}", base.trim_end_matches('/'))
}

/// The base of the public receipt page of the server this till enrolled with
/// (`<server>/r`), or `None` on a till that never enrolled (a demo till).
pub fn enrolled_receipt_base(conn: &rusqlite::Connection) -> CoreResult<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row("SELECT server_url FROM enrolment WHERE id = 1", [], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .map(|server| format!("{}/r", server.trim_end_matches('/'))))
}

impl crate::terminal::Terminal {
    /// The link of `sale`'s public receipt page, as its receipt's QR code prints it; `None`
    /// on a demo till or for a sale without a receipt token.
    pub fn receipt_link(&self, sale: &Sale) -> CoreResult<Option<String>> {
        let base = enrolled_receipt_base(&self.conn)?;
        Ok(base
            .zip(sale.receipt_token.as_deref())
            .map(|(base, token)| digital_receipt_url(&base, token)))
    }
}

/// The seller block: name, address lines (the address field split at line breaks), the
/// store's extra header lines, NPWP.
pub fn store_header(settings: &StoreSettings) -> StoreHeader {
    let mut address: Vec<String> = settings
        .address
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    address.extend(
        settings
            .receipt_header
            .iter()
            .filter(|l| !l.trim().is_empty())
            .cloned(),
    );
    StoreHeader {
        name: settings.store_name.clone(),
        address,
        npwp: settings
            .npwp
            .as_ref()
            .filter(|n| !n.trim().is_empty())
            .cloned(),
        phone: None,
    }
}

/// A UTC instant as the store's local date and time (its business-day time zone).
pub fn local_time(settings: &StoreSettings, at: Timestamp) -> CoreResult<NaiveDateTime> {
    let tz = settings.business_day.validate()?;
    Ok(at.0.with_timezone(&tz).naive_local())
}

/// How a payment method is named on paper.
pub fn method_label(method: &PaymentMethod) -> String {
    method.to_string()
}

/// The label of a method key from a Z report (`cash`, `qris`, `ewallet:ovo`, …).
pub fn method_key_label(key: &str) -> String {
    match key.split_once(':') {
        None => match key {
            "cash" => "Tunai".into(),
            "qris" => "QRIS statis".into(),
            "qris_dynamic" => "QRIS dinamis".into(),
            "card" => "Kartu".into(),
            other => other.into(),
        },
        Some(("ewallet", provider)) => format!("E-wallet {}", provider.to_uppercase()),
        Some((_, name)) => name.into(),
    }
}

/// True if the settlement moved cash (the drawer must open).
pub fn moves_cash(settlement: &Settlement) -> bool {
    settlement.payments.iter().any(|p| p.method.is_cash())
}

/// "PPN 12%" and "DPP Nilai Lain" / "DPP" for the taxed lines' rules: the rule's own rate when
/// all taxed lines share one, else plain "PPN".
fn tax_labels<'a>(rules: impl Iterator<Item = &'a TaxRule>) -> Option<(String, String)> {
    let taxed: Vec<&TaxRule> = rules
        .filter(|r| !r.rate_percent.value().is_zero())
        .collect();
    let first = taxed.first()?;
    let same_rate = taxed
        .iter()
        .all(|r| r.rate_percent.value() == first.rate_percent.value());
    let same_base = taxed.iter().all(|r| {
        r.base_numerator * first.base_denominator == first.base_numerator * r.base_denominator
    });
    let tax_label = if same_rate {
        format!("PPN {}%", first.rate_percent.value().normalize())
    } else {
        "PPN".to_string()
    };
    let base_label = if same_base && first.base_numerator != first.base_denominator {
        "DPP Nilai Lain"
    } else {
        "DPP"
    };
    Some((base_label.to_string(), tax_label))
}

fn quantity(unit: Unit, q: Decimal) -> PrintedQuantity {
    match unit {
        Unit::Piece => PrintedQuantity::Count(q),
        other => PrintedQuantity::Measure {
            value: q,
            unit: other.symbol().to_string(),
        },
    }
}

fn article(line: &PricedLine) -> ReceiptLine {
    let mut discounts = Vec::new();
    if !line.line_discount.is_zero() {
        discounts.push(Adjustment {
            label: "Diskon".into(),
            amount: -line.line_discount.0,
        });
    }
    if !line.promotion_discount.is_zero() {
        discounts.push(Adjustment {
            label: "Promo".into(),
            amount: -line.promotion_discount.0,
        });
    }
    let mut name = line.item.name.clone();
    if let Some(note) = line
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        name = format!("{name} ({note})");
    }
    ReceiptLine {
        name,
        quantity: quantity(line.item.unit, line.quantity.0),
        unit_price: line.item.unit_price.0,
        amount: line.base.0,
        discounts,
    }
}

/// Payments as printed: cash shows what the customer handed over (the change follows), other
/// methods what was charged with their reference; QRIS references go to the QRIS line.
fn payments(settlement: &Settlement) -> (Vec<PrintedPayment>, Option<String>) {
    let mut qris = None;
    let printed = settlement
        .payments
        .iter()
        .map(|p| {
            let mut reference = p.reference.clone();
            if matches!(p.method, PaymentMethod::Qris { .. }) && qris.is_none() {
                qris = reference.take();
            }
            PrintedPayment {
                method: method_label(&p.method),
                amount: p.tendered.unwrap_or(p.amount).0,
                reference,
            }
        })
        .collect();
    (printed, qris)
}

fn footer(settings: &StoreSettings) -> Vec<String> {
    settings
        .receipt_footer
        .iter()
        .filter(|l| !l.trim().is_empty())
        .cloned()
        .collect()
}

/// The receipt of a paid sale.
///
/// * lines show quantity × unit price and the amount before discounts, with line discounts and
///   promotions under them;
/// * `subtotal` is the sum after line discounts and promotions, the cart discount follows as
///   an adjustment;
/// * DPP and PPN are the sale's sums (tax-inclusive prices say "termasuk");
/// * `rounding` is the cash rounding and `total` the amount due after it, so the printed
///   figures add up: subtotal − cart discount (+ PPN when added) + rounding = total.
pub fn sale_receipt(sale: &Sale, ctx: &ReceiptContext<'_>) -> CoreResult<Receipt> {
    let t = &sale.totals;
    let subtotal = t
        .subtotal
        .checked_sub(t.line_discounts)?
        .checked_sub(t.promotion_discounts)?;
    let mut cart_adjustments = Vec::new();
    if !t.cart_discount.is_zero() {
        let label = match sale.cart_discount {
            Some(Discount::Percent(p)) => format!("Diskon {}%", p.value().normalize()),
            _ => "Diskon".to_string(),
        };
        cart_adjustments.push(Adjustment {
            label,
            amount: -t.cart_discount.0,
        });
    }
    let tax = tax_labels(sale.lines.iter().map(|l| &l.item.tax)).map(|(base_label, tax_label)| {
        TaxSummary {
            base_label,
            base: t.tax.dpp.0,
            tax_label,
            tax: t.tax.tax.0,
            included: sale.price_mode == PriceMode::Inclusive,
        }
    });
    let (payments, qris_reference) = payments(&sale.settlement);
    let s = &sale.settlement;
    let mut footer_lines = Vec::new();
    if let Some(note) = sale
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        footer_lines.push(format!("Catatan: {note}"));
    }
    footer_lines.extend(footer(ctx.settings));
    Ok(Receipt {
        currency: printer_currency(&sale.currency()),
        logo: None,
        store: store_header(ctx.settings),
        title: SALE_TITLE.into(),
        number: sale.receipt_no.to_string(),
        issued_at: local_time(ctx.settings, sale.created_at)?,
        cashier: ctx.cashier.to_string(),
        terminal: Some(ctx.terminal_code.to_string()),
        lines: sale.lines.iter().map(article).collect(),
        subtotal: subtotal.0,
        cart_adjustments,
        tax,
        rounding: (!s.cash_rounding.is_zero()).then_some(s.cash_rounding.0),
        total: s.amount_due.0,
        payments,
        change: moves_cash(s).then_some(s.change.0),
        qris_reference,
        footer: footer_lines,
        // The link shows the sale by its unguessable token, never by its id; a sale of a till
        // that predates tokens has no link.
        qr_payload: ctx
            .digital_receipt_base_url
            .zip(sale.receipt_token.as_deref())
            .map(|(base, token)| digital_receipt_url(base, token)),
        is_copy: ctx.is_copy,
    })
}

/// The receipt of a refund. `sale` (the original, when this terminal holds it) gives each line
/// its unit and unit price and the tax base rule; without it lines print as counts at the
/// refunded amount per unit and DPP as the net amount. Amounts are what goes back to the
/// customer, as positive figures under the title "STRUK PENGEMBALIAN"; the original receipt
/// number and the reason are printed above the footer.
pub fn refund_receipt(
    refund: &Refund,
    sale: Option<&Sale>,
    ctx: &ReceiptContext<'_>,
) -> CoreResult<Receipt> {
    let currency = sale
        .map(Sale::currency)
        .unwrap_or_else(|| ctx.settings.currency());
    let mut lines = Vec::new();
    let mut dpp = Money::ZERO;
    let mut rules = Vec::new();
    for l in &refund.lines {
        let original = sale.and_then(|s| s.lines.iter().find(|x| x.line_id == l.sale_line_id));
        let (unit, unit_price) = match original {
            Some(o) => (o.item.unit, o.item.unit_price.0),
            None if l.quantity.0.is_zero() => (Unit::Piece, l.amount.0),
            None => (Unit::Piece, currency.round(l.amount.0 / l.quantity.0).0),
        };
        let net = l.amount.checked_sub(l.tax)?;
        let line_dpp = match original {
            Some(o) => {
                rules.push(&o.item.tax);
                currency.round(
                    net.0 * Decimal::from(o.item.tax.base_numerator)
                        / Decimal::from(o.item.tax.base_denominator.max(1)),
                )
            }
            None => net,
        };
        dpp = dpp.checked_add(line_dpp)?;
        lines.push(ReceiptLine {
            name: l.name.clone(),
            quantity: quantity(unit, l.quantity.0),
            unit_price,
            amount: l.amount.0,
            discounts: Vec::new(),
        });
    }
    let price_mode = sale
        .map(|s| s.price_mode)
        .unwrap_or(ctx.settings.price_mode);
    let tax = match tax_labels(rules.into_iter()) {
        Some((base_label, tax_label)) => Some(TaxSummary {
            base_label,
            base: dpp.0,
            tax_label,
            tax: refund.tax.0,
            included: price_mode == PriceMode::Inclusive,
        }),
        None if !refund.tax.is_zero() => Some(TaxSummary {
            base_label: "DPP".into(),
            base: dpp.0,
            tax_label: "PPN".into(),
            tax: refund.tax.0,
            included: price_mode == PriceMode::Inclusive,
        }),
        None => None,
    };
    let p = &refund.payout;
    let printed_payments = p
        .payments
        .iter()
        .map(|x| PrintedPayment {
            method: method_label(&x.method),
            amount: x.amount.0,
            reference: x.reference.clone(),
        })
        .collect();
    let mut footer_lines = vec![format!("Struk asal: {}", refund.sale_receipt_no)];
    if !refund.reason.trim().is_empty() {
        footer_lines.push(format!("Alasan: {}", refund.reason.trim()));
    }
    footer_lines.extend(footer(ctx.settings));
    Ok(Receipt {
        currency: printer_currency(&currency),
        logo: None,
        store: store_header(ctx.settings),
        title: REFUND_TITLE.into(),
        number: refund.receipt_no.to_string(),
        issued_at: local_time(ctx.settings, refund.created_at)?,
        cashier: ctx.cashier.to_string(),
        terminal: Some(ctx.terminal_code.to_string()),
        lines,
        subtotal: refund.total.0,
        cart_adjustments: Vec::new(),
        tax,
        rounding: (!p.cash_rounding.is_zero()).then_some(p.cash_rounding.0),
        total: p.amount_due.0,
        payments: printed_payments,
        change: (!p.change.is_zero()).then_some(p.change.0),
        qris_reference: None,
        footer: footer_lines,
        // The public receipt page shows sales only: a refund slip has no link.
        qr_payload: None,
        is_copy: ctx.is_copy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use receipt_printer::{LayoutOptions, PrinterProfile, encode_receipt, printout::Printout};
    use rust_decimal_macros::dec;
    use shared_model::cart::{Cart, ProductSnapshot};
    use shared_model::catalog::Product;
    use shared_model::codec::BusinessDate;
    use shared_model::ids::{SaleId, UserId};
    use shared_model::money::{Percent, Quantity};
    use shared_model::payment::{QrisMode, Tender};
    use shared_model::pricing::{PricingPolicy, price_cart};
    use shared_model::receipt_number::ReceiptNumber;
    use shared_model::sale::SaleContext;
    use shared_model::zreport::ZReport;

    fn settings() -> StoreSettings {
        let mut s = StoreSettings::indonesia("Toko Maju", "Jl. Merdeka 1\nBandung 40111");
        s.npwp = Some("01.234.567.8-901.000".into());
        s.receipt_header = vec!["Buka 07.00-22.00".into()];
        s.receipt_footer = vec!["Terima kasih".into()];
        s
    }

    fn snapshot(name: &str, price: i64, unit: Unit, tax: TaxRule) -> ProductSnapshot {
        let mut p = Product::new("SKU", name, Money::from_i64(price), &tax.class);
        p.unit = unit;
        ProductSnapshot::of(&p, None, tax).unwrap()
    }

    /// 2 × Kopi 12.900 (line discount 900), 0,750 kg beras at 15.000/kg, a luxury item at
    /// 50.000, cart discount 10%; tax-inclusive PPN.
    fn sale(tenders: &[Tender]) -> Sale {
        let mut cart = Cart::new();
        let kopi = cart
            .add(
                snapshot("Kopi Spécial", 12_900, Unit::Piece, TaxRule::ppn_standard()),
                Quantity(dec!(2)),
            )
            .unwrap();
        cart.set_line_discount(
            kopi,
            Some(Discount::Amount(Money::from_i64(900))),
            &Currency::idr(),
        )
        .unwrap();
        cart.add(
            snapshot("Beras", 15_000, Unit::Kilogram, TaxRule::ppn_standard()),
            Quantity(dec!(0.750)),
        )
        .unwrap();
        cart.set_cart_discount(
            Some(Discount::Percent(Percent::new(dec!(10)).unwrap())),
            &Currency::idr(),
        )
        .unwrap();
        let policy = PricingPolicy {
            currency: Currency::idr(),
            price_mode: PriceMode::Inclusive,
            promotions: vec![],
        };
        let priced = price_cart(&cart, &policy).unwrap();
        let date = BusinessDate(chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
        let ctx = SaleContext {
            id: SaleId::new(),
            receipt_no: ReceiptNumber::new("TKO1", "T1", date, 42).unwrap(),
            created_at: "2026-11-25T02:14:00.000Z".parse().unwrap(),
            cashier_id: UserId::new(),
            shift_id: None,
            currency: Currency::idr(),
            price_mode: PriceMode::Inclusive,
            cash_unit: Some(Money::from_i64(100)),
        };
        Sale::checkout(priced, tenders, ctx, None).unwrap()
    }

    fn ctx(settings: &StoreSettings, is_copy: bool) -> ReceiptContext<'_> {
        ReceiptContext {
            settings,
            cashier: "Sari",
            terminal_code: "T1",
            digital_receipt_base_url: Some("https://struk.example.id/r/"),
            is_copy,
        }
    }

    #[test]
    fn a_cash_sale_with_discounts_ppn_and_rounding() {
        // Kopi: 2 × 12.900 = 25.800 − 900 = 24.900; beras: 0,750 × 15.000 = 11.250.
        // Subtotal after line discounts 36.150; cart discount 10% = 3.615 → 32.535 due.
        // PPN per line (inclusive, 12% × 11/12): kopi 24.900 − 2.490 share = 22.410 →
        // tax round(22.410 × 132/1332) = 2.221; beras 11.250 − 1.125 = 10.125 → 1.003.
        // DPP: round((22.410 − 2.221) × 11/12) = round(18.506,58) = 18.507 and
        // round((10.125 − 1.003) × 11/12) = round(8.361,83) = 8.362, together 26.869. Cash rounds 32.535 to 32.500 (−35); 50.000 handed over, 17.500 back.
        let settings = settings();
        let s = sale(&[Tender::cash(Money::from_i64(50_000))]);
        let r = sale_receipt(&s, &ctx(&settings, false)).unwrap();
        assert_eq!(r.title, "STRUK PENJUALAN");
        assert_eq!(r.number, "TKO1-T1-261125-0042");
        // 02:14 UTC is 09:14 in Jakarta.
        assert_eq!(r.issued_at.format("%H:%M").to_string(), "09:14");
        assert_eq!(
            r.store.address,
            ["Jl. Merdeka 1", "Bandung 40111", "Buka 07.00-22.00"]
        );
        assert_eq!(r.store.npwp.as_deref(), Some("01.234.567.8-901.000"));
        assert_eq!(r.lines.len(), 2);
        assert_eq!(r.lines[0].amount, dec!(25800));
        assert_eq!(r.lines[0].discounts[0].label, "Diskon");
        assert_eq!(r.lines[0].discounts[0].amount, dec!(-900));
        assert_eq!(
            r.lines[1].quantity,
            PrintedQuantity::Measure {
                value: dec!(0.750),
                unit: "kg".into()
            }
        );
        assert_eq!(r.lines[1].amount, dec!(11250));
        assert_eq!(r.subtotal, dec!(36150));
        assert_eq!(r.cart_adjustments[0].label, "Diskon 10%");
        assert_eq!(r.cart_adjustments[0].amount, dec!(-3615));
        let tax = r.tax.as_ref().unwrap();
        assert_eq!(tax.base_label, "DPP Nilai Lain");
        assert_eq!(tax.tax_label, "PPN 12%");
        assert_eq!(tax.tax, dec!(3224));
        assert_eq!(tax.base, dec!(26869));
        assert!(tax.included);
        assert_eq!(r.rounding, Some(dec!(-35)));
        assert_eq!(r.total, dec!(32500));
        assert_eq!(r.payments.len(), 1);
        assert_eq!(r.payments[0].method, "Tunai");
        assert_eq!(r.payments[0].amount, dec!(50000));
        assert_eq!(r.change, Some(dec!(17500)));
        assert_eq!(r.qris_reference, None);
        assert!(moves_cash(&s.settlement));
        let token = s
            .receipt_token
            .clone()
            .expect("a new sale has a receipt token");
        let url = format!("https://struk.example.id/r/{token}");
        assert_eq!(r.qr_payload.as_deref(), Some(url.as_str()));
        assert!(
            !url.contains(&s.id.to_string()),
            "the link never names the sale id"
        );
        // The printed figures add up: subtotal − cart discount + rounding = total.
        assert_eq!(
            r.subtotal + r.cart_adjustments[0].amount + r.rounding.unwrap(),
            r.total
        );

        // And it lays out: the 58 mm printout shows number, total, change and the QR link.
        let profile = PrinterProfile::by_name("generic-58").unwrap();
        let bytes = encode_receipt(&r, &profile, &LayoutOptions::default()).unwrap();
        let text = Printout::from_bytes(&bytes, &profile).unwrap().text();
        assert!(text.contains("TKO1-T1-261125-0042"), "{text}");
        assert!(text.contains("Rp 32.500"), "{text}");
        assert!(text.contains("Rp 17.500"), "{text}");
        assert!(text.contains("Kopi Sp"), "{text}");
    }

    #[test]
    fn qris_and_cash_split_keeps_the_reference_on_its_own_line() {
        let settings = settings();
        let s = sale(&[
            Tender::with(
                PaymentMethod::Qris {
                    mode: QrisMode::Dynamic,
                },
                Money::from_i64(20_000),
                Some("QR-7F3K"),
            ),
            Tender::cash(Money::from_i64(13_000)),
        ]);
        let r = sale_receipt(&s, &ctx(&settings, true)).unwrap();
        // 32.535 − 20.000 QRIS = 12.535 cash → 12.500 (−35); 13.000 handed over, 500 back.
        assert_eq!(r.payments[0].method, "QRIS");
        assert_eq!(r.payments[0].amount, dec!(20000));
        assert_eq!(r.payments[0].reference, None);
        assert_eq!(r.qris_reference.as_deref(), Some("QR-7F3K"));
        assert_eq!(r.payments[1].amount, dec!(13000));
        assert_eq!(r.rounding, Some(dec!(-35)));
        assert_eq!(r.total, dec!(32500));
        assert_eq!(r.change, Some(dec!(500)));
        assert!(r.is_copy);
    }

    #[test]
    fn a_non_cash_sale_has_no_change_and_no_rounding() {
        let settings = settings();
        let s = sale(&[Tender::with(
            PaymentMethod::Card,
            Money::from_i64(32_535),
            Some("APPR 123456"),
        )]);
        let r = sale_receipt(&s, &ctx(&settings, false)).unwrap();
        assert_eq!(r.rounding, None);
        assert_eq!(r.change, None);
        assert_eq!(r.total, dec!(32535));
        assert_eq!(r.payments[0].method, "Kartu");
        assert_eq!(r.payments[0].reference.as_deref(), Some("APPR 123456"));
        assert!(!moves_cash(&s.settlement));
    }

    #[test]
    fn a_refund_prints_what_goes_back_with_the_original_number() {
        let settings = settings();
        let s = sale(&[Tender::cash(Money::from_i64(50_000))]);
        let kopi = s.lines[0].line_id;
        let date = s.business_date;
        let refund = shared_model::refund::build_refund(
            &s,
            &[],
            &[(kopi, Quantity(dec!(1)))],
            &[Tender::cash(Money::from_i64(11_200))],
            shared_model::refund::RefundContext {
                id: shared_model::ids::RefundId::new(),
                receipt_no: ReceiptNumber::new("TKO1", "T1", date, 43).unwrap(),
                created_at: "2026-11-25T03:00:00.000Z".parse().unwrap(),
                cashier_id: UserId::new(),
                authorized_by: None,
                shift_id: None,
                cash_unit: Some(Money::from_i64(100)),
                reason: "rusak".into(),
            },
        )
        .unwrap();
        let r = refund_receipt(&refund, Some(&s), &ctx(&settings, false)).unwrap();
        assert_eq!(r.title, "STRUK PENGEMBALIAN");
        assert_eq!(r.number, "TKO1-T1-261125-0043");
        assert_eq!(r.footer[0], "Struk asal: TKO1-T1-261125-0042");
        assert_eq!(r.footer[1], "Alasan: rusak");
        // Half of the kopi line: 22.410 / 2 = 11.205 with 1.111 of its 2.221 PPN (rounded).
        assert_eq!(r.lines[0].amount, refund.total.0);
        assert_eq!(refund.total.0, dec!(11205));
        assert_eq!(r.tax.as_ref().unwrap().tax, refund.tax.0);
        assert_eq!(r.lines[0].unit_price, dec!(12900));
        // Cash out rounds 11.205 to 11.200.
        assert_eq!(r.total, dec!(11200));
        assert_eq!(r.rounding, Some(dec!(-5)));
        assert!(moves_cash(&refund.payout));
    }

    #[test]
    fn z_report_nets_refunds_and_labels_methods() {
        let settings = settings();
        let mut z = ZReport {
            sales_count: 3,
            refunds_count: 1,
            gross_sales: Money::from_i64(120_000),
            discounts: Money::from_i64(5_000),
            sales_total: Money::from_i64(115_000),
            tax: Money::from_i64(11_396),
            dpp: Money::from_i64(94_967),
            refunds_total: Money::from_i64(11_100),
            refunds_tax: Money::from_i64(1_100),
            cash_rounding: Money::from_i64(-100),
            opening_float: Money::from_i64(200_000),
            expected_cash: Money::from_i64(270_000),
            counted_cash: Some(Money::from_i64(269_000)),
            difference: Some(Money::from_i64(-1_000)),
            ..ZReport::default()
        };
        z.by_method.insert(
            "cash".into(),
            shared_model::zreport::MethodTotals {
                sales: Money::from_i64(81_100),
                refunds: Money::from_i64(11_100),
                net: Money::from_i64(70_000),
                count: 2,
            },
        );
        z.by_method.insert(
            "ewallet:ovo".into(),
            shared_model::zreport::MethodTotals {
                sales: Money::from_i64(33_800),
                refunds: Money::ZERO,
                net: Money::from_i64(33_800),
                count: 1,
            },
        );
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let ctx = ZReportContext {
            settings: &settings,
            number: z_report_number("T1", date, Some(1)),
            terminal_code: "T1",
            business_date: date,
            opened_at: "2026-11-25T00:00:00.000Z".parse().unwrap(),
            closed_at: "2026-11-25T10:00:00.000Z".parse().unwrap(),
            closed_by: "Sari",
            receipt_range: Some(("TKO1-T1-261125-0001".into(), "TKO1-T1-261125-0004".into())),
            printed_at: "2026-11-25T10:01:00.000Z".parse().unwrap(),
            is_copy: false,
        };
        let p = z_report(&z, &ctx).unwrap();
        assert_eq!(p.number, "Z-T1-261125-1");
        assert_eq!(p.net_sales, dec!(103900));
        assert_eq!(p.discounts, dec!(-5000));
        assert_eq!(p.refunds, dec!(-11100));
        assert_eq!(p.tax, dec!(10296));
        // Refund DPP in proportion to its tax: 94.967 × 1.100 / 11.396 = 9.166,7 → 9.167.
        assert_eq!(p.tax_base, dec!(85800));
        assert_eq!(p.payments[0].method, "Tunai");
        assert_eq!(p.payments[1].method, "E-wallet OVO");
        assert_eq!(p.cash.cash_sales, dec!(70000));
        assert_eq!(p.cash.difference, dec!(-1000));
        assert_eq!(p.opened_at.format("%H:%M").to_string(), "07:00");
        let profile = PrinterProfile::by_name("generic-80").unwrap();
        let bytes =
            receipt_printer::encode_z_report(&p, &profile, &LayoutOptions::default()).unwrap();
        let text = Printout::from_bytes(&bytes, &profile).unwrap().text();
        assert!(text.contains("Rp 103.900"), "{text}");
    }

    #[test]
    fn currencies_and_links() {
        let usd = printer_currency(&Currency::usd());
        assert_eq!(usd.money(dec!(1234.5)), "USD 1,234.50");
        assert_eq!(
            printer_currency(&Currency::idr()).money(dec!(12500)),
            "Rp 12.500"
        );
        assert_eq!(
            digital_receipt_url("https://x.id/r/", "abc"),
            "https://x.id/r/abc"
        );
        assert_eq!(method_key_label("other:voucher"), "voucher");
    }
}
