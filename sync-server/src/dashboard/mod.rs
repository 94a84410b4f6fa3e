//! The owner dashboard: server-rendered HTML pages served by the sync server itself, for owners
//! and managers on a phone or a laptop. askama templates (checked when the crate compiles) in
//! `sync-server/templates/dashboard/`, one stylesheet and one small script embedded in the
//! binary ([`assets`]), charts drawn as SVG on the server ([`charts`]). No build step besides
//! `cargo build`; `docs/dashboard.md` says why.
//!
//! # Writing a page
//!
//! 1. One module per page area (`overview.rs`, `reports.rs`, `tills.rs`, …) with
//!    `pub fn routes() -> Router<AppState>`, merged in [`routes`] below. URLs of a store's pages
//!    start with `/stores/{store_id}/<area>`; tenant-wide pages are `/apps…` and `/account…`.
//! 2. A handler takes [`page::StoreAccess`] (signed in, and the store of the path readable
//!    through [`crate::access::read_reports`], exactly as the API; another store's or tenant's
//!    page is a 404 page) or [`page::SignedIn`] (tenant-wide pages). Both give `principal` and
//!    `page` (the [`page::Page`] context the layout needs), and refresh an expired session
//!    transparently; without a live session the browser goes to `/signin` and comes back after.
//!    Stricter pages check more with the same `access` function as their API (for example
//!    [`crate::access::manage_store`]; owners only: `page.is_owner` / `access::add_manager`).
//! 3. It calls ONE service function (the API's), then renders a template struct whose first
//!    field is `page: Page`, via [`page::render`]. Return [`page::PageResult`]; `?` on a
//!    [`crate::Error`] gives the right error page (404, 403, 409, 503, …) in the reader's
//!    language, or `/signin` when the session has ended. For bad form input, render the form
//!    again with the message (status 400) and change nothing.
//! 4. Templates `{% extends "dashboard/layout.html" %}` and fill `{% block content %}`. Every
//!    word comes from the catalogue: `{{ page.t("overview.title") }}`,
//!    `{{ page.tf1("overview.change_up", "pct", x) }}` (more placeholders: [`i18n::Lang::tf`] in
//!    the handler); keys live in
//!    `locales/<area>.toml` with both languages (unit tests check both and that every key a
//!    template names exists). Amounts always through `{{ page.money(x.total) }}`
//!    (`Rp 12.500`), counts `page.count(n)`, quantities `page.qty(q)`, business dates
//!    `page.date("2026-12-03")`, instants `page.date_time(ms)` / `page.time(ms)` in the
//!    store's time zone ([`format`]).
//! 5. Forms: `method="post"` with `<input type="hidden" name="_csrf" value="{{ page.csrf }}">`;
//!    `fetch` sends the header `X-CSRF-Token` (dashboard.js: `snapkasir.post(url, body)`);
//!    multipart uploads put `?_csrf=…` in the action URL. The [`csrf::layer`] refuses any
//!    POST/PUT/PATCH/DELETE without it (403 page, nothing changed). After a successful POST,
//!    redirect (303) to a GET page.
//! 6. Tables: wrap in `<div class="table-wrap">` (scrolls sideways on a phone); buttons and
//!    links in forms are at least 44 px high with the stylesheet's classes (`button`,
//!    `.button`). Put `data-testid="…"` on what browser tests read.
//! 7. Charts: [`charts::BarChart`]`{…}.svg(fmt)` into a template field, shown with `|safe`.
//!
//! Every response carries the CSP (no inline script or style: use the stylesheet and
//! dashboard.js), `X-Content-Type-Options`, `Referrer-Policy`, `X-Frame-Options` and, unless the
//! handler sets one, `Cache-Control: no-store`.

pub mod account;
pub mod apps;
pub mod assets;
pub mod catalog;
pub mod catalog_import;
pub mod charts;
pub mod conflicts;
pub mod csrf;
pub mod errors;
pub mod format;
pub mod i18n;
pub mod overview;
pub mod page;
pub mod receipt;
pub mod reports;
pub mod session;
pub mod settings;
pub mod staff;
pub mod stock;
pub mod tills;

use axum::Router;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::state::AppState;

/// Every dashboard route behind the dashboard layer (CSRF, cookies, error pages, headers).
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(account::home))
        .route("/signin", get(account::signin_form).post(account::signin))
        .route("/signout", post(account::signout))
        .route(
            "/account/password",
            get(account::password_form).post(account::change_password),
        )
        .route("/lang", post(account::set_lang))
        .route("/assets/{file}", get(assets::serve))
        .merge(overview::routes())
        .merge(receipt::routes())
        .merge(apps::routes())
        .merge(tills::routes())
        .merge(staff::routes())
        .merge(reports::routes())
        .merge(stock::routes())
        .merge(conflicts::routes())
        .merge(catalog::routes())
        .merge(settings::routes())
        .method_not_allowed_fallback(get_of_a_form_url)
        // Any other path outside `/api/v1` (which answers JSON): the 404 page.
        .fallback(|| async { page::PageError::not_found() })
        .layer(axum::middleware::from_fn_with_state(state, csrf::layer))
}

/// A GET of a URL that only forms post to: a page shown as the answer to a POST (a new
/// enrolment code, a form again with its errors) has that URL, and the language switch or a
/// reload comes back to it. It goes to the page above it (`…/tills/codes` → `…/tills`) rather
/// than a bare 405. Other methods still get 405.
async fn get_of_a_form_url(method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let parent = match uri.path().trim_end_matches('/').rsplit_once('/') {
        Some((p, _)) if p.starts_with('/') && !p.starts_with("//") => p,
        _ => "/",
    };
    Redirect::to(parent).into_response()
}
