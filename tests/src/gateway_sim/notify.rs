//! How the simulator delivers Midtrans notifications and Xendit callbacks: from a spawned task,
//! retried after anything but a 2xx answer (both gateways retry; the simulator a few times,
//! quickly), every attempt recorded, and bent by the tests' fault controls (delayed, repeated,
//! held and released out of order).

use serde_json::Value;

use super::{Delivery, Gateway, Shared, post_json};

/// A notification or callback ready to send.
#[derive(Debug, Clone)]
pub(super) struct Outgoing {
    pub gateway: Gateway,
    /// The order_id (Midtrans) or reference_id (Xendit) it is about.
    pub id: String,
    /// What it says happened (transaction_status, or the event and status).
    pub status: String,
    /// None when no receiver is configured: recorded as an attempt that reached nobody.
    pub url: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

/// Sends `outgoing` as the fault controls say: queued while held, else after the delay and as
/// many times as duplicates asks, each copy retried until answered 2xx.
pub(super) fn dispatch(inner: &Shared, outgoing: Outgoing) {
    let (delay, duplicates) = {
        let mut state = inner.lock();
        if state.faults.hold {
            state.held.push(outgoing);
            return;
        }
        (state.faults.delay, state.faults.duplicates)
    };
    let inner = inner.clone();
    tokio::spawn(async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        for copy in 0..=duplicates {
            deliver(&inner, &outgoing, copy).await;
        }
    });
}

/// Stops holding and sends what was held, newest first when `reversed`, each one (with its
/// retries and copies) finished before the next starts.
pub(super) async fn release(inner: &Shared, reversed: bool) {
    let (mut held, duplicates) = {
        let mut state = inner.lock();
        state.faults.hold = false;
        (std::mem::take(&mut state.held), state.faults.duplicates)
    };
    if reversed {
        held.reverse();
    }
    for outgoing in &held {
        for copy in 0..=duplicates {
            deliver(inner, outgoing, copy).await;
        }
    }
}

/// One attempt, no retry (the forged notifications); the receiver's status.
pub(super) async fn send_once(inner: &Shared, outgoing: &Outgoing) -> Option<u16> {
    attempt(inner, outgoing, 1, 0).await
}

/// Attempts until a 2xx answer or the retries run out.
async fn deliver(inner: &Shared, outgoing: &Outgoing, copy: u32) {
    let (retries, pause) = (inner.config.retries, inner.config.retry_delay);
    for number in 1..=retries + 1 {
        let status = attempt(inner, outgoing, number, copy).await;
        if outgoing.url.is_none() || status.is_some_and(|s| (200..300).contains(&s)) {
            return;
        }
        if number <= retries {
            tokio::time::sleep(pause).await;
        }
    }
}

async fn attempt(inner: &Shared, outgoing: &Outgoing, number: u32, copy: u32) -> Option<u16> {
    let status = match &outgoing.url {
        Some(url) => match post_json(&inner.client, url, &outgoing.headers, &outgoing.body).await {
            Ok(status) => Some(status),
            Err(e) => {
                tracing::debug!("gateway simulator: {e:#}");
                None
            }
        },
        None => None,
    };
    inner.lock().deliveries.push(Delivery {
        gateway: outgoing.gateway,
        id: outgoing.id.clone(),
        status: outgoing.status.clone(),
        url: outgoing.url.clone().unwrap_or_default(),
        attempt: number,
        copy,
        receiver_status: status,
        body: outgoing.body.clone(),
    });
    status
}
