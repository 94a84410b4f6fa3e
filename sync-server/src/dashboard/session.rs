//! The dashboard's cookie session over the server's own sessions (the `sessions` table stays
//! the one truth): the `sk_session` cookie holds the access token (JWT) of a session started by
//! the ordinary login service, `sk_refresh` its refresh token. When the access token has
//! expired, the extractors exchange the refresh token for a new pair transparently (once per
//! refresh token even when a page and a fetch race: see [`refresh_once`]) and the response sets
//! the new cookies. Sign-out, a password change, disabling the user or refresh-token reuse end
//! the session on the server, and the next request goes to `/signin` with a message.
//!
//! Cookies are `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` when the server speaks TLS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

use crate::state::AppState;

/// The access token (JWT) of the session.
pub const ACCESS_COOKIE: &str = "sk_session";
/// The refresh token of the session.
pub const REFRESH_COOKIE: &str = "sk_refresh";
/// A random value set before sign-in; the sign-in form's CSRF token is bound to it.
pub const PRE_COOKIE: &str = "sk_pre";

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(|c| c.ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// Cookies to set on the response, filled by extractors and handlers and written by the
/// dashboard layer ([`super::layer`]). Every dashboard request has one in its extensions.
#[derive(Debug, Clone, Default)]
pub struct SetCookies(Arc<Mutex<Vec<HeaderValue>>>);

impl SetCookies {
    /// Sets cookie `name` for `max_age` (zero: removes it).
    pub fn set(&self, name: &str, value: &str, max_age: Duration, secure: bool) {
        let c = Cookie::build((name.to_string(), value.to_string()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(cookie::time::Duration::seconds(
                i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
            ))
            .build();
        if let Ok(v) = HeaderValue::from_str(&c.to_string())
            && let Ok(mut list) = self.0.lock()
        {
            list.push(v);
        }
    }

    /// Removes cookie `name`.
    pub fn remove(&self, name: &str, secure: bool) {
        self.set(name, "", Duration::ZERO, secure);
    }

    /// The `Set-Cookie` values collected.
    pub fn take(&self) -> Vec<HeaderValue> {
        self.0
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }

    /// Sets both session cookies for a new token pair, for a day longer than the refresh token
    /// lives: the server, not the browser, decides that the session has expired, and says so.
    pub fn session(&self, app: &AppState, access: &str, refresh: &str) {
        let secure = secure(app);
        let life = Duration::from_secs(
            u64::try_from(app.services.config.refresh_token_ttl_secs).unwrap_or(0) + 24 * 3600,
        );
        self.set(ACCESS_COOKIE, access, life, secure);
        self.set(REFRESH_COOKIE, refresh, life, secure);
    }

    /// Removes both session cookies.
    pub fn end_session(&self, app: &AppState) {
        let secure = secure(app);
        self.remove(ACCESS_COOKIE, secure);
        self.remove(REFRESH_COOKIE, secure);
    }
}

/// Whether cookies are marked `Secure`: when this server speaks TLS itself.
pub fn secure(app: &AppState) -> bool {
    app.services.config.tls_cert.is_some()
}

/// How long the new pair of a refresh token is handed to every request that presents it.
const REFRESH_SHARED_FOR: Duration = Duration::from_secs(60);

type RefreshCell = Arc<tokio::sync::OnceCell<Option<(String, String)>>>;

/// Exchanges `refresh_token` for a new (access, refresh) pair once: requests racing with the
/// same expired cookie (a page and its fetches) share one exchange rather than spending the
/// token twice, which the session service treats as theft and answers by ending the session.
/// Shared within this process only; behind a load balancer, sticky sessions keep a browser's
/// requests on one instance.
pub async fn refresh_once(app: &AppState, refresh_token: &str) -> Option<(String, String)> {
    static CELLS: OnceLock<Mutex<HashMap<String, (Instant, RefreshCell)>>> = OnceLock::new();
    let key = crate::auth::sha256_hex(refresh_token);
    let cell = {
        let mut cells = CELLS.get_or_init(Default::default).lock().ok()?;
        let now = Instant::now();
        cells.retain(|_, (at, _)| now.duration_since(*at) < REFRESH_SHARED_FOR);
        cells
            .entry(key)
            .or_insert_with(|| (now, Arc::default()))
            .1
            .clone()
    };
    cell.get_or_init(|| async {
        match app.services.refresh(refresh_token).await {
            Ok(pair) => Some((pair.access_token, pair.refresh_token)),
            Err(e) => {
                tracing::info!(error = %e, "dashboard session could not be refreshed");
                None
            }
        }
    })
    .await
    .clone()
}

/// A local path to go back to after sign-in or a language switch; anything else is `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_from_every_header() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; sk_session=tok".parse().unwrap());
        h.append(header::COOKIE, "sk_lang=en".parse().unwrap());
        assert_eq!(cookie(&h, ACCESS_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "sk_lang").as_deref(), Some("en"));
        assert_eq!(cookie(&h, "none"), None);
    }

    #[test]
    fn set_cookies_are_http_only_and_same_site() {
        let jar = SetCookies::default();
        jar.set("sk_session", "v", Duration::from_secs(60), true);
        jar.remove("sk_refresh", false);
        let list = jar.take();
        let first = list[0].to_str().unwrap();
        assert!(first.contains("HttpOnly"), "{first}");
        assert!(first.contains("SameSite=Lax"), "{first}");
        assert!(first.contains("Secure"), "{first}");
        assert!(first.contains("Path=/"), "{first}");
        let second = list[1].to_str().unwrap();
        assert!(
            second.contains("Max-Age=0") && !second.contains("Secure"),
            "{second}"
        );
        assert!(jar.take().is_empty());
    }

    #[test]
    fn only_local_paths_come_next() {
        assert_eq!(
            safe_next(Some("/stores/a/overview?from=x")),
            "/stores/a/overview?from=x"
        );
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "", "x"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
