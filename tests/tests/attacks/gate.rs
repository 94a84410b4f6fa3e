//! Attacks on the sync gate and its resource limits (docs/security.md, "The sync gate and
//! resource limits"): the real `sync-server` binary on PostgreSQL, real tills
//! (`snapkasir-terminal`) and a raw protocol client for the attacker (`snapkasir_tests::gate`).

use std::time::Duration;

use serde_json::json;
use shared_model::codec::BusinessDate;
use shared_model::documents::{self, JournalDoc, PeriodIndexDoc};
use shared_model::wire::{self, Message as Frame};
use snapkasir_tests::gate::{
    RawPeer, Shop, claim_of, enrolled_till, sell_and_wait_ack, start_sync, stored_document,
    sync_message_of, wait_until, ws_url,
};
use snapkasir_tests::processes::{ServerProcess, TestDatabase, psql};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "snapkasir-gate-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn sales_of(db: &str, store_id: &str) -> i64 {
    psql(
        db,
        &format!("SELECT count(*) FROM sales WHERE store_id = '{store_id}'"),
    )
    .parse()
    .expect("count")
}

/// Tenant Y's owner joins with the peer id of tenant X's till (`STORE-TERMINAL`, printed on every
/// receipt). Before: X's till was refused "peer id in use by another client" until the attacker
/// left, and two tenants whose stores and tills had the same codes shut each other out. Now peer
/// ids are scoped to the tenant: X's till syncs and is acknowledged while the attacker holds the
/// id, the attacker reaches none of X's documents, and Y's own till with the same code syncs
/// alongside X's.
#[test]
fn gate_peer_id_of_another_tenants_till_cannot_be_taken() {
    let rt = runtime();
    let dir = temp_dir("peer");
    let db = TestDatabase::create("gate_peer");
    let server = ServerProcess::start(&db.url, "127.0.0.1:0", &dir.join("server.log"));
    let x = Shop::create(&server, "TokoX", "TOKO");
    let y = Shop::create(&server, "TokoY", "TOKO");
    let mut x_till = enrolled_till(&server, &dir, &x, "Kasir");
    let mut y_till = enrolled_till(&server, &dir, &y, "Kasir");
    assert_eq!(
        x_till.code, y_till.code,
        "both tills peer as the same STORE-TERMINAL"
    );
    let peer = x_till.code.clone();

    let y_owner = rt.block_on(y.owner_token(&server));
    let attacker = rt
        .block_on(RawPeer::join(&ws_url(&server), &y_owner, &peer))
        .expect("Y's owner may join its own tenant's repo under any peer id");

    // X's till connects while the attacker holds its peer id.
    start_sync(&mut x_till);
    let sale = sell_and_wait_ack(&mut x_till, Duration::from_secs(30)).unwrap_or_else(|s| {
        panic!("X's till was shut out by another tenant's client using its peer id: {s}")
    });

    // The attacker, joined as X's till, reaches none of X's documents.
    let status = x_till.cmd(json!({"cmd": "status"})).expect("status");
    let x_docs: Vec<String> = status["heads"]
        .as_object()
        .expect("heads")
        .keys()
        .cloned()
        .collect();
    assert!(!x_docs.is_empty(), "X's till has documents");
    let mut attacker = attacker;
    rt.block_on(async {
        for doc in &x_docs {
            attacker.request(doc).await;
            match attacker.answer_about(doc, Duration::from_secs(5)).await {
                Some(Frame::DocUnavailable { .. }) => {}
                other => panic!("the attacker got {other:?} for X's document {doc}"),
            }
        }
        attacker.close().await;
    });

    // Y's own till with the same code syncs while X's is connected.
    start_sync(&mut y_till);
    sell_and_wait_ack(&mut y_till, Duration::from_secs(30))
        .unwrap_or_else(|s| panic!("Y's till, same codes as X's, could not sync: {s}"));
    sell_and_wait_ack(&mut x_till, Duration::from_secs(30))
        .unwrap_or_else(|s| panic!("X's till lost its connection to Y's till: {s}"));
    assert_eq!(
        sales_of(&db.url, &x.store_id),
        2,
        "X's two sales, {sale} among them"
    );
    assert_eq!(sales_of(&db.url, &y.store_id), 1, "Y's one sale");
}

/// The month after today's (UTC), and a business date in it.
fn next_month(db: &str) -> (String, BusinessDate) {
    let row = psql(
        db,
        "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month', 'YYYY-MM')",
    );
    let date = format!("{row}-03").parse().expect("date");
    (row, date)
}

/// Another tenant writes the derived id of a store's next-month period index
/// (`period_index_id(store, month)`) before the store has one. Before: the write claimed the id
/// for the attacker's tenant, and the server then never listed that store's journals of the
/// month. Now the ids are reserved for the store when it is created: the write is answered
/// `doc-unavailable`, nothing is stored, and a journal of that month is listed in the store's
/// index (read back from PostgreSQL).
#[test]
fn gate_derived_period_index_id_cannot_be_claimed_by_another_tenant() {
    let rt = runtime();
    let dir = temp_dir("index");
    let db = TestDatabase::create("gate_index");
    let server = ServerProcess::start(&db.url, "127.0.0.1:0", &dir.join("server.log"));
    let x = Shop::create(&server, "TokoX", "TOKO");
    let y = Shop::create(&server, "TokoY", "LAIN");
    let (month, date) = next_month(&db.url);
    let index_id = documents::period_index_id(&x.store_id, &month);

    let y_owner = rt.block_on(y.owner_token(&server));
    rt.block_on(async {
        let mut attacker = RawPeer::join(&ws_url(&server), &y_owner, "penyerang")
            .await
            .expect("Y's owner joins");
        let mut fake = documents::period_index_genesis(&x.store_id, &month).expect("genesis");
        let fake = fake.document().clone();
        attacker.sync(&index_id, sync_message_of(&fake)).await;
        match attacker
            .answer_about(&index_id, Duration::from_secs(5))
            .await
        {
            Some(Frame::DocUnavailable { .. }) => {}
            other => panic!("another tenant's write of X's period index was answered {other:?}"),
        }
        attacker.close().await;
    });
    let claim = claim_of(&db.url, &index_id);
    assert!(
        claim.starts_with(&format!("{}|{}|", x.tenant_id, x.store_id)),
        "X's period index id is claimed by {claim:?}, not by X's store"
    );
    assert!(
        stored_document(&db.url, &index_id).is_none(),
        "the attacker's write was stored"
    );

    // X's till (a raw client with a real device credential) writes a journal of that month.
    let enrolment = server.enroll(&rt, &x.store_id, "Kasir");
    let credential = enrolment["device_credential"].as_str().expect("credential");
    let terminal_code = enrolment["terminal_code"].as_str().expect("terminal code");
    let journal_id = wire::new_document_id();
    rt.block_on(async {
        let mut till = RawPeer::join(
            &ws_url(&server),
            credential,
            &format!("TOKO-{terminal_code}"),
        )
        .await
        .expect("X's till joins");
        let mut journal =
            documents::create(&JournalDoc::new(&x.store_id, terminal_code, date)).expect("journal");
        till.sync(&journal_id, sync_message_of(journal.document()))
            .await;
        // The server answers with its own sync message once it has the changes.
        match till
            .answer_about(&journal_id, Duration::from_secs(10))
            .await
        {
            Some(Frame::Sync { .. }) => {}
            other => panic!("X's journal was answered {other:?}"),
        }
        till.close().await;
    });
    let key = format!("{terminal_code}/{date}");
    wait_until(
        "X's journal listed in X's period index of next month",
        Duration::from_secs(30),
        || {
            stored_document(&db.url, &index_id).is_some_and(|d| {
                let d = automerge::AutoCommit::load(&d.save()).expect("load");
                documents::read::<PeriodIndexDoc>(&d).is_ok_and(|i| {
                    i.journals
                        .get(&key)
                        .is_some_and(|j| wire::id_of(&j.url) == journal_id)
                })
            })
        },
    );
    assert!(
        claim_of(&db.url, &index_id).starts_with(&format!("{}|{}|", x.tenant_id, x.store_id)),
        "the claim moved"
    );
}

/// Unix seconds now.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// Whether `/sync` of `server` lets a peer in with `token` in the `Authorization` header (or,
/// with `in_query`, in the query string) for `tenant`; `Err` is the HTTP status.
async fn instance_upgrade(
    server: &ServerProcess,
    token: &str,
    tenant: &str,
    in_query: bool,
) -> Result<(), u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = if in_query {
        format!("ws://{}/sync?tenant={tenant}&token={token}", server.addr)
    } else {
        format!("ws://{}/sync?tenant={tenant}", server.addr)
    };
    let mut req = url.into_client_request().expect("request");
    if !in_query {
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((mut ws, _)) => {
            let _ = ws.close(None).await;
            Ok(())
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("upgrade failed without an HTTP answer: {e}"),
    }
}

/// An instance-peering credential captured once (from a URL in a proxy log, or off a plain
/// `ws://` link) used to be valid forever and was accepted in the query string. Now a
/// credential lives two minutes, is refused in a URL, and its tag is checked in constant time:
/// an expired one, one minted to last a day, one naming another instance, and one with a
/// changed tag are all refused, and only a fresh one in the `Authorization` header gets in.
#[test]
fn gate_cluster_credential_is_short_lived_and_header_only() {
    use sync_server::auth::{JwtKey, cluster_credential};
    let rt = runtime();
    let dir = temp_dir("cluster");
    let db = TestDatabase::create("gate_cluster");
    let server = ServerProcess::start(&db.url, "127.0.0.1:0", &dir.join("server.log"));
    let x = Shop::create(&server, "TokoX", "TOKO");
    // The deployment's key, as every instance reads it from the shared database.
    let key = psql(
        &db.url,
        "SELECT value FROM server_settings WHERE key = 'jwt_signing_key'",
    );
    assert!(!key.is_empty(), "no signing key in server_settings");
    let key = JwtKey::new(key.as_bytes());
    let now = unix_now();
    let fresh = cluster_credential(&key, "instance-a", now + 60);
    rt.block_on(async {
        assert_eq!(
            instance_upgrade(&server, &fresh, &x.tenant_id, false).await,
            Ok(()),
            "a fresh credential in the header is accepted"
        );
        assert_eq!(
            instance_upgrade(&server, &fresh, &x.tenant_id, true).await,
            Err(401),
            "a credential in the query string (proxy logs) is refused"
        );
        let expired = cluster_credential(&key, "instance-a", now - 1);
        let long_lived = cluster_credential(&key, "instance-a", now + 24 * 3600);
        let other_instance = fresh.replacen("instance-a", "instance-b", 1);
        let mut bad_tag = fresh.clone();
        let last = bad_tag.pop().expect("tag");
        bad_tag.push(if last == 'A' { 'B' } else { 'A' });
        for (what, token) in [
            ("expired", expired),
            ("minted to last a day", long_lived),
            ("naming another instance", other_instance),
            ("with a changed tag", bad_tag),
        ] {
            assert_eq!(
                instance_upgrade(&server, &token, &x.tenant_id, false).await,
                Err(401),
                "a cluster credential {what} was accepted"
            );
        }
    });
}

/// A sync message whose one change puts `len` random bytes into a new document.
fn blob_message(len: usize) -> Vec<u8> {
    use automerge::transaction::Transactable;
    let mut doc = automerge::AutoCommit::new();
    let blob: Vec<u8> = (0..len).map(|_| rand::random::<u8>()).collect();
    doc.put(automerge::ROOT, "blob", automerge::ScalarValue::Bytes(blob))
        .expect("put");
    sync_message_of(doc.document())
}

/// The latencies (ms) of `n` acknowledgements of `victim`'s changes: each change is sent as a
/// `sync` frame, then `/persisted` is polled until the server has it in PostgreSQL.
async fn ack_latencies(
    server: &ServerProcess,
    credential: &str,
    victim: &mut RawPeer,
    doc_id: &str,
    doc: &mut automerge::AutoCommit,
    n: usize,
) -> Vec<f64> {
    use automerge::transaction::Transactable;
    let http = snapkasir_tests::processes::http_client();
    let url = format!("{}/api/v1/documents/{doc_id}/persisted", server.url());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        doc.put(automerge::ROOT, format!("k{i}"), i as i64)
            .expect("put");
        let head = doc.get_heads()[0].to_string();
        let started = std::time::Instant::now();
        assert!(
            victim.sync(doc_id, sync_message_of(doc.document())).await,
            "victim's send failed"
        );
        loop {
            let answer: serde_json::Value = http
                .post(&url)
                .bearer_auth(credential)
                .json(&json!({"heads": [head]}))
                .send()
                .await
                .expect("persisted")
                .json()
                .await
                .expect("persisted json");
            if answer["all"] == true {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the victim's change was not acknowledged in 30 s: {answer}"
            );
            // Keep reading what the server sends back (sync replies).
            let _ = victim.next_frame(Duration::from_millis(5)).await;
        }
        out.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

fn p95(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 * 0.95).ceil() as usize).clamp(1, v.len()) - 1]
}

/// One abusive tenant against another tenant's acknowledgements. The abuser (tenant A's owner)
/// opens 24 sync connections and floods them with 256 KiB changes and new documents as fast as
/// the server reads, and sends a frame over the frame limit. Before: every connection was
/// admitted, the frame limit was 64 MiB, and nothing shared the server between tenants (one
/// chunk writer queue in arrival order, no budget per tenant). Now: at most
/// `max_connections_per_principal` (8) connections are admitted and the rest get `429` with the
/// reason; the oversized frame closes its connection; A's connections together are read at
/// `tenant_bytes_per_sec`; the chunk writer takes tenants in turn. Tenant B's acknowledgement
/// latency (a change sent until `/persisted` confirms it is in PostgreSQL) is measured without
/// and with the abuse in the same run: p95 under abuse must stay ≤ 1 s, and the server's
/// resident memory ≤ 1 GiB.
#[test]
fn gate_abusive_tenant_does_not_delay_another_tenants_acknowledgements() {
    const ABUSER_CONNECTIONS: usize = 24;
    const SAMPLES: usize = 20;
    let rt = runtime();
    let dir = temp_dir("fair");
    let db = TestDatabase::create("gate_fair");
    let server = ServerProcess::start(&db.url, "127.0.0.1:0", &dir.join("server.log"));
    let a = Shop::create(&server, "Penyerang", "JAHAT");
    let b = Shop::create(&server, "TokoB", "BAIK");
    let enrolment = server.enroll(&rt, &b.store_id, "Kasir");
    let credential = enrolment["device_credential"]
        .as_str()
        .expect("credential")
        .to_string();
    let a_owner = rt.block_on(a.owner_token(&server));
    let rss_idle = snapkasir_tests::gate::rss_kib(server.pid());

    rt.block_on(async {
        let url = ws_url(&server);
        let mut victim = RawPeer::join(&url, &credential, "BAIK-T1").await.expect("victim joins");
        let doc_id = wire::new_document_id();
        let mut doc = automerge::AutoCommit::new();
        let calm = ack_latencies(&server, &credential, &mut victim, &doc_id, &mut doc, SAMPLES).await;

        // The abuse: as many connections as the abuser can get, each flooding.
        let mut admitted = Vec::new();
        let mut refused = Vec::new();
        for i in 0..ABUSER_CONNECTIONS {
            match RawPeer::join(&url, &a_owner, &format!("jahat-{i}")).await {
                Ok(p) => admitted.push(p),
                Err(r) => refused.push(r),
            }
        }
        let big = std::sync::Arc::new(blob_message(256 * 1024));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut floods = Vec::new();
        for peer in admitted.drain(..) {
            let (big, stop, url, token) = (big.clone(), stop.clone(), url.clone(), a_owner.clone());
            floods.push(tokio::spawn(async move {
                // Floods, and reconnects whenever the server closes the connection.
                let name = peer.peer.clone();
                let mut peer = Some(peer);
                let mut sent = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let Some(p) = peer.as_mut() else {
                        match RawPeer::join(&url, &token, &name).await {
                            Ok(p) => peer = Some(p),
                            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                        }
                        continue;
                    };
                    let new_doc = wire::new_document_id();
                    let data = if sent.is_multiple_of(4) { big.to_vec() } else { blob_message(64) };
                    if p.sync(&new_doc, data).await {
                        sent += 1;
                    } else {
                        peer = None;
                    }
                }
                sent
            }));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let under_abuse =
            ack_latencies(&server, &credential, &mut victim, &doc_id, &mut doc, SAMPLES).await;
        let rss_abuse = snapkasir_tests::gate::rss_kib(server.pid());
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut frames = 0;
        for f in floods {
            frames += f.await.expect("flood task");
        }
        eprintln!(
            "gate fairness: victim ack p95 {:.1} ms calm, {:.1} ms under abuse (max {:.1} ms); \
             abuser admitted {} of {ABUSER_CONNECTIONS} connections, sent {frames} frames; \
             server RSS {} MiB idle, {} MiB under abuse",
            p95(&calm),
            p95(&under_abuse),
            under_abuse.iter().cloned().fold(0.0, f64::max),
            ABUSER_CONNECTIONS - refused.len(),
            rss_idle / 1024,
            rss_abuse / 1024,
        );
        assert!(
            refused.len() >= ABUSER_CONNECTIONS - 8,
            "more than 8 connections admitted for one credential: {} refused",
            refused.len()
        );
        for r in &refused {
            match r {
                snapkasir_tests::gate::Refused::Http(429, body) => assert!(
                    body.contains("too many sync connections"),
                    "429 without its reason: {body}"
                ),
                other => panic!("an extra connection was refused with {other:?}, not 429"),
            }
        }
        assert!(
            p95(&under_abuse) <= 1000.0,
            "another tenant's abuse delayed this tenant's acknowledgements: p95 {:.0} ms (calm {:.0} ms)",
            p95(&under_abuse),
            p95(&calm)
        );
        assert!(
            rss_abuse < 1024 * 1024,
            "server RSS {} MiB under abuse",
            rss_abuse / 1024
        );

        // A frame over the limit closes its connection, and its document is not stored.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut big_sender = loop {
            // The flood's connections close as their tasks end.
            match RawPeer::join(&url, &a_owner, "jahat-besar").await {
                Ok(p) => break p,
                Err(_) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("the abuser could not reconnect once the flood ended: {e:?}"),
            }
        };
        let huge_doc = wire::new_document_id();
        big_sender.sync(&huge_doc, blob_message(17 * 1024 * 1024)).await;
        // Other frames (announcements of the tenant's documents) may come first.
        let refused = big_sender.refusal_within(Duration::from_secs(10)).await;
        assert!(refused.is_some(), "a 17 MiB frame was not refused");
        assert!(claim_of(&db.url, &huge_doc).is_empty(), "the oversized frame claimed its document");
        assert!(stored_document(&db.url, &huge_doc).is_none(), "the oversized frame was stored");
        victim.close().await;
    });
}
