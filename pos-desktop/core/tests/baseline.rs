//! A server-written stock baseline on a till: stock on hand is the baseline plus the movements
//! it does not include, whichever order the baseline and the documents it includes arrive in.

mod common;

use common::*;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::codec::Timestamp;
use pos_core::shared_model::documents::{self, IncludedDoc, StockBaselineDoc};
use pos_core::shared_model::money::Quantity;
use pos_core::shared_model::payment::Tender;
use pos_core::shared_model::stock::MovementKind;

fn sell_indomie(s: &mut Shop, n: i64) {
    let mut cart = Cart::new();
    s.t.cart_add_product(&mut cart, s.indomie.id, None, Quantity::from_i64(n))
        .unwrap();
    let total = s.t.price(&cart).unwrap().total();
    s.t.checkout(&cart, &[Tender::cash(total)], s.cashier, None)
        .unwrap();
}

#[test]
fn documents_arriving_after_the_baseline_that_includes_them_count_once() {
    let mut a = shop();
    a.t.adjust_stock(
        a.indomie.id,
        MovementKind::Receipt,
        Quantity::from_i64(20),
        None,
        a.supervisor,
    )
    .unwrap();
    sell_indomie(&mut a, 2);
    let today = a.t.business_date_at(Timestamp::now()).unwrap();
    let journal = a.t.journal_id("T1", today).unwrap().unwrap();
    let adjustments =
        a.t.documents()
            .unwrap()
            .into_iter()
            .find(|(_, kind, _)| kind == "stock-adjustments")
            .unwrap()
            .0;

    // What the server writes at the close of the day: both documents at their heads.
    let mut baseline = StockBaselineDoc::new("store-1", today);
    baseline
        .on_hand
        .insert(a.indomie.id.to_string(), Quantity::from_i64(18));
    for id in [&journal, &adjustments] {
        baseline.included.push(IncludedDoc {
            url: format!("automerge:{id}"),
            heads: a.t.document_heads(id).unwrap(),
        });
    }
    let baseline_id = documents::period_index_id("store-1", "baseline-test");
    let baseline_bytes = documents::create(&baseline).unwrap().save();

    // Till B gets the baseline first, then the documents it includes.
    let mut b = join_second_till(&mut a);
    b.merge_document(&baseline_id, &baseline_bytes).unwrap();
    assert_eq!(
        b.stock_on_hand(a.indomie.id).unwrap(),
        Quantity::from_i64(18)
    );
    for id in [&journal, &adjustments] {
        b.merge_document(id, &a.t.export_document(id).unwrap())
            .unwrap();
    }
    assert_eq!(
        b.stock_on_hand(a.indomie.id).unwrap(),
        Quantity::from_i64(18)
    );

    // Till A gets the baseline after its own documents.
    a.t.merge_document(&baseline_id, &baseline_bytes).unwrap();
    assert_eq!(
        a.t.stock_on_hand(a.indomie.id).unwrap(),
        Quantity::from_i64(18)
    );

    // A sale after the baseline's heads counts on both tills.
    sell_indomie(&mut a, 3);
    b.merge_document(&journal, &a.t.export_document(&journal).unwrap())
        .unwrap();
    for t in [&a.t, &b] {
        assert_eq!(
            t.stock_on_hand(a.indomie.id).unwrap(),
            Quantity::from_i64(15)
        );
    }
    // A rebuild from the documents gives the same.
    b.rebuild_query_tables().unwrap();
    assert_eq!(
        b.stock_on_hand(a.indomie.id).unwrap(),
        Quantity::from_i64(15)
    );
}
