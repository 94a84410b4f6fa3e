//! Measures the owner dashboard's overview of a busy day in headless Chromium (Navigation and
//! Resource Timing), against the real `sync-server` binary on its embedded SQLite: bytes
//! transferred (first visit, then with the assets cached) and the time to `domInteractive` and
//! `loadEventEnd` on loopback. Prints the figures; asserts nothing (the goal, under 100 KB and
//! interactive under 1 s, is for people to read in BENCHMARKS.md).
//!
//! `cargo build -p sync-server -p snapkasir-tests && cargo run -p snapkasir-tests --bin dashboard-bench [sales]`

use std::time::{Duration, Instant};

use serde_json::json;
use snapkasir_tests::browser::Browser;
use snapkasir_tests::processes::{ServerProcess, TerminalProcess, create_tenant_args};

fn main() {
    let sales: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = vec![
        "--data-dir".to_string(),
        dir.path().join("server").display().to_string(),
    ];
    let server = ServerProcess::start_with(&db, &[], "127.0.0.1:0", &dir.path().join("server.log"));
    let base = server.url();
    let owner = "bench@toko.example";
    let made = server.admin(&create_tenant_args(
        "Toko Bench",
        "BNC",
        "Toko Bench",
        owner,
    ));
    let store = made["store_id"].as_str().expect("store").to_string();
    let code = server.enrollment_code(&store, "Kasir");
    let mut till = TerminalProcess::spawn(&dir.path().join("till.db"), "T1");
    till.cmd(json!({"cmd": "enrol", "server": base, "code": code, "demo": true}))
        .expect("enrol");
    till.cmd(json!({"cmd": "start_shift"})).expect("shift");
    let status = till.cmd(json!({"cmd": "status"})).expect("status");
    let skus: Vec<String> = status["stock"]
        .as_object()
        .expect("stock")
        .keys()
        .cloned()
        .collect();
    for i in 0..sales {
        till.cmd(json!({"cmd": "sell", "sku": skus[i % skus.len()], "qty": 1 + i % 3}))
            .expect("sell");
    }
    till.cmd(json!({"cmd": "sync"})).expect("sync");
    // Wait until the server has projected every sale (the overview then shows them all).
    let mut b = Browser::start("bench", &base);
    b.sign_in(owner, "rahasia-panjang-1");
    let start = Instant::now();
    loop {
        b.open(&format!("/stores/{store}/overview"));
        let n = b.text("value-transactions").replace(['.', ','], "");
        if n == sales.to_string() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "only {n} of {sales} sales projected"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    println!(
        "overview of a day with {sales} sales, {} products:",
        skus.len()
    );
    // A fresh browser (empty cache) with the session's cookies: the first visit fetches the
    // assets, the later ones have them cached.
    let cookies: Vec<(String, String)> = b
        .cookies()
        .iter()
        .map(|c| (c.name().to_string(), c.value().to_string()))
        .collect();
    drop(b);
    let mut b = Browser::start("bench-cold", &base);
    b.open("/healthz");
    for (k, v) in &cookies {
        b.add_cookie(k, v);
    }
    for round in 0..5 {
        b.open(&format!("/stores/{store}/overview"));
        b.wait_for("value-sales");
        let (bytes, interactive, load) = b.timing();
        println!(
            "  visit {}: {bytes} bytes transferred, domInteractive {interactive:.0} ms, loadEventEnd {load:.0} ms",
            round + 1
        );
    }
    let html = b.execute("return document.documentElement.outerHTML.length", vec![]);
    println!("  page HTML: {html} characters");
    drop(b);
    // The baseline of the same run: the sign-in page, the lightest page with the same
    // stylesheet and script, in a fresh browser (empty cache), served by the same server.
    let mut b = Browser::start("bench-baseline", &base);
    println!("baseline, the sign-in page:");
    for round in 0..5 {
        b.open("/signin");
        b.wait_for("email");
        let (bytes, interactive, load) = b.timing();
        println!(
            "  visit {}: {bytes} bytes transferred, domInteractive {interactive:.0} ms, loadEventEnd {load:.0} ms",
            round + 1
        );
    }
}
