//! The server's HTTP API called from a test's own thread, blocking: an owner or manager signed
//! in with a bearer token, each call answering its status and its body (JSON or bytes). For
//! tests that drive a browser or a till process and check the API beside them.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::processes::{api_token, http_client};

/// A signed-in API user of one server.
#[derive(Debug)]
pub struct Api {
    base: String,
    token: String,
    rt: tokio::runtime::Runtime,
}

impl Api {
    /// Signs in at `base` (`http://host:port`) as `email`.
    pub fn sign_in(base: &str, email: &str, password: &str) -> Api {
        let rt = runtime();
        let token = rt.block_on(api_token(&http_client(), base, email, password));
        Api {
            base: base.to_string(),
            token,
            rt,
        }
    }

    /// An API user of `base` holding `token` (one taken from elsewhere, such as a cookie).
    pub fn with_token(base: &str, token: &str) -> Api {
        Api {
            base: base.to_string(),
            token: token.to_string(),
            rt: runtime(),
        }
    }

    /// The access token (to hand to a WebSocket or another client).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// `method` (`GET`, `POST`, `PATCH`, `PUT`, `DELETE`) of `path` with an optional JSON
    /// body: the status and the body's bytes.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Vec<u8>) {
        self.rt.block_on(async {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let mut req = http_client()
                .request(method, format!("{}{path}", self.base))
                .bearer_auth(&self.token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let r = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
            let status = r.status().as_u16();
            (status, r.bytes().await.unwrap_or_default().to_vec())
        })
    }

    /// [`Api::call`] with the body read as JSON (`null` when it is not JSON).
    pub fn json(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, bytes) = self.call(method, path, body);
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// `GET path` as JSON.
    pub fn get(&self, path: &str) -> (u16, Value) {
        self.json("GET", path, None)
    }

    /// `POST path` with a JSON body, as JSON.
    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.json("POST", path, Some(body))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Calls `f` every 200 ms until it answers `Some`, and returns that; fails the test, naming
/// `what`, after `timeout`.
pub fn eventually<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
