//! Measures how soon a till learns that a dynamic QRIS code was paid (issue 16: "within a
//! second"): the real `sync-server` binary on its embedded store, a real enrolled till
//! (pos-core) waiting on the server's long poll, and the gateway simulator sending Midtrans's
//! signed notification the moment the customer pays. The clock runs from the payment at the
//! simulator to the till's wait answering "paid" (notification over HTTP, signature and amount
//! checked, the charge written, the wait woken, its answer recorded on the till). Beside it, in
//! the same run, the floor: one bare HTTP round trip to the same server (`/healthz`). Prints
//! the figures; asserts nothing.
//!
//! `cargo build -p sync-server -p snapkasir-tests && cargo run -p snapkasir-tests --bin qris-bench [payments]`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pos_core::Terminal;
use pos_core::gateway_payments::{GatewayLink, start_charge, wait_charge};
use pos_core::shared_model::money::Money;
use serde_json::json;
use snapkasir_tests::gateway_sim::{GatewaySim, SimConfig};
use snapkasir_tests::processes::{ServerProcess, api_token, create_tenant_args, http_client};

const KEY: &str = "SB-Mid-server-bench-0001";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(what: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "{what:<48} n={:<4} p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        v.len(),
        percentile(&v, 0.5).as_secs_f64() * 1e3,
        percentile(&v, 0.9).as_secs_f64() * 1e3,
        percentile(&v, 0.99).as_secs_f64() * 1e3,
        v.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let payments: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = GatewaySim::start(SimConfig {
        midtrans_server_key: KEY.into(),
        ..SimConfig::default()
    })
    .await;
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!("midtrans_api_url = \"{}\"\n", sim.base_url()),
    )
    .expect("config");
    let db = vec![
        "--config".to_string(),
        config.display().to_string(),
        "--data-dir".to_string(),
        dir.path().join("server").display().to_string(),
    ];
    let server = ServerProcess::start_with(&db, &[], "127.0.0.1:0", &dir.path().join("server.log"));
    let base = server.url();
    sim.set_midtrans_notification_url(&format!("{base}/webhooks/midtrans"));
    let made = server.admin(&create_tenant_args(
        "Bench",
        "QRB",
        "Toko QRIS",
        "bench@qris.test",
    ));
    let store = made["store_id"].as_str().expect("store").to_string();
    let owner = api_token(
        &http_client(),
        &base,
        "bench@qris.test",
        "rahasia-panjang-1",
    )
    .await;
    let set = http_client()
        .put(format!("{base}/api/v1/stores/{store}/payment-gateway"))
        .bearer_auth(&owner)
        .json(&json!({"provider": "midtrans", "server_key": KEY}))
        .send()
        .await
        .expect("set the gateway");
    assert!(
        set.status().is_success(),
        "set the gateway: {}",
        set.status()
    );
    let code = server.enrollment_code(&store, "Kasir");
    let till = Arc::new(Mutex::new(
        Terminal::open(dir.path().join("till.db")).expect("till"),
    ));
    pos_core::enrolment::enrol(&till, &base, &code, true)
        .await
        .expect("enrol");
    let link = {
        let t = till.lock().expect("till");
        GatewayLink::of(&t, None).expect("link").expect("enrolled")
    };

    let client = http_client();
    let mut floor = Vec::new();
    let mut learnt = Vec::new();
    for i in 0..payments {
        let started = Instant::now();
        let r = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("healthz");
        let _ = r.bytes().await;
        floor.push(started.elapsed());

        let charge = start_charge(&till, &link, Money::from_i64(10_000 + i as i64))
            .await
            .expect("a charge");
        let waiting = {
            let (till, link, id) = (till.clone(), link.clone(), charge.payment_id.clone());
            tokio::spawn(async move {
                let c = wait_charge(&till, &link, &id, "pending", Duration::from_secs(25))
                    .await
                    .expect("the wait");
                (c, Instant::now())
            })
        };
        // The wait is at the server before the customer pays.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let paid = Instant::now();
        sim.pay(&charge.payment_id).await.expect("pay");
        let (c, answered) = waiting.await.expect("wait task");
        assert_eq!(c.status, "paid");
        learnt.push(answered - paid);
    }
    println!("qris-bench: {payments} payments, Midtrans simulator, server on its embedded store");
    report("HTTP round trip to the server (/healthz, floor)", floor);
    report("customer pays → till's wait answers \"paid\"", learnt);
}
