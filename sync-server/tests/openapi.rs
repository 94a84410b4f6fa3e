//! The OpenAPI document describes every route the router serves. The routes are read from the
//! built router (its paths, then a request per method tells which methods each path answers),
//! so a route added without `#[utoipa::path]` fails here, and so does a documented route that
//! is no longer served. The owner dashboard's HTML pages (`sync_server::dashboard::routes`) are
//! not API and are left out.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use sync_server::app::router;
use sync_server::config::Config;
use sync_server::openapi::ApiDoc;
use sync_server::state::AppState;
use tower::ServiceExt;
use utoipa::OpenApi;

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

async fn state() -> (AppState, tempfile::TempDir) {
    let (storage, dir) = common::sqlite_storage().await;
    let state = AppState::new(storage, Arc::new(Config::default()))
        .await
        .unwrap();
    (state, dir)
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// The path templates the router holds. axum has no API for them; its `Debug` output lists
/// them as `RouteId(n): "/path"` in `path_router` (before `fallback_router`). Catch-alls
/// (`{*rest}`) are those of a nested router's fallback.
fn router_paths(app: &Router) -> BTreeSet<String> {
    let debug = format!("{app:?}");
    let routes = debug
        .split_once("fallback_router")
        .expect("axum's Router Debug names its fallback_router")
        .0;
    let mut paths = BTreeSet::new();
    let mut rest = routes;
    while let Some(i) = rest.find("RouteId(") {
        rest = &rest[i..];
        let Some(start) = rest.find(": \"") else {
            break;
        };
        let tail = &rest[start + 3..];
        let end = tail.find('"').expect("closing quote");
        let path = &tail[..end];
        if !path.contains("{*") {
            paths.insert(path.to_string());
        }
        rest = &tail[end..];
    }
    paths
}

/// `(METHOD, template)` of every route served: a method is served on a path unless the
/// router answers it 405 or with the fallback's "no such endpoint".
async fn served_routes(app: &Router, state: &AppState) -> BTreeSet<(String, String)> {
    let pages =
        router_paths(&sync_server::dashboard::routes(state.clone()).with_state(state.clone()));
    let mut served = BTreeSet::new();
    for template in router_paths(app).difference(&pages) {
        let uri = fill_params(template);
        for method in METHODS {
            let req = Request::builder()
                .method(method.clone())
                .uri(&uri)
                .body(Body::empty())
                .unwrap();
            let (status, body) = send(app, req).await;
            if status != StatusCode::METHOD_NOT_ALLOWED && !body.contains("no such endpoint") {
                served.insert((method.to_string(), template.to_string()));
            }
        }
    }
    served
}

/// `template` with each `{param}` replaced by a nil UUID.
fn fill_params(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        out.push_str("00000000-0000-0000-0000-000000000000");
        rest = &rest[rest[i..].find('}').expect("closing brace") + i + 1..];
    }
    out.push_str(rest);
    out
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item[method.as_str().to_lowercase()].is_object() {
                ops.insert((method.to_string(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn every_served_route_is_documented_and_every_documented_route_served() {
    let (state, _dir) = state().await;
    let app = router(state.clone());
    let served = served_routes(&app, &state).await;
    // The enumeration itself works: routes of each part of the router are found.
    for route in [
        ("GET", "/healthz"),
        ("GET", "/sync"),
        ("POST", "/api/v1/terminals/me/heartbeat"),
        ("GET", "/api/v1/stores/{store_id}/reports/sales-by-day"),
        ("PATCH", "/api/v1/stores/{store_id}/staff/{user_id}"),
    ] {
        assert!(
            served.contains(&(route.0.to_string(), route.1.to_string())),
            "{route:?} not found in {served:#?}"
        );
    }
    assert!(served.len() >= 32, "{served:#?}");

    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
    let documented = documented(&doc);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in the OpenAPI document: {undocumented:#?}"
    );
    let stale: Vec<_> = documented.difference(&served).collect();
    assert!(stale.is_empty(), "documented but not served: {stale:#?}");

    // The document the server answers is this one.
    let req = Request::get("/api/v1/openapi.json")
        .body(Body::empty())
        .unwrap();
    let (status, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), doc);
}

/// Each operation declares its path parameters as required, a bearer token where it takes one
/// with its 401, a 500 where it reaches storage, and an `ErrorBody` for every JSON error.
#[test]
fn operations_declare_parameters_auth_and_errors() {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    for (method, path) in documented(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        for name in path.split('{').skip(1).map(|s| &s[..s.find('}').unwrap()]) {
            let p = params
                .iter()
                .find(|p| p["name"] == name && p["in"] == "path")
                .unwrap_or_else(|| panic!("{method} {path}: no path parameter {name}"));
            assert_eq!(p["required"], true, "{method} {path}: {name}");
        }
        let responses = op["responses"].as_object().unwrap();
        if op["security"].is_array() {
            assert!(responses.contains_key("401"), "{method} {path}: no 401");
        }
        if path.starts_with("/api/v1/") && path != "/api/v1/openapi.json" {
            assert!(responses.contains_key("500"), "{method} {path}: no 500");
        }
        if op["requestBody"].is_object() {
            assert!(responses.contains_key("400"), "{method} {path}: no 400");
        }
        for (status, r) in responses {
            if status.starts_with('2') || status == "101" {
                continue;
            }
            let json = &r["content"]["application/json"]["schema"]["$ref"];
            let text = &r["content"]["text/plain"];
            assert!(
                json == "#/components/schemas/ErrorBody" || text.is_object(),
                "{method} {path} {status}: {r}"
            );
        }
    }
}

/// A document id that is not one names no document: 404, as for another tenant's document
/// (it was 400, which the document could not promise for a schema-valid path).
#[tokio::test]
async fn persisted_with_a_malformed_document_id_is_not_found() {
    let (state, _dir) = state().await;
    state
        .services
        .bootstrap("Toko", "T1", "Toko 1", "owner@example.com", "rahasia-123")
        .await
        .unwrap();
    let tokens = state
        .services
        .login(
            "owner@example.com",
            "rahasia-123",
            std::net::Ipv4Addr::LOCALHOST.into(),
        )
        .await
        .unwrap();
    let app = router(state);
    let req = Request::post("/api/v1/documents/not-a-document-id/persisted")
        .header("authorization", format!("Bearer {}", tokens.access_token))
        .header("content-type", "application/json")
        .body(Body::from(r#"{"heads":[]}"#))
        .unwrap();
    let (status, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("\"code\":\"not_found\""), "{body}");
}
