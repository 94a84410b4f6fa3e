//! Store settings for owners and managers (the JSON API and the dashboard's settings page call
//! these): what the tills price, round and print by, read from and written into the store's
//! settings document through [`DocWriter`], so the tills receive a change by sync.
//!
//! ```text
//! GET   /api/v1/stores/{store_id}/settings
//! PATCH /api/v1/stores/{store_id}/settings   {"price_mode"?, "cash_rounding_unit"?, ...}
//! ```
//!
//! Every value is checked by the model before anything is written ([`StoreSettings::validate`]:
//! the time zone must be an IANA name, the QRIS payload must pass its CRC), and a refusal names
//! the field in English and Bahasa Indonesia ([`Error::Invalid`]).

use axum::extract::{Path, State};
use axum::routing;
use axum::{Json, Router};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared_model::documents::{self, SettingsDoc};
use shared_model::money::Money;
use shared_model::settings::StoreSettings;
use shared_model::tax::PriceMode;
use tracing::instrument;

use crate::auth::Principal;
use crate::catalog::{not_found_is_no_terminal, store_docs};
use crate::documents_writer::DocWriter;
use crate::error::{Error, ErrorBody, Result};
use crate::extract::{ApiJson, UserAuth};
use crate::openapi::{NO_STORE, NOT_MANAGER, StorePath};
use crate::state::AppState;

/// 409 of the settings operations.
const NO_TERMINAL: &str = "`store_has_no_terminal`: no terminal synced the store yet";

/// Most lines of a receipt header or footer, and characters per line (an 80 mm printer's
/// width).
pub const MAX_RECEIPT_LINES: usize = 8;
pub const MAX_RECEIPT_LINE: usize = 48;

/// Whether shelf prices include tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceModeName {
    Inclusive,
    Exclusive,
}

impl From<PriceMode> for PriceModeName {
    fn from(m: PriceMode) -> Self {
        match m {
            PriceMode::Inclusive => PriceModeName::Inclusive,
            PriceMode::Exclusive => PriceModeName::Exclusive,
        }
    }
}

impl From<PriceModeName> for PriceMode {
    fn from(m: PriceModeName) -> Self {
        match m {
            PriceModeName::Inclusive => PriceMode::Inclusive,
            PriceModeName::Exclusive => PriceMode::Exclusive,
        }
    }
}

/// The settings the dashboard edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SettingsView {
    pub store_name: String,
    pub price_mode: PriceModeName,
    /// Cash payments are rounded to this unit (a decimal as a string; `"0"` for none).
    pub cash_rounding_unit: String,
    pub receipt_header: Vec<String>,
    pub receipt_footer: Vec<String>,
    /// The static QRIS payload, CRC included.
    pub qris_static_payload: Option<String>,
    /// Hour (0–23) at which a business day starts.
    pub business_day_start_hour: u8,
    /// IANA time zone, e.g. `Asia/Jakarta`.
    pub time_zone: String,
    /// The tax classes products may use (read-only here).
    pub tax_classes: Vec<String>,
    /// Days a customer's email address (typed for an email receipt) is kept; 0: forgotten once
    /// the receipt is sent.
    pub contact_retention_days: u32,
}

impl From<&StoreSettings> for SettingsView {
    fn from(s: &StoreSettings) -> Self {
        SettingsView {
            store_name: s.store_name.clone(),
            price_mode: s.price_mode.into(),
            cash_rounding_unit: s.cash_rounding_unit.0.normalize().to_string(),
            receipt_header: s.receipt_header.clone(),
            receipt_footer: s.receipt_footer.clone(),
            qris_static_payload: s.qris_static_payload.clone(),
            business_day_start_hour: s.business_day.cutoff_hour,
            time_zone: s.business_day.time_zone.clone(),
            tax_classes: s.tax_rules.iter().map(|t| t.class.clone()).collect(),
            contact_retention_days: s.contact_retention_days,
        }
    }
}

/// Fields to change; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SettingsChange {
    pub price_mode: Option<PriceModeName>,
    /// A decimal as a string, 0 or more (`"100"` rounds cash to Rp100).
    pub cash_rounding_unit: Option<String>,
    /// At most 8 lines of at most 48 characters.
    pub receipt_header: Option<Vec<String>>,
    /// At most 8 lines of at most 48 characters.
    pub receipt_footer: Option<Vec<String>>,
    /// The static QRIS payload; an empty string removes it.
    pub qris_static_payload: Option<String>,
    /// 0–23.
    #[schema(minimum = 0, maximum = 23)]
    pub business_day_start_hour: Option<u8>,
    /// An IANA time zone name.
    pub time_zone: Option<String>,
    /// 0–3650 days.
    #[schema(minimum = 0, maximum = 3650)]
    pub contact_retention_days: Option<u32>,
}

/// The longest a store may keep its customers' contacts: ten years.
const MAX_CONTACT_RETENTION_DAYS: u32 = 3650;

fn receipt_lines(field: &'static str, lines: Vec<String>) -> Result<Vec<String>> {
    let lines: Vec<String> = lines
        .into_iter()
        .map(|l| l.trim_end().to_string())
        .collect();
    if lines.len() > MAX_RECEIPT_LINES {
        return Err(Error::Invalid {
            field,
            en: format!("{field}: at most {MAX_RECEIPT_LINES} lines"),
            id: format!("{field}: paling banyak {MAX_RECEIPT_LINES} baris"),
        });
    }
    for l in &lines {
        if l.chars().count() > MAX_RECEIPT_LINE {
            return Err(Error::Invalid {
                field,
                en: format!("{field}: a line has more than {MAX_RECEIPT_LINE} characters"),
                id: format!("{field}: ada baris lebih dari {MAX_RECEIPT_LINE} karakter"),
            });
        }
        if l.chars().any(char::is_control) {
            return Err(Error::Invalid {
                field,
                en: format!("{field}: control characters are not allowed"),
                id: format!("{field}: karakter kontrol tidak diizinkan"),
            });
        }
    }
    Ok(lines)
}

/// `change` applied onto `s`, checked by the model.
pub fn apply(mut s: StoreSettings, change: SettingsChange) -> Result<StoreSettings> {
    if let Some(m) = change.price_mode {
        s.price_mode = m.into();
    }
    if let Some(u) = change.cash_rounding_unit {
        let t = u.trim();
        let d = Decimal::from_str_exact(t).map_err(|_| Error::Invalid {
            field: "cash_rounding_unit",
            en: format!("cash rounding unit: {t:?} is not a number"),
            id: format!("satuan pembulatan tunai: {t:?} bukan angka"),
        })?;
        let m = Money(d)
            .non_negative("cash rounding unit")
            .and_then(|m| s.currency().parse_amount(m.0))
            .map_err(|e| Error::model("cash_rounding_unit", &e))?;
        if m.0 > Decimal::from(1_000_000) {
            return Err(Error::Invalid {
                field: "cash_rounding_unit",
                en: "cash rounding unit: at most 1000000".into(),
                id: "satuan pembulatan tunai: paling besar 1000000".into(),
            });
        }
        s.cash_rounding_unit = m;
    }
    if let Some(h) = change.receipt_header {
        s.receipt_header = receipt_lines("receipt_header", h)?;
    }
    if let Some(f) = change.receipt_footer {
        s.receipt_footer = receipt_lines("receipt_footer", f)?;
    }
    if let Some(q) = change.qris_static_payload {
        let q = q.trim();
        s.qris_static_payload = (!q.is_empty()).then(|| q.to_string());
        if let Some(p) = &s.qris_static_payload {
            shared_model::qris::check_payload(p)
                .map_err(|e| Error::model("qris_static_payload", &e))?;
        }
    }
    if let Some(h) = change.business_day_start_hour {
        s.business_day.cutoff_hour = h;
    }
    if let Some(days) = change.contact_retention_days {
        if days > MAX_CONTACT_RETENTION_DAYS {
            return Err(Error::Invalid {
                field: "contact_retention_days",
                en: format!("contact retention: at most {MAX_CONTACT_RETENTION_DAYS} days"),
                id: format!(
                    "lama penyimpanan kontak: paling lama {MAX_CONTACT_RETENTION_DAYS} hari"
                ),
            });
        }
        s.contact_retention_days = days;
    }
    if let Some(tz) = change.time_zone {
        s.business_day.time_zone = tz.trim().to_string();
    }
    s.business_day.validate().map_err(|e| {
        let field = match &e {
            shared_model::ModelError::Invalid {
                field: "time zone", ..
            } => "time_zone",
            _ => "business_day_start_hour",
        };
        Error::model(field, &e)
    })?;
    s.validate().map_err(|e| Error::model("settings", &e))?;
    Ok(s)
}

/// The store's settings.
#[instrument(skip_all, fields(store_id))]
pub async fn get(app: &AppState, who: &Principal, store_id: &str) -> Result<SettingsView> {
    let (_, settings_doc) = store_docs(app, who, store_id).await?;
    let s = crate::catalog::settings_of(app, &settings_doc).await?;
    Ok(SettingsView::from(&s))
}

/// Changes the store's settings; nothing is written unless every field passes.
#[instrument(skip_all, fields(store_id))]
pub async fn update(
    app: &AppState,
    who: &Principal,
    store_id: &str,
    change: SettingsChange,
) -> Result<SettingsView> {
    let (_, settings_doc) = store_docs(app, who, store_id).await?;
    // Checked against what the server holds before the change, to answer a refusal without
    // touching the document; then applied again inside the change onto the latest version.
    let current = crate::catalog::settings_of(app, &settings_doc).await?;
    apply(current, change.clone())?;
    let store = store_id.to_string();
    let (view, _) = DocWriter::new(app)
        .change(&settings_doc, move |doc| {
            let mut d: SettingsDoc =
                documents::read(doc).map_err(|e| Error::Internal(e.to_string()))?;
            if d.store_id != store {
                return Err(Error::Internal("settings document of another store".into()));
            }
            d.settings = apply(d.settings, change)?;
            documents::write(doc, &d).map_err(|e| Error::Internal(e.to_string()))?;
            Ok(SettingsView::from(&d.settings))
        })
        .await
        .map_err(not_found_is_no_terminal)?;
    tracing::info!(by = %who.label(), "store settings changed");
    Ok(view)
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/settings", params(StorePath), security(("bearer" = [])),
    responses((status = 200, description = "the store's settings", body = SettingsView),
        (status = 403, description = NOT_MANAGER, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody),
        (status = 409, description = NO_TERMINAL, body = ErrorBody)))]
pub async fn get_settings(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
) -> Result<Json<SettingsView>> {
    Ok(Json(get(&app, &who, &store_id).await?))
}

#[utoipa::path(patch, path = "/api/v1/stores/{store_id}/settings", request_body = SettingsChange,
    params(StorePath), security(("bearer" = [])),
    responses((status = 200, description = "changed; the tills receive it by sync", body = SettingsView),
        (status = 400, description = "`bad_request`: a value is refused (the message names it)", body = ErrorBody),
        (status = 403, description = NOT_MANAGER, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody),
        (status = 409, description = NO_TERMINAL, body = ErrorBody)))]
pub async fn update_settings(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiJson(change): ApiJson<SettingsChange>,
) -> Result<Json<SettingsView>> {
    Ok(Json(update(&app, &who, &store_id, change).await?))
}

/// Routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/stores/{store_id}/settings",
        routing::get(get_settings).patch(update_settings),
    )
}
