//! Sales by hour, low stock and the terminal listing's heartbeat reports, on both backends:
//! a terminal syncs journals, a catalog, stock adjustments and settings; the numbers are read
//! back through the HTTP router once projected.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::{NaiveDate, TimeZone, Utc};
use common::*;
use serde_json::{Value, json};
use shared_model::cart::{Cart, ProductSnapshot};
use shared_model::catalog::Product;
use shared_model::codec::{BusinessDate, Timestamp};
use shared_model::documents::{self, CatalogDoc, JournalDoc, SettingsDoc, StockAdjustmentsDoc};
use shared_model::ids::{SaleId, UserId, VoidId};
use shared_model::money::{Money, Quantity};
use shared_model::payment::Tender;
use shared_model::pricing::{PricingPolicy, price_cart};
use shared_model::receipt_number::ReceiptNumber;
use shared_model::sale::{Sale, SaleContext, Void};
use shared_model::settings::StoreSettings;
use shared_model::stock::{MovementKind, StockMovement};
use sync_server::state::AppState;
use sync_server::storage::DynStorage;

async fn get(state: &AppState, path: &str, token: &str) -> (StatusCode, Value) {
    call(state, "GET", path, Some(token), None).await
}

fn utc(d: u32, h: u32, m: u32) -> Timestamp {
    Timestamp(Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap())
}

fn day(d: u32) -> BusinessDate {
    BusinessDate(NaiveDate::from_ymd_opt(2026, 11, d).unwrap())
}

/// The store's documents and the products by SKU.
struct Docs {
    journal_20: JournalDoc,
    journal_21: JournalDoc,
    catalog: CatalogDoc,
    adjustments: StockAdjustmentsDoc,
}

fn docs(store_id: &str, store_code: &str) -> Docs {
    let settings = StoreSettings::indonesia("Toko", "Jl. Test 1");
    let currency = settings.currency();
    let product = |sku: &str, name: &str, price: i64, threshold: Option<i64>| {
        let mut p = Product::new(sku, name, Money::from_i64(price), "standard");
        p.low_stock_threshold = threshold.map(Quantity::from_i64);
        p
    };
    let indomie = product("IDM", "Indomie Goreng", 3_500, Some(10));
    let kopi = product("KOP", "Kopi Susu", 12_000, Some(1));
    let teh = product("TEH", "Teh Botol", 5_000, None);
    let gula = product("GUL", "Gula 1kg", 15_000, Some(3));
    let susu = product("SUS", "Susu UHT", 6_000, Some(4));
    let mut old = product("OLD", "Discontinued", 1_000, Some(5));
    old.active = false;

    let policy = PricingPolicy {
        currency: currency.clone(),
        price_mode: settings.price_mode,
        promotions: vec![],
    };
    let cashier = UserId::new();
    let mut seq = 0;
    let mut sale = |at: Timestamp, d: BusinessDate, items: &[(&Product, i64)], paid: i64| {
        let mut cart = Cart::new();
        for (p, q) in items {
            let snap = ProductSnapshot::of(p, None, settings.tax_rule("standard").unwrap().clone())
                .unwrap();
            cart.add(snap, Quantity::from_i64(*q)).unwrap();
        }
        seq += 1;
        let ctx = SaleContext {
            id: SaleId::new(),
            receipt_no: ReceiptNumber::new(store_code, "T1", d, seq).unwrap(),
            created_at: at,
            cashier_id: cashier,
            shift_id: None,
            currency: currency.clone(),
            price_mode: settings.price_mode,
            cash_unit: settings.cash_unit(),
        };
        let priced = price_cart(&cart, &policy).unwrap();
        Sale::checkout(priced, &[Tender::cash(Money::from_i64(paid))], ctx, None).unwrap()
    };

    let mut journal_20 = JournalDoc::new(store_id, "T1", day(20));
    // 09:15 and 10:40, 10:55 in Jakarta; 01:30 on the 21st is still business day 20.
    let s1 = sale(utc(20, 2, 15), day(20), &[(&indomie, 2)], 7_000);
    let s2 = sale(utc(20, 3, 40), day(20), &[(&kopi, 1)], 12_000);
    let s3 = sale(utc(20, 3, 55), day(20), &[(&indomie, 1)], 3_500);
    let voided = sale(
        utc(20, 4, 10),
        day(20),
        &[(&indomie, 1), (&kopi, 1)],
        15_500,
    );
    let s5 = sale(utc(20, 18, 30), day(20), &[(&teh, 2)], 10_000);
    journal_20.voids.insert(
        "v1".into(),
        Void {
            id: VoidId::new(),
            sale_id: voided.id,
            receipt_no: voided.receipt_no.clone(),
            at: utc(20, 4, 12),
            by: cashier,
            authorized_by: cashier,
            reason: "wrong items".into(),
        },
    );
    for s in [s1, s2, s3, voided, s5] {
        journal_20.sales.insert(s.id.to_string(), s);
    }
    // The next business day: outside a report of the 20th only.
    let mut journal_21 = JournalDoc::new(store_id, "T1", day(21));
    let s6 = sale(utc(21, 5, 0), day(21), &[(&teh, 1)], 5_000);
    journal_21.sales.insert(s6.id.to_string(), s6);

    let mut adjustments = StockAdjustmentsDoc::new(store_id, "2026-11");
    for (p, q) in [(&indomie, 12), (&kopi, 5), (&susu, 4), (&teh, 1)] {
        let m = StockMovement::manual(
            p.id,
            MovementKind::Receipt,
            Quantity::from_i64(q),
            Some("DO-1".into()),
            cashier,
            utc(19, 23, 0),
        )
        .unwrap();
        adjustments.movements.insert(m.id.to_string(), m);
    }

    let mut catalog = CatalogDoc::new(store_id);
    for p in [indomie, kopi, teh, gula, susu, old] {
        catalog.products.insert(p.id.to_string(), p);
    }
    Docs {
        journal_20,
        journal_21,
        catalog,
        adjustments,
    }
}

fn to_automerge<D: documents::Document>(d: &D) -> automerge::Automerge {
    let mut ac = documents::create(d).unwrap();
    automerge::Automerge::load(&ac.save()).unwrap()
}

/// `(hour, sales, total)` of the hours that had sales.
fn busy_hours(v: &Value) -> Vec<(u64, i64, String)> {
    let rows = v.as_array().expect("an array");
    assert_eq!(rows.len(), 24, "every hour is listed: {v}");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["hour"].as_u64(), Some(i as u64), "{v}");
    }
    rows.iter()
        .filter(|r| r["sales"].as_i64() != Some(0))
        .map(|r| {
            (
                r["hour"].as_u64().unwrap(),
                r["sales"].as_i64().unwrap(),
                r["total"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Polls `path` until `done` holds for its JSON (projection runs in the background).
async fn wait_for(
    state: &AppState,
    path: &str,
    token: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (st, v) = get(state, path, token).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{path} never became ready: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn story(storage: DynStorage) {
    let server = TestServer::start(storage).await;
    let state = server.state.clone();
    let a = setup_tenant(&state, "Toko A", "A1").await;
    let d = docs(&a.store_id, "A1");
    let (repo, _dialer) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    for doc in [
        to_automerge(&d.journal_20),
        to_automerge(&d.journal_21),
        to_automerge(&d.catalog),
        to_automerge(&d.adjustments),
    ] {
        repo.create(doc).await.unwrap();
    }
    let owner = a.owner_token.as_str();
    let store = format!("/api/v1/stores/{}", a.store_id);
    let by_hour = format!("{store}/reports/sales-by-hour?from=2026-11-20&to=2026-11-20");
    let low_stock = format!("{store}/reports/low-stock");

    // ---- sales by hour, in Asia/Jakarta (no settings document yet): the voided sale (11:10)
    // and the next business day's sale are left out.
    let v = wait_for(&state, &by_hour, owner, |v| {
        v.as_array()
            .is_some_and(|r| r.iter().map(|h| h["sales"].as_i64().unwrap()).sum::<i64>() == 4)
    })
    .await;
    assert_eq!(
        busy_hours(&v),
        [
            (1, 1, "10000".to_string()),
            (9, 1, "7000".to_string()),
            (10, 2, "15500".to_string())
        ]
    );
    // Hours add up to the day, taxes included.
    let (_, days) = get(
        &state,
        &format!("{store}/reports/sales-by-day?from=2026-11-20&to=2026-11-20"),
        owner,
    )
    .await;
    let sum = |field: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| {
                h[field]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            })
            .sum::<rust_decimal::Decimal>()
    };
    assert_eq!(
        sum("total"),
        days[0]["total"].as_str().unwrap().parse().unwrap()
    );
    assert_eq!(
        sum("tax"),
        days[0]["tax"].as_str().unwrap().parse().unwrap()
    );
    assert!(sum("tax") > rust_decimal::Decimal::ZERO);
    // Both days: the 21st's 12:00 sale joins.
    let v2 = wait_for(
        &state,
        &format!("{store}/reports/sales-by-hour?from=2026-11-20&to=2026-11-21"),
        owner,
        |v| v[12]["sales"].as_i64() == Some(1),
    )
    .await;
    assert_eq!(busy_hours(&v2).last(), Some(&(12, 1, "5000".to_string())));

    // ---- low stock: on hand from every movement (receipts minus non-voided sales); at or
    // below the threshold; products without a threshold and inactive ones are not listed.
    let v = wait_for(&state, &low_stock, owner, |v| {
        v.as_array().is_some_and(|r| r.len() == 3)
    })
    .await;
    let rows: Vec<(&str, &str, &str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["sku"].as_str().unwrap(),
                r["name"].as_str().unwrap(),
                r["on_hand"].as_str().unwrap(),
                r["threshold"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("GUL", "Gula 1kg", "0", "3"),
            ("IDM", "Indomie Goreng", "9", "10"),
            ("SUS", "Susu UHT", "4", "4"),
        ],
        "{v}"
    );
    let (_, on_hand) = get(&state, &format!("{store}/reports/stock-on-hand"), owner).await;
    let idm = d
        .catalog
        .products
        .values()
        .find(|p| p.sku == "IDM")
        .unwrap()
        .id
        .to_string();
    assert!(
        on_hand
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["product_id"] == idm.as_str() && r["quantity"] == "9"),
        "low stock agrees with stock on hand: {on_hand}"
    );

    // ---- the store's settings document moves the hours into its time zone (+05:30, so
    // quarter hours matter: 18:30 UTC is midnight).
    let mut settings = StoreSettings::indonesia("Toko", "Jl. Test 1");
    settings.business_day.time_zone = "Asia/Kolkata".into();
    repo.create(to_automerge(&SettingsDoc::new(&a.store_id, settings)))
        .await
        .unwrap();
    let v = wait_for(&state, &by_hour, owner, |v| {
        v[0]["sales"].as_i64() == Some(1)
    })
    .await;
    assert_eq!(
        busy_hours(&v),
        [
            (0, 1, "10000".to_string()),
            (7, 1, "7000".to_string()),
            (9, 2, "15500".to_string())
        ]
    );

    // ---- terminals: what each last reported through its heartbeat, null when never.
    let terminal_time = (Utc::now() + chrono::Duration::seconds(5)).to_rfc3339();
    let (st, v) = call(
        &state,
        "POST",
        "/api/v1/terminals/me/heartbeat",
        Some(&a.t1.device_credential),
        Some(json!({"terminal_time": terminal_time, "waiting_documents": 2, "waiting_sales": 3, "unacknowledged": []})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = get(&state, &format!("{store}/terminals"), owner).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let by_id = |id: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("{id} listed: {v}"))
            .clone()
    };
    let t1 = by_id(&a.t1.terminal_id);
    let report = &t1["last_report"];
    assert_eq!(
        (
            report["waiting_documents"].as_i64(),
            report["waiting_sales"].as_i64()
        ),
        (Some(2), Some(3)),
        "{t1}"
    );
    let skew = report["clock_skew_ms"].as_i64().unwrap();
    assert!((4_000..=6_000).contains(&skew), "{skew}");
    let at = report["at"].as_i64().unwrap();
    assert!((Utc::now().timestamp_millis() - at).abs() < 60_000, "{t1}");
    assert!(t1["last_seen_at"].as_i64().unwrap() >= at, "{t1}");
    let t2 = by_id(&a.t2.terminal_id);
    assert!(t2["last_report"].is_null(), "{t2}");
    assert!(t2["last_seen_at"].is_null(), "{t2}");

    // ---- access: another tenant's owner and another store's manager get what they get for
    // the existing reports; terminals and anonymous callers are refused; bad ranges too.
    let b = setup_tenant(&state, "Toko B", "B1").await;
    let email = format!("mgr-{}@example.com", uuid::Uuid::now_v7().simple());
    state
        .services
        .create_manager(&a.owner, &a.store2_id, &email, "manager-123")
        .await
        .unwrap();
    let manager = state
        .services
        .login(&email, "manager-123", "127.0.0.1".parse().unwrap())
        .await
        .unwrap()
        .access_token;
    let existing = format!("{store}/reports/sales-by-day?from=2026-11-20&to=2026-11-20");
    for token in [b.owner_token.as_str(), manager.as_str()] {
        let (st, expected) = get(&state, &existing, token).await;
        assert_eq!(
            (st, expected["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
        for path in [&by_hour, &low_stock, &format!("{store}/terminals")] {
            let (st, v) = get(&state, path, token).await;
            assert_eq!((st, &v), (StatusCode::NOT_FOUND, &expected), "{path}");
        }
    }
    for path in [&by_hour, &low_stock] {
        let (st, v) = get(&state, path, &a.t1.device_credential).await;
        assert_eq!(
            (st, v["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized"))
        );
        let (st, _) = call(&state, "GET", path, None, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    for q in [
        "from=2026-11-20",
        "from=2026-11-21&to=2026-11-20",
        "from=20-11-2026&to=2026-11-20",
    ] {
        let (st, v) = get(&state, &format!("{store}/reports/sales-by-hour?{q}"), owner).await;
        assert_eq!(
            (st, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_request")),
            "{q}"
        );
    }
    // The manager of store 2 reads store 2's (empty) reports.
    let (st, v) = get(
        &state,
        &format!("/api/v1/stores/{}/reports/low-stock", a.store2_id),
        &manager,
    )
    .await;
    assert_eq!((st, v), (StatusCode::OK, json!([])));

    // ---- OpenAPI
    let (_, api) = call(&state, "GET", "/api/v1/openapi.json", None, None).await;
    for path in [
        "/api/v1/stores/{store_id}/reports/sales-by-hour",
        "/api/v1/stores/{store_id}/reports/low-stock",
        "/api/v1/stores/{store_id}/terminals",
    ] {
        assert!(api["paths"][path]["get"].is_object(), "{path}");
    }
    assert!(api["components"]["schemas"]["TerminalView"]["properties"]["last_report"].is_object());
    repo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_sqlite() {
    let (s, _dir) = sqlite_storage().await;
    story(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_postgres() {
    let db = TestDb::create().await;
    story(db.storage().await).await;
}
