//! What the attack suite's modules (`tests/tests/attacks/`) share: the real `sync-server` binary
//! on a fresh PostgreSQL database with two tenants (one store and a signed-in owner each),
//! terminals enrolled over HTTP as a till enrols, a look into the database to prove that an
//! attack stored nothing, and a raw sync WebSocket that speaks the automerge-repo protocol frame
//! by frame, so an attack sends exactly the bytes it wants (a well-behaved client would refuse to
//! send most of them).

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use shared_model::wire;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::processes::{
    ServerProcess, TestDatabase, api_token, create_tenant_args, http_client, psql, workspace_bin,
};

/// The password of both tenants' owners.
pub const OWNER_PASSWORD: &str = "rahasia-panjang-1";

/// How long a raw client waits for the server's next frame before the test fails.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

#[path = "../corpus/automerge.rs"]
mod corpus;

/// The repository's automerge crasher corpus (`tests/corpus/automerge/`), by file name.
pub fn crashers() -> Vec<(&'static str, &'static [u8])> {
    corpus::crashers()
}

/// A tenant made with `sync-server admin create-tenant`: one store and its owner, signed in.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub tenant_id: String,
    pub store_id: String,
    pub store_code: String,
    pub owner_id: String,
    pub owner_email: String,
    /// The owner's access token (a JWT) for the API and the sync endpoint.
    pub owner_token: String,
}

/// A terminal enrolled with a one-time code, as a new till enrols.
#[derive(Clone)]
pub struct Enrolled {
    pub terminal_id: String,
    pub terminal_code: String,
    /// The secret token of the sync endpoint.
    pub device_credential: String,
    /// The whole enrolment reply (store key, root document, …).
    pub reply: Value,
}

impl std::fmt::Debug for Enrolled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolled")
            .field("terminal_id", &self.terminal_id)
            .field("terminal_code", &self.terminal_code)
            .finish_non_exhaustive()
    }
}

/// What the server's database holds of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Chunks stored under the document's id.
    pub chunks: i64,
    /// A digest of every chunk's key and bytes (empty when there are none): equal digests mean
    /// nothing was added, removed or changed.
    pub digest: String,
    /// The tenant that claimed the document, if anyone did.
    pub claimed_by_tenant: Option<String>,
}

/// A scratch directory (logs, config), removed on drop.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(prefix: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "snapkasir-{prefix}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The real server binary on its own PostgreSQL database, with tenants `a` and `b`.
#[derive(Debug)]
pub struct AttackServer {
    pub server: ServerProcess,
    pub db: TestDatabase,
    pub a: Tenant,
    pub b: Tenant,
    pub http: reqwest::Client,
    pub dir: Scratch,
}

impl AttackServer {
    /// Starts the server with its defaults. Call from a multi-threaded tokio runtime.
    pub async fn start(name: &str) -> AttackServer {
        AttackServer::start_with(name, "").await
    }

    /// Starts the server with `config_toml` as its configuration file (e.g.
    /// `max_frame_bytes = 262144`), so that limits can be made small enough to hit fast.
    pub async fn start_with(name: &str, config_toml: &str) -> AttackServer {
        let dir = Scratch::new(&format!("attack-{name}"));
        let db = TestDatabase::create("sk_attack");
        let config = dir.path().join("server.toml");
        std::fs::write(&config, config_toml).expect("write server config");
        let db_args = ["--database-url".to_string(), db.url.clone()];
        let serve_args = ["--config".to_string(), config.display().to_string()];
        let log = dir.path().join("server.log");
        let server =
            blocking(move || ServerProcess::start_with(&db_args, &serve_args, "127.0.0.1:0", &log))
                .await;
        let http = http_client();
        let mut tenants = Vec::new();
        for (tenant, code) in [("Toko Aman", "TA"), ("Toko Lain", "TB")] {
            let email = format!(
                "owner-{}@{}.test",
                code.to_lowercase(),
                name.replace('_', "-")
            );
            let made = server.admin(&create_tenant_args(tenant, code, tenant, &email));
            let owner_token = api_token(&http, &server.url(), &email, OWNER_PASSWORD).await;
            tenants.push(Tenant {
                tenant_id: field(&made, "tenant_id"),
                store_id: field(&made, "store_id"),
                store_code: code.to_string(),
                owner_id: field(&made, "owner_id"),
                owner_email: email,
                owner_token,
            });
        }
        let b = tenants.pop().expect("tenant b");
        let a = tenants.pop().expect("tenant a");
        AttackServer {
            server,
            db,
            a,
            b,
            http,
            dir,
        }
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The sync endpoint with `token` in the query string, as the JS client sends it.
    pub fn ws_url(&self, token: &str) -> String {
        format!("ws://{}/sync?token={token}", self.server.addr)
    }

    /// Enrols a terminal of `tenant`'s store over HTTP with a fresh one-time code.
    pub async fn enroll(&self, tenant: &Tenant, terminal_name: &str) -> Enrolled {
        let code = self.server.enrollment_code(&tenant.store_id, terminal_name);
        let reply: Value = self
            .http
            .post(format!("{}/api/v1/terminals/enroll", self.url()))
            .json(&serde_json::json!({"code": code}))
            .send()
            .await
            .expect("enroll")
            .json()
            .await
            .expect("enroll json");
        Enrolled {
            terminal_id: field(&reply, "terminal_id"),
            terminal_code: field(&reply, "terminal_code"),
            device_credential: field(&reply, "device_credential"),
            reply,
        }
    }

    /// Revokes a terminal with `sync-server admin revoke-terminal`.
    pub fn revoke(&self, terminal: &Enrolled) {
        let out = std::process::Command::new(workspace_bin("sync-server"))
            .args(["--database-url", &self.db.url, "admin", "revoke-terminal"])
            .args(["--terminal-id", &terminal.terminal_id])
            .output()
            .expect("sync-server admin revoke-terminal");
        assert!(
            out.status.success(),
            "revoke-terminal failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs SQL on the server's database and returns what it printed.
    pub fn sql(&self, sql: &str) -> String {
        psql(&self.db.url, sql)
    }

    /// What the database holds of document `doc_id`.
    pub fn stored(&self, doc_id: &str) -> Stored {
        wire::check_document_id(doc_id).expect("a document id");
        let chunks = self.sql(&format!(
            "SELECT count(*) || ' ' || coalesce(md5(string_agg(key || ':' || md5(data), ',' \
             ORDER BY key)), '') FROM automerge_chunks WHERE doc_id = '{doc_id}'"
        ));
        let (count, digest) = chunks.split_once(' ').unwrap_or((&chunks, ""));
        let claim = self.sql(&format!(
            "SELECT tenant_id FROM doc_claims WHERE doc_id = '{doc_id}'"
        ));
        Stored {
            chunks: count.parse().expect("chunk count"),
            digest: digest.to_string(),
            claimed_by_tenant: (!claim.is_empty()).then_some(claim),
        }
    }

    /// Waits (at most 10 s) until the database holds chunks of `doc_id`.
    pub async fn wait_stored(&self, doc_id: &str) -> Stored {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let s = self.stored(doc_id);
            if s.chunks > 0 && s.claimed_by_tenant.is_some() {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "document {doc_id} was never stored: {s:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// True while the server answers `GET /healthz` with a success.
    pub async fn alive(&self) -> bool {
        self.http
            .get(format!("{}/healthz", self.url()))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }
}

fn field(v: &Value, name: &str) -> String {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name:?} in {v}"))
        .to_string()
}

/// Runs blocking work (a child process, psql) off the async threads.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

/// The HTTP status of a WebSocket upgrade to `url`: 101 when the server accepted it.
pub async fn upgrade_status(url: &str) -> u16 {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => 101,
        Err(tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("upgrade to {url} failed without an HTTP answer: {e}"),
    }
}

/// A WebSocket to the sync endpoint driven frame by frame.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A hand-driven automerge-repo protocol client.
pub struct RawSync {
    pub ws: Ws,
    /// The peer id this client joined with.
    pub peer: String,
    /// The server's peer id (from its `peer` reply).
    pub server_peer: String,
}

impl std::fmt::Debug for RawSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawSync")
            .field("peer", &self.peer)
            .field("server_peer", &self.server_peer)
            .finish_non_exhaustive()
    }
}

impl RawSync {
    /// Connects, joins as `peer` and waits for the server's `peer` reply; fails the test if any
    /// of that fails.
    pub async fn connect(url: &str, peer: &str) -> RawSync {
        RawSync::try_connect(url, peer)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`RawSync::connect`], returning what went wrong instead of failing.
    pub async fn try_connect(url: &str, peer: &str) -> Result<RawSync, String> {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| format!("upgrade refused: {e}"))?;
        let mut c = RawSync {
            ws,
            peer: peer.to_string(),
            server_peer: String::new(),
        };
        c.send(wire::encode(&wire::Message::join(peer))).await;
        match c.next_frame().await {
            Some(wire::Message::Peer { sender_id, .. }) => {
                c.server_peer = sender_id;
                Ok(c)
            }
            other => Err(format!("join as {peer} answered with {other:?}")),
        }
    }

    /// Sends one binary frame. The server may have closed already: that shows on the next read.
    pub async fn send(&mut self, bytes: Vec<u8>) {
        let _ = self.ws.send(Message::Binary(bytes.into())).await;
    }

    /// The next decoded frame, `None` once the connection is closed. Fails the test after
    /// [`FRAME_TIMEOUT`] without one.
    pub async fn next_frame(&mut self) -> Option<wire::Message> {
        loop {
            let msg = tokio::time::timeout(FRAME_TIMEOUT, self.ws.next())
                .await
                .expect("the server answers or closes in time");
            match msg {
                Some(Ok(Message::Binary(b))) => {
                    return Some(wire::decode(&b).expect("server frames decode"));
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => {}
            }
        }
    }

    /// The next frame about `doc` (frames about other documents are skipped).
    pub async fn next_about(&mut self, doc: &str) -> Option<wire::Message> {
        loop {
            let f = self.next_frame().await?;
            if f.document_id() == Some(doc) || matches!(f, wire::Message::Error { .. }) {
                return Some(f);
            }
        }
    }

    /// Reads until the server closes; returns the message of the `error` frame it sent before
    /// closing, `None` when it closed without one.
    pub async fn closed_with_error(&mut self) -> Option<String> {
        let mut message = None;
        while let Some(f) = self.next_frame().await {
            if let wire::Message::Error { message: m } = f {
                message = Some(m);
            }
        }
        message
    }

    /// A `sync` frame for `doc` carrying `data` (an automerge sync message, or anything).
    pub fn sync_frame(&self, doc: &str, data: &[u8]) -> Vec<u8> {
        wire::encode(&wire::Message::Sync {
            sender_id: self.peer.clone(),
            target_id: self.server_peer.clone(),
            document_id: doc.to_string(),
            data: data.to_vec(),
        })
    }

    /// A `request` frame for `doc` (the sender has nothing of it yet).
    pub fn request_frame(&self, doc: &str) -> Vec<u8> {
        wire::encode(&wire::Message::Request {
            sender_id: self.peer.clone(),
            target_id: self.server_peer.clone(),
            document_id: doc.to_string(),
            data: empty_sync_message(),
        })
    }

    /// Writes a small document `doc` (`key` = `value`) as a client that created it would, and
    /// returns the server's first answer about it.
    pub async fn write(&mut self, doc: &str, key: &str, value: &str) -> Option<wire::Message> {
        let frame = self.sync_frame(doc, &sync_message_with_changes(key, value));
        self.send(frame).await;
        self.next_about(doc).await
    }
}

/// A valid sync message carrying the whole of a new document with `key` = `value` at its root,
/// as sent to a peer that has nothing of it.
pub fn sync_message_with_changes(key: &str, value: &str) -> Vec<u8> {
    use automerge::transaction::Transactable;
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, key, value).expect("put");
    sync_message_of_document(doc.document())
}

/// A valid sync message carrying every change of `doc`, as sent to a peer that has nothing of it.
pub fn sync_message_of_document(doc: &automerge::Automerge) -> Vec<u8> {
    use automerge::sync::SyncDoc;
    let mut doc = doc.clone();
    // What the other side says first when it has nothing; the answer carries every change.
    let mut theirs = automerge::sync::State::new();
    let hello = automerge::Automerge::new()
        .generate_sync_message(&mut theirs)
        .expect("first message");
    let mut state = automerge::sync::State::new();
    doc.receive_sync_message(&mut state, hello)
        .expect("receive");
    doc.generate_sync_message(&mut state)
        .expect("a message with changes")
        .encode()
}

/// A valid sync message of an empty document (what a `request` carries).
pub fn empty_sync_message() -> Vec<u8> {
    use automerge::sync::SyncDoc;
    let mut state = automerge::sync::State::new();
    automerge::Automerge::new()
        .generate_sync_message(&mut state)
        .expect("first message")
        .encode()
}

/// A sync message whose one change is `change` (raw bytes, e.g. a crasher of the corpus).
pub fn sync_message_of_change(change: &[u8]) -> Vec<u8> {
    automerge::sync::Message {
        heads: vec![],
        need: vec![],
        have: vec![],
        changes: automerge::sync::ChunkList::from(vec![change.to_vec()]),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    }
    .encode()
}
