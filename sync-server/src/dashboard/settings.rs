//! The store settings page: the form of [`crate::store_settings`] (tax mode, cash rounding,
//! receipt header and footer, static QRIS payload, business-day start, time zone), each refusal
//! shown next to its field in the reader's language, nothing written unless every field passes.
//! For owners, a second form connects the store's payment gateway for dynamic QRIS
//! ([`crate::payments`]): the keys are write-only, the page shows the provider, the key's last
//! four characters and the webhook address to enter at the gateway.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::page::{Page, PageResult, StoreAccess, render};
use crate::error::Error;
use crate::payments::gateway::{Environment, Provider};
use crate::payments::{GatewaySettings, GatewayView};
use crate::state::AppState;
use crate::store_settings::{self, PriceModeName, SettingsChange, SettingsView};

/// Time zones offered in the form (any IANA name is accepted).
const ZONES: [&str; 3] = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"];

/// The routes of this page area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stores/{store_id}/settings", get(show).post(save))
        .route(
            "/stores/{store_id}/settings/payment-gateway",
            post(save_gateway),
        )
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
    /// Owners only: the store's gateway, and the form's outcome.
    gateway: Option<GatewayView>,
    webhook_base: String,
    gateway_note: Option<&'static str>,
    gateway_error: Option<String>,
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

/// The gateway part of the page (owners only; empty for managers).
#[derive(Default)]
struct GatewayPart {
    gateway: Option<GatewayView>,
    webhook_base: String,
    note: Option<&'static str>,
    error: Option<String>,
}

async fn gateway_part(
    app: &AppState,
    access: &StoreAccess,
    headers: &HeaderMap,
) -> Result<GatewayPart, Error> {
    if !access.page.is_owner {
        return Ok(GatewayPart::default());
    }
    Ok(GatewayPart {
        gateway: app.services.payments.gateway(&access.store.id).await?,
        webhook_base: super::tills::server_url(app, headers),
        ..GatewayPart::default()
    })
}

fn page_of(
    page: Page,
    s: SettingsForm,
    tax_classes: Vec<String>,
    saved: bool,
    error: Option<(&'static str, String)>,
    gw: GatewayPart,
) -> PageResult<Response> {
    let status = if error.is_some() || gw.error.is_some() {
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
        gateway: gw.gateway,
        webhook_base: gw.webhook_base,
        gateway_note: gw.note,
        gateway_error: gw.error,
    })?;
    Ok((status, html).into_response())
}

#[derive(Debug, Deserialize)]
struct Saved {
    saved: Option<String>,
    /// `saved` or `removed`: the gateway form's outcome.
    gateway: Option<String>,
}

/// `GET /stores/{store_id}/settings`.
async fn show(
    State(app): State<AppState>,
    access: StoreAccess,
    headers: HeaderMap,
    Query(q): Query<Saved>,
) -> PageResult<Response> {
    let v = store_settings::get(&app, &access.principal, &access.store.id).await?;
    let mut gw = gateway_part(&app, &access, &headers).await?;
    gw.note = match q.gateway.as_deref() {
        Some("saved") => Some("settings.gateway_saved"),
        Some("removed") => Some("settings.gateway_removed"),
        _ => None,
    };
    page_of(
        access.page,
        SettingsForm::from(&v),
        v.tax_classes.clone(),
        q.saved.is_some(),
        None,
        gw,
    )
}

/// The gateway form, as typed. The keys are never shown back.
#[derive(Deserialize)]
struct GatewayForm {
    /// `save` or `remove`.
    action: String,
    provider: Option<String>,
    environment: Option<String>,
    key: Option<String>,
    callback_token: Option<String>,
}

/// `POST /stores/{store_id}/settings/payment-gateway` (owners).
async fn save_gateway(
    State(app): State<AppState>,
    access: StoreAccess,
    headers: HeaderMap,
    axum::Form(f): axum::Form<GatewayForm>,
) -> PageResult<Response> {
    crate::access::payment_gateway(&access.principal, &access.store)?;
    let store_id = access.store.id.clone();
    let payments = &app.services.payments;
    let result = if f.action == "remove" {
        payments.remove_gateway(&store_id).await.map(|_| "removed")
    } else {
        let provider = match f.provider.as_deref() {
            Some("xendit") => Provider::Xendit,
            _ => Provider::Midtrans,
        };
        let environment = match f.environment.as_deref() {
            Some("sandbox") => Environment::Sandbox,
            _ => Environment::Production,
        };
        let key = f.key.filter(|k| !k.trim().is_empty());
        let settings = GatewaySettings {
            provider,
            environment,
            server_key: (provider == Provider::Midtrans)
                .then(|| key.clone())
                .flatten(),
            secret_key: (provider == Provider::Xendit).then_some(key).flatten(),
            callback_token: f.callback_token.filter(|t| !t.trim().is_empty()),
        };
        let crate::auth::Principal::User {
            tenant_id, user_id, ..
        } = &access.principal
        else {
            return Err(Error::Forbidden("only owners set the payment gateway").into());
        };
        payments
            .save_gateway(tenant_id, &store_id, user_id, settings)
            .await
            .map(|_| "saved")
    };
    match result {
        Ok(done) => Ok(Redirect::to(&format!(
            "/stores/{store_id}/settings?gateway={done}#payment-gateway"
        ))
        .into_response()),
        Err(Error::Invalid { en, id, .. }) => {
            let msg = if access.page.lang.code() == "id" {
                id
            } else {
                en
            };
            let v = store_settings::get(&app, &access.principal, &store_id).await?;
            let mut gw = gateway_part(&app, &access, &headers).await?;
            gw.error = Some(msg);
            page_of(
                access.page,
                SettingsForm::from(&v),
                v.tax_classes.clone(),
                false,
                None,
                gw,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /stores/{store_id}/settings`.
async fn save(
    State(app): State<AppState>,
    access: StoreAccess,
    headers: HeaderMap,
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
            let gw = gateway_part(&app, &access, &headers).await?;
            page_of(access.page, f, v.tax_classes, false, Some((field, msg)), gw)
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
