//! The till with a large catalog (issue 17): `cargo bench -p pos-core --bench catalog_scale`
//! (`POS_BENCH_PRODUCTS`, default 100,000; `POS_BENCH_DIR` for the store files, on the real
//! disk). Every figure is printed beside its baseline from the same run:
//!
//! 1. an edit of one product on a till (`update_product`, 200 products, in a fresh process
//!    opened on the store) and that process's peak RSS, beside a bare single-row
//!    `synchronous=FULL` insert on the same disk; after each edit the child runs what the
//!    shell runs once a command returned (`compact_documents`), timed apart from the edit;
//! 2. a change to one product made on till A and received by till B through the sync adapter
//!    (the path of the server's and the LAN's sessions), time of B's `receive` of the message
//!    carrying it, beside a whole-catalog read as the old projection did it (autosurgeon
//!    hydrate of the catalog document);
//! 3. a new till joining the store (its documents received → joined → shift opened → first
//!    sale committed), in a fresh process, with its peak RSS, beside the same old read;
//! 4. CSV import of the catalog, beside writing the same products into a document with
//!    autosurgeon's reconcile as the import did before (the document part only).

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use automerge::sync::State;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::catalog::Product;
use pos_core::shared_model::documents::{self, CatalogDoc};
use pos_core::shared_model::money::Money;
use pos_core::shared_model::payment::Tender;
use pos_core::shared_model::settings::StoreSettings;
use pos_core::shared_model::sync_session::SyncStore;
use pos_core::shared_model::users::Role;
use pos_core::sync::adapter::TerminalSyncStore;
use pos_core::{JoinStore, NewStore, Terminal};

#[path = "support/catalog.rs"]
mod catalog;
use catalog::{catalog_csv, ean13};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn line(what: &str, figure: String, baseline: String) {
    println!("{what:<44} {figure}\n{:<44}   baseline: {baseline}", "");
}

/// Child: open the store, edit 200 products one by one, print the figures.
fn child_edit(path: &str, products: u64) {
    let mut t = Terminal::open(path).unwrap();
    let dir = Path::new(path).parent().unwrap();
    let bare = rusqlite::Connection::open(dir.join("bare-edit.db")).unwrap();
    bare.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, data TEXT NOT NULL);",
    )
    .unwrap();
    let rss_open = status_kib("VmRSS:");
    let mut rss_first = 0;
    let mut edits = Vec::new();
    let mut bare_s = Vec::new();
    let mut compactions = Vec::new();
    for i in 0..200u64 {
        let sku = format!("SKU-{:07}", (i * 7919 + 13) % products);
        let s = Instant::now();
        bare.execute(
            "INSERT INTO t (id, data) VALUES (?1, ?2)",
            [format!("{i}"), "x".repeat(200)],
        )
        .unwrap();
        bare_s.push(s.elapsed());
        let s = Instant::now();
        let mut p = t.product_by_sku(&sku).unwrap().unwrap();
        p.price = Money::from_i64(5000 + i as i64);
        t.update_product(p).unwrap();
        edits.push(s.elapsed());
        if i == 0 {
            rss_first = status_kib("VmRSS:");
        }
        // What the shell runs once the command has returned: not part of the edit's wait,
        // timed on its own.
        let s = Instant::now();
        if t.compact_documents().unwrap() > 0 {
            compactions.push(s.elapsed());
        }
    }
    let rss_end = status_kib("VmRSS:");
    let first = edits[0];
    edits.sort();
    bare_s.sort();
    println!(
        "EDIT {:.2} {:.2} {:.2} {:.2} {:.2} {:.1} {:.1} {:.1} {:.1} {} {:.1}",
        ms(first),
        ms(percentile(&edits, 0.5)),
        ms(percentile(&edits, 0.99)),
        ms(percentile(&bare_s, 0.5)),
        ms(percentile(&bare_s, 0.99)),
        status_kib("VmHWM:") as f64 / 1024.0,
        rss_open as f64 / 1024.0,
        rss_first as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        compactions.len(),
        compactions.iter().max().map_or(0.0, |d| ms(*d))
    );
}

/// Child: join the store from its documents (as enrolment hands them over), open a shift and
/// commit the first sale; print the time and peak RSS.
fn child_join(dir: &str) {
    let dir = Path::new(dir);
    let mut documents = Vec::new();
    for entry in std::fs::read_dir(dir.join("docs")).unwrap() {
        let entry = entry.unwrap();
        let id = entry.file_name().to_string_lossy().to_string();
        documents.push((id, std::fs::read(entry.path()).unwrap()));
    }
    let identity: pos_core::Identity =
        serde_json::from_str(&std::fs::read_to_string(dir.join("identity.json")).unwrap()).unwrap();
    let start = Instant::now();
    let mut t = Terminal::open(dir.join("joined.db")).unwrap();
    t.join_store(JoinStore {
        identity,
        documents,
    })
    .unwrap();
    let joined = start.elapsed();
    let cashier = t
        .users()
        .unwrap()
        .into_iter()
        .find(|u| u.name == "Kasir")
        .unwrap()
        .id;
    t.start_shift(cashier, Money::from_i64(100_000)).unwrap();
    let mut cart = Cart::new();
    t.cart_add_scan(&mut cart, &ean13(42)).unwrap();
    let total = t.price(&cart).unwrap().total();
    t.checkout(&cart, &[Tender::cash(total)], cashier, None)
        .unwrap();
    let sold = start.elapsed();
    println!(
        "JOIN {:.0} {:.0} {:.1}",
        ms(joined),
        ms(sold),
        status_kib("VmHWM:") as f64 / 1024.0
    );
}

/// Runs the sync protocol for one document between two tills until both are quiet; returns the
/// time of each `receive` on `b` that changed its document.
fn sync_doc(
    a: &mut Terminal,
    b: &mut Terminal,
    doc: &str,
    sa: &mut State,
    sb: &mut State,
) -> Vec<Duration> {
    let (mut pa, mut pb) = (HashMap::new(), HashMap::new());
    let mut changed = Vec::new();
    for _ in 0..20 {
        let to_b = TerminalSyncStore::new(a, &mut pa)
            .generate(doc, sa)
            .unwrap();
        let mut quiet = to_b.is_none();
        if let Some(m) = to_b {
            let s = Instant::now();
            if TerminalSyncStore::new(b, &mut pb)
                .receive(doc, sb, m)
                .unwrap()
            {
                changed.push(s.elapsed());
            }
        }
        if let Some(m) = TerminalSyncStore::new(b, &mut pb)
            .generate(doc, sb)
            .unwrap()
        {
            quiet = false;
            TerminalSyncStore::new(a, &mut pa)
                .receive(doc, sa, m)
                .unwrap();
        }
        if quiet {
            break;
        }
    }
    changed
}

fn run_child(args: &[&str]) -> Vec<f64> {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
    text.lines()
        .find(|l| l.starts_with("EDIT ") || l.starts_with("JOIN "))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let products: u64 = std::env::var("POS_BENCH_PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    if let Some(i) = args.iter().position(|a| a == "--child-edit") {
        child_edit(&args[i + 1], products);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--child-join") {
        child_join(&args[i + 1]);
        return;
    }
    let tmp = tempfile::tempdir_in(std::env::var("POS_BENCH_DIR").unwrap_or_else(|_| ".".into()))
        .unwrap();
    let dir = tmp.path();
    println!(
        "pos-core catalog_scale: {products} products in {}; load {}",
        dir.display(),
        loadavg()
    );
    let mut a = Terminal::open(dir.join("a.db")).unwrap();
    a.create_store(NewStore {
        store_id: "bench".into(),
        store_code: "TKO1".into(),
        terminal_code: "T1".into(),
        settings: StoreSettings::indonesia("Toko Bench", "Jl. Bench 1"),
    })
    .unwrap();
    a.add_user("Kasir", Role::Cashier, "1234").unwrap();

    // 4. CSV import.
    let csv = catalog_csv(products);
    let s = Instant::now();
    let report = a.import_catalog_csv(csv.as_bytes(), |_| true).unwrap();
    let import = s.elapsed();
    assert_eq!(report.created, products);
    let all: Vec<Product> = (0..products)
        .map(|i| a.product_by_sku(&format!("SKU-{i:07}")).unwrap().unwrap())
        .collect();
    let s = Instant::now();
    {
        let mut doc = automerge::AutoCommit::new();
        let obj = automerge::transaction::Transactable::put_object(
            &mut doc,
            automerge::ROOT,
            "products",
            automerge::ObjType::Map,
        )
        .unwrap();
        for p in &all {
            autosurgeon::reconcile_prop(&mut doc, &obj, p.id.to_string().as_str(), p).unwrap();
        }
        doc.commit();
    }
    let old_doc_write = s.elapsed();
    drop(all);
    line(
        "4. CSV import (one transaction)",
        format!(
            "{:.2} s = {:.0} rows/s (goal ≤ 10 s); load {}",
            import.as_secs_f64(),
            products as f64 / import.as_secs_f64(),
            loadavg()
        ),
        format!(
            "the document part as before (autosurgeon reconcile per product): {:.2} s",
            old_doc_write.as_secs_f64()
        ),
    );

    // The store's documents as enrolment hands them to a new till.
    let ident = a.identity().unwrap().clone();
    std::fs::create_dir(dir.join("docs")).unwrap();
    for (id, _, _) in a.documents().unwrap() {
        let bytes = a.export_document(&id).unwrap();
        std::fs::write(dir.join("docs").join(&id), bytes).unwrap();
    }
    let mut joining = ident.clone();
    joining.terminal_code = "T2".into();
    std::fs::write(
        dir.join("identity.json"),
        serde_json::to_string(&joining).unwrap(),
    )
    .unwrap();

    // Baseline of 2 and 3: the whole catalog read as the old projection did.
    let catalog_bytes = std::fs::read(dir.join("docs").join(&ident.catalog_doc)).unwrap();
    let s = Instant::now();
    let old: CatalogDoc =
        documents::read(&automerge::AutoCommit::load(&catalog_bytes).unwrap()).unwrap();
    let old_read = s.elapsed();
    assert_eq!(old.products.len() as u64, products);
    drop(old);

    // 3. A new till joins (fresh process).
    let j = run_child(&["--child-join", dir.to_str().unwrap()]);
    if j.len() == 3 {
        line(
            "3. new till: documents → joined → first sale",
            format!(
                "joined {:.1} s, first sale committed {:.1} s, peak RSS {:.0} MiB (goal ≤ 60 s); load {}",
                j[0] / 1e3,
                j[1] / 1e3,
                j[2],
                loadavg()
            ),
            format!(
                "old projection's read alone (load + autosurgeon hydrate of the catalog): {:.1} s",
                old_read.as_secs_f64()
            ),
        );
    }

    // 2. A change to one product made on A, received by B over the sync adapter.
    let mut b = Terminal::open(dir.join("joined.db")).unwrap();
    let (mut sa, mut sb) = (State::new(), State::new());
    sync_doc(&mut a, &mut b, &ident.catalog_doc, &mut sa, &mut sb);
    let mut recv = Vec::new();
    for i in 0..50u64 {
        let sku = format!("SKU-{:07}", (i * 104_729 + 7) % products);
        let mut p = a.product_by_sku(&sku).unwrap().unwrap();
        p.name = format!("Diubah {i}");
        p.price = Money::from_i64(7000 + i as i64);
        a.update_product(p.clone()).unwrap();
        let took = sync_doc(&mut a, &mut b, &ident.catalog_doc, &mut sa, &mut sb);
        assert_eq!(took.len(), 1, "one message carried the change");
        recv.extend(took);
        let got = b.product(p.id).unwrap().unwrap();
        assert_eq!((got.name, got.price), (p.name, p.price));
    }
    recv.sort();
    line(
        "2. received change to one product, projected",
        format!(
            "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} changes (goal ≤ 100 ms); load {}",
            ms(percentile(&recv, 0.5)),
            ms(percentile(&recv, 0.99)),
            ms(*recv.last().unwrap()),
            recv.len(),
            loadavg()
        ),
        format!(
            "old projection's read alone: {:.1} s",
            old_read.as_secs_f64()
        ),
    );
    drop(a);
    drop(b);

    // 1. Edits on a till (fresh process on the joined till's store).
    let e = run_child(&["--child-edit", dir.join("joined.db").to_str().unwrap()]);
    if e.len() == 11 {
        line(
            "1. edit of one product (update_product)",
            format!(
                "first {:.1} ms, p50 {:.2} ms, p99 {:.2} ms over 200; RSS {:.0} MiB once open, {:.0} MiB after the first edit, {:.0} MiB after the 200th, peak {:.0} MiB while the catalog loaded (goal p99 ≤ 50 ms, ≤ 250 MiB); {} compactions after the edits returned, the longest {:.0} ms; load {}",
                e[0],
                e[1],
                e[2],
                e[6],
                e[7],
                e[8],
                e[5],
                e[9],
                e[10],
                loadavg()
            ),
            format!(
                "bare single-row synchronous=FULL insert: p50 {:.2} ms, p99 {:.2} ms",
                e[3], e[4]
            ),
        );
    }
}
