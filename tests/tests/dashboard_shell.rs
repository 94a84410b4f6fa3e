//! The dashboard's foundation in headless Chromium against the real `sync-server` binary
//! (embedded SQLite) and a real till (`snapkasir-terminal`): sign in, today's total after the
//! till syncs its sales, another range beside its previous period, both languages (no English
//! left on the Indonesian page), the password page, sign-out ending the session on the server,
//! CSRF refusals through the browser, cookie flags (Secure under TLS), an expired session back
//! at /signin, and a manager of another store or an owner of another tenant getting 404 in the
//! browser and from the API. Screenshots of every page at phone and desktop width, in English
//! and Indonesian, under `<target>/test-output/dashboard/<test>/`.
//!
//! Needs `cargo build -p sync-server -p snapkasir-tests` (scripts/test builds the workspace) and
//! `apt-get install chromium chromium-driver`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use snapkasir_tests::api::Api;
use snapkasir_tests::browser::Browser;
use snapkasir_tests::processes::{ServerProcess, TerminalProcess, create_tenant_args, http_client};

const OWNER: &str = "pemilik@tokodash.example";
const PASSWORD: &str = "rahasia-panjang-1";

/// English words of the pages that must not be left on an Indonesian page.
const ENGLISH: [&str; 16] = [
    "Overview",
    "Sales",
    "Transactions",
    "Refunds",
    "Previous period",
    "Sign out",
    "Sign in",
    "Today",
    "Yesterday",
    "Top products",
    "Reports",
    "Settings",
    "Account",
    "Password",
    "higher than",
    "lower than",
];

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `12500` → `Rp 12.500`, written here independently of the server's formatter.
fn rupiah(amount: &str) -> String {
    let whole: i64 = amount.split('.').next().unwrap().parse().unwrap();
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{}Rp {out}", if whole < 0 { "-" } else { "" })
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn server(dir: &Path, config: Option<&str>, tls: bool) -> ServerProcess {
    let mut db = vec![
        "--data-dir".to_string(),
        dir.join("server").display().to_string(),
    ];
    if let Some(c) = config {
        let path = dir.join("server.toml");
        std::fs::write(&path, c).unwrap();
        db.extend(["--config".to_string(), path.display().to_string()]);
    }
    let serve: Vec<String> = if tls {
        make_certificates(dir);
        vec![
            "--tls-cert".into(),
            dir.join("cert.pem").display().to_string(),
            "--tls-key".into(),
            dir.join("key.pem").display().to_string(),
        ]
    } else {
        Vec::new()
    };
    ServerProcess::start_with(&db, &serve, "127.0.0.1:0", &dir.join("server.log"))
}

fn make_certificates(dir: &Path) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
}

#[test]
fn owner_signs_in_and_reads_the_day_after_a_till_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), None, false);
    let base = server.url();
    let made = server.admin(&create_tenant_args("Toko Dash", "DASH", "Toko Dash", OWNER));
    let store_id = made["store_id"].as_str().unwrap().to_string();
    let code = server.enrollment_code(&store_id, "Kasir 1");

    // A real till enrols, opens a shift and sells two things; the server projects them.
    let mut till = TerminalProcess::spawn(&dir.path().join("till.db"), "T1");
    till.cmd(json!({"cmd": "enrol", "server": base, "code": code, "demo": true}))
        .expect("enrol");
    till.cmd(json!({"cmd": "start_shift"})).expect("shift");
    till.cmd(json!({"cmd": "sync"})).expect("sync");
    let status = till.cmd(json!({"cmd": "status"})).expect("status");
    let skus: Vec<String> = status["stock"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut sold = rust_decimal::Decimal::ZERO;
    for (sku, qty) in [(&skus[0], 2), (&skus[1], 1)] {
        let s = till
            .cmd(json!({"cmd": "sell", "sku": sku, "qty": qty}))
            .expect("sell");
        sold += s["total"]
            .as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap();
    }
    let api = Api::sign_in(&base, OWNER, PASSWORD);
    let today = chrono::Utc::now().date_naive();
    let wide = format!(
        "/api/v1/stores/{store_id}/reports/sales-by-day?from={}&to={}",
        today - chrono::Duration::days(1),
        today + chrono::Duration::days(1)
    );
    let mut day = String::new();
    wait_until(
        "the till's sales projected on the server",
        Duration::from_secs(60),
        || {
            let (_, v) = api.get(&wide);
            match v.as_array().and_then(|a| a.first()) {
                Some(d) if d["sales"] == 2 => {
                    day = d["business_date"].as_str().unwrap().to_string();
                    assert_eq!(
                        d["total"]
                            .as_str()
                            .unwrap()
                            .parse::<rust_decimal::Decimal>()
                            .unwrap(),
                        sold
                    );
                    true
                }
                _ => false,
            }
        },
    );
    let total = rupiah(&sold.to_string());

    // Cookie and header facts straight from the server.
    let signin = rt().block_on(async {
        http_client()
            .get(format!("{base}/signin"))
            .send()
            .await
            .unwrap()
    });
    let csp = signin.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );

    let mut b = Browser::start("owner_story", &base);
    // Chromium asks for English first: the sign-in page is English, then Indonesian.
    b.open("/signin");
    b.wait_for("signin-form");
    b.shots("signin", "en");
    b.switch_lang("id");
    b.assert_no_english("sign-in", &ENGLISH);
    b.shots("signin", "id");
    // A wrong password is said in words and signs nobody in.
    b.fill("email", OWNER);
    b.fill("password", "salah-sekali");
    b.click("signin-submit");
    assert!(
        b.text("signin-error").contains("salah"),
        "wrong password in words"
    );
    b.shots("signin-error", "id");
    b.sign_in(OWNER, PASSWORD);
    assert_eq!(
        b.path(),
        format!("/stores/{store_id}/overview"),
        "/ leads to the store's overview"
    );
    let cookies = b.cookies();
    let session = cookies
        .iter()
        .find(|c| c.name() == "sk_session")
        .expect("session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(format!("{:?}", session.same_site()), "Some(Lax)");
    assert_ne!(session.secure(), Some(true), "not Secure without TLS");

    // Today's total (the store's business day is the till's).
    assert!(!b.text("period").trim().is_empty());
    b.poll("today's total", |b| {
        (b.text("value-sales") == total).then_some(())
    });
    assert_eq!(b.text("value-transactions"), "2");
    b.assert_no_english("overview", &ENGLISH);
    b.shots("overview-today", "id");
    b.switch_lang("en");
    assert!(
        b.text("change-sales").contains("previous period"),
        "{}",
        b.text("change-sales")
    );
    b.shots("overview-today", "en");

    // The next day as the range: nothing yet, today as its previous period, in words.
    let next = (chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap()
        + chrono::Duration::days(1))
    .to_string();
    b.set_value("range-from", &next);
    b.set_value("range-to", &next);
    b.click("range-submit");
    b.poll("the next day's overview", |b| {
        b.path().contains(&format!("from={next}")).then_some(())
    });
    assert_eq!(b.text("value-sales"), "Rp 0");
    assert!(
        b.text("previous-sales").contains(&total),
        "{}",
        b.text("previous-sales")
    );
    assert!(
        b.text("change-sales").contains("100.0% lower"),
        "{}",
        b.text("change-sales")
    );
    b.shots("overview-next-day", "en");
    // A reversed range is refused in words, and today is shown instead.
    b.open(&format!("/stores/{store_id}/overview?from={next}&to={day}"));
    assert!(b.text("range-error").contains("cannot be shown"));

    // A seven-day range beside the seven days before.
    let from = (chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap()
        - chrono::Duration::days(6))
    .to_string();
    b.open(&format!("/stores/{store_id}/overview?from={from}&to={day}"));
    assert_eq!(b.text("value-sales"), total);
    assert!(
        b.text("change-sales")
            .contains("Nothing in the previous period")
    );
    b.shots("overview-7-days", "en");
    b.switch_lang("id");
    b.assert_no_english("overview (7 days)", &ENGLISH);
    b.shots("overview-7-days", "id");

    // CSRF: a sign-out posted without the token, or with a made-up one, changes nothing.
    for fields in [vec![], vec![("_csrf", "dibuat-buat")]] {
        let (status, body) = b.post_form("/signout", &fields);
        assert_eq!(status, 403, "{body}");
    }
    b.open(&format!("/stores/{store_id}/overview"));
    assert_eq!(b.text("value-sales"), total, "still signed in");

    // The password page: mismatch and wrong current password in words, nothing changed.
    b.click("account-menu");
    b.click("password-link");
    b.wait_for("password-form");
    b.shots("password", "id");
    b.assert_no_english("password", &ENGLISH);
    b.fill("old-password", PASSWORD);
    b.fill("new-password", "kata-sandi-baru-1");
    b.fill("confirm-password", "kata-sandi-lain-1");
    b.click("password-submit");
    assert!(b.text("password-error").contains("tidak sama"));
    b.fill("old-password", "bukan-sandinya");
    b.fill("new-password", "kata-sandi-baru-1");
    b.fill("confirm-password", "kata-sandi-baru-1");
    b.click("password-submit");
    assert!(b.text("password-error").contains("salah"));
    b.shots("password-error", "id");
    b.switch_lang("en");
    b.shots("password", "en");
    assert!(
        !Api::sign_in(&base, OWNER, PASSWORD).token().is_empty(),
        "the password is unchanged"
    );

    // Sign-out ends the session on the server: the old cookies open nothing any more.
    let old: Vec<(String, String)> = b
        .cookies()
        .iter()
        .filter(|c| c.name().starts_with("sk_"))
        .map(|c| (c.name().to_string(), c.value().to_string()))
        .collect();
    b.open(&format!("/stores/{store_id}/overview"));
    b.click("account-menu");
    b.click("signout");
    b.wait_for("signin-notice");
    assert!(b.path().starts_with("/signin"));
    for (k, v) in &old {
        b.add_cookie(k, v);
    }
    b.open(&format!("/stores/{store_id}/overview"));
    b.wait_for("signin-form");
    assert!(b.path().contains("why=ended"), "{}", b.path());
    let old_access = old
        .iter()
        .find(|(k, _)| k == "sk_session")
        .unwrap()
        .1
        .clone();
    assert_eq!(
        Api::with_token(&base, &old_access).get("/api/v1/me").0,
        401,
        "the API refuses it too"
    );
    b.shots("signed-out", "en");
}

#[test]
fn other_stores_and_tenants_get_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), None, false);
    let base = server.url();
    let a = server.admin(&create_tenant_args("Toko A", "TKA", "Toko A", OWNER));
    let store_a = a["store_id"].as_str().unwrap().to_string();
    server.admin(&create_tenant_args(
        "Toko B",
        "TKB",
        "Toko B",
        "pemilik@tokob.example",
    ));
    let owner = Api::sign_in(&base, OWNER, PASSWORD);
    let (s, store2) = owner.post(
        "/api/v1/stores",
        json!({"code": "TKA2", "name": "Toko A Cabang"}),
    );
    assert!(s == 200 || s == 201, "{store2}");
    let store2 = store2["id"].as_str().unwrap().to_string();
    let (s, m) = owner.post(
        &format!("/api/v1/stores/{store2}/managers"),
        json!({"email": "manajer@tokoa.example", "password": "manajer-rahasia"}),
    );
    assert!(s == 200 || s == 201, "{m}");

    let mut b = Browser::start("refusals", &base);
    // The owner sees both stores in the picker; the manager only their own.
    b.sign_in(OWNER, PASSWORD);
    b.wait_for("store-picker");
    b.shots("owner-two-stores", "en");
    b.click("account-menu");
    b.click("signout");
    b.wait_for("signin-form");

    b.sign_in("manajer@tokoa.example", "manajer-rahasia");
    assert_eq!(b.path(), format!("/stores/{store2}/overview"));
    assert!(b.find("store-picker").is_none(), "one store: no picker");
    assert!(
        !b.page_text().contains("Other apps"),
        "no Apps for managers"
    );
    for path in [
        format!("/stores/{store_a}/overview"),
        format!("/stores/{store_a}/overview?from=2026-01-01&to=2026-01-31"),
    ] {
        b.open(&path);
        b.wait_for("error-message");
        assert!(b.page_text().contains("404"), "{}", b.page_text());
    }
    b.shots("not-found", "en");
    // The error page has no language switch: switch on the manager's own store, then look.
    b.open(&format!("/stores/{store2}/overview"));
    b.switch_lang("id");
    b.open(&format!("/stores/{store_a}/overview"));
    b.wait_for("error-message");
    b.assert_no_english("not found", &ENGLISH);
    b.shots("not-found", "id");
    let manager = Api::sign_in(&base, "manajer@tokoa.example", "manajer-rahasia");
    let report =
        format!("/api/v1/stores/{store_a}/reports/sales-by-day?from=2026-01-01&to=2026-01-31");
    assert_eq!(manager.get(&report).0, 404, "the API agrees");

    b.open("/signin");
    b.clear_cookies();
    b.sign_in("pemilik@tokob.example", PASSWORD);
    b.open(&format!("/stores/{store_a}/overview"));
    b.wait_for("error-message");
    let other_owner = Api::sign_in(&base, "pemilik@tokob.example", PASSWORD);
    assert_eq!(
        other_owner.get(&report).0,
        404,
        "another tenant's owner: nothing"
    );
}

#[test]
fn expired_sessions_go_to_signin_and_tls_cookies_are_secure() {
    let dir = tempfile::tempdir().unwrap();
    // Access tokens live one second and refresh tokens three.
    let server = server(
        dir.path(),
        Some("access_token_ttl_secs = 1\nrefresh_token_ttl_secs = 3\n"),
        true,
    );
    assert_eq!(server.scheme, "https");
    let base = server.url();
    let made = server.admin(&create_tenant_args("Toko TLS", "TLS", "Toko TLS", OWNER));
    let store = made["store_id"].as_str().unwrap().to_string();
    let mut b = Browser::start("expiry_tls", &base);
    b.sign_in(OWNER, PASSWORD);
    let session = b
        .cookies()
        .into_iter()
        .find(|c| c.name() == "sk_session")
        .expect("cookie");
    assert_eq!(session.secure(), Some(true), "Secure under TLS");
    assert_eq!(session.http_only(), Some(true));
    // After the access token's second, the refresh token renews it without a word.
    std::thread::sleep(Duration::from_millis(1500));
    b.open(&format!("/stores/{store}/overview"));
    b.wait_for("value-sales");
    // After the refresh token's life, the browser lands on /signin with the reason.
    std::thread::sleep(Duration::from_millis(4000));
    b.open(&format!("/stores/{store}/overview"));
    b.wait_for("signin-notice");
    assert!(b.path().contains("why=expired"), "{}", b.path());
    assert!(
        b.text("signin-notice").contains("expired"),
        "{}",
        b.text("signin-notice")
    );
    b.shots("expired", "en");
}
