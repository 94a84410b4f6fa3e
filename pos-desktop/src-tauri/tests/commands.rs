//! The commands driven as the UI drives them: through tauri's IPC (camelCase arguments, the
//! real capability and generated permissions) on tauri's mock runtime, over a real terminal
//! store in a temp dir.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use pos_core::shared_model::barcode::Barcode;
use pos_core::shared_model::catalog::Product;
use pos_core::shared_model::money::Money;
use pos_core::shared_model::settings::StoreSettings;
use pos_core::shared_model::users::Role;
use pos_core::{NewStore, Terminal};
use serde_json::{Value, json};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, Listener, Manager, WebviewWindow};

const INDOMIE: &str = "8998866200301";

/// A store on a real SQLite file: a cashier (Sari, 1111), a supervisor (Budi, 2468) and one
/// product, Indomie at Rp3.500.
fn store(dir: &Path) {
    let mut t = Terminal::open(dir.join("terminal.db")).expect("open");
    t.create_store(NewStore {
        store_id: "store-1".into(),
        store_code: "TKO1".into(),
        terminal_code: "T1".into(),
        settings: StoreSettings::indonesia("Toko Maju", "Jl. Merdeka 1"),
    })
    .expect("create store");
    t.add_user("Sari", Role::Cashier, "1111").expect("cashier");
    t.add_user("Budi", Role::Supervisor, "2468")
        .expect("supervisor");
    let mut p = Product::new(
        "IDM-01",
        "Indomie Goreng",
        Money::from_i64(3500),
        "standard",
    );
    p.barcodes.push(Barcode::parse(INDOMIE).expect("barcode"));
    t.create_product(p).expect("product");
}

/// The app on the mock runtime; its first event-loop iteration runs the set-up (the state,
/// the watchers) and opens the `main` window from tauri.conf.json.
fn app(dir: &Path) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let mut app = pos_desktop::configure(mock_builder(), Some(dir.to_path_buf()))
        .build(tauri::generate_context!())
        .expect("build the app");
    // Deprecated for loops (it busy-waits there); called once it is how the mock runtime runs
    // the set-up without handing the thread to an event loop (`run_return` would).
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let window = app.get_webview_window("main").expect("main window");
    (app, window)
}

fn invoke(w: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: tauri::ipc::CallbackFn(0),
        error: tauri::ipc::CallbackFn(1),
        url: "tauri://localhost".parse().expect("url"),
        body: tauri::ipc::InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.into(),
    };
    get_ipc_response(w, request).map(|body| body.deserialize::<Value>().expect("json"))
}

fn ok(w: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Value {
    invoke(w, cmd, args).unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

fn err_code(w: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Value {
    match invoke(w, cmd, args) {
        Ok(v) => panic!("{cmd} should fail, answered {v}"),
        Err(e) => e,
    }
}

fn user_id(w: &WebviewWindow<MockRuntime>, name: &str) -> String {
    let users = ok(w, "plugin:session|users", json!({}));
    users
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["name"] == name)
        .unwrap_or_else(|| panic!("no user {name} in {users}"))["id"]
        .as_str()
        .expect("id")
        .to_string()
}

#[test]
fn a_cashier_logs_in_rings_up_and_pays() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let (app, w) = app(dir.path());

    let status = ok(&w, "plugin:session|status", json!({}));
    assert_eq!(status["ready"], true);
    assert_eq!(status["store_code"], "TKO1");
    assert_eq!(status["user"], Value::Null);
    assert_eq!(status["shift_open"], false);
    assert_eq!(status["auto_lock_secs"], 120);

    let sari = user_id(&w, "Sari");
    let e = err_code(
        &w,
        "plugin:session|login",
        json!({ "userId": sari, "pin": "9999" }),
    );
    assert_eq!(e["code"], "wrong_pin", "{e}");
    let e = err_code(&w, "plugin:selling|scan", json!({ "code": INDOMIE }));
    assert_eq!(e["code"], "not_logged_in", "{e}");
    let status = ok(
        &w,
        "plugin:session|login",
        json!({ "userId": sari, "pin": "1111" }),
    );
    assert_eq!(status["user"]["name"], "Sari");
    assert_eq!(status["user"]["role"], "Cashier");
    let status = ok(
        &w,
        "plugin:session|start_shift",
        json!({ "openingFloat": "200000" }),
    );
    assert_eq!(status["shift_open"], true);

    ok(&w, "plugin:selling|scan", json!({ "code": INDOMIE }));
    let view = ok(&w, "plugin:selling|scan", json!({ "code": INDOMIE }));
    assert_eq!(view["cart"]["lines"].as_array().expect("lines").len(), 1);
    assert_eq!(view["priced"]["totals"]["tax"]["gross"], "7000");
    let e = err_code(&w, "plugin:selling|scan", json!({ "code": "12345" }));
    assert_eq!(e["code"], "not_found", "{e}");
    let line = view["cart"]["lines"][0]["id"]
        .as_str()
        .expect("line")
        .to_string();
    let view = ok(
        &w,
        "plugin:selling|set_quantity",
        json!({ "lineId": line, "quantity": "3" }),
    );
    assert_eq!(view["priced"]["totals"]["tax"]["gross"], "10500");

    // A discount above the store's threshold (20%) needs a supervisor.
    let view = ok(
        &w,
        "plugin:selling|set_cart_discount",
        json!({ "discount": { "Percent": "50" } }),
    );
    assert!(view["supervisor_reason"].is_string(), "{view}");
    let e = err_code(
        &w,
        "plugin:payment|pay",
        json!({ "tenders": [{ "method": "Cash", "amount": "10000", "reference": null }], "approval": null }),
    );
    assert_eq!(e["code"], "supervisor_required", "{e}");
    assert!(e["params"]["reason"].is_string(), "{e}");
    let view = ok(
        &w,
        "plugin:selling|set_cart_discount",
        json!({ "discount": null }),
    );
    assert_eq!(view["supervisor_reason"], Value::Null);

    let due = ok(&w, "plugin:payment|due", json!({}));
    assert_eq!(due["total"], "10500");
    assert_eq!(due["cash_total"], "10500");
    assert_eq!(
        due["quick_amounts"],
        json!(["15000", "20000", "50000", "100000"])
    );

    let receipts = dir.path().join("printed.bin");
    let printer = ok(
        &w,
        "plugin:printing|add_printer",
        json!({ "printer": { "name": "Kasir", "target": format!("file:{}", receipts.display()),
                             "profile": "generic-80", "isDefault": true } }),
    );
    assert_eq!(printer["is_default"], true);

    let (jobs_tx, jobs) = mpsc::channel::<Value>();
    app.listen_any("print://job", move |event| {
        let _ = jobs_tx.send(serde_json::from_str(event.payload()).expect("job json"));
    });
    let paid = ok(
        &w,
        "plugin:payment|pay",
        json!({ "tenders": [{ "method": "Cash", "amount": "20000", "reference": null }], "approval": null }),
    );
    assert_eq!(paid["total"], "10500");
    assert_eq!(paid["change"], "9500");
    assert!(
        paid["receipt_no"]
            .as_str()
            .expect("receipt")
            .starts_with("TKO1-T1-")
    );
    assert!(paid["paid_ms"].as_f64().expect("paid_ms") > 0.0);
    let sale_id = paid["sale_id"].as_str().expect("sale id").to_string();

    let view = ok(&w, "plugin:selling|cart", json!({}));
    assert_eq!(view["cart"]["lines"], json!([]));
    assert_eq!(view["priced"], Value::Null);

    // The receipt prints (to the file) and the UI hears of it.
    let printed = (0..40)
        .filter_map(|_| jobs.recv_timeout(Duration::from_millis(500)).ok())
        .find(|j| j["state"] == "Printed" && j["record_id"] == sale_id.as_str());
    assert!(
        printed.is_some(),
        "no print://job event for the printed receipt"
    );
    assert!(std::fs::metadata(&receipts).expect("receipt file").len() > 100);

    let png = ok(
        &w,
        "plugin:printing|receipt_preview",
        json!({ "saleId": sale_id }),
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().expect("base64"))
        .expect("decode");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let copy = ok(&w, "plugin:printing|print", json!({ "saleId": sale_id }));
    assert_eq!(
        copy["copy"], true,
        "a printed receipt prints again as a copy: {copy}"
    );

    let status = ok(&w, "plugin:session|lock", json!({}));
    assert_eq!(status["user"], Value::Null);
    let e = err_code(
        &w,
        "plugin:payment|pay",
        json!({ "tenders": [], "approval": null }),
    );
    assert_eq!(e["code"], "not_logged_in", "{e}");
}

#[test]
fn a_supervisor_approves_a_large_discount() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let (_app, w) = app(dir.path());
    let sari = user_id(&w, "Sari");
    let budi = user_id(&w, "Budi");
    ok(
        &w,
        "plugin:session|login",
        json!({ "userId": sari, "pin": "1111" }),
    );
    ok(
        &w,
        "plugin:session|start_shift",
        json!({ "openingFloat": "0" }),
    );
    ok(&w, "plugin:selling|scan", json!({ "code": INDOMIE }));
    ok(
        &w,
        "plugin:selling|set_cart_discount",
        json!({ "discount": { "Amount": "1000" } }),
    );
    let tenders = json!([{ "method": "Cash", "amount": "2500", "reference": null }]);
    let e = err_code(
        &w,
        "plugin:payment|pay",
        json!({ "tenders": tenders, "approval": { "userId": budi, "pin": "0000" } }),
    );
    assert_eq!(e["code"], "wrong_pin", "{e}");
    let paid = ok(
        &w,
        "plugin:payment|pay",
        json!({ "tenders": tenders, "approval": { "userId": budi, "pin": "2468" } }),
    );
    assert_eq!(paid["total"], "2500");
}

#[test]
fn bad_arguments_are_invalid_input_and_a_new_till_has_no_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_app, w) = app(dir.path());
    let status = ok(&w, "plugin:session|status", json!({}));
    assert_eq!(status["ready"], false);
    assert_eq!(status["language"], "id");
    let e = err_code(&w, "plugin:session|users", json!({}));
    assert_eq!(e["code"], "no_store", "{e}");
    for (cmd, args) in [
        (
            "plugin:session|login",
            json!({ "userId": "not-a-uuid", "pin": "1111" }),
        ),
        ("plugin:session|set_language", json!({ "language": "fr" })),
        (
            "plugin:selling|set_quantity",
            json!({ "lineId": "x", "quantity": "2" }),
        ),
        (
            "plugin:selling|set_cart_discount",
            json!({ "discount": { "Ratio": "2" } }),
        ),
        (
            "plugin:payment|pay",
            json!({ "tenders": "cash", "approval": null }),
        ),
    ] {
        let e = err_code(&w, cmd, args);
        assert_eq!(e["code"], "invalid_input", "{cmd}: {e}");
        assert_eq!(e["message_key"], "error.invalid_input", "{cmd}: {e}");
    }
    let e = err_code(&w, "plugin:selling|nope", json!({}));
    assert!(e.is_string(), "an unknown command is refused by tauri: {e}");
}

#[test]
fn the_language_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    {
        let (_app, w) = app(dir.path());
        let status = ok(
            &w,
            "plugin:session|set_language",
            json!({ "language": "en" }),
        );
        assert_eq!(status["language"], "en");
    }
    let (_app, w) = app(dir.path());
    assert_eq!(ok(&w, "plugin:session|status", json!({}))["language"], "en");
}

#[test]
fn parked_carts_swap_without_losing_the_cart_on_the_till() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let (_app, w) = app(dir.path());
    let sari = user_id(&w, "Sari");
    ok(
        &w,
        "plugin:session|login",
        json!({ "userId": sari, "pin": "1111" }),
    );
    let first = ok(&w, "plugin:selling|scan", json!({ "code": INDOMIE }));
    let first_id = first["cart"]["id"].as_str().expect("id").to_string();
    let view = ok(&w, "plugin:selling|park", json!({ "label": "Bu Ani" }));
    assert_eq!(view["cart"]["lines"], json!([]));
    let parked = ok(&w, "plugin:selling|parked", json!({}));
    assert_eq!(parked[0]["label"], "Bu Ani");
    assert_eq!(parked[0]["lines"], 1);

    // A second customer's cart on the till; resuming the first parks it.
    let second = ok(&w, "plugin:selling|scan", json!({ "code": INDOMIE }));
    let second = ok(
        &w,
        "plugin:selling|set_quantity",
        json!({ "lineId": second["cart"]["lines"][0]["id"], "quantity": "5" }),
    );
    let second_id = second["cart"]["id"].as_str().expect("id").to_string();
    let view = ok(&w, "plugin:selling|resume", json!({ "cartId": first_id }));
    assert_eq!(view["cart"]["id"], first_id.as_str());
    assert_eq!(view["warning"], Value::Null);
    let parked = ok(&w, "plugin:selling|parked", json!({}));
    assert_eq!(parked.as_array().expect("list").len(), 1);
    assert_eq!(parked[0]["cart_id"], second_id.as_str());

    // A refused resume leaves the till's cart where it was and the list as it was.
    let e = err_code(
        &w,
        "plugin:selling|resume",
        json!({ "cartId": "01890a5d-ac96-774b-bcce-b302099a8057" }),
    );
    assert_eq!(e["code"], "not_found", "{e}");
    assert_eq!(
        ok(&w, "plugin:selling|cart", json!({}))["cart"]["id"],
        first_id.as_str()
    );
    let parked = ok(&w, "plugin:selling|parked", json!({}));
    assert_eq!(parked.as_array().expect("list").len(), 1);
    assert_eq!(parked[0]["cart_id"], second_id.as_str());
}

#[test]
fn a_till_without_enrolment_has_no_sync_to_show() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let (_app, w) = app(dir.path());
    assert_eq!(
        ok(&w, "plugin:sync|status", json!({})),
        json!({ "server": null, "lan": null, "enrolled": false })
    );
    assert_eq!(ok(&w, "plugin:sync|sync_now", json!({})), Value::Null);
    let settings = ok(&w, "plugin:settings|store", json!({}));
    assert_eq!(settings["store_name"], "Toko Maju");
    assert_eq!(settings["currency_code"], "IDR");
}
