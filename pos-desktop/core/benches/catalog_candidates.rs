//! The large-catalog candidates measured on automerge alone, before choosing (issue 17):
//! `cargo bench -p pos-core --bench catalog_candidates` (`POS_BENCH_PRODUCTS`, default 100,000;
//! `POS_BENCH_BUCKETS`, default 256; `POS_BENCH_DIR` for the temporary files).
//!
//! - (a) one catalog document, a received change projected from the patches between the heads
//!   before and after it (only the touched products are read);
//! - (b) the catalog split into bucket documents (a product's bucket from its id), a received
//!   change projected by reading its whole bucket;
//! - (c) both: buckets, and the patches inside the bucket.
//!
//! For each: an edit of one product (load the document if not held, reconcile the product,
//! save the incremental chunk), a received change to one product turned into the products to
//! upsert, and reading every product (what a new till's first projection does). Each
//! candidate runs in its own child process so that its peak RSS (VmHWM) is its own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, transaction::Transactable};
use pos_core::shared_model::catalog::Product;
use pos_core::shared_model::documents::catalog_entries::{
    put_new_product, read_all_products, read_product,
};
use pos_core::shared_model::money::Money;

// Only the product generator is used here; the CSV helpers serve the other benches.
#[allow(dead_code)]
#[path = "support/catalog.rs"]
mod catalog;

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

fn products(n: u64) -> Vec<Product> {
    (0..n)
        .map(|i| {
            let mut p = Product::new(
                &format!("SKU-{i:07}"),
                &format!("Produk {i}"),
                Money::from_i64(1000 + (i as i64 % 500) * 100),
                "standard",
            );
            p.barcodes = vec![catalog::ean13(i).parse().unwrap()];
            p
        })
        .collect()
}

/// The bucket of a product: the low bits of its id's random tail.
fn bucket_of(id: &str, buckets: usize) -> usize {
    let tail = u64::from_str_radix(&id[id.len() - 8..], 16).unwrap_or(0);
    (tail % buckets as u64) as usize
}

fn new_catalog_doc() -> (AutoCommit, ObjId) {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "kind", "catalog").unwrap();
    let products = doc.put_object(ROOT, "products", ObjType::Map).unwrap();
    doc.put_object(ROOT, "categories", ObjType::Map).unwrap();
    doc.put_object(ROOT, "promotions", ObjType::Map).unwrap();
    (doc, products)
}

fn products_of(doc: &AutoCommit) -> ObjId {
    match doc.get(ROOT, "products").unwrap() {
        Some((_, id)) => id,
        None => panic!("no products map"),
    }
}

/// The products touched between two heads, from the patches (None: the root changed).
fn touched(doc: &mut AutoCommit, before: &[automerge::ChangeHash]) -> Vec<String> {
    use automerge::{PatchAction, Prop};
    let mut out = Vec::new();
    let after = doc.get_heads();
    for patch in doc.diff(before, &after) {
        match (patch.path.get(1), &patch.action) {
            (Some((_, Prop::Map(k))), _) => out.push(k.clone()),
            (None, PatchAction::PutMap { key, .. }) => out.push(key.clone()),
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

fn write_docs(dir: &Path, all: &[Product], buckets: usize) -> (Duration, Duration) {
    let start = Instant::now();
    let (mut one, products) = new_catalog_doc();
    for p in all {
        put_new_product(&mut one, &products, p).unwrap();
    }
    one.commit();
    let one_took = start.elapsed();
    std::fs::write(dir.join("one.am"), one.save()).unwrap();
    drop(one);
    let start = Instant::now();
    let mut docs: Vec<(AutoCommit, ObjId)> = (0..buckets).map(|_| new_catalog_doc()).collect();
    for p in all {
        let (d, obj) = &mut docs[bucket_of(&p.id.to_string(), buckets)];
        put_new_product(d, obj, p).unwrap();
    }
    for d in docs.iter_mut() {
        d.0.commit();
    }
    let buckets_took = start.elapsed();
    for (i, (d, _)) in docs.iter_mut().enumerate() {
        std::fs::write(dir.join(format!("bucket-{i}.am")), d.save()).unwrap();
    }
    (one_took, buckets_took)
}

fn load(path: &Path) -> AutoCommit {
    AutoCommit::load(&std::fs::read(path).unwrap()).unwrap()
}

/// Child: one candidate, every figure, one line of `key=value` pairs.
fn child(mode: &str, dir: &Path, buckets: usize, ids: &[String]) {
    let bucketed = mode != "a";
    let patches = mode != "b";
    let path_of = |id: &str| -> PathBuf {
        if bucketed {
            dir.join(format!("bucket-{}.am", bucket_of(id, buckets)))
        } else {
            dir.join("one.am")
        }
    };
    let mut out = Vec::new();
    // Edits: the first loads the document (or bucket) it needs, later ones reuse what is held
    // (as the till's document cache does); every 10th edit is of a product in another bucket.
    let mut held: std::collections::HashMap<PathBuf, AutoCommit> = Default::default();
    let mut edits = Vec::new();
    for (i, id) in ids.iter().enumerate().take(200) {
        let start = Instant::now();
        let path = path_of(id);
        let doc = held.entry(path.clone()).or_insert_with(|| load(&path));
        let obj = products_of(doc);
        let saved = doc.get_heads();
        let mut p = read_product(doc, &obj, id).unwrap().unwrap();
        p.price = Money::from_i64(2000 + i as i64);
        autosurgeon::reconcile_prop(doc, &obj, id.as_str(), &p).unwrap();
        let bytes = doc.save_after(&saved);
        std::hint::black_box(bytes);
        edits.push(start.elapsed());
    }
    let first_edit = edits[0];
    edits.sort();
    out.push(format!("edit_first_ms={:.1}", ms(first_edit)));
    out.push(format!("edit_p50_ms={:.2}", ms(percentile(&edits, 0.5))));
    out.push(format!("edit_p99_ms={:.2}", ms(percentile(&edits, 0.99))));
    out.push(format!("edit_held_docs={}", held.len()));
    out.push(format!(
        "edit_rss_mib={:.0}",
        status_kib("VmRSS:") as f64 / 1024.0
    ));
    // Received changes: another replica edits one product; the change arrives and is turned
    // into the products to upsert.
    let mut recv = Vec::new();
    for (i, id) in ids.iter().enumerate().skip(200).take(50) {
        let path = path_of(id);
        let doc = held.entry(path.clone()).or_insert_with(|| load(&path));
        let mut other = doc.fork();
        let obj = products_of(&other);
        let mut p = read_product(&other, &obj, id).unwrap().unwrap();
        p.name = format!("Diubah {i}");
        autosurgeon::reconcile_prop(&mut other, &obj, id.as_str(), &p).unwrap();
        let change = other.save_after(&doc.get_heads());
        let start = Instant::now();
        let before = doc.get_heads();
        doc.load_incremental(&change).unwrap();
        let obj = products_of(doc);
        let upserts: Vec<Product> = if patches {
            touched(doc, &before)
                .iter()
                .filter_map(|k| read_product(doc, &obj, k).unwrap())
                .collect()
        } else {
            read_all_products(doc, &obj)
                .unwrap()
                .into_iter()
                .map(|(_, p)| p)
                .collect()
        };
        assert!(upserts.iter().any(|u| u.name == p.name));
        recv.push(start.elapsed());
    }
    recv.sort();
    out.push(format!("recv_p50_ms={:.2}", ms(percentile(&recv, 0.5))));
    out.push(format!("recv_p99_ms={:.2}", ms(percentile(&recv, 0.99))));
    drop(held);
    // Enrolment: every document loaded and every product read.
    let start = Instant::now();
    let mut n = 0;
    let files: Vec<PathBuf> = if bucketed {
        (0..buckets)
            .map(|i| dir.join(format!("bucket-{i}.am")))
            .collect()
    } else {
        vec![dir.join("one.am")]
    };
    for f in files {
        let doc = load(&f);
        n += read_all_products(&doc, &products_of(&doc)).unwrap().len();
    }
    out.push(format!("read_all_ms={:.0}", ms(start.elapsed())));
    out.push(format!("read_all_products={n}"));
    out.push(format!(
        "peak_rss_mib={:.0}",
        status_kib("VmHWM:") as f64 / 1024.0
    ));
    println!("RESULT {}", out.join(" "));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = std::env::var("POS_BENCH_PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let buckets: usize = std::env::var("POS_BENCH_BUCKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let dir = PathBuf::from(&args[i + 2]);
        let ids: Vec<String> = std::fs::read_to_string(dir.join("ids"))
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        child(&args[i + 1], &dir, buckets, &ids);
        return;
    }
    let tmp = tempfile::tempdir_in(std::env::var("POS_BENCH_DIR").unwrap_or_else(|_| ".".into()))
        .unwrap();
    let dir = tmp.path();
    let all = products(n);
    let ids: Vec<String> = (0..300u64)
        .map(|i| all[((i * 7919) % n) as usize].id.to_string())
        .collect();
    std::fs::write(dir.join("ids"), ids.join("\n")).unwrap();
    let (one_took, buckets_took) = write_docs(dir, &all, buckets);
    drop(all);
    let one_size = std::fs::metadata(dir.join("one.am")).unwrap().len();
    println!(
        "catalog candidates: {n} products, {buckets} buckets; load {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    println!(
        "written with direct puts: one document {:.1} s ({:.1} MiB saved), {buckets} buckets {:.1} s",
        one_took.as_secs_f64(),
        one_size as f64 / 1048576.0,
        buckets_took.as_secs_f64()
    );
    // Today's full read for comparison: autosurgeon hydrate of every product.
    {
        let doc = load(&dir.join("one.am"));
        let obj = products_of(&doc);
        let start = Instant::now();
        let keys: Vec<String> = doc.keys(&obj).take(1000).collect();
        for k in &keys {
            let p: Product = autosurgeon::hydrate_prop(&doc, &obj, k.as_str()).unwrap();
            std::hint::black_box(p);
        }
        let per = start.elapsed() / keys.len() as u32;
        println!(
            "baseline, autosurgeon hydrate per product on the one document: {:.0} µs (× {n} = {:.1} s)",
            per.as_secs_f64() * 1e6,
            per.as_secs_f64() * n as f64
        );
    }
    let exe = std::env::current_exe().unwrap();
    for (mode, what) in [
        ("a", "(a) one document + patches"),
        ("b", "(b) buckets, whole bucket re-read"),
        ("c", "(c) buckets + patches"),
    ] {
        let out = Command::new(&exe)
            .arg("--child")
            .arg(mode)
            .arg(dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .unwrap_or("failed");
        println!("{what:<36} {line}");
        if !out.status.success() {
            println!("{}", String::from_utf8_lossy(&out.stderr));
        }
    }
}
