//! The till's email receipt endpoint, authenticated with the device credential (Bearer):
//!
//! ```text
//! POST /api/v1/terminal/receipts/email   {"send_id", "receipt_token", "email", "lang"}
//! ```
//!
//! A thin handler over [`crate::receipt_mail::email_receipt`], which sends once per `send_id`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::dashboard::i18n::Lang;
use crate::error::{ErrorBody, Result};
use crate::extract::{ApiJson, DeviceAuth};
use crate::receipt_mail::{EmailOutcome, EmailRequest};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EmailReceiptRequest {
    /// The till's id of this send (a UUID): a retry with the same id sends nothing more.
    pub send_id: String,
    /// The sale's receipt token, 32 lower-case hex digits.
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub receipt_token: String,
    /// The customer's email address.
    pub email: String,
    /// The language of the email: `id` (default) or `en`.
    pub lang: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/terminal/receipts/email", request_body = EmailReceiptRequest,
    security(("bearer" = [])),
    description = "Takes a device credential. Emails the receipt of one of the store's sales (plain text and \
        HTML, with the link to its public page) through the server's SMTP server, once per `send_id`: a \
        send already made answers 200 with its `sent_at` and sends nothing.",
    responses((status = 200, description = "`sent` (now or before), or `unknown` (an attempt stopped \
            mid-way long ago; not sent again)", body = EmailOutcome),
        (status = 400, description = "`bad_request`: not JSON of this shape, or not an email address", body = ErrorBody),
        (status = 401, description = "`unauthorized`: missing, unknown or revoked device credential", body = ErrorBody),
        (status = 403, description = "`forbidden`: the token is not a terminal's", body = ErrorBody),
        (status = 404, description = "`not_found`: the receipt is another store's", body = ErrorBody),
        (status = 409, description = "`not_synced`: the sale has not reached the server yet (retry later); \
            `conflict`: the same send is in progress", body = ErrorBody),
        (status = 502, description = "`email_failed`: the SMTP server refused or cannot be reached; the \
            message says why; a retry may send", body = ErrorBody),
        (status = 503, description = "`email_not_configured`: this server has no `smtp_url`", body = ErrorBody)))]
pub(crate) async fn email_receipt(
    State(app): State<AppState>,
    device: DeviceAuth,
    headers: HeaderMap,
    ApiJson(req): ApiJson<EmailReceiptRequest>,
) -> Result<Json<EmailOutcome>> {
    let base = crate::dashboard::tills::server_url(&app, &headers);
    let req = EmailRequest {
        send_id: req.send_id,
        receipt_token: req.receipt_token,
        email: req.email,
        lang: req
            .lang
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or_default(),
    };
    Ok(Json(
        crate::receipt_mail::email_receipt(&app, &device, req, &base).await?,
    ))
}

/// Routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/terminal/receipts/email", post(email_receipt))
}
