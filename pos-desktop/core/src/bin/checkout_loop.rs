//! Test tool (the child process of the crash tests in `tests/crash.rs`, not for shops): runs
//! checkouts in a loop on an existing terminal store, appending `<sale id> <receipt>` to a
//! log file (fsynced) after each checkout returns. The crash tests kill it with SIGKILL at
//! random moments; with `POS_CORE_TEST_CRASH_AFTER_COMMIT` set it aborts right after the first
//! commit instead.
//!
//! Usage: `checkout_loop <db> <log> <cashier id> <sku>`

use std::io::Write;

use pos_core::Terminal;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::ids::UserId;
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::Tender;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, db, log, cashier, sku] = args.as_slice() else {
        return Err("usage: checkout_loop <db> <log> <cashier id> <sku>".into());
    };
    let cashier: UserId = cashier.parse()?;
    let mut t = Terminal::open(db)?;
    let product = t
        .product_by_sku(sku)?
        .ok_or_else(|| format!("no product {sku}"))?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    loop {
        let mut cart = Cart::new();
        t.cart_add_product(&mut cart, product.id, None, Quantity::from_i64(2))?;
        let sale = t.checkout(
            &cart,
            &[Tender::cash(Money::from_i64(10_000))],
            cashier,
            None,
        )?;
        f.write_all(format!("{} {}\n", sale.id, sale.receipt_no).as_bytes())?;
        f.sync_data()?;
    }
}
