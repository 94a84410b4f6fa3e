//! `POST /api/v1/terminals/me/heartbeat`: how a terminal learns which of its sales the server
//! has stored **and projected** ("on server" for the cashier), reports what it still has to
//! send, and checks its clock. Authenticated with the device credential (Bearer).
//!
//! The sync protocol alone cannot say "projected": heads only say "stored". A sale id is
//! acknowledged once it is a row of `sales` (or `refunds`) for the terminal's store, which the
//! projector writes only after the journal's chunks are in storage.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use shared_model::codec::Timestamp;
use shared_model::heartbeat::{HeartbeatRequest, HeartbeatResponse};

use crate::error::{Error, Result};
use crate::extract::{ApiJson, DeviceAuth};
use crate::state::AppState;
use crate::storage::TerminalReport;

/// At most this many ids per heartbeat; the terminal sends its oldest first.
pub const MAX_IDS: usize = 1_000;

#[utoipa::path(post, path = "/api/v1/terminals/me/heartbeat", request_body = HeartbeatRequest,
    security(("bearer" = [])),
    description = "Takes a device credential. Records what the terminal still has to send and its clock \
        skew, and answers which of `unacknowledged` are stored and projected.",
    responses((status = 200, description = "the acknowledged ids and the server's clock", body = HeartbeatResponse),
        (status = 400, description = "`bad_request`: not JSON of this shape, too many or invalid ids, or a time that is not RFC 3339",
            body = crate::error::ErrorBody),
        (status = 401, description = "`unauthorized`: missing, unknown or revoked credential", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: the token is not a terminal's", body = crate::error::ErrorBody)))]
pub async fn heartbeat(
    State(app): State<AppState>,
    device: DeviceAuth,
    ApiJson(req): ApiJson<HeartbeatRequest>,
) -> Result<Json<HeartbeatResponse>> {
    Ok(Json(report(&app, &device, req).await?))
}

/// The service behind the handler.
pub async fn report(
    app: &AppState,
    device: &DeviceAuth,
    req: HeartbeatRequest,
) -> Result<HeartbeatResponse> {
    if req.unacknowledged.len() > MAX_IDS {
        return Err(Error::BadRequest(format!(
            "at most {MAX_IDS} ids per heartbeat"
        )));
    }
    if req
        .unacknowledged
        .iter()
        .any(|id| id.is_empty() || id.len() > 64)
    {
        return Err(Error::BadRequest("invalid record id".into()));
    }
    if let Some(v) = &req.app_version
        && (v.is_empty() || v.chars().count() > 32 || v.chars().any(char::is_control))
    {
        return Err(Error::BadRequest(
            "app_version must have 1-32 characters and no control characters".into(),
        ));
    }
    let terminal_time = req.terminal_time.0;
    let now = Utc::now();
    let cap = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    app.services
        .record_terminal_report(TerminalReport {
            terminal_id: device.terminal_id.clone(),
            at: now.timestamp_millis(),
            waiting_documents: cap(req.waiting_documents),
            waiting_sales: cap(req.waiting_sales),
            clock_skew_ms: (terminal_time - now).num_milliseconds(),
            app_version: req.app_version,
        })
        .await?;
    let acknowledged = if req.unacknowledged.is_empty() {
        Vec::new()
    } else {
        app.services
            .storage
            .projected_records(&device.tenant_id, &device.store_id, &req.unacknowledged)
            .await?
    };
    Ok(HeartbeatResponse {
        server_time: Timestamp::from(now),
        acknowledged,
    })
}
