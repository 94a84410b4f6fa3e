//! The LAN roster and store-key rotation (issue 14), through the real router and sync endpoint
//! on both backends: two tills enrol with LAN keys, the roster they get is signed by the
//! store's key and lists them; a till enrolled without a key sets one later; revoking a till
//! bumps the roster and the store key, its credential stops working, and the server writes the
//! new roster into the store root document the tills sync.

mod common;

use automerge::AutoCommit;
use axum::http::StatusCode;
use common::*;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use shared_model::documents::{
    self, CatalogDoc, ParkedCartsDoc, SettingsDoc, StoreRootDoc, UsersDoc,
};
use shared_model::lan_roster::{LanInfo, SignedLanRoster, public_key_hex};
use shared_model::settings::StoreSettings;
use sync_server::state::AppState;
use sync_server::storage::DynStorage;

/// A till's LAN key pair (deterministic per seed).
fn lan_key(seed: u8) -> String {
    public_key_hex(&SigningKey::from_bytes(&[seed; 32]))
}

async fn enrol(state: &AppState, store_id: &str, name: &str, key: Option<String>) -> Value {
    let code = state
        .services
        .admin_enrollment_code(store_id, name)
        .await
        .unwrap();
    let (st, v) = call(
        state,
        "POST",
        "/api/v1/terminals/enroll",
        None,
        Some(json!({"code": code.code, "lan_key": key})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

async fn lan_info(state: &AppState, credential: &str) -> (StatusCode, Value) {
    call(state, "GET", "/api/v1/terminal/lan", Some(credential), None).await
}

fn info(v: &Value) -> LanInfo {
    serde_json::from_value(v.clone()).unwrap()
}

fn signed(v: &Value) -> SignedLanRoster {
    serde_json::from_value(v.clone()).unwrap()
}

async fn roster_story(storage: DynStorage) {
    let server = TestServer::start(storage.clone()).await;
    let state = &server.state;
    let b = state
        .services
        .bootstrap(
            "Toko",
            "LAN",
            "Toko",
            "owner-lan@example.com",
            "rahasia-123",
        )
        .await
        .unwrap();
    let owner = state
        .services
        .login(
            "owner-lan@example.com",
            "rahasia-123",
            "127.0.0.1".parse().unwrap(),
        )
        .await
        .unwrap()
        .access_token;

    // Two tills enrol with their keys; each reply carries the signed roster.
    let t1 = enrol(state, &b.store_id, "Kasir 1", Some(lan_key(1))).await;
    let t2 = enrol(
        state,
        &b.store_id,
        "Kasir 2",
        Some(lan_key(2).to_uppercase()),
    )
    .await;
    let signing = t2["store_signing_key"].as_str().unwrap().to_string();
    assert_eq!(t1["store_signing_key"], t2["store_signing_key"]);
    assert_eq!(t2["store_key_version"], 1);
    assert_eq!(t2["pin_pepper"].as_str().unwrap().len(), 64);
    let r2 = signed(&t2["lan_roster"]).verify(&signing).unwrap();
    assert_eq!(r2.store_id, b.store_id);
    assert_eq!(r2.store_key_version, 1);
    assert!(r2.trusts("T1", &lan_key(1)) && r2.trusts("T2", &lan_key(2)));
    assert!(!r2.trusts("T2", &lan_key(1)), "keys are per till");
    let r1 = signed(&t1["lan_roster"]).verify(&signing).unwrap();
    assert!(
        r2.version > r1.version,
        "{} then {}",
        r1.version,
        r2.version
    );

    // A third till enrols without a key, then sets one; a bad key is refused and changes nothing.
    let t3 = enrol(state, &b.store_id, "Kasir 3", None).await;
    let cred3 = t3["device_credential"].as_str().unwrap();
    let r3 = signed(&t3["lan_roster"]).verify(&signing).unwrap();
    assert_eq!(r3.till("T3").unwrap().lan_key, "");
    assert!(!r3.trusts("T3", &lan_key(3)));
    for bad in [
        json!({"lan_key": "abcd"}),
        json!({"lan_key": "zz".repeat(32)}),
        json!({}),
    ] {
        let (st, v) = call(
            state,
            "PUT",
            "/api/v1/terminal/lan-key",
            Some(cred3),
            Some(bad),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    }
    let (_, v) = lan_info(state, cred3).await;
    assert_eq!(
        info(&v).roster.verify(&signing).unwrap().version,
        r3.version
    );
    let (st, v) = call(
        state,
        "PUT",
        "/api/v1/terminal/lan-key",
        Some(cred3),
        Some(json!({"lan_key": lan_key(3)})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let r3b = info(&v).roster.verify(&signing).unwrap();
    assert!(r3b.version > r3.version && r3b.trusts("T3", &lan_key(3)));
    // A bad key at enrolment is refused before the code is spent.
    let code = state
        .services
        .admin_enrollment_code(&b.store_id, "Kasir 4")
        .await
        .unwrap();
    let (st, _) = call(
        state,
        "POST",
        "/api/v1/terminals/enroll",
        None,
        Some(json!({"code": code.code, "lan_key": "nope"})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        state
            .services
            .storage
            .enrollment_code(&sync_server::auth::sha256_hex(&code.code.replace('-', "")))
            .await
            .unwrap()
            .is_some_and(|c| c.used_at.is_none()),
        "the code is still unused"
    );

    // LanInfo through the API: the same key and store key as at enrolment.
    let cred1 = t1["device_credential"].as_str().unwrap();
    let cred2 = t2["device_credential"].as_str().unwrap();
    let (st, v) = lan_info(state, cred1).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let before = info(&v);
    assert_eq!(before.store_key, t1["store_key"].as_str().unwrap());
    assert_eq!(before.store_signing_key, signing);
    let secret = storage
        .store_lan(&b.store_id)
        .await
        .unwrap()
        .unwrap()
        .signing_key;
    assert!(
        !v.to_string().contains(&secret),
        "the private signing key is never sent"
    );
    // The owner's token is not a till's.
    let (st, _) = lan_info(state, &owner).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = lan_info(state, "skd_not-a-credential").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // The first till syncs the store's documents; the server writes the roster into the root.
    let (repo, _dialer) = rust_client(&server.ws_url(cred1)).await;
    let store_id = b.store_id.clone();
    let url = |h: &samod::DocHandle| format!("automerge:{}", h.document_id());
    let catalog = create_doc(&repo, &CatalogDoc::new(&store_id)).await;
    let settings = create_doc(
        &repo,
        &SettingsDoc::new(&store_id, StoreSettings::indonesia("Toko", "Jl. 1")),
    )
    .await;
    let users = create_doc(&repo, &UsersDoc::new(&store_id)).await;
    let parked = create_doc(&repo, &ParkedCartsDoc::new(&store_id)).await;
    let root = create_doc(
        &repo,
        &StoreRootDoc::new(
            &store_id,
            "LAN",
            "Toko",
            [url(&catalog), url(&settings), url(&users), url(&parked)],
        ),
    )
    .await;
    let current = before.roster.verify(&signing).unwrap().version;
    let in_root = |root: &samod::DocHandle| {
        root.with_document(|d| {
            let ac = AutoCommit::load(&d.save()).ok()?;
            documents::read::<StoreRootDoc>(&ac).ok()?.lan_roster
        })
        .and_then(|r| r.verify(&signing).ok())
    };
    let published = eventually("the roster in the store root", async || {
        in_root(&root).filter(|r| r.version >= current)
    })
    .await;
    assert!(published.trusts("T1", &lan_key(1)) && published.trusts("T3", &lan_key(3)));

    // Revoking T2: its credential stops working, the roster marks it, the store key rotates.
    let t2_id = t2["terminal_id"].as_str().unwrap();
    let (st, v) = call(
        state,
        "POST",
        &format!("/api/v1/terminals/{t2_id}/revoke"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let (st, _) = lan_info(state, cred2).await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "a revoked till gets no LanInfo"
    );
    let (st, _) = call(
        state,
        "PUT",
        "/api/v1/terminal/lan-key",
        Some(cred2),
        Some(json!({"lan_key": lan_key(9)})),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "nor sets a key");
    let (_, v) = lan_info(state, cred1).await;
    let after = info(&v);
    assert_eq!(after.store_key_version, before.store_key_version + 1);
    assert_ne!(after.store_key, before.store_key, "the store key rotated");
    assert_eq!(after.pin_pepper, before.pin_pepper);
    let roster = after.roster.verify(&signing).unwrap();
    assert!(roster.version > current);
    assert_eq!(roster.store_key_version, after.store_key_version);
    assert!(roster.till("T2").unwrap().revoked);
    assert!(
        !roster.trusts("T2", &lan_key(2)),
        "the revoked till's key is refused"
    );
    assert!(roster.trusts("T1", &lan_key(1)));
    // A till holding the new roster refuses the old one replayed.
    assert!(
        before
            .roster
            .verify_newer(&signing, &store_id, roster.version)
            .is_err()
    );
    // The new roster reaches the store root the tills sync.
    let republished = eventually("the new roster in the store root", async || {
        in_root(&root).filter(|r| r.version >= roster.version)
    })
    .await;
    assert!(republished.till("T2").unwrap().revoked);
    assert_eq!(republished.store_key_version, after.store_key_version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_roster_postgres() {
    let db = TestDb::create().await;
    roster_story(db.storage().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_roster_sqlite() {
    let (s, _dir) = sqlite_storage().await;
    roster_story(s).await;
}
