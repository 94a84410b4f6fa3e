//! The public receipt page, `/r/<token>`: the link and QR code on a till's receipt (issue 16).
//! Anyone holding the receipt may read it; nothing else is reachable from it. The token is the
//! sale's unguessable receipt token (128 random bits, `shared_model::sale::new_receipt_token`),
//! never its id; a token no sale has yet (the till has not synced) gets a polite page saying the
//! receipt appears once the till is online, indistinguishable from one that never existed.
//! In the reader's language (`?lang=id|en`, else the browser's, else Indonesian), readable on
//! a phone, printable from the browser.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_decimal::Decimal;
use serde::Deserialize;
use shared_model::sale::is_receipt_token;
use shared_model::settings::StoreSettings;

use super::i18n::Lang;
use super::page::{Page, render};
use super::reports::method_name;
use crate::state::AppState;
use crate::storage::PublicSale;

pub fn routes() -> Router<AppState> {
    Router::new().route("/r/{token}", get(receipt))
}

#[derive(Debug, Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// One line of the receipt, formatted.
pub(crate) struct Line {
    pub name: String,
    pub quantity: String,
    pub amount: String,
}

/// A receipt formatted for people: the page's template, and the email receipt's content.
#[derive(Template)]
#[template(path = "dashboard/receipt.html")]
pub(crate) struct ReceiptPage {
    pub page: Page,
    pub store_name: String,
    pub address: Vec<String>,
    pub npwp: String,
    pub receipt_no: String,
    pub when: String,
    pub till: String,
    pub voided: bool,
    pub lines: Vec<Line>,
    /// Empty without a discount.
    pub discount: String,
    pub tax: String,
    pub total: String,
    /// `(method in words, amount)`.
    pub payments: Vec<(String, String)>,
    pub footer: Vec<String>,
}

#[derive(Template)]
#[template(path = "dashboard/receipt_pending.html")]
struct PendingPage {
    page: Page,
}

fn e4(v: i64) -> String {
    Decimal::new(v, 4).normalize().to_string()
}

/// `GET /r/{token}`.
async fn receipt(
    State(app): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = q
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_else(|| Lang::of(&headers));
    let found = if is_receipt_token(&token) {
        app.services.storage.sale_by_receipt_token(&token).await
    } else {
        Ok(None)
    };
    let mut response = match found {
        Ok(Some(sale)) => sale_page(&app, lang, &token, sale).await,
        Ok(None) => pending_page(lang, StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = %e, "receipt page: storage failed");
            pending_page(lang, StatusCode::SERVICE_UNAVAILABLE)
        }
    };
    // A receipt is the customer's: kept out of search engines and shared caches.
    response
        .headers_mut()
        .insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

fn pending_page(lang: Lang, status: StatusCode) -> Response {
    let page = Page::anonymous(lang, String::new(), "/r".into()).titled("receipt.pending_title");
    match render(&PendingPage { page }) {
        Ok(html) => (status, html).into_response(),
        Err(_) => status.into_response(),
    }
}

/// The store's settings document (its own words: name, address, footer, time zone,
/// retention); `None` when the store has none the server can read.
pub(crate) async fn store_settings(app: &AppState, store_id: &str) -> Option<StoreSettings> {
    match app.services.storage.store_root(store_id).await {
        Ok(Some(root)) => crate::catalog::settings_of(app, &root.settings_doc_id)
            .await
            .ok(),
        _ => None,
    }
}

async fn sale_page(app: &AppState, lang: Lang, token: &str, sale: PublicSale) -> Response {
    // A store whose settings cannot be read still shows the sale.
    let settings = store_settings(app, &sale.store_id).await;
    let t = receipt_page(lang, token, &sale, settings.as_ref());
    match render(&t) {
        Ok(html) => html.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The receipt of `sale` formatted in `lang` (money as `Rp 12.500`, the time in the store's
/// time zone): the page's content, and the email receipt's ([`crate::receipt_mail`]).
pub(crate) fn receipt_page(
    lang: Lang,
    token: &str,
    sale: &PublicSale,
    settings: Option<&StoreSettings>,
) -> ReceiptPage {
    let mut page = Page::anonymous(lang, String::new(), format!("/r/{token}"));
    page.title = lang.tf("receipt.title", &[("number", &sale.receipt_no)]);
    let (store_name, address, npwp, footer) = match settings {
        Some(s) => {
            page.tz = s.business_day.time_zone.parse().unwrap_or(page.tz);
            (
                s.store_name.clone(),
                s.address
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect(),
                s.npwp.clone().unwrap_or_default(),
                s.receipt_footer.clone(),
            )
        }
        None => (String::new(), Vec::new(), String::new(), Vec::new()),
    };
    ReceiptPage {
        store_name,
        address,
        npwp,
        receipt_no: sale.receipt_no.clone(),
        when: page.date_time(&sale.created_at),
        till: sale.terminal_code.clone(),
        voided: sale.voided,
        lines: sale
            .lines
            .iter()
            .map(|(name, q, amount)| Line {
                name: name.clone(),
                quantity: page.qty(&e4(*q)),
                amount: page.money(&e4(*amount)),
            })
            .collect(),
        discount: if sale.discount_e4 == 0 {
            String::new()
        } else {
            page.money(&e4(-sale.discount_e4))
        },
        tax: page.money(&e4(sale.tax_e4)),
        total: page.money(&e4(sale.total_e4)),
        payments: sale
            .payments
            .iter()
            .map(|(method, amount)| (method_name(&page, method), page.money(&e4(*amount))))
            .collect(),
        footer,
        page,
    }
}
