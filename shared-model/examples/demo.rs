//! The command-line demo behind `scripts/run` until the server and the cashier app exist:
//! prices a sample Indonesian cart (PPN, a promotion, cash rounding, a split payment) and
//! prints the receipt totals and the day's Z report.
#![allow(clippy::print_stdout)]

use rust_decimal::Decimal;
use shared_model::cart::{Cart, Discount, ProductSnapshot};
use shared_model::catalog::{Product, Unit};
use shared_model::codec::Timestamp;
use shared_model::ids::{CategoryId, PromotionId, SaleId, UserId};
use shared_model::money::{Money, Percent, Quantity};
use shared_model::payment::{PaymentMethod, QrisMode, Tender};
use shared_model::pricing::{PricingPolicy, price_cart};
use shared_model::promotion::{Promotion, PromotionRule};
use shared_model::receipt_number::ReceiptNumber;
use shared_model::sale::{Sale, SaleContext};
use shared_model::settings::StoreSettings;
use shared_model::shift::{CashDirection, CashMovement, Shift};
use shared_model::zreport::{ZReport, ZReportInput};
use shared_model::{ModelError, ModelResult};

fn main() -> ModelResult<()> {
    let settings = StoreSettings::indonesia("Toko Maju Jaya", "Jl. Sudirman No. 1, Jakarta");
    let currency = settings.currency();
    let fmt = |m: Money| currency.format(m);
    let snacks = CategoryId::new();
    let product = |sku: &str,
                   name: &str,
                   price: i64,
                   class: &str,
                   unit: Unit,
                   cat: Option<CategoryId>|
     -> ModelResult<ProductSnapshot> {
        let mut p = Product::new(sku, name, Money::from_i64(price), class);
        p.unit = unit;
        p.category_id = cat;
        p.validate(&currency)?;
        ProductSnapshot::of(&p, None, settings.tax_rule(class)?.clone())
    };
    let indomie = product(
        "IDM-GRG",
        "Indomie Goreng",
        3_500,
        "standard",
        Unit::Piece,
        None,
    )?;
    let chitato = product(
        "CHT-68",
        "Chitato Sapi Panggang 68g",
        11_900,
        "standard",
        Unit::Piece,
        Some(snacks),
    )?;
    let apel = product(
        "APL-FJI",
        "Apel Fuji (per kg)",
        42_000,
        "exempt",
        Unit::Kilogram,
        None,
    )?;
    let parfum = product(
        "PRF-01",
        "Parfum Eau de Toilette",
        350_000,
        "luxury",
        Unit::Piece,
        None,
    )?;

    let promotions = vec![
        Promotion {
            id: PromotionId::new(),
            name: "Indomie beli 2 gratis 1".into(),
            rule: PromotionRule::BuyXGetY {
                product_id: indomie.product_id,
                buy: 2,
                get: 1,
            },
            active: true,
        },
        Promotion {
            id: PromotionId::new(),
            name: "Snack hemat 10%".into(),
            rule: PromotionRule::PercentOffCategory {
                category_id: snacks,
                percent: Percent::new(Decimal::TEN)?,
            },
            active: true,
        },
    ];
    let mut cart = Cart::new();
    cart.add(indomie, Quantity::from_i64(6))?;
    cart.add(chitato, Quantity::from_i64(2))?;
    cart.add(
        apel,
        Quantity("1.255".parse().map_err(|_| ModelError::Overflow)?),
    )?;
    cart.add(parfum, Quantity::ONE)?;
    cart.set_cart_discount(Some(Discount::Amount(Money::from_i64(5_000))), &currency)?;
    let policy = PricingPolicy {
        currency: currency.clone(),
        price_mode: settings.price_mode,
        promotions,
    };
    let priced = price_cart(&cart, &policy)?;

    let cashier = UserId::new();
    let now = Timestamp::now();
    let day = settings.business_day.business_date(now)?;
    let shift = Shift::open("T1", cashier, day, now, Money::from_i64(200_000))?;
    let ctx = SaleContext {
        id: SaleId::new(),
        receipt_no: ReceiptNumber::new("JKT1", "T1", day, 1)?,
        created_at: now,
        cashier_id: cashier,
        shift_id: Some(shift.id),
        currency: currency.clone(),
        price_mode: settings.price_mode,
        cash_unit: settings.cash_unit(),
    };
    let tenders = [
        Tender::with(
            PaymentMethod::Qris {
                mode: QrisMode::Dynamic,
            },
            Money::from_i64(200_000),
            Some("QRIS-7781-2231"),
        ),
        Tender::cash(Money::from_i64(250_000)),
    ];
    let sale = Sale::checkout(priced, &tenders, ctx, None)?;

    println!(
        "{}\n{}\nStruk {} (harga termasuk PPN)\n",
        settings.store_name, settings.address, sale.receipt_no
    );
    for l in &sale.lines {
        println!(
            "{:<34} {:>8} {} x {:>10}",
            l.item.name,
            l.quantity,
            l.item.unit.symbol(),
            fmt(l.item.unit_price)
        );
        if !l.discount_total()?.is_zero() {
            println!(
                "    diskon {:>44}",
                format!("-{}", fmt(l.discount_total()?))
            );
        }
        println!(
            "    {:<20} DPP {:>10} PPN {:>10} = {:>10}",
            l.item.tax.name,
            fmt(l.tax.dpp),
            fmt(l.tax.tax),
            fmt(l.tax.gross)
        );
    }
    let t = &sale.totals;
    println!("\nSubtotal        {:>14}", fmt(t.subtotal));
    println!("Diskon baris    {:>14}", fmt(-t.line_discounts));
    println!("Promosi         {:>14}", fmt(-t.promotion_discounts));
    println!("Diskon struk    {:>14}", fmt(-t.cart_discount));
    println!("DPP             {:>14}", fmt(t.tax.dpp));
    println!("PPN             {:>14}", fmt(t.tax.tax));
    println!("Total           {:>14}", fmt(sale.total()));
    println!("Pembulatan      {:>14}", fmt(sale.settlement.cash_rounding));
    println!("Harus dibayar   {:>14}", fmt(sale.settlement.amount_due));
    for p in &sale.settlement.payments {
        let tendered = p
            .tendered
            .map(|t| format!(" (diterima {})", fmt(t)))
            .unwrap_or_default();
        let reference = p
            .reference
            .as_deref()
            .map(|r| format!(" ref {r}"))
            .unwrap_or_default();
        println!(
            "  {:<13} {:>14}{tendered}{reference}",
            p.method.to_string(),
            fmt(p.amount)
        );
    }
    println!("Kembalian       {:>14}", fmt(sale.settlement.change));

    let moves = [CashMovement::new(
        shift.id,
        CashDirection::Out,
        Money::from_i64(20_000),
        "beli galon",
        cashier,
        Timestamp::now(),
    )?];
    let z = ZReport::compute(ZReportInput {
        sales: std::slice::from_ref(&sale),
        voided: &[],
        refunds: &[],
        cash_movements: &moves,
        opening_float: shift.opening_float,
        counted_cash: Some(Money::from_i64(413_000)),
    })?;
    println!("\n=== Laporan Z {} (shift {}) ===", day, shift.id);
    println!("Transaksi       {:>14}", z.sales_count);
    println!("Penjualan       {:>14}", fmt(z.sales_total));
    println!("PPN             {:>14}", fmt(z.tax));
    println!("Pembulatan      {:>14}", fmt(z.cash_rounding));
    for (method, m) in &z.by_method {
        println!(
            "  {:<13} {:>14}  ({} pembayaran)",
            method,
            fmt(m.net),
            m.count
        );
    }
    println!("Modal awal      {:>14}", fmt(z.opening_float));
    println!("Kas keluar      {:>14}", fmt(-z.cash_out));
    println!("Kas seharusnya  {:>14}", fmt(z.expected_cash));
    if let (Some(c), Some(d)) = (z.counted_cash, z.difference) {
        println!("Kas dihitung    {:>14}", fmt(c));
        println!("Selisih         {:>14}", fmt(d));
    }
    Ok(())
}
