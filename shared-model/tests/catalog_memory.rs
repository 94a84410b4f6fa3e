//! A catalog loaded from its snapshot stays the same size in memory as it receives changes.
//!
//! A till opens its catalog from one snapshot and then applies the changes other tills and the
//! dashboard make, one product at a time. With hexane 1.0.0-alpha.5 as published, each such
//! change kept a copy of the columns it was spliced into (`vendor/hexane/VENDORED.md`): here
//! 5.7 MiB once loaded grew to 9.3 MiB after 40 changes, and a till's 100,000-product catalog
//! held 410 MiB after its first edit. This test counts the heap the loaded document holds
//! before and after the changes, with a counting allocator, so it is exact and does not depend
//! on what the machine is doing; with the fix the two are the same.

use automerge::{ActorId, AutoCommit, Automerge, ReadDoc};
use shared_model::barcode::{Barcode, gtin_check_digit};
use shared_model::catalog::Product;
use shared_model::documents::{self, CatalogDoc, catalog_entries};
use shared_model::money::Money;

/// The system allocator, counting the bytes in use.
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

fn live_mib() -> f64 {
    ALLOCATOR.allocated() as f64 / (1024.0 * 1024.0)
}

const PRODUCTS: usize = 10_000;
const CHANGES: usize = 40;

/// A catalog of `PRODUCTS` products written as a CSV import writes them, saved as one snapshot;
/// with the ids of its products.
fn catalog_snapshot() -> (Vec<u8>, Vec<String>) {
    let mut doc = documents::create(&CatalogDoc::new("store-1")).unwrap();
    let products = doc.get(automerge::ROOT, "products").unwrap().unwrap().1;
    let mut ids = Vec::with_capacity(PRODUCTS);
    for i in 0..PRODUCTS {
        let mut p = Product::new(
            &format!("SKU-{i:07}"),
            &format!("Produk nomor {i}"),
            Money::from_i64(5_000 + i as i64),
            "standard",
        );
        let body = format!("899{i:09}");
        let ean13 = format!("{body}{}", gtin_check_digit(&body));
        p.barcodes = vec![Barcode::parse(&ean13).unwrap()];
        catalog_entries::put_new_product(&mut doc, &products, &p).unwrap();
        ids.push(p.id.to_string());
    }
    (doc.save(), ids)
}

/// `CHANGES` price edits made on another till, each as the change it sends.
fn edits_from_another_till(snapshot: &[u8], ids: &[String]) -> Vec<Vec<u8>> {
    let mut other = AutoCommit::load(snapshot).unwrap();
    other.set_actor(ActorId::random());
    let products = other.get(automerge::ROOT, "products").unwrap().unwrap().1;
    (0..CHANGES)
        .map(|k| {
            let id = &ids[(k * 7_919 + 13) % ids.len()];
            let mut p = catalog_entries::read_product(&other, &products, id)
                .unwrap()
                .unwrap();
            p.price = Money::from_i64(9_000 + k as i64);
            documents::put_entries(&mut other, "products", &[(id.clone(), &p)]).unwrap();
            other.commit();
            other.get_last_local_change().unwrap().raw_bytes().to_vec()
        })
        .collect()
}

#[test]
fn a_loaded_catalog_does_not_grow_with_each_change_it_receives() {
    let (snapshot, ids) = catalog_snapshot();
    let changes = edits_from_another_till(&snapshot, &ids);

    let before = live_mib();
    let mut till = Automerge::load(&snapshot).unwrap();
    let loaded = live_mib() - before;
    for change in &changes {
        till.load_incremental(change).unwrap();
    }
    let after = live_mib() - before;
    eprintln!("loaded: {loaded:.1} MiB; after {CHANGES} received changes: {after:.1} MiB");

    assert_eq!(
        till.get_changes(&[]).len(),
        1 + CHANGES,
        "every change applied"
    );
    assert!(
        after <= loaded * 1.2,
        "the catalog held {loaded:.1} MiB once loaded and {after:.1} MiB after {CHANGES} \
         received changes to one product each: a change must not keep a copy of the document"
    );
}
