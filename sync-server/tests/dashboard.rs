//! The dashboard through the router (no socket), on both backends: signing in with the form
//! and its CSRF token, the cookie flags and security headers, the session ending on the server
//! at sign-out, the transparent refresh, CSRF and cross-site refusals that change nothing, and
//! another store's or tenant's pages answering 404 like the API.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use common::*;
use http_body_util::BodyExt;
use sync_server::auth::{Principal, Role};
use sync_server::state::AppState;
use sync_server::storage::DynStorage;
use tower::ServiceExt;

const PASSWORD: &str = "rahasia-123";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    /// The `Set-Cookie` of `name`, if any.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_string)
    }
    /// The value a `Set-Cookie` of `name` sets.
    fn cookie_value(&self, name: &str) -> Option<String> {
        let c = self.set_cookie(name)?;
        let v = c.split(';').next()?.split_once('=')?.1.to_string();
        Some(v)
    }
    fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
    /// The `_csrf` hidden field of the page.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"_csrf\" value=\"")
            .expect("a _csrf field");
        let rest = &self.body[at + "name=\"_csrf\" value=\"".len()..];
        rest.split('"').next().unwrap().to_string()
    }
}

/// A browser: its cookies, sent with each request.
#[derive(Default, Clone)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
    fn take(&mut self, a: &Answer) {
        for c in a.headers.get_all(header::SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (name, rest) = c.split_once('=').unwrap();
            let value = rest.split(';').next().unwrap().to_string();
            self.0.retain(|(k, _)| k != name);
            if !c.contains("Max-Age=0") {
                self.0.push((name.to_string(), value));
            }
        }
    }
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

async fn send(
    state: &AppState,
    method: &str,
    path: &str,
    jar: &Jar,
    form: Option<&[(&str, &str)]>,
    extra: &[(&str, &str)],
) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "dash.example:8080");
    if !jar.0.is_empty() {
        req = req.header(header::COOKIE, jar.header());
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let req = match form {
        Some(fields) => {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields.iter())
                .finish();
            req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
        }
        None => req.body(Body::empty()),
    }
    .unwrap();
    let resp = sync_server::app::router(state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Signs in through the form; the jar then holds the session.
async fn sign_in(state: &AppState, email: &str, password: &str, next: &str) -> (Jar, Answer) {
    let mut jar = Jar::default();
    let form = send(state, "GET", "/signin", &jar, None, &[]).await;
    assert_eq!(form.status, StatusCode::OK);
    jar.take(&form);
    let token = form.csrf();
    let a = send(
        state,
        "POST",
        "/signin",
        &jar,
        Some(&[
            ("email", email),
            ("password", password),
            ("next", next),
            ("_csrf", &token),
        ]),
        &[],
    )
    .await;
    jar.take(&a);
    (jar, a)
}

async fn owner_email(state: &AppState, t: &Tenancy) -> String {
    let Principal::User { user_id, .. } = &t.owner else {
        unreachable!()
    };
    state
        .services
        .storage
        .user(user_id)
        .await
        .unwrap()
        .unwrap()
        .email
}

async fn story(storage: DynStorage) {
    let server = TestServer::start(storage).await;
    let state = &server.state;
    let t = setup_tenant(state, "Toko Dash", "DSH").await;
    let email = owner_email(state, &t).await;
    let overview = format!("/stores/{}/overview", t.store_id);

    // Not signed in: to /signin, coming back afterwards.
    let a = send(state, "GET", &overview, &Jar::default(), None, &[]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(a.location().starts_with("/signin?"), "{}", a.location());
    assert!(
        a.location().contains("next=%2Fstores%2F"),
        "{}",
        a.location()
    );

    // The sign-in page: security headers, no caching, a pre-session cookie for its token.
    let page = send(state, "GET", "/signin", &Jar::default(), None, &[]).await;
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    assert!(page.headers.contains_key(header::REFERRER_POLICY));
    let pre = page.set_cookie("sk_pre").expect("sk_pre cookie");
    assert!(
        pre.contains("HttpOnly") && pre.contains("SameSite=Lax"),
        "{pre}"
    );

    // Without the form's token, or with another's, nothing happens.
    let mut jar = Jar::default();
    jar.take(&page);
    for token in ["", "forged"] {
        let a = send(
            state,
            "POST",
            "/signin",
            &jar,
            Some(&[("email", &email), ("password", PASSWORD), ("_csrf", token)]),
            &[],
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "token {token:?}");
        assert!(a.set_cookie("sk_session").is_none());
        assert!(a.body.contains("<html"), "a page, not JSON: {}", a.body);
    }

    // A wrong password: the form again, with the reason in words.
    let (_, wrong) = sign_in(state, &email, "not-the-password", "/").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.set_cookie("sk_session").is_none());
    assert!(
        wrong.body.contains("Email atau kata sandi salah"),
        "Indonesian by default: {}",
        wrong.body
    );

    // Signed in: HttpOnly, SameSite cookies (not Secure without TLS), back to `next`.
    let (jar, ok) = sign_in(state, &email, PASSWORD, &overview).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location(), overview);
    for name in ["sk_session", "sk_refresh"] {
        let c = ok.set_cookie(name).expect(name);
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Path=/"),
            "{c}"
        );
        assert!(!c.contains("Secure"), "{c}");
    }
    let home = send(state, "GET", "/", &jar, None, &[]).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert!(
        home.location().starts_with("/stores/"),
        "{}",
        home.location()
    );
    let page = send(state, "GET", &overview, &jar, None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Ringkasan") && page.body.contains("Rp 0"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>"), "no inline script");
    let token = page.csrf();

    // English by the language switch (CSRF-checked), the cookie kept.
    let a = send(
        state,
        "POST",
        "/lang",
        &jar,
        Some(&[("lang", "en"), ("next", &overview)]),
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = send(
        state,
        "POST",
        "/lang",
        &jar,
        Some(&[
            ("lang", "en"),
            ("next", "//evil.example"),
            ("_csrf", &token),
        ]),
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), "/", "never to another site");
    let mut en = jar.clone();
    en.take(&a);
    let page = send(state, "GET", &overview, &en, None, &[]).await;
    assert!(
        page.body.contains("Overview") && page.body.contains("Sales"),
        "{}",
        page.body
    );

    // A form from another site is refused even with the token.
    let a = send(
        state,
        "POST",
        "/signout",
        &jar,
        Some(&[("_csrf", &token)]),
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // The token in a header (fetch) is as good as the field.
    let a = send(
        state,
        "POST",
        "/signout",
        &jar,
        Some(&[]),
        &[("x-csrf-token", "nope")],
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let page = send(state, "GET", &overview, &jar, None, &[]).await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "refused sign-outs changed nothing"
    );

    // Another store of another tenant, and a manager of the second store: 404, as the API.
    let other = setup_tenant(state, "Toko Lain", "LAN").await;
    let other_overview = format!("/stores/{}/overview", other.store_id);
    let a = send(state, "GET", &other_overview, &jar, None, &[]).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.body.contains("<html"), "{}", a.body);
    let (api, _) = router_call(
        state,
        "GET",
        &format!(
            "/api/v1/stores/{}/reports/sales-by-day?from=2026-12-01&to=2026-12-01",
            other.store_id
        ),
        Some(&t.owner_token),
        None,
    )
    .await;
    assert_eq!(api, StatusCode::NOT_FOUND);
    let manager_email = format!("m-{}@example.com", uuid::Uuid::now_v7().simple());
    state
        .services
        .create_manager(&t.owner, &t.store2_id, &manager_email, "manajer-123")
        .await
        .expect("manager");
    let (mjar, ok) = sign_in(state, &manager_email, "manajer-123", "/").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let a = send(state, "GET", &overview, &mjar, None, &[]).await;
    assert_eq!(
        a.status,
        StatusCode::NOT_FOUND,
        "a manager of store 2 reads nothing of store 1"
    );
    let a = send(
        state,
        "GET",
        &format!("/stores/{}/overview", t.store2_id),
        &mjar,
        None,
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.body.contains("/apps"), "managers see no Apps link");
    let addr = "127.0.0.1".parse().unwrap();
    let mtoken = state
        .services
        .login(&manager_email, "manajer-123", addr)
        .await
        .unwrap()
        .access_token;
    let (api, _) = router_call(
        state,
        "GET",
        &format!(
            "/api/v1/stores/{}/reports/sales-by-day?from=2026-12-01&to=2026-12-01",
            t.store_id
        ),
        Some(&mtoken),
        None,
    )
    .await;
    assert_eq!(api, StatusCode::NOT_FOUND);
    let _ = Role::Manager;

    // An access token that no longer verifies is replaced from the refresh token.
    let mut stale = jar.clone();
    stale.0.retain(|(k, _)| k != "sk_session");
    stale.0.push(("sk_session".into(), "not-a-jwt".into()));
    let a = send(state, "GET", &overview, &stale, None, &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    // (An access token made in the same second as the jar's has the same claims, so it may be
    // byte for byte the jar's: the refresh token, random, tells the pair was renewed.)
    let fresh = a.cookie_value("sk_session").expect("a new access token");
    assert_ne!(fresh, "not-a-jwt");
    let renewed = a.cookie_value("sk_refresh").expect("a new refresh token");
    assert_ne!(Some(renewed), jar.get("sk_refresh"));
    // (The jar's refresh token is now spent; `stale` takes the new pair.)
    stale.take(&a);

    // Sign-out ends the session on the server: the old cookies open nothing.
    let page = send(state, "GET", &overview, &stale, None, &[]).await;
    let token = page.csrf();
    let a = send(
        state,
        "POST",
        "/signout",
        &stale,
        Some(&[("_csrf", &token)]),
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(a.location().starts_with("/signin?why=signed_out"));
    assert!(a.set_cookie("sk_session").unwrap().contains("Max-Age=0"));
    let a = send(state, "GET", &overview, &stale, None, &[]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(a.location().contains("why=ended"), "{}", a.location());
    let (api, _) = router_call(
        state,
        "GET",
        "/api/v1/me",
        stale.get("sk_session").as_deref(),
        None,
    )
    .await;
    assert_eq!(
        api,
        StatusCode::UNAUTHORIZED,
        "the API refuses the ended session's token too"
    );

    // Assets: cached for long when asked by their digest, typed, no data.
    let page = send(state, "GET", "/signin", &Jar::default(), None, &[]).await;
    let css = page
        .body
        .split("href=\"")
        .find_map(|s| s.strip_prefix("/assets/dashboard.css"))
        .unwrap();
    let css_url = format!("/assets/dashboard.css{}", css.split('"').next().unwrap());
    let a = send(state, "GET", &css_url, &Jar::default(), None, &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        a.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn dashboard_sessions_on_sqlite() {
    let (storage, _dir) = sqlite_storage().await;
    story(storage).await;
}

#[tokio::test]
async fn dashboard_sessions_on_postgres() {
    let db = TestDb::create().await;
    story(db.storage().await).await;
}
