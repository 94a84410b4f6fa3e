//! Documents the server writes, received by real pos-core terminals over WebSocket (issue 4):
//! a cashier added through the staff API logs in on a till with pos-core's own PIN check, and a
//! stock baseline written by the server gives the tills the same stock on hand as the server's
//! stock-on-hand report, right after and after more sales. The sync server runs in this process
//! (its library), on PostgreSQL and on SQLite; the tills are `pos_core::Terminal`s with their
//! `SyncClient`. The heartbeat's acknowledgements of a large backlog are checked here too.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::catalog::Product;
use pos_core::shared_model::codec::Timestamp;
use pos_core::shared_model::ids::{ProductId, SaleId, UserId};
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::Tender;
use pos_core::shared_model::settings::StoreSettings;
use pos_core::shared_model::stock::MovementKind;
use pos_core::shared_model::users::Role;
use pos_core::sync::client::{DeviceCredential, SyncClient, SyncConfig};
use pos_core::{Identity, JoinStore, NewStore, Terminal};
use sync_server::auth::Principal;
use sync_server::config::Config;
use sync_server::documents_writer::DocWriter;
use sync_server::staff::{NewStaffMember, StaffRole};
use sync_server::state::AppState;
use sync_server::storage::{DynStorage, SqliteStorage};

type Till = Arc<Mutex<Terminal>>;

fn lock(t: &Till) -> std::sync::MutexGuard<'_, Terminal> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

struct Server {
    state: AppState,
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

async fn start(storage: DynStorage) -> Server {
    storage.migrate().await.expect("migrate");
    let config = Config {
        baseline_interval_secs: 0, // the test writes baselines itself, at a chosen time
        ..Config::default()
    };
    let state = AppState::new(storage, Arc::new(config))
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(sync_server::app::serve(
        listener,
        state.clone(),
        async move {
            let _ = rx.await;
        },
    ));
    Server {
        state,
        url: format!("http://{addr}"),
        stop: Some(tx),
    }
}

async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn sync(till: &Till, server: &Server, credential: &str) -> SyncClient {
    let mut config = SyncConfig::new(&server.url, DeviceCredential(credential.into()));
    config.max_backoff = Duration::from_secs(1);
    config.poll_interval = Duration::from_millis(100);
    config.resync_interval = Duration::from_secs(1);
    config.heartbeat_interval = Duration::from_millis(300);
    SyncClient::start(till.clone(), config)
}

fn sell(till: &Till, cashier: UserId, product: ProductId, qty: i64) -> SaleId {
    let mut t = lock(till);
    let mut cart = Cart::new();
    t.cart_add_product(&mut cart, product, None, Quantity::from_i64(qty))
        .unwrap();
    let total = t.price(&cart).unwrap().total();
    t.checkout(&cart, &[Tender::cash(total)], cashier, None)
        .unwrap()
        .id
}

fn till_stock(till: &Till, products: &[ProductId]) -> BTreeMap<String, String> {
    let t = lock(till);
    products
        .iter()
        .map(|p| (p.to_string(), t.stock_on_hand(*p).unwrap().to_string()))
        .collect()
}

async fn server_stock(server: &Server, owner: &Principal, store: &str) -> BTreeMap<String, String> {
    server
        .state
        .services
        .stock_on_hand(owner, store)
        .await
        .unwrap()
        .into_iter()
        .map(|s| {
            (
                s.product_id,
                s.quantity.parse::<Quantity>().unwrap().to_string(),
            )
        })
        .collect()
}

fn baselines_held(till: &Till) -> Vec<String> {
    lock(till)
        .documents()
        .unwrap()
        .into_iter()
        .filter(|(_, kind, _)| kind == "stock-baseline")
        .map(|(id, _, _)| id)
        .collect()
}

async fn story(storage: DynStorage) {
    let server = start(storage.clone()).await;
    let services = &server.state.services;
    let email = format!("owner-{}@example.com", uuid_like());
    let b = services
        .bootstrap("Toko Uji", "RT1", "Toko Uji", &email, "rahasia-123")
        .await
        .unwrap();
    let owner = Principal::User {
        user_id: b.owner_id.clone(),
        tenant_id: b.tenant_id.clone(),
        store_id: None,
        role: sync_server::auth::Role::Owner,
    };
    let addr = "127.0.0.1".parse().unwrap();
    let enrol = async |name: &str| {
        let code = services
            .admin_enrollment_code(&b.store_id, name)
            .await
            .unwrap();
        services.enroll(&code.code, None, addr).await.unwrap()
    };
    let e1 = enrol("Kasir 1").await;
    let e2 = enrol("Kasir 2").await;

    // The store's first till makes its documents and syncs them.
    let dir = tempfile_dir();
    let mut t1 = Terminal::open(dir.join("t1.db")).unwrap();
    // As enrolment does: the store's PIN pepper before any PIN is hashed.
    let pepper = pos_core::shared_model::users::PinPepper::from_hex(&e1.pin_pepper).unwrap();
    t1.set_pin_pepper(&pepper).unwrap();
    let mut settings = StoreSettings::indonesia("Toko Uji", "Jl. Uji 1");
    settings.cash_rounding_unit = Money::ZERO;
    let ident: Identity = t1
        .create_store(NewStore {
            store_id: b.store_id.clone(),
            store_code: "RT1".into(),
            terminal_code: "T1".into(),
            settings,
        })
        .unwrap();
    let manager = t1.add_user("Bu Ani", Role::Manager, "9999").unwrap();
    let mut products = Vec::new();
    for (sku, stock) in [("AQ", 50), ("TH", 30)] {
        let p = t1
            .create_product(Product::new(
                sku,
                &format!("Produk {sku}"),
                Money::from_i64(5_000),
                "standard",
            ))
            .unwrap();
        t1.adjust_stock(
            p.id,
            MovementKind::Receipt,
            Quantity::from_i64(stock),
            None,
            manager.id,
        )
        .unwrap();
        products.push(p.id);
    }
    let t1: Till = Arc::new(Mutex::new(t1));
    let c1 = sync(&t1, &server, &e1.device_credential);
    eventually("the server knows the store root", async || {
        storage.store_root(&b.store_id).await.unwrap()
    })
    .await;

    // ---- staff: the owner adds a cashier; the till receives her and checks her PIN itself.
    let siti = sync_server::staff::add(
        &server.state,
        &owner,
        &b.store_id,
        serde_json::from_value::<NewStaffMember>(serde_json::json!({
            "name": "Siti", "role": "cashier", "pin": "2468"
        }))
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(siti.role, StaffRole::Cashier);
    let siti_id: UserId = siti.id.parse().unwrap();
    eventually("the till receives the new cashier", async || {
        lock(&t1).user(siti_id).ok()
    })
    .await;
    assert!(lock(&t1).verify_pin(siti_id, "1357").is_err());
    let user = lock(&t1).verify_pin(siti_id, "2468").unwrap();
    assert_eq!((user.name.as_str(), user.role), ("Siti", Role::Cashier));

    // ---- a second till joins from the first one's documents.
    let mut t2 = Terminal::open(dir.join("t2.db")).unwrap();
    let documents = {
        let mut t = lock(&t1);
        let mut out = Vec::new();
        for (id, kind, _) in t.documents().unwrap() {
            if matches!(
                kind.as_str(),
                "store-root" | "catalog" | "settings" | "users" | "parked-carts"
            ) {
                out.push((id.clone(), t.export_document(&id).unwrap()));
            }
        }
        out
    };
    t2.join_store(JoinStore {
        identity: Identity {
            terminal_code: "T2".into(),
            ..ident.clone()
        },
        documents,
    })
    .unwrap();
    let t2: Till = Arc::new(Mutex::new(t2));
    let c2 = sync(&t2, &server, &e2.device_credential);
    for t in [&t1, &t2] {
        lock(t)
            .start_shift(siti_id, Money::from_i64(100_000))
            .unwrap();
    }

    // ---- both tills sell; everyone agrees on stock.
    sell(&t1, siti_id, products[0], 3);
    sell(&t2, siti_id, products[1], 2);
    sell(&t2, siti_id, products[0], 1);
    let agree = async |what: &str| {
        eventually(what, async || {
            let s = server_stock(&server, &owner, &b.store_id).await;
            (s == till_stock(&t1, &products) && s == till_stock(&t2, &products)).then_some(s)
        })
        .await
    };
    let before = agree("tills and server agree before the baseline").await;
    assert_eq!(before[&products[0].to_string()], "46");
    assert_eq!(before[&products[1].to_string()], "28");

    // ---- the server writes the baseline of the (then closed) day; the tills take it.
    let writer = DocWriter::new(&server.state);
    let later = Timestamp(Timestamp::now().0 + Duration::from_secs(2 * 24 * 3600));
    let written = sync_server::baselines::write_due(&writer, &storage, None, later)
        .await
        .unwrap();
    assert_eq!(written.len(), 1, "{written:?}");
    let baseline = written[0].doc_id.clone();
    for t in [&t1, &t2] {
        eventually("the till receives the baseline", async || {
            baselines_held(t).contains(&baseline).then_some(())
        })
        .await;
    }
    let after = agree("tills and server agree right after the baseline").await;
    assert_eq!(after, before);

    // ---- more sales on top of the baseline.
    sell(&t1, siti_id, products[1], 4);
    sell(&t2, siti_id, products[0], 5);
    let more = agree("tills and server agree after more sales").await;
    assert_eq!(more[&products[0].to_string()], "41");
    assert_eq!(more[&products[1].to_string()], "24");

    // Once per store and date.
    assert!(
        sync_server::baselines::write_due(&writer, &storage, None, later)
            .await
            .unwrap()
            .is_empty()
    );

    c1.stop().await;
    c2.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn uuid_like() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sk-server-docs-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_documents_reach_real_tills_postgres() {
    let db = snapkasir_tests::processes::TestDatabase::create("sk_srvdocs");
    let storage = sync_server::storage::PgStorage::connect(&db.url, 5)
        .await
        .expect("connect");
    story(Arc::new(storage)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_documents_reach_real_tills_sqlite() {
    let dir = tempfile_dir();
    let storage = SqliteStorage::open(&dir).await.expect("open sqlite");
    story(Arc::new(storage)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A backlog bigger than one heartbeat page is acknowledged page after page without waiting a
/// heartbeat interval between pages: the till asks again at once after a fully acknowledged page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_is_acknowledged_page_after_page() {
    let dir = tempfile_dir();
    let storage: DynStorage = Arc::new(SqliteStorage::open(&dir.join("server")).await.unwrap());
    let server = start(storage).await;
    let (till, credential, _, cashier, product) = enrolled_till(&server, &dir, "AN1").await;
    // Sold before the till ever reaches the server: a backlog of 35, pages of 10.
    const BACKLOG: u64 = 35;
    for _ in 0..BACKLOG {
        sell(&till, cashier, product, 1);
    }
    let interval = Duration::from_secs(5);
    let mut config = SyncConfig::new(&server.url, DeviceCredential(credential));
    config.poll_interval = Duration::from_millis(100);
    config.heartbeat_interval = interval;
    config.heartbeat_page = 10;
    let client = SyncClient::start(till.clone(), config);
    let waiting = || lock(&till).waiting_records().unwrap();
    let first_page = eventually("the first page is acknowledged", async || {
        (waiting() < BACKLOG).then(Instant::now)
    })
    .await;
    eventually("the whole backlog is acknowledged", async || {
        (waiting() == 0).then_some(())
    })
    .await;
    // Four pages: one interval per page would take at least three more intervals.
    assert!(
        first_page.elapsed() < interval,
        "the remaining pages took {:?}, as if each waited for the {interval:?} heartbeat",
        first_page.elapsed()
    );
    client.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A store bootstrapped on the server (`code`) with one enrolled till holding the store's
/// documents, a cashier on shift and one product. Returns the till, its device credential, the
/// store id, the cashier and the product.
async fn enrolled_till(
    server: &Server,
    dir: &std::path::Path,
    code: &str,
) -> (Till, String, String, UserId, ProductId) {
    let services = &server.state.services;
    let name = format!("Toko {code}");
    let b = services
        .bootstrap(
            &name,
            code,
            &name,
            &format!("owner-{}@example.com", uuid_like()),
            "rahasia-123",
        )
        .await
        .unwrap();
    let enrollment = services
        .admin_enrollment_code(&b.store_id, "Kasir 1")
        .await
        .unwrap();
    let enrolment = services
        .enroll(&enrollment.code, None, "127.0.0.1".parse().unwrap())
        .await
        .unwrap();
    let mut t = Terminal::open(dir.join("t1.db")).unwrap();
    t.create_store(NewStore {
        store_id: b.store_id.clone(),
        store_code: code.into(),
        terminal_code: "T1".into(),
        settings: StoreSettings::indonesia(&name, "Jl. Antri 1"),
    })
    .unwrap();
    let cashier = t.add_user("Siti", Role::Cashier, "2468").unwrap();
    t.start_shift(cashier.id, Money::from_i64(100_000)).unwrap();
    let product = t
        .create_product(Product::new(
            "AQ",
            "Aqua",
            Money::from_i64(4_000),
            "standard",
        ))
        .unwrap()
        .id;
    let till: Till = Arc::new(Mutex::new(t));
    (
        till,
        enrolment.device_credential,
        b.store_id,
        cashier.id,
        product,
    )
}

/// Checkout wakes the sync client itself (issue 11), in every shell: with the client's poll,
/// resync and heartbeat intervals far longer than the test waits, a sale reaches the server
/// with no call but the checkout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_reaches_the_server_right_after_checkout() {
    let dir = tempfile_dir();
    let storage: DynStorage = Arc::new(SqliteStorage::open(&dir.join("server")).await.unwrap());
    let server = start(storage.clone()).await;
    let (till, credential, store_id, cashier, product) = enrolled_till(&server, &dir, "SG1").await;
    let never = Duration::from_secs(3_600);
    let mut config = SyncConfig::new(&server.url, DeviceCredential(credential));
    config.poll_interval = never;
    config.resync_interval = never;
    config.heartbeat_interval = never;
    let client = SyncClient::start(till.clone(), config);
    eventually("the till's documents are on the server", async || {
        let s = client.status();
        (s.online && s.last_sync.is_some() && s.waiting_documents == 0).then_some(())
    })
    .await;
    let tenant_id = storage.store(&store_id).await.unwrap().unwrap().tenant_id;
    let sale = sell(&till, cashier, product, 1).to_string();
    eventually("the sale reaches the server", async || {
        let projected = storage
            .projected_records(&tenant_id, &store_id, std::slice::from_ref(&sale))
            .await
            .unwrap();
        projected.contains(&sale).then_some(())
    })
    .await;
    client.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
