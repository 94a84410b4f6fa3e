//! Property tests: totals equal the sum of the lines, net + tax = gross, rounding below the
//! unit, refunds never exceed the sale, payments cover the total, no panics on any input.
//! Failure cases are committed in `properties.proptest-regressions`.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rust_decimal::Decimal;
use shared_model::cart::{Cart, Discount, ProductSnapshot};
use shared_model::catalog::Unit;
use shared_model::ids::{CategoryId, PromotionId};
use shared_model::money::{Currency, Money, Percent, Quantity, allocate, checked_sum};
use shared_model::payment::{PaymentMethod, Tender, settle};
use shared_model::pricing::{CartTotals, PricingPolicy, price_cart};
use shared_model::promotion::{Promotion, PromotionRule};
use shared_model::refund::{RefundContext, build_refund};
use shared_model::sale::Sale;
use shared_model::tax::{PriceMode, TaxRule};

fn tax_rule() -> impl Strategy<Value = TaxRule> {
    prop_oneof![
        Just(TaxRule::ppn_standard()),
        Just(TaxRule::ppn_luxury()),
        Just(TaxRule::exempt())
    ]
}

fn mode() -> impl Strategy<Value = PriceMode> {
    prop_oneof![Just(PriceMode::Inclusive), Just(PriceMode::Exclusive)]
}

fn discount(max_amount: i64) -> impl Strategy<Value = Option<Discount>> {
    prop_oneof![
        3 => Just(None),
        1 => (0..=max_amount).prop_map(|a| Some(Discount::Amount(rp(a)))),
        1 => (0u32..=10_000).prop_map(|p| Some(Discount::Percent(Percent::new(Decimal::new(i64::from(p), 2)).unwrap()))),
    ]
}

#[derive(Debug, Clone)]
struct LineSpec {
    price: i64,
    weighed: bool,
    qty_thousandths: i64,
    tax: TaxRule,
    discount: Option<Discount>,
    category: usize,
}

fn line_spec() -> impl Strategy<Value = LineSpec> {
    (
        0i64..5_000_000,
        any::<bool>(),
        1i64..20_000,
        tax_rule(),
        discount(5_000),
        0usize..3,
    )
        .prop_map(|(price, weighed, q, tax, discount, category)| LineSpec {
            price,
            weighed,
            qty_thousandths: q,
            tax,
            discount,
            category,
        })
}

struct Built {
    cart: Cart,
    policy: PricingPolicy,
}

fn build(
    lines: &[LineSpec],
    cart_discount: Option<Discount>,
    mode: PriceMode,
    promo_percent: u32,
    bxgy: (u32, u32),
) -> Built {
    let categories = [CategoryId::new(), CategoryId::new(), CategoryId::new()];
    let mut cart = Cart::new();
    let mut first: Option<ProductSnapshot> = None;
    for l in lines {
        let mut snap = item(
            "Produk",
            l.price,
            l.tax.clone(),
            Some(categories[l.category]),
        );
        let qty = if l.weighed {
            snap.unit = Unit::Kilogram;
            Quantity(Decimal::new(l.qty_thousandths, 3))
        } else {
            Quantity::from_i64(l.qty_thousandths % 12 + 1)
        };
        let id = cart.add(snap.clone(), qty).unwrap();
        first.get_or_insert(snap);
        cart.lines.iter_mut().find(|x| x.id == id).unwrap().discount = l.discount;
    }
    cart.discount = cart_discount;
    let mut promotions = vec![Promotion {
        id: PromotionId::new(),
        name: "kategori".into(),
        rule: PromotionRule::PercentOffCategory {
            category_id: categories[0],
            percent: Percent::new(Decimal::from(promo_percent)).unwrap(),
        },
        active: true,
    }];
    if let Some(f) = first {
        promotions.push(Promotion {
            id: PromotionId::new(),
            name: "bxgy".into(),
            rule: PromotionRule::BuyXGetY {
                product_id: f.product_id,
                buy: bxgy.0,
                get: bxgy.1,
            },
            active: true,
        });
    }
    Built {
        cart,
        policy: PricingPolicy {
            currency: Currency::idr(),
            price_mode: mode,
            promotions,
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("tests/properties.proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn totals_equal_the_sum_of_the_lines(
        lines in prop::collection::vec(line_spec(), 1..6),
        cart_discount in discount(50_000),
        mode in mode(),
        promo in 0u32..=100,
        bxgy in (1u32..4, 1u32..3),
    ) {
        let b = build(&lines, cart_discount, mode, promo, bxgy);
        let Ok(priced) = price_cart(&b.cart, &b.policy) else { return Ok(()) };
        prop_assert_eq!(CartTotals::from_lines(&priced.lines).unwrap(), priced.totals);
        let sum: Money = priced.lines.iter().map(|l| l.tax.gross).sum();
        prop_assert_eq!(sum, priced.total());
        for l in &priced.lines {
            prop_assert!(l.check().is_ok());
            prop_assert!(!l.amount.is_negative());
            prop_assert_eq!(l.tax.net.checked_add(l.tax.tax).unwrap(), l.tax.gross);
            if mode == PriceMode::Inclusive {
                prop_assert_eq!(l.tax.gross, l.amount);
            } else {
                prop_assert_eq!(l.tax.net, l.amount);
            }
        }
        // The cart discount is spread exactly.
        let spread: Money = priced.lines.iter().map(|l| l.cart_discount_share).sum();
        prop_assert_eq!(spread, priced.totals.cart_discount);
    }

    #[test]
    fn the_one_pass_reader_reads_any_sale_as_autosurgeon_does(
        lines in prop::collection::vec(line_spec(), 1..5),
        cart_discount in discount(50_000),
        mode in mode(),
        promo in 0u32..=100,
        bxgy in (1u32..4, 1u32..3),
        card in 0i64..50_000,
        note in prop::option::of("[a-zA-Z0-9 ]{0,20}"),
    ) {
        use shared_model::documents::{self, JournalDoc, materialize};
        let b = build(&lines, cart_discount, mode, promo, bxgy);
        let Ok(priced) = price_cart(&b.cart, &b.policy) else { return Ok(()) };
        let card = Money::from_i64(card.min(priced.total().amount().try_into().unwrap_or(0)));
        let tenders = [
            Tender::with(PaymentMethod::Card, card, Some("EDC")),
            Tender::cash(rp(100_000_000_000)),
        ];
        let mut ctx = context(1);
        ctx.price_mode = mode;
        let Ok(sale) = Sale::checkout(priced, &tenders, ctx, note) else { return Ok(()) };
        let key = sale.id.to_string();
        let mut doc = documents::create(&JournalDoc::new("store-1", "T1", date("2026-11-25"))).unwrap();
        // Schema 2 (a sale is its JSON): both readers read it back whole.
        documents::put_entries(&mut doc, "sales", &[(key.clone(), &sale)]).unwrap();
        let (_, sales) = automerge::ReadDoc::get(&doc, automerge::ROOT, "sales").unwrap().unwrap();
        let one_pass: Option<Sale> = materialize::entry(&doc, &sales, &key).unwrap();
        prop_assert_eq!(one_pass.as_ref(), Some(&sale));
        let by_key: Sale = documents::get_entry(&doc, "sales", &key).unwrap().unwrap();
        prop_assert_eq!(&by_key, &sale);
        // Schema 1 (a map of its fields, as older tills write it): serde reads what autosurgeon
        // reads.
        let mut older = documents::create(&JournalDoc::new("store-1", "T1", date("2026-11-25"))).unwrap();
        let fields = shared_model::sale::SaleFields::from(sale.clone());
        documents::put_entries(&mut older, "sales", &[(key.clone(), &fields)]).unwrap();
        let (_, sales) = automerge::ReadDoc::get(&older, automerge::ROOT, "sales").unwrap().unwrap();
        let (_, obj) = automerge::ReadDoc::get(&older, &sales, key.as_str()).unwrap().unwrap();
        let value = automerge::ReadDoc::hydrate(&older, &obj, None).unwrap();
        let one_pass: Sale = materialize::from_value(&value).unwrap();
        let by_key: Sale = documents::get_entry(&older, "sales", &key).unwrap().unwrap();
        prop_assert_eq!(&one_pass, &by_key);
        prop_assert_eq!(one_pass, sale);
    }

    #[test]
    fn net_plus_tax_is_gross_for_inclusive_prices(amount in 0i64..10_000_000_000, rule in tax_rule()) {
        let split = rule.split(rp(amount), PriceMode::Inclusive, &Currency::idr()).unwrap();
        prop_assert_eq!(split.net.checked_add(split.tax).unwrap(), split.gross);
        prop_assert_eq!(split.gross, rp(amount));
        // Tax extracted from an inclusive price matches the exclusive rule within a rupiah.
        let back = rule.split(split.net, PriceMode::Exclusive, &Currency::idr()).unwrap();
        prop_assert!((back.tax.amount() - split.tax.amount()).abs() <= Decimal::ONE);
    }

    #[test]
    fn cash_rounding_stays_below_the_unit(total in 0i64..100_000_000, unit in prop_oneof![Just(50i64), Just(100), Just(500), Just(1000)], extra in 0i64..100_000) {
        let s = settle(rp(total), &[Tender::cash(rp(total + extra + unit))], Some(rp(unit)), &Currency::idr()).unwrap();
        prop_assert!(s.cash_rounding.amount().abs() * Decimal::TWO <= Decimal::from(unit));
        prop_assert_eq!(s.amount_due.amount() % Decimal::from(unit), Decimal::ZERO);
        prop_assert_eq!(checked_sum(s.payments.iter().map(|p| p.amount)).unwrap(), s.amount_due);
    }

    #[test]
    fn payments_cover_the_total_or_the_sale_is_refused(
        total in 0i64..10_000_000,
        card in 0i64..10_000_000,
        cash in 0i64..10_000_000,
    ) {
        let mut tenders = Vec::new();
        if card > 0 { tenders.push(Tender::with(PaymentMethod::Card, rp(card), Some("EDC"))); }
        if cash > 0 { tenders.push(Tender::cash(rp(cash))); }
        match settle(rp(total), &tenders, Some(rp(100)), &Currency::idr()) {
            Ok(s) => {
                let paid = checked_sum(s.payments.iter().map(|p| p.amount)).unwrap();
                prop_assert_eq!(paid, s.amount_due);
                prop_assert!(s.amount_due.amount() + Decimal::from(50) > Decimal::from(total));
                prop_assert!(s.check(rp(total)).is_ok());
                prop_assert!(!s.change.is_negative());
            }
            Err(_) => {
                let rounded = |v: i64| (v + 50) / 100 * 100;
                prop_assert!(card > total || rounded(total - card.min(total)) > cash || tenders.is_empty() && total > 0);
            }
        }
    }

    #[test]
    fn refunds_never_exceed_the_sale(
        lines in prop::collection::vec(line_spec(), 1..4),
        cart_discount in discount(20_000),
        requests in prop::collection::vec((0usize..4, 1i64..5), 1..8),
    ) {
        let b = build(&lines, cart_discount, PriceMode::Inclusive, 0, (1, 1));
        let Ok(priced) = price_cart(&b.cart, &b.policy) else { return Ok(()) };
        let ctx = context(1);
        let sale = Sale::checkout(priced, &[Tender::cash(rp(100_000_000_000))], ctx, None).unwrap();
        let mut refunds = Vec::new();
        for (n, (idx, q)) in requests.into_iter().enumerate() {
            let Some(line) = sale.lines.get(idx % sale.lines.len()) else { continue };
            let qty = if line.item.unit.is_weighed() { Quantity(Decimal::new(q * 250, 3)) } else { Quantity::from_i64(q) };
            let rctx = RefundContext {
                id: shared_model::ids::RefundId::new(),
                receipt_no: shared_model::receipt_number::ReceiptNumber::new("JKT1", "T1", date("2026-11-25"), n as u32 + 2).unwrap(),
                created_at: shared_model::codec::Timestamp::now(),
                cashier_id: shared_model::ids::UserId::new(),
                authorized_by: None,
                shift_id: None,
                cash_unit: None,
                reason: "retur".into(),
            };
            let total_due = Tender::cash(rp(100_000_000_000));
            if let Ok(r) = build_refund(&sale, &refunds, &[(line.line_id, qty)], &[total_due], rctx) {
                refunds.push(r);
            }
        }
        let refunded = checked_sum(refunds.iter().map(|r| r.total)).unwrap();
        prop_assert!(refunded <= sale.total());
        prop_assert!(shared_model::refund::over_refunds(&sale, &refunds).unwrap().is_empty());
        for line in &sale.lines {
            let q: Decimal = refunds.iter().flat_map(|r| &r.lines).filter(|l| l.sale_line_id == line.line_id).map(|l| l.quantity.0).sum();
            prop_assert!(q <= line.quantity.0);
            let amt: Money = refunds.iter().flat_map(|r| &r.lines).filter(|l| l.sale_line_id == line.line_id).map(|l| l.amount).sum();
            prop_assert!(amt <= line.tax.gross);
            if q == line.quantity.0 { prop_assert_eq!(amt, line.tax.gross); }
        }
    }

    #[test]
    fn allocation_sums_exactly(total in -1_000_000i64..1_000_000, weights in prop::collection::vec(0i64..1_000_000, 1..10)) {
        let w: Vec<Money> = weights.iter().map(|v| rp(*v)).collect();
        let parts = allocate(rp(total), &w, &Currency::idr()).unwrap();
        prop_assert_eq!(parts.iter().copied().sum::<Money>(), rp(total));
    }

    #[test]
    fn no_panics_on_any_input(
        price in any::<i128>(), scale in 0u32..28, qty in any::<i64>(), qscale in 0u32..10,
        disc in any::<i64>(), mode in mode(), rule in tax_rule(), tender in any::<i64>(),
    ) {
        let price = Decimal::try_from_i128_with_scale(price % 10i128.pow(27), scale).unwrap_or(Decimal::MAX);
        let mut cart = Cart::new();
        let mut snap = item("X", 0, rule, None);
        snap.unit = Unit::Kilogram;
        snap.unit_price = Money(price);
        let _ = cart.add(snap.clone(), Quantity(Decimal::new(qty, qscale)));
        cart.lines.push(shared_model::cart::CartLine { id: shared_model::ids::LineId::new(), item: snap, quantity: Quantity(Decimal::new(qty, qscale)), discount: Some(Discount::Amount(rp(disc))), note: None });
        cart.discount = Some(Discount::Amount(rp(disc)));
        let pol = PricingPolicy { currency: Currency::idr(), price_mode: mode, promotions: Vec::new() };
        if let Ok(p) = price_cart(&cart, &pol) {
            let _ = Sale::checkout(p, &[Tender::cash(rp(tender))], context(1), None);
        }
        let _ = settle(Money(price), &[Tender::cash(Money(Decimal::new(tender, qscale)))], Some(rp(100)), &Currency::idr());
    }
}
