//! The dashboard's static assets, embedded in the binary: one stylesheet and one small script.
//! Their URLs carry a digest of their content (`?v=…`), so they are cached for a year and a new
//! binary's assets are fetched at once.

use std::sync::OnceLock;

use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../assets/dashboard.css");
const JS: &str = include_str!("../../assets/dashboard.js");

fn digest(s: &str) -> String {
    crate::auth::sha256_hex(s)[..12].to_string()
}

/// `/assets/dashboard.css?v=<digest>`.
pub fn css_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| format!("/assets/dashboard.css?v={}", digest(CSS)))
}

/// `/assets/dashboard.js?v=<digest>`.
pub fn js_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| format!("/assets/dashboard.js?v={}", digest(JS)))
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct Version {
    v: Option<String>,
}

/// `GET /assets/{file}`.
pub(super) async fn serve(Path(file): Path<String>, Query(q): Query<Version>) -> Response {
    let (body, mime) = match file.as_str() {
        "dashboard.css" => (CSS, "text/css; charset=utf-8"),
        "dashboard.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let cache = if q.v.as_deref() == Some(&digest(body)) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}
