//! Midtrans' side of a QRIS transaction in the simulator: its state, the body the status API
//! and the HTTP notifications show (signed with `SHA-512(order_id + status_code + gross_amount +
//! server key)`), and the events the tests cause (the customer pays, a forged notification).

use std::collections::HashMap;

use anyhow::{anyhow, bail};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

use super::notify::{self, Outgoing};
use super::{Gateway, RefundRecord, Shared, SimState, jakarta_time};

pub(super) const MERCHANT_ID: &str = "G000000001";

#[derive(Debug, Default)]
pub(super) struct Store {
    pub(super) txs: HashMap<String, Tx>,
    pub(super) next_refund_id: i64,
}

#[derive(Debug, Clone)]
pub(super) struct Tx {
    pub(super) order_id: String,
    pub(super) transaction_id: String,
    pub(super) gross_amount: i64,
    pub(super) status: String,
    pub(super) transaction_time: DateTime<Utc>,
    pub(super) expiry_time: DateTime<Utc>,
    pub(super) settlement_time: Option<DateTime<Utc>>,
    /// What the customer paid, when the test made it differ from gross_amount.
    pub(super) paid_amount: Option<i64>,
    pub(super) acquirer: String,
    pub(super) notify_url: Option<String>,
    pub(super) qr_string: String,
    pub(super) refunds: Vec<Refund>,
}

#[derive(Debug, Clone)]
pub(super) struct Refund {
    pub(super) chargeback_id: i64,
    pub(super) key: String,
    pub(super) amount: i64,
    pub(super) reason: String,
    pub(super) created: DateTime<Utc>,
    /// The answer given, repeated for a request with the same refund_key.
    pub(super) response: Value,
}

/// `signature_key` of a Midtrans notification or status: lowercase hex SHA-512 of order_id,
/// status_code, gross_amount (as written in the body, e.g. `"15000.00"`) and the server key.
pub fn midtrans_signature(
    order_id: &str,
    status_code: &str,
    gross_amount: &str,
    server_key: &str,
) -> String {
    let mut hash = Sha512::new();
    hash.update(order_id.as_bytes());
    hash.update(status_code.as_bytes());
    hash.update(gross_amount.as_bytes());
    hash.update(server_key.as_bytes());
    hex::encode(hash.finalize())
}

/// The status_code Midtrans gives each transaction_status.
fn status_code_of(status: &str) -> &'static str {
    match status {
        "pending" => "201",
        "expire" => "407",
        "deny" => "202",
        _ => "200",
    }
}

pub(super) fn money(amount: i64) -> String {
    format!("{amount}.00")
}

impl Tx {
    pub(super) fn refunded(&self) -> i64 {
        self.refunds.iter().map(|r| r.amount).sum()
    }

    /// The transaction as the status API shows it, signed with `key`.
    pub(super) fn body(&self, key: &str, status_message: &str) -> Value {
        let code = status_code_of(&self.status);
        let gross = money(self.paid_amount.unwrap_or(self.gross_amount));
        let mut body = json!({
            "status_code": code,
            "status_message": status_message,
            "transaction_id": self.transaction_id,
            "order_id": self.order_id,
            "merchant_id": MERCHANT_ID,
            "gross_amount": gross,
            "currency": "IDR",
            "payment_type": "qris",
            "transaction_time": jakarta_time(self.transaction_time),
            "transaction_status": self.status,
            "fraud_status": "accept",
            "acquirer": self.acquirer,
            "expiry_time": jakarta_time(self.expiry_time),
            "signature_key": midtrans_signature(&self.order_id, code, &gross, key),
        });
        if let Some(settled) = self.settlement_time {
            body["settlement_time"] = json!(jakarta_time(settled));
            body["issuer"] = json!(self.acquirer);
        }
        if !self.refunds.is_empty() {
            body["refund_amount"] = json!(money(self.refunded()));
            body["refunds"] = self
                .refunds
                .iter()
                .map(|r| {
                    json!({
                        "refund_chargeback_id": r.chargeback_id,
                        "refund_amount": money(r.amount),
                        "created_at": jakarta_time(r.created),
                        "reason": r.reason,
                        "refund_key": r.key,
                        "refund_method": "",
                    })
                })
                .collect();
        }
        body
    }
}

impl Store {
    pub(super) fn refund_records(&self, order_id: &str) -> Vec<RefundRecord> {
        let Some(tx) = self.txs.get(order_id) else {
            return Vec::new();
        };
        tx.refunds
            .iter()
            .map(|r| RefundRecord {
                gateway: Gateway::Midtrans,
                refund_id: r.chargeback_id.to_string(),
                key: r.key.clone(),
                amount: r.amount,
                status: "SUCCEEDED".into(),
            })
            .collect()
    }
}

/// The notification of `tx`'s current status.
pub(super) fn notification(inner: &Shared, state: &SimState, tx: &Tx) -> Outgoing {
    Outgoing {
        gateway: Gateway::Midtrans,
        id: tx.order_id.clone(),
        status: tx.status.clone(),
        url: tx
            .notify_url
            .clone()
            .or_else(|| state.midtrans_notification_url.clone()),
        headers: Vec::new(),
        body: tx.body(
            &inner.config.midtrans_server_key,
            "midtrans payment notification",
        ),
    }
}

/// Expires `order_id` if it is pending past its expiry_time; the notification to send.
pub(super) fn expire_if_due(
    inner: &Shared,
    state: &mut SimState,
    order_id: &str,
) -> Option<Outgoing> {
    let tx = state.midtrans.txs.get_mut(order_id)?;
    if tx.status != "pending" || Utc::now() < tx.expiry_time {
        return None;
    }
    tx.status = "expire".into();
    let tx = tx.clone();
    Some(notification(inner, state, &tx))
}

/// The customer pays: pending becomes settlement (with `amount` in the notification if given).
pub(super) fn settle(inner: &Shared, order_id: &str, amount: Option<i64>) -> anyhow::Result<()> {
    let outgoing = {
        let mut state = inner.lock();
        let tx = state
            .midtrans
            .txs
            .get_mut(order_id)
            .ok_or_else(|| anyhow!("no Midtrans order {order_id}"))?;
        if tx.status != "pending" {
            bail!("Midtrans order {order_id} is {}, not pending", tx.status);
        }
        tx.status = "settlement".into();
        tx.settlement_time = Some(Utc::now());
        tx.paid_amount = amount.filter(|a| *a != tx.gross_amount);
        let tx = tx.clone();
        notification(inner, &state, &tx)
    };
    notify::dispatch(inner, outgoing);
    Ok(())
}

/// A notification that says `status` for `order_id`, signed with a key that is not the
/// merchant's.
pub(super) fn forged(inner: &Shared, order_id: &str, status: &str) -> Outgoing {
    let state = inner.lock();
    let mut tx = state
        .midtrans
        .txs
        .get(order_id)
        .cloned()
        .unwrap_or_else(|| Tx {
            order_id: order_id.to_string(),
            transaction_id: uuid::Uuid::now_v7().to_string(),
            gross_amount: 10_000,
            status: String::new(),
            transaction_time: Utc::now(),
            expiry_time: Utc::now(),
            settlement_time: None,
            paid_amount: None,
            acquirer: "gopay".into(),
            notify_url: None,
            qr_string: String::new(),
            refunds: Vec::new(),
        });
    tx.status = status.to_string();
    tx.settlement_time = Some(Utc::now());
    let mut outgoing = notification(inner, &state, &tx);
    outgoing.body = tx.body(
        &format!("forged-{}", inner.config.midtrans_server_key),
        "midtrans payment notification",
    );
    outgoing
}
