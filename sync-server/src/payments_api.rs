//! Dynamic QRIS over HTTP: thin handlers over [`crate::payments::Payments`].
//!
//! ```text
//! PUT|GET|DELETE /api/v1/stores/{store_id}/payment-gateway   the store's gateway (owners set it)
//! POST /api/v1/terminal/payments/qris                        a till's charge {payment_id, amount}
//! GET  /api/v1/terminal/payments/{payment_id}?since=&wait_ms= the charge once it moves (long poll)
//! POST /api/v1/terminal/payments/{payment_id}/cancel         the till gives up on it
//! POST /api/v1/terminal/payments/refunds                     a refund through the gateway
//! POST /webhooks/midtrans                                    Midtrans's HTTP notification
//! POST /webhooks/xendit                                      Xendit's qr.payment callback
//! ```
//!
//! The webhooks take no credential: each notification proves itself (Midtrans's signature,
//! Xendit's callback token) against the keys of the store whose charge it names.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;

use crate::access;
use crate::error::{Error, ErrorBody, Result};
use crate::extract::{ApiJson, ApiQuery, DeviceAuth, UserAuth};
use crate::openapi::{NO_STORE, StorePath};
use crate::payments::status::ChargeStatus;
use crate::payments::{
    ChargeView, GatewayRefundRequest, GatewayRefundView, GatewaySettings, GatewayView, NewCharge,
};
use crate::state::AppState;

const NO_TILL: &str = "`unauthorized`: missing, unknown or revoked device credential";
const NOT_TILL: &str = "`forbidden`: the token is not a terminal's";
const NO_PAYMENT: &str = "`not_found`: no such payment of the till's store";
const GATEWAY_FAILED: &str = "`gateway_failed`: the gateway could not be reached (502) or refused (422); the message says why in its words";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PaymentPath {
    /// The till's payment id (a UUID).
    pub payment_id: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct WaitQuery {
    /// Answer once the charge's status is no longer this one (a long poll); none: answer now,
    /// after asking the gateway about a charge that is not paid.
    pub since: Option<ChargeStatus>,
    /// How long to wait for a change, milliseconds (at most 30,000; default 20,000).
    pub wait_ms: Option<u64>,
}

async fn owner_store(app: &AppState, who: &crate::auth::Principal, store_id: &str) -> Result<()> {
    let store = app.services.store_for(who, store_id).await?;
    access::payment_gateway(who, &store)
}

#[utoipa::path(put, path = "/api/v1/stores/{store_id}/payment-gateway", request_body = GatewaySettings,
    params(StorePath), security(("bearer" = [])),
    description = "Owners only. Sets the store's Midtrans or Xendit account. The keys are sealed at rest \
        and never answered back; the answer shows the key's last four characters.",
    responses((status = 200, description = "set", body = GatewayView),
        (status = 400, description = "`bad_request`: a key is missing (the message names it)", body = ErrorBody),
        (status = 403, description = "`forbidden`: only owners set the payment gateway", body = ErrorBody),
        (status = 404, description = NO_STORE, body = ErrorBody),
        (status = 503, description = "`payments_not_configured`: the server has no payment key", body = ErrorBody)))]
pub async fn put_gateway(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiJson(settings): ApiJson<GatewaySettings>,
) -> Result<Json<GatewayView>> {
    owner_store(&app, &who, &store_id).await?;
    let crate::auth::Principal::User {
        tenant_id, user_id, ..
    } = &who
    else {
        return Err(Error::Forbidden("only owners set the payment gateway"));
    };
    Ok(Json(
        app.services
            .payments
            .save_gateway(tenant_id, &store_id, user_id, settings)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/payment-gateway",
    params(StorePath), security(("bearer" = [])),
    responses((status = 200, description = "the store's gateway, keys hidden", body = GatewayView),
        (status = 403, description = "`forbidden`: only owners see the payment gateway", body = ErrorBody),
        (status = 404, description = "`not_found`: no such store, or it has no gateway", body = ErrorBody)))]
pub async fn get_gateway(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
) -> Result<Json<GatewayView>> {
    owner_store(&app, &who, &store_id).await?;
    app.services
        .payments
        .gateway(&store_id)
        .await?
        .map(Json)
        .ok_or(Error::NotFound("the store has no payment gateway"))
}

#[utoipa::path(delete, path = "/api/v1/stores/{store_id}/payment-gateway",
    params(StorePath), security(("bearer" = [])),
    responses((status = 204, description = "removed; tills use the static QRIS"),
        (status = 403, description = "`forbidden`: only owners remove the payment gateway", body = ErrorBody),
        (status = 404, description = "`not_found`: no such store, or it has no gateway", body = ErrorBody)))]
pub async fn delete_gateway(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
) -> Result<StatusCode> {
    owner_store(&app, &who, &store_id).await?;
    app.services.payments.remove_gateway(&store_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/terminal/payments/qris", request_body = NewCharge, security(("bearer" = [])),
    description = "Takes a device credential. Makes a dynamic QRIS charge at the store's gateway; the same \
        payment id again answers the same charge (never a second one).",
    responses((status = 200, description = "the charge, with its QR string", body = ChargeView),
        (status = 400, description = "`bad_request`: not a UUID, or not whole rupiah from 1 to 10,000,000", body = ErrorBody),
        (status = 401, description = NO_TILL, body = ErrorBody), (status = 403, description = NOT_TILL, body = ErrorBody),
        (status = 409, description = "`no_gateway`: the store has none (use the static QRIS); `conflict`: the payment id was used for another charge", body = ErrorBody),
        (status = 422, description = GATEWAY_FAILED, body = ErrorBody), (status = 502, description = GATEWAY_FAILED, body = ErrorBody),
        (status = 503, description = "`payments_not_configured`: the server has no payment key", body = ErrorBody)))]
pub async fn create_charge(
    State(app): State<AppState>,
    device: DeviceAuth,
    ApiJson(new): ApiJson<NewCharge>,
) -> Result<Json<ChargeView>> {
    Ok(Json(
        app.services
            .payments
            .create_charge(
                &device.tenant_id,
                &device.store_id,
                &device.terminal_id,
                new,
            )
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/terminal/payments/{payment_id}", params(PaymentPath, WaitQuery),
    security(("bearer" = [])),
    description = "Takes a device credential. With `since`, answers as soon as the charge's status differs \
        (a notification wakes it at once) or after `wait_ms`; without, asks the gateway about a charge \
        not yet paid (a late payment) and answers.",
    responses((status = 200, description = "the charge", body = ChargeView),
        (status = 400, description = "`bad_request`: a query value is not of the documented shape", body = ErrorBody),
        (status = 401, description = NO_TILL, body = ErrorBody), (status = 403, description = NOT_TILL, body = ErrorBody),
        (status = 404, description = NO_PAYMENT, body = ErrorBody),
        (status = 409, description = "`no_gateway`: the store's gateway was removed", body = ErrorBody)))]
pub async fn charge(
    State(app): State<AppState>,
    device: DeviceAuth,
    Path(path): Path<PaymentPath>,
    ApiQuery(query): ApiQuery<WaitQuery>,
) -> Result<Json<ChargeView>> {
    let payments = &app.services.payments;
    Ok(Json(match query.since {
        Some(since) => {
            let wait = Duration::from_millis(query.wait_ms.unwrap_or(20_000));
            payments
                .wait(&device.store_id, &path.payment_id, Some(since), wait)
                .await?
        }
        None => payments.check(&device.store_id, &path.payment_id).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/terminal/payments/{payment_id}/cancel", params(PaymentPath),
    security(("bearer" = [])),
    description = "Takes a device credential. The till gives up on the charge; the gateway cancels it where \
        it can. Money that arrived anyway is in the answer (`late`).",
    responses((status = 200, description = "the charge", body = ChargeView),
        (status = 401, description = NO_TILL, body = ErrorBody), (status = 403, description = NOT_TILL, body = ErrorBody),
        (status = 404, description = NO_PAYMENT, body = ErrorBody),
        (status = 409, description = "`no_gateway`: the store's gateway was removed", body = ErrorBody),
        (status = 422, description = GATEWAY_FAILED, body = ErrorBody), (status = 502, description = GATEWAY_FAILED, body = ErrorBody)))]
pub async fn cancel_charge(
    State(app): State<AppState>,
    device: DeviceAuth,
    Path(path): Path<PaymentPath>,
) -> Result<Json<ChargeView>> {
    Ok(Json(
        app.services
            .payments
            .abandon(&device.store_id, &path.payment_id)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/terminal/payments/refunds", request_body = GatewayRefundRequest,
    security(("bearer" = [])),
    description = "Takes a device credential. Refunds (part of) a paid QRIS payment of the till's store \
        through its gateway, once per refund id. A gateway's refusal is answered `refused` with its words.",
    responses((status = 200, description = "refunded, pending or refused", body = GatewayRefundView),
        (status = 400, description = "`bad_request`: not a UUID, or not whole rupiah from 1 to 10,000,000", body = ErrorBody),
        (status = 401, description = NO_TILL, body = ErrorBody), (status = 403, description = NOT_TILL, body = ErrorBody),
        (status = 404, description = "`not_found`: no QRIS payment of the store has that reference", body = ErrorBody),
        (status = 409, description = "`no_gateway`: the store's gateway was removed", body = ErrorBody),
        (status = 502, description = GATEWAY_FAILED, body = ErrorBody)))]
pub async fn refund(
    State(app): State<AppState>,
    device: DeviceAuth,
    ApiJson(request): ApiJson<GatewayRefundRequest>,
) -> Result<Json<GatewayRefundView>> {
    Ok(Json(
        app.services
            .payments
            .refund(&device.store_id, request)
            .await?,
    ))
}

fn json_body(body: &Bytes) -> Result<serde_json::Value> {
    serde_json::from_slice(body).map_err(|_| Error::BadRequest("the body is not JSON".into()))
}

#[utoipa::path(post, path = "/webhooks/midtrans", request_body(content = serde_json::Value,
        description = "Midtrans's HTTP notification (JSON)"),
    description = "Midtrans's payment notification. Counted only with the right `signature_key` of the \
        store whose order it names; a repeat or an older status changes nothing.",
    responses((status = 200, description = "taken"),
        (status = 400, description = "`bad_request`: not JSON, no order id, or another amount than charged", body = ErrorBody),
        (status = 401, description = "`unauthorized`: the signature does not verify", body = ErrorBody),
        (status = 404, description = "`not_found`: no such order", body = ErrorBody)))]
pub async fn midtrans_webhook(State(app): State<AppState>, body: Bytes) -> Result<StatusCode> {
    app.services
        .payments
        .midtrans_notification(&json_body(&body)?)
        .await?;
    Ok(StatusCode::OK)
}

#[utoipa::path(post, path = "/webhooks/xendit", request_body(content = serde_json::Value,
        description = "Xendit's callback (JSON)"),
    params(("x-callback-token" = Option<String>, Header, description = "the account's callback verification token")),
    description = "Xendit's QR payment callback. Counted only with the callback token of the store whose \
        reference id it names; a repeat changes nothing.",
    responses((status = 200, description = "taken"),
        (status = 400, description = "`bad_request`: not JSON, no reference id, or another amount than charged", body = ErrorBody),
        (status = 401, description = "`unauthorized`: the token does not match", body = ErrorBody),
        (status = 404, description = "`not_found`: no such reference id", body = ErrorBody)))]
pub async fn xendit_webhook(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode> {
    let token = headers
        .get("x-callback-token")
        .and_then(|v| v.to_str().ok());
    app.services
        .payments
        .xendit_callback(token, &json_body(&body)?)
        .await?;
    Ok(StatusCode::OK)
}

/// Routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/stores/{store_id}/payment-gateway",
            put(put_gateway).get(get_gateway).delete(delete_gateway),
        )
        .route("/terminal/payments/qris", post(create_charge))
        .route("/terminal/payments/refunds", post(refund))
        .route("/terminal/payments/{payment_id}", get(charge))
        .route(
            "/terminal/payments/{payment_id}/cancel",
            post(cancel_charge),
        )
}

/// The gateways' webhooks, at the root.
pub fn webhooks() -> Router<AppState> {
    Router::new()
        .route("/webhooks/midtrans", post(midtrans_webhook))
        .route("/webhooks/xendit", post(xendit_webhook))
}
