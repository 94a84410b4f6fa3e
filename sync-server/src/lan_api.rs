//! The tills' LAN endpoints, authenticated with the device credential (Bearer):
//!
//! ```text
//! GET /api/v1/terminal/lan        the till's LanInfo: signing key, signed roster, store key, pepper
//! PUT /api/v1/terminal/lan-key    {"lan_key"}: sets or replaces the till's LAN public key
//! ```
//!
//! A revoked till's credential is refused (401) by the extractor, so it cannot learn the store
//! key that replaced the one it had. Thin handlers over [`crate::service::Services`].

use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use shared_model::lan_roster::LanInfo;

use crate::error::{ErrorBody, Result};
use crate::extract::{ApiJson, DeviceAuth};
use crate::state::AppState;

/// 401 of the device-credential operations.
const NO_TILL: &str = "`unauthorized`: missing, unknown or revoked device credential";
/// 403 of the device-credential operations.
const NOT_TILL: &str = "`forbidden`: the token is not a terminal's";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LanKeyRequest {
    /// The till's Ed25519 LAN public key, 64 hex digits.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub lan_key: String,
}

#[utoipa::path(get, path = "/api/v1/terminal/lan", security(("bearer" = [])),
    description = "Takes a device credential. What the till needs for LAN sync: the store's roster-signing \
        public key, the signed roster, the store key in force with its version, and the store's PIN pepper.",
    responses((status = 200, description = "the till's LAN information", body = LanInfo),
        (status = 401, description = NO_TILL, body = ErrorBody),
        (status = 403, description = NOT_TILL, body = ErrorBody)))]
pub(crate) async fn lan_info(
    State(app): State<AppState>,
    device: DeviceAuth,
) -> Result<Json<LanInfo>> {
    Ok(Json(app.services.lan_info(&device.store_id).await?))
}

#[utoipa::path(put, path = "/api/v1/terminal/lan-key", request_body = LanKeyRequest, security(("bearer" = [])),
    description = "Takes a device credential. Sets or replaces the till's LAN public key; the roster's \
        version grows. Answers the till's LAN information with the new roster.",
    responses((status = 200, description = "the key is in the roster", body = LanInfo),
        (status = 400, description = "`bad_request`: not JSON of this shape, or no Ed25519 public key", body = ErrorBody),
        (status = 401, description = NO_TILL, body = ErrorBody),
        (status = 403, description = NOT_TILL, body = ErrorBody)))]
pub(crate) async fn set_lan_key(
    State(app): State<AppState>,
    device: DeviceAuth,
    ApiJson(req): ApiJson<LanKeyRequest>,
) -> Result<Json<LanInfo>> {
    Ok(Json(
        app.services
            .set_lan_key(&device.terminal_id, &device.store_id, &req.lan_key)
            .await?,
    ))
}

/// Routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/terminal/lan", get(lan_info))
        .route("/terminal/lan-key", put(set_lan_key))
}
