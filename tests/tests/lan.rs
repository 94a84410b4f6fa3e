//! LAN sync across whole processes: three headless terminals of one store sync over the LAN
//! while the sync server is down (a catalog edit, a parked cart, sales and their stock), a
//! terminal outside the store's roster is refused and changes nothing, then the server comes
//! back and every sale is in PostgreSQL exactly once, whichever path it came by (T3 never talks
//! to the server: its sales reach it only through T2 and T1).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use snapkasir_tests::processes::{
    ServerProcess, TerminalProcess, TestDatabase, create_tenant_args, psql,
};

const SKUS: [&str; 2] = ["AQUA", "TEH"];
const START: i64 = 1000;

/// Enrols a till with its LAN key; its device credential and the LAN fields of the reply.
fn enroll(
    rt: &tokio::runtime::Runtime,
    server: &ServerProcess,
    store_id: &str,
    name: &str,
    lan_key: Option<&str>,
) -> (String, Value) {
    let reply = server.enroll_with_lan_key(rt, store_id, name, lan_key);
    assert!(
        reply["store_key"].is_string(),
        "enrolment gave no store key: {reply}"
    );
    (
        reply["device_credential"]
            .as_str()
            .expect("credential")
            .to_string(),
        json!({
            "store_signing_key": reply["store_signing_key"],
            "roster": reply["lan_roster"],
            "store_key": reply["store_key"],
            "store_key_version": reply["store_key_version"],
            "pin_pepper": reply["pin_pepper"],
        }),
    )
}

fn ok(t: &mut TerminalProcess, cmd: Value) -> Value {
    let what = cmd.to_string();
    t.cmd(cmd)
        .unwrap_or_else(|e| panic!("{} on {}: {e}", what, t.code))
}

fn wait_until(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn held_sales(t: &mut TerminalProcess, codes: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in codes {
        for id in ok(t, json!({"cmd": "sales_of", "terminal": c}))
            .as_array()
            .expect("ids")
        {
            out.insert(id.as_str().expect("id").to_string());
        }
    }
    out
}

fn spawn(dir: &Path, code: &str) -> TerminalProcess {
    TerminalProcess::spawn(&dir.join(format!("{code}.db")), code)
}

#[test]
fn lan_sync_while_the_server_is_down_then_every_sale_reaches_postgres_once() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let db = TestDatabase::create("snapkasir_lan");
    let dir = tempfile_dir();
    let log = dir.join("server.log");

    // Enrolment needs the server once; then it goes down for the whole LAN phase.
    let server = ServerProcess::start(&db.url, "127.0.0.1:0", &log);
    let server_addr = server.addr.to_string();
    let made = server.admin(&create_tenant_args(
        "LanTenant",
        "LAN1",
        "Toko LAN",
        "owner-lan@example.com",
    ));
    let store_id = made["store_id"].as_str().expect("store id").to_string();

    let products: Vec<Value> = SKUS.iter().map(|s| json!([s, 5000, START])).collect();
    let export = dir.join("store.json");
    let mut tills: Vec<TerminalProcess> = Vec::new();
    let mut enrolled: Vec<(String, Value)> = Vec::new();
    for (i, code) in ["T1", "T2", "T3"].iter().enumerate() {
        let mut t = spawn(&dir, code);
        if i == 0 {
            ok(
                &mut t,
                json!({"cmd": "create_store", "store_id": store_id, "store_code": "LAN1", "terminal_code": code, "products": products}),
            );
            ok(&mut t, json!({"cmd": "export", "path": export}));
        } else {
            ok(
                &mut t,
                json!({"cmd": "join", "path": export, "terminal_code": code}),
            );
        }
        ok(&mut t, json!({"cmd": "start_shift"}));
        // Enrolled with its LAN key, so the store's roster lists it.
        let lan_key = ok(&mut t, json!({"cmd": "lan_key"}));
        enrolled.push(enroll(&rt, &server, &store_id, code, lan_key.as_str()));
        tills.push(t);
    }
    // Each till takes the roster listing all three, and the store key, from the server.
    for (t, (credential, _)) in tills.iter_mut().zip(&enrolled) {
        ok(
            t,
            json!({"cmd": "lan_refresh", "server": server.url(), "credential": credential}),
        );
    }
    let lan_info = enrolled[0].1.clone();
    drop(server);

    // T1 listens; T2 listens and dials T1; T3 dials only T2.
    let a1 = ok(
        &mut tills[0],
        json!({"cmd": "lan", "listen": "127.0.0.1:0", "peers": []}),
    )["addr"]
        .as_str()
        .expect("addr")
        .to_string();
    let a2 = ok(
        &mut tills[1],
        json!({"cmd": "lan", "listen": "127.0.0.1:0", "peers": [a1]}),
    )["addr"]
        .as_str()
        .expect("addr")
        .to_string();
    ok(
        &mut tills[2],
        json!({"cmd": "lan", "listen": null, "peers": [a2]}),
    );
    // T1 and T2 also run their server clients, which find no server yet.
    for i in 0..2 {
        let credential = enrolled[i].0.clone();
        ok(
            &mut tills[i],
            json!({"cmd": "sync", "server": format!("http://{server_addr}"), "credential": credential}),
        );
    }

    ok(
        &mut tills[0],
        json!({"cmd": "set_price", "sku": "TEH", "price": 6500}),
    );
    ok(
        &mut tills[0],
        json!({"cmd": "park", "sku": "AQUA", "label": "meja 4"}),
    );
    let mut paid: BTreeMap<String, String> = BTreeMap::new();
    let mut sold: BTreeMap<&str, i64> = BTreeMap::new();
    for round in 0..4 {
        for (i, t) in tills.iter_mut().enumerate() {
            let sku = SKUS[(round + i) % 2];
            let qty = 1 + (round + i) as i64 % 3;
            let r = ok(t, json!({"cmd": "sell", "sku": sku, "qty": qty}));
            paid.insert(r["sale_id"].as_str().expect("id").into(), t.code.clone());
            *sold.entry(sku).or_default() += qty;
        }
    }
    let all: BTreeSet<String> = paid.keys().cloned().collect();
    let deadline = Duration::from_secs(30);
    for t in tills.iter_mut() {
        let code = t.code.clone();
        wait_until(&format!("every sale on {code}"), deadline, || {
            held_sales(t, &["T1", "T2", "T3"]) == all
        });
    }
    let want: BTreeMap<String, String> = SKUS
        .iter()
        .map(|s| {
            (
                s.to_string(),
                (START - sold.get(s).copied().unwrap_or(0)).to_string(),
            )
        })
        .collect();
    let want = serde_json::to_value(&want).expect("json");
    for t in tills.iter_mut() {
        let code = t.code.clone();
        wait_until(&format!("stock on {code}"), deadline, || {
            ok(t, json!({"cmd": "status"}))["stock"] == want
        });
        wait_until(&format!("the parked cart on {code}"), deadline, || {
            ok(t, json!({"cmd": "parked"})) == json!(["meja 4"])
        });
    }
    let st = ok(&mut tills[2], json!({"cmd": "status"}));
    assert_eq!(st["sync"]["online"], false, "T3 has no server connection");

    // A terminal that is not in the store's roster (it read the roster, which is no secret, and
    // holds a wrong store key) dials T1: refused in the TLS handshake, and nothing moves.
    let mut intruder = spawn(&dir, "T9");
    ok(
        &mut intruder,
        json!({"cmd": "join", "path": export, "terminal_code": "T9"}),
    );
    ok(&mut intruder, json!({"cmd": "start_shift"}));
    ok(&mut intruder, json!({"cmd": "lan_info", "info": lan_info}));
    ok(
        &mut intruder,
        json!({"cmd": "store_key", "key": "kunci-yang-salah-0123456789"}),
    );
    let bad = ok(
        &mut intruder,
        json!({"cmd": "sell", "sku": "AQUA", "qty": 9}),
    )["sale_id"]
        .as_str()
        .expect("id")
        .to_string();
    ok(
        &mut intruder,
        json!({"cmd": "lan", "listen": null, "peers": [a1]}),
    );
    wait_until("T1 to refuse the intruder", deadline, || {
        ok(&mut tills[0], json!({"cmd": "lan_status"}))["refused"]
            .as_u64()
            .unwrap_or(0)
            >= 1
    });
    std::thread::sleep(Duration::from_millis(500));
    let ist = ok(&mut intruder, json!({"cmd": "lan_status"}));
    assert_eq!(ist["peers"], json!([]), "{ist}");
    assert!(held_sales(&mut intruder, &["T1", "T2", "T3"]).is_empty());
    for t in tills.iter_mut() {
        assert!(
            !held_sales(t, &["T9"]).contains(&bad),
            "intruder's sale on {}",
            t.code
        );
        assert_eq!(ok(t, json!({"cmd": "status"}))["stock"], want);
    }

    // The server comes back on the same address and database.
    let server = ServerProcess::start(&db.url, &server_addr, &log);
    let count = |sql: &str| -> i64 { psql(&db.url, sql).parse().expect("count") };
    wait_until("every sale in PostgreSQL", Duration::from_secs(40), || {
        count(&format!(
            "SELECT count(DISTINCT id) FROM sales WHERE store_id = '{store_id}'"
        )) >= all.len() as i64
    });
    // Let every path deliver everything it holds, then check: each sale exactly once.
    wait_until("T1 and T2 acknowledged", deadline, || {
        tills[..2]
            .iter_mut()
            .all(|t| ok(t, json!({"cmd": "status"}))["sync"]["waiting_sales"] == 0)
    });
    let rows = psql(
        &db.url,
        &format!(
            "SELECT id || ' ' || count(*) FROM sales WHERE store_id = '{store_id}' GROUP BY id"
        ),
    );
    let in_pg: BTreeMap<String, i64> = rows
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (id, n) = l.split_once(' ').expect("row");
            (id.to_string(), n.parse().expect("n"))
        })
        .collect();
    assert_eq!(
        in_pg.keys().cloned().collect::<BTreeSet<_>>(),
        all,
        "PostgreSQL holds exactly the paid sales"
    );
    assert!(in_pg.values().all(|n| *n == 1), "a sale twice: {in_pg:?}");
    let t3_sales = paid.values().filter(|c| *c == "T3").count();
    assert!(t3_sales > 0);
    // Stock on the server equals the terminals'.
    let server_stock = psql(
        &db.url,
        &format!(
            "SELECT p.sku || ' ' || sum(m.quantity_e4) FROM stock_movements m JOIN products p ON p.id = m.product_id AND p.store_id = m.store_id WHERE m.store_id = '{store_id}' GROUP BY p.sku"
        ),
    );
    for l in server_stock.lines().filter(|l| !l.is_empty()) {
        let (sku, q) = l.split_once(' ').expect("row");
        assert_eq!(
            (q.parse::<i64>().expect("qty") / 10_000).to_string(),
            want[sku].as_str().expect("want"),
            "server stock of {sku}"
        );
    }
    drop(server);
    drop(intruder);
    drop(tills);
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "snapkasir-lan-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
