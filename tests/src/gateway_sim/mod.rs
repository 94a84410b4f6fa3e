//! A payment gateway simulator for the tests: one axum server on 127.0.0.1 that answers as
//! Midtrans' Core API (QRIS charges, status, cancel, direct refund, HTTP notifications) and as
//! Xendit's QR Codes API (`api-version: 2022-07-31`: QR codes, their payments, simulated payments,
//! refunds, `qr.payment` callbacks), with the request and response shapes, status codes, error
//! bodies and signatures those gateways document, so that SnapKasir's own gateway clients,
//! pointed at [`GatewaySim::base_url`], cannot tell it from the sandboxes. The tests play the
//! customer ([`GatewaySim::pay`]) and the gateway's own events ([`GatewaySim::expire`]), and
//! break the notifications in the ways real gateways do: late, repeated, out of order, forged,
//! retried after a refusal. Nothing leaves loopback.

mod midtrans;
mod midtrans_tx;
mod notify;
mod wire;
mod xendit;
mod xendit_qr;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::bail;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::task::JoinHandle;

pub use midtrans_tx::midtrans_signature;
use wire::{
    basic_auth_matches, empty_object, iso_time, jakarta_time, json_response, parse_object,
    post_json, qris_payload,
};

/// The keys the simulator checks and signs with, and how it retries a notification that its
/// receiver did not answer 2xx.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub midtrans_server_key: String,
    pub xendit_secret_key: String,
    pub xendit_callback_token: String,
    /// Pause between two attempts at one notification.
    pub retry_delay: Duration,
    /// Attempts after the first one (Midtrans and Xendit both retry unanswered notifications;
    /// the simulator does it a few times, quickly).
    pub retries: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            midtrans_server_key: "SB-Mid-server-simulated-key".into(),
            xendit_secret_key: "xnd_development_simulated_key".into(),
            xendit_callback_token: "simulated-callback-token".into(),
            retry_delay: Duration::from_millis(200),
            retries: 3,
        }
    }
}

/// Which gateway a request, notification or refund belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gateway {
    Midtrans,
    Xendit,
}

/// One API request the simulator answered.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub gateway: Gateway,
    pub method: String,
    pub path: String,
    /// The body as JSON, when it was JSON.
    pub body: Option<Value>,
    /// The headers a gateway reads (authorization, api-version, x-override-notification, ...).
    pub headers: Vec<(String, String)>,
    /// The HTTP status the simulator answered.
    pub status: u16,
}

/// One attempt at delivering a notification (Midtrans) or callback (Xendit).
#[derive(Debug, Clone)]
pub struct Delivery {
    pub gateway: Gateway,
    /// The Midtrans order_id or the Xendit QR code's reference_id.
    pub id: String,
    /// The transaction_status sent (Midtrans) or the event and status (`qr.payment SUCCEEDED`).
    pub status: String,
    pub url: String,
    /// 1 for the first attempt, then 2, 3, ... for the retries.
    pub attempt: u32,
    /// 0 for the notification itself, 1.. for the copies [`GatewaySim::duplicate_notifications`]
    /// asked for.
    pub copy: u32,
    /// The receiver's HTTP status, or None when it could not be reached.
    pub receiver_status: Option<u16>,
    pub body: Value,
}

/// A refund the simulator granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    pub gateway: Gateway,
    /// Midtrans' refund_chargeback_id or Xendit's `qrr_...` id.
    pub refund_id: String,
    /// The merchant's refund_key (Midtrans) or reference_id (Xendit).
    pub key: String,
    pub amount: i64,
    pub status: String,
}

#[derive(Debug, Default)]
struct Faults {
    delay: Duration,
    duplicates: u32,
    hold: bool,
    fail_next: u32,
}

#[derive(Debug, Default)]
struct SimState {
    midtrans_notification_url: Option<String>,
    xendit_callback_url: Option<String>,
    midtrans: midtrans_tx::Store,
    xendit: xendit_qr::Store,
    faults: Faults,
    held: Vec<notify::Outgoing>,
    requests: Vec<RecordedRequest>,
    deliveries: Vec<Delivery>,
}

#[derive(Debug)]
struct Inner {
    config: SimConfig,
    base_url: String,
    client: reqwest::Client,
    state: Mutex<SimState>,
}

impl Inner {
    /// The state, never held across an `.await`.
    fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

type Shared = Arc<Inner>;

/// The running simulator; the server stops when this is dropped.
#[derive(Debug)]
pub struct GatewaySim {
    inner: Shared,
    server: JoinHandle<()>,
}

impl Drop for GatewaySim {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl GatewaySim {
    /// Binds 127.0.0.1 on a free port and serves both gateways there.
    pub async fn start(config: SimConfig) -> GatewaySim {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("gateway simulator: bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("gateway simulator: local address");
        let client = pos_core::sync::tls::http_client(None, Duration::from_secs(10))
            .expect("gateway simulator: http client");
        let inner = Arc::new(Inner {
            config,
            base_url: format!("http://{addr}"),
            client,
            state: Mutex::new(SimState::default()),
        });
        let app = router(inner.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("gateway simulator stopped: {e}");
            }
        });
        GatewaySim { inner, server }
    }

    /// `http://127.0.0.1:PORT`, the base of both gateways' paths.
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// Where Midtrans notifications go unless a charge said otherwise (X-Override-Notification).
    pub fn set_midtrans_notification_url(&self, url: &str) {
        self.inner.lock().midtrans_notification_url = Some(url.to_string());
    }

    /// Where Xendit callbacks go (the dashboard's callback URL setting).
    pub fn set_xendit_callback_url(&self, url: &str) {
        self.inner.lock().xendit_callback_url = Some(url.to_string());
    }

    /// The customer pays the charged amount: Midtrans settles the order, or Xendit records a
    /// SUCCEEDED payment of the QR code (by reference_id or id). Sends the notification.
    pub async fn pay(&self, order_or_reference_id: &str) -> anyhow::Result<()> {
        self.pay_inner(order_or_reference_id, None).await
    }

    /// A payment of another amount than was charged (the server must refuse to count it). For
    /// Midtrans the settlement notification carries this gross_amount, correctly signed.
    pub async fn pay_amount(&self, id: &str, amount: i64) -> anyhow::Result<()> {
        self.pay_inner(id, Some(amount)).await
    }

    async fn pay_inner(&self, id: &str, amount: Option<i64>) -> anyhow::Result<()> {
        if self.is_midtrans(id) {
            midtrans_tx::settle(&self.inner, id, amount)
        } else {
            xendit_qr::pay(&self.inner, id, amount).map(|_| ())
        }
    }

    /// The gateway expires the payment: a Midtrans expire notification; a Xendit QR code turns
    /// INACTIVE (Xendit sends no callback for that).
    pub async fn expire(&self, id: &str) -> anyhow::Result<()> {
        if self.is_midtrans(id) {
            midtrans::transition(&self.inner, id, "expire")
        } else {
            xendit_qr::expire(&self.inner, id)
        }
    }

    /// Midtrans denies the pending payment (a deny notification). Xendit has no such event.
    pub async fn deny(&self, id: &str) -> anyhow::Result<()> {
        if !self.is_midtrans(id) {
            bail!("deny: {id} is no Midtrans order (Xendit QR payments are never denied)");
        }
        midtrans::transition(&self.inner, id, "deny")
    }

    fn is_midtrans(&self, id: &str) -> bool {
        self.inner.lock().midtrans.txs.contains_key(id)
    }

    /// Every later notification waits this long before its first attempt.
    pub fn delay_notifications(&self, d: Duration) {
        self.inner.lock().faults.delay = d;
    }

    /// Every later notification is sent this many extra times (0 to stop).
    pub fn duplicate_notifications(&self, times: u32) {
        self.inner.lock().faults.duplicates = times;
    }

    /// Later notifications are queued instead of sent, until a release.
    pub fn hold_notifications(&self) {
        self.inner.lock().faults.hold = true;
    }

    /// Sends the held notifications newest first, one after the other, and stops holding.
    pub async fn release_notifications_reversed(&self) {
        notify::release(&self.inner, true).await;
    }

    /// Sends the held notifications in the order they were made, and stops holding.
    pub async fn release_notifications(&self) {
        notify::release(&self.inner, false).await;
    }

    /// A settlement-looking Midtrans notification (transaction_status `status`) whose
    /// signature_key is wrong; answers the receiver's HTTP status (0 if unreachable).
    pub async fn send_forged_midtrans(&self, order_id: &str, status: &str) -> u16 {
        let outgoing = midtrans_tx::forged(&self.inner, order_id, status);
        notify::send_once(&self.inner, &outgoing).await.unwrap_or(0)
    }

    /// A qr.payment callback with a wrong x-callback-token; answers the receiver's HTTP status
    /// (0 if unreachable).
    pub async fn send_forged_xendit(&self, reference_id: &str) -> u16 {
        let outgoing = xendit_qr::forged(&self.inner, reference_id);
        notify::send_once(&self.inner, &outgoing).await.unwrap_or(0)
    }

    /// The next `n` API requests (either gateway) answer the documented 500.
    pub fn fail_next_requests(&self, n: u32) {
        self.inner.lock().faults.fail_next = n;
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.lock().requests.clone()
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner.lock().deliveries.clone()
    }

    /// Waits until at least `n` delivery attempts were made, and returns them all.
    pub async fn wait_for_deliveries(
        &self,
        n: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Delivery>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let deliveries = self.deliveries();
            if deliveries.len() >= n {
                return Ok(deliveries);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "{} notification attempts after {timeout:?}, expected {n}",
                    deliveries.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The refunds granted for a Midtrans order_id or a Xendit QR code (id or reference_id)
    /// or payment id.
    pub fn refunds(&self, id: &str) -> Vec<RefundRecord> {
        let state = self.inner.lock();
        let mut out = state.midtrans.refund_records(id);
        out.extend(state.xendit.refund_records(id));
        out
    }
}

fn router(inner: Shared) -> Router {
    Router::new()
        .route("/v2/charge", post(midtrans::charge))
        .route("/v2/{order_id}/status", get(midtrans::status))
        .route("/v2/{order_id}/cancel", post(midtrans::cancel))
        .route(
            "/v2/{order_id}/refund/online/direct",
            post(midtrans::direct_refund),
        )
        .route("/qr_codes", post(xendit::create))
        .route("/qr_codes/{id}", get(xendit::get_qr))
        .route("/qr_codes/{id}/payments", get(xendit::list_payments))
        .route("/qr_codes/{id}/payments/simulate", post(xendit::simulate))
        .route(
            "/qr_codes/payments/{payment_id}/refunds",
            post(xendit::refund),
        )
        .layer(middleware::from_fn_with_state(inner.clone(), record))
        .with_state(inner)
}

/// The headers a gateway reads, kept with each recorded request.
const HEADERS_OF_INTEREST: [&str; 6] = [
    "authorization",
    "api-version",
    "content-type",
    "x-override-notification",
    "x-append-notification",
    "idempotency-key",
];

/// Records every request with the status it got, and answers the 500s that
/// [`GatewaySim::fail_next_requests`] asked for.
async fn record(State(inner): State<Shared>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(bytes) => bytes,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let path = parts.uri.path().to_string();
    let gateway = if path.starts_with("/v2/") {
        Gateway::Midtrans
    } else {
        Gateway::Xendit
    };
    let headers = interesting_headers(&parts.headers);
    let method = parts.method.to_string();
    let json_body = serde_json::from_slice::<Value>(&bytes).ok();
    let fail = {
        let mut state = inner.lock();
        let fail = state.faults.fail_next > 0;
        if fail {
            state.faults.fail_next -= 1;
        }
        fail
    };
    let response = if fail {
        server_error(gateway)
    } else {
        next.run(Request::from_parts(parts, Body::from(bytes)))
            .await
    };
    inner.lock().requests.push(RecordedRequest {
        gateway,
        method,
        path,
        body: json_body,
        headers,
        status: response.status().as_u16(),
    });
    response
}

fn interesting_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    HEADERS_OF_INTEREST
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name)?.to_str().ok()?;
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

/// The 500 each gateway documents for an error on its side.
fn server_error(gateway: Gateway) -> Response {
    match gateway {
        Gateway::Midtrans => midtrans::error(
            "500",
            "Sorry, an internal error occurred on our side (simulated). Please try again later.",
        ),
        Gateway::Xendit => xendit::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SERVER_ERROR",
            "An unexpected error occurred (simulated); please try again later.",
        ),
    }
}
