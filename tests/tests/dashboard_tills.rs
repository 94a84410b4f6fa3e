//! The tills and staff pages in headless Chromium against the real `sync-server` binary
//! (embedded SQLite) and a real till (pos-core in this process, with its sync client): an owner
//! makes an enrolment code; the QR code is read off a screenshot of the page (rqrr) and is the
//! link shown beside it; the till enrols with what the QR code says and shows as online; a
//! cashier added with a PIN reaches the till's users document and the PIN works there; bad
//! input (a short PIN, an empty name) is refused in words and changes nothing; a manager is
//! added, disabled and enabled; the till is revoked after the confirmation step, its
//! connection closes within a second and its next sale never reaches the server; a manager of
//! another store gets 404 for these pages and actions. Screenshots of every page at phone and
//! desktop width, in English and Indonesian (no English left), under
//! `<target>/test-output/dashboard/dashboard_tills/`.
//!
//! Needs `cargo build -p sync-server` (scripts/test builds the workspace) and
//! `apt-get install chromium chromium-driver`.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pos_core::Terminal;
use pos_core::enrolment::enrol;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::Tender;
use pos_core::sync::client::{SyncClient, SyncConfig};
use serde_json::Value;
use shared_model::enrol_link::EnrolLink;
use snapkasir_tests::browser::Browser;
use snapkasir_tests::processes::{ServerProcess, api_token, create_tenant_args, http_client};

const OWNER: &str = "pemilik@tokolaris.example";
const PASSWORD: &str = "rahasia-panjang-1";
const TEST: &str = "dashboard_tills";

/// English words of these pages that must not be left on an Indonesian page.
const ENGLISH: [&str; 14] = [
    "Tills",
    "Online now",
    "Offline",
    "Revoke",
    "Last seen",
    "Waiting to send",
    "Enrol",
    "Cashier",
    "Managers",
    "Add",
    "Can log in",
    "Staff",
    "Never",
    "Cancel",
];

type Till = Arc<Mutex<Terminal>>;

fn lock(t: &Till) -> std::sync::MutexGuard<'_, Terminal> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

/// Decodes the one QR code in the PNG at `path`.
fn read_qr(path: &Path) -> String {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("screenshot {}: {e}", path.display()))
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in {}", path.display());
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    content
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

#[test]
fn tills_and_staff_pages_enrol_revoke_and_reach_the_till() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::on_sqlite(dir.path());
    let made = server.admin(&create_tenant_args("Laris", "LRS", "Toko Laris", OWNER));
    let store = made["store_id"].as_str().unwrap().to_string();
    let base = server.url();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // A second store with its manager: the outsider of the access checks.
    let (outsider, outsider_store) = rt.block_on(async {
        let http = http_client();
        let owner = api_token(&http, &base, OWNER, PASSWORD).await;
        let s2: Value = http
            .post(format!("{base}/api/v1/stores"))
            .bearer_auth(&owner)
            .json(&serde_json::json!({"code": "TIL2", "name": "Cabang"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let s2 = s2["id"].as_str().expect("second store").to_string();
        let r = http
            .post(format!("{base}/api/v1/stores/{s2}/managers"))
            .bearer_auth(&owner)
            .json(&serde_json::json!({"email": "manajer@cabang.example", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        ("manajer@cabang.example", s2)
    });

    let mut b = Browser::start(TEST, &base);
    b.sign_in(OWNER, PASSWORD);
    let tills = format!("/stores/{store}/tills");
    let staff = format!("/stores/{store}/staff");

    // No till yet: both pages say so in words.
    b.open(&tills);
    b.wait_for("no-tills");
    b.shots_both("tills-empty", &ENGLISH);
    b.open(&staff);
    b.wait_for("staff-no-till");
    b.shots_both("staff-before-till", &ENGLISH);

    // An empty name is refused in words and makes no code.
    b.open(&tills);
    b.execute(
        "document.querySelector('[data-testid=terminal-name]').removeAttribute('required')",
        vec![],
    );
    b.fill("terminal-name", "   ");
    b.click("make-code");
    b.wait_for("code-error");
    assert!(b.find("new-code").is_none());

    // A code for "Kasir 1": text, expiry and the QR code of the link.
    b.fill("terminal-name", "Kasir 1");
    b.click("make-code");
    b.wait_for("new-code");
    let code = b.text("enrol-code-text");
    let link_text = b.execute(
        "return document.querySelector('[data-testid=enrol-link]').textContent",
        vec![],
    );
    let shot = b.screenshot("tills-code", "en");
    let scanned = read_qr(&shot);
    assert_eq!(
        Some(scanned.as_str()),
        link_text.as_str(),
        "the QR code holds the link shown"
    );
    let link = EnrolLink::parse(&scanned).expect("the QR code is an enrolment link");
    assert_eq!(link.code, code);
    assert_eq!(link.server, base);
    b.shots("tills-code", "en");
    b.switch_lang("id");
    b.screenshot("tills-code-after-switch", "id");
    b.switch_lang("en");

    // A real till enrols with what the QR code says and syncs: online on the page.
    let till: Till = Arc::new(Mutex::new(
        Terminal::open(dir.path().join("till.db")).expect("till"),
    ));
    let enrolled = rt
        .block_on(enrol(&till, &link.server, &link.code, true))
        .expect("the till enrols with the scanned link");
    assert_eq!(enrolled.terminal_code, "T1");
    let sync = rt.block_on(async {
        let (e, credential) = lock(&till).enrolment().unwrap().expect("enrolled");
        let mut config = SyncConfig::new(&e.server_url, credential);
        config.poll_interval = Duration::from_millis(50);
        config.heartbeat_interval = Duration::from_millis(200);
        config.max_backoff = Duration::from_millis(500);
        SyncClient::start(till.clone(), config)
    });
    b.poll("the till online on the tills page", |b| {
        b.open(&tills);
        let state = b.find("till-state-T1").map(|_| b.text("till-state-T1"));
        (state.as_deref() == Some("Online now")).then_some(())
    });
    // Its heartbeat: the app version is shown.
    b.poll("the till's app version", |b| {
        b.open(&tills);
        b.page_text()
            .contains(env!("CARGO_PKG_VERSION"))
            .then_some(())
    });
    b.shots_both("tills-online", &ENGLISH);

    // Staff: the till's users are listed; a cashier added with a PIN reaches the till.
    b.open(&staff);
    b.wait_for("staff-table");
    let rows_before = b.execute(
        "return document.querySelectorAll('[data-testid=staff-row]').length",
        vec![],
    );
    b.execute(
        "const p = document.querySelector('[data-testid=staff-pin]');\
         p.removeAttribute('pattern'); p.removeAttribute('minlength');",
        vec![],
    );
    b.fill("staff-name", "Dewi");
    b.fill("staff-pin", "12");
    b.click("staff-add");
    b.wait_for("staff-error");
    b.shots_both("staff-bad-pin", &ENGLISH);
    b.open(&staff);
    assert_eq!(
        b.execute(
            "return document.querySelectorAll('[data-testid=staff-row]').length",
            vec![]
        ),
        rows_before,
        "a refused cashier is not added"
    );
    b.fill("staff-name", "Dewi");
    b.fill("staff-pin", "4321");
    b.click("staff-add");
    b.wait_for("staff-notice");
    assert!(b.page_text().contains("Dewi"));
    let took = wait_until(
        "Dewi in the till's users document",
        Duration::from_secs(20),
        || {
            lock(&till)
                .users()
                .unwrap()
                .iter()
                .any(|u| u.name == "Dewi")
        },
    );
    eprintln!("a cashier added on the page reached the till after {took:?}");
    let dewi = lock(&till)
        .users()
        .unwrap()
        .into_iter()
        .find(|u| u.name == "Dewi")
        .unwrap();
    lock(&till)
        .verify_pin(dewi.id, "4321")
        .expect("Dewi logs in on the till with the PIN set on the page");
    // A manager of the store (owners add them here).
    b.fill("manager-email", "manajer@tokolaris.example");
    b.fill("manager-password", "rahasia-manajer");
    b.click("manager-add");
    b.wait_for("managers-table");
    b.shots_both("staff", &ENGLISH);
    b.click("disable-manajer@tokolaris.example");
    b.wait_for("enable-manajer@tokolaris.example");
    b.click("enable-manajer@tokolaris.example");
    b.wait_for("disable-manajer@tokolaris.example");

    // Edit Dewi: a new PIN, then deactivate; the till sees both.
    b.click("edit-Dewi");
    b.wait_for("edit-form");
    b.shots_both("staff-edit", &ENGLISH);
    b.fill("edit-pin", "8765");
    b.click("edit-save");
    b.wait_for("staff-notice");
    wait_until(
        "Dewi's new PIN on the till",
        Duration::from_secs(20),
        || lock(&till).verify_pin(dewi.id, "8765").is_ok(),
    );

    // Revoke after the confirmation step: the connection closes within a second.
    b.open(&tills);
    b.click("revoke-T1");
    b.wait_for("revoke-confirm");
    b.shots_both("tills-revoke-confirm", &ENGLISH);
    assert!(
        sync.status().online,
        "the till is online before the revocation"
    );
    let t0 = Instant::now();
    b.click("revoke-yes");
    let closed = wait_until(
        "the till to lose its connection",
        Duration::from_secs(5),
        || !sync.status().online,
    );
    eprintln!("revoked in the browser: the till's connection closed after {closed:?}");
    assert!(
        closed < Duration::from_secs(1),
        "the revoked till was still connected after {closed:?}"
    );
    b.wait_for("tills-notice");
    assert_eq!(b.text("till-state-T1"), "Revoked");
    assert!(b.find("revoke-T1").is_none());
    b.shots_both("tills-revoked", &ENGLISH);
    let _ = t0;

    // It can no longer sync: a sale made now never reaches the server.
    let sale = {
        let mut t = lock(&till);
        let dewi_id = dewi.id;
        t.start_shift(dewi_id, Money::from_i64(0)).unwrap();
        let hit = t.search("Aqua", 1, false).unwrap().remove(0);
        let mut cart = Cart::new();
        t.cart_add_product(&mut cart, hit.product_id, None, Quantity::from_i64(1))
            .unwrap();
        let total = t.price(&cart).unwrap().total();
        t.checkout(&cart, &[Tender::cash(total)], dewi_id, None)
            .unwrap()
            .id
            .to_string()
    };
    std::thread::sleep(Duration::from_secs(3));
    assert!(!sync.status().online, "the revoked till reconnected");
    assert!(
        lock(&till).on_server_since(&sale).unwrap().is_none(),
        "a revoked till's sale reached the server"
    );
    rt.block_on(sync.stop());

    // A manager of the other store: 404 for these pages and actions, like the API.
    b.open(&format!("/stores/{outsider_store}/overview"));
    b.click("account-menu");
    b.click("signout");
    b.poll("signed out", |b| {
        b.path().starts_with("/signin").then_some(())
    });
    b.sign_in(outsider, PASSWORD);
    for path in [&tills, &staff, &format!("{staff}/managers")] {
        let (status, _) = b.fetch(path);
        assert_eq!(status, 404, "{path} for another store's manager");
    }
    let csrf = b.csrf_token();
    for (path, fields) in [
        (format!("{tills}/codes"), vec![("terminal_name", "X")]),
        (
            staff.to_string(),
            vec![("name", "X"), ("role", "cashier"), ("pin", "1234")],
        ),
        (format!("{tills}/{}/revoke", enrolled.terminal_id), vec![]),
    ] {
        let mut fields = fields;
        fields.push(("_csrf", csrf.as_str()));
        let (status, _) = b.post_form(&path, &fields);
        assert_eq!(status, 404, "POST {path} for another store's manager");
    }
}
