//! Worked examples a store owner or an accountant would check by hand.

mod common;

use common::*;
use shared_model::ModelError;
use shared_model::barcode::{
    Barcode, BarcodeKind, WeighedBarcodeRule, WeighedValue, decode_weighed, gtin_check_digit,
};
use shared_model::business_day::BusinessDayConfig;
use shared_model::cart::{Cart, Discount};
use shared_model::codec::Timestamp;
use shared_model::ids::{CategoryId, PromotionId, RefundId, UserId};
use shared_model::money::{Currency, Money, Percent, Quantity};
use shared_model::payment::{PaymentMethod, QrisMode, Tender, settle};
use shared_model::pricing::price_cart;
use shared_model::promotion::{Promotion, PromotionRule};
use shared_model::receipt_number::ReceiptNumber;
use shared_model::refund::{RefundContext, build_refund, over_refunds};
use shared_model::sale::Sale;
use shared_model::shift::{CashDirection, CashMovement, Shift};
use shared_model::tax::{PriceMode, TaxRule};
use shared_model::zreport::{ZReport, ZReportInput};

#[test]
fn ppn_standard_exclusive_worked_example() {
    let split = TaxRule::ppn_standard()
        .split(rp(100_000), PriceMode::Exclusive, &Currency::idr())
        .unwrap();
    assert_eq!(split.net, rp(100_000));
    assert_eq!(split.dpp, rp(91_667));
    assert_eq!(split.tax, rp(11_000));
    assert_eq!(split.gross, rp(111_000));
}

#[test]
fn ppn_standard_inclusive_gives_the_same_split() {
    let split = TaxRule::ppn_standard()
        .split(rp(111_000), PriceMode::Inclusive, &Currency::idr())
        .unwrap();
    assert_eq!(
        (split.net, split.dpp, split.tax, split.gross),
        (rp(100_000), rp(91_667), rp(11_000), rp(111_000))
    );
}

#[test]
fn ppn_luxury_is_twelve_percent_of_the_full_price() {
    let idr = Currency::idr();
    let excl = TaxRule::ppn_luxury()
        .split(rp(100_000), PriceMode::Exclusive, &idr)
        .unwrap();
    assert_eq!(
        (excl.dpp, excl.tax, excl.gross),
        (rp(100_000), rp(12_000), rp(112_000))
    );
    let incl = TaxRule::ppn_luxury()
        .split(rp(112_000), PriceMode::Inclusive, &idr)
        .unwrap();
    assert_eq!((incl.net, incl.tax), (rp(100_000), rp(12_000)));
    assert_eq!(TaxRule::ppn_standard().effective_rate(), dec("0.11"));
}

#[test]
fn a_cart_priced_exclusive_and_inclusive_gives_the_same_receipt() {
    let mut excl = Cart::new();
    excl.add(
        item("Beras 5kg", 100_000, TaxRule::ppn_standard(), None),
        Quantity::ONE,
    )
    .unwrap();
    let mut incl = Cart::new();
    incl.add(
        item("Beras 5kg", 111_000, TaxRule::ppn_standard(), None),
        Quantity::ONE,
    )
    .unwrap();
    let a = price_cart(&excl, &policy(PriceMode::Exclusive)).unwrap();
    let b = price_cart(&incl, &policy(PriceMode::Inclusive)).unwrap();
    assert_eq!(a.totals.tax, b.totals.tax);
    assert_eq!(a.total(), rp(111_000));
}

#[test]
fn cash_rounding_to_rp100_half_up_with_the_difference_shown() {
    let idr = Currency::idr();
    let up = settle(
        rp(111_050),
        &[Tender::cash(rp(120_000))],
        Some(rp(100)),
        &idr,
    )
    .unwrap();
    assert_eq!(
        (up.amount_due, up.cash_rounding, up.change),
        (rp(111_100), rp(50), rp(8_900))
    );
    let down = settle(
        rp(111_049),
        &[Tender::cash(rp(111_000))],
        Some(rp(100)),
        &idr,
    )
    .unwrap();
    assert_eq!(
        (down.amount_due, down.cash_rounding, down.change),
        (rp(111_000), rp(-49), rp(0))
    );
    // No rounding when nothing is paid in cash.
    let card = settle(
        rp(111_049),
        &[Tender::with(
            PaymentMethod::Card,
            rp(111_049),
            Some("EDC-1"),
        )],
        Some(rp(100)),
        &idr,
    )
    .unwrap();
    assert_eq!(card.cash_rounding, Money::ZERO);
}

#[test]
fn split_payment_card_then_cash_with_change() {
    let idr = Currency::idr();
    let tenders = [
        Tender::with(PaymentMethod::Card, rp(50_000), Some("EDC-778899")),
        Tender::with(
            PaymentMethod::Qris {
                mode: QrisMode::Dynamic,
            },
            rp(20_000),
            Some("QR-123"),
        ),
        Tender::cash(rp(50_000)),
    ];
    let s = settle(rp(111_030), &tenders, Some(rp(100)), &idr).unwrap();
    assert_eq!(s.payments.len(), 3);
    assert_eq!(s.payments[2].amount, rp(41_000));
    assert_eq!((s.cash_rounding, s.change), (rp(-30), rp(9_000)));
}

#[test]
fn payments_short_of_the_total_are_refused() {
    let idr = Currency::idr();
    let err = settle(
        rp(111_000),
        &[Tender::cash(rp(100_000))],
        Some(rp(100)),
        &idr,
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::PaymentsShort { .. }), "{err}");
    let err = settle(
        rp(111_000),
        &[Tender::with(
            PaymentMethod::EWallet {
                provider: "OVO".into(),
            },
            rp(100_000),
            None,
        )],
        None,
        &idr,
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::PaymentsShort { .. }), "{err}");
    let err = settle(
        rp(10_000),
        &[Tender::with(PaymentMethod::Card, rp(20_000), Some("x"))],
        None,
        &idr,
    )
    .unwrap_err();
    assert!(
        matches!(err, ModelError::NonCashOverpayment { .. }),
        "{err}"
    );
    let err = settle(
        rp(10_000),
        &[Tender::with(PaymentMethod::Card, rp(10_000), None)],
        None,
        &idr,
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::MissingReference(_)), "{err}");
    let err = settle(rp(10_000), &[Tender::cash(rp(-5))], None, &idr).unwrap_err();
    assert!(matches!(err, ModelError::Invalid { .. }), "{err}");
}

#[test]
fn buy_two_get_one_free() {
    let indomie = item("Indomie Goreng", 3_500, TaxRule::ppn_standard(), None);
    let promo = Promotion {
        id: PromotionId::new(),
        name: "Beli 2 gratis 1".into(),
        rule: PromotionRule::BuyXGetY {
            product_id: indomie.product_id,
            buy: 2,
            get: 1,
        },
        active: true,
    };
    let mut cart = Cart::new();
    cart.add(indomie, Quantity::from_i64(7)).unwrap();
    let mut pol = policy(PriceMode::Inclusive);
    pol.promotions.push(promo.clone());
    let priced = price_cart(&cart, &pol).unwrap();
    // 7 pieces: two groups of three, so two are free.
    assert_eq!(priced.totals.promotion_discounts, rp(7_000));
    assert_eq!(priced.total(), rp(17_500));
    assert_eq!(priced.lines[0].promotions, vec![promo.id]);
}

#[test]
fn percent_off_a_category() {
    let snacks = CategoryId::new();
    let mut cart = Cart::new();
    cart.add(
        item("Chitato", 10_000, TaxRule::ppn_standard(), Some(snacks)),
        Quantity::from_i64(2),
    )
    .unwrap();
    cart.add(
        item("Aqua 600ml", 4_000, TaxRule::ppn_standard(), None),
        Quantity::ONE,
    )
    .unwrap();
    let mut pol = policy(PriceMode::Inclusive);
    pol.promotions.push(Promotion {
        id: PromotionId::new(),
        name: "Snack 15%".into(),
        rule: PromotionRule::PercentOffCategory {
            category_id: snacks,
            percent: Percent::new(dec("15")).unwrap(),
        },
        active: true,
    });
    let priced = price_cart(&cart, &pol).unwrap();
    assert_eq!(priced.lines[0].promotion_discount, rp(3_000));
    assert_eq!(priced.lines[1].promotion_discount, rp(0));
    assert_eq!(priced.total(), rp(21_000));
}

#[test]
fn cart_discount_is_spread_by_value_and_a_refund_returns_the_lines_share() {
    let mut cart = Cart::new();
    let a = cart
        .add(
            item("Kopi 1kg", 30_000, TaxRule::ppn_standard(), None),
            Quantity::ONE,
        )
        .unwrap();
    let b = cart
        .add(
            item("Gula 1kg", 10_000, TaxRule::ppn_standard(), None),
            Quantity::ONE,
        )
        .unwrap();
    cart.set_cart_discount(Some(Discount::Amount(rp(4_000))), &Currency::idr())
        .unwrap();
    let sale = cash_sale(&cart, PriceMode::Inclusive, 1);
    let share = |id| {
        sale.lines
            .iter()
            .find(|l| l.line_id == id)
            .unwrap()
            .cart_discount_share
    };
    assert_eq!((share(a), share(b)), (rp(3_000), rp(1_000)));
    assert_eq!(sale.total(), rp(36_000));

    let refund = build_refund(
        &sale,
        &[],
        &[(b, Quantity::ONE)],
        &[Tender::cash(rp(9_000))],
        refund_ctx(2),
    )
    .unwrap();
    assert_eq!(refund.total, rp(9_000));
    assert_eq!(refund.lines[0].tax, sale.lines[1].tax.tax);
}

fn refund_ctx(seq: u32) -> RefundContext {
    RefundContext {
        id: RefundId::new(),
        receipt_no: ReceiptNumber::new("JKT1", "T1", date("2026-11-25"), seq).unwrap(),
        created_at: Timestamp::now(),
        cashier_id: UserId::new(),
        authorized_by: None,
        shift_id: None,
        cash_unit: Some(rp(100)),
        reason: "rusak".into(),
    }
}

#[test]
fn partial_refunds_never_exceed_what_was_sold() {
    let mut cart = Cart::new();
    let line = cart
        .add(
            item("Sabun", 3_333, TaxRule::ppn_standard(), None),
            Quantity::from_i64(3),
        )
        .unwrap();
    let sale = cash_sale(&cart, PriceMode::Inclusive, 1);
    let first = build_refund(
        &sale,
        &[],
        &[(line, Quantity::ONE)],
        &[Tender::cash(rp(3_300))],
        refund_ctx(2),
    )
    .unwrap();
    let second = build_refund(
        &sale,
        std::slice::from_ref(&first),
        &[(line, Quantity::from_i64(2))],
        &[Tender::cash(rp(6_700))],
        refund_ctx(3),
    )
    .unwrap();
    assert_eq!(
        first.total.checked_add(second.total).unwrap(),
        sale.lines[0].tax.gross
    );
    let err = build_refund(
        &sale,
        &[first.clone(), second.clone()],
        &[(line, Quantity::ONE)],
        &[Tender::cash(rp(3_400))],
        refund_ctx(4),
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::OverRefund { .. }), "{err}");
    // Two offline tills each refunding two of the three: only merging reveals it, and it is flagged.
    let till_a = build_refund(
        &sale,
        &[],
        &[(line, Quantity::from_i64(2))],
        &[Tender::cash(rp(6_700))],
        refund_ctx(5),
    )
    .unwrap();
    let till_b = build_refund(
        &sale,
        &[],
        &[(line, Quantity::from_i64(2))],
        &[Tender::cash(rp(6_700))],
        refund_ctx(6),
    )
    .unwrap();
    let flagged = over_refunds(&sale, &[till_a.clone(), till_b.clone()]).unwrap();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].refunded, Quantity::from_i64(4));
    assert_eq!(flagged[0].refund_ids, vec![till_a.id, till_b.id]);
    let conflicts =
        shared_model::conflicts::refund_conflicts(std::slice::from_ref(&sale), &[till_a, till_b])
            .unwrap();
    assert!(conflicts[0].key().starts_with("over-refund:"));
}

#[test]
fn weighed_items_take_decimal_quantities() {
    let mut cart = Cart::new();
    cart.add(weighed("Apel Fuji", 42_000), Quantity(dec("1.255")))
        .unwrap();
    let priced = price_cart(&cart, &policy(PriceMode::Inclusive)).unwrap();
    assert_eq!(priced.lines[0].base, rp(52_710));
    let err = cart
        .add(weighed("Apel Fuji", 42_000), Quantity(dec("0.0001")))
        .unwrap_err();
    assert!(matches!(err, ModelError::Invalid { .. }));
    let err = cart
        .add(
            item("Aqua", 4_000, TaxRule::exempt(), None),
            Quantity(dec("1.5")),
        )
        .unwrap_err();
    assert!(matches!(err, ModelError::FractionalPieces { .. }));
}

#[test]
fn validation_errors_are_typed() {
    let idr = Currency::idr();
    let mut p = shared_model::catalog::Product::new("SKU-1", "Teh", rp(-1), "standard");
    assert!(matches!(p.validate(&idr), Err(ModelError::Negative { .. })));
    p.price = rp(1_000);
    p.name = "  ".into();
    assert!(matches!(p.validate(&idr), Err(ModelError::Empty { .. })));
    p.name = "Teh".into();
    p.price = Money(dec("1000.5"));
    assert!(matches!(
        p.validate(&idr),
        Err(ModelError::TooManyDecimals { .. })
    ));
    assert!(matches!(
        Percent::new(dec("100.01")),
        Err(ModelError::DiscountPercentOutOfRange(_))
    ));
    let mut cart = Cart::new();
    assert!(matches!(
        cart.add(item("Teh", 1, TaxRule::exempt(), None), Quantity::ZERO),
        Err(ModelError::NonPositiveQuantity(_))
    ));
    assert!(matches!(
        price_cart(&cart, &policy(PriceMode::Inclusive)),
        Err(ModelError::EmptyCart)
    ));
    let line = cart
        .add(item("Teh", 1_000, TaxRule::exempt(), None), Quantity::ONE)
        .unwrap();
    cart.set_line_discount(line, Some(Discount::Amount(rp(2_000))), &idr)
        .unwrap();
    assert!(matches!(
        price_cart(&cart, &policy(PriceMode::Inclusive)),
        Err(ModelError::DiscountExceedsAmount { .. })
    ));
    // Overflow is an error, never a panic.
    let mut huge = Cart::new();
    huge.add(
        item("Emas", 1, TaxRule::exempt(), None),
        Quantity(rust_decimal::Decimal::MAX),
    )
    .unwrap();
    huge.lines[0].item.unit_price = Money(rust_decimal::Decimal::MAX);
    assert!(matches!(
        price_cart(&huge, &policy(PriceMode::Inclusive)),
        Err(ModelError::Overflow)
    ));
}

#[test]
fn barcodes_check_digits_and_internal_codes() {
    assert_eq!(
        Barcode::parse("4006381333931").unwrap().kind(),
        BarcodeKind::Ean13
    );
    assert_eq!(
        Barcode::parse("96385074").unwrap().kind(),
        BarcodeKind::Ean8
    );
    assert_eq!(
        Barcode::parse("036000291452").unwrap().kind(),
        BarcodeKind::UpcA
    );
    assert_eq!(
        Barcode::parse("8992761136017").unwrap().kind(),
        BarcodeKind::Ean13
    );
    assert_eq!(
        Barcode::parse("TOKO-0001").unwrap().kind(),
        BarcodeKind::Internal
    );
    assert!(matches!(
        Barcode::parse("4006381333932"),
        Err(ModelError::BadCheckDigit { expected: 1, .. })
    ));
    assert!(matches!(
        Barcode::parse("96385075"),
        Err(ModelError::BadCheckDigit { .. })
    ));
    assert!(matches!(Barcode::parse(""), Err(ModelError::Empty { .. })));
    assert!(matches!(
        Barcode::parse("AB CD"),
        Err(ModelError::Invalid { .. })
    ));
}

#[test]
fn weighed_item_barcodes_decode_weight_and_price() {
    let body = "201234501255";
    let code = format!("{body}{}", gtin_check_digit(body));
    let decoded = decode_weighed(&code, &WeighedBarcodeRule::default_rules()).unwrap();
    assert_eq!(decoded.item_code, "12345");
    assert_eq!(
        decoded.value,
        WeighedValue::Weight {
            kilograms: Quantity(dec("1.255"))
        }
    );
    let rules = vec![WeighedBarcodeRule {
        prefix: 28,
        item_digits: 4,
        value: shared_model::barcode::EmbeddedValue::Price,
    }];
    let body = "280042025000";
    let code = format!("{body}{}", gtin_check_digit(body));
    let decoded = decode_weighed(&code, &rules).unwrap();
    assert_eq!(
        (decoded.item_code.as_str(), decoded.value),
        ("0042", WeighedValue::Price(rp(25_000)))
    );
    assert!(decode_weighed("4006381333931", &WeighedBarcodeRule::default_rules()).is_none());
}

#[test]
fn receipt_numbers_and_business_days() {
    let day = BusinessDayConfig::default();
    // 01:30 in Jakarta on the 26th, cut-off 04:00: still the 25th's business day.
    let late: Timestamp = "2026-11-25T18:30:00Z".parse().unwrap();
    assert_eq!(day.business_date(late).unwrap(), date("2026-11-25"));
    let morning: Timestamp = "2026-11-25T21:00:00Z".parse().unwrap();
    assert_eq!(day.business_date(morning).unwrap(), date("2026-11-26"));
    assert_eq!(
        day.day_start(date("2026-11-26")).unwrap().to_string(),
        "2026-11-25T21:00:00.000Z"
    );

    let r = ReceiptNumber::new("JKT1", "T2", date("2026-11-25"), 42).unwrap();
    assert_eq!(r.to_string(), "JKT1-T2-261125-0042");
    assert_eq!("JKT1-T2-261125-0042".parse::<ReceiptNumber>().unwrap(), r);
    assert!("JKT1-T2-261125".parse::<ReceiptNumber>().is_err());
    assert!(ReceiptNumber::new("jkt", "T2", date("2026-11-25"), 1).is_err());
    assert!(ReceiptNumber::new("JKT", "T2", date("2026-11-25"), 0).is_err());

    // A shift opened before midnight and closed after it belongs to the day it started.
    let shift = Shift::open(
        "T2",
        UserId::new(),
        day.business_date("2026-11-25T15:00:00Z".parse().unwrap())
            .unwrap(),
        Timestamp::now(),
        rp(200_000),
    )
    .unwrap();
    assert_eq!(shift.business_date, date("2026-11-25"));
}

#[test]
fn z_report_per_payment_method_with_cash_reconciliation() {
    let cashier = UserId::new();
    let mut shift = Shift::open(
        "T1",
        cashier,
        date("2026-11-25"),
        Timestamp::now(),
        rp(200_000),
    )
    .unwrap();
    let mk = |price: i64, seq| {
        let mut c = Cart::new();
        c.add(
            item("Barang", price, TaxRule::ppn_standard(), None),
            Quantity::ONE,
        )
        .unwrap();
        price_cart(&c, &policy(PriceMode::Inclusive))
            .map(|p| (p, seq))
            .unwrap()
    };
    let (p1, _) = mk(55_550, 1);
    let s1 = Sale::checkout(p1, &[Tender::cash(rp(60_000))], context(1), None).unwrap();
    let (p2, _) = mk(111_000, 2);
    let s2 = Sale::checkout(
        p2,
        &[Tender::with(
            PaymentMethod::Qris {
                mode: QrisMode::Static,
            },
            rp(111_000),
            None,
        )],
        context(2),
        None,
    )
    .unwrap();
    let (p3, _) = mk(20_000, 3);
    let s3 = Sale::checkout(
        p3,
        &[
            Tender::with(PaymentMethod::Card, rp(5_000), Some("EDC")),
            Tender::cash(rp(20_000)),
        ],
        context(3),
        None,
    )
    .unwrap();
    let refund = build_refund(
        &s3,
        &[],
        &[(s3.lines[0].line_id, Quantity::ONE)],
        &[Tender::cash(rp(20_000))],
        refund_ctx(4),
    )
    .unwrap();
    let moves = [
        CashMovement::new(
            shift.id,
            CashDirection::In,
            rp(50_000),
            "tambah kembalian",
            cashier,
            Timestamp::now(),
        )
        .unwrap(),
        CashMovement::new(
            shift.id,
            CashDirection::Out,
            rp(30_000),
            "beli es batu",
            cashier,
            Timestamp::now(),
        )
        .unwrap(),
    ];
    let z = ZReport::compute(ZReportInput {
        sales: &[s1, s2, s3],
        voided: &[],
        refunds: &[refund],
        cash_movements: &moves,
        opening_float: shift.opening_float,
        counted_cash: Some(rp(300_000)),
    })
    .unwrap();
    assert_eq!(z.sales_count, 3);
    assert_eq!(z.sales_total, rp(186_550));
    assert_eq!(z.cash_rounding, rp(50));
    assert_eq!(z.by_method["cash"].sales, rp(55_600 + 15_000));
    assert_eq!(z.by_method["cash"].refunds, rp(20_000));
    assert_eq!(z.by_method["qris"].net, rp(111_000));
    assert_eq!(z.by_method["card"].sales, rp(5_000));
    // 200,000 + 70,600 − 20,000 + 50,000 − 30,000
    assert_eq!(z.expected_cash, rp(270_600));
    assert_eq!(z.difference, Some(rp(29_400)));
    let close = shift
        .close(rp(300_000), z.expected_cash, cashier, Timestamp::now())
        .unwrap();
    assert_eq!(close.difference, rp(29_400));
    assert!(matches!(
        shift.close(rp(1), rp(1), cashier, Timestamp::now()),
        Err(ModelError::ShiftClosed)
    ));
}

#[test]
fn money_formats_for_receipts() {
    assert_eq!(Currency::idr().format(rp(12_500)), "Rp 12.500");
    assert_eq!(Currency::idr().format(rp(-1_234_567)), "-Rp 1.234.567");
    assert_eq!(Currency::usd().format(Money(dec("3.5"))), "USD 3.50");
}
