//! What the tills and staff pages read, through the HTTP API: a terminal's app version from its
//! heartbeat, "online now" across two instances sharing one database (a real sync connection
//! to one, the listing asked of the other), a revoked till's connection closing within a second
//! and its credential refused on both, and the store's managers. Online presence runs on both
//! backends; the two-instance part needs
//! PostgreSQL (SQLite is one instance's own file).

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};
use sync_server::state::AppState;

/// The terminal `id` as `GET …/terminals` lists it.
async fn listed(state: &AppState, t: &Tenancy, id: &str) -> Value {
    let path = format!("/api/v1/stores/{}/terminals", t.store_id);
    let (st, v) = call(state, "GET", &path, Some(&t.owner_token), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .unwrap_or_else(|| panic!("{id} not listed: {v}"))
        .clone()
}

/// Waits until the listing of `id` (asked of `state`) says `online == want`; how long it took.
async fn wait_online(state: &AppState, t: &Tenancy, id: &str, want: bool) -> Duration {
    let t0 = Instant::now();
    loop {
        let v = listed(state, t, id).await;
        if v["online"] == want {
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "online never became {want}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The app version and a bad one, presence on one instance, revocation, managers.
async fn story(a: TestServer, b: Option<TestServer>) {
    let t = setup_tenant(&a.state, "Toko Presence", "PR").await;
    let t1 = &t.t1.terminal_id;

    // The heartbeat carries the app version; a version with control characters is refused.
    let beat = |v: Value| {
        let mut body = json!({"terminal_time": chrono::Utc::now().to_rfc3339(),
            "waiting_documents": 1, "waiting_sales": 4, "unacknowledged": []});
        body["app_version"] = v;
        body
    };
    let hb = "/api/v1/terminals/me/heartbeat";
    let cred = t.t1.device_credential.as_str();
    let (st, v) = call(&a.state, "POST", hb, Some(cred), Some(beat(json!("1.2.3")))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let v = listed(&a.state, &t, t1).await;
    assert_eq!(v["last_report"]["app_version"], "1.2.3", "{v}");
    assert_eq!(v["last_report"]["waiting_sales"], 4, "{v}");
    assert_eq!(v["online"], false, "no sync connection yet: {v}");
    for bad in [json!("1.0\u{7}"), json!(""), json!("x".repeat(33))] {
        let (st, v) = call(&a.state, "POST", hb, Some(cred), Some(beat(bad))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    }
    assert_eq!(
        listed(&a.state, &t, t1).await["last_report"]["app_version"],
        "1.2.3"
    );

    // A real sync connection to instance A: online on A at once, and on B (same database)
    // once A has vouched for it.
    let (repo, dialer) = rust_client(&a.ws_url(cred)).await;
    let on_a = wait_online(&a.state, &t, t1, true).await;
    eprintln!("online on the instance holding the connection after {on_a:?}");
    if let Some(b) = &b {
        let on_b = wait_online(&b.state, &t, t1, true).await;
        eprintln!("online on the other instance after {on_b:?}");
        assert_eq!(listed(&b.state, &t, t1).await["connected"], false);
    }
    assert_eq!(
        listed(&a.state, &t, &t.t2.terminal_id).await["online"],
        false
    );

    // Revoking (through B when there is one): the connection on A closes within a second, and
    // the till is offline everywhere.
    let revoker = b.as_ref().map_or(&a.state, |b| &b.state);
    let t0 = Instant::now();
    let (st, v) = call(
        revoker,
        "POST",
        &format!("/api/v1/terminals/{t1}/revoke"),
        Some(&t.owner_token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    while a.state.services.connections.terminal_connected(t1) {
        assert!(
            t0.elapsed() < Duration::from_secs(1),
            "the revoked till's connection is still open after a second"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("revoked till's connection closed after {:?}", t0.elapsed());
    // Its credential is refused everywhere from then on, on A too, which had accepted it for
    // the heartbeat and the connection above and keeps accepted credentials for a while.
    for s in std::iter::once(&a.state).chain(b.as_ref().map(|b| &b.state)) {
        let (st, v) = call(s, "POST", hb, Some(cred), Some(beat(json!("1.2.3")))).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    }
    for s in std::iter::once(&a.state).chain(b.as_ref().map(|b| &b.state)) {
        let v = listed(s, &t, t1).await;
        assert_eq!(
            (&v["online"], v["revoked_at"].is_i64()),
            (&json!(false), true),
            "{v}"
        );
    }
    drop(dialer);
    repo.stop().await;

    // Managers: listed for the owner (disabled ones marked), 404 for another store's manager.
    let s = &a.state.services;
    let email = format!("mgr-{}@example.com", uuid::Uuid::now_v7().simple());
    let id = s
        .create_manager(&t.owner, &t.store_id, &email, "manager-123")
        .await
        .unwrap();
    let other = format!("mgr2-{}@example.com", uuid::Uuid::now_v7().simple());
    s.create_manager(&t.owner, &t.store2_id, &other, "manager-123")
        .await
        .unwrap();
    s.set_user_disabled(&t.owner, &id, true).await.unwrap();
    let managers = format!("/api/v1/stores/{}/managers", t.store_id);
    let (st, v) = call(&a.state, "GET", &managers, Some(&t.owner_token), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!([{"id": id, "email": email, "created_at": v[0]["created_at"], "disabled": true}])
    );
    let token = s
        .login(&other, "manager-123", "127.0.0.1".parse().unwrap())
        .await
        .unwrap()
        .access_token;
    let (st, v) = call(&a.state, "GET", &managers, Some(&token), None).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tills_on_sqlite() {
    let (storage, _dir) = sqlite_storage().await;
    story(TestServer::start(storage).await, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tills_on_two_postgres_instances() {
    let db = TestDb::create().await;
    let a = TestServer::start(db.storage().await).await;
    let b = TestServer::start(db.storage().await).await;
    story(a, Some(b)).await;
}
