//! Two server instances on one PostgreSQL: a change accepted by one reaches a
//! client of the other promptly (instances peer over the sync protocol).

mod common;

use std::time::{Duration, Instant};

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_cross_instances() {
    let db = TestDb::create().await;
    let a = TestServer::start_clustered(db.storage().await).await;
    let b = TestServer::start_clustered(db.storage().await).await;
    let t = setup_tenant(&a.state, "Toko", "C1").await;

    let (repo_x, _dx) = rust_client(&a.ws_url(&t.t1.device_credential)).await;
    let (repo_y, _dy) = rust_client(&b.ws_url(&t.t2.device_credential)).await;
    let doc_x = repo_x.create(automerge::Automerge::new()).await.unwrap();
    doc_x.with_document(|d| put_str(d, "k", "1"));
    let id = doc_x.document_id().clone();

    let doc_y = find_within(&repo_y, &id, 20, "instance B never served the document").await;
    wait_doc(&doc_y, "first write via B", |d| {
        get_str(d, "k").as_deref() == Some("1")
    })
    .await;

    // Live changes in both directions, with both clients staying connected.
    let t0 = Instant::now();
    doc_x.with_document(|d| put_str(d, "live", "from x on A"));
    wait_doc(&doc_y, "A -> B", |d| get_str(d, "live").is_some()).await;
    let a_to_b = t0.elapsed();
    let t0 = Instant::now();
    doc_y.with_document(|d| put_str(d, "back", "from y on B"));
    wait_doc(&doc_x, "B -> A", |d| get_str(d, "back").is_some()).await;
    let b_to_a = t0.elapsed();
    eprintln!("cross-instance propagation: A->B {a_to_b:?}, B->A {b_to_a:?}");
    assert!(a_to_b < Duration::from_secs(5) && b_to_a < Duration::from_secs(5));

    // Clients cannot pose as instances.
    let mut raw = RawClientAttempt::join(
        &a.ws_url(&t.t1.device_credential),
        "snapkasir-instance-fake",
    )
    .await;
    assert!(raw.expect_error_and_close().await.contains("peer id"));

    repo_x.stop().await;
    repo_y.stop().await;
}

/// A raw connection that only sends its join (the server may refuse it).
struct RawClientAttempt;

impl RawClientAttempt {
    async fn join(url: &str, peer: &str) -> RawClient {
        use futures::SinkExt;
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        ws.send(tokio_tungstenite::tungstenite::Message::Binary(
            join_frame(peer).into(),
        ))
        .await
        .unwrap();
        RawClient {
            ws,
            peer: peer.into(),
            server_peer: String::new(),
        }
    }
}

/// Each tenant has its own repos on each instance (its tenant-wide one and one per store), and
/// instances peer per repo: two tenants' changes both cross instances, neither tenant reaches
/// the other's document, and an instance's connection must say which tenant it is for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tenant_crosses_instances_in_its_own_repo() {
    let db = TestDb::create().await;
    let a = TestServer::start_clustered(db.storage().await).await;
    let b = TestServer::start_clustered(db.storage().await).await;
    let t1 = setup_tenant(&a.state, "Toko Satu", "S1").await;
    let t2 = setup_tenant(&a.state, "Toko Dua", "D1").await;

    let mut docs = Vec::new();
    for (t, value) in [(&t1, "satu"), (&t2, "dua")] {
        let (on_a, da) = rust_client(&a.ws_url(&t.t1.device_credential)).await;
        let (on_b, db_) = rust_client(&b.ws_url(&t.t2.device_credential)).await;
        let doc_a = on_a.create(automerge::Automerge::new()).await.unwrap();
        doc_a.with_document(|d| put_str(d, "k", value));
        let id = doc_a.document_id().clone();
        let doc_b = find_within(&on_b, &id, 20, &format!("instance B never served {value}")).await;
        wait_doc(&doc_b, "A -> B", |d| {
            get_str(d, "k").as_deref() == Some(value)
        })
        .await;
        doc_b.with_document(|d| put_str(d, "back", value));
        wait_doc(&doc_a, "B -> A", |d| get_str(d, "back").is_some()).await;
        docs.push((id, on_a, on_b, da, db_));
    }
    // Each tenant's tills opened its tenant repo and their store's repo, on both instances.
    let mut want = vec![t1.tenant_id.clone(), t2.tenant_id.clone()];
    want.extend([&t1, &t2].map(|t| format!("{}/{}", t.tenant_id, t.store_id)));
    want.sort();
    for (name, server) in [("A", &a), ("B", &b)] {
        let mut open: Vec<String> = server
            .state
            .sync
            .repos
            .open()
            .iter()
            .map(|(k, _)| k.label())
            .collect();
        open.sort();
        assert_eq!(open, want, "the repos open on instance {name}");
    }

    // Tenant 2's till asks for tenant 1's document: not available, on either instance.
    let other = docs[0].0.clone();
    assert!(docs[1].1.find(other.clone()).await.unwrap().is_none());
    assert!(docs[1].2.find(other).await.unwrap().is_none());

    // An instance credential without a tenant is refused before the upgrade, and one in the
    // query string (where proxies log it) is refused outright.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let token = a.state.services.cluster_token(&a.state.sync.instance_id);
    let mut req = format!("ws://{}/sync", b.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    for (req, status) in [
        (req, 400),
        (b.ws_url(&token).into_client_request().unwrap(), 401),
    ] {
        match tokio_tungstenite::connect_async(req).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), status)
            }
            other => panic!("expected HTTP {status}, got {other:?}"),
        }
    }

    for (_, on_a, on_b, _, _) in docs {
        on_a.stop().await;
        on_b.stop().await;
    }
}
