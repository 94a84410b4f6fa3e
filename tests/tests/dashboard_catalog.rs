//! The catalog and store-settings pages in headless Chromium against the real `sync-server`
//! binary (embedded SQLite) and a real till (`snapkasir-terminal`, enrolled with the demo
//! catalog, syncing in the background): a price edited in the browser reaches the till's
//! product table; a bad price is refused in words and changes nothing; a 10,000-row CSV with
//! broken rows imports with its bad-row report (good rows applied, bad ones not, none in part);
//! the page's export equals the API's; a receipt footer and a time zone changed on the settings
//! page reach the till's settings; a mistyped QRIS payload is refused; a manager of another
//! store gets 404 in the browser and from the API. Screenshots of every page at phone and
//! desktop width, English and Indonesian, under `<target>/test-output/dashboard/<test>/`.
//!
//! Needs `cargo build -p sync-server -p snapkasir-tests` (scripts/test builds the workspace) and
//! `apt-get install chromium chromium-driver`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use snapkasir_tests::api::{Api, eventually};
use snapkasir_tests::browser::Browser;
use snapkasir_tests::processes::{ServerProcess, TerminalProcess, create_tenant_args};

const OWNER: &str = "pemilik@katalog.example";
const PASSWORD: &str = "rahasia-panjang-1";
const MANAGER: &str = "manajer@cabang.example";
const MANAGER_PASSWORD: &str = "manajer-rahasia-1";

/// English words of these pages that must not be left on an Indonesian page.
const ENGLISH: [&str; 14] = [
    "Catalog",
    "Products",
    "Search",
    "New product",
    "Export",
    "Import",
    "Categories",
    "Price",
    "Save",
    "Settings",
    "Receipt",
    "Time zone",
    "Variants",
    "Barcodes",
];

/// Puts a file holding `text` into the file input `id` (as choosing it would).
fn choose_file(b: &mut Browser, id: &str, text: &str) {
    let e = b.wait_for(id);
    let v = serde_json::to_value(&e).expect("element json");
    b.execute(
        "const dt = new DataTransfer();\
         dt.items.add(new File([arguments[1]], 'katalog.csv', {type: 'text/csv'}));\
         arguments[0].files = dt.files;",
        vec![v, json!(text)],
    );
}

fn till_price(till: &mut TerminalProcess, sku: &str) -> Option<String> {
    till.cmd(json!({"cmd": "price", "sku": sku}))
        .expect("price")
        .as_str()
        .map(|p| {
            p.parse::<rust_decimal::Decimal>()
                .unwrap()
                .normalize()
                .to_string()
        })
}

#[test]
fn owner_edits_imports_exports_and_sets_the_store_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_with(
        &[
            "--data-dir".to_string(),
            dir.path().join("server").display().to_string(),
        ],
        &[],
        "127.0.0.1:0",
        &dir.path().join("server.log"),
    );
    let base = server.url();
    let made = server.admin(&create_tenant_args(
        "Toko Katalog",
        "KAT",
        "Toko Katalog",
        OWNER,
    ));
    let store = made["store_id"].as_str().unwrap().to_string();
    let owner = Api::sign_in(&base, OWNER, PASSWORD);

    // A second store with its own manager, who must get nothing of the first.
    let (s, store2) = owner.json(
        "POST",
        "/api/v1/stores",
        Some(json!({"code": "KAT2", "name": "Cabang"})),
    );
    assert_eq!(s, 201, "{store2}");
    let store2 = store2["id"].as_str().unwrap().to_string();
    let (s, m) = owner.json(
        "POST",
        &format!("/api/v1/stores/{store2}/managers"),
        Some(json!({"email": MANAGER, "password": MANAGER_PASSWORD})),
    );
    assert!(s == 200 || s == 201, "{m}");

    // The store's first till enrols with the demo catalog and syncs in the background.
    let code = server.enrollment_code(&store, "Kasir 1");
    let mut till = TerminalProcess::spawn(&dir.path().join("till.db"), "T1");
    till.cmd(json!({"cmd": "enrol", "server": base, "code": code, "demo": true}))
        .expect("enrol");
    till.cmd(json!({"cmd": "sync"})).expect("sync");
    let status = till.cmd(json!({"cmd": "status"})).expect("status");
    let sku = status["stock"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let products = format!("/api/v1/stores/{store}/catalog/products");
    let demo_count = status["stock"].as_object().unwrap().len() as i64;
    eventually(
        "the demo catalog projected on the server",
        Duration::from_secs(60),
        || {
            let (_, v) = owner.json("GET", &products, None);
            (v["total"].as_i64() == Some(demo_count)).then_some(())
        },
    );

    let mut b = Browser::start("catalog_story", &base);
    b.sign_in(OWNER, PASSWORD);
    b.switch_lang("en");
    b.open(&format!("/stores/{store}/catalog"));
    b.wait_for("catalog-table");
    b.shots_both("catalog", &ENGLISH);

    // Edit a price: the till's product table has it within seconds.
    b.fill("catalog-q", &sku);
    b.click("catalog-search-submit");
    // The search reloads the page: its rows are the ones to click.
    let searched = format!("q={sku}");
    b.poll("the catalog's search result", |b| {
        b.path().contains(&searched).then_some(())
    });
    b.click(&format!("edit-{sku}"));
    b.wait_for("product-form");
    b.shots_both("product-edit", &ENGLISH);
    b.fill("product-price", "777700");
    b.click("product-save");
    b.wait_for("catalog-saved");
    let started = Instant::now();
    eventually("the new price on the till", Duration::from_secs(20), || {
        (till_price(&mut till, &sku).as_deref() == Some("777700")).then_some(())
    });
    eprintln!("price edit reached the till in {:?}", started.elapsed());
    b.poll("the list shows the new price", |b| {
        b.open(&format!("/stores/{store}/catalog?q={sku}"));
        (b.text(&format!("price-{sku}")) == "Rp 777.700").then_some(())
    });
    b.shots("catalog-saved", "en");

    // A negative price is refused next to the field, in the reader's language; nothing changes.
    b.click(&format!("edit-{sku}"));
    b.fill("product-price", "-5000");
    b.click("product-save");
    assert!(
        b.text("error-price").contains("negative"),
        "{}",
        b.text("error-price")
    );
    b.shots("product-error", "en");
    b.switch_lang("id");
    b.fill("product-price", "99999999999999999999");
    b.click("product-save");
    assert!(
        b.text("error-price").contains("harga"),
        "{}",
        b.text("error-price")
    );
    b.shots("product-error", "id");
    b.switch_lang("en");
    assert_eq!(till_price(&mut till, &sku).as_deref(), Some("777700"));

    // Import 10,000 rows with broken ones: the report lists them, the good rows arrive.
    let mut csv = String::from("sku,name,price,unit,category,barcodes,active\n");
    for i in 0..10_000 {
        csv.push_str(&format!(
            "IMP-{i:05},Barang Impor {i},{},pcs,Impor,,1\n",
            1000 + i
        ));
    }
    csv.push_str("BAD-1,Harga huruf,abc,pcs,,,1\n"); // line 10002
    csv.push_str("IMP-00001,Dobel,1000,pcs,,,1\n"); // line 10003
    csv.push_str("BAD-2,Barcode salah,1000,pcs,,8998866200302,1\n"); // line 10004
    csv.push_str("BAD-3,Negatif,-1,pcs,,,1\n"); // line 10005
    b.open(&format!("/stores/{store}/catalog#import"));
    choose_file(&mut b, "import-file", &csv);
    let started = Instant::now();
    b.click("import-submit");
    eventually("the import report", Duration::from_secs(180), || {
        b.find("import-done")
    });
    eprintln!("10,000-row import took {:?}", started.elapsed());
    assert_eq!(
        b.execute(
            "return document.querySelector('[data-testid=import-progress]').hidden",
            vec![]
        ),
        Value::Bool(true),
        "a finished import leaves no half-filled progress bar"
    );
    let done = b.text("import-done");
    assert!(
        done.contains("10000 new") && done.contains("4 rows refused"),
        "{done}"
    );
    for (line, needle) in [
        (10002, "not a number"),
        (10003, "earlier"),
        (10004, "check digit"),
        (10005, "negative"),
    ] {
        let row = b.text(&format!("bad-row-{line}"));
        assert!(row.contains(needle), "line {line}: {row}");
    }
    b.shots("import-report", "en");
    let (_, v) = owner.json("GET", &format!("{products}?q=IMP-&limit=1"), None);
    eventually("the import projected", Duration::from_secs(60), || {
        let (_, v) = owner.json("GET", &format!("{products}?q=IMP-&limit=1"), None);
        (v["total"] == 10_000).then_some(())
    });
    let (_, bad) = owner.json("GET", &format!("{products}?q=BAD-"), None);
    assert_eq!(bad["total"], 0, "no bad row applied: {bad} ({v})");
    eventually(
        "an imported product on the till",
        Duration::from_secs(60),
        || (till_price(&mut till, "IMP-09999").as_deref() == Some("10999")).then_some(()),
    );
    // The report in Indonesian: re-import the broken rows only.
    b.switch_lang("id");
    choose_file(
        &mut b,
        "import-file",
        "sku,name,price\nBAD-1,Harga huruf,abc\n",
    );
    b.click("import-submit");
    b.wait_for("import-done");
    assert!(
        b.text("bad-row-2").contains("bukan angka"),
        "{}",
        b.text("bad-row-2")
    );
    b.shots("import-report", "id");
    b.switch_lang("en");

    // Export from the page equals the API's, and holds the edited price.
    let (status, page_csv) = b.fetch(&format!("/stores/{store}/catalog/export.csv"));
    assert_eq!(status, 200);
    let (s, api_csv) = owner.call(
        "GET",
        &format!("/api/v1/stores/{store}/catalog/export.csv"),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(
        page_csv.as_bytes(),
        api_csv.as_slice(),
        "the page's export is the API's"
    );
    assert_eq!(page_csv.lines().count() as i64, 1 + demo_count + 10_000);
    assert!(
        page_csv
            .lines()
            .any(|l| l.starts_with(&format!("{sku},")) && l.contains(",777700,"))
    );

    // Settings: footer and time zone reach the till.
    b.open(&format!("/stores/{store}/settings"));
    b.wait_for("settings-form");
    b.shots_both("settings", &ENGLISH);
    b.fill("settings-footer", "Terima kasih\nSampai jumpa lagi");
    b.fill("settings-time-zone", "Asia/Makassar");
    b.click("settings-save");
    b.wait_for("settings-saved");
    eventually("the settings on the till", Duration::from_secs(20), || {
        let s = till.cmd(json!({"cmd": "settings"})).expect("settings");
        (s["business_day"]["time_zone"] == "Asia/Makassar"
            && s["receipt_footer"] == json!(["Terima kasih", "Sampai jumpa lagi"]))
        .then_some(())
    });
    // A mistyped QRIS payload (its CRC no longer matches) and an unknown time zone: refused.
    let before = till.cmd(json!({"cmd": "settings"})).expect("settings");
    let good =
        pos_core::shared_model::qris::with_crc("0002010102115204541153033605802ID5909TOKO DEMO");
    b.fill("settings-qris", &good.replacen("DEMO", "DEMI", 1));
    b.click("settings-save");
    assert!(
        b.text("error-qris_static_payload").contains("CRC"),
        "{}",
        b.text("error-qris_static_payload")
    );
    b.shots("settings-error", "en");
    b.switch_lang("id");
    b.fill("settings-qris", "");
    b.fill("settings-time-zone", "Asia/Jakart");
    b.click("settings-save");
    assert!(
        b.text("error-time_zone").contains("zona waktu"),
        "{}",
        b.text("error-time_zone")
    );
    b.shots("settings-error", "id");
    let s = till.cmd(json!({"cmd": "settings"})).expect("settings");
    assert_eq!(
        s["qris_static_payload"], before["qris_static_payload"],
        "nothing written"
    );
    assert_eq!(s["business_day"]["time_zone"], "Asia/Makassar");

    // The owner connects the store's payment gateway for dynamic QRIS: a missing key is refused
    // in words; the key never shows again (its last four characters and the webhook address do).
    b.switch_lang("en");
    b.open(&format!("/stores/{store}/settings"));
    b.wait_for("gateway-none");
    b.click("gateway-save");
    assert!(
        b.text("gateway-error").contains("server key"),
        "{}",
        b.text("gateway-error")
    );
    b.shots("settings-gateway-error", "en");
    let key = "SB-Mid-server-dash-9Zq4";
    b.fill("gateway-key", key);
    b.click("gateway-save");
    b.wait_for("gateway-connected");
    assert_eq!(b.text("gateway-hint"), "…9Zq4");
    assert!(
        b.text("gateway-webhook").ends_with("/webhooks/midtrans"),
        "{}",
        b.text("gateway-webhook")
    );
    let (status, page) = b.fetch(&format!("/stores/{store}/settings"));
    assert_eq!(status, 200);
    assert!(!page.contains(key), "the key is shown back");
    b.shots("settings-gateway", "en");
    b.switch_lang("id");
    b.shots("settings-gateway", "id");
    b.click("gateway-remove");
    b.wait_for("gateway-none");
    b.switch_lang("en");

    // The manager of the other store: 404 in the browser and from the API.
    b.switch_lang("en");
    b.click("account-menu");
    b.click("signout");
    b.wait_for("signin-form");
    b.sign_in(MANAGER, MANAGER_PASSWORD);
    for page in [
        "catalog",
        "settings",
        "catalog/export.csv",
        "catalog/products/00000000-0000-0000-0000-000000000000",
    ] {
        let (status, _) = b.fetch(&format!("/stores/{store}/{page}"));
        assert_eq!(status, 404, "{page}");
    }
    b.open(&format!("/stores/{store}/catalog"));
    b.shots("other-store-404", "en");
    let manager = Api::sign_in(&base, MANAGER, MANAGER_PASSWORD);
    for path in [products.clone(), format!("/api/v1/stores/{store}/settings")] {
        assert_eq!(manager.call("GET", &path, None).0, 404, "{path}");
    }
    let (s, _) = manager.call(
        "PATCH",
        &format!("/api/v1/stores/{store}/settings"),
        Some(json!({"receipt_footer": ["dibajak"]})),
    );
    assert_eq!(s, 404);
    let _ = till.cmd(json!({"cmd": "exit"}));
}
