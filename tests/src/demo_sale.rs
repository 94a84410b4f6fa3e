//! A sale on a till that holds the demo store (enrolled with `demo: true`), made by its demo
//! cashier Sari in an open shift: what the tests of receipts and payments start from.

use pos_core::Terminal;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::ids::UserId;
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::Tender;
use pos_core::shared_model::sale::Sale;

/// The demo cashier's id, with a shift of hers open.
pub fn cashier_on_shift(t: &mut Terminal) -> UserId {
    let sari = t
        .users()
        .expect("users")
        .into_iter()
        .find(|u| u.name == "Sari")
        .expect("the demo cashier")
        .id;
    if t.open_shift().expect("shift").is_none() {
        t.start_shift(sari, Money::from_i64(100_000))
            .expect("a shift");
    }
    sari
}

/// A cart of one of the first product each query finds.
pub fn cart_of(t: &mut Terminal, queries: &[&str]) -> Cart {
    let mut cart = Cart::new();
    for q in queries {
        let hit = t.search(q, 1, false).expect("search").remove(0);
        t.cart_add_product(&mut cart, hit.product_id, None, Quantity::ONE)
            .expect("added");
    }
    cart
}

/// Sells one of each product `queries` find, paid with `tenders` (none: exact cash).
pub fn sell(t: &mut Terminal, queries: &[&str], tenders: Vec<Tender>) -> Sale {
    let sari = cashier_on_shift(t);
    let cart = cart_of(t, queries);
    let tenders = if tenders.is_empty() {
        vec![Tender::cash(t.price(&cart).expect("priced").total())]
    } else {
        tenders
    };
    t.checkout(&cart, &tenders, sari, None).expect("the sale")
}
