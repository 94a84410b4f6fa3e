//! A till and a server of different versions (issue 15): the till says which document schema it
//! writes when it connects, and the server refuses, in words and before any document moves, a
//! till older than the oldest schema it serves or newer than the schema it knows. The till
//! shows the cashier who must update, keeps its sales, and syncs as soon as the versions meet.
//! A real sync-server process (embedded store), real tills' SQLite files, real WebSockets.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pos_core::Terminal;
use pos_core::enrolment::enrol;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::compat::{OLDEST_TILL_SCHEMA_VERSION, Outdated, SCHEMA_HEADER};
use pos_core::shared_model::documents::SCHEMA_VERSION;
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::Tender;
use pos_core::sync::client::{SyncClient, SyncConfig};
use pos_core::sync::{SyncStatus, SyncWarning};
use snapkasir_tests::processes::{ServerProcess, create_tenant_args};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Till = Arc<Mutex<Terminal>>;

fn lock(t: &Till) -> std::sync::MutexGuard<'_, Terminal> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

/// A sync client of `t` that says it writes `schema`.
fn start_sync(t: &Till, schema: u64) -> SyncClient {
    let (enrolment, credential) = lock(t).enrolment().unwrap().expect("enrolled");
    let mut config = SyncConfig::new(&enrolment.server_url, credential);
    config.poll_interval = Duration::from_millis(50);
    config.heartbeat_interval = Duration::from_millis(200);
    config.min_backoff = Duration::from_millis(100);
    config.max_backoff = Duration::from_millis(500);
    config.schema_version = schema;
    SyncClient::start(t.clone(), config)
}

/// The status once `done` holds, within 15 s.
async fn status_when(
    client: &SyncClient,
    what: &str,
    done: impl Fn(&SyncStatus) -> bool,
) -> SyncStatus {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let s = client.status();
        if done(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{what} within 15 s; last status {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn update_required(s: &SyncStatus) -> Option<Outdated> {
    s.warnings.iter().find_map(|w| match w {
        SyncWarning::UpdateRequired { outdated } => Some(*outdated),
        _ => None,
    })
}

/// What the server answers a till's upgrade request carrying `schema` (`None`: no header).
async fn upgrade_answer(url: &str, credential: &str, schema: Option<&str>) -> (u16, String) {
    let mut request = format!("{}/sync", url.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "authorization",
        format!("Bearer {credential}").parse().unwrap(),
    );
    if let Some(schema) = schema {
        headers.insert(SCHEMA_HEADER, schema.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((mut ws, response)) => {
            let _ = ws.close(None).await;
            (response.status().as_u16(), String::new())
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => (
            response.status().as_u16(),
            String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into(),
        ),
        Err(e) => panic!("upgrade request failed: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_till_of_another_schema_is_told_who_must_update_and_syncs_once_versions_meet() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::on_sqlite(dir.path());
    let made = server.admin(&create_tenant_args(
        "Versi",
        "VER",
        "Toko Versi",
        "owner@versi.test",
    ));
    let store_id = made["store_id"].as_str().unwrap();
    let code = server.enrollment_code(store_id, "Kasir 1");
    let till: Till = Arc::new(Mutex::new(
        Terminal::open(dir.path().join("t1.db")).unwrap(),
    ));
    enrol(&till, &server.url(), &code, true)
        .await
        .expect("enrols");

    // A sale made while the till's app is too old for the server.
    let sale = {
        let mut t = lock(&till);
        let sari = t
            .users()
            .unwrap()
            .into_iter()
            .find(|u| u.name == "Sari")
            .unwrap()
            .id;
        t.start_shift(sari, Money::from_i64(100_000)).unwrap();
        let hit = t.search("Aqua", 1, false).unwrap().remove(0);
        let mut cart = Cart::new();
        t.cart_add_product(&mut cart, hit.product_id, None, Quantity::ONE)
            .unwrap();
        let total = t.price(&cart).unwrap().total();
        t.checkout(&cart, &[Tender::cash(total)], sari, None)
            .unwrap()
            .id
            .to_string()
    };

    let old = start_sync(&till, OLDEST_TILL_SCHEMA_VERSION - 1);
    let refused = status_when(&old, "the old till told to update", |s| {
        update_required(s).is_some()
    })
    .await;
    assert_eq!(update_required(&refused), Some(Outdated::Till));
    assert!(!refused.online);
    let said = refused.last_error.clone().unwrap_or_default();
    assert!(said.contains("update SnapKasir on this till"), "{said}");
    assert_eq!(refused.waiting_sales, 1, "the sale is kept, waiting");
    // Refused before any document moved: the server has no sale and no acknowledgement came.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(lock(&till).on_server_since(&sale).unwrap().is_none());
    old.stop().await;

    let newer = start_sync(&till, SCHEMA_VERSION + 1);
    let refused = status_when(&newer, "the newer till told the server is old", |s| {
        update_required(s).is_some()
    })
    .await;
    assert_eq!(update_required(&refused), Some(Outdated::Server));
    let said = refused.last_error.clone().unwrap_or_default();
    assert!(said.contains("update it"), "{said}");
    newer.stop().await;

    // This build's till: served, the warning gone, the sale on the server once.
    let current = start_sync(&till, SCHEMA_VERSION);
    let synced = status_when(&current, "the sale acknowledged", |s| {
        s.online && s.waiting_sales == 0
    })
    .await;
    assert_eq!(update_required(&synced), None, "{synced:?}");
    assert!(lock(&till).on_server_since(&sale).unwrap().is_some());
    current.stop().await;

    // The answers themselves: the codes a till keys on, a garbage header refused in words, and
    // a till that predates the header served as schema 1.
    let (_, credential) = lock(&till).enrolment().unwrap().unwrap();
    let url = server.url();
    let (status, body) = upgrade_answer(&url, &credential.0, Some("0")).await;
    assert_eq!(status, 426, "{body}");
    assert!(body.contains("\"till_too_old\""), "{body}");
    let newer = (SCHEMA_VERSION + 1).to_string();
    let (status, body) = upgrade_answer(&url, &credential.0, Some(&newer)).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("\"server_too_old\""), "{body}");
    let (status, body) = upgrade_answer(&url, &credential.0, Some("v2")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("is not a schema version"), "{body}");
    assert_eq!(upgrade_answer(&url, &credential.0, None).await.0, 101);
    // Someone without a credential learns nothing about versions.
    assert_eq!(upgrade_answer(&url, "skd_nobody", Some("0")).await.0, 401);
}
