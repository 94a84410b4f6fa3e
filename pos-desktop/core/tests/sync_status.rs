//! What the cashier sees when the server cannot be reached: offline, sales waiting, and the
//! warnings once the configured limits pass. A real SQLite file and a real (closed) port.

mod common;

use common::new_terminal;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pos_core::Terminal;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::catalog::Product;
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::Tender;
use pos_core::shared_model::users::{Role, StoreUser};
use pos_core::sync::SyncWarning;
use pos_core::sync::client::{DeviceCredential, SyncClient, SyncConfig};

/// A till of its own store with a cashier on shift and one product.
fn till(dir: &std::path::Path) -> (Terminal, StoreUser, Product) {
    let mut t = new_terminal(&dir.join("t.db"), "T1");
    let cashier = t.add_user("Siti", Role::Cashier, "1234").unwrap();
    t.start_shift(cashier.id, Money::from_i64(100_000)).unwrap();
    let p = t
        .create_product(Product::new(
            "AQ",
            "Aqua",
            Money::from_i64(4_000),
            "standard",
        ))
        .unwrap();
    (t, cashier, p)
}

/// A client configuration whose server is a port nobody listens on: unreachable.
fn unreachable_server() -> SyncConfig {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    SyncConfig::new(
        &format!("http://{closed}"),
        DeviceCredential("skd_test".into()),
    )
}

/// One of the product, paid in cash.
fn sell_one(t: &mut Terminal, cashier: &StoreUser, p: &Product) {
    let mut cart = Cart::new();
    t.cart_add_product(&mut cart, p.id, None, Quantity::ONE)
        .unwrap();
    t.checkout(
        &cart,
        &[Tender::cash(Money::from_i64(4_000))],
        cashier.id,
        None,
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_terminal_warns_and_keeps_its_sales_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, cashier, p) = till(dir.path());
    for _ in 0..3 {
        sell_one(&mut t, &cashier, &p);
    }
    let mut config = unreachable_server();
    config.offline_warning_after = Duration::from_millis(300);
    config.waiting_warning_threshold = 2;
    config.max_backoff = Duration::from_millis(200);
    let terminal = Arc::new(Mutex::new(t));
    let client = SyncClient::start(terminal.clone(), config);
    let mut rx = client.subscribe();
    let status = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let s = rx.borrow_and_update().clone();
            if s.warnings
                .iter()
                .any(|w| matches!(w, SyncWarning::OfflineTooLong { .. }))
                && s.last_error.is_some()
            {
                return s;
            }
            rx.changed().await.unwrap();
        }
    })
    .await
    .expect("the offline warning must appear");
    assert!(!status.online);
    assert_eq!(status.waiting_sales, 3);
    assert!(status.last_sync.is_none());
    assert!(
        status
            .warnings
            .contains(&SyncWarning::QueueTooLong { waiting_sales: 3 }),
        "{status:?}"
    );
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("connect"),
        "{status:?}"
    );
    // Checkout is not blocked by the sync client.
    sell_one(&mut terminal.lock().unwrap(), &cashier, &p);
    client.stop().await;
}

/// While the client waits out its backoff, a checkout's nudge updates the waiting count at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_count_follows_checkouts_while_offline() {
    let dir = tempfile::tempdir().unwrap();
    let (t, cashier, p) = till(dir.path());
    let mut config = unreachable_server();
    // Far longer than the test waits: only the nudge can refresh the status.
    config.min_backoff = Duration::from_secs(120);
    config.max_backoff = Duration::from_secs(120);
    let terminal = Arc::new(Mutex::new(t));
    let client = SyncClient::start(terminal.clone(), config);
    let mut rx = client.subscribe();
    tokio::time::timeout(Duration::from_secs(10), async {
        while rx.borrow_and_update().last_error.is_none() {
            rx.changed().await.unwrap();
        }
    })
    .await
    .expect("the first connection attempt fails");
    assert_eq!(client.status().waiting_sales, 0);
    for expected in 1..=2u64 {
        sell_one(&mut terminal.lock().unwrap(), &cashier, &p);
        client.nudge();
        let status = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let s = rx.borrow_and_update().clone();
                if s.waiting_sales == expected {
                    return s;
                }
                rx.changed().await.unwrap();
            }
        })
        .await
        .expect("the waiting count follows the checkout while offline");
        assert!(!status.online);
        assert!(status.last_error.is_some(), "{status:?}");
    }
    client.stop().await;
}
