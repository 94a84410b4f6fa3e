//! The largest legitimate frame the sync endpoint must take, to set `max_frame_bytes` by: the
//! first sync of a store's catalog, which pos-core's CSV import writes as one change (the
//! 100,000-product bench catalog of `pos-desktop/core/benches/support/catalog.rs`: SKU, name,
//! price, category, one EAN-13 each). Prints the size of the sync message a till sends a server
//! that has nothing.
//!
//! ```text
//! cargo run --release -p sync-server --example largest_frame -- 100000
//! ```

use std::collections::HashMap;

use automerge::sync::SyncDoc;
use shared_model::barcode::{Barcode, gtin_check_digit};
use shared_model::catalog::{Category, Product};
use shared_model::documents::{self, CatalogDoc};
use shared_model::ids::CategoryId;
use shared_model::money::{Money, Quantity};

const WORDS: [&str; 16] = [
    "Indomie", "Kopi", "Teh", "Gula", "Beras", "Sabun", "Susu", "Roti", "Minyak", "Kecap",
    "Sambal", "Biskuit", "Permen", "Air", "Mie", "Sarden",
];

fn main() -> anyhow::Result<()> {
    let n: u64 = std::env::args().nth(1).map_or(Ok(100_000), |a| a.parse())?;
    let mut catalog = CatalogDoc::new("store-1");
    let categories: HashMap<&str, CategoryId> =
        WORDS.iter().map(|w| (*w, CategoryId::new())).collect();
    for (w, id) in &categories {
        catalog.categories.insert(
            id.to_string(),
            Category {
                id: *id,
                name: w.to_string(),
                parent: None,
            },
        );
    }
    for i in 0..n {
        let w = WORDS[(i % 16) as usize];
        let body = format!("899{i:09}");
        let mut p = Product::new(
            &format!("SKU-{i:07}"),
            &format!("{w} Goreng {} gr", 50 + i % 950),
            Money::from_i64((1000 + (i % 500) * 100) as i64),
            "standard",
        );
        p.category_id = Some(categories[w]);
        p.barcodes.push(Barcode::parse(&format!(
            "{body}{}",
            gtin_check_digit(&body)
        ))?);
        p.low_stock_threshold = Some(Quantity::from_i64(5));
        catalog.products.insert(p.id.to_string(), p);
    }
    let started = std::time::Instant::now();
    let mut doc = documents::create(&catalog)?;
    let saved = doc.save().len();
    let hello = automerge::Automerge::new()
        .generate_sync_message(&mut automerge::sync::State::new())
        .expect("hello");
    let mut till = doc.document().clone();
    let mut state = automerge::sync::State::new();
    till.receive_sync_message(&mut state, hello)?;
    let frame = till
        .generate_sync_message(&mut state)
        .map(|m| m.encode().len())
        .unwrap_or(0);
    println!(
        "{n} products: first-sync message {:.1} MiB, saved document {:.1} MiB ({:.1} s)",
        frame as f64 / 1048576.0,
        saved as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
