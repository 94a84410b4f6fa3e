//! The demo store: a local store (no server) with a sample Indonesian catalog, so the till can
//! be tried at once. The same catalog and users seed a fresh server store at enrolment when
//! asked ([`crate::enrolment::enrol`] with `seed_demo_catalog`).

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use shared_model::barcode::{Barcode, gtin_check_digit};
use shared_model::catalog::{Category, Product, Unit};
use shared_model::codec::Timestamp;
use shared_model::ids::{CategoryId, PromotionId};
use shared_model::money::{Money, Quantity};
use shared_model::promotion::{Promotion, PromotionRule};
use shared_model::settings::StoreSettings;
use shared_model::stock::MovementKind;
use shared_model::users::Role;
use tracing::{info, instrument};

use crate::error::CoreResult;
use crate::terminal::{NewStore, Terminal};

/// The demo store's users, shown on the first-run screen.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoStore {
    pub cashier_name: String,
    pub cashier_pin: String,
    pub supervisor_name: String,
    pub supervisor_pin: String,
}

/// The demo store's name and codes.
pub const DEMO_STORE_NAME: &str = "Toko Demo SnapKasir";
pub const DEMO_STORE_CODE: &str = "DEMO";
pub const DEMO_TERMINAL_CODE: &str = "T1";

/// The weighed item's SKU: the item code a scale prints in a `20`–`29` EAN-13 (five digits
/// after the prefix, then the weight in grams), e.g. `2010001007356` for 0.735 kg.
pub const DEMO_WEIGHED_SKU: &str = "10001";

/// The demo users (the same in every demo store: the PINs are printed on the first-run screen).
pub fn demo_users() -> DemoStore {
    DemoStore {
        cashier_name: "Sari".into(),
        cashier_pin: "1234".into(),
        supervisor_name: "Budi".into(),
        supervisor_pin: "9999".into(),
    }
}

/// The store's static QRIS payload (a made-up merchant, CRC computed).
pub fn demo_qris_payload() -> String {
    fn tlv(id: &str, value: &str) -> String {
        format!("{id}{:02}{value}", value.len())
    }
    let account = [
        tlv("00", "ID.CO.QRIS.WWW"),
        tlv("01", "936000140000000001"),
        tlv("02", "ID1020000000001"),
        tlv("03", "UMI"),
    ]
    .concat();
    let body = [
        tlv("00", "01"),
        tlv("01", "11"),
        tlv("26", &account),
        tlv("52", "5411"),
        tlv("53", "360"),
        tlv("58", "ID"),
        tlv("59", "TOKO DEMO SNAPKASIR"),
        tlv("60", "JAKARTA"),
    ]
    .concat();
    shared_model::qris::with_crc(&body)
}

/// The demo store's settings: Indonesian defaults (PPN, Rp100 cash rounding, weighed codes
/// 20–29) and the static QRIS payload.
pub fn demo_settings(store_name: &str) -> StoreSettings {
    let mut s = StoreSettings::indonesia(store_name, "Jl. Contoh No. 1, Jakarta");
    s.receipt_header = vec!["Selamat datang".into()];
    s.qris_static_payload = Some(demo_qris_payload());
    s
}

/// Category, name, price (rupiah, tax included), tax class. The first is the weighed item.
const CATALOG: &[(&str, &str, i64, &str)] = &[
    ("Sembako", "Beras Curah", 14_000, "exempt"),
    ("Sembako", "Beras Pandan Wangi 5 kg", 72_000, "exempt"),
    ("Sembako", "Gula Pasir Gulaku 1 kg", 17_500, "exempt"),
    ("Sembako", "Telur Ayam 10 butir", 28_000, "exempt"),
    ("Sembako", "Minyak Goreng Bimoli 2 L", 38_500, "standard"),
    (
        "Sembako",
        "Tepung Terigu Segitiga Biru 1 kg",
        13_500,
        "standard",
    ),
    ("Mi Instan", "Indomie Goreng", 3_500, "standard"),
    ("Mi Instan", "Indomie Soto Mie", 3_300, "standard"),
    ("Mi Instan", "Mie Sedaap Goreng", 3_400, "standard"),
    ("Mi Instan", "Sarimi Isi 2 Ayam Bawang", 4_200, "standard"),
    ("Mi Instan", "Pop Mie Ayam", 6_000, "standard"),
    ("Mi Instan", "Supermi Ayam Bawang", 3_200, "standard"),
    ("Minuman", "Aqua 600 ml", 3_500, "standard"),
    ("Minuman", "Teh Botol Sosro 450 ml", 5_000, "standard"),
    ("Minuman", "Teh Pucuk Harum 350 ml", 4_000, "standard"),
    (
        "Minuman",
        "Kopi Kapal Api Special 165 g",
        14_500,
        "standard",
    ),
    ("Minuman", "Good Day Cappuccino Sachet", 2_000, "standard"),
    ("Minuman", "Ultra Milk Coklat 250 ml", 6_500, "standard"),
    (
        "Makanan Ringan",
        "Chitato Sapi Panggang 68 g",
        11_500,
        "standard",
    ),
    (
        "Makanan Ringan",
        "Qtela Singkong Balado 60 g",
        8_500,
        "standard",
    ),
    ("Makanan Ringan", "Oreo Vanila 133 g", 9_500, "standard"),
    ("Makanan Ringan", "Roma Kelapa 300 g", 10_500, "standard"),
    (
        "Makanan Ringan",
        "SilverQueen Almond 58 g",
        16_000,
        "standard",
    ),
    (
        "Makanan Ringan",
        "Tango Wafer Cokelat 130 g",
        8_000,
        "standard",
    ),
    ("Kebersihan", "Sabun Lifebuoy 110 g", 4_500, "standard"),
    ("Kebersihan", "Pepsodent 190 g", 13_000, "standard"),
    ("Kebersihan", "Rinso Cair 750 ml", 22_500, "standard"),
    (
        "Kebersihan",
        "Sunlight Jeruk Nipis 755 ml",
        17_000,
        "standard",
    ),
    ("Kebersihan", "Sunsilk Hitam 170 ml", 24_000, "standard"),
    ("Kebersihan", "Tisu Paseo 250 lembar", 15_500, "standard"),
];

/// The EAN-13 of the `n`th demo product: `899` (Indonesia) + `9000000` + two digits + check.
pub fn demo_barcode(n: usize) -> String {
    let body = format!("8999000000{n:02}");
    format!("{body}{}", gtin_check_digit(&body))
}

impl Terminal {
    /// A local store (no server) with 30 sample Indonesian products in 5 categories with valid
    /// EAN-13 barcodes (one weighed item sold per kg, "Beras Curah", SKU
    /// [`DEMO_WEIGHED_SKU`], scanned with the store's weighed-barcode rules), PPN and a
    /// tax-exempt class, Rp100 cash rounding, a static QRIS payload, one promotion, a cashier
    /// (PIN 1234), a supervisor (PIN 9999) and opening stock; no shift is opened. Remembered so
    /// [`Terminal::demo_info`] answers after restart.
    #[instrument(skip_all)]
    pub fn create_demo_store(&mut self) -> CoreResult<DemoStore> {
        self.create_store(NewStore {
            store_id: format!("demo-{}", uuid::Uuid::now_v7()),
            store_code: DEMO_STORE_CODE.into(),
            terminal_code: DEMO_TERMINAL_CODE.into(),
            settings: demo_settings(DEMO_STORE_NAME),
        })?;
        let demo = self.seed_demo()?;
        self.conn.execute(
            "INSERT INTO demo_store (id, data) VALUES (1, ?1)",
            params![serde_json::to_string(&demo)?],
        )?;
        info!("created the demo store");
        Ok(demo)
    }

    /// The demo store's users, when this terminal holds the local demo store.
    pub fn demo_info(&self) -> CoreResult<Option<DemoStore>> {
        let data: Option<String> = self
            .conn
            .query_row("SELECT data FROM demo_store WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    /// Adds the demo catalog, promotion and users to this (new, empty) store.
    pub(crate) fn seed_demo(&mut self) -> CoreResult<DemoStore> {
        let mut categories: Vec<(&str, CategoryId)> = Vec::new();
        let mut products = Vec::with_capacity(CATALOG.len());
        for (n, &(category, name, price, tax_class)) in CATALOG.iter().enumerate() {
            let category_id = match categories.iter().find(|(c, _)| *c == category) {
                Some((_, id)) => *id,
                None => {
                    let c = self.save_category(Category {
                        id: CategoryId::new(),
                        name: category.into(),
                        parent: None,
                    })?;
                    categories.push((category, c.id));
                    c.id
                }
            };
            let mut p = if n == 0 {
                let mut p = Product::new(DEMO_WEIGHED_SKU, name, Money::from_i64(price), tax_class);
                p.unit = Unit::Kilogram;
                p
            } else {
                let mut p = Product::new(
                    &format!("DM-{n:03}"),
                    name,
                    Money::from_i64(price),
                    tax_class,
                );
                p.barcodes.push(Barcode::parse(&demo_barcode(n))?);
                p
            };
            p.category_id = Some(category_id);
            p.updated_at = Timestamp::now();
            products.push(self.create_product(p)?);
        }
        let teh = products
            .iter()
            .find(|p| p.name.starts_with("Teh Pucuk"))
            .map(|p| p.id)
            .unwrap_or(products[0].id);
        self.save_promotion(Promotion {
            id: PromotionId::new(),
            name: "Beli 2 gratis 1 Teh Pucuk".into(),
            rule: PromotionRule::BuyXGetY {
                product_id: teh,
                buy: 2,
                get: 1,
            },
            active: true,
        })?;
        let demo = demo_users();
        self.add_user(&demo.cashier_name, Role::Cashier, &demo.cashier_pin)?;
        let supervisor = self.add_user(
            &demo.supervisor_name,
            Role::Supervisor,
            &demo.supervisor_pin,
        )?;
        // Opening stock, received by the supervisor: 50 kg of the weighed item, 100 of the rest.
        for p in &products {
            let quantity = if p.unit.is_weighed() { 50 } else { 100 };
            self.adjust_stock(
                p.id,
                MovementKind::Receipt,
                Quantity::from_i64(quantity),
                Some("stok awal demo".into()),
                supervisor.id,
            )?;
        }
        Ok(demo)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use shared_model::cart::Cart;
    use shared_model::payment::Tender;

    use super::*;

    fn demo() -> (tempfile::TempDir, std::path::PathBuf, Terminal, DemoStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut t = Terminal::open(&path).unwrap();
        let d = t.create_demo_store().unwrap();
        (dir, path, t, d)
    }

    #[test]
    fn the_demo_store_has_its_catalog_users_and_settings() {
        let (_dir, path, mut t, d) = demo();
        assert_eq!(t.product_count().unwrap(), 30);
        let cats = t.categories().unwrap();
        assert_eq!(cats.len(), 5);
        for c in &cats {
            let hits = t.category_products(c.id, 100).unwrap();
            assert_eq!(hits.len(), 6, "{}", c.name);
            let mut names: Vec<&str> = hits.iter().map(|h| h.name.as_str()).collect();
            names.sort();
            assert_eq!(
                names,
                hits.iter().map(|h| h.name.as_str()).collect::<Vec<_>>()
            );
        }
        let drinks = cats.iter().find(|c| c.name == "Minuman").unwrap().id;
        assert_eq!(t.category_products(drinks, 2).unwrap().len(), 2);
        let first = t.category_products(drinks, 1).unwrap()[0].product_id;
        t.set_product_active(first, false).unwrap();
        let left = t.category_products(drinks, 100).unwrap();
        assert_eq!(left.len(), 5);
        assert!(left.iter().all(|h| h.product_id != first));
        let s = t.settings().unwrap();
        s.validate().unwrap();
        assert_eq!(s.cash_rounding_unit, Money::from_i64(100));
        assert!(s.qris_static_payload.is_some());
        assert_eq!(t.promotions().unwrap().len(), 1);
        assert!(t.open_shift().unwrap().is_none());
        let kopi = t.search("Kopi Kapal Api", 1, false).unwrap()[0].product_id;
        assert_eq!(t.stock_on_hand(kopi).unwrap(), Quantity::from_i64(100));
        let users = t.users().unwrap();
        let cashier = users.iter().find(|u| u.name == d.cashier_name).unwrap();
        t.verify_pin(cashier.id, "1234").unwrap();
        let sup = users.iter().find(|u| u.name == d.supervisor_name).unwrap();
        assert!(sup.role.can_authorize());
        t.verify_pin(sup.id, "9999").unwrap();
        drop(t);
        let t = Terminal::open(&path).unwrap();
        assert_eq!(t.demo_info().unwrap().unwrap().cashier_pin, "1234");
        // A till that is not the demo store has no demo users to show.
        let dir = tempfile::tempdir().unwrap();
        let other = Terminal::open(dir.path().join("o.db")).unwrap();
        assert!(other.demo_info().unwrap().is_none());
    }

    #[test]
    fn a_weighed_item_sells_by_barcode_with_ppn() {
        let (_dir, _path, mut t, d) = demo();
        let cashier = t
            .users()
            .unwrap()
            .into_iter()
            .find(|u| u.name == d.cashier_name)
            .unwrap();
        t.start_shift(cashier.id, Money::from_i64(100_000)).unwrap();
        let mut cart = Cart::new();
        // 0.735 kg of Beras Curah from a scale label: 20 | 10001 | 00735 | check.
        let body = "201000100735";
        let label = format!("{body}{}", gtin_check_digit(body));
        let line = t.cart_add_scan(&mut cart, &label).unwrap();
        let l = cart.lines.iter().find(|l| l.id == line).unwrap();
        assert_eq!(l.quantity, Quantity(dec!(0.735)));
        // Indomie Goreng (PPN) by its EAN-13.
        let indomie = t.search("Indomie Goreng", 1, false).unwrap()[0].clone();
        let code = t.product(indomie.product_id).unwrap().unwrap().barcodes[0].to_string();
        t.cart_add_scan(&mut cart, &code).unwrap();
        let priced = t.price(&cart).unwrap();
        // 0.735 × 14,000 = 10,290 exempt; 3,500 with PPN 11% of the price (12% of 11/12).
        assert_eq!(priced.total(), Money::from_i64(13_790));
        let ppn = priced.totals.tax.tax;
        assert!(ppn > Money::ZERO && ppn < Money::from_i64(400), "{ppn}");
        let sale = t
            .checkout(
                &cart,
                &[Tender::cash(Money::from_i64(20_000))],
                cashier.id,
                None,
            )
            .unwrap();
        assert_eq!(sale.total(), Money::from_i64(13_790));
        // Cash is rounded to Rp100.
        assert_eq!(sale.settlement.change, Money::from_i64(6_200));
    }
}
