//! The terminal heartbeat on both backends: acknowledgements of projected sales only, the
//! report stored (many tills' reports together), and bad input refused without changing
//! anything.

mod common;

use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sync_server::app::router;
use sync_server::projection::{ProjectedDoc, SaleRow};
use sync_server::state::AppState;
use sync_server::storage::DynStorage;
use tower::ServiceExt;

async fn post(state: &AppState, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = axum::http::Request::post("/api/v1/terminals/me/heartbeat")
        .header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = router(state.clone())
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn sale_doc(tenant_id: &str, store_id: &str, sale_id: &str) -> ProjectedDoc {
    ProjectedDoc {
        doc_id: "2himmX7m8L4TU929SCstFqVpXh6j".into(),
        tenant_id: tenant_id.into(),
        store_id: store_id.into(),
        kind: "journal".into(),
        sales: vec![SaleRow {
            id: sale_id.into(),
            terminal_code: "T1".into(),
            business_date: "2026-11-25".into(),
            created_at: 1,
            cashier_id: "c".into(),
            receipt_no: "JKT1-T1-261125-0001".into(),
            total_e4: 100_000_000,
            tax_e4: 0,
            discount_e4: 0,
            voided: false,
            void: None,
            receipt_token: None,
        }],
        ..ProjectedDoc::default()
    }
}

async fn story(storage: DynStorage) {
    let state = AppState::new(storage.clone(), std::sync::Arc::new(Default::default()))
        .await
        .unwrap();
    let t = common::setup_tenant(&state, "Toko Hb", "HB1").await;
    let cred = t.t1.device_credential.clone();
    storage
        .project_doc(&sale_doc(&t.tenant_id, &t.store_id, "sale-on-server"))
        .await
        .unwrap();
    storage
        .project_doc(&ProjectedDoc {
            doc_id: "3zRLsVeNtci9bmoRKMT6ud7vcMf9".into(),
            ..sale_doc(&t.tenant_id, &t.store2_id, "sale-of-other-store")
        })
        .await
        .unwrap();

    let now = chrono::Utc::now().to_rfc3339();
    let body = json!({"terminal_time": now, "waiting_documents": 2, "waiting_sales": 3,
                      "unacknowledged": ["sale-on-server", "sale-not-yet", "sale-of-other-store"]});
    let (status, reply) = post(&state, Some(&cred), body.clone()).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["acknowledged"], json!(["sale-on-server"]));
    assert!(reply["server_time"].as_str().unwrap().ends_with('Z'));

    // Refused: no token, an owner's token, malformed input.
    assert_eq!(post(&state, None, body.clone()).await.0, 401);
    assert_eq!(
        post(&state, Some(&t.owner_token), body.clone()).await.0,
        403
    );
    let (status, reply) = post(&state, Some(&cred), json!({"terminal_time": "yesterday", "waiting_documents": 0, "waiting_sales": 0, "unacknowledged": []})).await;
    assert_eq!((status, reply["code"].as_str()), (400, Some("bad_request")));
    let many: Vec<String> = (0..1001).map(|i| format!("s{i}")).collect();
    let (status, _) = post(&state, Some(&cred), json!({"terminal_time": now, "waiting_documents": 0, "waiting_sales": 0, "unacknowledged": many})).await;
    assert_eq!(status, 400);
    let (status, _) = post(
        &state,
        Some(&cred),
        json!({"terminal_time": now, "waiting_documents": -1}),
    )
    .await;
    assert_eq!(status, 400);

    // The last good report is what the server keeps.
    let row = storage.terminal(&t.t1.terminal_id).await.unwrap().unwrap();
    assert!(row.last_seen_at.is_some());
}

#[tokio::test]
async fn heartbeat_on_sqlite() {
    let (storage, _dir) = common::sqlite_storage().await;
    story(storage).await;
}

#[tokio::test]
async fn heartbeat_on_postgres() {
    let db = common::TestDb::create().await;
    story(db.storage().await).await;
}

/// A till's requests authenticate on every call, but its `last_seen_at` is written at most
/// every 10 s by them (its heartbeat records it besides): a burst of requests is one write.
#[tokio::test]
async fn authenticated_requests_touch_last_seen_at_once_in_ten_seconds() {
    let db = common::TestDb::create().await;
    let storage = db.storage().await;
    let state = AppState::new(storage.clone(), std::sync::Arc::new(Default::default()))
        .await
        .unwrap();
    let t = common::setup_tenant(&state, "Toko Sentuh", "ST1").await;
    let seen = async || {
        storage
            .terminal(&t.t1.terminal_id)
            .await
            .unwrap()
            .unwrap()
            .last_seen_at
    };
    assert_eq!(seen().await, None);
    state
        .services
        .authenticate_sync(&t.t1.device_credential)
        .await
        .unwrap();
    let first = seen().await.expect("the first request is recorded");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    for _ in 0..5 {
        state
            .services
            .authenticate_sync(&t.t1.device_credential)
            .await
            .unwrap();
    }
    assert_eq!(seen().await, Some(first));
    // Ten seconds stale: a request to an instance that has not written it since records it
    // again (a second instance on the same database, which looks the credential up).
    storage
        .touch_terminal(&t.t1.terminal_id, first - 10_000)
        .await
        .unwrap();
    let other = AppState::new(storage.clone(), std::sync::Arc::new(Default::default()))
        .await
        .unwrap();
    other
        .services
        .authenticate_sync(&t.t1.device_credential)
        .await
        .unwrap();
    assert!(seen().await.unwrap() > first);
}

/// Forty tills' heartbeats at once: each till's own report is the one stored, and they are
/// written in fewer statements than heartbeats.
async fn heartbeats_at_once(storage: DynStorage) {
    let state = AppState::new(storage.clone(), std::sync::Arc::new(Default::default()))
        .await
        .unwrap();
    let t = common::setup_tenant(&state, "Toko Ramai", "RM1").await;
    let s = &state.services;
    let mut tills = Vec::new();
    for i in 0..40 {
        let code = s
            .create_enrollment_code(&t.owner, &t.store_id, &format!("Kasir {i}"))
            .await
            .unwrap();
        let till = s.enroll(&code.code, None, "127.0.0.1".parse().unwrap());
        tills.push(till.await.unwrap());
    }
    let now = chrono::Utc::now().to_rfc3339();
    let beats = tills.iter().enumerate().map(|(i, till)| {
        let body = json!({"terminal_time": now, "waiting_documents": 1, "waiting_sales": i,
                          "unacknowledged": []});
        let state = state.clone();
        async move { post(&state, Some(&till.device_credential), body).await }
    });
    for (status, reply) in futures::future::join_all(beats).await {
        assert_eq!(status, 200, "{reply}");
    }
    let stored = storage
        .terminal_statuses_of_store(&t.store_id)
        .await
        .unwrap();
    for (i, till) in tills.iter().enumerate() {
        let row = stored
            .iter()
            .find(|r| r.terminal.id == till.terminal_id)
            .expect("listed");
        assert_eq!(
            (row.waiting_sales, row.waiting_documents),
            (i as i64, 1),
            "{}",
            row.terminal.name
        );
        assert!(row.last_report_at.is_some());
    }
    let counters = &s.terminal_reports.counters;
    let reports = counters.reports.load(std::sync::atomic::Ordering::Relaxed);
    let writes = counters.writes.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("{reports} reports in {writes} statements");
    assert_eq!(reports, 40);
    assert!(
        writes < reports / 2,
        "{reports} reports in {writes} statements"
    );
}

#[tokio::test]
async fn heartbeats_at_once_on_sqlite() {
    let (storage, _dir) = common::sqlite_storage().await;
    heartbeats_at_once(storage).await;
}

#[tokio::test]
async fn heartbeats_at_once_on_postgres() {
    let db = common::TestDb::create().await;
    heartbeats_at_once(db.storage().await).await;
}

/// The heartbeat's lookup of projected sales reads about the same pages whatever the tenant's
/// history: the plan PostgreSQL settles on for the prepared statement (forced here: generic)
/// looks each asked id up in the key. `EXPLAIN (ANALYZE, BUFFERS)` counts the pages it touches
/// for 20 ids of a store of 1,000 sales, before and after 40,000 more sales of the tenant in its
/// other store.
#[tokio::test]
async fn the_heartbeats_lookup_does_not_grow_with_the_tenants_history() {
    use sqlx::{Connection, Row};
    let db = common::TestDb::create().await;
    let _migrated = db.storage().await;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let add_sales = async |conn: &mut sqlx::PgConnection, store: &str, prefix: &str, n: i32| {
        sqlx::query(
            "INSERT INTO sales (tenant_id, id, doc_id, store_id, terminal_code, business_date, \
             created_at, cashier_id, receipt_no, total_e4, tax_e4, voided) \
             SELECT 'tenant', $1 || g, 'doc', $2, 'T1', '2026-12-05', g, 'c', 'R' || g, 10000, 0, \
             false FROM generate_series(1, $3) g",
        )
        .bind(prefix)
        .bind(store)
        .bind(n)
        .execute(&mut *conn)
        .await
        .unwrap();
        sqlx::query("ANALYZE sales")
            .execute(&mut *conn)
            .await
            .unwrap();
    };
    add_sales(&mut conn, "store-1", "a-", 1_000).await;
    let asked: Vec<String> = (1..=20).map(|i| format!("a-{}", i * 37)).collect();
    let asked = serde_json::to_string(&asked).unwrap();
    sqlx::raw_sql("SET plan_cache_mode = force_generic_plan")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "PREPARE lookup(text, text, text) AS {}",
        sync_server::storage::POSTGRES_PROJECTED_RECORDS_SQL
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let pages = async |conn: &mut sqlx::PgConnection| -> (i64, i64) {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE lookup('tenant', 'store-1', '{asked}')"
        )))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        let plan: Value = row.get(0);
        let plan = &plan[0]["Plan"];
        let n = |k: &str| plan[k].as_i64().unwrap();
        (
            n("Shared Hit Blocks") + n("Shared Read Blocks"),
            n("Actual Rows"),
        )
    };
    let (before, found) = pages(&mut conn).await;
    assert_eq!(found, 20, "every asked sale is found");
    add_sales(&mut conn, "store-2", "b-", 40_000).await;
    let (after, found) = pages(&mut conn).await;
    assert_eq!(found, 20, "every asked sale is found");
    eprintln!("pages touched for 20 ids: {before} with 1,000 sales, {after} with 41,000");
    assert!(
        after <= before * 3 / 2,
        "the lookup touched {after} pages with 41,000 sales of the tenant against {before} with 1,000"
    );
}
