//! Attacks: the server's half of LAN security (docs/security.md, "Roster, revocation and PIN
//! hashes"). The real `sync-server` binary on its embedded SQLite store, real tills (pos-core in
//! process, enrolled and syncing over the real WebSocket endpoint):
//!
//! - a till writes a forged roster (signed by a key of its own, trusting a key of its own) or a
//!   replayed older roster (genuinely signed, still trusting a revoked till) into the store root
//!   that every till syncs: neither verifies as the store's current roster, the server's roster
//!   is unchanged and the server writes its own back into the root;
//! - a revoked till's credential fetches neither `LanInfo` nor the rotated store key, and the
//!   store key the other tills now hold is not the one it kept;
//! - the users document on the server holds no PIN hash that verifies without the store's PIN
//!   pepper (every PHC string is keyed and names its key with `keyid=`).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use pos_core::Terminal;
use pos_core::enrolment::enrol;
use pos_core::shared_model::documents::{self, StoreRootDoc, UsersDoc};
use pos_core::shared_model::lan_roster::{
    LanInfo, LanRoster, RosterTill, SignedLanRoster, public_key_hex,
};
use pos_core::shared_model::users::{is_peppered, verify_pin};
use pos_core::sync::client::{SyncClient, SyncConfig};
use serde_json::{Value, json};
use snapkasir_tests::processes::{ServerProcess, api_token, create_tenant_args, http_client};

type Till = Arc<Mutex<Terminal>>;

fn lock(t: &Till) -> std::sync::MutexGuard<'_, Terminal> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

/// A server on its own SQLite data dir, a tenant with one store, the owner's API token.
struct Shop {
    _dir: tempfile::TempDir,
    dir: std::path::PathBuf,
    server: ServerProcess,
    store_id: String,
    owner: String,
    http: reqwest::Client,
}

impl Shop {
    async fn open(code: &str) -> Shop {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().to_path_buf();
        let data = path.join("server-data");
        std::fs::create_dir_all(&data).unwrap();
        let server = ServerProcess::start_with(
            &["--data-dir".into(), data.display().to_string()],
            &[],
            "127.0.0.1:0",
            &path.join("server.log"),
        );
        let email = format!("owner@{}.test", code.to_lowercase());
        let made = server.admin(&create_tenant_args("Toko", code, "Toko LAN", &email));
        let http = http_client();
        let owner = api_token(&http, &server.url(), &email, "rahasia-panjang-1").await;
        Shop {
            _dir: dir,
            dir: path,
            store_id: made["store_id"].as_str().unwrap().to_string(),
            server,
            owner,
            http,
        }
    }

    fn code(&self, name: &str) -> String {
        self.server.enrollment_code(&self.store_id, name)
    }

    /// A till enrolled by pos-core's client and syncing (the first one creates the documents
    /// with the demo catalog and users).
    async fn till(&self, name: &str, first: bool) -> (Till, SyncClient) {
        let t: Till = Arc::new(Mutex::new(
            Terminal::open(self.dir.join(format!("{name}.db"))).expect("open till"),
        ));
        enrol(&t, &self.server.url(), &self.code(name), first)
            .await
            .expect("enrol");
        let (enrolment, credential) = lock(&t).enrolment().unwrap().expect("enrolled");
        let mut config = SyncConfig::new(&enrolment.server_url, credential);
        config.poll_interval = Duration::from_millis(50);
        config.max_backoff = Duration::from_millis(500);
        config.resync_interval = Duration::from_secs(1);
        let sync = SyncClient::start(t.clone(), config);
        (t, sync)
    }

    /// Waits until the server holds the store's documents (the staff API answers 409 until the
    /// first till's store root reached it), so that a till enrolled next joins them.
    async fn wait_for_store_documents(&self) {
        let url = format!(
            "{}/api/v1/stores/{}/staff",
            self.server.url(),
            self.store_id
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let resp = self
                .http
                .get(&url)
                .bearer_auth(&self.owner)
                .send()
                .await
                .unwrap();
            if resp.status().as_u16() == 200 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the store's documents never reached the server"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A till enrolled over plain HTTP with a LAN key (no documents): its enrolment reply.
    async fn enrol_with_key(&self, name: &str, lan_key: &str) -> Value {
        self.http
            .post(format!("{}/api/v1/terminals/enroll", self.server.url()))
            .json(&json!({"code": self.code(name), "lan_key": lan_key}))
            .send()
            .await
            .expect("enrol")
            .json()
            .await
            .expect("enrolment json")
    }

    /// `GET /api/v1/terminal/lan` with a device credential: status and body.
    async fn lan_info(&self, credential: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}/api/v1/terminal/lan", self.server.url()))
            .bearer_auth(credential)
            .send()
            .await
            .expect("lan info");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn lan(&self, credential: &str) -> LanInfo {
        let (status, v) = self.lan_info(credential).await;
        assert_eq!(status, 200, "{v}");
        serde_json::from_value(v).expect("LanInfo")
    }

    async fn revoke(&self, terminal_id: &str) {
        let resp = self
            .http
            .post(format!(
                "{}/api/v1/terminals/{terminal_id}/revoke",
                self.server.url()
            ))
            .bearer_auth(&self.owner)
            .send()
            .await
            .expect("revoke");
        assert_eq!(resp.status().as_u16(), 204);
    }
}

fn credential(t: &Till) -> String {
    lock(t).enrolment().unwrap().expect("enrolled").1.0
}

fn root_doc(t: &Till) -> (String, StoreRootDoc) {
    let mut t = lock(t);
    let id = t.identity().unwrap().root_doc.clone();
    let bytes = t.export_document(&id).unwrap();
    let doc = documents::load_bytes(&bytes).unwrap();
    (id, documents::read(&doc).unwrap())
}

/// The till writes `roster` into its store root (it then syncs it like any change).
fn write_roster(t: &Till, roster: SignedLanRoster) {
    let (id, _) = root_doc(t);
    let bytes = lock(t).export_document(&id).unwrap();
    let mut doc = documents::load_bytes(&bytes).unwrap();
    let mut root: StoreRootDoc = documents::read(&doc).unwrap();
    root.lan_roster = Some(roster);
    documents::write(&mut doc, &root).unwrap();
    lock(t).merge_document(&id, &doc.save()).unwrap();
}

/// Waits (bounded) until `f` holds.
async fn eventually<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The roster in the till's store root once it verifies with `key` at `version` or above.
async fn genuine_roster_in_root(t: &Till, key: &str, version: u64, what: &str) -> LanRoster {
    eventually(what, 20, || {
        root_doc(t)
            .1
            .lan_roster
            .and_then(|r| r.verify(key).ok())
            .filter(|r| r.version >= version)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_server_forged_and_replayed_rosters_in_the_store_root_are_not_trusted() {
    let shop = Shop::open("RST").await;
    let (attacker, _sync_a) = shop.till("Kasir 1", true).await;
    shop.wait_for_store_documents().await;
    let (honest, _sync_b) = shop.till("Kasir 2", false).await;
    // A third till with a LAN key, soon revoked.
    let stolen = SigningKey::from_bytes(&[7; 32]);
    let t3 = shop
        .enrol_with_key("Kasir 3", &public_key_hex(&stolen))
        .await;
    let old_roster: SignedLanRoster = serde_json::from_value(t3["lan_roster"].clone()).unwrap();
    shop.revoke(t3["terminal_id"].as_str().unwrap()).await;

    let info = shop.lan(&credential(&honest)).await;
    let key = info.store_signing_key.clone();
    let current = info.roster.verify(&key).unwrap();
    assert!(current.till("T3").unwrap().revoked);
    let held = genuine_roster_in_root(
        &honest,
        &key,
        current.version,
        "the roster reaches the till",
    )
    .await;
    assert_eq!(held.version, current.version);

    // 1. A forged roster: signed by the attacker's key, a high version, trusting its own key
    //    and the revoked till again.
    let mine = SigningKey::from_bytes(&[9; 32]);
    let mut forged = current.clone();
    forged.version = current.version + 1_000;
    for t in &mut forged.tills {
        t.revoked = false;
    }
    forged.tills.push(RosterTill {
        terminal_id: "intruder".into(),
        terminal_code: "T9".into(),
        lan_key: public_key_hex(&mine),
        revoked: false,
    });
    let forged = SignedLanRoster::sign(&forged, &mine);
    write_roster(&attacker, forged.clone());
    assert!(forged.verify(&key).is_err(), "not signed by the store");
    assert!(
        forged
            .verify_newer(&key, &shop.store_id, held.version)
            .is_err()
    );
    assert_eq!(root_doc(&attacker).1.lan_roster, Some(forged), "written");
    // The server puts the store's roster back: it reaches the attacker's own root and the
    // honest till's, and nothing changed on the server.
    for t in [&attacker, &honest] {
        let restored =
            genuine_roster_in_root(t, &key, current.version, "the store's roster back").await;
        assert_eq!(restored.version, current.version);
        assert!(!restored.trusts("T9", &public_key_hex(&mine)));
        assert!(restored.till("T3").unwrap().revoked);
    }
    let after = shop.lan(&credential(&honest)).await;
    assert_eq!(after.roster.verify(&key).unwrap().version, current.version);
    assert_eq!(after.store_key, info.store_key);

    // 2. A replayed older roster: genuinely signed, from before the revocation, so it still
    //    trusts the stolen till.
    let replayed = old_roster.verify(&key).expect("a genuine old roster");
    assert!(replayed.trusts("T3", &public_key_hex(&stolen)));
    write_roster(&attacker, old_roster.clone());
    assert!(
        old_roster
            .verify_newer(&key, &shop.store_id, current.version)
            .is_err(),
        "a till holding the current roster refuses the older one"
    );
    assert_eq!(
        root_doc(&attacker).1.lan_roster,
        Some(old_roster),
        "written"
    );
    for t in [&attacker, &honest] {
        let restored =
            genuine_roster_in_root(t, &key, current.version, "the current roster back").await;
        assert!(!restored.trusts("T3", &public_key_hex(&stolen)));
    }
    let after = shop.lan(&credential(&honest)).await;
    assert_eq!(after.roster.verify(&key).unwrap().version, current.version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_server_revoked_till_cannot_fetch_lan_info_or_the_new_store_key() {
    let shop = Shop::open("RVK").await;
    let t1 = shop
        .enrol_with_key(
            "Kasir 1",
            &public_key_hex(&SigningKey::from_bytes(&[1; 32])),
        )
        .await;
    let stolen_key = public_key_hex(&SigningKey::from_bytes(&[2; 32]));
    let t2 = shop.enrol_with_key("Kasir 2", &stolen_key).await;
    let cred1 = t1["device_credential"].as_str().unwrap();
    let cred2 = t2["device_credential"].as_str().unwrap();
    let kept_store_key = t2["store_key"].as_str().unwrap().to_string();
    assert_eq!(shop.lan(cred2).await.store_key, kept_store_key);

    shop.revoke(t2["terminal_id"].as_str().unwrap()).await;

    // The stolen till asks for the LAN information, and for a new key to be trusted.
    let (status, body) = shop.lan_info(cred2).await;
    assert_eq!(status, 401, "{body}");
    assert!(!body.to_string().contains("store_key\""), "{body}");
    let put = shop
        .http
        .put(format!("{}/api/v1/terminal/lan-key", shop.server.url()))
        .bearer_auth(cred2)
        .json(&json!({"lan_key": public_key_hex(&SigningKey::from_bytes(&[3; 32]))}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 401);

    // The other tills hold a new store key the stolen till never saw, and a roster that
    // refuses it.
    let now = shop.lan(cred1).await;
    assert_ne!(now.store_key, kept_store_key, "the store key was rotated");
    assert_eq!(now.store_key_version, 2);
    let roster = now.roster.verify(&now.store_signing_key).unwrap();
    assert_eq!(roster.store_key_version, 2);
    assert!(roster.till("T2").unwrap().revoked);
    assert!(!roster.trusts("T2", &stolen_key));
    // Its failed requests changed nothing.
    assert_eq!(
        shop.lan(cred1)
            .await
            .roster
            .verify(&now.store_signing_key)
            .unwrap()
            .version,
        roster.version
    );
}

/// Opens the server's SQLite store beside it and reads a document as the server holds it.
async fn server_document(data_dir: &Path, doc_id: &str) -> Option<UsersDoc> {
    use sync_server::storage::{DynStorage, SqliteStorage};
    let storage: DynStorage = Arc::new(SqliteStorage::open(data_dir).await.ok()?);
    let claim = storage.doc_claim(doc_id).await.ok()??;
    let doc = sync_server::projection::load_document(&storage, &claim.tenant_id, doc_id)
        .await
        .ok()??;
    documents::read(&doc).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_server_users_document_holds_no_pin_hash_crackable_without_the_pepper() {
    let shop = Shop::open("PIN").await;
    // The first till makes the users document with the demo cashier (PIN 1234) and supervisor
    // (PIN 9999); the owner adds a cashier through the server's staff API (PIN 2468).
    let (till, _sync) = shop.till("Kasir 1", true).await;
    let users_doc = lock(&till).identity().unwrap().users_doc.clone();
    let staff_url = format!(
        "{}/api/v1/stores/{}/staff",
        shop.server.url(),
        shop.store_id
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let resp = loop {
        let resp = shop
            .http
            .post(&staff_url)
            .bearer_auth(&shop.owner)
            .json(&json!({"name": "Wati", "role": "cashier", "pin": "2468"}))
            .send()
            .await
            .unwrap();
        if resp.status().as_u16() != 409 || Instant::now() > deadline {
            break resp;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(resp.status().as_u16(), 201);

    let data = shop.dir.join("server-data");
    let mut users = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(u) = server_document(&data, &users_doc).await
            && u.users.len() >= 3
        {
            users = Some(u);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let users = users.expect("the server holds the users document with three users");
    let pepper = pos_core::shared_model::users::PinPepper::from_hex(
        &shop.lan(&credential(&till)).await.pin_pepper,
    )
    .unwrap();
    for (name, pin) in [("Sari", "1234"), ("Wati", "2468")] {
        let user = users
            .users
            .values()
            .find(|u| u.name == name)
            .unwrap_or_else(|| panic!("no user {name}"));
        assert!(
            verify_pin(&user.pin_hash, pin, Some(&pepper)),
            "{name}: the till's check"
        );
    }
    for user in users.users.values() {
        assert!(
            is_peppered(&user.pin_hash),
            "{}: the PHC string names no pepper: {}",
            user.name,
            user.pin_hash
                .split('$')
                .take(4)
                .collect::<Vec<_>>()
                .join("$")
        );
        // An offline guesser with the document and without the pepper: no PIN verifies.
        for pin in ["1234", "9999", "2468", "0000"] {
            assert!(!verify_pin(&user.pin_hash, pin, None), "{}", user.name);
        }
    }
    // The pepper is in no document the tills or the server hold.
    let root = root_doc(&till).1;
    assert!(
        !serde_json::to_string(&root)
            .unwrap()
            .contains(&pepper.to_hex())
    );
    assert!(
        !serde_json::to_string(&users)
            .unwrap()
            .contains(&pepper.to_hex())
    );
}
