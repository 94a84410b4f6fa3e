//! The Apps page (`/apps`) in headless Chromium against the real `sync-server` binary
//! (embedded SQLite): an owner makes an app credential (its secret shown once, with a copy
//! button), a sync connection opened with it is listed, revoking it after the confirmation
//! page closes that connection and the server refuses the secret from then on; a bad name changes
//! nothing; a manager gets the 403 page and no Apps link, and another tenant's owner can neither
//! see nor revoke the credential, through the browser and the API. Screenshots at phone and
//! desktop width, in English and Indonesian, under `<target>/test-output/dashboard/apps/`.
//!
//! Needs `cargo build -p sync-server -p snapkasir-tests` and
//! `apt-get install chromium chromium-driver`.

use std::time::Duration;

use serde_json::json;
use snapkasir_tests::api::Api;
use snapkasir_tests::browser::Browser;
use snapkasir_tests::gate::{RawPeer, Refused};
use snapkasir_tests::processes::{ServerProcess, create_tenant_args};

const OWNER: &str = "pemilik@tokoapps.example";
const OTHER_OWNER: &str = "pemilik@lain.example";
const MANAGER: &str = "manajer@tokoapps.example";
const PASSWORD: &str = "rahasia-panjang-1";

/// English words of the Apps page that must not be left on its Indonesian version.
const ENGLISH: [&str; 10] = [
    "Other apps",
    "credential",
    "Make",
    "Revoke",
    "Active",
    "never",
    "Copy",
    "Name",
    "Sign out",
    "Open connections",
];

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn ws_url(base: &str) -> String {
    format!("{}/sync", base.replacen("http", "ws", 1))
}

#[test]
fn owners_make_and_revoke_app_credentials_on_the_apps_page() {
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
    let made = server.admin(&create_tenant_args("Toko Apps", "APPS", "Toko Apps", OWNER));
    let store_id = made["store_id"].as_str().unwrap().to_string();
    server.admin(&create_tenant_args(
        "Toko Lain",
        "LAIN",
        "Toko Lain",
        OTHER_OWNER,
    ));
    let owner = Api::sign_in(&base, OWNER, PASSWORD);
    let (status, _) = owner.json(
        "POST",
        &format!("/api/v1/stores/{store_id}/managers"),
        Some(json!({"email": MANAGER, "password": PASSWORD})),
    );
    assert_eq!(status, 201);

    let mut b = Browser::start("apps", &base);
    b.sign_in(OWNER, PASSWORD);
    b.switch_lang("en");
    b.open("/apps");
    b.wait_for("apps-empty");
    assert!(
        b.find_css(&format!("a[href='/stores/{store_id}/overview']"))
            .is_some(),
        "the store's areas stay in the navigation on the apps page"
    );
    b.shots("apps-empty", "en");

    // A name the server refuses (a control character) changes nothing and says why.
    let csrf = b.csrf_token();
    let (status, body) = b.post_form("/apps", &[("_csrf", &csrf), ("name", "web\u{1}app")]);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("Nothing was made"), "{body}");
    let (_, listed) = owner.json("GET", "/api/v1/apps", None);
    assert_eq!(listed, json!([]));

    // Made: the secret is on this page only, with a copy button.
    b.fill("app-name", "Daftar belanja");
    b.click("app-create");
    b.wait_for("app-made");
    let secret = b
        .execute(
            "return document.querySelector('[data-testid=app-secret]').value",
            vec![],
        )
        .as_str()
        .unwrap()
        .to_string();
    assert!(secret.starts_with("ska_"), "{secret}");
    b.click("app-copy");
    b.poll("the copy button to say it copied", |b| {
        (b.text("app-copy") == "Copied").then_some(())
    });
    b.shots("apps-made", "en");
    b.open("/apps");
    b.wait_for("apps-table");
    let html = b
        .execute("return document.documentElement.outerHTML", vec![])
        .as_str()
        .unwrap()
        .to_string();
    assert!(!html.contains(&secret), "the secret is shown once only");
    assert!(b.text("app-row-name").contains("Daftar belanja"));
    assert!(b.text("app-row-status").contains("Active"));

    // An app syncs with it; the page lists the connection.
    let rt = rt();
    let mut peer = rt
        .block_on(RawPeer::join(&ws_url(&base), &secret, "web-daftar"))
        .expect("the app credential opens a sync connection");
    b.open("/apps");
    let row = b.text("app-row");
    assert!(!row.contains("never"), "{row}");

    // Another tenant's owner neither sees nor revokes it, through the browser and the API.
    let (_, mine) = owner.json("GET", "/api/v1/apps", None);
    let app_id = mine[0]["id"].as_str().unwrap().to_string();
    let other = Api::sign_in(&base, OTHER_OWNER, PASSWORD);
    let (_, theirs) = other.json("GET", "/api/v1/apps", None);
    assert_eq!(theirs, json!([]));
    let (status, _) = other.json("POST", &format!("/api/v1/apps/{app_id}/revoke"), None);
    assert_eq!(status, 404);
    {
        let mut o = Browser::start("apps-other-tenant", &base);
        o.sign_in(OTHER_OWNER, PASSWORD);
        o.open("/apps");
        o.wait_for("apps-empty");
        let csrf = o.csrf_token();
        let (status, _) = o.post_form(&format!("/apps/{app_id}/revoke"), &[("_csrf", &csrf)]);
        assert_eq!(status, 404);
    }
    let (_, still) = owner.json("GET", "/api/v1/apps", None);
    assert!(still[0]["revoked_at"].is_null());

    // Indonesian, then revoked after the confirmation: the app's connection closes.
    b.switch_lang("id");
    b.open("/apps");
    b.wait_for("apps-table");
    let text = b.page_text();
    for w in ENGLISH {
        assert!(
            !text.contains(w),
            "English {w:?} on the Indonesian Apps page:\n{text}"
        );
    }
    b.shots("apps-list", "id");
    b.click("app-revoke");
    b.wait_for("app-revoke-confirm");
    b.shots("apps-revoke-confirm", "id");
    b.click("app-revoke-yes");
    b.wait_for("apps-revoked");
    assert!(b.text("app-row-status").contains("Dicabut"));
    let why = rt
        .block_on(peer.refusal_within(Duration::from_secs(5)))
        .expect("the revoked app's connection is closed");
    assert!(why.contains("revoked"), "{why}");
    match rt.block_on(RawPeer::join(&ws_url(&base), &secret, "web-again")) {
        Err(Refused::Http(401, _)) => {}
        other => panic!("a revoked credential must be refused with 401: {other:?}"),
    }
    b.shots("apps-revoked", "id");
    b.switch_lang("en");
    b.open("/apps");
    b.wait_for("apps-table");
    b.shots("apps-revoked", "en");

    // A manager: no Apps link, the 403 page, and 403 from the API.
    b.clear_cookies();
    b.sign_in(MANAGER, PASSWORD);
    assert!(
        b.find_css("a[href='/apps']").is_none(),
        "managers get no Apps link"
    );
    b.open("/apps");
    b.wait_for_text("403");
    assert!(b.find("apps-table").is_none());
    let manager = Api::sign_in(&base, MANAGER, PASSWORD);
    let (status, _) = manager.json("GET", "/api/v1/apps", None);
    assert_eq!(status, 403);
}
