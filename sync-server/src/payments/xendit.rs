//! Xendit QR Codes API (`api-version: 2022-07-31`) for dynamic QRIS: `POST /qr_codes`, `GET
//! /qr_codes/{id}/payments`, `POST /qr_codes/payments/{payment_id}/refunds`, and the
//! `qr.payment` callback, authenticated by the account's callback verification token in
//! `x-callback-token`. The reference id is the till's payment id, so a retried request can never
//! make a second code (Xendit refuses a repeated reference id). Xendit sends no callback when
//! a code expires and has no call to cancel one: the server asks for the code's payments
//! instead, and a code the till gave up on is still watched for a late payment.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::gateway::{Account, Created, GatewayError, Observed, RefundOutcome, whole_rupiah};
use super::status::ChargeStatus;

const NAME: &str = "Xendit";
pub const API_VERSION: &str = "2022-07-31";
pub const PRODUCTION_URL: &str = "https://api.xendit.co";

fn secret_key(account: &Account) -> Result<&str, GatewayError> {
    account
        .secrets
        .secret_key
        .as_deref()
        .ok_or_else(|| GatewayError::refused("the Xendit secret key is not set"))
}

fn url(account: &Account, path: &str) -> String {
    format!("{}{path}", account.base_url.trim_end_matches('/'))
}

async fn call(request: reqwest::RequestBuilder) -> Result<Value, GatewayError> {
    let response = request
        .header("api-version", API_VERSION)
        .send()
        .await
        .map_err(|e| GatewayError::network(NAME, &e))?;
    let http = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| GatewayError::network(NAME, &e))?;
    if http.is_success() {
        return Ok(body);
    }
    let code = body
        .get("error_code")
        .and_then(Value::as_str)
        .unwrap_or("UNKNOWN");
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message");
    let text = format!("Xendit refused ({} {code}): {message}", http.as_u16());
    Err(if http.is_server_error() || http.as_u16() == 429 {
        GatewayError::transient(text)
    } else {
        GatewayError::refused(text)
    })
}

/// Creates the dynamic QR code of `reference_id` for `amount` rupiah, expiring at `expires_at`.
pub async fn create(
    http: &reqwest::Client,
    account: &Account,
    reference_id: &str,
    amount: i64,
    expires_at: DateTime<Utc>,
) -> Result<Created, GatewayError> {
    let body = json!({
        "reference_id": reference_id,
        "type": "DYNAMIC",
        "currency": "IDR",
        "amount": amount,
        "expires_at": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    let request = http
        .post(url(account, "/qr_codes"))
        .basic_auth(secret_key(account)?, Some(""))
        .json(&body);
    let answer = call(request).await?;
    let field = |name: &str| answer.get(name).and_then(Value::as_str).map(str::to_string);
    Ok(Created {
        qr_string: field("qr_string").ok_or_else(|| {
            GatewayError::transient("Xendit answered a QR code without qr_string")
        })?,
        gateway_id: field("id").unwrap_or_default(),
    })
}

/// A succeeded payment (from the payments list or a callback's `data`) in our words.
fn paid(payment: &Value) -> Option<Observed> {
    if payment.get("status").and_then(Value::as_str) != Some("SUCCEEDED") {
        return None;
    }
    Some(Observed {
        status: ChargeStatus::Paid,
        reference: payment
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string),
        amount: payment.get("amount").and_then(whole_rupiah),
        gateway_id: payment
            .get("qr_id")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// The code's status: paid when it has a succeeded payment, expired once `expires_at` passed,
/// otherwise pending.
pub async fn status(
    http: &reqwest::Client,
    account: &Account,
    qr_id: &str,
    expires_at: DateTime<Utc>,
) -> Result<Observed, GatewayError> {
    let request = http
        .get(url(account, &format!("/qr_codes/{qr_id}/payments")))
        .basic_auth(secret_key(account)?, Some(""));
    let answer = call(request).await?;
    let found = answer
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(paid);
    Ok(found.unwrap_or(Observed {
        status: if Utc::now() > expires_at {
            ChargeStatus::Expired
        } else {
            ChargeStatus::Pending
        },
        reference: None,
        amount: None,
        gateway_id: Some(qr_id.to_string()),
    }))
}

/// Refunds `amount` of the QR payment `payment_id` (`qrpy_…`); `reference_id` makes a retry
/// refund once.
pub async fn refund(
    http: &reqwest::Client,
    account: &Account,
    payment_id: &str,
    reference_id: &str,
    amount: i64,
    reason: &str,
) -> Result<RefundOutcome, GatewayError> {
    let request = http
        .post(url(
            account,
            &format!("/qr_codes/payments/{payment_id}/refunds"),
        ))
        .basic_auth(secret_key(account)?, Some(""))
        .json(&json!({ "reference_id": reference_id, "amount": amount, "reason": reason }));
    match call(request).await {
        Ok(body) => {
            let id = body.get("id").and_then(Value::as_str).map(str::to_string);
            Ok(match body.get("status").and_then(Value::as_str) {
                Some("SUCCEEDED") => RefundOutcome::Done(id),
                Some("FAILED") => RefundOutcome::Refused(format!(
                    "Xendit could not refund it: {}",
                    body.get("failure_code")
                        .and_then(Value::as_str)
                        .unwrap_or("FAILED")
                )),
                _ => RefundOutcome::Pending(id),
            })
        }
        Err(e) if !e.transient => Ok(RefundOutcome::Refused(e.message)),
        Err(e) => Err(e),
    }
}

/// The reference id a callback is about (to find the charge, then its store's token).
pub fn callback_reference_id(body: &Value) -> Option<&str> {
    body.pointer("/data/reference_id").and_then(Value::as_str)
}

/// Checks a callback's token against the store's and reads it; `Ok(None)` for an event that is
/// not a payment (acknowledged, nothing to do).
pub fn verify_callback(
    body: &Value,
    token: Option<&str>,
    expected: &str,
) -> Result<Option<Observed>, GatewayError> {
    let given = token.unwrap_or_default();
    if expected.is_empty() || !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(GatewayError::refused(
            "the callback's x-callback-token is wrong",
        ));
    }
    if body.get("event").and_then(Value::as_str) != Some("qr.payment") {
        return Ok(None);
    }
    Ok(body.get("data").and_then(paid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callback_counts_only_with_the_stores_token() {
        let body = json!({
            "event": "qr.payment",
            "api_version": API_VERSION,
            "data": { "id": "qrpy_1", "qr_id": "qr_1", "reference_id": "pay-1",
                      "amount": 25000, "status": "SUCCEEDED" }
        });
        let seen = verify_callback(&body, Some("tok"), "tok").unwrap().unwrap();
        assert_eq!(seen.status, ChargeStatus::Paid);
        assert_eq!(seen.reference.as_deref(), Some("qrpy_1"));
        assert_eq!(seen.amount, Some(25_000));
        assert!(verify_callback(&body, Some("other"), "tok").is_err());
        assert!(verify_callback(&body, None, "tok").is_err());
        assert!(verify_callback(&body, Some(""), "").is_err());
        assert_eq!(callback_reference_id(&body), Some("pay-1"));
    }
}
