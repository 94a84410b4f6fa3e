//! Catalog CSV import and export.

mod common;

use common::*;
use pos_core::shared_model::barcode::gtin_check_digit;
use pos_core::shared_model::catalog::Unit;
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::{CoreError, ImportProgress};

fn ean13(n: u64) -> String {
    let body = format!("899{n:09}");
    format!("{body}{}", gtin_check_digit(&body))
}

fn big_csv(rows: u64) -> String {
    let mut s = String::from(
        "sku,name,price,unit,tax_class,category,barcodes,cost,low_stock_threshold,active\n",
    );
    for i in 0..rows {
        s.push_str(&format!(
            "SKU-{i:06},Produk Nomor {i} Rasa Cokelat,{},pcs,standard,Kategori {},{},{},5,1\n",
            1000 + i * 10,
            i % 20,
            ean13(i),
            500 + i
        ));
    }
    s
}

#[test]
fn tens_of_thousands_of_rows_import_with_progress_and_bad_rows_reported() {
    let mut s = shop();
    let mut csv = big_csv(20_000);
    // Bad rows: lines 20002.. (the header is line 1, row i is line i + 2).
    csv.push_str("BAD-1,Harga salah,abc,pcs,standard,,,,,1\n"); // 20002
    csv.push_str("BAD-2,Pajak salah,1000,pcs,mewah,,,,,1\n"); // 20003
    csv.push_str("BAD-3,Barcode salah,1000,pcs,standard,,8990000000001,,,1\n"); // 20004
    csv.push_str("SKU-000001,Duplikat,1000,pcs,standard,,,,,1\n"); // 20005
    csv.push_str("BAD-4,,1000,pcs,standard,,,,,1\n"); // 20006
    csv.push_str("BAD-5,Negatif,-3,pcs,standard,,,,,1\n"); // 20007
    csv.push_str("BAD-6,Satuan,1000,liter,standard,,,,,1\n"); // 20008
    csv.push_str("BAD-7,Barcode dipakai,1000,pcs,standard,,8998866200301,,,1\n"); // 20009
    csv.push_str("GOOD-1,Gula Pasir,\"14,000\",kg,standard,Sembako,,,,ya\n"); // 20010: bad price
    csv.push_str("GOOD-2,Gula Pasir,14000,kg,standard,Sembako,,,,ya\n"); // 20011
    let mut calls: Vec<ImportProgress> = Vec::new();
    let report =
        s.t.import_catalog_csv(csv.as_bytes(), |p| {
            calls.push(*p);
            true
        })
        .unwrap();
    assert_eq!(report.created, 20_001);
    assert_eq!(report.updated, 0);
    assert_eq!(report.categories_created, 21);
    let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(
        lines,
        [
            20002, 20003, 20004, 20005, 20006, 20007, 20008, 20009, 20010
        ],
        "{:#?}",
        report.rejected
    );
    assert!(
        report.rejected[0].reason.contains("price"),
        "{}",
        report.rejected[0].reason
    );
    assert!(
        report.rejected[3].reason.contains("earlier"),
        "{}",
        report.rejected[3].reason
    );
    assert!(calls.len() >= 40, "{}", calls.len());
    assert!(calls.windows(2).all(|w| w[0].rows_read <= w[1].rows_read));
    let last = calls.last().unwrap();
    assert_eq!(last.rows_written, 20_001);
    assert_eq!(last.rejected, 9);
    assert_eq!(s.t.product_count().unwrap(), 20_004);
    let gula = s.t.product_by_sku("GOOD-2").unwrap().unwrap();
    assert_eq!(gula.unit, Unit::Kilogram);
    assert_eq!(gula.price, Money::from_i64(14_000));
    assert_eq!(
        s.t.lookup_barcode(&ean13(1234)).unwrap().product.sku,
        "SKU-001234"
    );
    assert_eq!(
        s.t.search("produk 1234 cok", 5, false).unwrap()[0].sku,
        "SKU-001234"
    );
    let p = s.t.product_by_sku("SKU-000007").unwrap().unwrap();
    assert_eq!(p.low_stock_threshold, Some(Quantity::from_i64(5)));
    // The catalog document holds the imported rows too.
    assert_eq!(s.t.catalog_document().unwrap().products.len(), 20_004);
}

#[test]
fn a_cancelled_or_broken_import_writes_nothing() {
    let mut s = shop();
    let csv = big_csv(5_000);
    let mut n = 0;
    let res = s.t.import_catalog_csv(csv.as_bytes(), |p| {
        n += 1;
        p.rows_written < 2_000
    });
    assert!(matches!(res, Err(CoreError::Invalid(_))), "{res:?}");
    assert!(n > 5);
    assert_eq!(s.t.product_count().unwrap(), 3);
    assert!(s.t.categories().unwrap().is_empty());
    assert_eq!(s.t.catalog_document().unwrap().products.len(), 3);
    s.reopen();
    assert_eq!(s.t.catalog_document().unwrap().products.len(), 3);
    // A file without the required columns is refused as a whole.
    let res =
        s.t.import_catalog_csv("name,price\nA,1\n".as_bytes(), |_| true);
    assert!(matches!(res, Err(CoreError::Csv(_))));
    // Malformed CSV rows (wrong quoting, bad UTF-8) are reported, good rows import.
    let mut bytes = b"sku,name,price\nA-1,Apel,1000\nA-2,\"Apel".to_vec();
    bytes.extend_from_slice(b" Merah,2000\nA-3,\xff\xfe,3000\n");
    let report = s.t.import_catalog_csv(&bytes[..], |_| true).unwrap();
    assert_eq!(report.created, 1, "{report:?}");
    assert!(!report.rejected.is_empty());
}

#[test]
fn export_and_reimport_round_trip() {
    let mut s = shop();
    s.t.import_catalog_csv(big_csv(300).as_bytes(), |_| true)
        .unwrap();
    let mut out = Vec::new();
    let n = s.t.export_catalog_csv(&mut out).unwrap();
    assert_eq!(n, 303);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.starts_with("sku,name,price,unit,tax_class,category,barcodes"));
    assert!(text.contains("IDM-01,Indomie Goreng,3500,pcs,standard,,8998866200301"));
    // Importing the export updates every product and changes nothing.
    let before = dump_tables(&s.path);
    let report = s.t.import_catalog_csv(&out[..], |_| true).unwrap();
    assert_eq!(report.updated, 303);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let after = dump_tables(&s.path);
    let strip = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .map(|l| match l.find("updated_at") {
                Some(i) => l[..i].to_string(),
                None => l,
            })
            .collect()
    };
    assert_eq!(strip(before), strip(after));
    let mut again = Vec::new();
    s.t.export_catalog_csv(&mut again).unwrap();
    assert_eq!(out, again);
}
