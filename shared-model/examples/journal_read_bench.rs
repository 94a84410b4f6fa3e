//! How fast a journal's sales are written and read back, for a journal of schema 2 (each sale
//! its JSON in one string) beside the same sales in a journal of schema 1 (each sale a map of its
//! fields, as older tills write it): a till's put of one sale, the saved size, a load from the
//! saved bytes, one sale read (autosurgeon's hydrate, a key lookup per field, and the one-pass
//! reader `documents::materialize`), and a whole journal read.
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
use shared_model::sale::{Sale, SaleContext, SaleFields};
use shared_model::settings::StoreSettings;

/// `n` sales of one to three lines each, as a till makes them.
fn sales(n: u32) -> Vec<Sale> {
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
    (1..=n)
        .map(|seq| {
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
            Sale::checkout(priced, &[Tender::cash(total)], ctx, None).expect("sale")
        })
        .collect()
}

/// A journal of `sales`, one change per sale as a till writes it, each sale written as `V`
/// (`Sale` for schema 2, `SaleFields` for schema 1); the journal loaded from its saved bytes,
/// and the milliseconds each put and commit took on average.
fn journal<V: autosurgeon::Reconcile + From<Sale>>(sales: &[Sale]) -> (AutoCommit, f64) {
    let day = sales[0].business_date;
    let mut doc = documents::create(&JournalDoc::new("store-1", "T1", day)).expect("journal");
    let start = Instant::now();
    for sale in sales {
        let value = V::from(sale.clone());
        documents::put_entries(&mut doc, "sales", &[(sale.id.to_string(), &value)]).expect("put");
        doc.commit();
    }
    let put = start.elapsed().as_secs_f64() * 1e3 / sales.len() as f64;
    (documents::load_bytes(&doc.save()).expect("load"), put)
}
/// Milliseconds per call of `f`, over `reps` calls.
fn per_call(reps: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..reps {
        f();
    }
    start.elapsed().as_secs_f64() * 1e3 / reps as f64
}

/// One schema's figures.
fn measure(name: &str, doc: &AutoCommit, put: f64, keys: &[String]) {
    let n = keys.len();
    let saved = doc.clone().save();
    let load = per_call(5, || {
        documents::load_bytes(&saved).expect("load");
    });
    let (_, sales) = doc.get(automerge::ROOT, "sales").unwrap().expect("sales");
    let last = &keys[n.saturating_sub(20)..];
    let by_key = per_call(20, || {
        for k in last {
            let sale: Option<Sale> = documents::get_entry(doc, "sales", k).expect("read");
            assert!(sale.is_some());
        }
    }) / last.len() as f64;
    let one_pass = per_call(20, || {
        for k in last {
            let sale: Option<Sale> = materialize::entry(doc, &sales, k).expect("read");
            assert!(sale.is_some());
        }
    }) / last.len() as f64;
    let whole = per_call(5, || {
        let j: JournalDoc = materialize::read(doc).expect("read");
        assert_eq!(j.sales.len(), n);
    });
    println!("{name}: {n} sales, {} bytes saved", saved.len());
    println!("  put and commit one sale                 {put:.3} ms");
    println!("  load the saved journal                  {load:.1} ms");
    println!("  one sale, autosurgeon                   {by_key:.3} ms");
    println!("  one sale, one pass                      {one_pass:.3} ms");
    println!("  whole journal, one pass                 {whole:.1} ms");
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("sales: a number"))
        .unwrap_or(300);
    let sales = sales(n);
    let keys: Vec<String> = sales.iter().map(|s| s.id.to_string()).collect();
    let (older, older_put) = journal::<SaleFields>(&sales);
    let (doc, put) = journal::<Sale>(&sales);
    measure(
        "schema 1 (a sale is a map of its fields)",
        &older,
        older_put,
        &keys,
    );
    measure(
        "schema 2 (a sale is its JSON in one string)",
        &doc,
        put,
        &keys,
    );
}
