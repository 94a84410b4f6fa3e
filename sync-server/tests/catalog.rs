//! The catalog and store-settings API (issue 13) against real documents: a samod repo over the
//! real WebSocket endpoint stands in for the store's first till, makes the store's documents
//! and receives what the server writes. Both backends.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use shared_model::documents::{CatalogDoc, ParkedCartsDoc, SettingsDoc, StoreRootDoc, UsersDoc};
use shared_model::settings::StoreSettings;
use sync_server::state::AppState;
use sync_server::storage::DynStorage;

/// A raw-body request (CSV) through the router.
async fn call_raw(
    state: &AppState,
    method: &str,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "text/csv")
        .body(axum::body::Body::from(body))
        .unwrap();
    let resp = sync_server::app::router(state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = resp.status();
    (
        status,
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

struct Till {
    catalog: samod::DocHandle,
    settings: samod::DocHandle,
}

async fn first_till(repo: &samod::Repo, store_id: &str) -> Till {
    let catalog = create_doc(repo, &CatalogDoc::new(store_id)).await;
    let settings = create_doc(
        repo,
        &SettingsDoc::new(store_id, StoreSettings::indonesia("Toko", "Jl. 1")),
    )
    .await;
    let users = create_doc(repo, &UsersDoc::new(store_id)).await;
    let parked = create_doc(repo, &ParkedCartsDoc::new(store_id)).await;
    let url = |h: &samod::DocHandle| format!("automerge:{}", h.document_id());
    create_doc(
        repo,
        &StoreRootDoc::new(
            store_id,
            "SA",
            "Toko",
            [url(&catalog), url(&settings), url(&users), url(&parked)],
        ),
    )
    .await;
    Till { catalog, settings }
}

async fn catalog_story(storage: DynStorage) {
    let server = TestServer::start(storage.clone()).await;
    let state = &server.state;
    let a = setup_tenant(state, "Toko A", "SA").await;
    let b = setup_tenant(state, "Toko B", "SB").await;
    let base = format!("/api/v1/stores/{}", a.store_id);
    let products = format!("{base}/catalog/products");
    let kopi = json!({"sku": "KOPI-1", "name": "Kopi Susu", "price": "12500",
        "barcodes": ["8998866200301"], "tax_class": "standard"});

    // Before a till synced: a clear 409.
    let (st, v) = call(
        state,
        "POST",
        &products,
        Some(&a.owner_token),
        Some(kopi.clone()),
    )
    .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("store_has_no_terminal")),
        "{v}"
    );
    let (st, v) = call(
        state,
        "GET",
        &format!("{base}/settings"),
        Some(&a.owner_token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");

    let (repo, _dialer) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    let till = first_till(&repo, &a.store_id).await;
    eventually("store root recorded", async || {
        storage.store_root(&a.store_id).await.unwrap()
    })
    .await;

    // Another tenant's owner: 404 on every catalog and settings route.
    for (method, path, body) in [
        ("GET", products.clone(), None),
        ("POST", products.clone(), Some(kopi.clone())),
        ("GET", format!("{base}/catalog/categories"), None),
        ("GET", format!("{base}/catalog/export.csv"), None),
        ("GET", format!("{base}/settings"), None),
        (
            "PATCH",
            format!("{base}/settings"),
            Some(json!({"receipt_footer": ["x"]})),
        ),
    ] {
        let (st, v) = call(state, method, &path, Some(&b.owner_token), body).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{method} {path}: {v}");
    }

    // Create: received by the till as a document change.
    let (st, cat) = call(
        state,
        "POST",
        &format!("{base}/catalog/categories"),
        Some(&a.owner_token),
        Some(json!({"name": "Minuman"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{cat}");
    let mut with_cat = kopi.clone();
    with_cat["category_id"] = cat["id"].clone();
    let (st, created) = call(
        state,
        "POST",
        &products,
        Some(&a.owner_token),
        Some(with_cat),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let got = eventually("till receives the product", async || {
        read_doc::<CatalogDoc>(&till.catalog)?
            .products
            .get(&id)
            .cloned()
    })
    .await;
    assert_eq!(got.price.0, rust_decimal::Decimal::from(12500));
    assert_eq!(
        got.category_id.map(|c| c.to_string()).as_deref(),
        cat["id"].as_str()
    );

    // Bad values: refused with a message naming the problem, nothing written.
    for (body, needle) in [
        (
            json!({"sku": "N-1", "name": "Minus", "price": "-5"}),
            "negative",
        ),
        (
            json!({"sku": "N-2", "name": "Besar", "price": "99999999999999999999"}),
            "largest",
        ),
        (
            json!({"sku": "N-3", "name": "Teks", "price": "abc"}),
            "not a number",
        ),
        (
            json!({"sku": "KOPI-1", "name": "Dobel", "price": "1"}),
            "KOPI-1",
        ),
        (
            json!({"sku": "N-4", "name": "Kode", "price": "1", "barcodes": ["8998866200301"]}),
            "barcode",
        ),
        (
            json!({"sku": "N-5", "name": "Kode", "price": "1", "barcodes": ["8998866200302"]}),
            "check digit",
        ),
        (
            json!({"sku": "N-6", "name": "Pajak", "price": "1", "tax_class": "mewah"}),
            "tax class",
        ),
    ] {
        let (st, v) = call(
            state,
            "POST",
            &products,
            Some(&a.owner_token),
            Some(body.clone()),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(
            v["message"].as_str().unwrap().contains(needle),
            "{body}: {v}"
        );
    }

    // Edit the price: the till sees it.
    let mut edit = created.clone();
    edit["price"] = json!("15000");
    let (st, v) = call(
        state,
        "PUT",
        &format!("{products}/{id}"),
        Some(&a.owner_token),
        Some(edit),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    eventually("till receives the new price", async || {
        let p = read_doc::<CatalogDoc>(&till.catalog)?
            .products
            .get(&id)
            .cloned()?;
        (p.price.0 == rust_decimal::Decimal::from(15000)).then_some(())
    })
    .await;
    let (st, v) = call(
        state,
        "GET",
        &format!("{products}/{id}"),
        Some(&a.owner_token),
        None,
    )
    .await;
    assert_eq!(
        (st, v["price"].as_str()),
        (StatusCode::OK, Some("15000")),
        "{v}"
    );

    // Import: good rows applied, bad rows reported by line and column, none half-applied.
    let mut csv = String::from("sku,name,price,category,barcodes\n");
    for i in 0..2500 {
        csv.push_str(&format!("IMP-{i:05},Barang {i},{},Impor,\n", 1000 + i));
    }
    csv.push_str("BAD-1,Harga salah,abc,,\n"); // line 2502
    csv.push_str("KOPI-1,Kopi Baru,13000,,\n"); // line 2503: an update
    csv.push_str("BAD-2,Barcode dipakai,1,,8998866200301\n"); // line 2504: KOPI-1's barcode
    let (st, bytes) = call_raw(
        state,
        "POST",
        &format!("{base}/catalog/import"),
        &a.owner_token,
        csv.into_bytes(),
    )
    .await;
    let report = body_value(&bytes);
    assert_eq!(st, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 2500, "{report}");
    assert_eq!(report["updated"], 1, "{report}");
    let rejected: Vec<(u64, &str)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["column"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(rejected, [(2502, "price"), (2504, "barcodes")], "{report}");
    assert!(
        report["rejected"][0]["reason_id"]
            .as_str()
            .unwrap()
            .contains("bukan angka")
    );
    let doc = eventually("till receives the import", async || {
        let d = read_doc::<CatalogDoc>(&till.catalog)?;
        (d.products.len() == 2501).then_some(d)
    })
    .await;
    assert!(!doc.products.values().any(|p| p.sku.starts_with("BAD")));

    // The list reads the projected rows: search by name or SKU.
    let page = eventually("projected", async || {
        let (_, v) = call(
            state,
            "GET",
            &format!("{products}?q=imp-0249&limit=200"),
            Some(&a.owner_token),
            None,
        )
        .await;
        (v["total"] == 10).then_some(v)
    })
    .await;
    assert_eq!(page["products"].as_array().unwrap().len(), 10, "{page}");
    let (st, v) = call(
        state,
        "GET",
        &format!("{products}?limit=0"),
        Some(&a.owner_token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    // Export: every product, importable back with no change and no error.
    let (st, csv) = call_raw(
        state,
        "GET",
        &format!("{base}/catalog/export.csv"),
        &a.owner_token,
        vec![],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let text = String::from_utf8(csv.clone()).unwrap();
    assert_eq!(text.lines().count(), 2502, "header + 2501 products");
    assert!(
        text.contains("KOPI-1,Kopi Baru,13000,pcs,standard,,,,,1"),
        "{}",
        &text[..300]
    );
    let (st, bytes) = call_raw(
        state,
        "POST",
        &format!("{base}/catalog/import"),
        &a.owner_token,
        csv,
    )
    .await;
    let again = body_value(&bytes);
    assert_eq!(
        (st, &again["updated"], &again["created"]),
        (StatusCode::OK, &json!(2501), &json!(0)),
        "{again}"
    );
    assert_eq!(again["rejected"], json!([]));

    // Settings: a footer and a time zone reach the till; a mistyped QRIS payload is refused.
    let settings = format!("{base}/settings");
    let (st, v) = call(state, "PATCH", &settings, Some(&a.owner_token), Some(json!({"receipt_footer": ["Terima kasih", "Sampai jumpa"], "time_zone": "Asia/Makassar"}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    eventually("till receives the settings", async || {
        let s = read_doc::<SettingsDoc>(&till.settings)?.settings;
        (s.business_day.time_zone == "Asia/Makassar" && s.receipt_footer.len() == 2).then_some(())
    })
    .await;
    let good = shared_model::qris::with_crc("0002010102115204541153033605802ID5909TOKO DEMO");
    let typo = good.replacen("DEMO", "DEMI", 1);
    for (body, needle) in [
        (json!({"qris_static_payload": typo}), "CRC"),
        (json!({"time_zone": "Asia/Jakart"}), "time zone"),
        (json!({"cash_rounding_unit": "-100"}), "negative"),
        (json!({"receipt_footer": ["x".repeat(49)]}), "48"),
    ] {
        let (st, v) = call(
            state,
            "PATCH",
            &settings,
            Some(&a.owner_token),
            Some(body.clone()),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(
            v["message"].as_str().unwrap().contains(needle),
            "{body}: {v}"
        );
    }
    let (st, v) = call(
        state,
        "PATCH",
        &settings,
        Some(&a.owner_token),
        Some(json!({"qris_static_payload": good})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v) = call(state, "GET", &settings, Some(&a.owner_token), None).await;
    assert_eq!(v["time_zone"], "Asia/Makassar");
    assert_eq!(v["qris_static_payload"], json!(good));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_and_settings_postgres() {
    let db = TestDb::create().await;
    catalog_story(db.storage().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_and_settings_sqlite() {
    let (storage, _dir) = sqlite_storage().await;
    catalog_story(storage).await;
}
