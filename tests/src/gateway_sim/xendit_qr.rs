//! Xendit's side of a QR code in the simulator: the QR codes, their payments and refunds, the
//! bodies the API and the `qr.payment` / `qr.refund` callbacks show, and the events the tests
//! cause (the customer pays, the code expires, a forged callback).

use std::collections::HashMap;

use anyhow::anyhow;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::notify::{self, Outgoing};
use super::{Gateway, RefundRecord, Shared, SimState, empty_object, iso_time};

pub(super) const API_VERSION: &str = "2022-07-31";
pub(super) const BUSINESS_ID: &str = "5f27a14a9bf05c73dd040bc8";

#[derive(Debug, Default)]
pub(super) struct Store {
    pub(super) qrs: HashMap<String, Qr>,
    pub(super) by_reference: HashMap<String, String>,
    pub(super) payments: Vec<Payment>,
    pub(super) refunds: Vec<Refund>,
}

#[derive(Debug, Clone)]
pub(super) struct Qr {
    pub(super) id: String,
    pub(super) reference_id: String,
    pub(super) kind: String,
    pub(super) amount: Option<i64>,
    pub(super) channel_code: String,
    pub(super) qr_string: String,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) created: DateTime<Utc>,
    pub(super) updated: DateTime<Utc>,
    pub(super) metadata: Value,
    pub(super) forced_inactive: bool,
    pub(super) paid: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Payment {
    pub(super) id: String,
    pub(super) qr_id: String,
    pub(super) amount: i64,
    pub(super) created: DateTime<Utc>,
    pub(super) receipt_id: String,
}

#[derive(Debug, Clone)]
pub(super) struct Refund {
    pub(super) id: String,
    pub(super) payment_id: String,
    pub(super) reference_id: String,
    pub(super) amount: i64,
    /// The answer given, repeated for a request with the same reference_id.
    pub(super) response: Value,
}

pub(super) type Refusal = (StatusCode, &'static str, String);

impl Qr {
    /// A DYNAMIC code is paid once; any code stops at its expires_at.
    pub(super) fn status(&self) -> &'static str {
        let spent = self.kind == "DYNAMIC" && self.paid;
        if self.forced_inactive || spent || Utc::now() >= self.expires_at {
            "INACTIVE"
        } else {
            "ACTIVE"
        }
    }

    pub(super) fn json(&self) -> Value {
        json!({
            "id": self.id,
            "reference_id": self.reference_id,
            "business_id": BUSINESS_ID,
            "type": self.kind,
            "currency": "IDR",
            "amount": self.amount,
            "channel_code": self.channel_code,
            "status": self.status(),
            "qr_string": self.qr_string,
            "expires_at": iso_time(self.expires_at),
            "created": iso_time(self.created),
            "updated": iso_time(self.updated),
            "metadata": self.metadata,
        })
    }
}

pub(super) fn payment_json(payment: &Payment, qr: &Qr) -> Value {
    json!({
        "id": payment.id,
        "business_id": BUSINESS_ID,
        "currency": "IDR",
        "amount": payment.amount,
        "status": "SUCCEEDED",
        "created": iso_time(payment.created),
        "qr_id": qr.id,
        "qr_string": qr.qr_string,
        "reference_id": qr.reference_id,
        "type": qr.kind,
        "channel_code": qr.channel_code,
        "expires_at": iso_time(qr.expires_at),
        "metadata": qr.metadata,
        "payment_detail": {
            "receipt_id": payment.receipt_id,
            "source": "DANA",
            "name": "SIMULATED CUSTOMER",
            "account_details": null,
        },
    })
}

impl Store {
    pub(super) fn find_qr(&self, id: &str) -> Option<&Qr> {
        let id = self.by_reference.get(id).map(String::as_str).unwrap_or(id);
        self.qrs.get(id)
    }

    pub(super) fn refund_records(&self, id: &str) -> Vec<RefundRecord> {
        let qr_id = self.find_qr(id).map(|qr| qr.id.clone());
        self.refunds
            .iter()
            .filter(|r| {
                r.payment_id == id
                    || self
                        .payments
                        .iter()
                        .any(|p| p.id == r.payment_id && Some(&p.qr_id) == qr_id.as_ref())
            })
            .map(|r| RefundRecord {
                gateway: Gateway::Xendit,
                refund_id: r.id.clone(),
                key: r.reference_id.clone(),
                amount: r.amount,
                status: "SUCCEEDED".into(),
            })
            .collect()
    }
}

pub(super) fn callback(
    inner: &Shared,
    state: &SimState,
    event: &str,
    id: &str,
    data: Value,
) -> Outgoing {
    let token = inner.config.xendit_callback_token.clone();
    callback_with_token(state, event, id, data, token)
}

fn callback_with_token(
    state: &SimState,
    event: &str,
    id: &str,
    data: Value,
    token: String,
) -> Outgoing {
    Outgoing {
        gateway: Gateway::Xendit,
        id: id.to_string(),
        status: format!("{event} {}", data["status"].as_str().unwrap_or_default()),
        url: state.xendit_callback_url.clone(),
        headers: vec![("x-callback-token".into(), token)],
        body: json!({
            "event": event,
            "api_version": API_VERSION,
            "business_id": BUSINESS_ID,
            "created": iso_time(Utc::now()),
            "data": data,
        }),
    }
}

/// Records a SUCCEEDED payment of the QR code `id` (id or reference_id) and sends its callback;
/// the payment as the API shows it.
pub(super) fn make_payment(
    inner: &Shared,
    id: &str,
    amount: Option<i64>,
) -> Result<Value, Refusal> {
    let (outgoing, answer) = {
        let mut state = inner.lock();
        let Some(qr) = state.xendit.find_qr(id).cloned() else {
            return Err((
                StatusCode::NOT_FOUND,
                "DATA_NOT_FOUND",
                "QR code not found".into(),
            ));
        };
        if qr.status() != "ACTIVE" {
            return Err((
                StatusCode::BAD_REQUEST,
                "INACTIVE_QR_CODE",
                "The QR code is inactive (paid or expired)".into(),
            ));
        }
        let Some(amount) = amount.or(qr.amount) else {
            return Err((
                StatusCode::BAD_REQUEST,
                "API_VALIDATION_ERROR",
                "amount is required to pay a STATIC QR code".into(),
            ));
        };
        let now = Utc::now();
        let payment = Payment {
            id: format!("qrpy_{}", uuid::Uuid::now_v7()),
            qr_id: qr.id.clone(),
            amount,
            created: now,
            receipt_id: format!("{:012}", now.timestamp_micros() % 1_000_000_000_000),
        };
        if let Some(stored) = state.xendit.qrs.get_mut(&qr.id) {
            stored.paid = true;
            stored.updated = now;
        }
        let answer = payment_json(&payment, &qr);
        state.xendit.payments.push(payment);
        let outgoing = callback(
            inner,
            &state,
            "qr.payment",
            &qr.reference_id,
            answer.clone(),
        );
        (outgoing, answer)
    };
    notify::dispatch(inner, outgoing);
    Ok(answer)
}

/// The customer pays the QR code `id` (id or reference_id).
pub(super) fn pay(inner: &Shared, id: &str, amount: Option<i64>) -> anyhow::Result<Value> {
    make_payment(inner, id, amount)
        .map_err(|(status, code, message)| anyhow!("pay {id}: {status} {code}: {message}"))
}

/// The QR code `id` expires: INACTIVE from now on, and no callback (Xendit sends none).
pub(super) fn expire(inner: &Shared, id: &str) -> anyhow::Result<()> {
    let mut state = inner.lock();
    let qr_id = state
        .xendit
        .find_qr(id)
        .map(|qr| qr.id.clone())
        .ok_or_else(|| anyhow!("no Midtrans order nor Xendit QR code {id}"))?;
    if let Some(qr) = state.xendit.qrs.get_mut(&qr_id) {
        qr.forced_inactive = true;
        qr.updated = Utc::now();
    }
    Ok(())
}

/// A qr.payment callback for `reference_id` with a callback token that is not the merchant's.
pub(super) fn forged(inner: &Shared, reference_id: &str) -> Outgoing {
    let state = inner.lock();
    let now = Utc::now();
    let qr = state.xendit.find_qr(reference_id).cloned();
    let qr = qr.unwrap_or_else(|| Qr {
        id: format!("qr_{}", uuid::Uuid::now_v7()),
        reference_id: reference_id.to_string(),
        kind: "DYNAMIC".into(),
        amount: Some(10_000),
        channel_code: "ID_DANA".into(),
        qr_string: String::new(),
        expires_at: now,
        created: now,
        updated: now,
        metadata: empty_object(),
        forced_inactive: false,
        paid: false,
    });
    let payment = Payment {
        id: format!("qrpy_{}", uuid::Uuid::now_v7()),
        qr_id: qr.id.clone(),
        amount: qr.amount.unwrap_or(10_000),
        created: now,
        receipt_id: "000000000000".into(),
    };
    let token = format!("forged-{}", inner.config.xendit_callback_token);
    let data = payment_json(&payment, &qr);
    callback_with_token(&state, "qr.payment", &qr.reference_id, data, token)
}
