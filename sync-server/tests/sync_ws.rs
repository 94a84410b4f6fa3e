//! Real WebSocket connections on loopback: Rust (samod) clients converge
//! through the server; access control; revocation; bad input.

mod common;

use std::time::{Duration, Instant};

use common::*;
use shared_model::wire;
use sync_server::config::Config;
use sync_server::storage::DynStorage;

/// Two terminals of one store and the owner share a document; a terminal of
/// another store and another tenant's terminal cannot reach it.
async fn converge_and_isolate(storage: DynStorage) {
    let server = TestServer::start(storage).await;
    let a = setup_tenant(&server.state, "Toko A", "A1").await;
    let b = setup_tenant(&server.state, "Toko B", "B1").await;

    let (repo1, _d1) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    let doc1 = repo1.create(automerge::Automerge::new()).await.unwrap();
    doc1.with_document(|d| put_str(d, "from", "terminal 1"));
    let doc_id = doc1.document_id().clone();

    // Same store, second terminal: finds it through the server.
    let (repo2, _d2) = rust_client(&server.ws_url(&a.t2.device_credential)).await;
    let doc2 = find_within(&repo2, &doc_id, 10, "terminal 2 never found the document").await;
    wait_doc(&doc2, "t2 sees t1's write", |d| {
        get_str(d, "from").as_deref() == Some("terminal 1")
    })
    .await;

    // Owner (JWT) reaches every store of the tenant.
    let (repo_owner, _d3) = rust_client(&server.ws_url(&a.owner_token)).await;
    let doc_owner = repo_owner
        .find(doc_id.clone())
        .await
        .unwrap()
        .expect("owner finds the doc");

    // Concurrent edits on all sides converge.
    doc1.with_document(|d| put_str(d, "k1", "v1"));
    doc2.with_document(|d| put_str(d, "k2", "v2"));
    doc_owner.with_document(|d| put_str(d, "k3", "v3"));
    for (name, doc) in [("t1", &doc1), ("t2", &doc2), ("owner", &doc_owner)] {
        wait_doc(doc, &format!("{name} converges"), |d| {
            get_str(d, "k1").is_some() && get_str(d, "k2").is_some() && get_str(d, "k3").is_some()
        })
        .await;
    }
    let heads: Vec<_> = [&doc1, &doc2, &doc_owner]
        .iter()
        .map(|d| d.with_document(|d| d.get_heads()))
        .collect();
    assert_eq!(heads[0], heads[1]);
    assert_eq!(heads[1], heads[2]);

    // Another store of the same tenant and another tenant: doc-unavailable.
    for (who, token) in [
        ("other store", &a.t_other_store.device_credential),
        ("other tenant", &b.t1.device_credential),
    ] {
        let (repo_x, _dx) = rust_client(&server.ws_url(token)).await;
        let found = tokio::time::timeout(Duration::from_secs(10), repo_x.find(doc_id.clone()))
            .await
            .expect("find answers")
            .unwrap();
        assert!(found.is_none(), "{who} must not reach the document");

        // Raw frames too: request and a write attempt both get doc-unavailable.
        let mut raw = RawClient::connect(&server.ws_url(token), &format!("raw-{who}")).await;
        let doc = doc_id.to_string();
        raw.send(raw.request_frame(&doc)).await;
        let f = raw.next_frame().await.expect("reply");
        assert_eq!(
            (f.kind(), f.document_id()),
            ("doc-unavailable", Some(doc.as_str()))
        );
        raw.send(raw.sync_frame(&doc, &sync_message_with_changes()))
            .await;
        let f = raw.next_frame().await.expect("reply");
        assert_eq!(f.kind(), "doc-unavailable");
        repo_x.stop().await;
    }
    // The write attempt changed nothing and the claim never moved.
    let claim = server
        .state
        .services
        .storage
        .doc_claim(&doc_id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claim.tenant_id, a.tenant_id);
    assert_eq!(claim.store_id.as_deref(), Some(a.store_id.as_str()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(doc1.with_document(|d| get_str(d, "evil").is_none()));

    // "On server": the stored document (read back from storage) has the heads.
    let t1 = sync_server::auth::Principal::Terminal {
        terminal_id: a.t1.terminal_id.clone(),
        tenant_id: a.tenant_id.clone(),
        store_id: a.store_id.clone(),
    };
    let heads: Vec<String> = doc1
        .with_document(|d| d.get_heads())
        .iter()
        .map(|h| h.to_string())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let p = server
            .state
            .services
            .persisted(&t1, &doc_id.to_string(), &heads)
            .await
            .unwrap();
        if p.all {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never persisted: {:?}",
            p.missing
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let unknown = "00".repeat(32);
    let p = server
        .state
        .services
        .persisted(&t1, &doc_id.to_string(), std::slice::from_ref(&unknown))
        .await
        .unwrap();
    assert_eq!((p.all, p.missing), (false, vec![unknown]));
    let other = sync_server::auth::Principal::Terminal {
        terminal_id: b.t1.terminal_id.clone(),
        tenant_id: b.tenant_id.clone(),
        store_id: b.store_id.clone(),
    };
    assert!(matches!(
        server
            .state
            .services
            .persisted(&other, &doc_id.to_string(), &heads)
            .await,
        Err(sync_server::Error::NotFound(_))
    ));
    assert!(matches!(
        server
            .state
            .services
            .persisted(&t1, &doc_id.to_string(), &["zz".to_string()])
            .await,
        Err(sync_server::Error::BadRequest(_))
    ));

    // Chunks are in storage, keyed as samod keys them.
    let chunks = server
        .state
        .services
        .storage
        .load_chunk_range(&a.tenant_id, &doc_id.to_string())
        .await
        .unwrap();
    assert!(!chunks.is_empty(), "document persisted");
    assert!(
        chunks
            .iter()
            .all(|(k, _)| k.starts_with(&format!("{doc_id}/")))
    );

    for r in [repo1, repo2, repo_owner] {
        r.stop().await;
    }
}

/// A tenant-wide document (made by the owner) reaches the tills of both stores, and what any of
/// them writes reaches the others, while a store's document written by the owner after a till
/// opened it reaches that till.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_wide_documents_reach_every_store() {
    let (storage, _dir) = sqlite_storage().await;
    let server = TestServer::start(storage).await;
    let a = setup_tenant(&server.state, "Toko A", "W1").await;
    let (owner, _do) = rust_client(&server.ws_url(&a.owner_token)).await;
    let (till1, _d1) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    let (till3, _d3) = rust_client(&server.ws_url(&a.t_other_store.device_credential)).await;

    let shared = owner.create(automerge::Automerge::new()).await.unwrap();
    shared.with_document(|d| put_str(d, "from", "owner"));
    let id = shared.document_id().clone();
    let mut on_tills = Vec::new();
    for (name, till) in [("store 1", &till1), ("store 2", &till3)] {
        let doc = find_within(till, &id, 10, &format!("{name} never found the document")).await;
        on_tills.push(doc);
    }
    on_tills[0].with_document(|d| put_str(d, "s1", "till of store 1"));
    on_tills[1].with_document(|d| put_str(d, "s2", "till of store 2"));
    for (name, doc) in [
        ("owner", &shared),
        ("store 1", &on_tills[0]),
        ("store 2", &on_tills[1]),
    ] {
        wait_doc(doc, &format!("{name} converges"), |d| {
            get_str(d, "s1").is_some() && get_str(d, "s2").is_some()
        })
        .await;
    }

    // A store's document: the till makes it, the owner opens it, both keep writing.
    let store_doc = till1.create(automerge::Automerge::new()).await.unwrap();
    store_doc.with_document(|d| put_str(d, "from", "till"));
    let store_id = store_doc.document_id().clone();
    let on_owner = find_within(
        &owner,
        &store_id,
        10,
        "the owner never found the store's document",
    )
    .await;
    on_owner.with_document(|d| put_str(d, "price", "from the owner"));
    wait_doc(&store_doc, "the till gets the owner's write", |d| {
        get_str(d, "price").is_some()
    })
    .await;
    store_doc.with_document(|d| put_str(d, "sold", "by the till"));
    wait_doc(&on_owner, "the owner gets the till's write", |d| {
        get_str(d, "sold").is_some()
    })
    .await;
    for r in [owner, till1, till3] {
        r.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converge_and_isolate_postgres() {
    let db = TestDb::create().await;
    converge_and_isolate(db.storage().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converge_and_isolate_sqlite() {
    let (s, _dir) = sqlite_storage().await;
    converge_and_isolate(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrades_are_authenticated() {
    let (s, _dir) = sqlite_storage().await;
    let server = TestServer::start(s).await;
    let a = setup_tenant(&server.state, "Toko A", "A1").await;
    let status = |r: Result<_, tokio_tungstenite::tungstenite::Error>| match r {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => 101,
    };
    let plain = format!("ws://{}/sync", server.addr);
    assert_eq!(
        status(
            tokio_tungstenite::connect_async(plain.as_str())
                .await
                .map(|_| ())
        ),
        401
    );
    for bad in ["skd_forged", "not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA"] {
        assert_eq!(
            status(
                tokio_tungstenite::connect_async(server.ws_url(bad))
                    .await
                    .map(|_| ())
            ),
            401,
            "{bad}"
        );
    }
    // A header works as well as the query string.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = plain.as_str().into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", a.t1.device_credential)
            .parse()
            .unwrap(),
    );
    assert_eq!(
        status(tokio_tungstenite::connect_async(req).await.map(|_| ())),
        101
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_terminals_are_cut_off_within_a_second() {
    let db = TestDb::create().await;
    let server = TestServer::start(db.storage().await).await;
    let a = setup_tenant(&server.state, "Toko A", "A1").await;

    // Revoked through the service on this instance.
    let mut c1 = RawClient::connect(&server.ws_url(&a.t1.device_credential), "p1").await;
    // Revoked in the database by "another instance": found by polling.
    let mut c2 = RawClient::connect(&server.ws_url(&a.t2.device_credential), "p2").await;
    let t0 = Instant::now();
    server
        .state
        .services
        .revoke_terminal(Some(&a.owner), &a.t1.terminal_id)
        .await
        .unwrap();
    let msg = c1.expect_error_and_close().await;
    assert!(msg.contains("revoked"), "{msg}");
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t0.elapsed()
    );

    let t0 = Instant::now();
    server
        .state
        .services
        .storage
        .revoke_terminal(&a.t2.terminal_id, sync_server::now_ms())
        .await
        .unwrap();
    let msg = c2.expect_error_and_close().await;
    assert!(msg.contains("revoked"), "{msg}");
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t0.elapsed()
    );

    // And it cannot come back.
    let r = tokio_tungstenite::connect_async(server.ws_url(&a.t1.device_credential)).await;
    assert!(
        matches!(r, Err(tokio_tungstenite::tungstenite::Error::Http(resp)) if resp.status() == 401)
    );
}

/// Every bad frame closes only its own connection with an error; nothing is
/// stored; a well-behaved client keeps syncing throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_closes_only_the_offending_connection() {
    let (s, _dir) = sqlite_storage().await;
    let config = Config {
        max_frame_bytes: 256 * 1024,
        rate_limit_frames_per_sec: 50.0,
        rate_limit_burst: 100.0,
        ..Config::default()
    };
    let server = TestServer::start_with(s, config).await;
    let a = setup_tenant(&server.state, "Toko A", "A1").await;
    let url = server.ws_url(&a.t1.device_credential);

    // A good client that stays connected.
    let (good, _dg) = rust_client(&server.ws_url(&a.t2.device_credential)).await;
    let good_doc = good.create(automerge::Automerge::new()).await.unwrap();
    good_doc.with_document(|d| put_str(d, "n", "0"));

    let doc = wire::new_document_id();
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("malformed cbor".into(), vec![0xa5, 0xff, 0x00, 0x13]),
        ("not a map".into(), vec![0x83, 0x01, 0x02, 0x03]),
        ("unknown type".into(), {
            let mut f = doc_frame("sync", "x", "y", &doc, &[]);
            let pos = f.windows(4).position(|w| w == b"sync").unwrap();
            f[pos..pos + 4].copy_from_slice(b"xync");
            f
        }),
        ("garbage sync data".into(), b"not automerge".to_vec()),
    ];
    for (name, bytes) in crashers() {
        cases.push((format!("crasher {name} as sync data"), bytes.clone()));
        let msg = automerge::sync::Message {
            heads: vec![],
            need: vec![],
            have: vec![],
            changes: automerge::sync::ChunkList::from(vec![bytes]),
            flags: None,
            version: automerge::sync::MessageVersion::V1,
        };
        cases.push((format!("crasher {name} as a change"), msg.encode()));
    }
    for (i, (name, payload)) in cases.into_iter().enumerate() {
        let mut raw = RawClient::connect(&url, &format!("bad-{i}")).await;
        let frame =
            if name.contains("cbor") || name.contains("not a map") || name.contains("unknown type")
            {
                payload
            } else {
                raw.sync_frame(&doc, &payload)
            };
        raw.send(frame).await;
        let msg = raw.expect_error_and_close().await;
        eprintln!("{name}: {msg}");
        assert!(!msg.is_empty(), "{name}");
    }
    assert!(
        server
            .state
            .services
            .storage
            .doc_claim(&doc)
            .await
            .unwrap()
            .is_none(),
        "no bad frame claimed or stored anything"
    );
    assert!(
        !server
            .state
            .services
            .storage
            .chunk_doc_ids()
            .await
            .unwrap()
            .contains(&doc),
        "no bad frame stored a chunk, for any tenant"
    );

    // Wrong protocol version.
    {
        use futures::SinkExt;
        let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap();
        ws.send(tokio_tungstenite::tungstenite::Message::Binary(
            wire::encode(&wire::Message::Join {
                sender_id: "v9".into(),
                supported_protocol_versions: vec!["9".into()],
            })
            .into(),
        ))
        .await
        .unwrap();
        let mut raw = RawClient {
            ws,
            peer: "v9".into(),
            server_peer: String::new(),
        };
        assert!(
            raw.expect_error_and_close()
                .await
                .contains("protocol version")
        );
    }
    // senderId spoofing.
    {
        let mut raw = RawClient::connect(&url, "honest").await;
        let f = doc_frame(
            "request",
            "someone-else",
            &raw.server_peer,
            &doc,
            &empty_sync_message(),
        );
        raw.send(f).await;
        assert!(raw.expect_error_and_close().await.contains("senderId"));
    }
    // Text frames.
    {
        use futures::SinkExt;
        let mut raw = RawClient::connect(&url, "texter").await;
        raw.ws
            .send(tokio_tungstenite::tungstenite::Message::Text(
                "hello".into(),
            ))
            .await
            .unwrap();
        raw.expect_error_and_close().await;
    }
    // Oversized frame: the socket is closed.
    {
        let mut raw = RawClient::connect(&url, "big").await;
        raw.send(raw.sync_frame(&doc, &vec![0u8; 512 * 1024])).await;
        while raw.next_frame().await.is_some() {}
    }
    // Rate limit: a flood of (harmless) ephemeral frames.
    {
        let mut raw = RawClient::connect(&url, "flood").await;
        let mut e = minicbor::Encoder::new(Vec::new());
        e.map(7).unwrap();
        e.str("type").unwrap().str("ephemeral").unwrap();
        e.str("senderId").unwrap().str("flood").unwrap();
        e.str("targetId").unwrap().str(&raw.server_peer).unwrap();
        e.str("count").unwrap().u64(1).unwrap();
        e.str("sessionId").unwrap().str("s").unwrap();
        e.str("documentId").unwrap().str(&doc).unwrap();
        e.str("data").unwrap().bytes(b"x").unwrap();
        let frame = e.into_writer();
        for _ in 0..300 {
            raw.send(frame.clone()).await;
        }
        assert!(raw.expect_error_and_close().await.contains("rate limit"));
    }

    // The server carried on and the good client still syncs.
    let (check, _dc) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    good_doc.with_document(|d| put_str(d, "n", "1"));
    let found = loop {
        if let Some(d) = check.find(good_doc.document_id().clone()).await.unwrap() {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    wait_doc(&found, "late write arrives", |d| {
        get_str(d, "n").as_deref() == Some("1")
    })
    .await;
    good.stop().await;
    check.stop().await;
}

/// Every database connection busy (a fleet reconnecting at once): a claim lookup waits for
/// one rather than failing, so the till's connection is not closed; the same read straight
/// from storage shows the pool really timed out meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_lookup_waits_out_a_busy_pool() {
    use sync_server::storage::{DocClaim, PgStorage};
    let db = TestDb::create().await;
    let migrated = db.storage().await;
    tenant_and_store(&migrated, "t1", "s1").await;
    migrated
        .claim_doc(&DocClaim {
            doc_id: "4BusyPoolDoc".into(),
            tenant_id: "t1".into(),
            store_id: Some("s1".into()),
            claimed_by: "terminal:T1".into(),
            claimed_at: 0,
        })
        .await
        .unwrap();
    let one = PgStorage::connect_lazy(&db.url, 1, Duration::from_millis(300)).unwrap();
    let held = one.pool().acquire().await.unwrap();
    let storage: DynStorage = std::sync::Arc::new(one);
    let direct = storage.doc_claim("4BusyPoolDoc").await;
    assert!(
        matches!(
            direct,
            Err(sync_server::Error::Database(sqlx::Error::PoolTimedOut))
        ),
        "{direct:?}"
    );
    let gate = sync_server::sync::Gate::new(storage);
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        drop(held);
    });
    let started = Instant::now();
    let claim = gate.claim_of("4BusyPoolDoc").await.unwrap().unwrap();
    assert_eq!(
        (claim.tenant_id.as_str(), claim.store_id.as_deref()),
        ("t1", Some("s1"))
    );
    assert!(started.elapsed() >= Duration::from_millis(1000));
    release.await.unwrap();
}

/// A till's connection is linked to its tenant's repo and its store's: it hears one `peer`
/// answer, always before anything else (a store repo offering its documents could overtake the
/// tenant repo's answer), and is then offered the store's documents unasked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_till_hears_one_peer_answer_first_then_its_stores_documents() {
    let (storage, _dir) = sqlite_storage().await;
    let config = Config {
        max_connections_per_principal: 256,
        ..Config::default()
    };
    let server = TestServer::start_with(storage, config).await;
    let a = setup_tenant(&server.state, "Toko A", "P1").await;
    let (till1, _d1) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let doc = till1.create(automerge::Automerge::new()).await.unwrap();
        doc.with_document(|d| put_str(d, "n", &i.to_string()));
        ids.push(doc.document_id().to_string());
    }
    // Until the server holds all five.
    for id in &ids {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while server
            .state
            .services
            .storage
            .doc_claim(id)
            .await
            .unwrap()
            .is_none()
        {
            assert!(std::time::Instant::now() < deadline, "{id} never claimed");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    // Many at once, so that the repos' tasks are busy and answer in any order (without the
    // ordering this failed in some runs: one of four with a single wave).
    let url = server.ws_url(&a.t2.device_credential);
    for wave in 0..3 {
        let rounds = (0..60).map(|round| {
            let (url, ids) = (url.clone(), ids.clone());
            tokio::spawn(async move {
                // `connect` asserts that the first frame is `peer`.
                let mut raw = RawClient::connect(&url, &format!("t2-{wave}-{round}")).await;
                let mut offered = std::collections::BTreeSet::new();
                while offered.len() < ids.len() {
                    let f = raw.next_frame().await.expect("the connection stays open");
                    assert_ne!(
                        f.kind(),
                        "peer",
                        "{wave}/{round}: a second peer answer: {f:?}"
                    );
                    if f.kind() == "sync" {
                        offered.insert(f.document_id().unwrap().to_string());
                    }
                }
                assert_eq!(offered, ids.into_iter().collect(), "{wave}/{round}");
            })
        });
        for r in futures::future::join_all(rounds).await {
            r.expect("every connection heard `peer` first, then the store's documents");
        }
    }
    till1.stop().await;
}

/// One document a till created and syncs to a server on PostgreSQL, for the compaction tests.
struct TillDocument {
    _db: TestDb,
    storage: DynStorage,
    server: TestServer,
    tenant_id: String,
    repo: samod::Repo,
    _dialer: samod::DialerHandle<std::io::Error>,
    doc: samod::DocHandle,
    doc_id: String,
}

impl TillDocument {
    async fn start() -> Self {
        let db = TestDb::create().await;
        let storage = db.storage().await;
        let server = TestServer::start(storage.clone()).await;
        let a = setup_tenant(&server.state, "Toko A", "A1").await;
        let (repo, dialer) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
        let doc = repo.create(automerge::Automerge::new()).await.unwrap();
        let doc_id = doc.document_id().to_string();
        TillDocument {
            _db: db,
            storage,
            server,
            tenant_id: a.tenant_id,
            repo,
            _dialer: dialer,
            doc,
            doc_id,
        }
    }

    /// The document's chunks in the server's storage.
    async fn stored_chunks(&self) -> Vec<sync_server::storage::Chunk> {
        self.storage
            .load_chunk_range(&self.tenant_id, &self.doc_id)
            .await
            .unwrap()
    }

    /// The heads of the document the server's storage loads, if it has it.
    async fn stored_heads(&self) -> Option<Vec<automerge::ChangeHash>> {
        sync_server::projection::load_document(&self.storage, &self.tenant_id, &self.doc_id)
            .await
            .unwrap()
            .map(|mut d| d.get_heads())
    }
}

/// samod saves a document whole once more than ten of its changes are on disk (and, patched,
/// they weigh as much as its last snapshot), then deletes the chunks that save covers. Those
/// deletes go through the server's batch writer with its puts: the stored chunks end as one
/// snapshot and the few changes since, and they load to the document the till has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compacted_documents_covered_chunks_are_deleted() {
    let t = TillDocument::start().await;
    for i in 0..30 {
        t.doc.with_document(|d| put_str(d, &format!("k{i}"), "v"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let heads = t.doc.with_document(|d| d.get_heads());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let chunks = t.stored_chunks().await;
        let count = |kind: &str| chunks.iter().filter(|(k, _)| k.contains(kind)).count();
        let (snapshots, incrementals) = (count("/snapshot/"), count("/incremental/"));
        let stored = t.stored_heads().await;
        if stored.as_ref() == Some(&heads) && snapshots == 1 && incrementals <= 10 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stored: {snapshots} snapshots and {incrementals} changes, heads {stored:?} against {heads:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    t.repo.stop().await;
}

/// A till's journal grows by one sale at a time all day. The server writes each change, and
/// saves the journal whole from time to time; if it did so on every eleventh change (samod as
/// published), the bytes written for a journal would grow with the square of its length: 18
/// times the journal's stored size for 300 sales, and more the longer the journal. Patched
/// (vendor/samod-core), a save waits until the changes since the last one weigh as much as it,
/// so the bytes written stay a small multiple of what is stored however long the journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_growing_journal_is_not_saved_whole_every_few_changes() {
    let t = TillDocument::start().await;
    // A sale's worth of text that does not compress away: 200 hex digits of a UUID each.
    let sale = || {
        let mut digits: String = (0..7)
            .map(|_| uuid::Uuid::new_v4().simple().to_string())
            .collect();
        digits.truncate(200);
        digits
    };
    const SALES: usize = 300;
    for i in 0..SALES {
        let sale = sale();
        t.doc
            .with_document(|d| put_str(d, &format!("sale{i}"), &sale));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let heads = t.doc.with_document(|d| d.get_heads());
    let deadline = Instant::now() + Duration::from_secs(20);
    while t.stored_heads().await.as_ref() != Some(&heads) {
        assert!(
            Instant::now() < deadline,
            "the journal never reached the till's heads"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stored_bytes: u64 = t
        .stored_chunks()
        .await
        .iter()
        .map(|(_, d)| d.len() as u64)
        .sum();
    let written = t
        .server
        .state
        .sync
        .health
        .put_bytes_total
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        written <= 8 * stored_bytes,
        "{written} bytes written for a journal stored in {stored_bytes}"
    );
    t.repo.stop().await;
}
