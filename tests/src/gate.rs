//! Support for the sync gate's attacks (`tests/tests/attacks/gate.rs`): tenants made with the
//! server's own `admin` command, real tills (`snapkasir-terminal`) enrolled over HTTP, and a raw
//! client of the automerge-repo protocol for the attacker, who sends whatever frames it likes
//! with a credential it really holds.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use shared_model::wire::{self, Message as Frame};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::processes::{ServerProcess, TerminalProcess, api_token, create_tenant_args, psql};

/// The password `create_tenant_args` gives every owner.
pub const OWNER_PASSWORD: &str = "rahasia-panjang-1";

/// A tenant with one store, made by `sync-server admin create-tenant`.
#[derive(Debug, Clone)]
pub struct Shop {
    pub tenant_id: String,
    pub store_id: String,
    pub store_code: String,
    pub owner_email: String,
}

impl Shop {
    /// A new tenant named `name` whose store has code `store_code`.
    pub fn create(server: &ServerProcess, name: &str, store_code: &str) -> Shop {
        let owner_email = format!(
            "owner-{}@{}.example",
            rand::random::<u32>(),
            name.to_lowercase()
        );
        let made = server.admin(&create_tenant_args(name, store_code, name, &owner_email));
        let field = |k: &str| {
            made[k]
                .as_str()
                .unwrap_or_else(|| panic!("create-tenant printed no {k}: {made}"))
                .to_string()
        };
        Shop {
            tenant_id: field("tenant_id"),
            store_id: field("store_id"),
            store_code: store_code.to_string(),
            owner_email,
        }
    }

    /// An access token of the shop's owner.
    pub async fn owner_token(&self, server: &ServerProcess) -> String {
        api_token(
            &crate::processes::http_client(),
            &server.url(),
            &self.owner_email,
            OWNER_PASSWORD,
        )
        .await
    }
}

/// A real till of `shop`: `snapkasir-terminal` enrolled with a code the server made, with the
/// demo catalog (its first till creates the store's documents). It does not sync yet.
pub fn enrolled_till(
    server: &ServerProcess,
    dir: &std::path::Path,
    shop: &Shop,
    name: &str,
) -> TerminalProcess {
    let code = server.enrollment_code(&shop.store_id, name);
    let db = dir.join(format!("{}-{name}.db", shop.tenant_id));
    let mut till = TerminalProcess::spawn(&db, name);
    let enrolment = till
        .cmd(json!({"cmd": "enrol", "server": server.url(), "code": code, "demo": true}))
        .unwrap_or_else(|e| panic!("till {name} could not enrol: {e}"));
    till.code = format!(
        "{}-{}",
        enrolment["store_code"].as_str().unwrap_or("?"),
        enrolment["terminal_code"].as_str().unwrap_or("?")
    );
    till.cmd(json!({"cmd": "start_shift"})).expect("shift");
    till
}

/// The till's sync status (`online`, `waiting_documents`, `last_error`, …).
pub fn sync_status(till: &mut TerminalProcess) -> Value {
    till.cmd(json!({"cmd": "status"})).expect("status")
}

/// Sells one demo product and waits until the server has acknowledged the sale ("on server");
/// `Err` with the till's last sync status when it is not acknowledged within `within`.
pub fn sell_and_wait_ack(till: &mut TerminalProcess, within: Duration) -> Result<String, Value> {
    let sale = till
        .cmd(json!({"cmd": "sell", "sku": "DM-001", "qty": 1}))
        .expect("sell");
    let id = sale["sale_id"].as_str().expect("sale id").to_string();
    let deadline = Instant::now() + within;
    loop {
        let s = sync_status(till);
        if s["acknowledged"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == id.as_str()))
        {
            return Ok(id);
        }
        if Instant::now() > deadline {
            return Err(s["sync"].clone());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts the till's sync client against its enrolment server.
pub fn start_sync(till: &mut TerminalProcess) {
    till.cmd(json!({"cmd": "sync"})).expect("sync");
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why the server did not let a raw client in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The upgrade was answered with this HTTP status and body.
    Http(u16, String),
    /// The WebSocket opened, then the server sent this `error` frame (or closed) after `join`.
    Closed(String),
}

/// A hand-driven client of the automerge-repo protocol: the attacker's tool.
pub struct RawPeer {
    ws: Ws,
    pub peer: String,
    pub server_peer: String,
}

impl std::fmt::Debug for RawPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawPeer")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// The sync endpoint of `server` as `ws://`.
pub fn ws_url(server: &ServerProcess) -> String {
    format!("ws://{}/sync", server.addr)
}

impl RawPeer {
    /// Opens `/sync` with `token` as a bearer header (plus `headers`), joins as `peer` and
    /// waits for the server's `peer` reply.
    pub async fn join(url: &str, token: &str, peer: &str) -> Result<RawPeer, Refused> {
        let ws = Self::open(url, token).await?;
        Self::join_on(ws, peer).await
    }

    /// Opens the WebSocket only.
    pub async fn open(url: &str, token: &str) -> Result<Ws, Refused> {
        let mut req = url.into_client_request().expect("request");
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(Refused::Http(
                resp.status().as_u16(),
                String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).into_owned(),
            )),
            Err(e) => Err(Refused::Closed(format!("connect: {e}"))),
        }
    }

    /// Joins as `peer` on an open WebSocket.
    pub async fn join_on(mut ws: Ws, peer: &str) -> Result<RawPeer, Refused> {
        ws.send(Message::Binary(wire::encode(&Frame::join(peer)).into()))
            .await
            .map_err(|e| Refused::Closed(format!("send join: {e}")))?;
        let mut me = RawPeer {
            ws,
            peer: peer.to_string(),
            server_peer: String::new(),
        };
        match me.next_frame(Duration::from_secs(10)).await {
            Some(Frame::Peer { sender_id, .. }) => {
                me.server_peer = sender_id;
                Ok(me)
            }
            Some(Frame::Error { message }) => Err(Refused::Closed(message)),
            other => Err(Refused::Closed(format!("no peer reply: {other:?}"))),
        }
    }

    /// Sends raw bytes as one binary message (errors show up on the next read).
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> bool {
        self.ws.send(Message::Binary(bytes.into())).await.is_ok()
    }

    /// Sends a `sync` frame for `doc` carrying `data`.
    pub async fn sync(&mut self, doc: &str, data: Vec<u8>) -> bool {
        let f = Frame::Sync {
            sender_id: self.peer.clone(),
            target_id: self.server_peer.clone(),
            document_id: doc.to_string(),
            data,
        };
        self.send_raw(wire::encode(&f)).await
    }

    /// Sends a `request` frame for `doc` (with an empty document's sync message).
    pub async fn request(&mut self, doc: &str) -> bool {
        let f = Frame::Request {
            sender_id: self.peer.clone(),
            target_id: self.server_peer.clone(),
            document_id: doc.to_string(),
            data: empty_sync_message(),
        };
        self.send_raw(wire::encode(&f)).await
    }

    /// The next frame, `None` once closed or after `within`.
    pub async fn next_frame(&mut self, within: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()?;
            match msg {
                Some(Ok(Message::Binary(b))) => return wire::decode(&b).ok(),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => {}
            }
        }
    }

    /// How the server refused this connection within `within`: an `error` frame's message, or
    /// the connection closed (a frame over the limit may be refused by the WebSocket layer with a
    /// close, before any protocol frame). `None` if it stayed open and silent about it.
    pub async fn refusal_within(&mut self, within: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()?;
            match msg {
                Some(Ok(Message::Binary(b))) => {
                    if let Ok(Frame::Error { message }) = wire::decode(&b) {
                        return Some(message);
                    }
                }
                Some(Ok(Message::Close(reason))) => return Some(format!("closed: {reason:?}")),
                None => return Some("closed".into()),
                Some(Err(e)) => return Some(format!("closed: {e}")),
                Some(Ok(_)) => {}
            }
        }
    }

    /// The first frame about `doc` within `within` (others are skipped), or an `error` frame.
    pub async fn answer_about(&mut self, doc: &str, within: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_frame(left).await? {
                f @ Frame::Error { .. } => return Some(f),
                f if f.document_id() == Some(doc) => return Some(f),
                _ => {}
            }
        }
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A sync message carrying every change of `doc` to a peer that has nothing.
pub fn sync_message_of(doc: &automerge::Automerge) -> Vec<u8> {
    use automerge::sync::SyncDoc;
    let empty = automerge::Automerge::new();
    let mut theirs = automerge::sync::State::new();
    let mut ours = automerge::sync::State::new();
    let hello = empty.generate_sync_message(&mut theirs).expect("hello");
    let mut doc = doc.clone();
    doc.receive_sync_message(&mut ours, hello).expect("receive");
    doc.generate_sync_message(&mut ours)
        .expect("changes")
        .encode()
}

/// A valid sync message of an empty document.
pub fn empty_sync_message() -> Vec<u8> {
    use automerge::sync::SyncDoc;
    let doc = automerge::Automerge::new();
    let mut state = automerge::sync::State::new();
    doc.generate_sync_message(&mut state)
        .expect("message")
        .encode()
}

/// The document `doc_id` as the server stored it in PostgreSQL (`None`: no chunk stored).
pub fn stored_document(db: &str, doc_id: &str) -> Option<automerge::Automerge> {
    let rows = psql(
        db,
        &format!(
            "SELECT encode(data, 'hex') FROM automerge_chunks WHERE doc_id = '{doc_id}' ORDER BY key"
        ),
    );
    let mut doc = automerge::Automerge::new();
    let mut any = false;
    for line in rows.lines().filter(|l| !l.is_empty()) {
        let bytes: Vec<u8> = (0..line.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&line[i..i + 2], 16).expect("hex"))
            .collect();
        doc.load_incremental(&bytes).expect("stored chunk loads");
        any = true;
    }
    any.then_some(doc)
}

/// The claim of `doc_id` in PostgreSQL: `tenant|store|claimed_by`, empty when unclaimed.
pub fn claim_of(db: &str, doc_id: &str) -> String {
    psql(
        db,
        &format!(
            "SELECT tenant_id || '|' || coalesce(store_id, '') || '|' || claimed_by FROM doc_claims WHERE doc_id = '{doc_id}'"
        ),
    )
}

/// Resident memory of process `pid` in KiB (`VmRSS` of /proc).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/status: {e} (Linux's procfs is needed)"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Polls `f` every 50 ms until it holds; panics with `what` after `within`.
pub fn wait_until(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
