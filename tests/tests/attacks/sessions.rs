//! Attacks: sessions (see docs/security.md, "Sign-in, sessions and access"). Owner and manager
//! access must be revocable: sign-out, disabling a user and a password change end sessions at
//! once, a stolen refresh token is caught when used twice, and a sync connection opened with an
//! access token lives no longer than the token and its session. Each test runs the real
//! `sync-server` binary on the embedded store.

use std::time::Duration;

use serde_json::json;
use snapkasir_tests::auth::{AuthServer, OWNER_PASSWORD};

/// How soon a sync connection must close once its session ends.
const CUT_OFF: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_ends_the_session_and_its_sync_connection() {
    let s = AuthServer::sqlite("attack-signout", "");
    let t = s.tenant("Toko A", "A1", "owner-a@example.com");
    let (access, refresh) = s.sign_in(&t.email, OWNER_PASSWORD).await;
    let mut socket = s.sync_socket(&access, "owner-laptop").await;

    let out = s
        .call("POST", "/api/v1/auth/logout", Some(&access), None, &[])
        .await;
    assert_eq!(out.status, 204, "{:?}", out.body);
    let closed = socket.closed_within(CUT_OFF).await;
    assert!(closed.is_some(), "the sync connection outlived sign-out");
    assert_eq!(s.me(&access).await, 401, "the access token still works");
    assert_eq!(
        s.refresh(&refresh).await.status,
        401,
        "the refresh token still works"
    );
    // Nor can the stolen access token open a new sync connection.
    let url = format!("ws://{}/sync?token={access}", s.server.addr);
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_manager_is_cut_off_everywhere() {
    let s = AuthServer::sqlite("attack-disable", "");
    let t = s.tenant("Toko A", "A1", "owner-a@example.com");
    let (owner, _) = s.sign_in(&t.email, OWNER_PASSWORD).await;
    let made = s
        .call(
            "POST",
            &format!("/api/v1/stores/{}/managers", t.store_id),
            Some(&owner),
            Some(json!({"email": "mgr@example.com", "password": "manager-pass-1"})),
            &[],
        )
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let manager_id = made.body["id"].as_str().unwrap().to_string();
    let (mgr, mgr_refresh) = s.sign_in("mgr@example.com", "manager-pass-1").await;
    let mut socket = s.sync_socket(&mgr, "mgr-phone").await;

    // A manager cannot disable anyone; the owner cannot disable themselves.
    let path = |id: &str, what: &str| format!("/api/v1/users/{id}/{what}");
    let by_mgr = s
        .call("POST", &path(&t.owner_id, "disable"), Some(&mgr), None, &[])
        .await;
    assert_eq!(by_mgr.status, 403, "{:?}", by_mgr.body);
    let self_disable = s
        .call(
            "POST",
            &path(&t.owner_id, "disable"),
            Some(&owner),
            None,
            &[],
        )
        .await;
    assert_eq!(self_disable.status, 403, "{:?}", self_disable.body);
    assert_eq!(s.me(&owner).await, 200);

    let off = s
        .call(
            "POST",
            &path(&manager_id, "disable"),
            Some(&owner),
            None,
            &[],
        )
        .await;
    assert_eq!(off.status, 204, "{:?}", off.body);
    assert!(
        socket.closed_within(CUT_OFF).await.is_some(),
        "the disabled manager's sync connection stayed open"
    );
    assert_eq!(
        s.me(&mgr).await,
        401,
        "the disabled manager's token still works"
    );
    assert_eq!(s.refresh(&mgr_refresh).await.status, 401);
    let again = s.login("mgr@example.com", "manager-pass-1").await;
    assert_eq!(
        (again.status, again.code()),
        (403, "forbidden"),
        "{:?}",
        again.body
    );

    // Another tenant's owner cannot re-enable them (nor learn they exist).
    let other = s.tenant("Toko B", "B1", "owner-b@example.com");
    let (intruder, _) = s.sign_in(&other.email, OWNER_PASSWORD).await;
    let probe = s
        .call(
            "POST",
            &path(&manager_id, "enable"),
            Some(&intruder),
            None,
            &[],
        )
        .await;
    assert_eq!(probe.status, 404, "{:?}", probe.body);
    assert_eq!(
        s.login("mgr@example.com", "manager-pass-1").await.status,
        403
    );

    let on = s
        .call(
            "POST",
            &path(&manager_id, "enable"),
            Some(&owner),
            None,
            &[],
        )
        .await;
    assert_eq!(on.status, 204, "{:?}", on.body);
    s.sign_in("mgr@example.com", "manager-pass-1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_ends_every_other_session() {
    let s = AuthServer::sqlite("attack-password", "");
    let t = s.tenant("Toko A", "A1", "owner-a@example.com");
    // The thief signed in with the stolen password first.
    let (thief, thief_refresh) = s.sign_in(&t.email, OWNER_PASSWORD).await;
    let mut thief_socket = s.sync_socket(&thief, "thief").await;
    let (mine, _) = s.sign_in(&t.email, OWNER_PASSWORD).await;
    let change = |old: &str, new: &str| json!({"old_password": old, "new_password": new});

    // Without the old password nothing changes, and the thief is not thrown out.
    let wrong = s
        .call(
            "POST",
            "/api/v1/me/password",
            Some(&mine),
            Some(change("not-the-password", "brand-new-pass-1")),
            &[],
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (403, "forbidden"),
        "{:?}",
        wrong.body
    );
    assert_eq!(s.me(&thief).await, 200);

    let ok = s
        .call(
            "POST",
            "/api/v1/me/password",
            Some(&mine),
            Some(change(OWNER_PASSWORD, "brand-new-pass-1")),
            &[],
        )
        .await;
    assert_eq!(ok.status, 204, "{:?}", ok.body);
    assert!(
        thief_socket.closed_within(CUT_OFF).await.is_some(),
        "the thief's sync connection stayed open"
    );
    assert_eq!(s.me(&thief).await, 401, "the thief's token still works");
    assert_eq!(s.refresh(&thief_refresh).await.status, 401);
    assert_eq!(s.me(&mine).await, 200, "the session that changed it stays");
    assert_eq!(s.login(&t.email, OWNER_PASSWORD).await.status, 401);
    s.sign_in(&t.email, "brand-new-pass-1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_refresh_token_revokes_its_family() {
    let s = AuthServer::sqlite("attack-refresh", "");
    let t = s.tenant("Toko A", "A1", "owner-a@example.com");
    let (_, stolen) = s.sign_in(&t.email, OWNER_PASSWORD).await;
    // The owner's app refreshes; the thief kept a copy of the same refresh token.
    let next = s.refresh(&stolen).await;
    assert_eq!(next.status, 200, "{:?}", next.body);
    let (access2, refresh2) = (
        next.body["access_token"].as_str().unwrap().to_string(),
        next.body["refresh_token"].as_str().unwrap().to_string(),
    );
    let mut socket = s.sync_socket(&access2, "owner-tablet").await;

    let replay = s.refresh(&stolen).await;
    assert_eq!(replay.status, 401, "a spent refresh token worked again");
    // The whole family is revoked: the newer tokens stop working too.
    assert_eq!(s.me(&access2).await, 401);
    assert_eq!(s.refresh(&refresh2).await.status, 401);
    assert!(socket.closed_within(CUT_OFF).await.is_some());
    // The owner signs in again; other sessions were never affected.
    s.sign_in(&t.email, OWNER_PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_connection_closes_when_its_token_expires() {
    let s = AuthServer::sqlite("attack-expiry", "access_token_ttl_secs = 2");
    let t = s.tenant("Toko A", "A1", "owner-a@example.com");
    let (access, _) = s.sign_in(&t.email, OWNER_PASSWORD).await;
    let mut socket = s.sync_socket(&access, "owner-laptop").await;
    // The token expires within 2 s of its issue (whole seconds): the connection must be gone
    // within a second after that.
    let closed = socket.closed_within(Duration::from_secs(4)).await;
    assert!(closed.is_some(), "the sync connection outlived its token");
    assert_eq!(s.me(&access).await, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_managers_endpoint_does_not_reveal_other_tenants_emails() {
    let s = AuthServer::sqlite("attack-managers", "");
    let a = s.tenant("Toko A", "A1", "owner-a@example.com");
    let b = s.tenant("Toko B", "B1", "owner-b@example.com");
    let (owner_b, _) = s.sign_in(&b.email, OWNER_PASSWORD).await;
    let add = |email: &str| {
        let path = format!("/api/v1/stores/{}/managers", b.store_id);
        let body = json!({"email": email, "password": "attacker-pass-1"});
        let (s, owner_b) = (&s, owner_b.clone());
        async move { s.call("POST", &path, Some(&owner_b), Some(body), &[]).await }
    };
    let taken = add(&a.email).await;
    let fresh = add("nobody-yet@example.com").await;
    // The same status and the same shape of answer.
    assert_eq!(
        taken.status, fresh.status,
        "{:?} vs {:?}",
        taken.body, fresh.body
    );
    let keys = |v: &serde_json::Value| {
        v.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(keys(&taken.body), keys(&fresh.body));
    // Nothing was stored for the taken email: the owner of tenant A is untouched and the
    // attacker's password does not sign in as them.
    assert_eq!(s.login(&a.email, "attacker-pass-1").await.status, 401);
    let (owner_a, _) = s.sign_in(&a.email, OWNER_PASSWORD).await;
    let me = s.call("GET", "/api/v1/me", Some(&owner_a), None, &[]).await;
    assert_eq!(me.body["tenant_id"], a.tenant_id.as_str());
    assert_eq!(me.body["role"], "owner");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_private() {
    // Without a metrics token /metrics does not exist.
    let dir = std::env::temp_dir().join(format!("attack-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = vec![
        "--data-dir".to_string(),
        dir.join("data").display().to_string(),
    ];
    let plain = snapkasir_tests::processes::ServerProcess::start_with(
        &db,
        &[],
        "127.0.0.1:0",
        &dir.join("server.log"),
    );
    let client = snapkasir_tests::processes::http_client();
    let status = |url: String, token: Option<&'static str>| {
        let client = client.clone();
        async move {
            let mut r = client.get(url);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            r.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(status(format!("{}/metrics", plain.url()), None).await, 404);
    drop(plain);
    let _ = std::fs::remove_dir_all(&dir);

    // With one, only its bearer reads them; an owner's token is not enough.
    let s = AuthServer::sqlite("attack-metrics-token", "");
    let t = s.tenant("Toko A", "A1", "owner-a@example.com");
    let (owner, _) = s.sign_in(&t.email, OWNER_PASSWORD).await;
    let url = format!("{}/metrics", s.base);
    assert_eq!(status(url.clone(), None).await, 401);
    assert_eq!(status(url.clone(), Some("guess")).await, 401);
    assert_eq!(
        s.call("GET", "/metrics", Some(&owner), None, &[])
            .await
            .status,
        401
    );
    assert_eq!(s.metric("snapkasir_sync_connections").await, 0);
}
