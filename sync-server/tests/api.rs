//! In-process router tests of the HTTP API (`tower::ServiceExt::oneshot`).

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};
use sync_server::config::Config;
use sync_server::state::AppState;
use sync_server::storage::DynStorage;

struct Api {
    state: AppState,
}

impl Api {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let body = body.map(str::to_string);
        let (status, bytes) = common::router_call(&self.state, method, path, token, body).await;
        (status, common::body_value(&bytes))
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call("GET", path, token, None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &str) -> (StatusCode, Value) {
        self.call("POST", path, token, Some(body)).await
    }

    async fn login(&self, body: &str) -> (StatusCode, Value) {
        self.post("/api/v1/auth/login", None, body).await
    }
}

/// Asserts that the answer `st`, `v` is the error `status` with the JSON `code`.
#[track_caller]
fn assert_error(st: StatusCode, v: &Value, status: StatusCode, code: &str) {
    assert_eq!((st, v["code"].as_str()), (status, Some(code)), "{v}");
}

async fn story(storage: DynStorage) {
    let config = Config {
        login_max_failures_per_account: 3,
        metrics_token: Some(sync_server::config::Secret::new("story-metrics-token")),
        ..Config::default()
    };
    let state = AppState::new(storage, Arc::new(config)).await.unwrap();
    let b = state
        .services
        .bootstrap(
            "Toko Maju",
            "JKT1",
            "Jakarta 1",
            "Owner@Example.com",
            "rahasia-123",
        )
        .await
        .unwrap();
    let api = Api { state };

    // ---- login and tokens
    let (st, v) = api
        .login(r#"{"email":"owner@example.com","password":"rahasia-123"}"#)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let access = v["access_token"].as_str().unwrap().to_string();
    let refresh = json!({"refresh_token": v["refresh_token"]}).to_string();
    let (st, me) = api.get("/api/v1/me", Some(&access)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["tenant_id"], b.tenant_id.as_str());
    assert_eq!(me["role"], "owner");

    let (st, v) = api.post("/api/v1/auth/refresh", None, &refresh).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["access_token"].is_string());
    let refreshed = v["access_token"].as_str().unwrap().to_string();
    let (st, v) = api.post("/api/v1/auth/refresh", None, &refresh).await;
    // Refresh tokens are one-time, and a second use ends the whole session (reuse detection).
    assert_error(st, &v, StatusCode::UNAUTHORIZED, "unauthorized");
    for token in [&access, &refreshed] {
        let (st, v) = api.get("/api/v1/me", Some(token)).await;
        assert_error(st, &v, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let (st, v) = api
        .login(r#"{"email":"owner@example.com","password":"rahasia-123"}"#)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let access = v["access_token"].as_str().unwrap().to_string();

    // ---- bad credentials, tokens and JSON
    for token in ["garbage", "a.b.c", &format!("{}x", access)] {
        let (st, v) = api.get("/api/v1/me", Some(token)).await;
        assert_error(st, &v, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let (st, v) = api.get("/api/v1/stores", None).await;
    assert_error(st, &v, StatusCode::UNAUTHORIZED, "unauthorized");
    let (st, v) = api.login("{not json").await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "bad_request");
    let (st, v) = api.login(r#"{"email":"x"}"#).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "bad_request");
    let (st, v) = api.get("/api/v1/nope", None).await;
    assert_error(st, &v, StatusCode::NOT_FOUND, "not_found");

    // ---- stores, managers
    const STORES: &str = "/api/v1/stores";
    let owner = Some(access.as_str());
    let (st, v) = api
        .post(STORES, owner, r#"{"code":"BDG1","name":"Bandung"}"#)
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let store2 = v["id"].as_str().unwrap().to_string();
    let (st, v) = api
        .post(STORES, owner, r#"{"code":"BDG1","name":"Again"}"#)
        .await;
    assert_error(st, &v, StatusCode::CONFLICT, "conflict");
    let (st, v) = api
        .post(STORES, owner, r#"{"code":"no spaces!","name":"x"}"#)
        .await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "bad_request");
    let (_, v) = api.get("/api/v1/stores", Some(&access)).await;
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(
        v.to_string().find("store_key").is_none(),
        "store keys are not listed"
    );
    let (st, _) = api
        .post(
            &format!("/api/v1/stores/{store2}/managers"),
            Some(&access),
            r#"{"email":"mgr@example.com","password":"manager-123"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, v) = api
        .login(r#"{"email":"mgr@example.com","password":"manager-123"}"#)
        .await;
    let mgr = v["access_token"].as_str().unwrap().to_string();
    // A manager of store 2 cannot see store 1 or make codes for it.
    let (st, _) = api
        .post(
            &format!("/api/v1/stores/{}/enrollment-codes", b.store_id),
            Some(&mgr),
            r#"{"terminal_name":"x"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, v) = api.get("/api/v1/stores", Some(&mgr)).await;
    assert_eq!(v.as_array().unwrap().len(), 1);

    // ---- enrolment and revocation
    let (st, v) = api
        .post(
            &format!("/api/v1/stores/{}/enrollment-codes", b.store_id),
            Some(&access),
            r#"{"terminal_name":"Kasir 1"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let code = v["code"].as_str().unwrap().to_string();
    let enroll = |code: &str| json!({ "code": code }).to_string();
    let (st, v) = api
        .post(
            "/api/v1/terminals/enroll",
            None,
            &enroll(&code.to_lowercase()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["device_credential"].as_str().unwrap().starts_with("skd_"));
    assert_eq!(v["store_id"], b.store_id.as_str());
    assert_eq!(v["sync_path"], "/sync");
    assert!(!v["store_key"].as_str().unwrap().is_empty());
    let terminal_id = v["terminal_id"].as_str().unwrap().to_string();
    let (st, v) = api
        .post("/api/v1/terminals/enroll", None, &enroll(&code))
        .await;
    // Codes are one-time.
    assert_error(st, &v, StatusCode::UNAUTHORIZED, "unauthorized");
    // A manager of another store cannot revoke it.
    let revoke = format!("/api/v1/terminals/{terminal_id}/revoke");
    let (st, _) = api.call("POST", &revoke, Some(&mgr), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = api.call("POST", &revoke, Some(&access), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, v) = api
        .get(
            &format!("/api/v1/stores/{}/terminals", b.store_id),
            Some(&access),
        )
        .await;
    assert!(v[0]["revoked_at"].is_i64(), "{v}");
    assert_eq!(v[0]["connected"], false);

    // ---- login limits per account
    for _ in 0..3 {
        let (st, _) = api
            .login(r#"{"email":"owner@example.com","password":"wrong"}"#)
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let (st, v) = api
        .login(r#"{"email":"owner@example.com","password":"rahasia-123"}"#)
        .await;
    assert_error(st, &v, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // Unknown accounts answer like wrong passwords.
    let (st, v) = api
        .login(r#"{"email":"ghost@example.com","password":"whatever"}"#)
        .await;
    assert_eq!(
        (st, v["message"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong email or password"))
    );

    // ---- OpenAPI, health
    let (st, v) = api.get("/api/v1/openapi.json", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        v["paths"]["/api/v1/terminals/enroll"]["post"].is_object(),
        "{v}"
    );
    let (st, _) = api.get("/healthz", None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = api.get("/readyz", None).await;
    assert_eq!(st, StatusCode::OK);
    // /metrics wants the metrics token (`metrics_token`).
    let (st, _) = api.get("/metrics", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = api.get("/metrics", Some(&access)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = api.get("/metrics", Some("story-metrics-token")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(v.as_str().unwrap().contains("snapkasir_sync_connections"));
    assert!(
        v.as_str()
            .unwrap()
            .contains("snapkasir_password_checks_total")
    );
}

#[tokio::test]
async fn metrics_are_not_served_without_a_token() {
    let (s, _dir) = common::sqlite_storage().await;
    let state = AppState::new(s, Arc::new(Config::default())).await.unwrap();
    let api = Api { state };
    let (st, v) = api.get("/metrics", Some("anything")).await;
    assert_error(st, &v, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn api_story_sqlite() {
    let (s, _dir) = common::sqlite_storage().await;
    story(s).await;
}

#[tokio::test]
async fn api_story_postgres() {
    let db = common::TestDb::create().await;
    story(db.storage().await).await;
}

#[tokio::test]
async fn login_limited_per_address() {
    let (s, _dir) = common::sqlite_storage().await;
    let config = Config {
        login_max_failures_per_address: 2,
        ..Config::default()
    };
    let state = AppState::new(s, Arc::new(config)).await.unwrap();
    state
        .services
        .bootstrap("T", "S1", "S", "o@example.com", "rahasia-123")
        .await
        .unwrap();
    let addr = "10.0.0.1".parse().unwrap();
    for i in 0..2 {
        let r = state
            .services
            .login(&format!("nobody{i}@example.com"), "x", addr)
            .await;
        assert!(matches!(r, Err(sync_server::Error::Unauthorized(_))));
    }
    let r = state
        .services
        .login("o@example.com", "rahasia-123", addr)
        .await;
    assert!(matches!(r, Err(sync_server::Error::RateLimited)));
    // Another address is not affected.
    assert!(
        state
            .services
            .login("o@example.com", "rahasia-123", "10.0.0.2".parse().unwrap())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn rejected_bodies_and_queries_are_not_repeated() {
    let (s, _dir) = common::sqlite_storage().await;
    let state = AppState::new(s, Arc::new(Config::default())).await.unwrap();
    let b = state
        .services
        .bootstrap("T", "S1", "S", "o@example.com", "rahasia-123")
        .await
        .unwrap();
    let api = Api { state };
    // A password sent as a number, an enrollment code as an object: the answer names the
    // field and the problem, not the value.
    for (path, body, secret) in [
        (
            "/api/v1/auth/login",
            r#"{"email":"o@example.com","password":73519246}"#,
            "73519246",
        ),
        (
            "/api/v1/terminals/enroll",
            r#"{"code":{"K7QM":"2XWP-9HDA"}}"#,
            "2XWP",
        ),
    ] {
        let (st, v) = api.post(path, None, body).await;
        assert_error(st, &v, StatusCode::BAD_REQUEST, "bad_request");
        let message = v["message"].as_str().unwrap();
        assert!(!message.contains(secret), "{message}");
        assert!(message.contains("invalid type"), "{message}");
    }
    let (_, v) = api.login(r#"{"email":"x"}"#).await;
    assert_eq!(v["message"], "invalid JSON body: missing field `password`");
    let (_, v) = api
        .login(r#"{"email":"o@example.com","password":"rahasia-123"}"#)
        .await;
    let access = v["access_token"].as_str().unwrap().to_string();
    let path = format!(
        "/api/v1/stores/{}/reports/sales-by-day?from=2026-11-01&to[s3cr3t]=x",
        b.store_id
    );
    let (st, v) = api.get(&path, Some(&access)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(!v.to_string().contains("s3cr3t"), "{v}");
}
