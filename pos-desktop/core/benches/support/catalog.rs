//! The 100,000-product catalog both benchmarks sell from (pos-core's `core_bench` and the
//! cashier app's `app-bench`, which includes this file with `#[path]`), so that their figures
//! are about the same store: every product sold by the piece, one EAN-13 each.

use pos_core::shared_model::barcode::gtin_check_digit;

/// The EAN-13 of product `n`.
pub fn ean13(n: u64) -> String {
    let body = format!("899{n:09}");
    format!("{body}{}", gtin_check_digit(&body))
}

const WORDS: [&str; 16] = [
    "Indomie", "Kopi", "Teh", "Gula", "Beras", "Sabun", "Susu", "Roti", "Minyak", "Kecap",
    "Sambal", "Biskuit", "Permen", "Air", "Mie", "Sarden",
];
const FLAVOURS: [&str; 8] = [
    "Goreng", "Soto", "Cokelat", "Vanila", "Stroberi", "Pedas", "Original", "Spécial",
];

/// A catalog of `n` products in pos-core's CSV import format.
pub fn catalog_csv(n: u64) -> String {
    let mut s = String::with_capacity(n as usize * 90);
    s.push_str("sku,name,price,unit,tax_class,category,barcodes,cost,low_stock_threshold,active\n");
    for i in 0..n {
        let w = WORDS[(i % 16) as usize];
        let f = FLAVOURS[((i / 16) % 8) as usize];
        s.push_str(&format!(
            "SKU-{i:07},{w} {f} {} gr,{},pcs,standard,{w},{},,5,1\n",
            50 + i % 950,
            1000 + (i % 500) * 100,
            ean13(i)
        ));
    }
    s
}
