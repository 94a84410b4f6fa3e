//! The public receipt page (issue 16, digital receipts): a real till sells, its receipt carries
//! `<server>/r/<token>`, and once the sale has synced the real server shows that sale there, in
//! both languages, to anyone with the link. Before the sync the same link gets a polite "not
//! here yet" page; the sale's id, another token or garbage never show a sale. Looked at in
//! headless Chromium at phone and desktop widths. A real sync-server process (embedded store).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pos_core::Terminal;
use pos_core::enrolment::enrol;
use pos_core::shared_model::money::Money;
use pos_core::shared_model::sale::{Sale, new_receipt_token};
use pos_core::sync::client::{SyncClient, SyncConfig};
use snapkasir_tests::browser::{Browser, Size};
use snapkasir_tests::processes::{ServerProcess, create_tenant_args, http_client};

type Till = Arc<Mutex<Terminal>>;

fn lock(t: &Till) -> std::sync::MutexGuard<'_, Terminal> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

/// `12500` → `Rp 12.500` (whole rupiah, as the page writes them).
fn rupiah(m: Money) -> String {
    let whole = m.0.trunc().to_string();
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("Rp {out}")
}

/// Sells one of each product found by `queries`, in cash.
fn sell(t: &Till, queries: &[&str]) -> Sale {
    snapkasir_tests::demo_sale::sell(&mut lock(t), queries, Vec::new())
}

/// What the server answers at `path`: status, `x-robots-tag`, body.
fn get(rt: &tokio::runtime::Runtime, base: &str, path: &str) -> (u16, String, String) {
    rt.block_on(async {
        let r = http_client()
            .get(format!("{base}{path}"))
            .header("accept-language", "id")
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        let robots = r
            .headers()
            .get("x-robots-tag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, robots, r.text().await.expect("body"))
    })
}

#[test]
fn a_synced_sale_is_shown_by_its_receipt_link_and_nothing_else_is() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::on_sqlite(dir.path());
    let made = server.admin(&create_tenant_args(
        "Struk",
        "STRK",
        "Toko Struk",
        "owner@struk.test",
    ));
    let store_id = made["store_id"].as_str().unwrap();
    let code = server.enrollment_code(store_id, "Kasir 1");
    let base = server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let till: Till = Arc::new(Mutex::new(
        Terminal::open(dir.path().join("t1.db")).unwrap(),
    ));
    rt.block_on(enrol(&till, &base, &code, true))
        .expect("enrols");

    let sale = sell(&till, &["Aqua", "Teh Botol"]);
    let token = sale
        .receipt_token
        .clone()
        .expect("a new sale has a receipt token");
    let link = format!("/r/{token}");

    // Before the till syncs: a polite page, no sale.
    let (status, robots, body) = get(&rt, &base, &link);
    assert_eq!(status, 404, "{body}");
    assert_eq!(robots, "noindex");
    assert!(body.contains("Struk ini belum sampai di sini"), "{body}");
    assert!(!body.contains(&sale.receipt_no.to_string()));

    // The till syncs; the server has the sale.
    let client = {
        let _inside = rt.enter();
        let (enrolment, credential) = lock(&till).enrolment().unwrap().unwrap();
        let mut config = SyncConfig::new(&enrolment.server_url, credential);
        config.poll_interval = Duration::from_millis(50);
        config.heartbeat_interval = Duration::from_millis(200);
        SyncClient::start(till.clone(), config)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while lock(&till)
        .on_server_since(&sale.id.to_string())
        .unwrap()
        .is_none()
    {
        assert!(Instant::now() < deadline, "the sale acknowledged in 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The link shows this sale: store, number, lines, total, payment, in Indonesian.
    let (status, robots, body) = get(&rt, &base, &link);
    assert_eq!(status, 200, "{body}");
    assert_eq!(robots, "noindex");
    for expected in [
        "Toko Struk".to_string(),
        sale.receipt_no.to_string(),
        rupiah(sale.total()),
        "Tunai".to_string(),
        "No. struk".to_string(),
    ] {
        assert!(
            body.contains(&expected),
            "{expected:?} missing from:\n{body}"
        );
    }
    for line in &sale.lines {
        assert!(body.contains(&line.item.name), "{} missing", line.item.name);
    }
    // Nothing else: no other page of the store is linked from it.
    assert!(!body.contains("/stores/"), "{body}");

    // The sale's id, another well-formed token and garbage never show a sale.
    let other = sell(&till, &["Aqua"]);
    let sale_id = sale.id.to_string();
    let unknown = new_receipt_token();
    for path in [
        format!("/r/{sale_id}"),
        format!("/r/{unknown}"),
        "/r/..%2F..%2Fetc%2Fpasswd".to_string(),
        format!("/r/{}", token.to_uppercase()),
        format!("/r/{token}x"),
    ] {
        let (status, _, body) = get(&rt, &base, &path);
        assert_eq!(status, 404, "{path}: {body}");
        assert!(
            !body.contains(&sale.receipt_no.to_string())
                && !body.contains(&other.receipt_no.to_string()),
            "{path} showed a sale"
        );
    }

    // Looked at: the receipt and the pending page, phone and desktop, both languages.
    let mut browser = Browser::start("public_receipt", &base);
    browser.open(&format!("{link}?lang=en"));
    browser.wait_for("receipt");
    assert_eq!(browser.text("receipt-no"), sale.receipt_no.to_string());
    assert_eq!(browser.text("receipt-total"), rupiah(sale.total()));
    browser.shots("receipt", "en");
    browser.open(&format!("{link}?lang=id"));
    browser.wait_for("receipt");
    browser.assert_no_english(
        "receipt",
        &[
            "Receipt no.",
            "Item",
            "Amount",
            "Date",
            "Cash",
            "print this page",
        ],
    );
    browser.shots("receipt", "id");
    // Every column of the lines is in view on a phone: nothing to scroll sideways to find.
    browser.set_size(Size::Phone);
    let hidden = browser.execute(
        "const t = document.querySelector('[data-testid=\"receipt-lines\"]'); \
         return t.parentElement.scrollWidth - t.parentElement.clientWidth;",
        vec![],
    );
    assert!(
        hidden.as_i64().unwrap_or(1) <= 0,
        "the lines scroll sideways on a phone: {hidden}"
    );
    let rows = browser.table_rows("receipt-lines");
    let expected: Vec<Vec<String>> = sale
        .lines
        .iter()
        .map(|l| vec![l.item.name.clone(), "1".into(), rupiah(l.amount)])
        .collect();
    assert_eq!(rows, expected);
    browser.set_size(Size::Desktop);
    for lang in ["en", "id"] {
        browser.open(&format!("/r/{unknown}?lang={lang}"));
        browser.wait_for("receipt-pending");
        browser.shots("receipt-pending", lang);
    }
    drop(browser);
    rt.block_on(client.stop());
}
