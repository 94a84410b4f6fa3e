//! Catalog use-cases, search and barcode lookup.

mod common;

use common::*;
use pos_core::CoreError;
use pos_core::shared_model::barcode::{EmbeddedValue, WeighedBarcodeRule, gtin_check_digit};
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::catalog::{Category, Unit, Variant};
use pos_core::shared_model::ids::{CategoryId, ProductId, VariantId};
use pos_core::shared_model::money::{Money, Quantity};
use rust_decimal_macros::dec;

fn ean13(body12: &str) -> String {
    format!("{body12}{}", gtin_check_digit(body12))
}

#[test]
fn products_are_created_edited_and_deactivated() {
    let mut s = shop();
    let cat =
        s.t.save_category(Category {
            id: CategoryId::new(),
            name: "Mi Instan".into(),
            parent: None,
        })
        .unwrap();
    let mut p = product("IDM-02", "Indomie Soto", 3400, None);
    p.category_id = Some(cat.id);
    let p = s.t.create_product(p).unwrap();
    assert_eq!(s.t.product(p.id).unwrap().unwrap().name, "Indomie Soto");
    assert_eq!(s.t.categories().unwrap().len(), 1);

    let mut edited = p.clone();
    edited.price = Money::from_i64(3600);
    s.t.update_product(edited).unwrap();
    assert_eq!(
        s.t.product_from_document(p.id).unwrap().unwrap().price,
        Money::from_i64(3600)
    );
    s.t.set_product_active(p.id, false).unwrap();
    assert!(s.t.search("soto", 10, false).unwrap().is_empty());
    assert_eq!(s.t.search("soto", 10, true).unwrap().len(), 1);
    let mut cart = Cart::new();
    assert!(matches!(
        s.t.cart_add_product(&mut cart, p.id, None, Quantity::ONE),
        Err(CoreError::InactiveProduct(_))
    ));

    // Variants with their own SKU, price and barcode.
    let v = Variant {
        id: VariantId::new(),
        name: "Jumbo".into(),
        sku: "IDM-01-J".into(),
        price: Some(Money::from_i64(4500)),
        barcodes: vec![],
        active: true,
    };
    let vid = v.id;
    s.t.add_variant(s.indomie.id, v).unwrap();
    let code = ean13("899886620099");
    s.t.add_barcode(s.indomie.id, Some(vid), &code).unwrap();
    let m = s.t.lookup_barcode(&code).unwrap();
    assert_eq!(m.variant_id, Some(vid));
    s.t.cart_add_scan(&mut cart, &code).unwrap();
    assert_eq!(cart.lines[0].item.unit_price, Money::from_i64(4500));
    assert_eq!(cart.lines[0].item.name, "Indomie Goreng Jumbo");
}

#[test]
fn bad_products_are_refused_with_typed_errors() {
    let mut s = shop();
    // Duplicate SKU and barcode.
    let dup = s.t.create_product(product("IDM-01", "Lain", 1000, None));
    assert!(
        matches!(dup, Err(CoreError::Duplicate { field: "SKU", .. })),
        "{dup:?}"
    );
    let dup =
        s.t.create_product(product("X-1", "Lain", 1000, Some("8998866200301")));
    assert!(
        matches!(
            dup,
            Err(CoreError::Duplicate {
                field: "barcode",
                ..
            })
        ),
        "{dup:?}"
    );
    // Model validation: negative price, empty name, unknown tax class, bad category.
    assert!(matches!(
        s.t.create_product(product("X-2", "Neg", -5, None)),
        Err(CoreError::Model(_))
    ));
    assert!(matches!(
        s.t.create_product(product("X-3", "  ", 5, None)),
        Err(CoreError::Model(_))
    ));
    let mut p = product("X-4", "Pajak", 5, None);
    p.tax_class = "nope".into();
    assert!(matches!(s.t.create_product(p), Err(CoreError::Model(_))));
    let mut p = product("X-5", "Kategori", 5, None);
    p.category_id = Some(CategoryId::new());
    assert!(matches!(
        s.t.create_product(p),
        Err(CoreError::NotFound {
            what: "category",
            ..
        })
    ));
    assert!(matches!(
        s.t.update_product(product("X-6", "Tidak ada", 5, None)),
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.t.add_barcode(s.indomie.id, None, "8998866200302"),
        Err(CoreError::Model(_))
    ));
    assert!(matches!(
        s.t.save_category(Category {
            id: CategoryId::new(),
            name: "".into(),
            parent: None
        }),
        Err(CoreError::Model(_))
    ));
    assert!(matches!(
        s.t.set_product_active(ProductId::new(), false),
        Err(CoreError::NotFound { .. })
    ));
    // Nothing of the refused products was written.
    assert_eq!(s.t.product_count().unwrap(), 3);
    assert_eq!(s.t.catalog_document().unwrap().products.len(), 3);
}

#[test]
fn search_matches_prefixes_and_words_ignoring_case_and_accents() {
    let mut s = shop();
    for (sku, name) in [
        ("KOP-02", "Kopi Susu Gula Aren"),
        ("TEH-01", "Teh Botol Sosro"),
        ("SAB-01", "Sabun Lifebuoy Merah"),
        ("CAF-01", "Café Crème"),
    ] {
        s.t.create_product(product(sku, name, 5000, None)).unwrap();
    }
    let names =
        |hits: Vec<pos_core::ProductHit>| hits.into_iter().map(|h| h.name).collect::<Vec<_>>();
    let hits = names(s.t.search("kop", 10, false).unwrap());
    assert_eq!(hits.len(), 2, "{hits:?}");
    // Words in any order, each a prefix.
    assert_eq!(
        names(s.t.search("aren kop", 10, false).unwrap()),
        ["Kopi Susu Gula Aren"]
    );
    // Case and accents.
    assert_eq!(
        names(s.t.search("SPECIAL", 10, false).unwrap()),
        ["Kopi Kapal Api Spécial"]
    );
    assert_eq!(
        names(s.t.search("creme", 10, false).unwrap()),
        ["Café Crème"]
    );
    assert_eq!(
        names(s.t.search("cafe cr", 10, false).unwrap()),
        ["Café Crème"]
    );
    // SKU and barcode.
    assert_eq!(
        names(s.t.search("TEH-01", 10, false).unwrap()),
        ["Teh Botol Sosro"]
    );
    assert_eq!(
        names(s.t.search("sab", 10, false).unwrap()),
        ["Sabun Lifebuoy Merah"]
    );
    assert_eq!(
        names(s.t.search("8998866200301", 10, false).unwrap()),
        ["Indomie Goreng"]
    );
    assert_eq!(
        names(s.t.search("89988", 10, false).unwrap()),
        ["Indomie Goreng"]
    );
    // Nothing, odd input, limits.
    assert!(s.t.search("zzz", 10, false).unwrap().is_empty());
    assert!(s.t.search("", 10, false).unwrap().is_empty());
    assert!(s.t.search("\"*()-", 10, false).unwrap().is_empty());
    assert!(s.t.search("NEAR(a b)", 10, false).is_ok());
    assert_eq!(s.t.search("k", 1, false).unwrap().len(), 1);
}

#[test]
fn barcodes_are_looked_up_exactly_and_weighed_codes_decoded() {
    let mut s = shop();
    let m = s.t.lookup_barcode("8998866200301").unwrap();
    assert_eq!(m.product.id, s.indomie.id);
    assert_eq!(m.quantity, Quantity::ONE);
    assert!(!m.weighed);
    assert!(matches!(
        s.t.lookup_barcode("899886620030"),
        Err(CoreError::UnknownBarcode(_))
    ));
    assert!(matches!(
        s.t.lookup_barcode("1234567890128"),
        Err(CoreError::UnknownBarcode(_))
    ));
    // The scale prints 20 + item 00777 + 01250 g: the product whose SKU is the item code.
    let mut daging = product("777", "Daging Sapi", 120_000, None);
    daging.unit = Unit::Kilogram;
    let daging = s.t.create_product(daging).unwrap();
    let code = ean13("200077701250");
    let m = s.t.lookup_barcode(&code).unwrap();
    assert!(m.weighed);
    assert_eq!(m.product.id, daging.id);
    assert_eq!(m.quantity, Quantity(dec!(1.250)));
    let mut cart = Cart::new();
    s.t.cart_add_scan(&mut cart, &code).unwrap();
    let priced = s.t.price(&cart).unwrap();
    assert_eq!(priced.total(), Money::from_i64(150_000));
    // A price-embedded rule (prefix 21) turns the price into a weight at the shelf price.
    let mut settings = s.t.settings().unwrap();
    settings.weighed_barcodes.retain(|r| r.prefix != 21);
    settings.weighed_barcodes.push(WeighedBarcodeRule {
        prefix: 21,
        item_digits: 5,
        value: EmbeddedValue::Price,
    });
    s.t.update_settings(settings).unwrap();
    let code = ean13("210077760000");
    let m = s.t.lookup_barcode(&code).unwrap();
    assert_eq!(m.quantity, Quantity(dec!(0.5)));
    // A weighed code for a piece product is refused; an unknown item code is unknown.
    s.t.create_product(product("888", "Roti", 10_000, None))
        .unwrap();
    assert!(matches!(
        s.t.lookup_barcode(&ean13("200088801000")),
        Err(CoreError::Invalid(_))
    ));
    assert!(matches!(
        s.t.lookup_barcode(&ean13("200099901000")),
        Err(CoreError::UnknownBarcode(_))
    ));
}

#[test]
fn duplicate_codes_from_two_offline_tills_are_flagged_after_merge() {
    let mut a = shop();
    let ident = a.t.identity().unwrap().clone();
    let mut b = join_second_till(&mut a);
    assert_eq!(b.product_count().unwrap(), 3);
    assert!(b.search("indomie", 5, false).unwrap().len() == 1);
    // Both tills add a product with the same barcode while offline.
    let code = ean13("899000000001");
    a.t.create_product(product("A-1", "Gula A", 15000, Some(&code)))
        .unwrap();
    b.create_product(product("B-1", "Gula B", 15000, Some(&code)))
        .unwrap();
    let bytes = b.export_document(&ident.catalog_doc).unwrap();
    a.t.merge_document(&ident.catalog_doc, &bytes).unwrap();
    let dups = a.t.duplicate_codes().unwrap();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].code, code);
    assert_eq!(dups[0].product_ids.len(), 2);
    assert_eq!(a.t.product_count().unwrap(), 5);
}

/// The products a search must find: every typed word is a prefix of a word of the name or the
/// SKU (ASCII names here, so lower-casing is the whole folding).
fn expected_matches(catalog: &[(String, String)], typed: &str) -> Vec<String> {
    let typed: Vec<String> = typed
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut out: Vec<String> = catalog
        .iter()
        .filter(|(sku, name)| {
            let words: Vec<String> = format!("{name} {sku}")
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect();
            typed
                .iter()
                .all(|t| words.iter().any(|w| w.starts_with(t.as_str())))
        })
        .map(|(_, name)| name.clone())
        .collect();
    out.sort();
    out
}

/// Prefixes of every length, 1 to past the 8 characters the prefix indexes cover (schema
/// 11), alone and after another word, find exactly the products whose words they begin.
#[test]
fn search_finds_every_prefix_length_alone_and_after_another_word() {
    let mut s = shop();
    let mut catalog: Vec<(String, String)> = Vec::new();
    let words = [
        "Stroberi",
        "Strawberry",
        "Original",
        "Orisinal",
        "Paracetamol",
        "Paramex",
        "Susu",
        "Sus",
        "Kopi",
        "Kopiko",
    ];
    for (i, w) in words.iter().enumerate() {
        let other = words[(i + 3) % words.len()];
        let (sku, name) = (format!("T-{i:02}"), format!("{w} {other} {i}0 gr"));
        s.t.create_product(product(&sku, &name, 1000, None))
            .unwrap();
        catalog.push((sku, name));
    }
    for (sku, name) in [
        ("IDM-01", "Indomie Goreng"),
        ("BRS-05", "Beras Pandan Wangi"),
        ("KOP-01", "Kopi Kapal Api Spécial"),
    ] {
        catalog.push((sku.into(), name.into()));
    }
    for w in words {
        let w = w.to_lowercase();
        for end in 1..=w.len() {
            for typed in [w[..end].to_string(), format!("susu {}", &w[..end])] {
                let mut got: Vec<String> =
                    s.t.search(&typed, 200, false)
                        .unwrap()
                        .into_iter()
                        .map(|h| h.name)
                        .collect();
                got.sort();
                assert_eq!(got, expected_matches(&catalog, &typed), "typed {typed:?}");
            }
        }
    }
}

/// Schema 11 rebuilds `products_fts` with prefix indexes of 1–8 characters from the old
/// table's content: every row is kept with its rowid, and prefix queries answer from it.
#[test]
fn schema_11_keeps_the_search_index_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let mut conn = pos_core::db::connect(&path).unwrap();
    let before_11: Vec<_> = pos_core::db::MIGRATIONS
        .iter()
        .copied()
        .filter(|m| m.version < 11)
        .collect();
    pos_core::db::migrate(&mut conn, &path, &before_11).unwrap();
    let rows = [
        (7_i64, "Susu Stroberi 50 gr", "SKU-7", "8990000000071"),
        (9, "Kopi Original 90 gr", "SKU-9", "8990000000095"),
    ];
    for (rowid, name, sku, code) in rows {
        conn.execute(
            "INSERT INTO products_fts (rowid, name, sku, barcodes) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![rowid, name, sku, code],
        )
        .unwrap();
    }
    pos_core::db::migrate(&mut conn, &path, pos_core::db::MIGRATIONS).unwrap();
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'products_fts'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sql.contains("prefix = '1 2 3 4 5 6 7 8'"), "{sql}");
    let kept: Vec<(i64, String, String, String)> = conn
        .prepare("SELECT rowid, name, sku, barcodes FROM products_fts ORDER BY rowid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let want: Vec<(i64, String, String, String)> = rows
        .iter()
        .map(|(r, n, s, c)| (*r, n.to_string(), s.to_string(), c.to_string()))
        .collect();
    assert_eq!(kept, want);
    let found = |q: &str| -> Vec<i64> {
        conn.prepare("SELECT rowid FROM products_fts WHERE products_fts MATCH ?1 ORDER BY rowid")
            .unwrap()
            .query_map([q], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(found("\"strob\"*"), [7]);
    assert_eq!(found("\"origina\"*"), [9]);
    assert_eq!(found("\"899000000\"*"), [7, 9]);
}
