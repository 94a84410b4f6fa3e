//! The store settings page: the form of [`crate::store_settings`] (tax mode, cash rounding,
//! receipt header and footer, static QRIS payload, business-day start, time zone), each refusal
//! shown next to its field in the reader's language, nothing written unless every field passes.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::page::{Page, PageResult, StoreAccess, render};
use crate::error::Error;
use crate::state::AppState;
use crate::store_settings::{self, PriceModeName, SettingsChange, SettingsView};

/// Time zones offered in the form (any IANA name is accepted).
const ZONES: [&str; 3] = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"];

/// The routes of this page area.
pub fn routes() -> Router<AppState> {
    Router::new().route("/stores/{store_id}/settings", get(show).post(save))
}

#[derive(Template)]
#[template(path = "dashboard/settings.html")]
struct SettingsPage {
    page: Page,
    s: SettingsForm,
    tax_classes: Vec<String>,
    zones: [&'static str; 3],
    hours: Vec<u8>,
    saved: bool,
    error_field: String,
    error: Option<String>,
}

impl SettingsPage {
    fn err(&self, field: &str) -> bool {
        self.error.is_some() && self.error_field == field
    }
}

/// The form's fields, as typed.
#[derive(Debug, Clone, Deserialize)]
struct SettingsForm {
    price_mode: String,
    cash_rounding_unit: String,
    receipt_header: String,
    receipt_footer: String,
    qris_static_payload: String,
    business_day_start_hour: String,
    time_zone: String,
}

impl From<&SettingsView> for SettingsForm {
    fn from(v: &SettingsView) -> Self {
        SettingsForm {
            price_mode: match v.price_mode {
                PriceModeName::Inclusive => "inclusive".into(),
                PriceModeName::Exclusive => "exclusive".into(),
            },
            cash_rounding_unit: v.cash_rounding_unit.clone(),
            receipt_header: v.receipt_header.join("\n"),
            receipt_footer: v.receipt_footer.join("\n"),
            qris_static_payload: v.qris_static_payload.clone().unwrap_or_default(),
            business_day_start_hour: v.business_day_start_hour.to_string(),
            time_zone: v.time_zone.clone(),
        }
    }
}

fn lines(s: &str) -> Vec<String> {
    let v: Vec<String> = s.lines().map(|l| l.trim_end().to_string()).collect();
    // Trailing empty lines of a textarea are not receipt lines.
    let keep = v.iter().rposition(|l| !l.is_empty()).map_or(0, |i| i + 1);
    v[..keep].to_vec()
}

impl SettingsForm {
    fn change(&self) -> Result<SettingsChange, Error> {
        let price_mode = match self.price_mode.as_str() {
            "exclusive" => PriceModeName::Exclusive,
            _ => PriceModeName::Inclusive,
        };
        let hour: u8 = self
            .business_day_start_hour
            .trim()
            .parse()
            .map_err(|_| Error::Invalid {
                field: "business_day_start_hour",
                en: "choose an hour from 0 to 23".into(),
                id: "pilih jam 0 sampai 23".into(),
            })?;
        Ok(SettingsChange {
            price_mode: Some(price_mode),
            cash_rounding_unit: Some(self.cash_rounding_unit.clone()),
            receipt_header: Some(lines(&self.receipt_header)),
            receipt_footer: Some(lines(&self.receipt_footer)),
            qris_static_payload: Some(self.qris_static_payload.clone()),
            business_day_start_hour: Some(hour),
            time_zone: Some(self.time_zone.clone()),
            // Not on the dashboard's form yet: set through the settings API.
            contact_retention_days: None,
        })
    }
}

fn page_of(
    page: Page,
    s: SettingsForm,
    tax_classes: Vec<String>,
    saved: bool,
    error: Option<(&'static str, String)>,
) -> PageResult<Response> {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (error_field, error) = match error {
        Some((f, e)) => (f.to_string(), Some(e)),
        None => (String::new(), None),
    };
    let html = render(&SettingsPage {
        page: page.titled("settings.title"),
        s,
        tax_classes,
        zones: ZONES,
        hours: (0..24).collect(),
        saved,
        error_field,
        error,
    })?;
    Ok((status, html).into_response())
}

#[derive(Debug, Deserialize)]
struct Saved {
    saved: Option<String>,
}

/// `GET /stores/{store_id}/settings`.
async fn show(
    State(app): State<AppState>,
    access: StoreAccess,
    Query(q): Query<Saved>,
) -> PageResult<Response> {
    let v = store_settings::get(&app, &access.principal, &access.store.id).await?;
    page_of(
        access.page,
        SettingsForm::from(&v),
        v.tax_classes.clone(),
        q.saved.is_some(),
        None,
    )
}

/// `POST /stores/{store_id}/settings`.
async fn save(
    State(app): State<AppState>,
    access: StoreAccess,
    axum::Form(f): axum::Form<SettingsForm>,
) -> PageResult<Response> {
    let store_id = access.store.id.clone();
    let result = match f.change() {
        Ok(change) => store_settings::update(&app, &access.principal, &store_id, change).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/stores/{store_id}/settings?saved=1")).into_response()),
        Err(Error::Invalid { field, en, id }) => {
            let msg = if access.page.lang.code() == "id" {
                id
            } else {
                en
            };
            let v = store_settings::get(&app, &access.principal, &store_id).await?;
            page_of(access.page, f, v.tax_classes, false, Some((field, msg)))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textarea_lines_lose_trailing_blanks_only() {
        assert_eq!(
            lines("Terima kasih\r\n\r\nSampai jumpa\r\n\r\n"),
            ["Terima kasih", "", "Sampai jumpa"]
        );
        assert!(lines("").is_empty());
    }
}
