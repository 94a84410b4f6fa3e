//! pos-core's enrolment client against a real sync-server process (embedded SQLite store): the
//! first till of a fresh store creates the store's documents (with the demo catalog), a second
//! till enrolled with another code joins them (fetched over the sync endpoint), logs in with the
//! same PIN and sells, and its sale is acknowledged; used and garbage codes and an unreachable
//! server give stable error codes and leave the till unenrolled.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pos_core::enrolment::enrol;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::ids::UserId;
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::Tender;
use pos_core::sync::client::{SyncClient, SyncConfig};
use pos_core::{CoreError, Terminal};
use snapkasir_tests::processes::{ServerProcess, create_tenant_args};

type Till = Arc<Mutex<Terminal>>;

/// A directory of this test's own under the system's temp dir, removed at the end.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let d = std::env::temp_dir().join(format!(
            "snapkasir-enrol-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&d).expect("temp dir");
        Scratch(d)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn lock(t: &Till) -> std::sync::MutexGuard<'_, Terminal> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

fn till(dir: &Path, name: &str) -> Till {
    Arc::new(Mutex::new(Terminal::open(dir.join(name)).expect("open")))
}

fn code(server: &ServerProcess, store_id: &str, name: &str) -> String {
    server.enrollment_code(store_id, name)
}

fn start_sync(t: &Till) -> SyncClient {
    let (enrolment, credential) = lock(t).enrolment().unwrap().expect("enrolled");
    let mut config = SyncConfig::new(&enrolment.server_url, credential);
    config.poll_interval = Duration::from_millis(50);
    config.heartbeat_interval = Duration::from_millis(200);
    config.max_backoff = Duration::from_secs(1);
    config.resync_interval = Duration::from_secs(2);
    SyncClient::start(t.clone(), config)
}

fn user_named(t: &Till, name: &str) -> UserId {
    lock(t)
        .users()
        .unwrap()
        .into_iter()
        .find(|u| u.name == name)
        .unwrap_or_else(|| panic!("no user {name}"))
        .id
}

/// Sells one piece of the product found by `query` and returns the sale id.
fn sell(t: &Till, cashier: UserId, query: &str) -> String {
    let mut t = lock(t);
    let hit = t.search(query, 1, false).unwrap().remove(0);
    let mut cart = Cart::new();
    t.cart_add_product(&mut cart, hit.product_id, None, Quantity::from_i64(1))
        .unwrap();
    let total = t.price(&cart).unwrap().total();
    let sale = t
        .checkout(&cart, &[Tender::cash(total)], cashier, None)
        .unwrap();
    sale.id.to_string()
}

async fn acknowledged(t: &Till, sale: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while lock(t).on_server_since(sale).unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "sale {sale} not acknowledged in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tills_enrol_create_and_join_the_store_and_bad_codes_are_refused() {
    let dir = Scratch::new();
    let server = ServerProcess::on_sqlite(dir.path());
    let made = server.admin(&create_tenant_args(
        "Enrol",
        "ENR",
        "Toko Enrol",
        "owner@enrol.test",
    ));
    let store_id = made["store_id"].as_str().unwrap().to_string();
    let url = server.url();

    // The first till: the server's store has no documents yet, so the till creates them.
    let a = till(dir.path(), "a.db");
    let first = enrol(&a, &url, &code(&server, &store_id, "Kasir 1"), true)
        .await
        .expect("first till enrols");
    assert_eq!(first.terminal_code, "T1");
    assert_eq!(first.store_code, "ENR");
    assert_eq!(first.store_name, "Toko Enrol");
    assert_eq!(lock(&a).product_count().unwrap(), 30);
    assert_eq!(lock(&a).settings().unwrap().store_name, "Toko Enrol");
    assert!(lock(&a).store_key().unwrap().is_some());
    let sync_a = start_sync(&a);
    let sari_a = user_named(&a, "Sari");
    lock(&a)
        .start_shift(sari_a, Money::from_i64(100_000))
        .unwrap();
    let sale_a = sell(&a, sari_a, "Aqua");
    acknowledged(&a, &sale_a).await;

    // A second till joins the documents the first one made.
    let b = till(dir.path(), "b.db");
    let second = enrol(&b, &url, &code(&server, &store_id, "Kasir 2"), false)
        .await
        .expect("second till enrols");
    assert_eq!(second.terminal_code, "T2");
    assert_eq!(
        lock(&b).identity().unwrap().catalog_doc,
        lock(&a).identity().unwrap().catalog_doc
    );
    assert_eq!(lock(&b).product_count().unwrap(), 30);
    assert!(
        !lock(&b)
            .search("Indomie Goreng", 5, false)
            .unwrap()
            .is_empty(),
        "the first till's products are searchable on the second"
    );
    let sari_b = user_named(&b, "Sari");
    assert_eq!(sari_b, sari_a);
    lock(&b).verify_pin(sari_b, "1234").expect("same PIN");
    let sync_b = start_sync(&b);
    lock(&b)
        .start_shift(sari_b, Money::from_i64(50_000))
        .unwrap();
    let sale_b = sell(&b, sari_b, "Teh Botol");
    assert!(
        lock(&b)
            .sale(sale_b.parse().unwrap())
            .unwrap()
            .receipt_no
            .to_string()
            .starts_with("ENR-T2-")
    );
    acknowledged(&b, &sale_b).await;

    // A used code, a garbage code, an unreachable server: clear errors, nothing enrolled.
    let c = till(dir.path(), "c.db");
    let used = code(&server, &store_id, "Kasir 3");
    let d = till(dir.path(), "d.db");
    enrol(&d, &url, &used, false).await.expect("third till");
    let err = enrol(&c, &url, &used, false).await.unwrap_err();
    assert!(matches!(err, CoreError::EnrolmentCodeInvalid), "{err}");
    assert_eq!(err.code(), "enrolment_code_invalid");
    let err = enrol(&c, &url, "NOT-A-REAL-CODE", false).await.unwrap_err();
    assert_eq!(err.code(), "enrolment_code_invalid", "{err}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = enrol(&c, &closed_url, &code(&server, &store_id, "Kasir 4"), false)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "server_unreachable", "{err}");
    assert!(lock(&c).identity().is_err());
    assert!(lock(&c).enrolment().unwrap().is_none());
    // Enrolling an enrolled till again is refused before any code is spent.
    let err = enrol(&a, &url, "ANY", false).await.unwrap_err();
    assert_eq!(err.code(), "already_initialized");

    sync_a.stop().await;
    sync_b.stop().await;
}
