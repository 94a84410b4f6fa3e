//! The tills page (`/stores/{store_id}/tills`): every terminal of the store with its state
//! (online now, last seen, changes waiting, clock skew, app version), a new enrolment code shown
//! as text and as a QR code of the enrolment link (`shared_model::enrol_link`) that the cashier
//! app reads, and revoking a till after a confirmation step. The handlers call the services the
//! JSON API calls ([`crate::service::Services::list_terminals`], `create_enrollment_code`,
//! `revoke_terminal`), so the same access checks apply.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use shared_model::enrol_link::EnrolLink;

use super::page::{Page, PageError, PageResult, StoreAccess, render};
use crate::error::Error;
use crate::service::TerminalView;
use crate::state::AppState;

/// A clock further off than this is flagged on the page (receipts and business days use it).
const SKEW_WARN_MS: i64 = 60_000;

/// One till as the table shows it, in words.
#[derive(Debug)]
struct TillRow {
    id: String,
    name: String,
    code: String,
    /// `online`, `offline` or `revoked` (the CSS class).
    state: &'static str,
    state_words: &'static str,
    revoke_url: String,
    last_seen: String,
    waiting: String,
    skew: String,
    skew_warn: bool,
    version: String,
    revoked: bool,
}

impl TillRow {
    fn new(t: TerminalView, page: &Page) -> TillRow {
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else if t.online {
            "online"
        } else {
            "offline"
        };
        let none = || page.t("tills.not_reported").to_string();
        let (waiting, skew, skew_warn, version) = match &t.last_report {
            Some(r) => (
                page.tf(
                    "tills.waiting_value",
                    &[
                        ("sales", &page.count(&r.waiting_sales)),
                        ("documents", &page.count(&r.waiting_documents)),
                    ],
                ),
                skew_words(r.clock_skew_ms, page),
                r.clock_skew_ms.abs() > SKEW_WARN_MS,
                r.app_version.clone().unwrap_or_else(none),
            ),
            None => (none(), none(), false, none()),
        };
        TillRow {
            state,
            state_words: page.t(&format!("tills.state_{state}")),
            revoke_url: page.store_url(&format!("tills/{}/revoke", t.id)),
            last_seen: t.last_seen_at.map_or_else(
                || page.t("tills.never").to_string(),
                |ms| page.date_time(&ms),
            ),
            waiting,
            skew,
            skew_warn,
            version,
            revoked: t.revoked_at.is_some(),
            id: t.id,
            name: t.name,
            code: t.code,
        }
    }
}

/// A clock skew in words: "on time" within a second, else how far ahead or behind.
fn skew_words(ms: i64, page: &Page) -> String {
    let secs = ms.abs() / 1000;
    if secs == 0 {
        return page.t("tills.skew_none").to_string();
    }
    let amount = if secs < 120 {
        page.tf("tills.seconds", &[("n", &page.count(&secs))])
    } else {
        page.tf("tills.minutes", &[("n", &page.count(&(secs / 60)))])
    };
    let key = if ms > 0 {
        "tills.skew_ahead"
    } else {
        "tills.skew_behind"
    };
    page.tf(key, &[("amount", &amount)])
}

/// A fresh enrolment code as the page shows it (once).
#[derive(Debug)]
struct NewCode {
    code: String,
    /// "A code for <name>".
    code_for: String,
    /// "Valid until <when>".
    expires: String,
    link: String,
    /// The QR code of `link`, an inline SVG.
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "dashboard/tills.html")]
struct TillsPage {
    page: Page,
    tills: Vec<TillRow>,
    new_code: Option<NewCode>,
    /// A notice in words (a till was revoked).
    notice: Option<String>,
    /// Why the enrolment code was not made, in words.
    error: Option<String>,
    /// The terminal name typed (kept after an error).
    terminal_name: String,
}

#[derive(Template)]
#[template(path = "dashboard/till_revoke.html")]
struct RevokePage {
    page: Page,
    till: TillRow,
}

#[derive(Debug, Deserialize)]
struct Done {
    revoked: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    terminal_name: String,
}

/// The store's tills, as words.
async fn rows(app: &AppState, s: &StoreAccess) -> Result<Vec<TillRow>, PageError> {
    let tills = app
        .services
        .list_terminals(&s.principal, &s.store.id)
        .await?;
    Ok(tills
        .into_iter()
        .map(|t| TillRow::new(t, &s.page))
        .collect())
}

/// `GET /stores/{store_id}/tills`.
async fn list(State(app): State<AppState>, s: StoreAccess, Query(done): Query<Done>) -> PageResult {
    let tills = rows(&app, &s).await?;
    let notice = done.revoked.and_then(|id| {
        let till = tills.iter().find(|t| t.id == id && t.revoked)?;
        Some(s.page.tf("tills.revoked_notice", &[("name", &till.name)]))
    });
    render(&TillsPage {
        page: s.page.titled("tills.title"),
        tills,
        new_code: None,
        notice,
        error: None,
        terminal_name: String::new(),
    })
}

/// `POST /stores/{store_id}/tills/codes`: a new enrolment code, shown on the page once.
async fn new_code(
    State(app): State<AppState>,
    headers: HeaderMap,
    s: StoreAccess,
    Form(form): Form<CodeForm>,
) -> PageResult<Response> {
    let made = app
        .services
        .create_enrollment_code(&s.principal, &s.store.id, &form.terminal_name)
        .await;
    let (new_code, error) = match made {
        Ok(c) => {
            let server = server_url(&app, &headers);
            let link = EnrolLink::new(&server, &c.code)
                .map_err(|e| {
                    tracing::error!(error = %e, server, "enrolment link of this server refused");
                    PageError::from(Error::Internal("enrolment link".into()))
                })?
                .format();
            let qr_svg = qr_svg(&link)?;
            let when = s.page.date_time(&c.expires_at);
            let shown = NewCode {
                code_for: s.page.tf("tills.code_for", &[("name", &c.terminal_name)]),
                expires: s.page.tf("tills.code_expires", &[("when", &when)]),
                code: c.code,
                link,
                qr_svg,
            };
            (Some(shown), None)
        }
        Err(Error::BadRequest(_)) => (None, Some(s.page.t("tills.bad_name").to_string())),
        Err(e) => return Err(e.into()),
    };
    let status = if error.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    let tills = rows(&app, &s).await?;
    let terminal_name = if error.is_some() {
        form.terminal_name
    } else {
        String::new()
    };
    let html = render(&TillsPage {
        page: s.page.titled("tills.title"),
        tills,
        new_code,
        notice: None,
        error,
        terminal_name,
    })?;
    Ok((status, html).into_response())
}

/// The till `till_id` of the page's store; another store's or an unknown one is 404.
async fn till_of(app: &AppState, s: &StoreAccess, till_id: &str) -> Result<TillRow, PageError> {
    rows(app, s)
        .await?
        .into_iter()
        .find(|t| t.id == till_id)
        .ok_or_else(PageError::not_found)
}

/// `GET /stores/{store_id}/tills/{till_id}/revoke`: the confirmation step.
async fn revoke_confirm(
    State(app): State<AppState>,
    Path((_, till_id)): Path<(String, String)>,
    s: StoreAccess,
) -> PageResult {
    let till = till_of(&app, &s, &till_id).await?;
    render(&RevokePage {
        page: s.page.titled("tills.revoke_title"),
        till,
    })
}

/// `POST /stores/{store_id}/tills/{till_id}/revoke`: revokes (its connection closes at once).
async fn revoke(
    State(app): State<AppState>,
    Path((_, till_id)): Path<(String, String)>,
    s: StoreAccess,
) -> PageResult<Redirect> {
    till_of(&app, &s, &till_id).await?;
    app.services
        .revoke_terminal(Some(&s.principal), &till_id)
        .await?;
    Ok(Redirect::to(&format!(
        "/stores/{}/tills?revoked={till_id}",
        s.store.id
    )))
}

/// The address tills enrol with: the configured `public_url`, else the one the browser used
/// (`https` when the server speaks TLS itself).
pub(crate) fn server_url(app: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &app.services.config.public_url {
        return u.clone();
    }
    let scheme = if app.services.config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

/// `text` as a QR code, an SVG element to put inline (no XML prolog), with a quiet zone.
fn qr_svg(text: &str) -> Result<String, PageError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| PageError::from(Error::Internal(format!("QR code: {e}"))))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(232, 232)
        .quiet_zone(true)
        .build();
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

/// The routes of the tills page.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/stores/{store_id}/tills", get(list))
        .route(
            "/stores/{store_id}/tills/codes",
            axum::routing::post(new_code),
        )
        .route(
            "/stores/{store_id}/tills/{till_id}/revoke",
            get(revoke_confirm).post(revoke),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_is_inline_svg() {
        let link = EnrolLink::new("http://127.0.0.1:8080", "K7QM-2XWP-9HDA")
            .unwrap()
            .format();
        let svg = qr_svg(&link).unwrap();
        assert!(svg.starts_with("<svg"), "{svg:.60}");
        assert!(!svg.contains("<?xml"));
        assert!(svg.contains("<path") || svg.contains("<rect"));
    }
}
