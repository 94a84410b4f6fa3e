//! The server learns each store's documents and writes some of them (issue 4): the store index
//! projected from store roots, journals and adjustments; the staff API into the users document;
//! journals listed in period indexes; stock baselines. Clients are samod repos over the real
//! WebSocket endpoint, standing in for terminals; both backends.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use automerge::{AutoCommit, ReadDoc};
use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};
use shared_model::codec::{BusinessDate, Timestamp};
use shared_model::documents::{
    self, CatalogDoc, JournalDoc, ParkedCartsDoc, PeriodIndexDoc, SettingsDoc, StockAdjustmentsDoc,
    StockBaselineDoc, StoreRootDoc, UsersDoc,
};
use shared_model::ids::{MovementId, ProductId, UserId};
use shared_model::money::Quantity;
use shared_model::settings::StoreSettings;
use shared_model::stock::{MovementKind, StockCount, StockMovement};
use shared_model::users::{Role, StoreUser};
use sync_server::documents_writer::DocWriter;
use sync_server::state::AppState;
use sync_server::storage::DynStorage;

/// One request through the router as `token`; fails when the answer holds a PIN hash.
async fn call(
    state: &AppState,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, v) = common::call(state, method, path, Some(token), body).await;
    assert!(
        !v.to_string().contains("$argon2"),
        "a PIN hash was answered: {v}"
    );
    (status, v)
}

/// Whether `pin` matches a hash the staff API wrote: keyed with the store's PIN pepper, so it
/// verifies with the pepper and never without.
async fn pin_ok(state: &AppState, store_id: &str, hash: &str, pin: &str) -> bool {
    let pepper = state.services.pin_pepper(store_id).await.unwrap();
    assert!(
        !shared_model::users::verify_pin(hash, pin, None),
        "a PIN hash that verifies without the store's pepper"
    );
    shared_model::users::verify_pin(hash, pin, Some(&pepper))
}

/// What a store's first terminal makes: the root and the documents it links.
struct StoreDocs {
    root: samod::DocHandle,
    users: samod::DocHandle,
    settings: samod::DocHandle,
}

async fn make_store_docs(repo: &samod::Repo, store_id: &str, code: &str) -> StoreDocs {
    let catalog = create_doc(repo, &CatalogDoc::new(store_id)).await;
    let settings = create_doc(
        repo,
        &SettingsDoc::new(store_id, StoreSettings::indonesia("Toko", "Jl. 1")),
    )
    .await;
    let mut u = UsersDoc::new(store_id);
    let manager = StoreUser {
        id: UserId::new(),
        name: "Bu Manajer".into(),
        role: Role::Manager,
        pin_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        active: true,
    };
    u.users.insert(manager.id.to_string(), manager);
    let users = create_doc(repo, &u).await;
    let parked = create_doc(repo, &ParkedCartsDoc::new(store_id)).await;
    let url = |h: &samod::DocHandle| format!("automerge:{}", h.document_id());
    let root = create_doc(
        repo,
        &StoreRootDoc::new(
            store_id,
            code,
            "Toko",
            [url(&catalog), url(&settings), url(&users), url(&parked)],
        ),
    )
    .await;
    StoreDocs {
        root,
        users,
        settings,
    }
}

async fn staff_story(storage: DynStorage) {
    let server = TestServer::start(storage.clone()).await;
    let state = &server.state;
    let a = setup_tenant(state, "Toko A", "SA").await;
    let b = setup_tenant(state, "Toko B", "SB").await;
    let staff = format!("/api/v1/stores/{}/staff", a.store_id);

    // No terminal synced the store yet: a stable 409.
    let (st, v) = call(state, "GET", &staff, &a.owner_token, None).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "store_has_no_terminal");
    let new_cashier = json!({"name": "Siti", "role": "cashier", "pin": "1234"});
    let (st, v) = call(
        state,
        "POST",
        &staff,
        &a.owner_token,
        Some(new_cashier.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "store_has_no_terminal");

    // The first terminal syncs its documents; the server records the store root.
    let (repo, _dialer) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    let docs = make_store_docs(&repo, &a.store_id, "SA").await;
    let root = eventually("store root recorded", async || {
        storage.store_root(&a.store_id).await.unwrap()
    })
    .await;
    assert_eq!(root.root_doc_id, docs.root.document_id().to_string());
    assert_eq!(root.users_doc_id, docs.users.document_id().to_string());
    assert_eq!(
        root.settings_doc_id,
        docs.settings.document_id().to_string()
    );
    assert_eq!(root.latest_baseline_doc_id, None);

    // Another tenant's owner gets what every endpoint answers for a store it cannot see.
    let (st_other, v_other) = call(
        state,
        "GET",
        &format!("/api/v1/stores/{}/terminals", a.store_id),
        &b.owner_token,
        None,
    )
    .await;
    assert_eq!(st_other, StatusCode::NOT_FOUND);
    for (method, path, body) in [
        ("GET", staff.clone(), None),
        ("POST", staff.clone(), Some(new_cashier.clone())),
        (
            "PATCH",
            format!("{staff}/{}", UserId::new()),
            Some(json!({"name": "X"})),
        ),
    ] {
        let (st, v) = call(state, method, &path, &b.owner_token, body).await;
        assert_eq!((st, &v), (st_other, &v_other), "{method} {path}");
    }

    // Add a cashier: answered without PIN or hash, received by the terminal with a hash that
    // verifies the PIN.
    let (st, listed) = call(state, "GET", &staff, &a.owner_token, None).await;
    assert_eq!(st, StatusCode::OK, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["role"], "manager");
    let (st, siti) = call(state, "POST", &staff, &a.owner_token, Some(new_cashier)).await;
    assert_eq!(st, StatusCode::CREATED, "{siti}");
    let mut keys: Vec<_> = siti.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["active", "id", "name", "role"]);
    assert_eq!(siti["role"], "cashier");
    let id = siti["id"].as_str().unwrap().to_string();
    let received = eventually("terminal receives the cashier", async || {
        read_doc::<UsersDoc>(&docs.users)?.users.get(&id).cloned()
    })
    .await;
    assert_eq!(received.name, "Siti");
    assert!(received.active);
    assert!(pin_ok(state, &a.store_id, &received.pin_hash, "1234").await);
    assert!(!pin_ok(state, &a.store_id, &received.pin_hash, "4321").await);

    // Bad input changes nothing.
    for body in [
        json!({"name": "Budi", "role": "cashier", "pin": "12a4"}),
        json!({"name": "Budi", "role": "cashier", "pin": "123"}),
        json!({"name": "Budi", "role": "manager", "pin": "1234"}),
        json!({"name": " ", "role": "cashier", "pin": "1234"}),
        json!({"name": "Budi", "role": "owner", "pin": "1234"}),
        json!({"name": "Budi", "role": "cashier", "pin": 97531}),
    ] {
        let (st, v) = call(state, "POST", &staff, &a.owner_token, Some(body.clone())).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        // A rejection never repeats what was sent (it could be a PIN).
        assert!(!v.to_string().contains("97531"), "{v}");
    }

    // Rename, promote, new PIN, deactivate.
    let (st, v) = call(
        state,
        "PATCH",
        &format!("{staff}/{id}"),
        &a.owner_token,
        Some(json!({"name": "Siti A.", "role": "supervisor", "pin": "5678", "active": false})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"id": id, "name": "Siti A.", "role": "supervisor", "active": false})
    );
    let changed = eventually("terminal receives the change", async || {
        read_doc::<UsersDoc>(&docs.users)?
            .users
            .get(&id)
            .filter(|u| !u.active)
            .cloned()
    })
    .await;
    assert_eq!(changed.role, Role::Supervisor);
    assert!(pin_ok(state, &a.store_id, &changed.pin_hash, "5678").await);
    assert!(!pin_ok(state, &a.store_id, &changed.pin_hash, "1234").await);

    // Managers made on a terminal are not managed here; unknown users are 404.
    let manager_id = listed[0]["id"].as_str().unwrap();
    let (st, _) = call(
        state,
        "PATCH",
        &format!("{staff}/{manager_id}"),
        &a.owner_token,
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = call(
        state,
        "PATCH",
        &format!("{staff}/{}", UserId::new()),
        &a.owner_token,
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let (st, listed) = call(state, "GET", &staff, &a.owner_token, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // The OpenAPI document lists the staff endpoints.
    let (_, api) = call(state, "GET", "/api/v1/openapi.json", &a.owner_token, None).await;
    assert!(api["paths"]["/api/v1/stores/{store_id}/staff"]["post"].is_object());
    assert!(api["paths"]["/api/v1/stores/{store_id}/staff/{user_id}"]["patch"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_api_postgres() {
    let db = TestDb::create().await;
    staff_story(db.storage().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_api_sqlite() {
    let (s, _dir) = sqlite_storage().await;
    staff_story(s).await;
}

fn movement(product: ProductId, kind: MovementKind, q: i64) -> StockMovement {
    StockMovement::manual(
        product,
        kind,
        Quantity::from_i64(q),
        None,
        UserId::new(),
        Timestamp::now(),
    )
    .unwrap()
}

async fn index_and_baseline_story(storage: DynStorage) {
    let server = TestServer::start(storage.clone()).await;
    let state = &server.state;
    let a = setup_tenant(state, "Toko A", "PA").await;
    let (repo, _dialer) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    let docs = make_store_docs(&repo, &a.store_id, "PA").await;

    // A journal written by a client that never touches the period index.
    let date: BusinessDate = "2026-10-30".parse().unwrap();
    let (p1, p2) = (ProductId::new(), ProductId::new());
    let mut j = JournalDoc::new(&a.store_id, "T9", date);
    let m = movement(p1, MovementKind::Adjustment, -2);
    j.stock_movements.insert(m.id.to_string(), m);
    let journal = create_doc(&repo, &j).await;
    let mut adj = StockAdjustmentsDoc::new(&a.store_id, "2026-10");
    for m in [
        movement(p1, MovementKind::Receipt, 10),
        movement(p2, MovementKind::Receipt, 5),
    ] {
        adj.movements.insert(m.id.to_string(), m);
    }
    let count = StockCount {
        id: MovementId::new(),
        product_id: p2,
        counted: Quantity::from_i64(4),
        seen_on_hand: Quantity::from_i64(5),
        seen_heads: vec![],
        at: Timestamp::now(),
        by: UserId::new(),
    };
    adj.counts.insert(count.id.to_string(), count);
    let adjustments = create_doc(&repo, &adj).await;

    // The server lists it in the month's period index (created from the shared genesis and
    // claimed for the store), and a till finds it there.
    let index_id = documents::period_index_id(&a.store_id, "2026-10");
    let journal_url = format!("automerge:{}", journal.document_id());
    eventually("journal listed in the period index", async || {
        let doc = sync_server::projection::load_document(&storage, &a.tenant_id, &index_id)
            .await
            .unwrap()?;
        let index: PeriodIndexDoc = documents::read(&doc).ok()?;
        (index.journals.get("T9/2026-10-30")?.url == journal_url).then_some(())
    })
    .await;
    let claim = storage.doc_claim(&index_id).await.unwrap().unwrap();
    assert_eq!(claim.store_id.as_deref(), Some(a.store_id.as_str()));
    let index = repo
        .find(index_id.parse().unwrap())
        .await
        .unwrap()
        .expect("the till finds the index");
    wait_doc(&index, "the till receives the listing", |d| {
        let ac = AutoCommit::load(&d.save()).unwrap();
        documents::read::<PeriodIndexDoc>(&ac)
            .is_ok_and(|i| i.journals.contains_key("T9/2026-10-30"))
    })
    .await;
    // Its genesis is the one tills make: a till's own copy merges with the server's.
    let mut genesis = documents::period_index_genesis(&a.store_id, "2026-10").unwrap();
    let first = genesis.get_heads();
    assert!(index.with_document(|d| d.get_change_by_hash(&first[0]).is_some()));
    // Idempotent: nothing is written again.
    let writer = DocWriter::new(state);
    let heads = index.with_document(|d| d.get_heads());
    assert_eq!(
        sync_server::period_index::index_pending(&writer, &storage)
            .await
            .unwrap(),
        0
    );
    assert!(storage.unindexed_journals(10).await.unwrap().is_empty());
    assert_eq!(index.with_document(|d| d.get_heads()), heads);

    // Stock baseline of the closed day: every journal up to it and every adjustments document
    // at their heads; on hand is the sum of their movements (the count's delta included).
    eventually("journal and adjustments recorded", async || {
        let j = storage.store_journals(&a.store_id).await.unwrap();
        let adj = storage.store_adjustments(&a.store_id).await.unwrap();
        (j.len() == 1 && adj.len() == 1).then_some(())
    })
    .await;
    let not_yet = sync_server::baselines::write_due(
        &writer,
        &storage,
        None,
        Timestamp("2026-10-30T12:00:00Z".parse().unwrap()),
    )
    .await
    .unwrap();
    assert!(not_yet.is_empty(), "the day is not closed yet: {not_yet:?}");
    let now = Timestamp("2026-11-02T12:00:00Z".parse().unwrap());
    let written = sync_server::baselines::write_due(&writer, &storage, None, now)
        .await
        .unwrap();
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(written[0].business_date, "2026-10-30");
    let baseline_id = written[0].doc_id.clone();
    let root = wait_root_link(&docs.root).await;
    assert_eq!(root, format!("automerge:{baseline_id}"));
    let b = repo
        .find(baseline_id.parse().unwrap())
        .await
        .unwrap()
        .expect("the till finds the baseline");
    let baseline: StockBaselineDoc = read_doc(&b).unwrap();
    let expected: HashMap<String, Quantity> = [
        (p1.to_string(), Quantity::from_i64(8)),
        (p2.to_string(), Quantity::from_i64(4)),
    ]
    .into();
    assert_eq!(baseline.on_hand, expected);
    let mut included: Vec<_> = baseline.included.iter().map(|i| i.url.clone()).collect();
    included.sort();
    let mut want = vec![
        journal_url.clone(),
        format!("automerge:{}", adjustments.document_id()),
    ];
    want.sort();
    assert_eq!(included, want);
    let jheads: Vec<String> = journal
        .with_document(|d| d.get_heads())
        .iter()
        .map(|h| h.to_string())
        .collect();
    assert!(
        baseline
            .included
            .iter()
            .any(|i| i.url == journal_url && i.heads == jheads)
    );
    let claim = storage.doc_claim(&baseline_id).await.unwrap().unwrap();
    assert_eq!(claim.store_id.as_deref(), Some(a.store_id.as_str()));
    // The server's own stock report agrees.
    let report = state
        .services
        .stock_on_hand(&a.owner, &a.store_id)
        .await
        .unwrap();
    for r in report {
        assert_eq!(
            Some(&r.quantity.parse::<Quantity>().unwrap()),
            expected.get(&r.product_id)
        );
    }

    // Once per store and date.
    assert!(
        sync_server::baselines::write_due(&writer, &storage, None, now)
            .await
            .unwrap()
            .is_empty()
    );
    let rows = storage.stock_baselines(&a.store_id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].doc_id.as_deref(), Some(baseline_id.as_str()));
}

async fn wait_root_link(root: &samod::DocHandle) -> String {
    eventually("the store root links the baseline", async || {
        read_doc::<StoreRootDoc>(root)?.latest_baseline
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn period_index_and_baseline_postgres() {
    let db = TestDb::create().await;
    index_and_baseline_story(db.storage().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn period_index_and_baseline_sqlite() {
    let (s, _dir) = sqlite_storage().await;
    index_and_baseline_story(s).await;
}

/// Two instances on one PostgreSQL: one baseline per store and date, whoever runs first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_write_one_baseline() {
    let db = TestDb::create().await;
    let s1 = db.storage().await;
    let s2 = db.storage().await;
    let one = TestServer::start_clustered(s1.clone()).await;
    let two = TestServer::start_clustered(s2.clone()).await;
    let a = setup_tenant(&one.state, "Toko A", "DA").await;
    let (repo, _dialer) = rust_client(&one.ws_url(&a.t1.device_credential)).await;
    let _docs = make_store_docs(&repo, &a.store_id, "DA").await;
    let mut j = JournalDoc::new(&a.store_id, "T1", "2026-10-30".parse().unwrap());
    let m = movement(ProductId::new(), MovementKind::Adjustment, -1);
    j.stock_movements.insert(m.id.to_string(), m);
    create_doc(&repo, &j).await;
    eventually("root and journal recorded", async || {
        (!s1.store_journals(&a.store_id).await.unwrap().is_empty()
            && s1.store_root(&a.store_id).await.unwrap().is_some())
        .then_some(())
    })
    .await;
    let now = Timestamp("2026-11-02T12:00:00Z".parse().unwrap());
    let (w1, w2) = (DocWriter::new(&one.state), DocWriter::new(&two.state));
    let (r1, r2) = tokio::join!(
        sync_server::baselines::write_due(&w1, &s1, Some(&a.store_id), now),
        sync_server::baselines::write_due(&w2, &s2, Some(&a.store_id), now),
    );
    let total = r1.unwrap().len() + r2.unwrap().len();
    assert_eq!(total, 1);
    assert_eq!(s1.stock_baselines(&a.store_id).await.unwrap().len(), 1);
}

/// The store-document tables behave the same on both backends.
async fn store_docs_storage_story(s: DynStorage) {
    use sync_server::storage::{StoreAdjustmentsRow, StoreJournalRow, StoreRootRow};
    common::tenant_and_store(&s, "t1", "s1").await;
    let root = |id: &str, baseline: Option<&str>| StoreRootRow {
        store_id: "s1".into(),
        root_doc_id: id.into(),
        catalog_doc_id: "c".into(),
        settings_doc_id: "st".into(),
        users_doc_id: "u".into(),
        parked_carts_doc_id: "p".into(),
        latest_baseline_doc_id: baseline.map(str::to_string),
        updated_at: 1,
    };
    assert_eq!(
        s.upsert_store_root(&root("r1", None)).await.unwrap(),
        root("r1", None)
    );
    // A second root for the store does not replace the first; the first one's links update.
    assert_eq!(
        s.upsert_store_root(&root("r2", Some("b"))).await.unwrap(),
        root("r1", None)
    );
    assert_eq!(
        s.upsert_store_root(&root("r1", Some("b"))).await.unwrap(),
        root("r1", Some("b"))
    );
    assert_eq!(s.store_roots().await.unwrap().len(), 1);
    assert_eq!(s.store_root("s2").await.unwrap(), None);

    let j = StoreJournalRow {
        doc_id: "j1".into(),
        store_id: "s1".into(),
        terminal_code: "T1".into(),
        business_date: "2026-11-01".into(),
        indexed_at: None,
    };
    s.insert_store_journal(&j).await.unwrap();
    s.insert_store_journal(&j).await.unwrap();
    assert_eq!(s.store_journals("s1").await.unwrap(), vec![j.clone()]);
    assert_eq!(s.unindexed_journals(10).await.unwrap(), vec![j.clone()]);
    s.mark_journals_indexed(&["j1".into()], 7).await.unwrap();
    assert!(s.unindexed_journals(10).await.unwrap().is_empty());
    // Recording it again (a reprojection) keeps it indexed.
    s.insert_store_journal(&j).await.unwrap();
    assert_eq!(s.store_journals("s1").await.unwrap()[0].indexed_at, Some(7));

    let a = StoreAdjustmentsRow {
        doc_id: "a1".into(),
        store_id: "s1".into(),
        period: "2026-11".into(),
    };
    s.insert_store_adjustments(&a).await.unwrap();
    s.insert_store_adjustments(&a).await.unwrap();
    assert_eq!(s.store_adjustments("s1").await.unwrap(), vec![a]);

    // One writer per store and date; a writer that never finished is replaced once stale.
    let d = "2026-11-01";
    assert!(
        s.elect_baseline_writer("s1", d, "i1", 100, 0)
            .await
            .unwrap()
    );
    assert!(
        !s.elect_baseline_writer("s1", d, "i2", 101, 50)
            .await
            .unwrap()
    );
    assert!(
        s.elect_baseline_writer("s1", d, "i2", 200, 150)
            .await
            .unwrap()
    );
    s.finish_baseline("s1", d, "b1", 201).await.unwrap();
    assert!(
        !s.elect_baseline_writer("s1", d, "i3", 10_000, 9_000)
            .await
            .unwrap()
    );
    let rows = s.stock_baselines("s1").await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].claimed_by.as_str(), rows[0].doc_id.as_deref()),
        ("i2", Some("b1"))
    );
}

#[tokio::test]
async fn store_docs_storage_postgres() {
    let db = TestDb::create().await;
    store_docs_storage_story(db.storage().await).await;
}

#[tokio::test]
async fn store_docs_storage_sqlite() {
    let (s, _dir) = sqlite_storage().await;
    store_docs_storage_story(s).await;
}

/// A storage failure while the server changes a document is an error for the caller (500
/// `internal`), not a success that was never stored; once storage is back the change is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_failure_while_writing_is_an_error() {
    let (storage, dir) = sqlite_storage().await;
    let server = TestServer::start(storage.clone()).await;
    let state = &server.state;
    let a = setup_tenant(state, "Toko A", "FA").await;
    let (repo, _dialer) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    let docs = make_store_docs(&repo, &a.store_id, "FA").await;
    eventually("store root recorded", async || {
        storage.store_root(&a.store_id).await.unwrap()
    })
    .await;
    // Another connection to the same file takes the chunk table away.
    chunk_table(dir.path(), true).await;
    let staff = format!("/api/v1/stores/{}/staff", a.store_id);
    let body = json!({"name": "Siti", "role": "cashier", "pin": "1234"});
    let (st, v) = call(state, "POST", &staff, &a.owner_token, Some(body)).await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{v}");
    assert_eq!(v["code"], "internal");
    // Meanwhile the batched put kept failing: readiness says so, and the till's connection,
    // which touched the users document, was closed ("server storage unavailable").
    use std::sync::atomic::Ordering::Relaxed;
    eventually("the failing put closes the till's connection", async || {
        let closed = state.sync.metrics.frames_rejected.load(Relaxed) >= 1;
        let failing = !state.sync.health.healthy();
        let attempts = state.sync.health.errors_total.load(Relaxed) >= 3;
        (closed && failing && attempts).then_some(())
    })
    .await;
    chunk_table(dir.path(), false).await;
    // samod's write was retried, not dropped: the cashier reaches storage and the till.
    let users_id = docs.users.document_id().to_string();
    eventually("the change reaches storage once it is back", async || {
        let doc = sync_server::projection::load_document(&storage, &a.tenant_id, &users_id)
            .await
            .ok()??;
        let users: UsersDoc = documents::read(&doc).ok()?;
        users.users.values().any(|u| u.name == "Siti").then_some(())
    })
    .await;
    eventually("storage healthy again", async || {
        state.sync.health.healthy().then_some(())
    })
    .await;
}

/// A tenant whose repo cannot load (storage down while its first till connects) holds up no
/// other tenant: a till of a tenant whose repo is open still joins, and the stuck tenant joins
/// once storage is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_whose_repo_cannot_load_holds_up_no_other_tenant() {
    let (storage, dir) = sqlite_storage().await;
    let server = TestServer::start(storage.clone()).await;
    let a = setup_tenant(&server.state, "Toko A", "LA").await;
    let b = setup_tenant(&server.state, "Toko B", "LB").await;
    let _a1 = RawClient::connect(&server.ws_url(&a.t1.device_credential), "a-till-1").await;
    chunk_table(dir.path(), true).await;
    let b_url = server.ws_url(&b.t1.device_credential);
    let stuck = tokio::spawn(async move { RawClient::connect(&b_url, "b-till-1").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!stuck.is_finished(), "tenant B's repo cannot load yet");
    let a2 = tokio::time::timeout(
        Duration::from_secs(5),
        RawClient::connect(&server.ws_url(&a.t2.device_credential), "a-till-2"),
    )
    .await;
    assert!(a2.is_ok(), "tenant A's second till was held up by tenant B");
    chunk_table(dir.path(), false).await;
    tokio::time::timeout(Duration::from_secs(15), stuck)
        .await
        .expect("tenant B joins once storage is back")
        .unwrap();
}

/// `admin write-baselines` beside a running instance: it dials the instance, whose terminals
/// then receive the store root's new `latest_baseline` (samod does not reload a document
/// changed in storage, so writing to storage alone would not reach them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_run_reaches_a_running_instance() {
    let db = TestDb::create().await;
    let storage = db.storage().await;
    let server = TestServer::start_clustered(storage.clone()).await;
    let a = setup_tenant(&server.state, "Toko A", "CA").await;
    let (repo, _dialer) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    let docs = make_store_docs(&repo, &a.store_id, "CA").await;
    let mut j = JournalDoc::new(&a.store_id, "T1", "2026-10-30".parse().unwrap());
    let m = movement(ProductId::new(), MovementKind::Adjustment, -1);
    j.stock_movements.insert(m.id.to_string(), m);
    create_doc(&repo, &j).await;
    eventually("root, journal and instance recorded", async || {
        let ready = !storage
            .store_journals(&a.store_id)
            .await
            .unwrap()
            .is_empty()
            && storage.store_root(&a.store_id).await.unwrap().is_some()
            && !storage
                .live_instances(sync_server::now_ms() - 5_000)
                .await
                .unwrap()
                .is_empty();
        ready.then_some(())
    })
    .await;

    // The admin command: its own state over the same database, not serving.
    let cli = AppState::new(
        db.storage().await,
        std::sync::Arc::new(sync_server::config::Config::default()),
    )
    .await
    .unwrap();
    let writer = DocWriter::new(&cli);
    let now = Timestamp("2026-11-02T12:00:00Z".parse().unwrap());
    let written =
        sync_server::baselines::write_due(&writer, &cli.services.storage, Some(&a.store_id), now)
            .await
            .unwrap();
    assert_eq!(written.len(), 1);
    let delivered = sync_server::baselines::deliver(&cli, &writer, &written)
        .await
        .unwrap();
    assert_eq!(delivered, 1, "the running instance took the new store root");
    cli.shutdown().await;
    let link = wait_root_link(&docs.root).await;
    assert_eq!(link, format!("automerge:{}", written[0].doc_id));
}
