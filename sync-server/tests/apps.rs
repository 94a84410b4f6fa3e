//! App credentials (issue 13, "other products"): the owners-only API that makes, lists and
//! revokes them, and what a credential reaches over real WebSocket connections: the tenant's
//! tenant-wide documents (its own are claimed by the tenant), never a store's document nor
//! another tenant's; revoked, it is cut off within a second and refused.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use sync_server::state::AppState;
use sync_server::storage::DynStorage;

/// Makes a credential named `name` through the API with `token`; returns `(id, secret)`.
async fn create_app(state: &AppState, token: &str, name: &str) -> (String, String) {
    let (status, body) = router_call(
        state,
        "POST",
        "/api/v1/apps",
        Some(token),
        Some(json!({ "name": name }).to_string()),
    )
    .await;
    let v = body_value(&body);
    assert_eq!(status, StatusCode::CREATED, "{v}");
    (
        v["id"].as_str().unwrap().to_string(),
        v["secret"].as_str().unwrap().to_string(),
    )
}

/// The next frame about `doc`: the server also offers the connection the documents it may
/// have (the tenant's other tenant-wide documents), which are skipped here.
async fn next_about(raw: &mut RawClient, doc: &str) -> shared_model::wire::Message {
    loop {
        let f = raw.next_frame().await.expect("a reply before the close");
        if f.document_id() == Some(doc) {
            return f;
        }
    }
}

async fn list(state: &AppState, token: &str) -> serde_json::Value {
    let (status, body) = router_call(state, "GET", "/api/v1/apps", Some(token), None).await;
    assert_eq!(status, StatusCode::OK);
    body_value(&body)
}

#[tokio::test]
async fn owners_make_list_and_revoke_app_credentials() {
    let (storage, _dir) = sqlite_storage().await;
    let server = TestServer::start(storage).await;
    let state = &server.state;
    let a = setup_tenant(state, "Toko A", "A1").await;
    let b = setup_tenant(state, "Toko B", "B1").await;

    let (id, secret) = create_app(state, &a.owner_token, "  Pesan online  ").await;
    assert!(secret.starts_with("ska_") && secret.len() > 40, "{secret}");
    let listed = list(state, &a.owner_token).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["name"], "Pesan online");
    assert!(listed[0]["revoked_at"].is_null());
    assert!(listed[0]["last_used_at"].is_null());
    // The secret is told once: never listed, and only its hash is stored.
    assert!(!listed.to_string().contains(&secret));
    let row = state
        .services
        .storage
        .app_credential(&id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(row.secret_hash, secret);
    assert_eq!(row.tenant_id, a.tenant_id);

    // Bad names are refused and make nothing.
    for name in ["", "   ", &"x".repeat(65), "tab\there"] {
        let (status, _) = router_call(
            state,
            "POST",
            "/api/v1/apps",
            Some(&a.owner_token),
            Some(json!({ "name": name }).to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name:?}");
    }
    let (status, _) = router_call(
        state,
        "POST",
        "/api/v1/apps",
        Some(&a.owner_token),
        Some(r#"{"name": 5}"#.into()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        list(state, &a.owner_token).await.as_array().unwrap().len(),
        1
    );

    // Another tenant's owner sees none of them and cannot revoke them.
    assert_eq!(list(state, &b.owner_token).await, json!([]));
    let revoke = format!("/api/v1/apps/{id}/revoke");
    let (status, _) = router_call(state, "POST", &revoke, Some(&b.owner_token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Managers, terminals and the app itself manage none.
    let addr = "127.0.0.1".parse().unwrap();
    state
        .services
        .create_manager(&a.owner, &a.store_id, "mgr-a@example.com", "rahasia-123")
        .await
        .unwrap();
    let manager = state
        .services
        .login("mgr-a@example.com", "rahasia-123", addr)
        .await
        .unwrap()
        .access_token;
    for (method, path, body) in [
        ("GET", "/api/v1/apps", None),
        (
            "POST",
            "/api/v1/apps",
            Some(json!({"name": "x"}).to_string()),
        ),
        ("POST", revoke.as_str(), None),
    ] {
        let (status, _) = router_call(state, method, path, Some(&manager), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "manager {method} {path}");
        for token in [&a.t1.device_credential, &secret] {
            let (status, _) = router_call(state, method, path, Some(token), body.clone()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        }
    }
    let (status, _) = router_call(state, "GET", "/api/v1/apps", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = router_call(
        state,
        "POST",
        "/api/v1/apps/nope/revoke",
        Some(&a.owner_token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Revoked: listed with the time; revoking again keeps the first time.
    let (status, body) = router_call(state, "POST", &revoke, Some(&a.owner_token), None).await;
    assert_eq!(status, StatusCode::OK);
    let first = body_value(&body)["revoked_at"]
        .as_i64()
        .expect("revoked_at");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (_, body) = router_call(state, "POST", &revoke, Some(&a.owner_token), None).await;
    assert_eq!(body_value(&body)["revoked_at"].as_i64(), Some(first));
    assert_eq!(
        list(state, &a.owner_token).await[0]["revoked_at"].as_i64(),
        Some(first)
    );
}

/// What an app credential reaches over the sync endpoint.
async fn apps_reach_their_tenant_wide_documents_only(storage: DynStorage) {
    let server = TestServer::start(storage).await;
    let state = &server.state;
    let a = setup_tenant(state, "Toko A", "A1").await;
    let b = setup_tenant(state, "Toko B", "B1").await;
    let (app_id, secret) = create_app(state, &a.owner_token, "Web A").await;
    let (_, secret2) = create_app(state, &a.owner_token, "Web A2").await;
    let (_, other_tenant) = create_app(state, &b.owner_token, "Web B").await;

    // The app creates a document: claimed by the tenant, with no store.
    let (repo, _d) = rust_client(&server.ws_url(&secret)).await;
    let doc = repo.create(automerge::Automerge::new()).await.unwrap();
    doc.with_document(|d| put_str(d, "list", "beras"));
    let doc_id = doc.document_id().clone();
    let storage = &state.services.storage;
    let deadline = Instant::now() + Duration::from_secs(10);
    let claim = loop {
        if let Some(c) = storage.doc_claim(&doc_id.to_string()).await.unwrap() {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "the app's document was never claimed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(claim.tenant_id, a.tenant_id);
    assert_eq!(claim.store_id, None);
    assert_eq!(claim.claimed_by, format!("app:{app_id}"));
    let listed = list(state, &a.owner_token).await;
    assert!(listed[0]["last_used_at"].as_i64().is_some(), "{listed}");
    assert_eq!(listed[0]["connections"], 1);

    // Another app and the owner of the tenant reach it and converge with it.
    let (repo2, _d2) = rust_client(&server.ws_url(&secret2)).await;
    let doc2 = find_within(&repo2, &doc_id, 10, "a second app never found the document").await;
    let (repo_owner, _d3) = rust_client(&server.ws_url(&a.owner_token)).await;
    let doc_owner = find_within(&repo_owner, &doc_id, 10, "the owner never found it").await;
    doc2.with_document(|d| put_str(d, "second", "telur"));
    doc_owner.with_document(|d| put_str(d, "owner", "gula"));
    for (who, d) in [("app", &doc), ("app 2", &doc2), ("owner", &doc_owner)] {
        wait_doc(d, &format!("{who} converges"), |d| {
            ["list", "second", "owner"]
                .iter()
                .all(|k| get_str(d, k).is_some())
        })
        .await;
    }

    // A till's document (claimed by its store) is out of the app's reach, even for writing.
    let (till, _dt) = rust_client(&server.ws_url(&a.t1.device_credential)).await;
    let till_doc = till.create(automerge::Automerge::new()).await.unwrap();
    till_doc.with_document(|d| put_str(d, "sale", "1"));
    let till_doc_id = till_doc.document_id().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while storage.doc_claim(&till_doc_id).await.unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the till's document was never claimed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut raw = RawClient::connect(&server.ws_url(&secret), "raw-app").await;
    raw.send(raw.request_frame(&till_doc_id)).await;
    let f = next_about(&mut raw, &till_doc_id).await;
    assert_eq!(
        (f.kind(), f.document_id()),
        ("doc-unavailable", Some(till_doc_id.as_str()))
    );
    raw.send(raw.sync_frame(&till_doc_id, &sync_message_with_changes()))
        .await;
    assert_eq!(
        next_about(&mut raw, &till_doc_id).await.kind(),
        "doc-unavailable"
    );
    let found = tokio::time::timeout(
        Duration::from_secs(10),
        repo.find(till_doc.document_id().clone()),
    )
    .await
    .expect("find answers")
    .unwrap();
    assert!(found.is_none(), "an app must not reach a till's document");

    // Another tenant's app reaches neither.
    let mut raw_b = RawClient::connect(&server.ws_url(&other_tenant), "raw-b").await;
    for d in [doc_id.to_string(), till_doc_id.clone()] {
        raw_b.send(raw_b.request_frame(&d)).await;
        let f = next_about(&mut raw_b, &d).await;
        assert_eq!(
            (f.kind(), f.document_id()),
            ("doc-unavailable", Some(d.as_str()))
        );
    }
    // The write attempts changed nothing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(till_doc.with_document(|d| get_str(d, "evil").is_none()));
    let claim = storage.doc_claim(&till_doc_id).await.unwrap().unwrap();
    assert_eq!(claim.store_id.as_deref(), Some(a.store_id.as_str()));
    for r in [repo, repo2, repo_owner, till] {
        r.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_reach_their_tenant_wide_documents_only_sqlite() {
    let (storage, _dir) = sqlite_storage().await;
    apps_reach_their_tenant_wide_documents_only(storage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_reach_their_tenant_wide_documents_only_postgres() {
    let db = TestDb::create().await;
    apps_reach_their_tenant_wide_documents_only(db.storage().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_app_credentials_are_cut_off_within_a_second() {
    let db = TestDb::create().await;
    let server = TestServer::start(db.storage().await).await;
    let state = &server.state;
    let a = setup_tenant(state, "Toko A", "A1").await;
    let (id1, s1) = create_app(state, &a.owner_token, "Web 1").await;
    let (id2, s2) = create_app(state, &a.owner_token, "Web 2").await;

    // Revoked through the API on this instance.
    let mut c1 = RawClient::connect(&server.ws_url(&s1), "web-1").await;
    // Revoked in the database by "another instance": found by polling.
    let mut c2 = RawClient::connect(&server.ws_url(&s2), "web-2").await;
    let t0 = Instant::now();
    let (status, _) = router_call(
        state,
        "POST",
        &format!("/api/v1/apps/{id1}/revoke"),
        Some(&a.owner_token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let msg = c1.expect_error_and_close().await;
    assert!(msg.contains("revoked"), "{msg}");
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t0.elapsed()
    );

    let t0 = Instant::now();
    state
        .services
        .storage
        .revoke_app_credential(&id2, sync_server::now_ms())
        .await
        .unwrap();
    let msg = c2.expect_error_and_close().await;
    assert!(msg.contains("revoked"), "{msg}");
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t0.elapsed()
    );

    // Neither comes back; a made-up secret never got in.
    for token in [s1.as_str(), s2.as_str(), "ska_made-up"] {
        let r = tokio_tungstenite::connect_async(server.ws_url(token)).await;
        assert!(
            matches!(&r, Err(tokio_tungstenite::tungstenite::Error::Http(resp)) if resp.status() == 401),
            "{token}"
        );
    }
}
