//! The cashier app end to end (issue 12): the real `pos-desktop` binary with its embedded UI,
//! driven through WebKitWebDriver (tauri-driver) in a private X server, against the real
//! `sync-server` on its embedded SQLite store and a test receipt printer on TCP loopback.
//!
//! * `cashier_story`: a server-made enrolment code, PIN login, selling by scan (scanner-speed
//!   keystrokes) and by search, a weighed item, a discount that needs a supervisor's PIN, cash
//!   with change, cash + card, the receipt as the printer decoded it, the sale "on server" on the
//!   till and in the server's export, offline selling and every sale reaching the server exactly
//!   once after it restarts, and the language switch.
//! * `screens_tour`: every screen at desktop and tablet sizes in both languages, saved as
//!   screenshots for a person to look at, with no main panel overflowing horizontally and no
//!   button under 44 px tall.
//!
//! Screenshots: `<target>/test-screens/cashier-app/`. Needs `cargo build -p sync-server -p
//! snapkasir-tests -p pos-desktop` (after the UI build) and what scripts/test installs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use pos_core::Terminal;
use pos_core::shared_model::catalog::{Product, Unit};
use receipt_printer::PrinterProfile;
use receipt_printer::test_printer::TestPrinter;
use serde_json::{Value, json};
use snapkasir_tests::app_driver::{App, Size};
use snapkasir_tests::gateway_sim::{GatewaySim, SimConfig};
use snapkasir_tests::processes::{
    ServerProcess, TerminalProcess, api_token, create_tenant_args, http_client,
};

const OWNER_EMAIL: &str = "owner@maju.test";
const MIDTRANS_KEY: &str = "SB-Mid-server-story-7Qx2";

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "snapkasir-app-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Removes a passing test's temp directory; the app's processes may still be going away, so a
/// file they leave behind gets a few more tries.
fn remove_temp(dir: &Path) {
    for _ in 0..10 {
        if std::fs::remove_dir_all(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// "Rp 12.500" -> 12500 (whole rupiah; the store has no minor units).
fn rupiah(text: &str) -> i64 {
    let neg = text.contains('-') || text.contains('−');
    let digits: String = text
        .split(',')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    let v: i64 = digits
        .parse()
        .unwrap_or_else(|_| panic!("not an amount: {text:?}"));
    if neg { -v } else { v }
}

/// 12500 -> "12.500" (Indonesian grouping).
fn grouped(v: i64) -> String {
    let s = v.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if v < 0 { format!("-{out}") } else { out }
}

fn money_str(v: &Value) -> i64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("money is a decimal string: {v}"));
    let whole = s.split('.').next().unwrap_or_default();
    whole.parse().unwrap_or_else(|_| panic!("money {s:?}"))
}

/// What the test needs to know of the demo catalog the seeding till created.
#[derive(Debug)]
struct Catalog {
    /// Piece products with an EAN-13 in the PPN (standard) tax class.
    scannable: Vec<(Product, String)>,
    /// A product sold per kilogram.
    weighed: Product,
    cashier: (String, String),
    supervisor: (String, String),
}

fn read_catalog(db: &Path) -> Catalog {
    let mut t = Terminal::open(db).expect("open the seeding till's database");
    let mut scannable = Vec::new();
    let mut weighed = None;
    for c in t.categories().expect("categories") {
        for hit in t.category_products(c.id, 200).expect("category products") {
            let p = t
                .product(hit.product_id)
                .expect("product")
                .expect("product exists");
            if p.unit == Unit::Kilogram {
                weighed.get_or_insert(p);
                continue;
            }
            let ean = p
                .barcodes
                .iter()
                .map(|b| b.as_str().to_string())
                .find(|b| b.len() == 13 && !b.starts_with('2'));
            if let (Some(ean), true) = (ean, p.tax_class == "standard" && p.active) {
                scannable.push((p, ean));
            }
        }
    }
    assert!(
        scannable.len() >= 3,
        "the demo catalog has fewer than 3 scannable PPN products: {scannable:?}"
    );
    // Distinct names, so that a line can be recognised on the receipt.
    scannable.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    scannable.dedup_by(|a, b| a.0.name == b.0.name);
    let users = t.users().expect("users");
    let pick = |role: &str| {
        users
            .iter()
            .find(|u| format!("{:?}", u.role) == role && u.active)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| panic!("the demo store has no {role}: {users:?}"))
    };
    // The demo store's PINs (pos_core::demo: a cashier with 1234, a supervisor with 9999).
    Catalog {
        scannable,
        weighed: weighed.expect("the demo catalog has a product sold per kg"),
        cashier: (pick("Cashier"), "1234".into()),
        supervisor: (pick("Supervisor"), "9999".into()),
    }
}

/// The server's sales of today's export (owner login, `exports/sales.csv`): receipt -> count.
fn server_receipts(
    rt: &tokio::runtime::Runtime,
    base: &str,
    store_id: &str,
) -> BTreeMap<String, usize> {
    let csv = rt.block_on(async {
        let c = http_client();
        let token = api_token(&c, base, OWNER_EMAIL, "rahasia-panjang-1").await;
        let res = c
            .get(format!(
                "{base}/api/v1/stores/{store_id}/exports/sales.csv?from=2000-01-01&to=2100-01-01"
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("export");
        assert!(res.status().is_success(), "export: {}", res.status());
        res.text().await.expect("csv")
    });
    let mut out = BTreeMap::new();
    for line in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let receipt = line
            .split(',')
            .nth(1)
            .unwrap_or_default()
            .trim_matches('"')
            .to_string();
        *out.entry(receipt).or_insert(0) += 1;
    }
    out
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Logs in on the PIN screen by tapping the user and the PIN pad.
fn login(app: &mut App, name: &str, pin: &str) {
    app.click(&format!("user-{name}"));
    for d in pin.chars() {
        app.click(&format!("pin-key-{d}"));
    }
    app.poll(
        "the PIN display to show the digits",
        Duration::from_secs(5),
        |a| {
            (a.text("pin-display").chars().filter(|&c| c == '•').count() == pin.len()).then_some(())
        },
    );
    app.click("pin-enter");
}

fn cart_lines(app: &mut App) -> usize {
    app.all("cart-line").len()
}

fn wait_lines(app: &mut App, n: usize) {
    app.poll(&format!("{n} cart lines"), Duration::from_secs(10), |a| {
        (cart_lines(a) == n).then_some(())
    });
}

/// The cart as the screen shows it (every line's text).
fn cart_text(app: &mut App) -> Vec<String> {
    let lines = app.all("cart-line");
    lines.iter().map(|l| app.text_of(l)).collect()
}

/// Scans `code` until `done` holds (up to 10 s). WebKitWebDriver hands the page one key at a
/// time and waits for it, so on a busy machine its keys can come further apart than a
/// scanner's ever do (a real scanner's keys queue up and arrive together when the page is
/// busy); the UI then rightly takes them for a person typing. Such a scan is repeated (at most
/// three times, each said on stderr) after checking it left the cart as it was; a scan at
/// scanner speed that does not reach `done` fails at once.
fn scan_until(app: &mut App, code: &str, what: &str, done: impl Fn(&mut App) -> bool) {
    let before = cart_text(app);
    for attempt in 1..=3 {
        let gap = app.scan(code);
        if gap <= 30.0 {
            app.poll(
                &format!("{what} after scanning {code} (keys up to {gap:.0} ms apart)"),
                Duration::from_secs(10),
                |a| done(a).then_some(()),
            );
            return;
        }
        eprintln!(
            "scan {code} (attempt {attempt}): keys up to {gap:.0} ms apart, slower than a \
             scanner; the machine is busy"
        );
        std::thread::sleep(Duration::from_millis(500));
        if done(app) {
            return;
        }
        assert_eq!(
            cart_text(app),
            before,
            "a scan of {code} at {gap:.0} ms between keys changed the cart"
        );
        // What the UI took for typing is in the search box: clear it.
        app.click("search-input");
        app.press(Key::Escape);
    }
    panic!("three scans of {code} all came slower than a scanner: the machine is too busy");
}

/// Scans `code` and waits for the cart to have `lines` lines.
fn scan_to(app: &mut App, code: &str, lines: usize) {
    scan_until(app, code, &format!("{lines} cart lines"), |a| {
        cart_lines(a) == lines
    });
}

/// The receipt number the paid screen shows ("Nota MAJU-T2-…" / "Receipt …").
fn paid_receipt(app: &mut App) -> String {
    app.wait_for("paid-screen");
    let line = app.execute(
        "return [...document.querySelectorAll('[data-testid=\"paid-screen\"] p')]\
           .map(p => p.textContent.trim()).find(t => /^(Nota|Receipt) /.test(t)) || null",
        vec![],
    );
    let line = line
        .as_str()
        .unwrap_or_else(|| panic!("no receipt number on the paid screen"));
    line.split_once(' ')
        .expect("receipt no")
        .1
        .trim()
        .to_string()
}

/// Waits until the paid screen's receipt preview is a decoded picture.
fn wait_preview(app: &mut App) {
    app.wait_for("receipt-preview");
    app.poll(
        "the receipt preview decoded",
        Duration::from_secs(10),
        |a| {
            let w = a.execute(
                "const i = document.querySelector('[data-testid=\"receipt-preview\"]');\
             return i && i.complete ? i.naturalWidth : 0",
                vec![],
            );
            (w.as_u64().unwrap_or(0) > 0).then_some(())
        },
    );
}

/// Waits until the payment screen has the amount due from the shell (the amount field's
/// placeholder shows it; "Uang pas" before that would take Rp 0).
fn wait_due(app: &mut App) {
    app.poll(
        "the amount due on the payment screen",
        Duration::from_secs(10),
        |a| {
            let shown = a.attr("tender-amount", "placeholder")?;
            (rupiah(&shown) > 0).then_some(())
        },
    );
}

/// Pays the current cart with exact cash and starts a new sale; the receipt number.
fn pay_exact_cash(app: &mut App) -> String {
    app.click("pay-button");
    app.click("method-cash");
    wait_due(app);
    app.click("uang-pas");
    app.click("pay-confirm");
    let r = paid_receipt(app);
    app.click("new-sale");
    app.wait_for("search-input");
    r
}

#[test]
fn cashier_story() {
    let started = Instant::now();
    let dir = temp_dir("story");
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    // The server, a store on it, and a headless till that enrols first and seeds the store's
    // documents with the demo catalog and users.
    let server_db = vec![
        "--data-dir".to_string(),
        dir.join("server").display().to_string(),
    ];
    let server_log = dir.join("server.log");
    // The store's QRIS gateway is the simulator (Midtrans's API, on loopback).
    let sim = rt.block_on(GatewaySim::start(SimConfig {
        midtrans_server_key: MIDTRANS_KEY.into(),
        xendit_secret_key: "xnd_development_unused".into(),
        xendit_callback_token: "unused".into(),
        retry_delay: Duration::from_millis(200),
        retries: 2,
    }));
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        format!("midtrans_api_url = \"{}\"\n", sim.base_url()),
    )
    .expect("server config");
    let server_db = [
        server_db,
        vec!["--config".to_string(), config.display().to_string()],
    ]
    .concat();
    let server = ServerProcess::start_with(&server_db, &[], "127.0.0.1:0", &server_log);
    sim.set_midtrans_notification_url(&format!("{}/webhooks/midtrans", server.url()));
    let made = server.admin(&create_tenant_args(
        "Toko Maju",
        "MAJU",
        "Toko Maju",
        OWNER_EMAIL,
    ));
    let store_id = made["store_id"].as_str().expect("store id").to_string();
    rt.block_on(async {
        let owner = api_token(
            &http_client(),
            &server.url(),
            OWNER_EMAIL,
            "rahasia-panjang-1",
        )
        .await;
        let r = http_client()
            .put(format!(
                "{}/api/v1/stores/{store_id}/payment-gateway",
                server.url()
            ))
            .bearer_auth(owner)
            .json(&json!({"provider": "midtrans", "server_key": MIDTRANS_KEY}))
            .send()
            .await
            .expect("set the gateway");
        assert_eq!(
            r.status().as_u16(),
            200,
            "the owner sets the store's gateway"
        );
    });
    let code_for = |server: &ServerProcess, name: &str| server.enrollment_code(&store_id, name);
    let seed_db = dir.join("seed.db");
    {
        let mut seed = TerminalProcess::spawn(&seed_db, "T1");
        let code = code_for(&server, "Gudang");
        seed.cmd(json!({"cmd": "enrol", "server": server.url(), "code": code, "demo": true}))
            .unwrap_or_else(|e| panic!("the seeding till could not enrol: {e}"));
        seed.cmd(json!({"cmd": "sync"}))
            .unwrap_or_else(|e| panic!("the seeding till could not sync: {e}"));
        // The store's documents are on the server before the app joins them.
        wait_until(
            "the seeding till's documents on the server",
            Duration::from_secs(30),
            || {
                let s = seed.cmd(json!({"cmd": "status"})).expect("status");
                s["sync"]["online"] == true
                    && s["sync"]["last_sync"].is_string()
                    && s["sync"]["waiting_documents"] == 0
            },
        );
    }
    let catalog = read_catalog(&seed_db);
    let (a, a_ean) = catalog.scannable[0].clone();
    let (b, b_ean) = catalog.scannable[1].clone();
    let (c, _) = catalog.scannable[2].clone();
    let weighed = catalog.weighed.clone();

    let printer = TestPrinter::start(PrinterProfile::by_name("epson-tm-t82").expect("profile"))
        .expect("test printer");

    // First run: enrol with a code the server made.
    let mut app = App::launch(&dir.join("app"), "story");
    app.wait_for("enrol-button");
    app.screenshot("first-run");
    let code = code_for(&server, "Kasir 2");
    app.type_into("server-url", &server.url());
    app.type_into("enrol-code", &code);
    app.screenshot("first-run-filled");
    app.click("enrol-submit");

    // PIN login as the demo cashier, then the opening float.
    let cashier = catalog.cashier.clone();
    app.wait_for(&format!("user-{}", cashier.0));
    app.screenshot("pin");
    login(&mut app, &cashier.0, &cashier.1);
    app.wait_for("opening-float");
    app.type_into("opening-float", "200000");
    app.screenshot("opening-float");
    app.click("start-shift");
    app.wait_for("search-input");
    assert_eq!(app.html_lang(), "id", "the app starts in Indonesian");
    app.screenshot("selling-empty");

    // The test printer becomes the default printer (set-up; its screen is part 2).
    let target = printer.target();
    let added = app
        .invoke(
            "plugin:printing|add_printer",
            json!({"printer": {"name": "Printer uji", "target": target, "profile": "epson-tm-t82", "isDefault": true}}),
        )
        .unwrap_or_else(|e| panic!("add_printer: {e}"));
    assert_eq!(
        added["is_default"], true,
        "the test printer is the default: {added}"
    );

    // Sale 1: two scans of A and one of B at scanner speed, C by search, a weighed item.
    scan_to(&mut app, &a_ean, 1);
    scan_until(&mut app, &a_ean, "A's quantity 2", |x| {
        x.text("line-qty").trim() == "2"
    });
    scan_to(&mut app, &b_ean, 2);
    app.screenshot("scanned");
    let perf = app.execute("return window.__snapkasirPerf", vec![]);
    assert!(
        perf["scans"].as_array().map(Vec::len) >= Some(3),
        "the scans were measured: {perf}"
    );

    let word = c.name.split_whitespace().next().expect("name").to_string();
    app.type_into("search-input", &word);
    let hit = app.wait_for_css(&format!(
        "[data-testid=\"search-result\"][data-product-id=\"{}\"]",
        c.id
    ));
    app.screenshot("search");
    app.click_element(&hit, "search hit");
    wait_lines(&mut app, 3);

    let wword = weighed
        .name
        .split_whitespace()
        .next()
        .expect("name")
        .to_string();
    app.type_into("search-input", &wword);
    let hit = app.wait_for_css(&format!(
        "[data-testid=\"search-result\"][data-product-id=\"{}\"]",
        weighed.id
    ));
    app.click_element(&hit, "weighed hit");
    app.type_into("weight-input", "0,735");
    app.screenshot("weight");
    app.click("weight-ok");
    wait_lines(&mut app, 4);
    let weighed_line = app.all("cart-line").pop().expect("weighed line");
    let weighed_text = app.text_of(&weighed_line);
    assert!(
        weighed_text.contains("0,735 kg"),
        "the weighed line shows 0,735 kg: {weighed_text:?}"
    );

    // A 25% line discount on A: above the store's 20%, so paying needs a supervisor.
    app.click("line-discount-button");
    app.click("discount-mode-percent");
    app.type_into("discount-input", "25");
    app.screenshot("discount");
    app.click("discount-apply");
    app.poll("the supervisor banner", Duration::from_secs(10), |x| {
        x.find_css(".banner-warn").map(|_| ())
    });
    let total = rupiah(&app.text("cart-total"));
    let tax = rupiah(&app.text("cart-tax"));
    assert!(app.text("cart-total").starts_with("Rp "), "Rupiah shown");
    assert!(total > 0 && tax > 0, "a total with PPN: {total} / {tax}");
    app.screenshot("cart");

    // Pay cash with the first quick amount: the supervisor approves, the change is shown.
    app.click("pay-button");
    app.click("method-cash");
    wait_due(&mut app);
    let due = app
        .invoke("plugin:payment|due", json!({}))
        .unwrap_or_else(|e| panic!("due: {e}"));
    let cash_total = money_str(&due["cash_total"]);
    let quick = app.all("quick-amount");
    assert!(!quick.is_empty(), "quick amounts offered");
    let quick_text = app.text_of(&quick[0]);
    let given = rupiah(&quick_text);
    assert!(
        given > cash_total,
        "a quick amount above {cash_total}: {quick_text}"
    );
    app.click_element(&quick[0], "quick amount");
    app.poll("the change", Duration::from_secs(5), |x| {
        (rupiah(&x.text("change-amount")) == given - cash_total).then_some(())
    });
    app.screenshot("payment-cash");
    app.click("pay-confirm");
    app.wait_for("supervisor-dialog");
    app.screenshot("supervisor");
    let supervisor = catalog.supervisor.clone();
    app.execute(
        "const s = document.querySelector('[data-testid=\"supervisor-user\"]');\
         const o = [...s.options].find(o => o.text === arguments[0]);\
         s.value = o.value; s.dispatchEvent(new Event('change', {bubbles: true})); return o.value;",
        vec![json!(supervisor.0)],
    );
    app.type_into("supervisor-pin", &supervisor.1);
    app.click("supervisor-ok");
    let receipt1 = paid_receipt(&mut app);
    assert_eq!(
        rupiah(&app.text("change-amount")),
        given - cash_total,
        "change on the paid screen"
    );
    wait_preview(&mut app);
    app.screenshot("paid");

    // The receipt at the printer: the goods, PPN and the total.
    let jobs = printer.wait_for_printed(1, Duration::from_secs(20));
    let printed = jobs
        .iter()
        .find(|j| j.printed_anything())
        .expect("a receipt printed");
    let text = printed.printout.text();
    std::fs::write(
        snapkasir_tests::app_driver::screens_dir().join("story-receipt.txt"),
        &text,
    )
    .expect("save the receipt text");
    for p in [&a, &b, &c, &weighed] {
        let head: String = p.name.chars().take(12).collect();
        assert!(
            text.contains(&head),
            "the receipt lists {:?}:\n{text}",
            p.name
        );
    }
    assert!(text.contains("PPN"), "the receipt shows PPN:\n{text}");
    assert!(
        text.contains(&grouped(cash_total)) || text.contains(&grouped(total)),
        "the receipt shows the total {}:\n{text}",
        grouped(total)
    );
    assert!(
        text.contains(&receipt1),
        "the receipt number {receipt1}:\n{text}"
    );
    // The QR code under it: the sale's public receipt page on the server the till enrolled
    // with, by the sale's unguessable token (checked against the server once it syncs).
    let links = printed.printout.qr_payloads();
    let page_prefix = format!("{}/r/", server.url());
    assert!(
        links.len() == 1
            && links[0]
                .strip_prefix(&page_prefix)
                .is_some_and(pos_core::shared_model::sale::is_receipt_token),
        "the receipt's QR code is its page on the server: {links:?}"
    );
    let receipt_link = links[0].clone();

    // The digital receipt on the paid screen: the same link as a QR code for the customer, and
    // a WhatsApp link for the store's phone (a mistyped number is refused in words).
    app.click("digital-receipt-button");
    let qr = app.wait_for("digital-receipt-qr");
    assert_eq!(
        app.attr_of(&qr, "data-payload").as_deref(),
        Some(receipt_link.as_str())
    );
    app.type_into("wa-number", "0812-34");
    app.click("wa-make");
    app.wait_for("wa-invalid");
    app.type_into("wa-number", "0812-3456-7890");
    app.click("wa-make");
    let wa = app.wait_for("wa-qr");
    let wa_link = app.attr_of(&wa, "data-payload").expect("the WhatsApp link");
    let encoded_receipt = receipt_link.replace(':', "%3A").replace('/', "%2F");
    assert!(
        wa_link.starts_with("https://wa.me/6281234567890?text=")
            && wa_link.contains(&encoded_receipt),
        "{wa_link}"
    );
    let mut problems = Vec::new();
    look_open_dialog_both(&mut app, "story-digital-receipt", &mut problems);
    assert!(problems.is_empty(), "layout problems: {problems:#?}");
    app.press(Key::Escape);
    app.wait_gone("digital-receipt");
    app.click("reprint-button");
    let jobs = printer.wait_for_printed(2, Duration::from_secs(20));
    assert!(jobs.len() >= 2, "the copy printed too");
    app.click("new-sale");
    app.wait_for("search-input");

    // Sale 2: cash + card.
    scan_to(&mut app, &a_ean, 1);
    scan_to(&mut app, &b_ean, 2);
    let total2 = rupiah(&app.text("cart-total"));
    app.click("pay-button");
    wait_due(&mut app);
    app.click("method-card");
    let card_part = total2 / 2;
    app.type_into("tender-amount", &card_part.to_string());
    app.type_into("card-approval", "APR-778899");
    app.click("add-tender");
    app.poll("one tender line", Duration::from_secs(5), |x| {
        (x.all("tender-line").len() == 1).then_some(())
    });
    app.click("method-cash");
    app.click("uang-pas");
    app.screenshot("payment-split");
    app.click("pay-confirm");
    let receipt2 = paid_receipt(&mut app);
    wait_preview(&mut app);
    app.screenshot("paid-split");
    app.click("new-sale");
    app.wait_for("search-input");

    // Sale 3: dynamic QRIS. The code is made for the amount and counts down; the first one
    // expires (said in words), the second is paid at the gateway and the till turns to the
    // paid screen by itself.
    scan_to(&mut app, &b_ean, 1);
    let total3 = rupiah(&app.text("cart-total"));
    app.click("pay-button");
    wait_due(&mut app);
    app.click("method-qris");
    let make = app.wait_for("qris-start");
    assert!(
        app.text_of(&make).contains(&grouped(total3)),
        "the code is made for the total"
    );
    app.click("qris-start");
    app.wait_for("qris-dynamic-image");
    let first = app
        .attr("qris-dynamic", "data-payment")
        .expect("the payment id");
    assert_eq!(rupiah(&app.text("qris-amount")), total3);
    let countdown = app.text("qris-countdown");
    assert!(
        countdown.contains("5:00") || countdown.contains("4:5"),
        "a countdown from 5 minutes: {countdown:?}"
    );
    let mut problems = Vec::new();
    look_both(&mut app, "story-qris-dynamic", &mut problems);
    rt.block_on(sim.expire(&first)).expect("the code expires");
    app.poll("the expiry in words", Duration::from_secs(10), |x| {
        x.find_css("[data-testid=\"qris-ended\"]").map(|_| ())
    });
    assert!(app.text("qris-ended").contains("kedaluwarsa"));
    look_both(&mut app, "story-qris-expired", &mut problems);
    app.click("qris-start");
    app.poll("a new code", Duration::from_secs(10), |x| {
        x.attr("qris-dynamic", "data-payment")
            .filter(|id| *id != first)
    });
    let second = app
        .attr("qris-dynamic", "data-payment")
        .expect("the payment id");
    rt.block_on(sim.pay(&second)).expect("the customer pays");
    let receipt3 = paid_receipt(&mut app);
    wait_preview(&mut app);
    app.screenshot("paid-qris");
    assert!(problems.is_empty(), "layout problems: {problems:#?}");
    let jobs = printer.wait_for_printed(4, Duration::from_secs(20));
    let printed3 = jobs
        .iter()
        .map(|j| j.printout.text())
        .find(|t| t.contains(&receipt3))
        .expect("sale 3's receipt printed");
    let reference = sim
        .deliveries()
        .into_iter()
        .find(|d| d.id == second && d.status == "settlement")
        .and_then(|d| d.body["transaction_id"].as_str().map(str::to_string))
        .expect("the settlement notification");
    assert!(
        printed3.contains("QRIS") && printed3.contains(&reference[..8]),
        "the receipt shows the QRIS payment and its reference {reference}:\n{printed3}"
    );
    app.click("new-sale");
    app.wait_for("search-input");

    // All three sales reach the server: the till marks them "on server", the server's export has them.
    app.click("sales-button");
    for r in [&receipt1, &receipt2, &receipt3] {
        let css =
            format!("[data-testid=\"sale-row\"][data-receipt=\"{r}\"][data-on-server=\"true\"]");
        app.poll(
            &format!("sale {r} on server"),
            Duration::from_secs(30),
            |x| x.find_css(&css).map(|_| ()),
        );
    }
    app.screenshot("sales-on-server");
    let held = server_receipts(&rt, &server.url(), &store_id);
    assert_eq!(
        held.get(&receipt1),
        Some(&1),
        "the server has sale 1 once: {held:?}"
    );
    assert_eq!(
        held.get(&receipt2),
        Some(&1),
        "the server has sale 2 once: {held:?}"
    );
    assert_eq!(
        held.get(&receipt3),
        Some(&1),
        "the server has sale 3 once: {held:?}"
    );
    app.press(Key::Escape);
    app.wait_gone("sale-row");

    // Offline: stop the server, sell three more, start it again on the same data and port.
    let addr = server.addr;
    drop(server);
    app.poll("the sync bar offline", Duration::from_secs(30), |x| {
        (x.attr("sync-bar", "data-online").as_deref() == Some("false")).then_some(())
    });
    let mut offline = Vec::new();
    for (_, ean) in catalog.scannable.iter().take(3) {
        scan_to(&mut app, ean, 1);
        offline.push(pay_exact_cash(&mut app));
    }
    app.poll("three sales waiting", Duration::from_secs(10), |x| {
        let w: u32 = x.attr("sync-bar", "data-waiting")?.parse().ok()?;
        (w >= 3).then_some(())
    });
    app.screenshot("offline-waiting");
    wait_until(
        "the server's port to be free",
        Duration::from_secs(10),
        || std::net::TcpListener::bind(addr).is_ok(),
    );
    let server = ServerProcess::start_with(&server_db, &[], &addr.to_string(), &server_log);
    app.poll(
        "the sync bar online with nothing waiting",
        Duration::from_secs(60),
        |x| {
            let online = x.attr("sync-bar", "data-online")?;
            let waiting = x.attr("sync-bar", "data-waiting")?;
            (online == "true" && waiting == "0").then_some(())
        },
    );
    app.screenshot("online-again");
    app.click("sales-button");
    for r in &offline {
        let css =
            format!("[data-testid=\"sale-row\"][data-receipt=\"{r}\"][data-on-server=\"true\"]");
        app.poll(
            &format!("offline sale {r} on server"),
            Duration::from_secs(30),
            |x| x.find_css(&css).map(|_| ()),
        );
    }
    app.screenshot("sales-all-on-server");
    app.press(Key::Escape);
    wait_until(
        "the server to hold all six sales",
        Duration::from_secs(30),
        || server_receipts(&rt, &server.url(), &store_id).len() >= 6,
    );
    let held = server_receipts(&rt, &server.url(), &store_id);
    for r in offline.iter().chain([&receipt1, &receipt2, &receipt3]) {
        assert_eq!(
            held.get(r),
            Some(&1),
            "the server has {r} exactly once: {held:?}"
        );
    }
    assert_eq!(held.len(), 6, "exactly the six sales: {held:?}");
    // The printed link shows the first sale to whoever holds the receipt.
    let page = rt.block_on(async {
        let r = http_client()
            .get(&receipt_link)
            .send()
            .await
            .expect("receipt page");
        (r.status().as_u16(), r.text().await.expect("body"))
    });
    assert_eq!(page.0, 200, "{receipt_link}: {}", page.1);
    assert!(
        page.1.contains(&receipt1),
        "{receipt_link} shows {receipt1}"
    );

    // English and back.
    assert_eq!(app.html_lang(), "id");
    assert!(
        app.text("pay-button").starts_with("Bayar"),
        "Indonesian label"
    );
    app.click("language-toggle");
    app.poll("html lang en", Duration::from_secs(5), |x| {
        (x.html_lang() == "en").then_some(())
    });
    assert!(app.text("pay-button").starts_with("Pay"), "English label");
    app.screenshot("english");
    app.click("language-toggle");
    app.poll("html lang id", Duration::from_secs(5), |x| {
        (x.html_lang() == "id").then_some(())
    });
    assert!(
        app.text("pay-button").starts_with("Bayar"),
        "Indonesian again"
    );

    drop(app);
    drop(server);
    eprintln!("cashier_story took {:?}", started.elapsed());
    // Kept when the test fails (the app's, the server's and tauri-driver's logs are there).
    remove_temp(&dir);
}

/// Every visible main panel that overflows horizontally and every visible button under 44 px.
const LAYOUT_CHECK: &str = r#"
const bad = [];
let buttons = 0;
const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
const name = (e) => e.getAttribute('data-testid') || (e.className && String(e.className)) || e.tagName;
if (document.documentElement.scrollWidth > window.innerWidth + 1) bad.push('page wider than the window: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
for (const e of document.querySelectorAll('main, header, section, .dialog, .dialog-body, .lines, .hits, .cat-grid, .totals, .cart-buttons, .pay-buttons, .methods')) {
  if (shown(e) && e.scrollWidth > e.clientWidth + 1) bad.push('overflows: ' + name(e) + ' ' + e.scrollWidth + ' > ' + e.clientWidth);
}
for (const b of document.querySelectorAll('button')) {
  if (!shown(b)) continue;
  buttons++;
  const h = b.getBoundingClientRect().height;
  if (h < 44 - 0.5) bad.push('button under 44px: ' + name(b) + ' "' + b.textContent.trim().slice(0, 30) + '" ' + h.toFixed(1));
}
return { bad, buttons };
"#;

/// Screenshots of the current screen at every size, and its layout problems.
fn look(app: &mut App, name: &str, problems: &mut Vec<String>) {
    for size in [Size::Desktop, Size::TabletLandscape, Size::TabletPortrait] {
        app.set_size(size);
        let lang = app.html_lang();
        app.screenshot(&format!("{name}-{lang}-{}", size.name()));
        let check = app.execute(LAYOUT_CHECK, vec![]);
        assert!(
            check["buttons"].as_u64().unwrap_or(0) > 0,
            "{name}: the layout check found no button to measure: {check}"
        );
        for b in check["bad"].as_array().cloned().unwrap_or_default() {
            problems.push(format!(
                "{name} {lang} {}: {}",
                size.name(),
                b.as_str().unwrap_or("?")
            ));
        }
    }
    app.set_size(Size::Desktop);
}

/// A full screen in both languages (the toggle is on every full screen).
fn look_both(app: &mut App, name: &str, problems: &mut Vec<String>) {
    look(app, name, problems);
    app.click("language-toggle");
    look(app, name, problems);
    app.click("language-toggle");
}

/// The dialog that is open now, in both languages: its backdrop covers the toggle, so the
/// toggle is pressed by script (twice: the language ends where it was).
fn look_open_dialog_both(app: &mut App, name: &str, problems: &mut Vec<String>) {
    for _ in 0..2 {
        look(app, name, problems);
        let before = app.html_lang();
        app.execute(
            "document.querySelector('[data-testid=\"language-toggle\"]').click()",
            vec![],
        );
        app.poll("the language switched", Duration::from_secs(5), |x| {
            (x.html_lang() != before).then_some(())
        });
    }
}

/// A dialog in both languages: opened by `open`, closed with Esc, the language switched
/// between (the dialog's backdrop covers the toggle).
fn look_dialog(app: &mut App, name: &str, problems: &mut Vec<String>, open: &dyn Fn(&mut App)) {
    for _ in 0..2 {
        open(app);
        look(app, name, problems);
        app.press(Key::Escape);
        app.click("language-toggle");
    }
}

#[test]
fn screens_tour() {
    let dir = temp_dir("tour");
    let mut app = App::launch(&dir.join("app"), "tour");
    let mut problems = Vec::new();

    app.wait_for("demo-button");
    look_both(&mut app, "first-run", &mut problems);
    app.click("demo-button");
    app.wait_for("demo-pins");
    let status = app
        .invoke("plugin:session|status", json!({}))
        .unwrap_or_else(|e| panic!("status: {e}"));
    let demo = status["demo"].clone();
    let cashier = demo["cashier_name"]
        .as_str()
        .expect("demo cashier")
        .to_string();
    let pin = demo["cashier_pin"].as_str().expect("demo pin").to_string();
    look_both(&mut app, "pin", &mut problems);
    login(&mut app, &cashier, &pin);
    app.wait_for("opening-float");
    look_both(&mut app, "opening-float", &mut problems);
    app.type_into("opening-float", "100000");
    app.click("start-shift");
    app.wait_for("search-input");
    look_both(&mut app, "selling-empty", &mut problems);

    // A cart with three piece products from the first category, its products listed.
    let first_category = app.wait_for_css("[data-testid^=\"category-\"]");
    app.click_element(&first_category, "the first category");
    app.wait_for("search-result");
    let mut index = 0;
    while cart_lines(&mut app) < 3 {
        let hits = app.all("search-result");
        assert!(
            index < hits.len(),
            "three piece products in the first category"
        );
        let text = app.text_of(&hits[index]);
        index += 1;
        if text.contains("/kg") {
            continue;
        }
        let before = cart_lines(&mut app);
        app.click_element(&hits[index - 1], "a product of the category");
        wait_lines(&mut app, before + 1);
    }
    look_both(&mut app, "selling-cart", &mut problems);

    look_dialog(&mut app, "dialog-line-discount", &mut problems, &|x| {
        x.click("line-discount-button");
        x.wait_for("discount-input");
    });
    look_dialog(&mut app, "dialog-parked", &mut problems, &|x| {
        x.click("parked-button");
    });
    look_dialog(&mut app, "dialog-sales", &mut problems, &|x| {
        x.click("sales-button");
    });
    look_dialog(&mut app, "dialog-help", &mut problems, &|x| {
        x.click("help-button");
    });
    look_dialog(&mut app, "dialog-quantity", &mut problems, &|x| {
        x.click("line-qty");
    });

    // Payment in each method, then the supervisor dialog and the paid screen.
    app.click("pay-button");
    app.wait_for("tender-amount");
    for m in ["cash", "qris", "card", "ewallet"] {
        app.click(&format!("method-{m}"));
        look_both(&mut app, &format!("payment-{m}"), &mut problems);
    }
    app.click("pay-back");
    app.wait_for("search-input");
    app.click("line-discount-button");
    app.click("discount-mode-percent");
    app.type_into("discount-input", "50");
    app.click("discount-apply");
    app.wait_gone("discount-input");
    app.click("pay-button");
    app.click("method-cash");
    wait_due(&mut app);
    app.click("uang-pas");
    app.click("pay-confirm");
    app.wait_for("supervisor-dialog");
    look(&mut app, "dialog-supervisor", &mut problems);
    let supervisor_pin = demo["supervisor_pin"]
        .as_str()
        .expect("demo pin")
        .to_string();
    app.type_into("supervisor-pin", &supervisor_pin);
    app.click("supervisor-ok");
    wait_preview(&mut app);
    look_both(&mut app, "paid", &mut problems);
    app.click("new-sale");
    app.wait_for("search-input");

    // The store export (help → export), approved by the supervisor, into a folder standing in
    // for a USB drive. A wrong PIN writes nothing; the right one writes an export a new till
    // can be set up from.
    look_dialog(&mut app, "dialog-export", &mut problems, &|x| {
        x.click("help-button");
        x.click("export-open");
        x.wait_for("export-dir");
    });
    let usb = dir.join("usb");
    std::fs::create_dir_all(&usb).expect("usb folder");
    app.click("help-button");
    app.click("export-open");
    app.type_into("export-dir", &usb.display().to_string());
    app.type_into("supervisor-pin", "0000");
    app.click("export-submit");
    app.poll("the wrong PIN refused", Duration::from_secs(10), |x| {
        let toast = x.find("toast")?;
        x.text_of(&toast).contains("PIN salah").then_some(())
    });
    assert_eq!(
        std::fs::read_dir(&usb).expect("usb folder").count(),
        0,
        "a wrong PIN exports nothing"
    );
    app.type_into("supervisor-pin", &supervisor_pin);
    app.click("export-submit");
    app.wait_for("export-done");
    look_open_dialog_both(&mut app, "dialog-export-done", &mut problems);
    let written = std::path::PathBuf::from(app.text("export-path").trim());
    assert_eq!(
        written.parent(),
        Some(usb.as_path()),
        "{}",
        written.display()
    );
    let export = pos_core::store_export::read_store_export(&written)
        .unwrap_or_else(|e| panic!("the app's export does not read back: {e}"));
    assert_eq!(
        Some(export.identity.store_code.as_str()),
        status["store_code"].as_str(),
        "the export is this till's store"
    );
    let done = app.text("export-done");
    assert!(
        done.contains(&format!("{} dokumen", export.documents.len())),
        "{done}"
    );
    app.click("export-close");
    app.wait_gone("export-dialog");

    // The lock screen.
    app.click("lock-button");
    app.wait_for(&format!("user-{cashier}"));
    look_both(&mut app, "locked", &mut problems);

    drop(app);
    assert!(
        problems.is_empty(),
        "layout problems ({}), screenshots in {}:\n{}",
        problems.len(),
        snapkasir_tests::app_driver::screens_dir().display(),
        problems.join("\n")
    );
    remove_temp(&dir);
}
