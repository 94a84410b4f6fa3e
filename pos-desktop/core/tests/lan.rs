//! LAN sync between terminals with no server: real SQLite files, real loopback WebSockets,
//! the real TLS channel and store-key proofs. Catalog edits, parked carts, stock adjustments and sales made on
//! one till reach the others (also through a till in the middle); a till with the wrong store
//! key is refused and changes nothing.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::catalog::Product;
use pos_core::shared_model::ids::{SaleId, UserId};
use pos_core::shared_model::lan_roster::{
    LanInfo, LanRoster, RosterTill, SignedLanRoster, public_key_hex,
};
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::Tender;
use pos_core::shared_model::settings::StoreSettings;
use pos_core::shared_model::stock::MovementKind;
use pos_core::shared_model::users::Role;
use pos_core::sync::lan::{LanConfig, LanSync, StoreKey};
use pos_core::{Identity, JoinStore, NewStore, Terminal};

use common::store_documents;

const KEY: &str = "kunci-toko-rahasia-0123456789";

type Till = Arc<Mutex<Terminal>>;

fn lock(t: &Till) -> MutexGuard<'_, Terminal> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

struct Store {
    ident: Identity,
    docs: Vec<(String, Vec<u8>)>,
    cashier: UserId,
}

/// The first till: creates the store, a manager, two products with stock.
fn first_till(dir: &Path, store_id: &str) -> (Till, Store) {
    let mut t = Terminal::open(dir.join("T1.db")).unwrap();
    let mut settings = StoreSettings::indonesia("Toko LAN", "Jl. Jaringan 1");
    settings.cash_rounding_unit = Money::ZERO;
    let ident = t
        .create_store(NewStore {
            store_id: store_id.into(),
            store_code: "LAN1".into(),
            terminal_code: "T1".into(),
            settings,
        })
        .unwrap();
    let cashier = t.add_user("Manajer", Role::Manager, "1234").unwrap().id;
    for sku in ["AQUA", "TEH"] {
        let p = t
            .create_product(Product::new(
                sku,
                &format!("Produk {sku}"),
                Money::from_i64(5000),
                "standard",
            ))
            .unwrap();
        t.adjust_stock(
            p.id,
            MovementKind::Receipt,
            Quantity::from_i64(1000),
            None,
            cashier,
        )
        .unwrap();
    }
    t.set_store_key(&StoreKey::new(KEY).unwrap()).unwrap();
    t.start_shift(cashier, Money::from_i64(100_000)).unwrap();
    let docs = store_documents(&mut t);
    (
        Arc::new(Mutex::new(t)),
        Store {
            ident,
            docs,
            cashier,
        },
    )
}

/// Another till of the store (the store-wide documents only: no stock adjustments yet).
fn join_till(dir: &Path, store: &Store, code: &str, key: &str) -> Till {
    let mut t = Terminal::open(dir.join(format!("{code}.db"))).unwrap();
    let mut ident = store.ident.clone();
    ident.terminal_code = code.into();
    t.join_store(JoinStore {
        identity: ident,
        documents: store.docs.clone(),
    })
    .unwrap();
    t.set_store_key(&StoreKey::new(key).unwrap()).unwrap();
    t.start_shift(store.cashier, Money::from_i64(100_000))
        .unwrap();
    Arc::new(Mutex::new(t))
}

/// Gives `tills` the store's signed LAN roster listing each of them with its LAN key, and the
/// store key `KEY`, as the server's `LanInfo` would (signed with a test key of the store's).
fn roster_for(store_id: &str, tills: &[(&Till, &str)]) -> LanInfo {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let roster = LanRoster {
        store_id: store_id.into(),
        version: 1,
        store_key_version: 1,
        issued_at_ms: 0,
        tills: tills
            .iter()
            .map(|(t, code)| RosterTill {
                terminal_id: format!("id-{code}"),
                terminal_code: code.to_string(),
                lan_key: lock(t).lan_identity().unwrap().public_key_hex(),
                revoked: false,
            })
            .collect(),
    };
    let info = LanInfo {
        store_signing_key: public_key_hex(&signing),
        roster: SignedLanRoster::sign(&roster, &signing),
        store_key: KEY.into(),
        store_key_version: 1,
        pin_pepper: "ab".repeat(32),
    };
    for (t, _) in tills {
        lock(t).apply_lan_info(&info).unwrap();
    }
    info
}

fn config(listen: bool, peers: Vec<String>) -> LanConfig {
    LanConfig {
        listen: listen.then(|| "127.0.0.1:0".parse().unwrap()),
        peers,
        poll_interval: Duration::from_millis(50),
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        idle_timeout: Duration::from_secs(3),
        resync_interval: Duration::from_secs(1),
        ..LanConfig::default()
    }
}

fn sell(t: &Till, cashier: UserId, sku: &str, qty: i64) -> SaleId {
    let mut t = lock(t);
    let p = t.product_by_sku(sku).unwrap().unwrap();
    let mut cart = Cart::new();
    t.cart_add_product(&mut cart, p.id, None, Quantity::from_i64(qty))
        .unwrap();
    let total = t.price(&cart).unwrap().total();
    t.checkout(&cart, &[Tender::cash(total)], cashier, None)
        .unwrap()
        .id
}

fn stock(t: &Till) -> Vec<(String, String)> {
    let mut t = lock(t);
    let products: Vec<Product> = t
        .catalog_document()
        .unwrap()
        .products
        .into_values()
        .collect();
    let mut out: Vec<(String, String)> = products
        .iter()
        .map(|p| (p.sku.clone(), t.stock_on_hand(p.id).unwrap().to_string()))
        .collect();
    out.sort();
    out
}

async fn wait_for(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_tills_sync_without_a_server_and_refuse_a_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let (t1, store) = first_till(dir.path(), "store-lan");
    let t2 = join_till(dir.path(), &store, "T2", KEY);
    let t3 = join_till(dir.path(), &store, "T3", KEY);
    let info = roster_for("store-lan", &[(&t1, "T1"), (&t2, "T2"), (&t3, "T3")]);
    let cashier = store.cashier;

    // T1 listens; T2 listens and dials T1; T3 dials only T2 (so T1 ↔ T3 goes through T2).
    let lan1 = LanSync::start(t1.clone(), config(true, vec![]))
        .await
        .unwrap();
    let a1 = lan1.local_addr().unwrap().to_string();
    let lan2 = LanSync::start(t2.clone(), config(true, vec![a1.clone()]))
        .await
        .unwrap();
    let a2 = lan2.local_addr().unwrap().to_string();
    let lan3 = LanSync::start(t3.clone(), config(false, vec![a2.clone()]))
        .await
        .unwrap();

    // On T1: a catalog edit, a parked cart and sales; on T3: a sale.
    {
        let mut t = lock(&t1);
        let mut teh = t.product_by_sku("TEH").unwrap().unwrap();
        teh.price = Money::from_i64(6500);
        t.update_product(teh).unwrap();
        let aqua = t.product_by_sku("AQUA").unwrap().unwrap();
        let mut cart = Cart::new();
        t.cart_add_product(&mut cart, aqua.id, None, Quantity::from_i64(2))
            .unwrap();
        t.park_cart(&cart, Some("meja 4"), cashier).unwrap();
    }
    let mut sales = vec![
        sell(&t1, cashier, "AQUA", 3),
        sell(&t1, cashier, "TEH", 1),
        sell(&t3, cashier, "AQUA", 5),
    ];
    lan1.nudge();
    lan3.nudge();

    let deadline = Duration::from_secs(20);
    for (name, t) in [("T2", &t2), ("T3", &t3)] {
        wait_for(&format!("the catalog edit on {name}"), deadline, || {
            lock(t).product_by_sku("TEH").unwrap().unwrap().price == Money::from_i64(6500)
        })
        .await;
        wait_for(&format!("the parked cart on {name}"), deadline, || {
            lock(t)
                .parked_carts()
                .unwrap()
                .iter()
                .any(|c| c.label.as_deref() == Some("meja 4"))
        })
        .await;
    }
    sales.push(sell(&t2, cashier, "TEH", 2));
    lan2.nudge();
    for (name, t) in [("T1", &t1), ("T2", &t2), ("T3", &t3)] {
        wait_for(&format!("every sale on {name}"), deadline, || {
            let t = lock(t);
            sales.iter().all(|id| t.sale(*id).is_ok())
        })
        .await;
    }
    // Stock on hand: start 1000 each, receipts from T1's adjustments reached T2 and T3.
    let want = vec![
        ("AQUA".to_string(), "992".to_string()),
        ("TEH".to_string(), "997".to_string()),
    ];
    for (name, t) in [("T1", &t1), ("T2", &t2), ("T3", &t3)] {
        wait_for(&format!("stock on {name}"), deadline, || stock(t) == want).await;
    }
    let s2 = lan2.status();
    assert_eq!(
        s2.peers
            .iter()
            .map(|p| p.terminal_code.as_str())
            .collect::<Vec<_>>(),
        vec!["T1", "T3"],
        "{s2:?}"
    );
    assert_eq!(s2.refused, 0);

    // A till that is not in the roster and holds another store key (it has read the roster,
    // which is no secret): refused by T1 in the TLS handshake, and nothing moves either way.
    let intruder = join_till(dir.path(), &store, "T9", "kunci-toko-lain-9876543210");
    {
        let mut t = lock(&intruder);
        t.apply_lan_info(&info).unwrap();
        t.set_store_key(&StoreKey::new("kunci-toko-lain-9876543210").unwrap())
            .unwrap();
    }
    let intruder_sale = sell(&intruder, cashier, "AQUA", 7);
    {
        let mut t = lock(&intruder);
        let mut aqua = t.product_by_sku("AQUA").unwrap().unwrap();
        aqua.price = Money::from_i64(1);
        t.update_product(aqua).unwrap();
    }
    let lan9 = LanSync::start(intruder.clone(), config(false, vec![a1.clone()]))
        .await
        .unwrap();
    wait_for("T1 to refuse the intruder", deadline, || {
        lan1.status().refused >= 2
    })
    .await;
    assert!(lan9.status().peers.is_empty());
    // In TLS 1.3 the dialer's side of the handshake ends before T1 checks its certificate:
    // the refusal reaches it as T1's alert.
    let error = lan9.status().last_error.unwrap_or_default();
    assert!(
        error.contains("AccessDenied") || error.contains("TLS handshake"),
        "{:?}",
        lan9.status()
    );
    // A raw client (plain WebSocket, no TLS, no proof) is refused as well.
    let raw = tokio_tungstenite::connect_async(format!("ws://{a1}/lan")).await;
    assert!(raw.is_err(), "a client without TLS was accepted");
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (name, t) in [("T1", &t1), ("T2", &t2), ("T3", &t3)] {
        let t = lock(t);
        assert!(t.sale(intruder_sale).is_err(), "intruder's sale on {name}");
        assert_eq!(
            t.product_by_sku("AQUA").unwrap().unwrap().price,
            Money::from_i64(5000),
            "intruder's price on {name}"
        );
    }
    assert!(lock(&intruder).sale(sales[0]).is_err());
    assert_eq!(stock(&t1), want);

    // Sync states are kept per peer, so a new connection resumes where this one stopped.
    let states: i64 = rusqlite::Connection::open(dir.path().join("T2.db"))
        .unwrap()
        .query_row(
            "SELECT count(DISTINCT peer) FROM sync_states WHERE peer IN ('LAN1-T1', 'LAN1-T3')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(states, 2);

    lan9.stop().await;
    lan3.stop().await;
    lan2.stop().await;
    lan1.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_sync_needs_a_store_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Terminal::open(dir.path().join("x.db")).unwrap();
    t.create_store(NewStore {
        store_id: "s".into(),
        store_code: "S".into(),
        terminal_code: "T1".into(),
        settings: StoreSettings::indonesia("Toko", "Jl. 1"),
    })
    .unwrap();
    assert!(t.store_key().unwrap().is_none());
    let err = LanSync::start(Arc::new(Mutex::new(t)), config(true, vec![]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("store key"), "{err}");
}

/// mDNS on loopback: two tills of the store find each other and sync, a till of another store
/// is not dialed. Multicast must work on the loopback interface (see docs/lan-sync.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_mdns_discovery_finds_the_store_peers() {
    let dir = tempfile::tempdir().unwrap();
    // A store of its own: other runs of this test on the same host advertise too.
    let store_id = format!("store-mdns-{}", rand::random::<u64>());
    let (t1, store) = first_till(dir.path(), &store_id);
    let t2 = join_till(dir.path(), &store, "T2", KEY);
    roster_for(&store_id, &[(&t1, "T1"), (&t2, "T2")]);
    let mut c = config(true, vec![]);
    c.discovery = true;
    let lan1 = LanSync::start(t1.clone(), c.clone()).await.unwrap();
    let lan2 = LanSync::start(t2.clone(), c).await.unwrap();
    let sale = sell(&t1, store.cashier, "TEH", 1);
    lan1.nudge();
    wait_for("mDNS discovery and sync", Duration::from_secs(20), || {
        lock(&t2).sale(sale).is_ok()
    })
    .await;
    // No address was configured: the sale came over the connection T1 dialed after finding T2.
    assert_eq!(lan1.status().discovered, vec!["T2".to_string()]);
    assert_eq!(lan1.status().peers.len(), 1);
    assert!(!lan1.status().peers[0].inbound);
    // T2 finds T1 too (and leaves the dialing to the smaller code).
    wait_for("T2 to discover T1", Duration::from_secs(20), || {
        lan2.status().discovered == vec!["T1".to_string()]
    })
    .await;
    lan2.stop().await;
    lan1.stop().await;
}

/// Every sale on A arrives on B over the LAN, one at a time, with no server; it also prints the
/// latency. As a test it runs 20 sales; the figure in BENCHMARKS.md comes from
/// `SNAPKASIR_LAN_BENCH_SALES=200` (see docs/lan-sync.md). Nothing here asserts a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_sale_latency_a_to_b() {
    let n: usize = std::env::var("SNAPKASIR_LAN_BENCH_SALES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let (a, store) = first_till(dir.path(), "store-lan");
    let b = join_till(dir.path(), &store, "T2", KEY);
    roster_for("store-lan", &[(&a, "T1"), (&b, "T2")]);
    let lan_b = LanSync::start(b.clone(), config(true, vec![]))
        .await
        .unwrap();
    let addr = lan_b.local_addr().unwrap().to_string();
    let mut ca = config(false, vec![addr]);
    ca.poll_interval = Duration::from_secs(1);
    let lan_a = LanSync::start(a.clone(), ca).await.unwrap();
    wait_for("the connection", Duration::from_secs(10), || {
        lan_a.status().peers.len() == 1
    })
    .await;
    let warm = sell(&a, store.cashier, "AQUA", 1);
    lan_a.nudge();
    wait_for("warm-up", Duration::from_secs(10), || {
        lock(&b).sale(warm).is_ok()
    })
    .await;
    let mut lat = Vec::with_capacity(n);
    let mut transit = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let id = sell(&a, store.cashier, "AQUA", 1);
        let paid = Instant::now();
        lan_a.nudge();
        loop {
            if lock(&b).sale(id).is_ok() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "sale never arrived"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        lat.push(start.elapsed());
        transit.push(paid.elapsed());
    }
    let pct = |v: &mut Vec<Duration>, q: f64| {
        v.sort();
        v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1]
    };
    eprintln!(
        "LAN sale A→B over {n} sales: from checkout start p50 {:?}, p99 {:?}; from paid (committed) p50 {:?}, p99 {:?}",
        pct(&mut lat, 0.50),
        pct(&mut lat, 0.99),
        pct(&mut transit, 0.50),
        pct(&mut transit, 0.99),
    );
    lan_a.stop().await;
    lan_b.stop().await;
}
