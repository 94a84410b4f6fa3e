//! A catalog change received from another till through the sync adapter (the path of the
//! server's and the LAN's sessions) is projected from the entries it touched: exactly those
//! rows change, and the result equals a rebuild of the query tables from the documents.

mod common;

use std::collections::{BTreeSet, HashMap};

use automerge::sync::State;
use common::{dump_tables, join_second_till, product, shop};
use pos_core::Terminal;
use pos_core::shared_model::barcode::Barcode;
use pos_core::shared_model::catalog::{Category, Variant};
use pos_core::shared_model::ids::{CategoryId, PromotionId, VariantId};
use pos_core::shared_model::money::Money;
use pos_core::shared_model::promotion::{Promotion, PromotionRule};
use pos_core::shared_model::sync_session::SyncStore;
use pos_core::sync::adapter::TerminalSyncStore;

/// Two tills of one store with the sync state of one session between them.
struct Pair {
    shop: common::Shop,
    b: Terminal,
    catalog: String,
    state_a: State,
    state_b: State,
}

impl Pair {
    fn new() -> Pair {
        let mut shop = shop();
        let b = join_second_till(&mut shop);
        let catalog = shop.t.identity().unwrap().catalog_doc.clone();
        let mut pair = Pair {
            shop,
            b,
            catalog,
            state_a: State::new(),
            state_b: State::new(),
        };
        pair.sync();
        pair
    }

    /// Runs the sync protocol on the catalog until both tills are quiet; returns how many
    /// received messages changed B's and A's document.
    fn sync(&mut self) -> (usize, usize) {
        let (mut pa, mut pb) = (HashMap::new(), HashMap::new());
        let (mut changed_b, mut changed_a) = (0, 0);
        for _ in 0..20 {
            let mut quiet = true;
            let to_b = TerminalSyncStore::new(&mut self.shop.t, &mut pa)
                .generate(&self.catalog, &mut self.state_a)
                .unwrap();
            if let Some(m) = to_b {
                quiet = false;
                if TerminalSyncStore::new(&mut self.b, &mut pb)
                    .receive(&self.catalog, &mut self.state_b, m)
                    .unwrap()
                {
                    changed_b += 1;
                }
            }
            let to_a = TerminalSyncStore::new(&mut self.b, &mut pb)
                .generate(&self.catalog, &mut self.state_b)
                .unwrap();
            if let Some(m) = to_a {
                quiet = false;
                if TerminalSyncStore::new(&mut self.shop.t, &mut pa)
                    .receive(&self.catalog, &mut self.state_a, m)
                    .unwrap()
                {
                    changed_a += 1;
                }
            }
            if quiet {
                return (changed_b, changed_a);
            }
        }
        panic!("the sync did not settle");
    }

    fn b_path(&self) -> std::path::PathBuf {
        self.shop.dir.path().join("b.db")
    }

    /// B's catalog rows.
    fn b_catalog_rows(&self) -> BTreeSet<String> {
        catalog_rows(&self.b_path())
    }

    /// Syncs A's change to B and returns the catalog rows of B that it removed and added.
    fn sync_and_diff(&mut self) -> (BTreeSet<String>, BTreeSet<String>) {
        let before = self.b_catalog_rows();
        let (changed_b, _) = self.sync();
        assert_eq!(changed_b, 1, "one message carried the change");
        let after = self.b_catalog_rows();
        (
            before.difference(&after).cloned().collect(),
            after.difference(&before).cloned().collect(),
        )
    }

    /// B's query tables equal a rebuild from its documents, and B's catalog rows equal A's.
    fn assert_b_is_a_rebuild_and_matches_a(&mut self) {
        let incremental = dump_tables(&self.b_path());
        self.b.rebuild_query_tables().unwrap();
        assert_eq!(dump_tables(&self.b_path()), incremental);
        assert_eq!(self.b_catalog_rows(), catalog_rows(&self.shop.path));
    }
}

fn catalog_rows(path: &std::path::Path) -> BTreeSet<String> {
    dump_tables(path)
        .into_iter()
        .filter(|r| {
            ["products:", "barcodes:", "categories:", "promotions:"]
                .iter()
                .any(|t| r.starts_with(t))
        })
        .collect()
}

fn ean13(body12: &str) -> String {
    format!(
        "{body12}{}",
        pos_core::shared_model::barcode::gtin_check_digit(body12)
    )
}

/// Every changed row mentions `id`.
fn only_rows_of(id: &str, removed: &BTreeSet<String>, added: &BTreeSet<String>) {
    for r in removed.iter().chain(added) {
        assert!(r.contains(id), "row of another entry changed: {r}");
    }
}

#[test]
fn a_received_product_edit_updates_exactly_its_rows() {
    let mut p = Pair::new();
    let id = p.shop.indomie.id;
    let old_code = p.shop.indomie.barcodes[0].to_string();
    let new_code = ean13("899000000099");

    // Price and name.
    let mut indomie = p.shop.t.product(id).unwrap().unwrap();
    indomie.price = Money::from_i64(3900);
    indomie.name = "Indomie Goreng Jumbo".into();
    p.shop.t.update_product(indomie).unwrap();
    let (removed, added) = p.sync_and_diff();
    only_rows_of(&id.to_string(), &removed, &added);
    assert_eq!(removed.len(), 1);
    assert_eq!(added.len(), 1);
    let got = p.b.product(id).unwrap().unwrap();
    assert_eq!(got.price, Money::from_i64(3900));
    assert_eq!(p.b.search("jumbo", 5, false).unwrap()[0].product_id, id);
    p.assert_b_is_a_rebuild_and_matches_a();

    // A barcode removed and another added.
    let mut indomie = p.shop.t.product(id).unwrap().unwrap();
    indomie.barcodes = vec![Barcode::parse(&new_code).unwrap()];
    p.shop.t.update_product(indomie).unwrap();
    let (removed, added) = p.sync_and_diff();
    only_rows_of(&id.to_string(), &removed, &added);
    assert!(
        removed
            .iter()
            .any(|r| r.starts_with("barcodes:") && r.contains(&old_code))
    );
    assert!(
        added
            .iter()
            .any(|r| r.starts_with("barcodes:") && r.contains(&new_code))
    );
    assert!(p.b.lookup_barcode(&old_code).is_err());
    assert_eq!(p.b.lookup_barcode(&new_code).unwrap().product.id, id);
    assert_eq!(p.b.search(&new_code, 5, false).unwrap()[0].product_id, id);
    p.assert_b_is_a_rebuild_and_matches_a();

    // A variant with its own barcode.
    let variant_code = ean13("899000000098");
    let vid = VariantId::new();
    p.shop
        .t
        .add_variant(
            id,
            Variant {
                id: vid,
                name: "Rendang".into(),
                sku: "IDM-01-R".into(),
                price: Some(Money::from_i64(4200)),
                barcodes: vec![Barcode::parse(&variant_code).unwrap()],
                active: true,
            },
        )
        .unwrap();
    let (removed, added) = p.sync_and_diff();
    only_rows_of(&id.to_string(), &removed, &added);
    let scan = p.b.lookup_barcode(&variant_code).unwrap();
    assert_eq!((scan.product.id, scan.variant_id), (id, Some(vid)));
    assert_eq!(p.b.search("rendang", 5, false).unwrap()[0].product_id, id);
    p.assert_b_is_a_rebuild_and_matches_a();

    // Deactivation.
    p.shop.t.set_product_active(id, false).unwrap();
    let (removed, added) = p.sync_and_diff();
    only_rows_of(&id.to_string(), &removed, &added);
    assert!(!p.b.product(id).unwrap().unwrap().active);
    assert!(p.b.search("jumbo", 5, false).unwrap().is_empty());
    assert_eq!(p.b.search("jumbo", 5, true).unwrap().len(), 1);
    p.assert_b_is_a_rebuild_and_matches_a();

    // A new product.
    let gula = p
        .shop
        .t
        .create_product(product(
            "GUL-01",
            "Gula Pasir",
            16000,
            Some(&ean13("899000000097")),
        ))
        .unwrap();
    let (removed, added) = p.sync_and_diff();
    only_rows_of(&gula.id.to_string(), &removed, &added);
    assert!(removed.is_empty());
    assert_eq!(p.b.product_by_sku("GUL-01").unwrap().unwrap(), gula);
    p.assert_b_is_a_rebuild_and_matches_a();
}

#[test]
fn received_categories_and_promotions_update_their_rows() {
    let mut p = Pair::new();
    let cat = Category {
        id: CategoryId::new(),
        name: "Mie".into(),
        parent: None,
    };
    p.shop.t.save_category(cat.clone()).unwrap();
    let (removed, added) = p.sync_and_diff();
    only_rows_of(&cat.id.to_string(), &removed, &added);
    assert_eq!(p.b.category(cat.id).unwrap(), Some(cat.clone()));
    p.shop
        .t
        .save_category(Category {
            name: "Mie Instan".into(),
            ..cat.clone()
        })
        .unwrap();
    let (removed, added) = p.sync_and_diff();
    only_rows_of(&cat.id.to_string(), &removed, &added);
    assert_eq!(p.b.category(cat.id).unwrap().unwrap().name, "Mie Instan");
    p.assert_b_is_a_rebuild_and_matches_a();

    let promo = Promotion {
        id: PromotionId::new(),
        ..promotion_template(&mut p)
    };
    p.shop.t.save_promotion(promo.clone()).unwrap();
    let (removed, added) = p.sync_and_diff();
    only_rows_of(&promo.id.to_string(), &removed, &added);
    assert_eq!(p.b.promotions().unwrap(), vec![promo.clone()]);
    p.shop
        .t
        .save_promotion(Promotion {
            active: false,
            ..promo.clone()
        })
        .unwrap();
    let (removed, added) = p.sync_and_diff();
    only_rows_of(&promo.id.to_string(), &removed, &added);
    assert!(!p.b.promotions().unwrap()[0].active);
    p.assert_b_is_a_rebuild_and_matches_a();
}

/// Buy 2 coffees, get 1 free.
fn promotion_template(p: &mut Pair) -> Promotion {
    Promotion {
        id: PromotionId::new(),
        name: "Kopi beli 2 gratis 1".into(),
        rule: PromotionRule::BuyXGetY {
            product_id: p.shop.kopi.id,
            buy: 2,
            get: 1,
        },
        active: true,
    }
}

#[test]
fn concurrent_offline_edits_on_two_tills_still_flag_duplicate_codes() {
    let mut p = Pair::new();
    let code = ean13("899000000011");
    // Offline: A gives the code to Indomie, B to Kopi; B also creates a product with a SKU A
    // creates too.
    p.shop
        .t
        .add_barcode(p.shop.indomie.id, None, &code)
        .unwrap();
    let kopi = p.shop.kopi.id;
    p.b.add_barcode(kopi, None, &code).unwrap();
    p.shop
        .t
        .create_product(product("TEH-01", "Teh A", 5000, None))
        .unwrap();
    p.b.create_product(product("TEH-01", "Teh B", 5000, None))
        .unwrap();
    let (changed_b, changed_a) = p.sync();
    assert!(changed_b >= 1 && changed_a >= 1);
    for t in [&p.shop.t, &p.b] {
        let dups = t.duplicate_codes().unwrap();
        let mut fields: Vec<(&str, &str)> = dups
            .iter()
            .map(|d| (d.field.as_str(), d.code.as_str()))
            .collect();
        fields.sort();
        assert_eq!(fields, vec![("barcode", code.as_str()), ("sku", "TEH-01")]);
        assert!(dups.iter().all(|d| d.product_ids.len() == 2));
    }
    p.assert_b_is_a_rebuild_and_matches_a();
}
