//! The simulator's Midtrans Core API v2 for QRIS: charge, get status, cancel and direct refund,
//! each authenticated with the server key; every status change sends an HTTP notification
//! (see `midtrans_tx`).
//!
//! Shapes follow docs.midtrans.com (reference/qris, reference/direct-refund-transaction,
//! docs/https-notification-webhooks, reference/code-statuses, docs/transaction-status-cycle).
//! Errors answer with the HTTP status equal to the body's `status_code` (401, 404, 406, 412,
//! ...); successes answer HTTP 200 whatever the body's status_code (201 for a pending charge,
//! 407 for the status of an expired one). Midtrans' own libraries judge a response by the
//! body's status_code, not the HTTP status (go-midtrans issues #49 and #54): a client should too.

// The handlers return early with the gateway's error response, as axum handlers do; the
// large Err is one response on its way out, never a hot path.
#![allow(clippy::result_large_err)]

use anyhow::anyhow;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::midtrans_tx::{MERCHANT_ID, Refund, Tx, expire_if_due, money, notification};
use super::notify;
use super::{Shared, basic_auth_matches, jakarta_time, json_response, parse_object, qris_payload};

/// A Midtrans error body; the HTTP status is its status_code.
pub(super) fn error(status_code: &str, message: &str) -> Response {
    let http = status_code
        .parse::<u16>()
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(
        http,
        json!({
            "status_code": status_code,
            "status_message": message,
            "id": uuid::Uuid::now_v7().to_string(),
        }),
    )
}

fn invalid(messages: &[&str]) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        json!({
            "status_code": "400",
            "status_message": "One or more parameters in the payload is invalid.",
            "id": uuid::Uuid::now_v7().to_string(),
            "validation_messages": messages,
        }),
    )
}

fn not_found() -> Response {
    error("404", "Transaction doesn't exist.")
}

fn cannot_modify() -> Response {
    error(
        "412",
        "Merchant cannot modify the status of the transaction",
    )
}

fn check_auth(inner: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    if basic_auth_matches(headers, &inner.config.midtrans_server_key) {
        Ok(())
    } else {
        Err(error(
            "401",
            "Access denied: unauthorized transaction, check the client or server key",
        ))
    }
}

/// An order_id as Midtrans takes it: 1 to 50 of letters, digits, `-`, `_`, `~` and `.`.
fn valid_order_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 50
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_~.".contains(c))
}

/// The custom_expiry, or 15 minutes (QRIS' default).
fn expiry(request: &Map<String, Value>) -> Result<chrono::Duration, Response> {
    let Some(custom) = request.get("custom_expiry") else {
        return Ok(chrono::Duration::minutes(15));
    };
    let duration = custom["expiry_duration"]
        .as_i64()
        .filter(|d| *d > 0)
        .ok_or_else(|| invalid(&["custom_expiry.expiry_duration must be a positive integer"]))?;
    match custom["unit"].as_str().unwrap_or("minute") {
        "second" => Ok(chrono::Duration::seconds(duration)),
        "minute" => Ok(chrono::Duration::minutes(duration)),
        "hour" => Ok(chrono::Duration::hours(duration)),
        "day" => Ok(chrono::Duration::days(duration)),
        _ => Err(invalid(&[
            "custom_expiry.unit must be one of second, minute, hour, day",
        ])),
    }
}

/// `POST /v2/charge` with `payment_type: qris`.
pub(super) async fn charge(
    State(inner): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(denied) = check_auth(&inner, &headers) {
        return denied;
    }
    let Some(request) = parse_object(&body) else {
        return error(
            "413",
            "The request cannot be processed due to malformed syntax in the request body",
        );
    };
    match request.get("payment_type").and_then(Value::as_str) {
        Some("qris") => {}
        Some(_) => return invalid(&["payment_type is not supported (the simulator serves qris)"]),
        None => return invalid(&["payment_type is required"]),
    }
    let details = &request
        .get("transaction_details")
        .cloned()
        .unwrap_or_default();
    let Some(order_id) = details["order_id"].as_str() else {
        return invalid(&["transaction_details.order_id is required"]);
    };
    if !valid_order_id(order_id) {
        return invalid(&["transaction_details.order_id is invalid"]);
    }
    let Some(gross_amount) = details["gross_amount"].as_i64().filter(|a| *a > 0) else {
        return invalid(&["transaction_details.gross_amount must be a positive integer"]);
    };
    let acquirer = match request.get("qris").and_then(|q| q["acquirer"].as_str()) {
        None | Some("gopay") => "gopay",
        Some("airpay shopee") => "airpay shopee",
        Some(_) => return invalid(&["qris.acquirer must be gopay or airpay shopee"]),
    };
    let lifetime = match expiry(&request) {
        Ok(lifetime) => lifetime,
        Err(refused) => return refused,
    };
    let override_url = headers
        .get("x-override-notification")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string());
    let now = Utc::now();
    let transaction_id = uuid::Uuid::now_v7().to_string();
    let tx = Tx {
        order_id: order_id.to_string(),
        transaction_id: transaction_id.clone(),
        gross_amount,
        status: "pending".into(),
        transaction_time: now,
        expiry_time: now + lifetime,
        settlement_time: None,
        paid_amount: None,
        acquirer: acquirer.to_string(),
        notify_url: override_url,
        qr_string: qris_payload(
            "ID.CO.QRIS.WWW",
            "SNAPKASIR SIM",
            Some(gross_amount),
            order_id,
        ),
        refunds: Vec::new(),
    };
    let outgoing = {
        let mut state = inner.lock();
        let expired = expire_if_due(&inner, &mut state, order_id);
        // An order_id may be charged again only once its transaction is over unpaid.
        let reusable = state
            .midtrans
            .txs
            .get(order_id)
            .is_none_or(|old| matches!(old.status.as_str(), "expire" | "cancel" | "deny"));
        if !reusable {
            drop(state);
            if let Some(expired) = expired {
                notify::dispatch(&inner, expired);
            }
            return error(
                "406",
                "Duplicate order ID: this order_id was already used, use another one",
            );
        }
        state.midtrans.txs.insert(order_id.to_string(), tx.clone());
        notification(&inner, &state, &tx)
    };
    notify::dispatch(&inner, outgoing);
    let answer = json!({
        "status_code": "201",
        "status_message": "QRIS transaction is created",
        "transaction_id": transaction_id,
        "order_id": tx.order_id,
        "merchant_id": MERCHANT_ID,
        "gross_amount": money(gross_amount),
        "currency": "IDR",
        "payment_type": "qris",
        "transaction_time": jakarta_time(tx.transaction_time),
        "transaction_status": "pending",
        "fraud_status": "accept",
        "actions": [{
            "name": "generate-qr-code",
            "method": "GET",
            "url": format!("{}/v2/qris/{transaction_id}/qr-code", inner.base_url),
        }],
        "qr_string": tx.qr_string,
        "acquirer": acquirer,
        "expiry_time": jakarta_time(tx.expiry_time),
    });
    json_response(StatusCode::OK, answer)
}

/// `GET /v2/{order_id}/status`.
pub(super) async fn status(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    if let Err(denied) = check_auth(&inner, &headers) {
        return denied;
    }
    let (expired, answer) = {
        let mut state = inner.lock();
        let expired = expire_if_due(&inner, &mut state, &order_id);
        let answer = state.midtrans.txs.get(&order_id).map(|tx| {
            tx.body(
                &inner.config.midtrans_server_key,
                "Success, transaction is found",
            )
        });
        (expired, answer)
    };
    if let Some(expired) = expired {
        notify::dispatch(&inner, expired);
    }
    match answer {
        Some(body) => json_response(StatusCode::OK, body),
        None => not_found(),
    }
}

/// `POST /v2/{order_id}/cancel`: only a pending QRIS transaction can be cancelled.
pub(super) async fn cancel(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    if let Err(denied) = check_auth(&inner, &headers) {
        return denied;
    }
    match change(&inner, &order_id, "cancel") {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(refused) => refused,
    }
}

/// Moves a pending transaction to `to` and notifies; the transaction's new status body.
fn change(inner: &Shared, order_id: &str, to: &str) -> Result<Value, Response> {
    let (outgoing, body) = {
        let mut state = inner.lock();
        let expired = expire_if_due(inner, &mut state, order_id);
        let Some(tx) = state.midtrans.txs.get_mut(order_id) else {
            return Err(not_found());
        };
        if tx.status != "pending" {
            drop(state);
            if let Some(expired) = expired {
                notify::dispatch(inner, expired);
            }
            return Err(cannot_modify());
        }
        tx.status = to.to_string();
        let tx = tx.clone();
        let message = match to {
            "cancel" => "Success, transaction is canceled".to_string(),
            _ => format!("Success, transaction is {to}"),
        };
        let body = tx.body(&inner.config.midtrans_server_key, &message);
        (notification(inner, &state, &tx), body)
    };
    notify::dispatch(inner, outgoing);
    Ok(body)
}

/// `POST /v2/{order_id}/refund/online/direct`.
pub(super) async fn direct_refund(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(denied) = check_auth(&inner, &headers) {
        return denied;
    }
    let request = if body.is_empty() {
        Map::new()
    } else {
        match parse_object(&body) {
            Some(request) => request,
            None => {
                return error(
                    "413",
                    "The request cannot be processed due to malformed syntax in the request body",
                );
            }
        }
    };
    let amount = match request.get("amount") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_i64().filter(|a| *a > 0) {
            Some(amount) => Some(amount),
            None => return invalid(&["amount must be a positive integer"]),
        },
    };
    let key = request
        .get("refund_key")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let reason = request
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let (outgoing, answer) = {
        let mut state = inner.lock();
        let next_id = state.midtrans.next_refund_id + 1;
        let Some(tx) = state.midtrans.txs.get_mut(&order_id) else {
            return not_found();
        };
        if let Some(earlier) = tx.refunds.iter().find(|r| r.key == key) {
            return json_response(StatusCode::OK, earlier.response.clone());
        }
        if !matches!(tx.status.as_str(), "settlement" | "partial_refund") {
            return cannot_modify();
        }
        let left = tx.gross_amount - tx.refunded();
        let amount = amount.unwrap_or(left);
        if amount > left {
            return error(
                "412",
                "Refund amount is more than what is left to refund of the transaction",
            );
        }
        tx.status = if amount == left {
            "refund"
        } else {
            "partial_refund"
        }
        .into();
        let answer = json!({
            "status_code": "200",
            "status_message": "Success, refund request is approved",
            "transaction_id": tx.transaction_id,
            "order_id": tx.order_id,
            "gross_amount": money(tx.gross_amount),
            "currency": "IDR",
            "payment_type": "qris",
            "transaction_time": jakarta_time(tx.transaction_time),
            "transaction_status": tx.status,
            "refund_chargeback_id": next_id,
            "refund_amount": money(amount),
            "refund_key": key,
        });
        tx.refunds.push(Refund {
            chargeback_id: next_id,
            key,
            amount,
            reason,
            created: Utc::now(),
            response: answer.clone(),
        });
        let tx = tx.clone();
        state.midtrans.next_refund_id = next_id;
        (notification(&inner, &state, &tx), answer)
    };
    notify::dispatch(&inner, outgoing);
    json_response(StatusCode::OK, answer)
}

/// A gateway event on a pending transaction (expire, deny, cancel), with its notification.
pub(super) fn transition(inner: &Shared, order_id: &str, to: &str) -> anyhow::Result<()> {
    change(inner, order_id, to).map(|_| ()).map_err(|refused| {
        anyhow!(
            "Midtrans order {order_id} cannot become {to} (the API would answer HTTP {})",
            refused.status()
        )
    })
}
