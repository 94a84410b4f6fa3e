//! The no-loss guarantee under faults, across whole processes: a real sync server on
//! PostgreSQL, 3–5 headless terminals, a fault-injecting proxy in front of each terminal, SIGKILL
//! of terminals in the middle of a checkout and of the server in the middle of a sync.
//!
//! Each schedule is random from a seed; a failure prints the seed and the schedule, and
//! `SNAPKASIR_SEED=<seed>` replays it. `SNAPKASIR_SCHEDULES` sets how many run (default 50; the
//! soak command in docs/terminal-sync.md runs many more); `SNAPKASIR_SOAK_MINUTES` stops starting
//! new schedules once that much time has passed, so a soak ends with its summary printed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use shared_model::money::Money;
use snapkasir_tests::processes::{
    ServerProcess, TerminalProcess, TestDatabase, create_tenant_args, psql,
};
use snapkasir_tests::proxy::{FaultKind, FaultProxy};
use snapkasir_tests::schedule::Schedule;

const SKUS: [&str; 3] = ["AQUA", "TEH", "KOPI"];
const START_STOCK: i64 = 10_000;

struct Store {
    store_id: String,
    owner_email: String,
    terminals: Vec<TerminalProcess>,
    proxies: Vec<FaultProxy>,
    credentials: Vec<String>,
    /// Sales the terminals reported as paid: id → (terminal, receipt, total).
    paid: BTreeMap<String, (String, String, String)>,
}

fn sync_cmd(proxy: &FaultProxy, credential: &str) -> Value {
    json!({"cmd": "sync", "server": format!("http://{}", proxy.addr()), "credential": credential})
}

fn setup_store(
    rt: &tokio::runtime::Runtime,
    server: &ServerProcess,
    dir: &Path,
    seed: u64,
    n: usize,
) -> Store {
    let code = format!("S{}", seed % 1_000_000);
    let owner_email = format!("owner{seed}@example.com");
    let made = server.admin(&create_tenant_args(&code, &code, &code, &owner_email));
    let store_id = made["store_id"].as_str().expect("store id").to_string();
    let mut terminals = Vec::new();
    let mut proxies = Vec::new();
    let mut credentials = Vec::new();
    let products: Vec<Value> = SKUS.iter().map(|s| json!([s, 5000, START_STOCK])).collect();
    let export = dir.join("store.json");
    for i in 0..n {
        let tcode = format!("T{}", i + 1);
        let reply = server.enroll(rt, &store_id, &tcode);
        credentials.push(
            reply["device_credential"]
                .as_str()
                .expect("credential")
                .to_string(),
        );
        let mut t = TerminalProcess::spawn(&dir.join(format!("{tcode}.db")), &tcode);
        if i == 0 {
            t.cmd(json!({"cmd": "create_store", "store_id": store_id, "store_code": code, "terminal_code": tcode, "products": products})).expect("create store");
            t.cmd(json!({"cmd": "export", "path": export}))
                .expect("export");
        } else {
            t.cmd(json!({"cmd": "join", "path": export, "terminal_code": tcode}))
                .expect("join");
        }
        t.cmd(json!({"cmd": "start_shift"})).expect("shift");
        terminals.push(t);
        proxies.push(rt.block_on(FaultProxy::start(server.addr)).expect("proxy"));
    }
    for i in 0..n {
        let c = sync_cmd(&proxies[i], &credentials[i]);
        terminals[i].cmd(c).expect("sync");
    }
    Store {
        store_id,
        owner_email,
        terminals,
        proxies,
        credentials,
        paid: BTreeMap::new(),
    }
}

fn sell(store: &mut Store, i: usize, rng: &mut StdRng) {
    let sku = SKUS[rng.random_range(0..SKUS.len())];
    let qty = rng.random_range(1..4);
    if let Ok(r) = store.terminals[i].cmd(json!({"cmd": "sell", "sku": sku, "qty": qty})) {
        store.paid.insert(
            r["sale_id"].as_str().expect("id").into(),
            (
                store.terminals[i].code.clone(),
                r["receipt_no"].as_str().expect("receipt").into(),
                r["total"].as_str().expect("total").into(),
            ),
        );
    }
}

/// SIGKILL in the middle of a checkout, then a restart on the same file.
fn kill_mid_checkout(store: &mut Store, i: usize, rng: &mut StdRng) {
    let t = &mut store.terminals[i];
    let _ = t.send(&json!({"cmd": "sell", "sku": SKUS[0], "qty": 1}));
    std::thread::sleep(Duration::from_micros(rng.random_range(0..3000)));
    t.kill();
    let (db, code) = (t.db.clone(), t.code.clone());
    let mut next = TerminalProcess::spawn(&db, &code);
    next.cmd(json!({"cmd": "start_shift"}))
        .expect("shift after restart");
    next.cmd(sync_cmd(&store.proxies[i], &store.credentials[i]))
        .expect("sync after restart");
    store.terminals[i] = next;
}

fn status(t: &mut TerminalProcess) -> Value {
    t.cmd(json!({"cmd": "status"}))
        .unwrap_or_else(|e| panic!("status of {}: {e}", t.code))
}

fn pg_sales(db: &str, store_id: &str) -> HashMap<String, (String, i64)> {
    psql(db, &format!("SELECT id || ' ' || receipt_no || ' ' || total_e4 FROM sales WHERE store_id = '{store_id}'"))
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            (parts[0].to_string(), (parts[1].to_string(), parts[2].parse().expect("total")))
        })
        .collect()
}

/// "On server" is only ever set for sales that are in PostgreSQL.
fn check_acknowledgements(store: &mut Store, db: &str) {
    // Statuses first, then PostgreSQL: an acknowledgement seen must already be there.
    let statuses: Vec<(String, Value)> = store
        .terminals
        .iter_mut()
        .map(|t| (t.code.clone(), status(t)))
        .collect();
    let in_pg = pg_sales(db, &store.store_id);
    for (code, s) in statuses {
        for id in s["acknowledged"].as_array().expect("acks") {
            let id = id.as_str().expect("id");
            if !in_pg.contains_key(id) {
                let anywhere = psql(
                    db,
                    &format!("SELECT store_id || ' ' || doc_id FROM sales WHERE id = '{id}'"),
                );
                let now_in = pg_sales(db, &store.store_id).contains_key(id);
                panic!(
                    "terminal {code} shows sale {id} on server but PostgreSQL did not have it (rows with that id now: {anywhere:?}; in the store now: {now_in})"
                );
            }
        }
    }
}

fn wait_converged(store: &mut Store, deadline: Duration) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let statuses: Vec<Value> = store.terminals.iter_mut().map(status).collect();
        let idle = statuses.iter().all(|s| {
            s["sync"]["online"] == true
                && s["sync"]["waiting_documents"] == 0
                && s["sync"]["waiting_sales"] == 0
        });
        let heads: BTreeSet<String> = statuses.iter().map(|s| s["heads"].to_string()).collect();
        let stock: BTreeSet<String> = statuses.iter().map(|s| s["stock"].to_string()).collect();
        if idle && heads.len() == 1 && stock.len() == 1 {
            return statuses;
        }
        if start.elapsed() > deadline {
            let brief: Vec<Value> = statuses
                .iter()
                .map(|s| json!({"sync": s["sync"], "stock": s["stock"], "heads": s["heads"]}))
                .collect();
            panic!(
                "terminals did not converge within {deadline:?}: {}",
                serde_json::to_string_pretty(&brief).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn check_invariants(
    rt: &tokio::runtime::Runtime,
    server: &ServerProcess,
    db: &str,
    store: &mut Store,
    statuses: &[Value],
) {
    let in_pg = pg_sales(db, &store.store_id);
    // Every sale a terminal reported as paid is in PostgreSQL once, with its total.
    for (id, (terminal, receipt, total)) in &store.paid {
        let (pg_receipt, pg_total) = in_pg.get(id).unwrap_or_else(|| {
            panic!("sale {id} ({receipt}) paid on {terminal} is not in PostgreSQL")
        });
        assert_eq!(pg_receipt, receipt);
        let total: i64 = total.parse().expect("total");
        assert_eq!(*pg_total, total * 10_000, "total of {receipt}");
    }
    // No sale appears that no terminal made: every PostgreSQL sale is in some terminal's store.
    let made: BTreeSet<String> = statuses
        .iter()
        .flat_map(|s| s["sales"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r[0].as_str().map(String::from))
        .collect();
    for id in in_pg.keys() {
        assert!(
            made.contains(id),
            "PostgreSQL has sale {id} that no terminal made"
        );
    }
    // Receipt numbers are unique.
    let receipts: BTreeSet<&String> = in_pg.values().map(|(r, _)| r).collect();
    assert_eq!(receipts.len(), in_pg.len(), "receipt numbers repeat");
    // Stock: equal everywhere and equal to the start minus everything sold.
    let sold = psql(
        db,
        &format!(
            "SELECT sku || ' ' || sum(quantity_e4) FROM sale_lines WHERE store_id = '{}' GROUP BY sku",
            store.store_id
        ),
    );
    let mut expected: BTreeMap<String, i64> =
        SKUS.iter().map(|s| (s.to_string(), START_STOCK)).collect();
    for l in sold.lines().filter(|l| !l.is_empty()) {
        let (sku, q) = l.split_once(' ').expect("row");
        *expected.get_mut(sku).expect("sku") -= q.parse::<i64>().expect("qty") / 10_000;
    }
    for s in statuses {
        for (sku, want) in &expected {
            assert_eq!(
                s["stock"][sku].as_str(),
                Some(want.to_string().as_str()),
                "terminal stock of {sku}"
            );
        }
    }
    let server_stock = psql(
        db,
        &format!(
            "SELECT p.sku || ' ' || sum(m.quantity_e4) FROM stock_movements m JOIN products p ON p.id = m.product_id AND p.store_id = m.store_id WHERE m.store_id = '{}' GROUP BY p.sku",
            store.store_id
        ),
    );
    for l in server_stock.lines().filter(|l| !l.is_empty()) {
        let (sku, q) = l.split_once(' ').expect("row");
        assert_eq!(
            q.parse::<i64>().expect("qty") / 10_000,
            expected[sku],
            "server stock of {sku}"
        );
    }
    // The reports API totals equal the sum of the journals.
    let total_pg: i64 = in_pg.values().map(|(_, t)| *t).sum();
    let base = server.url();
    let email = store.owner_email.clone();
    let store_id = store.store_id.clone();
    let report: Value = rt.block_on(async move {
        let c = snapkasir_tests::processes::http_client();
        let token =
            snapkasir_tests::processes::api_token(&c, &base, &email, "rahasia-panjang-1").await;
        c.get(format!(
            "{base}/api/v1/stores/{store_id}/reports/sales-by-day?from=2000-01-01&to=2100-01-01"
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("report")
        .json()
        .await
        .expect("report json")
    });
    let mut reported = Money::ZERO;
    for day in report
        .as_array()
        .unwrap_or_else(|| panic!("report: {report}"))
    {
        let t: Money = day["total"]
            .as_str()
            .unwrap_or_else(|| panic!("report row {day}"))
            .parse()
            .expect("decimal");
        reported = reported.checked_add(t).expect("sum");
    }
    assert_eq!(
        reported.amount(),
        Decimal::new(total_pg, 4),
        "reports API total"
    );
}

#[test]
fn fault_schedules_lose_no_sale() {
    let schedules: u64 = std::env::var("SNAPKASIR_SCHEDULES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let first_seed: u64 = std::env::var("SNAPKASIR_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::random::<u32>() as u64);
    let budget: Option<Duration> = std::env::var("SNAPKASIR_SOAK_MINUTES")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(|m| Duration::from_secs(m * 60));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let db = TestDatabase::create("snapkasir_faults");
    let dir = tempfile_dir();
    let mut server = ServerProcess::start(&db.url, "127.0.0.1:0", &dir.join("server.log"));
    let mut fired: BTreeMap<String, u64> = BTreeMap::new();
    let mut server_kills = 0u64;
    let mut terminal_kills = 0u64;
    let started = Instant::now();
    let mut ran = 0u64;
    for k in 0..schedules {
        if budget.is_some_and(|b| started.elapsed() >= b) {
            break;
        }
        ran += 1;
        let seed = first_seed + k;
        let mut rng = StdRng::seed_from_u64(seed);
        let n = rng.random_range(3..=5);
        let schedule = Schedule::random(seed, n, 7);
        let sdir = dir.join(format!("s{seed}"));
        std::fs::create_dir_all(&sdir).expect("dir");
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut store = setup_store(&rt, &server, &sdir, seed, n);
            for step in &schedule.steps {
                step.fault.apply(&store.proxies[step.target]);
                let until = Instant::now() + step.hold;
                while Instant::now() < until {
                    let i = rng.random_range(0..n);
                    match rng.random_range(0..20) {
                        0 => {
                            kill_mid_checkout(&mut store, i, &mut rng);
                            terminal_kills += 1;
                        }
                        1 if k % 5 == 0 => {
                            server.kill_and_restart();
                            server_kills += 1;
                        }
                        _ => sell(&mut store, i, &mut rng),
                    }
                }
                store.proxies[step.target].heal();
                check_acknowledgements(&mut store, &db.url);
            }
            for p in &store.proxies {
                p.heal();
            }
            let statuses = wait_converged(&mut store, Duration::from_secs(90));
            check_invariants(&rt, &server, &db.url, &mut store, &statuses);
            for p in &store.proxies {
                for (kind, count) in p.fired() {
                    *fired.entry(format!("{kind:?}")).or_default() += count;
                }
            }
            store.paid.len()
        }));
        match run {
            Ok(sales) => eprintln!("schedule {k} seed {seed}: {n} terminals, {sales} sales, ok"),
            Err(e) => {
                eprintln!("FAILED {schedule}\nlogs kept in {}", sdir.display());
                std::panic::resume_unwind(e);
            }
        }
    }
    eprintln!(
        "{ran} schedules (seeds {first_seed}..{}) in {:?}; faults fired: {fired:?}; terminals killed mid-checkout: {terminal_kills}; server killed mid-sync: {server_kills}",
        first_seed + ran,
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
    for kind in FaultKind::ALL {
        assert!(
            fired.get(&format!("{kind:?}")).copied().unwrap_or(0) > 0,
            "fault {kind:?} never fired"
        );
    }
    assert!(terminal_kills > 0, "no terminal was killed");
    assert!(ran < 5 || server_kills > 0, "the server was never killed");
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "snapkasir-faults-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// PostgreSQL crashes (immediate shutdown) and comes back while terminals sell and sync: the
/// server keeps its connections' data queued, nothing acknowledged is lost, everything arrives.
#[test]
fn a_postgresql_crash_loses_no_sale() {
    let cluster = snapkasir_tests::processes::ThrowawayCluster::start();
    let db = TestDatabase::create_on(&cluster.admin_url(), "snapkasir_pgcrash");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile_dir();
    let server = ServerProcess::start(&db.url, "127.0.0.1:0", &dir.join("server.log"));
    let seed = std::env::var("SNAPKASIR_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::random::<u32>() as u64);
    eprintln!("seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut store = setup_store(&rt, &server, &dir, seed, 3);
    for round in 0..6 {
        for _ in 0..15 {
            let i = rng.random_range(0..3);
            sell(&mut store, i, &mut rng);
        }
        if round == 2 || round == 4 {
            cluster.crash_and_restart();
        }
        check_acknowledgements(&mut store, &db.url);
    }
    let statuses = wait_converged(&mut store, Duration::from_secs(90));
    check_invariants(&rt, &server, &db.url, &mut store, &statuses);
    drop(store);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
