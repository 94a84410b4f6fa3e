//! Cross-site request forgery protection and the security headers, in the one layer every
//! dashboard route sits behind ([`layer`]).
//!
//! Every request that is not GET/HEAD/OPTIONS must carry a token: the form field `_csrf`
//! (urlencoded forms), the `X-CSRF-Token` header (fetch), or, for multipart uploads only, a
//! `_csrf` query parameter. The token of a signed-in browser is
//! `base64url(HMAC(deployment key, "dashboard-csrf:<session id>"))`: bound to the server-side
//! session, it dies with it and cannot be computed without the key. Before sign-in (the
//! sign-in form, the language switch) it is bound to the random `sk_pre` cookie instead. When
//! the browser says where the request comes from (`Origin`, `Sec-Fetch-Site`), that must be
//! this site. A refused request changes nothing and gets a 403 page.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::i18n::Lang;
use super::page::{ErrorPage, PageError};
use super::session::{self, ACCESS_COOKIE, PRE_COOKIE, SetCookies};
use crate::state::AppState;

/// The HMAC purpose of session-bound tokens.
pub const SESSION_PURPOSE: &str = "dashboard-csrf";
/// The HMAC purpose of tokens bound to the `sk_pre` cookie.
pub const PRE_PURPOSE: &str = "dashboard-pre";
/// Paths where a token bound to `sk_pre` is accepted (no session yet).
const PRE_SESSION_PATHS: [&str; 2] = ["/signin", "/lang"];
/// The largest urlencoded form body the layer reads for its token (CSV files come as
/// multipart, which the layer does not read).
const FORM_LIMIT: usize = 1 << 20;

/// The Content-Security-Policy of every dashboard response.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The token of the form before sign-in, bound to the `sk_pre` cookie (set here if missing).
pub fn pre_session_token(app: &AppState, headers: &HeaderMap, jar: &SetCookies) -> String {
    let value = session::cookie(headers, PRE_COOKIE)
        .filter(|v| v.len() >= 32)
        .unwrap_or_else(|| {
            let v = crate::auth::random_token(32);
            jar.set(
                PRE_COOKIE,
                &v,
                std::time::Duration::from_secs(24 * 3600),
                session::secure(app),
            );
            v
        });
    app.services.web_tag(PRE_PURPOSE, &value)
}

fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Whether the browser's own account of where the request comes from says "this site".
fn same_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin = origin.to_str().unwrap_or_default();
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    !host.is_empty() && authority == Some(host)
}

/// Checks the token of a state-changing request; gives the request back (its body re-built
/// when it was read) or the refusal.
async fn check(app: &AppState, req: Request) -> Result<Request, PageError> {
    let refuse = || PageError::Status {
        status: StatusCode::FORBIDDEN,
        key: Some("errors.csrf"),
    };
    let headers = req.headers();
    if !same_site(headers) {
        tracing::warn!(path = %req.uri().path(), "dashboard request from another site refused");
        return Err(refuse());
    }
    let mut expected = Vec::new();
    if let Some(sid) =
        session::cookie(headers, ACCESS_COOKIE).and_then(|t| app.services.web_session_id(&t))
    {
        expected.push(app.services.web_tag(SESSION_PURPOSE, &sid));
    }
    if PRE_SESSION_PATHS.contains(&req.uri().path())
        && let Some(pre) = session::cookie(headers, PRE_COOKIE)
    {
        expected.push(app.services.web_tag(PRE_PURPOSE, &pre));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let query_token = || {
        form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.into_owned())
    };
    let (given, req) = if let Some(h) = headers.get("x-csrf-token") {
        (h.to_str().ok().map(str::to_string), req)
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let (parts, body) = req.into_parts();
        let bytes =
            axum::body::to_bytes(body, FORM_LIMIT)
                .await
                .map_err(|_| PageError::Status {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    key: None,
                })?;
        let token = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.into_owned());
        (token, Request::from_parts(parts, Body::from(bytes)))
    } else if content_type.starts_with("multipart/form-data") {
        (query_token(), req)
    } else {
        (None, req)
    };
    match given {
        Some(g) if expected.iter().any(|e| same(e, &g)) => Ok(req),
        _ => {
            tracing::warn!(path = %req.uri().path(), "dashboard request without a valid CSRF token refused");
            Err(refuse())
        }
    }
}

/// The layer of every dashboard route: the cookie jar of the response, the CSRF check of
/// state-changing requests, error pages in the request's language, security headers.
pub async fn layer(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let lang = Lang::of(req.headers());
    let jar = SetCookies::default();
    req.extensions_mut().insert(jar.clone());
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut resp = if safe {
        next.run(req).await
    } else {
        match check(&app, req).await {
            Ok(req) => next.run(req).await,
            Err(e) => e.into_response(),
        }
    };
    if let Some(err) = resp.extensions().get::<ErrorPage>().cloned() {
        let mut page = super::errors::error_page(lang, &err).into_response();
        *page.status_mut() = err.status;
        for (name, value) in resp.headers() {
            if name == header::RETRY_AFTER {
                page.headers_mut().insert(name, value.clone());
            }
        }
        resp = page;
    }
    let h = resp.headers_mut();
    for c in jar.take() {
        h.append(header::SET_COOKIE, c);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages carry the shop's numbers: never kept by the browser or a proxy.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        m
    }

    #[test]
    fn the_browser_says_where_it_comes_from() {
        assert!(same_site(&headers(&[("host", "a.example:8080")])));
        assert!(same_site(&headers(&[
            ("host", "a.example:8080"),
            ("origin", "http://a.example:8080"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(!same_site(&headers(&[
            ("host", "a.example:8080"),
            ("origin", "http://evil.example"),
        ])));
        assert!(!same_site(&headers(&[
            ("host", "a.example"),
            ("origin", "null")
        ])));
        assert!(!same_site(&headers(&[
            ("host", "a.example"),
            ("sec-fetch-site", "cross-site"),
        ])));
    }
}
