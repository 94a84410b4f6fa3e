//! Tests of the gateway simulator itself, driven over HTTP as a gateway client would, with a
//! small receiver that checks each notification's Midtrans signature (computed here, apart from
//! the simulator's) or Xendit callback token, as a merchant's server must.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

use super::{GatewaySim, SimConfig};

mod faults;
mod midtrans;
mod xendit;

const WAIT: Duration = Duration::from_secs(5);

/// What the receiver was sent, and whether its signature or token held.
#[derive(Debug, Clone)]
struct Received {
    body: Value,
    genuine: bool,
}

#[derive(Debug, Default)]
struct ReceiverState {
    received: Vec<Received>,
    /// Statuses to answer next, then 200 (or 401 for a forgery).
    answers: VecDeque<u16>,
}

#[derive(Debug, Clone)]
struct Receiver {
    url: String,
    state: Arc<Mutex<ReceiverState>>,
}

impl Receiver {
    async fn start(config: &SimConfig) -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let keys = (
            config.midtrans_server_key.clone(),
            config.xendit_callback_token.clone(),
        );
        let app = Router::new()
            .route("/midtrans", post(midtrans_in))
            .route("/xendit", post(xendit_in))
            .with_state((state.clone(), keys));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("receiver address")
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, state }
    }

    fn answer_next(&self, statuses: &[u16]) {
        self.state.lock().unwrap().answers.extend(statuses);
    }

    fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let received = self.received();
            if received.len() >= n || tokio::time::Instant::now() > deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

type ReceiverApp = (Arc<Mutex<ReceiverState>>, (String, String));

fn sha512_hex(text: &str) -> String {
    hex::encode(Sha512::digest(text.as_bytes()))
}

fn keep(state: &Mutex<ReceiverState>, body: Value, genuine: bool) -> StatusCode {
    let mut state = state.lock().unwrap();
    state.received.push(Received { body, genuine });
    let status = match state.answers.pop_front() {
        Some(status) => status,
        None if genuine => 200,
        None => 401,
    };
    StatusCode::from_u16(status).unwrap()
}

async fn midtrans_in(
    State((state, (key, _))): State<ReceiverApp>,
    axum::Json(body): axum::Json<Value>,
) -> StatusCode {
    let text = |name: &str| body[name].as_str().unwrap_or_default().to_string();
    let expected = sha512_hex(&format!(
        "{}{}{}{key}",
        text("order_id"),
        text("status_code"),
        text("gross_amount")
    ));
    let genuine = text("signature_key") == expected;
    keep(&state, body, genuine)
}

async fn xendit_in(
    State((state, (_, token))): State<ReceiverApp>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> StatusCode {
    let genuine = headers
        .get("x-callback-token")
        .and_then(|v| v.to_str().ok())
        == Some(token.as_str());
    keep(&state, body, genuine)
}

fn config() -> SimConfig {
    SimConfig {
        retry_delay: Duration::from_millis(20),
        ..SimConfig::default()
    }
}

/// A simulator and a receiver it notifies.
async fn setup() -> (GatewaySim, Receiver, Client) {
    let config = config();
    let receiver = Receiver::start(&config).await;
    let sim = GatewaySim::start(config.clone()).await;
    sim.set_midtrans_notification_url(&format!("{}/midtrans", receiver.url));
    sim.set_xendit_callback_url(&format!("{}/xendit", receiver.url));
    let client = Client {
        http: crate::processes::http_client(),
        base: sim.base_url(),
        config,
    };
    (sim, receiver, client)
}

#[derive(Debug)]
struct Client {
    http: reqwest::Client,
    base: String,
    config: SimConfig,
}

fn basic(key: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
    format!("Basic {encoded}")
}

impl Client {
    async fn midtrans(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let key = self.config.midtrans_server_key.clone();
        self.send(method, path, body, &basic(&key), &[]).await
    }

    async fn xendit(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let auth = basic(&self.config.xendit_secret_key);
        let version = [("api-version", "2022-07-31")];
        self.send(method, path, body, &auth, &version).await
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        auth: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", auth)
            .header("accept", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request to the simulator");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn charge(&self, order_id: &str, amount: i64) -> (u16, Value) {
        let body = json!({
            "payment_type": "qris",
            "transaction_details": {"order_id": order_id, "gross_amount": amount},
            "qris": {"acquirer": "gopay"},
        });
        self.midtrans("POST", "/v2/charge", Some(body)).await
    }

    async fn create_qr(&self, reference_id: &str, amount: i64) -> (u16, Value) {
        let body = json!({
            "reference_id": reference_id, "type": "DYNAMIC", "currency": "IDR", "amount": amount,
        });
        self.xendit("POST", "/qr_codes", Some(body)).await
    }
}

fn statuses(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| {
            let status = &r.body["transaction_status"];
            let status = status.as_str().or(r.body["event"].as_str());
            format!(
                "{} {}",
                r.body["order_id"].as_str().unwrap_or("-"),
                status.unwrap_or("?")
            )
        })
        .collect()
}
