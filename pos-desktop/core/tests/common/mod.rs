//! Shared set-up for the pos-core tests: a store on a real SQLite file in a temp dir.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use pos_core::shared_model::barcode::Barcode;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::catalog::{Product, Unit};
use pos_core::shared_model::ids::UserId;
use pos_core::shared_model::money::Money;
use pos_core::shared_model::payment::Tender;
use pos_core::shared_model::sale::Sale;
use pos_core::shared_model::settings::StoreSettings;
use pos_core::shared_model::users::Role;
use pos_core::{Approval, JoinStore, NewStore, Terminal};

pub const CASHIER_PIN: &str = "1111";
pub const SUPERVISOR_PIN: &str = "2468";

pub struct Shop {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub t: Terminal,
    pub cashier: UserId,
    pub supervisor: UserId,
    pub indomie: Product,
    pub beras: Product,
    pub kopi: Product,
}

impl Shop {
    pub fn approval(&self) -> Approval {
        Approval {
            user_id: self.supervisor,
            pin: SUPERVISOR_PIN.into(),
        }
    }

    /// Checks `cart` out, paid in cash with `amount` rupiah, by the cashier.
    pub fn pay_cash(&mut self, cart: &Cart, amount: i64) -> Sale {
        self.t
            .checkout(
                cart,
                &[Tender::cash(Money::from_i64(amount))],
                self.cashier,
                None,
            )
            .unwrap()
    }

    pub fn reopen(&mut self) {
        let t = Terminal::open(&self.path).expect("reopen");
        self.t = t;
    }
}

pub fn new_terminal(path: &Path, terminal_code: &str) -> Terminal {
    let mut t = Terminal::open(path).expect("open");
    t.create_store(NewStore {
        store_id: "store-1".into(),
        store_code: "TKO1".into(),
        terminal_code: terminal_code.into(),
        settings: StoreSettings::indonesia("Toko Maju", "Jl. Merdeka 1"),
    })
    .expect("create store");
    t
}

pub fn product(sku: &str, name: &str, price: i64, barcode: Option<&str>) -> Product {
    let mut p = Product::new(sku, name, Money::from_i64(price), "standard");
    if let Some(b) = barcode {
        p.barcodes.push(Barcode::parse(b).unwrap());
    }
    p
}

/// A store with a cashier, a supervisor, three products and an open shift (float Rp200.000).
pub fn shop() -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("terminal.db");
    let mut t = new_terminal(&path, "T1");
    let cashier = t.add_user("Sari", Role::Cashier, CASHIER_PIN).unwrap().id;
    let supervisor = t
        .add_user("Budi", Role::Supervisor, SUPERVISOR_PIN)
        .unwrap()
        .id;
    let indomie = t
        .create_product(product(
            "IDM-01",
            "Indomie Goreng",
            3500,
            Some("8998866200301"),
        ))
        .unwrap();
    let mut b = product("BRS-05", "Beras Pandan Wangi", 15000, None);
    b.unit = Unit::Kilogram;
    let beras = t.create_product(b).unwrap();
    let kopi = t
        .create_product(product(
            "KOP-01",
            "Kopi Kapal Api Spécial",
            12900,
            Some("8991002101104"),
        ))
        .unwrap();
    t.start_shift(cashier, Money::from_i64(200_000)).unwrap();
    Shop {
        dir,
        path,
        t,
        cashier,
        supervisor,
        indomie,
        beras,
        kopi,
    }
}

/// Every row of the projected tables, as text, sorted (rowids left out).
pub fn dump_tables(path: &Path) -> Vec<String> {
    let conn = rusqlite_open(path);
    let mut out = Vec::new();
    for t in pos_core::PROJECTED_TABLES {
        if *t == "products_fts" {
            continue;
        }
        let cols: Vec<String> = {
            let mut stmt = conn.prepare(&format!("PRAGMA table_info({t})")).unwrap();
            stmt.query_map([], |r| r.get::<_, String>(1))
                .unwrap()
                .map(Result::unwrap)
                .filter(|c| c != "rowid")
                .collect()
        };
        let sql = format!(
            "SELECT {} FROM {t}",
            cols.iter()
                .map(|c| format!("quote({c})"))
                .collect::<Vec<_>>()
                .join(" || '|' || ")
        );
        let mut stmt = conn.prepare(&sql).unwrap();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|r| format!("{t}: {}", r.unwrap()))
            .collect();
        rows.sort();
        out.extend(rows);
    }
    out
}

pub fn rusqlite_open(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// The store-wide documents of a till, as a sync carries them to another till of the store.
pub fn store_documents(t: &mut Terminal) -> Vec<(String, Vec<u8>)> {
    let ident = t.identity().unwrap().clone();
    [
        &ident.root_doc,
        &ident.catalog_doc,
        &ident.settings_doc,
        &ident.users_doc,
        &ident.parked_doc,
    ]
    .into_iter()
    .map(|id| (id.clone(), t.export_document(id).unwrap()))
    .collect()
}

/// Till "T2" of `a`'s store, in `b.db` next to it, joined with `a`'s store-wide documents.
pub fn join_second_till(a: &mut Shop) -> Terminal {
    let documents = store_documents(&mut a.t);
    let mut identity = a.t.identity().unwrap().clone();
    identity.terminal_code = "T2".into();
    let mut b = Terminal::open(a.dir.path().join("b.db")).unwrap();
    b.join_store(JoinStore {
        identity,
        documents,
    })
    .unwrap();
    b
}
