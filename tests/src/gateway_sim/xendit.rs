//! The simulator's Xendit QR Codes API (`api-version: 2022-07-31`): create and get a QR code,
//! list its payments, the test-mode simulated payment and refunds of a QR payment, each paid or
//! refunded one called back with the `x-callback-token` header (see `xendit_qr`).
//!
//! Shapes follow Xendit's QR Codes API reference and docs.xendit.co/qr-codes/test-scenarios
//! (test-mode amounts 10100-10102 on create, 10300-10305 on refund). A request without
//! `api-version: 2022-07-31` would reach Xendit's legacy QR API (external_id, callback_url),
//! which the simulator does not serve: it answers 400 API_VALIDATION_ERROR instead.

// The handlers return early with the gateway's error response, as axum handlers do; the
// large Err is one response on its way out, never a hot path.
#![allow(clippy::result_large_err)]

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::notify;
use super::qris_payload;
use super::xendit_qr::{API_VERSION, Qr, Refund, Refusal, callback, make_payment, payment_json};
use super::{Shared, basic_auth_matches, empty_object, iso_time, json_response, parse_object};

/// A Xendit error body.
pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(status, json!({"error_code": code, "message": message}))
}

fn refuse((status, code, message): Refusal) -> Response {
    error(status, code, &message)
}

fn validation(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "API_VALIDATION_ERROR", message)
}

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "DATA_NOT_FOUND",
        &format!("{what} not found"),
    )
}

/// The secret key, then the API version.
fn check(inner: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    if !basic_auth_matches(headers, &inner.config.xendit_secret_key) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "INVALID_API_KEY",
            "The API key is invalid or not allowed for this request",
        ));
    }
    match headers.get("api-version").and_then(|v| v.to_str().ok()) {
        Some(API_VERSION) => Ok(()),
        _ => Err(validation(
            "api-version must be 2022-07-31 (the legacy QR code API is not simulated)",
        )),
    }
}

/// `POST /qr_codes`.
pub(super) async fn create(
    State(inner): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = check(&inner, &headers) {
        return refused;
    }
    let Some(request) = parse_object(&body) else {
        return validation("the body must be a JSON object");
    };
    let reference_id = match request.get("reference_id").and_then(Value::as_str) {
        Some(r) if !r.is_empty() && r.len() <= 255 => r.to_string(),
        _ => return validation("reference_id is required (1 to 255 characters)"),
    };
    let kind = match request.get("type").and_then(Value::as_str) {
        Some(kind @ ("DYNAMIC" | "STATIC")) => kind.to_string(),
        _ => return validation("type must be DYNAMIC or STATIC"),
    };
    if request.get("currency").and_then(Value::as_str) != Some("IDR") {
        return validation("currency must be IDR");
    }
    let amount = match (kind.as_str(), request.get("amount")) {
        ("STATIC", None | Some(Value::Null)) => None,
        ("STATIC", Some(_)) => return validation("amount is not allowed for a STATIC QR code"),
        (_, Some(value)) => match value.as_i64().filter(|a| *a >= 1) {
            Some(amount) => Some(amount),
            None => return validation("amount must be an integer of at least 1"),
        },
        (_, None) => return validation("amount is required for a DYNAMIC QR code"),
    };
    match amount {
        Some(10100) => {
            return error(
                StatusCode::FORBIDDEN,
                "CHANNEL_NOT_ACTIVATED",
                "This payment channel is not activated (test-mode amount 10100)",
            );
        }
        Some(10101) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "CHANNEL_UNAVAILABLE",
                "The payment channel is unavailable (test-mode amount 10101)",
            );
        }
        Some(10102) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "SERVER_ERROR",
                "An unexpected error occurred (test-mode amount 10102)",
            );
        }
        _ => {}
    }
    let now = Utc::now();
    let expires_at = match request.get("expires_at") {
        None | Some(Value::Null) => now + chrono::Duration::hours(48),
        Some(value) => match value
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        {
            Some(t) if t.with_timezone(&Utc) > now => t.with_timezone(&Utc),
            _ => return validation("expires_at must be an ISO 8601 time in the future"),
        },
    };
    let channel_code = request
        .get("channel_code")
        .and_then(Value::as_str)
        .unwrap_or("ID_DANA")
        .to_string();
    let metadata = request
        .get("metadata")
        .cloned()
        .unwrap_or_else(empty_object);
    let id = format!("qr_{}", uuid::Uuid::now_v7());
    let qr = Qr {
        id: id.clone(),
        qr_string: qris_payload("ID.CO.XENDIT.WWW", "SNAPKASIR SIM", amount, &reference_id),
        reference_id: reference_id.clone(),
        kind,
        amount,
        channel_code,
        expires_at,
        created: now,
        updated: now,
        metadata,
        forced_inactive: false,
        paid: false,
    };
    let mut state = inner.lock();
    if state.xendit.by_reference.contains_key(&reference_id) {
        return error(
            StatusCode::CONFLICT,
            "DUPLICATE_ERROR",
            "A QR code with this reference_id already exists",
        );
    }
    state.xendit.by_reference.insert(reference_id, id.clone());
    let answer = qr.json();
    state.xendit.qrs.insert(id, qr);
    json_response(StatusCode::CREATED, answer)
}

/// `GET /qr_codes/{id}`.
pub(super) async fn get_qr(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(refused) = check(&inner, &headers) {
        return refused;
    }
    match inner.lock().xendit.qrs.get(&id) {
        Some(qr) => json_response(StatusCode::OK, qr.json()),
        None => not_found("QR code"),
    }
}

/// `GET /qr_codes/{id}/payments`.
pub(super) async fn list_payments(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(refused) = check(&inner, &headers) {
        return refused;
    }
    let state = inner.lock();
    let Some(qr) = state.xendit.qrs.get(&id) else {
        return not_found("QR code");
    };
    let data: Vec<Value> = state
        .xendit
        .payments
        .iter()
        .filter(|p| p.qr_id == id)
        .map(|p| payment_json(p, qr))
        .collect();
    json_response(
        StatusCode::OK,
        json!({"data": data, "has_more": false, "links": []}),
    )
}

/// `POST /qr_codes/{id}/payments/simulate` (test mode): a SUCCEEDED payment and its callback.
pub(super) async fn simulate(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(refused) = check(&inner, &headers) {
        return refused;
    }
    let amount = match parse_object(&body).and_then(|b| b.get("amount").cloned()) {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_i64().filter(|a| *a >= 1) {
            Some(amount) => Some(amount),
            None => return validation("amount must be an integer of at least 1"),
        },
    };
    match make_payment(&inner, &id, amount) {
        Ok(payment) => json_response(StatusCode::OK, payment),
        Err(refusal) => refuse(refusal),
    }
}

/// `POST /qr_codes/payments/{payment_id}/refunds`.
pub(super) async fn refund(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(payment_id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(refused) = check(&inner, &headers) {
        return refused;
    }
    let Some(request) = parse_object(&body) else {
        return validation("the body must be a JSON object");
    };
    let Some(reference_id) = request.get("reference_id").and_then(Value::as_str) else {
        return validation("reference_id is required");
    };
    let amount = match request.get("amount") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_i64().filter(|a| *a >= 1) {
            Some(amount) => Some(amount),
            None => return validation("amount must be an integer of at least 1"),
        },
    };
    let test_refusal = match amount {
        Some(10300) => Some((400, "MAXIMUM_REFUND_AMOUNT_REACHED")),
        Some(10301) => Some((400, "PARTIAL_REFUND_NOT_SUPPORTED")),
        Some(10303) => Some((400, "REFUND_NOT_SUPPORTED")),
        Some(10304) => Some((400, "REFUND_IN_PROGRESS")),
        Some(10305) => Some((403, "INELIGIBLE_TRANSACTION")),
        _ => None,
    };
    if let Some((status, code)) = test_refusal {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        return error(status, code, "Refund refused (test-mode amount)");
    }
    let (outgoing, answer) = {
        let mut state = inner.lock();
        let store = &mut state.xendit;
        if let Some(earlier) = store
            .refunds
            .iter()
            .find(|r| r.payment_id == payment_id && r.reference_id == reference_id)
        {
            return json_response(StatusCode::OK, earlier.response.clone());
        }
        let Some(payment) = store.payments.iter().find(|p| p.id == payment_id).cloned() else {
            return not_found("Payment");
        };
        let refunded: i64 = store
            .refunds
            .iter()
            .filter(|r| r.payment_id == payment_id)
            .map(|r| r.amount)
            .sum();
        let left = payment.amount - refunded;
        let amount = amount.unwrap_or(left);
        if amount > left || left == 0 {
            return error(
                StatusCode::BAD_REQUEST,
                "MAXIMUM_REFUND_AMOUNT_REACHED",
                "The refund is more than what is left unrefunded of the payment",
            );
        }
        let Some(qr) = store.qrs.get(&payment.qr_id).cloned() else {
            return not_found("QR code");
        };
        let now = iso_time(Utc::now());
        let mut answer = json!({
            "id": format!("qrr_{}", uuid::Uuid::now_v7()),
            "payment_id": payment_id,
            "reference_id": reference_id,
            "currency": "IDR",
            "amount": amount,
            "status": "PENDING",
            "reason": request.get("reason").cloned().unwrap_or(Value::Null),
            "channel_code": qr.channel_code,
            "failure_code": null,
            "created": now,
            "updated": now,
            "metadata": request.get("metadata").cloned().unwrap_or_else(empty_object),
        });
        store.refunds.push(Refund {
            id: answer["id"].as_str().unwrap_or_default().to_string(),
            payment_id: payment_id.clone(),
            reference_id: reference_id.to_string(),
            amount,
            response: answer.clone(),
        });
        // Test mode answers PENDING at once and then calls back the completed refund.
        let mut done = answer.clone();
        done["status"] = json!("SUCCEEDED");
        let outgoing = callback(&inner, &state, "qr.refund", &qr.reference_id, done);
        answer["status"] = json!("PENDING");
        (outgoing, answer)
    };
    notify::dispatch(&inner, outgoing);
    json_response(StatusCode::OK, answer)
}
