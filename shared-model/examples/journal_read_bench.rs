//! How fast a journal's sales are read back: autosurgeon's hydrate (a key lookup per field)
//! against the one-pass reader (`documents::materialize`), per sale and for a whole journal.
//!
//! `cargo run --release -p shared-model --example journal_read_bench -- [sales in the journal]`

use std::time::Instant;

use automerge::{AutoCommit, ReadDoc};
use shared_model::cart::{Cart, ProductSnapshot};
use shared_model::catalog::{Product, Unit};
use shared_model::codec::Timestamp;
use shared_model::documents::{self, JournalDoc, materialize};
use shared_model::ids::{SaleId, UserId};
use shared_model::money::{Money, Quantity};
use shared_model::payment::Tender;
use shared_model::pricing::{PricingPolicy, price_cart};
use shared_model::receipt_number::ReceiptNumber;
use shared_model::sale::{Sale, SaleContext};
use shared_model::settings::StoreSettings;

/// A journal of `n` sales of one to three lines each, one change per sale as a till writes it.
fn journal(n: u32) -> (AutoCommit, Vec<String>) {
    let settings = StoreSettings::indonesia("Toko", "Jl. Bench 1");
    let rule = settings.tax_rule("standard").expect("tax rule").clone();
    let shelf: Vec<ProductSnapshot> = [("IDM", 3_500), ("KOP", 12_000), ("AQU", 4_000)]
        .into_iter()
        .map(|(sku, price)| {
            let mut p = Product::new(sku, sku, Money::from_i64(price), "standard");
            p.unit = Unit::Piece;
            ProductSnapshot::of(&p, None, rule.clone()).expect("snapshot")
        })
        .collect();
    let day = settings
        .business_day
        .business_date(Timestamp::now())
        .expect("date");
    let cashier = UserId::new();
    let mut doc = documents::create(&JournalDoc::new("store-1", "T1", day)).expect("journal");
    let mut keys = Vec::new();
    for seq in 1..=n {
        let mut cart = Cart::new();
        for l in 0..=(seq as usize % 3) {
            let p = shelf[(seq as usize + l) % shelf.len()].clone();
            cart.add(p, Quantity::from_i64(1 + l as i64 % 2))
                .expect("line");
        }
        let policy = PricingPolicy {
            currency: settings.currency(),
            price_mode: settings.price_mode,
            promotions: vec![],
        };
        let priced = price_cart(&cart, &policy).expect("price");
        let total = priced.total();
        let ctx = SaleContext {
            id: SaleId::new(),
            receipt_no: ReceiptNumber::new("S1", "T1", day, seq).expect("receipt"),
            created_at: Timestamp::now(),
            cashier_id: cashier,
            shift_id: None,
            currency: settings.currency(),
            price_mode: settings.price_mode,
            cash_unit: settings.cash_unit(),
        };
        let sale = Sale::checkout(priced, &[Tender::cash(total)], ctx, None).expect("sale");
        let key = sale.id.to_string();
        documents::put_entries(&mut doc, "sales", &[(key.clone(), &sale)]).expect("put");
        doc.commit();
        keys.push(key);
    }
    let loaded = documents::load_bytes(&doc.save()).expect("load");
    (loaded, keys)
}

/// Milliseconds per call of `f`, over `reps` calls.
fn per_call(reps: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..reps {
        f();
    }
    start.elapsed().as_secs_f64() * 1e3 / reps as f64
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("sales: a number"))
        .unwrap_or(300);
    let (doc, keys) = journal(n);
    let (_, sales) = doc.get(automerge::ROOT, "sales").unwrap().expect("sales");
    let last = &keys[keys.len().saturating_sub(20)..];
    let reps = 20;
    let by_key = per_call(reps, || {
        for k in last {
            let sale: Option<Sale> = documents::get_entry(&doc, "sales", k).expect("read");
            assert!(sale.is_some());
        }
    }) / last.len() as f64;
    let one_pass = per_call(reps, || {
        for k in last {
            let sale: Option<Sale> = materialize::entry(&doc, &sales, k).expect("read");
            assert!(sale.is_some());
        }
    }) / last.len() as f64;
    let whole_by_key = per_call(5, || {
        let j: JournalDoc = documents::read(&doc).expect("read");
        assert_eq!(j.sales.len(), n as usize);
    });
    let whole_one_pass = per_call(5, || {
        let j: JournalDoc = materialize::read(&doc).expect("read");
        assert_eq!(j.sales.len(), n as usize);
    });
    println!(
        "journal of {n} sales, {} bytes saved",
        doc.clone().save().len()
    );
    println!("one sale, autosurgeon (a lookup per field)   {by_key:.3} ms");
    println!("one sale, one pass (documents::materialize)  {one_pass:.3} ms");
    println!("whole journal, autosurgeon                   {whole_by_key:.1} ms");
    println!("whole journal, one pass                      {whole_one_pass:.1} ms");
}
