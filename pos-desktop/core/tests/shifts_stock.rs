//! Shifts and Z reports, stock on hand, adjustments, counts, baselines, parked carts.

mod common;

use common::*;
use pos_core::CoreError;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::codec::Timestamp;
use pos_core::shared_model::documents::{IncludedDoc, StockBaselineDoc};
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::{PaymentMethod, Tender};
use pos_core::shared_model::shift::CashDirection;
use pos_core::shared_model::stock::MovementKind;

fn sell(s: &mut Shop, n: i64, tenders: &[Tender]) -> pos_core::shared_model::sale::Sale {
    let mut cart = Cart::new();
    s.t.cart_add_product(&mut cart, s.indomie.id, None, Quantity::from_i64(n))
        .unwrap();
    s.t.checkout(&cart, tenders, s.cashier, None).unwrap()
}

#[test]
fn shifts_cash_movements_and_z_reports() {
    let mut s = shop();
    assert!(matches!(
        s.t.start_shift(s.cashier, Money::ZERO),
        Err(CoreError::ShiftAlreadyOpen(_))
    ));
    let shift = s.t.open_shift().unwrap().unwrap();
    sell(&mut s, 2, &[Tender::cash(Money::from_i64(10_000))]); // 7.000 cash
    sell(
        &mut s,
        1,
        &[Tender::with(
            PaymentMethod::Card,
            Money::from_i64(3_500),
            Some("EDC-9"),
        )],
    );
    s.t.cash_movement(
        CashDirection::In,
        Money::from_i64(50_000),
        "tambah modal",
        s.cashier,
    )
    .unwrap();
    s.t.cash_movement(
        CashDirection::Out,
        Money::from_i64(20_000),
        "bayar galon",
        s.cashier,
    )
    .unwrap();
    assert!(
        s.t.cash_movement(CashDirection::Out, Money::from_i64(-5), "x", s.cashier)
            .is_err()
    );
    assert!(
        s.t.cash_movement(CashDirection::Out, Money::from_i64(5), "", s.cashier)
            .is_err()
    );
    let z = s.t.z_report_shift(shift.id).unwrap();
    assert_eq!(z.sales_count, 2);
    assert_eq!(z.sales_total, Money::from_i64(10_500));
    assert_eq!(z.by_method["cash"].sales, Money::from_i64(7_000));
    assert_eq!(z.by_method["card"].sales, Money::from_i64(3_500));
    // 200.000 + 7.000 + 50.000 − 20.000
    assert_eq!(z.expected_cash, Money::from_i64(237_000));
    let (closed, z) =
        s.t.close_shift(Money::from_i64(236_000), s.cashier)
            .unwrap();
    let close = closed.close.unwrap();
    assert_eq!(close.difference, Money::from_i64(-1_000));
    assert_eq!(z.counted_cash, Some(Money::from_i64(236_000)));
    assert_eq!(z.difference, Some(Money::from_i64(-1_000)));
    assert!(matches!(
        s.t.close_shift(Money::ZERO, s.cashier),
        Err(CoreError::NoOpenShift)
    ));
    assert!(matches!(
        s.t.cash_movement(CashDirection::In, Money::from_i64(1), "x", s.cashier),
        Err(CoreError::NoOpenShift)
    ));
    // A second shift the same day; the day's report covers both.
    s.t.start_shift(s.cashier, Money::from_i64(100_000))
        .unwrap();
    let sale = sell(&mut s, 1, &[Tender::cash(Money::from_i64(5_000))]);
    let day = s.t.z_report_day(sale.business_date).unwrap();
    assert_eq!(day.sales_count, 3);
    assert_eq!(day.opening_float, Money::from_i64(300_000));
    assert_eq!(day.counted_cash, None, "one shift is still open");
    s.t.close_shift(Money::from_i64(103_500), s.cashier)
        .unwrap();
    let day = s.t.z_report_day(sale.business_date).unwrap();
    assert_eq!(day.counted_cash, Some(Money::from_i64(339_500)));
    // The journal holds both shifts, closed.
    s.reopen();
    let j = s.t.journal("T1", sale.business_date).unwrap().unwrap();
    assert_eq!(j.shifts.len(), 2);
    assert!(j.shifts.values().all(|x| x.close.is_some()));
    assert_eq!(j.cash_movements.len(), 2);
    assert!(s.t.start_shift(s.cashier, Money::from_i64(-1)).is_err());
}

#[test]
fn stock_adjustments_counts_and_the_low_stock_list() {
    let mut s = shop();
    let mut p = s.t.product(s.kopi.id).unwrap().unwrap();
    p.low_stock_threshold = Some(Quantity::from_i64(10));
    s.t.update_product(p).unwrap();
    assert_eq!(s.t.low_stock().unwrap().len(), 1);
    s.t.adjust_stock(
        s.kopi.id,
        MovementKind::Receipt,
        Quantity::from_i64(24),
        Some("DO-7".into()),
        s.supervisor,
    )
    .unwrap();
    assert!(s.t.low_stock().unwrap().is_empty());
    // Exactly at the threshold counts as low, as on the server's report.
    let mut at = s.t.product(s.kopi.id).unwrap().unwrap();
    at.low_stock_threshold = Some(s.t.stock_on_hand(s.kopi.id).unwrap());
    s.t.update_product(at).unwrap();
    assert_eq!(s.t.low_stock().unwrap().len(), 1);
    let mut back = s.t.product(s.kopi.id).unwrap().unwrap();
    back.low_stock_threshold = Some(Quantity::from_i64(10));
    s.t.update_product(back).unwrap();
    assert!(s.t.low_stock().unwrap().is_empty());
    // Adjustments that the kind does not allow are refused.
    for (kind, qty) in [
        (MovementKind::Receipt, -1),
        (MovementKind::TransferOut, 3),
        (MovementKind::Sale, -3),
    ] {
        assert!(
            s.t.adjust_stock(s.kopi.id, kind, Quantity::from_i64(qty), None, s.supervisor)
                .is_err()
        );
    }
    s.t.adjust_stock(
        s.kopi.id,
        MovementKind::TransferOut,
        Quantity::from_i64(-10),
        Some("ke cabang 2".into()),
        s.supervisor,
    )
    .unwrap();
    let mut cart = Cart::new();
    s.t.cart_add_product(&mut cart, s.kopi.id, None, Quantity::from_i64(5))
        .unwrap();
    s.pay_cash(&cart, 70_000);
    assert_eq!(s.t.stock_on_hand(s.kopi.id).unwrap(), Quantity::from_i64(9));
    let low = s.t.low_stock().unwrap();
    assert_eq!(low.len(), 1);
    assert_eq!(low[0].on_hand, Quantity::from_i64(9));
    // A count of 7 seen against 9: a delta of −2, with the heads it saw.
    let count =
        s.t.count_stock(s.kopi.id, Quantity::from_i64(7), s.supervisor)
            .unwrap();
    assert_eq!(count.seen_on_hand, Quantity::from_i64(9));
    assert_eq!(count.delta().unwrap(), Quantity::from_i64(-2));
    assert!(!count.seen_heads.is_empty());
    assert_eq!(s.t.stock_on_hand(s.kopi.id).unwrap(), Quantity::from_i64(7));
    assert!(
        s.t.count_stock(s.kopi.id, Quantity::from_i64(-1), s.supervisor)
            .is_err()
    );
    assert!(
        s.t.count_stock(
            s.kopi.id,
            Quantity(rust_decimal_macros::dec!(1.5)),
            s.supervisor
        )
        .is_err()
    );
    assert!(matches!(
        s.t.count_stock(
            pos_core::shared_model::ids::ProductId::new(),
            Quantity::ONE,
            s.supervisor
        ),
        Err(CoreError::NotFound { .. })
    ));
    assert_eq!(s.t.stock_movements(s.kopi.id).unwrap().len(), 4);
}

#[test]
fn stock_on_hand_is_the_latest_baseline_plus_movements_not_in_it() {
    let mut s = shop();
    let mut cart = Cart::new();
    s.t.cart_add_product(&mut cart, s.indomie.id, None, Quantity::from_i64(3))
        .unwrap();
    let sale = s.pay_cash(&cart, 20_000);
    let journal = s.t.journal_id("T1", sale.business_date).unwrap().unwrap();
    let heads: Vec<String> = {
        let bytes = s.t.export_document(&journal).unwrap();
        let mut d = automerge::AutoCommit::load(&bytes).unwrap();
        d.get_heads().iter().map(|h| h.to_string()).collect()
    };
    // The server's baseline: 100 at the close, including the sale above.
    let mut b = StockBaselineDoc::new("store-1", sale.business_date);
    b.on_hand
        .insert(s.indomie.id.to_string(), Quantity::from_i64(100));
    b.included.push(IncludedDoc {
        url: format!("automerge:{journal}"),
        heads,
    });
    b.written_at = Timestamp::now();
    let bytes = pos_core::shared_model::documents::create(&b)
        .unwrap()
        .save();
    // A sale after the baseline's heads.
    s.pay_cash(&cart, 20_000);
    s.t.merge_document(&pos_core::docs::new_document_id(), &bytes)
        .unwrap();
    assert_eq!(
        s.t.stock_on_hand(s.indomie.id).unwrap(),
        Quantity::from_i64(97)
    );
    assert_eq!(s.t.stock_on_hand(s.kopi.id).unwrap(), Quantity::ZERO);
    // Rebuilding keeps the same view.
    s.t.rebuild_query_tables().unwrap();
    assert_eq!(
        s.t.stock_on_hand(s.indomie.id).unwrap(),
        Quantity::from_i64(97)
    );
}

#[test]
fn parked_carts_resume_on_another_till_and_double_claims_are_flagged() {
    let mut a = shop();
    let mut cart = Cart::new();
    a.t.cart_add_product(&mut cart, a.indomie.id, None, Quantity::from_i64(2))
        .unwrap();
    assert!(a.t.park_cart(&Cart::new(), None, a.cashier).is_err());
    a.t.park_cart(&cart, Some("Ibu baju merah"), a.cashier)
        .unwrap();
    assert!(matches!(
        a.t.park_cart(&cart, None, a.cashier),
        Err(CoreError::Duplicate { .. })
    ));
    let list = a.t.parked_carts().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].label.as_deref(), Some("Ibu baju merah"));
    // Terminal B gets the store's documents (as after a sync).
    let ident = a.t.identity().unwrap().clone();
    let mut b = join_second_till(&mut a);
    assert_eq!(b.parked_carts().unwrap().len(), 1);
    // Both tills resume it while offline.
    let on_a = a.t.resume_cart(cart.id).unwrap();
    let on_b = b.resume_cart(cart.id).unwrap();
    assert_eq!(on_a, cart);
    assert_eq!(on_b, cart);
    // Where the till knows, a second claim is refused.
    assert!(matches!(
        a.t.resume_cart(cart.id),
        Err(CoreError::CartAlreadyClaimed { .. })
    ));
    assert!(a.t.parked_carts().unwrap().is_empty());
    assert!(a.t.double_claimed_carts().unwrap().is_empty());
    // After the merge the double claim shows.
    a.t.merge_document(
        &ident.parked_doc,
        &b.export_document(&ident.parked_doc).unwrap(),
    )
    .unwrap();
    let flagged = a.t.double_claimed_carts().unwrap();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].terminals, ["T1", "T2"]);
    assert!(a.t.cart_conflict(cart.id).unwrap().is_some());
    assert!(matches!(
        a.t.resume_cart(pos_core::shared_model::ids::CartId::new()),
        Err(CoreError::NotFound { .. })
    ));
}
