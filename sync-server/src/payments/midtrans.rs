//! Midtrans Core API (v2) for dynamic QRIS: `POST /v2/charge` with `payment_type: qris`,
//! `GET /v2/{order_id}/status`, `POST /v2/{order_id}/cancel`, `POST
//! /v2/{order_id}/refund/online/direct`, and the HTTP notification, whose `signature_key` is
//! SHA-512 of order id, status code, gross amount and the server key. Midtrans answers many
//! refusals with HTTP 200 and the real code in the body's `status_code`, so the body decides.
//! The order id is the till's payment id, so a retried charge can never charge twice (Midtrans
//! refuses a second charge of one order id).

use serde_json::{Value, json};
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use super::gateway::{Account, Created, GatewayError, Observed, RefundOutcome, whole_rupiah};
use super::status::ChargeStatus;

const NAME: &str = "Midtrans";

/// The API address of each environment.
pub const PRODUCTION_URL: &str = "https://api.midtrans.com";
pub const SANDBOX_URL: &str = "https://api.sandbox.midtrans.com";

fn server_key(account: &Account) -> Result<&str, GatewayError> {
    account
        .secrets
        .server_key
        .as_deref()
        .ok_or_else(|| GatewayError::refused("the Midtrans server key is not set"))
}

/// Sends a request and reads Midtrans's answer: the body's `status_code` 2xx is success.
async fn call(request: reqwest::RequestBuilder) -> Result<Value, GatewayError> {
    let response = request
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| GatewayError::network(NAME, &e))?;
    let http = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| GatewayError::network(NAME, &e))?;
    let code = body
        .get("status_code")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| http.as_u16().to_string());
    if code.starts_with('2') {
        return Ok(body);
    }
    let message = body
        .get("status_message")
        .and_then(Value::as_str)
        .unwrap_or("no message");
    let text = format!("Midtrans refused ({code}): {message}");
    Err(if code.starts_with('5') || http.is_server_error() {
        GatewayError::transient(text)
    } else {
        GatewayError::refused(text)
    })
}

fn url(account: &Account, path: &str) -> String {
    format!("{}{path}", account.base_url.trim_end_matches('/'))
}

/// Creates the QRIS charge of `order_id` for `amount` rupiah, expiring after `expiry_secs`;
/// notifications go to `notify_url` when given (`X-Override-Notification`), else to the
/// URL set in the Midtrans dashboard.
pub async fn create(
    http: &reqwest::Client,
    account: &Account,
    order_id: &str,
    amount: i64,
    expiry_secs: u64,
    notify_url: Option<&str>,
) -> Result<Created, GatewayError> {
    let body = json!({
        "payment_type": "qris",
        "transaction_details": { "order_id": order_id, "gross_amount": amount },
        "qris": { "acquirer": "gopay" },
        "custom_expiry": { "expiry_duration": expiry_secs, "unit": "second" },
    });
    let mut request = http
        .post(url(account, "/v2/charge"))
        .basic_auth(server_key(account)?, Some(""))
        .json(&body);
    if let Some(notify) = notify_url {
        request = request.header("X-Override-Notification", notify);
    }
    let answer = call(request).await?;
    let qr_string = answer
        .get("qr_string")
        .and_then(Value::as_str)
        .ok_or_else(|| GatewayError::transient("Midtrans answered a charge without qr_string"))?;
    Ok(Created {
        qr_string: qr_string.to_string(),
        gateway_id: answer
            .get("transaction_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    })
}

/// A Midtrans `transaction_status` in our words.
fn status_of(transaction_status: &str) -> Option<ChargeStatus> {
    Some(match transaction_status {
        "settlement" | "capture" => ChargeStatus::Paid,
        "pending" | "authorize" => ChargeStatus::Pending,
        "expire" => ChargeStatus::Expired,
        "cancel" => ChargeStatus::Cancelled,
        "deny" => ChargeStatus::Denied,
        "failure" => ChargeStatus::Failed,
        "refund" => ChargeStatus::Refunded,
        "partial_refund" => ChargeStatus::PartiallyRefunded,
        _ => return None,
    })
}

/// A transaction body (status answer or notification) in our words.
fn observed(body: &Value) -> Result<Observed, GatewayError> {
    let raw = body
        .get("transaction_status")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let status = status_of(raw).ok_or_else(|| {
        GatewayError::refused(format!(
            "Midtrans named an unknown transaction status {raw:?}"
        ))
    })?;
    let transaction_id = body
        .get("transaction_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Observed {
        status,
        reference: if status.money_arrived() {
            transaction_id.clone()
        } else {
            None
        },
        amount: body.get("gross_amount").and_then(whole_rupiah),
        gateway_id: transaction_id,
    })
}

pub async fn status(
    http: &reqwest::Client,
    account: &Account,
    order_id: &str,
) -> Result<Observed, GatewayError> {
    let request = http
        .get(url(account, &format!("/v2/{order_id}/status")))
        .basic_auth(server_key(account)?, Some(""));
    observed(&call(request).await?)
}

/// Cancels a pending charge. A charge Midtrans cannot cancel (already paid) is answered with
/// its status, so that money that arrived is seen at once.
pub async fn cancel(
    http: &reqwest::Client,
    account: &Account,
    order_id: &str,
) -> Result<Observed, GatewayError> {
    let request = http
        .post(url(account, &format!("/v2/{order_id}/cancel")))
        .basic_auth(server_key(account)?, Some(""));
    match call(request).await {
        Ok(body) => observed(&body),
        Err(e) if !e.transient => status(http, account, order_id).await,
        Err(e) => Err(e),
    }
}

/// Refunds `amount` of a paid charge straight through the payment provider (direct refund);
/// `refund_key` makes a retry refund once.
pub async fn refund(
    http: &reqwest::Client,
    account: &Account,
    order_id: &str,
    refund_key: &str,
    amount: i64,
    reason: &str,
) -> Result<RefundOutcome, GatewayError> {
    let request = http
        .post(url(
            account,
            &format!("/v2/{order_id}/refund/online/direct"),
        ))
        .basic_auth(server_key(account)?, Some(""))
        .json(&json!({ "refund_key": refund_key, "amount": amount, "reason": reason }));
    match call(request).await {
        Ok(body) => Ok(RefundOutcome::Done(
            body.get("refund_chargeback_id")
                .map(|v| v.to_string().trim_matches('"').to_string())
                .or_else(|| Some(refund_key.to_string())),
        )),
        Err(e) if !e.transient => Ok(RefundOutcome::Refused(e.message)),
        Err(e) => Err(e),
    }
}

/// The signature Midtrans puts on a notification.
pub fn signature(
    order_id: &str,
    status_code: &str,
    gross_amount: &str,
    server_key: &str,
) -> String {
    let mut h = Sha512::new();
    h.update(order_id.as_bytes());
    h.update(status_code.as_bytes());
    h.update(gross_amount.as_bytes());
    h.update(server_key.as_bytes());
    hex::encode(h.finalize())
}

/// The order id a notification is about (to find the charge, then its store's key).
pub fn notification_order_id(body: &Value) -> Option<&str> {
    body.get("order_id").and_then(Value::as_str)
}

/// Checks a notification's `signature_key` with the store's server key and reads it.
pub fn verify_notification(body: &Value, server_key: &str) -> Result<Observed, GatewayError> {
    let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
    let expected = signature(
        field("order_id"),
        field("status_code"),
        field("gross_amount"),
        server_key,
    );
    let given = field("signature_key").to_ascii_lowercase();
    if !bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        return Err(GatewayError::refused(
            "the notification's signature_key is wrong",
        ));
    }
    observed(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_counts_only_with_the_stores_signature() {
        let key = "SB-Mid-server-123";
        let mut body = json!({
            "order_id": "0193a1b2-0000-7000-8000-000000000001",
            "status_code": "200",
            "gross_amount": "25000.00",
            "transaction_status": "settlement",
            "transaction_id": "tx-1",
        });
        let sig = signature(
            "0193a1b2-0000-7000-8000-000000000001",
            "200",
            "25000.00",
            key,
        );
        assert_eq!(sig.len(), 128);
        body["signature_key"] = json!(sig);
        let seen = verify_notification(&body, key).unwrap();
        assert_eq!(seen.status, ChargeStatus::Paid);
        assert_eq!(seen.reference.as_deref(), Some("tx-1"));
        assert_eq!(seen.amount, Some(25_000));
        assert!(verify_notification(&body, "another-key").is_err());
        // A changed amount breaks the signature.
        body["gross_amount"] = json!("1.00");
        assert!(verify_notification(&body, key).is_err());
    }
}
