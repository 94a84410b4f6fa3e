//! The dashboard's detail reports through the HTTP router, on both backends, from real
//! documents a terminal syncs: voids, refunds with receipt numbers, the Z report of a day (per
//! till and for the store, equal to what each till's journal gives through the shared model),
//! a product's movements with the stock after each, oversells of two tills selling the same
//! last units, and the CSV export of every report (the same numbers as the JSON, cells
//! neutralised). Another tenant's owner and another store's manager get 404 everywhere.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::{NaiveDate, TimeZone, Utc};
use common::*;
use serde_json::Value;
use shared_model::cart::{Cart, ProductSnapshot};
use shared_model::catalog::{Category, Product};
use shared_model::codec::{BusinessDate, Timestamp};
use shared_model::documents::{self, CatalogDoc, JournalDoc, StockAdjustmentsDoc, UsersDoc};
use shared_model::ids::{CategoryId, RefundId, SaleId, UserId, VoidId};
use shared_model::money::{Money, Quantity};
use shared_model::payment::{PaymentMethod, QrisMode, Tender};
use shared_model::pricing::{PricingPolicy, price_cart};
use shared_model::receipt_number::ReceiptNumber;
use shared_model::refund::{RefundContext, build_refund};
use shared_model::sale::{Sale, SaleContext, Void};
use shared_model::settings::StoreSettings;
use shared_model::shift::{CashDirection, CashMovement, Shift};
use shared_model::stock::{MovementKind, StockMovement};
use shared_model::users::{Role, StoreUser};
use shared_model::zreport::{ZReport, ZReportInput};
use sync_server::state::AppState;
use sync_server::storage::DynStorage;

async fn get_raw(state: &AppState, path: &str, token: &str) -> (StatusCode, Vec<u8>) {
    router_call(state, "GET", path, Some(token), None).await
}

async fn get(state: &AppState, path: &str, token: &str) -> (StatusCode, Value) {
    let (st, bytes) = get_raw(state, path, token).await;
    (st, body_value(&bytes))
}

fn utc(d: u32, h: u32, m: u32) -> Timestamp {
    Timestamp(Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap())
}

fn day(d: u32) -> BusinessDate {
    BusinessDate(NaiveDate::from_ymd_opt(2026, 11, d).unwrap())
}

struct Docs {
    t1: JournalDoc,
    t2: JournalDoc,
    catalog: CatalogDoc,
    users: UsersDoc,
    adjustments: StockAdjustmentsDoc,
    indomie: Product,
}

/// Two tills on the 20th: T1 sells (cash and QRIS), voids one sale, refunds another, takes cash
/// out and closes its shift 500 short; T2 sells the last Indomie T1 also sold (3 received, 2 +
/// 2 sold). A product named like a formula checks the CSV cells.
fn docs(store_id: &str, store_code: &str) -> Docs {
    let settings = StoreSettings::indonesia("Toko", "Jl. Test 1");
    let currency = settings.currency();
    let rule = settings.tax_rule("standard").unwrap().clone();
    let noodles = Category {
        id: CategoryId::new(),
        name: "Mi instan".into(),
        parent: None,
    };
    let mut indomie = Product::new("IDM", "Indomie Goreng", Money::from_i64(3_500), "standard");
    indomie.category_id = Some(noodles.id);
    let kopi = Product::new(
        "KOP",
        "=HYPERLINK(\"x\")",
        Money::from_i64(12_000),
        "standard",
    );
    let policy = PricingPolicy {
        currency: currency.clone(),
        price_mode: settings.price_mode,
        promotions: vec![],
    };
    let cashier = UserId::new();
    let supervisor = UserId::new();
    let sale = |till: &str, seq: u32, at: Timestamp, items: &[(&Product, i64)], tender: Tender| {
        let mut cart = Cart::new();
        for (p, q) in items {
            let snap = ProductSnapshot::of(p, None, rule.clone()).unwrap();
            cart.add(snap, Quantity::from_i64(*q)).unwrap();
        }
        let ctx = SaleContext {
            id: SaleId::new(),
            receipt_no: ReceiptNumber::new(store_code, till, day(20), seq).unwrap(),
            created_at: at,
            cashier_id: cashier,
            shift_id: None,
            currency: currency.clone(),
            price_mode: settings.price_mode,
            cash_unit: settings.cash_unit(),
        };
        let priced = price_cart(&cart, &policy).unwrap();
        Sale::checkout(priced, &[tender], ctx, None).unwrap()
    };
    let cash = |n: i64| Tender::cash(Money::from_i64(n));
    let qris = |n: i64| {
        Tender::with(
            PaymentMethod::Qris {
                mode: QrisMode::Static,
            },
            Money::from_i64(n),
            Some("QR-1"),
        )
    };

    let mut t1 = JournalDoc::new(store_id, "T1", day(20));
    let mut shift = Shift::open(
        "T1",
        cashier,
        day(20),
        utc(20, 1, 0),
        Money::from_i64(100_000),
    )
    .unwrap();
    let a = sale("T1", 1, utc(20, 2, 0), &[(&indomie, 2)], cash(10_000));
    let b = sale("T1", 2, utc(20, 3, 0), &[(&kopi, 1)], qris(12_000));
    let voided = sale("T1", 3, utc(20, 3, 30), &[(&kopi, 2)], cash(24_000));
    let c = sale("T1", 5, utc(20, 4, 30), &[(&indomie, 1)], cash(3_500));
    let refund = build_refund(
        &b,
        &[],
        &[(b.lines[0].line_id, Quantity::from_i64(1))],
        &[cash(12_000)],
        RefundContext {
            id: RefundId::new(),
            receipt_no: ReceiptNumber::new(store_code, "T1", day(20), 4).unwrap(),
            created_at: utc(20, 4, 0),
            cashier_id: cashier,
            authorized_by: Some(supervisor),
            shift_id: Some(shift.id),
            cash_unit: settings.cash_unit(),
            reason: "cold coffee".into(),
        },
    )
    .unwrap();
    t1.voids.insert(
        "v1".into(),
        Void {
            id: VoidId::new(),
            sale_id: voided.id,
            receipt_no: voided.receipt_no.clone(),
            at: utc(20, 3, 35),
            by: cashier,
            authorized_by: supervisor,
            reason: "wrong items".into(),
        },
    );
    let out = CashMovement::new(
        shift.id,
        CashDirection::Out,
        Money::from_i64(5_000),
        "ice",
        cashier,
        utc(20, 5, 0),
    )
    .unwrap();
    t1.cash_movements.insert(out.id.to_string(), out.clone());
    t1.refunds.insert(refund.id.to_string(), refund.clone());
    let b_sale = b.clone();
    for s in [a, b, voided, c] {
        t1.sales.insert(s.id.to_string(), s);
    }
    // Expected: 100,000 float + 7,000 + 3,500 cash − 12,000 refunded − 5,000 out = 93,500.
    shift
        .close(
            Money::from_i64(93_000),
            Money::from_i64(93_500),
            cashier,
            utc(20, 10, 0),
        )
        .unwrap();
    t1.shifts.insert(shift.id.to_string(), shift);

    let mut t2 = JournalDoc::new(store_id, "T2", day(20));
    let d = sale("T2", 1, utc(20, 2, 30), &[(&indomie, 2)], cash(7_000));
    t2.sales.insert(d.id.to_string(), d);
    // T2, offline, refunds the coffee T1 already refunded: an over-refund.
    let again = build_refund(
        &b_sale,
        &[],
        &[(b_sale.lines[0].line_id, Quantity::from_i64(1))],
        &[cash(12_000)],
        RefundContext {
            id: RefundId::new(),
            receipt_no: ReceiptNumber::new(store_code, "T2", day(20), 2).unwrap(),
            created_at: utc(20, 6, 0),
            cashier_id: cashier,
            authorized_by: Some(supervisor),
            shift_id: None,
            cash_unit: settings.cash_unit(),
            reason: "cold coffee".into(),
        },
    )
    .unwrap();
    t2.refunds.insert(again.id.to_string(), again);

    let mut adjustments = StockAdjustmentsDoc::new(store_id, "2026-11");
    let m = StockMovement::manual(
        indomie.id,
        MovementKind::Receipt,
        Quantity::from_i64(3),
        Some("DO-1".into()),
        cashier,
        utc(19, 10, 0),
    )
    .unwrap();
    adjustments.movements.insert(m.id.to_string(), m);

    let mut catalog = CatalogDoc::new(store_id);
    catalog.categories.insert(noodles.id.to_string(), noodles);
    let mut users = UsersDoc::new(store_id);
    users.users.insert(
        cashier.to_string(),
        StoreUser {
            id: cashier,
            name: "Sari".into(),
            role: Role::Cashier,
            pin_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            active: true,
        },
    );
    // Another product typed with Indomie's SKU on another till: a duplicate SKU.
    let twin = Product::new("idm", "Mie Lain", Money::from_i64(3_000), "standard");
    for p in [indomie.clone(), kopi, twin] {
        catalog.products.insert(p.id.to_string(), p);
    }
    Docs {
        t1,
        t2,
        catalog,
        users,
        adjustments,
        indomie,
    }
}

fn to_automerge<D: documents::Document>(d: &D) -> automerge::Automerge {
    let mut ac = documents::create(d).unwrap();
    automerge::Automerge::load(&ac.save()).unwrap()
}

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

/// The Z report the shared model gives for one journal, as a till computes it.
fn till_z(j: &JournalDoc) -> ZReport {
    let sales: Vec<Sale> = j.sales.values().cloned().collect();
    let voided: Vec<SaleId> = j.voids.values().map(|v| v.sale_id).collect();
    let refunds: Vec<_> = j.refunds.values().cloned().collect();
    let cash: Vec<_> = j.cash_movements.values().cloned().collect();
    let shift = j.shifts.values().next();
    ZReport::compute(ZReportInput {
        sales: &sales,
        voided: &voided,
        refunds: &refunds,
        cash_movements: &cash,
        opening_float: shift.map(|s| s.opening_float).unwrap_or(Money::ZERO),
        counted_cash: shift.and_then(|s| s.close.as_ref().map(|c| c.counted_cash)),
    })
    .unwrap()
}

fn s(m: Money) -> String {
    m.0.normalize().to_string()
}

fn csv_lines(bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes).unwrap();
    assert!(text.ends_with("\r\n"), "{text}");
    text.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

async fn story(storage: DynStorage) {
    let server = TestServer::start(storage).await;
    let state = server.state.clone();
    let a = setup_tenant(&state, "Toko A", "A1").await;
    let d = docs(&a.store_id, "A1");
    let (repo, _dialer) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    for doc in [
        to_automerge(&d.t1),
        to_automerge(&d.t2),
        to_automerge(&d.catalog),
        to_automerge(&d.users),
        to_automerge(&d.adjustments),
    ] {
        repo.create(doc).await.unwrap();
    }
    let owner = a.owner_token.as_str();
    let store = format!("/api/v1/stores/{}", a.store_id);
    let range = "from=2026-11-20&to=2026-11-20";
    let idm = d.indomie.id.to_string();

    // ---- voids: when, why, who approved.
    let v = wait_for(
        &state,
        &format!("{store}/reports/voids?{range}"),
        owner,
        |v| v.as_array().is_some_and(|r| r.len() == 1),
    )
    .await;
    let void = &v[0];
    assert_eq!(void["receipt_no"], "A1-T1-261120-0003", "{v}");
    assert_eq!(void["reason"], "wrong items");
    assert_eq!(void["total"], "24000");
    assert_eq!(
        void["voided_at"].as_i64(),
        Some(utc(20, 3, 35).0.timestamp_millis())
    );
    assert!(void["authorized_by"].is_string());

    // ---- refunds carry their own and the sale's receipt numbers.
    let v = wait_for(
        &state,
        &format!("{store}/reports/refunds?{range}"),
        owner,
        |v| v.as_array().is_some_and(|r| r.len() == 2),
    )
    .await;
    assert_eq!(
        (
            v[0]["receipt_no"].as_str(),
            v[0]["sale_receipt_no"].as_str()
        ),
        (Some("A1-T1-261120-0004"), Some("A1-T1-261120-0002")),
        "{v}"
    );

    // ---- Z report: each till's equals the shared model's over its journal; the store's adds up.
    let (st, z) = get(
        &state,
        &format!("{store}/reports/z-report?date=2026-11-20"),
        owner,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{z}");
    assert_eq!(z["tills"].as_array().map(Vec::len), Some(2), "{z}");
    let z1 = till_z(&d.t1);
    let r1 = &z["tills"][0];
    assert_eq!(r1["terminal_code"], "T1");
    assert_eq!(
        (r1["shifts"].as_u64(), r1["open_shifts"].as_u64()),
        (Some(1), Some(0))
    );
    let r1 = &r1["report"];
    assert_eq!(r1["sales_count"].as_u64(), Some(z1.sales_count));
    assert_eq!(
        (r1["voids_count"].as_u64(), r1["refunds_count"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(r1["sales_total"], s(z1.sales_total).as_str());
    assert_eq!(r1["refunds_total"], "12000");
    assert_eq!(r1["expected_cash"], "93500", "{r1}");
    assert_eq!(
        (r1["counted_cash"].as_str(), r1["difference"].as_str()),
        (Some("93000"), Some("-500"))
    );
    assert_eq!(r1["cash_out"], "5000");
    let methods: Vec<(&str, &str, &str)> = r1["by_method"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["method"].as_str().unwrap(),
                m["sales"].as_str().unwrap(),
                m["refunds"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        methods,
        [("cash", "10500", "12000"), ("qris", "12000", "0")]
    );
    let z2 = till_z(&d.t2);
    let total = &z["store"];
    assert_eq!(
        total["sales_total"],
        s(z1.sales_total.checked_add(z2.sales_total).unwrap()).as_str()
    );
    assert_eq!(
        total["sales_count"].as_u64(),
        Some(z1.sales_count + z2.sales_count)
    );
    // T2 had no shift: the store's cash is not counted until every till's is.
    assert!(z["tills"][1]["report"]["counted_cash"].is_null());
    assert!(total["counted_cash"].is_null(), "{total}");
    // A day without journals is an empty report, not an error.
    let (st, empty) = get(
        &state,
        &format!("{store}/reports/z-report?date=2026-11-19"),
        owner,
    )
    .await;
    assert_eq!(
        (st, empty["tills"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
    assert_eq!(empty["store"]["sales_total"], "0");

    // ---- a product's movements, in time order with the stock after each.
    let movements = format!("{store}/reports/stock-movements?product_id={idm}");
    let v = wait_for(&state, &movements, owner, |v| {
        v["sku"] == "IDM" && v["movements"].as_array().is_some_and(|m| m.len() == 4)
    })
    .await;
    let rows: Vec<(&str, &str, &str, Option<&str>)> = v["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap(),
                m["quantity"].as_str().unwrap(),
                m["balance"].as_str().unwrap(),
                m["terminal_code"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("receipt", "3", "3", None),
            ("sale", "-2", "1", Some("T1")),
            ("sale", "-2", "-1", Some("T2")),
            ("sale", "-1", "-2", Some("T1")),
        ],
        "{v}"
    );
    assert_eq!(
        (v["sku"].as_str(), v["on_hand"].as_str()),
        (Some("IDM"), Some("-2"))
    );
    assert_eq!(v["movements"][0]["reference"], "DO-1");
    assert_eq!(v["movements"][1]["reference"], "A1-T1-261120-0001");
    // The 19th's receipt is outside a range of the 20th (the balance still counts it).
    let (_, only20) = get(&state, &format!("{movements}&{range}"), owner).await;
    assert_eq!(
        only20["movements"].as_array().map(Vec::len),
        Some(3),
        "{only20}"
    );
    assert_eq!(only20["movements"][0]["balance"], "1");
    for (q, code) in [
        (
            format!("{movements}&from=2026-11-20"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{store}/reports/stock-movements"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!(
                "{store}/reports/stock-movements?product_id={}",
                uuid::Uuid::now_v7()
            ),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (st, v) = get(&state, &q, owner).await;
        assert_eq!(st, code, "{q}: {v}");
    }

    // ---- oversells: both tills sold the last units.
    // (The catalog may be projected after the journals: wait for the product's name.)
    let v = wait_for(&state, &format!("{store}/reports/oversells"), owner, |v| {
        v[0]["sku"] == "IDM"
    })
    .await;
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(
        (
            v[0]["sku"].as_str(),
            v[0]["lowest"].as_str(),
            v[0]["on_hand"].as_str()
        ),
        (Some("IDM"), Some("-2"), Some("-2"))
    );
    assert_eq!(v[0]["terminals"], serde_json::json!(["T1", "T2"]));

    // ---- conflicts, explained: the over-refund's receipts, tills and excess; the twin SKU.
    let (st, v) = get(&state, &format!("{store}/reports/conflict-details"), owner).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let by_kind = |k: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == k)
            .unwrap_or_else(|| panic!("{k} in {v}"))
            .clone()
    };
    let over = by_kind("over_refund");
    assert_eq!(over["sale_receipt_no"], "A1-T1-261120-0002", "{over}");
    assert_eq!(over["terminals"], serde_json::json!(["T1", "T2"]));
    assert_eq!(
        (
            over["sold"].as_str(),
            over["refunded"].as_str(),
            over["excess_quantity"].as_str()
        ),
        (Some("1"), Some("2"), Some("1"))
    );
    assert_eq!(over["excess_amount"], "12000");
    assert_eq!(over["refunds"][1]["receipt_no"], "A1-T2-261120-0002");
    let twin = by_kind("duplicate_sku");
    assert_eq!(twin["code"], "idm");
    let mut names: Vec<&str> = twin["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Indomie Goreng", "Mie Lain"]);

    // ---- categories and cashiers by name (from the catalog and the users document).
    let v = wait_for(
        &state,
        &format!("{store}/reports/sales-by-cashier?{range}"),
        owner,
        |v| v[0]["name"] == "Sari",
    )
    .await;
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    let (_, v) = get(
        &state,
        &format!("{store}/reports/sales-by-category?{range}"),
        owner,
    )
    .await;
    let noodles: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "Mi instan")
        .collect();
    assert_eq!(noodles.len(), 1, "{v}");
    assert_eq!(noodles[0]["amount"], "17500");

    // ---- stock with names, searchable.
    let (_, v) = get(&state, &format!("{store}/reports/stock?search=indo"), owner).await;
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(
        (v[0]["name"].as_str(), v[0]["on_hand"].as_str()),
        (Some("Indomie Goreng"), Some("-2"))
    );

    // ---- CSV of every report: same numbers as the JSON, formula cells defused.
    let exports = [
        format!("products.csv?{range}"),
        format!("categories.csv?{range}"),
        format!("cashiers.csv?{range}"),
        format!("payment-methods.csv?{range}"),
        format!("refunds-voids.csv?{range}"),
        format!("shifts.csv?{range}"),
        "z-report.csv?date=2026-11-20".to_string(),
        "stock-on-hand.csv".to_string(),
        "low-stock.csv".to_string(),
        format!("stock-movements.csv?product_id={idm}"),
        "oversells.csv".to_string(),
    ];
    let mut bodies = std::collections::BTreeMap::new();
    for e in &exports {
        let path = format!("{store}/exports/{e}");
        let resp = state_response(&state, &path, owner).await;
        assert_eq!(resp.0, StatusCode::OK, "{path}");
        assert_eq!(resp.1.as_deref(), Some("text/csv; charset=utf-8"), "{path}");
        assert!(
            resp.2
                .as_deref()
                .is_some_and(|d| d.starts_with("attachment; filename=")),
            "{path}"
        );
        let lines = csv_lines(&resp.3);
        assert!(!lines.is_empty(), "{path} has a header");
        bodies.insert(e.split('.').next().unwrap().to_string(), lines);
    }
    let products = &bodies["products"];
    assert!(
        products
            .iter()
            .any(|l| l.contains("\"'=HYPERLINK(\"\"x\"\")\"")),
        "{products:?}"
    );
    assert!(
        products
            .iter()
            .any(|l| l.ends_with("\"Indomie Goreng\",5,17500")),
        "{products:?}"
    );
    let rv = &bodies["refunds-voids"];
    assert_eq!(rv.len(), 4, "{rv:?}");
    assert!(
        rv[1].starts_with("\"refund\",") && rv[2].starts_with("\"refund\","),
        "{rv:?}"
    );
    assert!(
        rv[3].starts_with("\"void\",") && rv[3].contains("\"wrong items\""),
        "{rv:?}"
    );
    let shifts = &bodies["shifts"];
    assert!(
        shifts[1].ends_with(",100000,93500,93000,-500"),
        "{shifts:?}"
    );
    let zr = &bodies["z-report"];
    assert!(
        zr.contains(&"\"T1\",\"difference\",,-500".to_string()),
        "{zr:?}"
    );
    assert!(
        zr.contains(&"\"store\",\"method:qris:sales\",1,12000".to_string()),
        "{zr:?}"
    );
    let mv = &bodies["stock-movements"];
    assert_eq!(mv.len(), 5, "{mv:?}");
    assert!(
        mv[1].starts_with("\"2026-11-19T17:00:00+07:00\",\"2026-11-19\",\"receipt\",3,3,"),
        "{mv:?}"
    );
    assert!(
        bodies["oversells"][1].contains("\"T1 T2\""),
        "{:?}",
        bodies["oversells"]
    );

    // ---- access: another tenant's owner and another store's manager get 404; a till 401.
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
    let mut paths: Vec<String> = exports
        .iter()
        .map(|e| format!("{store}/exports/{e}"))
        .collect();
    paths.extend([
        format!("{store}/reports/voids?{range}"),
        format!("{store}/reports/z-report?date=2026-11-20"),
        movements.clone(),
        format!("{store}/reports/oversells"),
        format!("{store}/reports/stock"),
        format!("{store}/reports/conflict-details"),
    ]);
    for path in &paths {
        for token in [b.owner_token.as_str(), manager.as_str()] {
            let (st, v) = get(&state, path, token).await;
            assert_eq!(
                (st, v["code"].as_str()),
                (StatusCode::NOT_FOUND, Some("not_found")),
                "{path}"
            );
        }
        let (st, _) = get(&state, path, &a.t1.device_credential).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{path}");
    }

    // ---- every endpoint is in the OpenAPI document.
    let (_, api) = get(&state, "/api/v1/openapi.json", owner).await;
    for p in &paths {
        let p = p
            .split('?')
            .next()
            .unwrap()
            .replace(&a.store_id, "{store_id}");
        assert!(api["paths"][&p]["get"].is_object(), "{p} documented");
    }
    repo.stop().await;
}

/// Status, content type, content disposition and body of a GET.
async fn state_response(
    state: &AppState,
    path: &str,
    token: &str,
) -> (StatusCode, Option<String>, Option<String>, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = sync_server::app::router(state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, ct, cd, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_details_sqlite() {
    let (s, _dir) = sqlite_storage().await;
    story(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_details_postgres() {
    let db = TestDb::create().await;
    story(db.storage().await).await;
}
