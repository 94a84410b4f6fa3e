//! Test helpers: fresh PostgreSQL databases and SQLite directories.
#![allow(dead_code)]

use std::sync::Arc;

use sqlx::Connection;
use sync_server::storage::{DynStorage, PgStorage, SqliteStorage};

/// Admin URL of the test PostgreSQL server.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// `admin` with its database name replaced by `name` (query string kept).
pub fn with_database(admin: &str, name: &str) -> String {
    let host_start = admin.find("://").map(|i| i + 3).unwrap_or(0);
    let (head, tail) = admin.split_at(host_start);
    let query = tail.find('?').map(|q| &tail[q..]).unwrap_or("");
    let without_query = &tail[..tail.len() - query.len()];
    let host = without_query.split('/').next().unwrap_or("");
    format!("{head}{host}/{name}{query}")
}

/// A database created for one test and dropped when this guard drops.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    name: String,
}

impl TestDb {
    /// Creates a uniquely named database. Panics (fails the test) with
    /// instructions when PostgreSQL is unreachable.
    pub async fn create() -> TestDb {
        let admin = admin_url();
        let mut conn = match sqlx::PgConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot reach PostgreSQL at {admin}: {e}\n\
                 Start a PostgreSQL server (Debian: `sudo apt-get install -y postgresql && sudo service postgresql start`) \
                 or set DATABASE_URL to an admin URL; scripts/test does this for you."
            ),
        };
        let name = format!("sk_test_{}", uuid::Uuid::now_v7().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let url = with_database(&admin, &name);
        TestDb { url, name }
    }

    /// Migrated PostgreSQL storage on this database.
    pub async fn storage(&self) -> DynStorage {
        let s = PgStorage::connect(&self.url, 5)
            .await
            .expect("connect test db");
        sync_server::storage::Storage::migrate(&s)
            .await
            .expect("migrate postgres");
        Arc::new(s)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = admin_url();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
    }
}

/// Migrated SQLite storage in a fresh temporary directory (kept alive by the returned guard).
pub async fn sqlite_storage() -> (DynStorage, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = SqliteStorage::open(dir.path()).await.expect("open sqlite");
    sync_server::storage::Storage::migrate(&s)
        .await
        .expect("migrate sqlite");
    (Arc::new(s), dir)
}

/// Writes tenant `tenant` with store `store` straight into storage: the owners that rows of
/// a store need (every tenant-owned row leads its key with the store's tenant).
#[allow(dead_code)]
pub async fn tenant_and_store(s: &DynStorage, tenant: &str, store: &str) {
    use sync_server::storage::{StoreRow, Tenant};
    s.insert_tenant(&Tenant {
        id: tenant.into(),
        name: format!("tenant {tenant}"),
        created_at: 0,
    })
    .await
    .expect("insert tenant");
    s.insert_store(&StoreRow {
        id: store.into(),
        tenant_id: tenant.into(),
        code: store.to_uppercase(),
        name: format!("store {store}"),
        store_key: "k".into(),
        created_at: 0,
    })
    .await
    .expect("insert store");
}

// ------------------------------------------------------------------ servers

use std::net::SocketAddr;

use futures::{SinkExt, StreamExt};
use shared_model::wire;
use sync_server::auth::{Principal, Role};
use sync_server::config::Config;
use sync_server::service::Enrollment;
use sync_server::state::AppState;
use tokio_tungstenite::tungstenite::Message;

/// Logs to the test's output when `SNAPKASIR_TEST_LOG` is set (an env filter).
pub fn init_tracing() {
    if let Ok(filter) = std::env::var("SNAPKASIR_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}

/// A server on a loopback port, stopped on drop.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(storage: DynStorage) -> Self {
        Self::start_with(storage, Config::default()).await
    }

    pub async fn start_with(storage: DynStorage, config: Config) -> Self {
        init_tracing();
        let state = AppState::new(storage, Arc::new(config))
            .await
            .expect("app state");
        // Bound before serving: connections queue until accept, so the
        // server is ready as soon as this returns.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        Self::serve(listener, state)
    }

    /// A server that advertises its own `ws://…/sync` for instance peering.
    pub async fn start_clustered(storage: DynStorage) -> Self {
        init_tracing();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        let config = Config {
            advertise_url: Some(format!("ws://{addr}/sync")),
            ..Config::default()
        };
        let state = AppState::new(storage, Arc::new(config))
            .await
            .expect("app state");
        Self::serve(listener, state)
    }

    /// Serves `state` on `listener` until the returned server drops.
    fn serve(listener: tokio::net::TcpListener, state: AppState) -> Self {
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(sync_server::app::serve(
            listener,
            state.clone(),
            async move {
                let _ = rx.await;
            },
        ));
        TestServer {
            addr,
            state,
            stop: Some(tx),
        }
    }

    pub fn ws_url(&self, token: &str) -> String {
        format!("ws://{}/sync?token={}", self.addr, token)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A tenant with two stores, an owner and three enrolled terminals.
#[derive(Debug)]
pub struct Tenancy {
    pub tenant_id: String,
    pub store_id: String,
    pub store2_id: String,
    pub owner: Principal,
    pub owner_token: String,
    /// Two terminals of `store_id`.
    pub t1: Enrollment,
    pub t2: Enrollment,
    /// A terminal of `store2_id`.
    pub t_other_store: Enrollment,
}

pub async fn setup_tenant(state: &AppState, name: &str, code: &str) -> Tenancy {
    let s = &state.services;
    let email = format!("owner-{}@example.com", uuid::Uuid::now_v7().simple());
    let b = s
        .bootstrap(name, code, name, &email, "rahasia-123")
        .await
        .expect("bootstrap");
    let owner = Principal::User {
        user_id: b.owner_id.clone(),
        tenant_id: b.tenant_id.clone(),
        store_id: None,
        role: Role::Owner,
    };
    let store2 = s
        .create_store(&owner, &format!("{code}2"), "Second")
        .await
        .expect("store 2");
    let addr = "127.0.0.1".parse().unwrap();
    let enrol = async |store: &str, name: &str| {
        let c = s
            .create_enrollment_code(&owner, store, name)
            .await
            .expect("code");
        s.enroll(&c.code, None, addr).await.expect("enroll")
    };
    let t1 = enrol(&b.store_id, "Kasir 1").await;
    let t2 = enrol(&b.store_id, "Kasir 2").await;
    let t_other_store = enrol(&store2.id, "Kasir 3").await;
    let owner_token = s
        .login(&email, "rahasia-123", addr)
        .await
        .expect("login")
        .access_token;
    Tenancy {
        tenant_id: b.tenant_id,
        store_id: b.store_id,
        store2_id: store2.id,
        owner,
        owner_token,
        t1,
        t2,
        t_other_store,
    }
}

// ------------------------------------------------------------------ HTTP through the router

/// Sends one request through the router of `state` (no socket): a bearer `token` and a JSON
/// `body` when given. Returns the status and the raw response body.
pub async fn router_call(
    state: &AppState,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> (axum::http::StatusCode, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(axum::body::Body::from(b)),
        None => req.body(axum::body::Body::empty()),
    }
    .unwrap();
    let resp = sync_server::app::router(state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, bytes.to_vec())
}

/// A response body as JSON: `Null` when empty, the text as a JSON string when it is not JSON.
pub fn body_value(bytes: &[u8]) -> serde_json::Value {
    if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned())
        })
    }
}

// ------------------------------------------------------------------ rust client (samod)

pub use sync_server::sync::cluster::WsDialer;

/// A samod repo connected to `url` (handshake done).
pub async fn rust_client(url: &str) -> (samod::Repo, samod::DialerHandle<std::io::Error>) {
    let repo = samod::Repo::build_tokio().load().await;
    let dialer = Arc::new(WsDialer::new(samod::Url::parse(url).unwrap()));
    let backoff = samod::BackoffConfig {
        initial_delay: std::time::Duration::from_millis(100),
        max_delay: std::time::Duration::from_secs(1),
        max_retries: Some(3),
    };
    let handle = repo.dial(backoff, dialer).expect("dial");
    tokio::time::timeout(std::time::Duration::from_secs(10), handle.established())
        .await
        .expect("handshake in time")
        .expect("handshake");
    (repo, handle)
}

/// Asks `repo` for `id` every 50 ms until the server serves it; fails with `what` after `secs`.
pub async fn find_within(
    repo: &samod::Repo,
    id: &samod::DocumentId,
    secs: u64,
    what: &str,
) -> samod::DocHandle {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(d) = repo.find(id.clone()).await.unwrap() {
            return d;
        }
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Renames the SQLite chunk table in `dir` away (`away = true`) or back, through a connection
/// of its own: every storage operation on chunks fails meanwhile.
pub async fn chunk_table(dir: &std::path::Path, away: bool) {
    let raw = SqliteStorage::open(dir).await.unwrap();
    let sql = if away {
        "ALTER TABLE automerge_chunks RENAME TO chunks_away"
    } else {
        "ALTER TABLE chunks_away RENAME TO automerge_chunks"
    };
    sqlx::query(sql).execute(raw.pool()).await.unwrap();
}

/// Waits (bounded) until `f` holds for the document.
pub async fn wait_doc(
    doc: &samod::DocHandle,
    what: &str,
    f: impl Fn(&automerge::Automerge) -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if doc.with_document(|d| f(d)) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Reads a string field of the root map.
pub fn get_str(d: &automerge::Automerge, key: &str) -> Option<String> {
    use automerge::ReadDoc;
    match d.get(automerge::ROOT, key).ok()?? {
        (automerge::Value::Scalar(s), _) => match s.as_ref() {
            automerge::ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Puts a string field on the root map.
pub fn put_str(d: &mut automerge::Automerge, key: &str, value: &str) {
    use automerge::transaction::Transactable;
    d.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(automerge::ROOT, key, value)?;
        Ok(())
    })
    .expect("transact");
}

// ------------------------------------------------------------------ raw protocol client

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A hand-driven protocol client for bad-input and access-control tests.
pub struct RawClient {
    pub ws: Ws,
    pub peer: String,
    pub server_peer: String,
}

impl RawClient {
    /// Connects, joins, and waits for the server's `peer` reply.
    pub async fn connect(url: &str, peer: &str) -> RawClient {
        let (mut ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        ws.send(Message::Binary(join_frame(peer).into()))
            .await
            .unwrap();
        let mut c = RawClient {
            ws,
            peer: peer.to_string(),
            server_peer: String::new(),
        };
        let f = c.next_frame().await.expect("peer reply");
        assert_eq!(f.kind(), "peer", "{f:?}");
        c.server_peer = f.sender_id().unwrap().to_string();
        c
    }

    pub async fn send(&mut self, bytes: Vec<u8>) {
        // The server may already have closed; errors show up on read.
        let _ = self.ws.send(Message::Binary(bytes.into())).await;
    }

    /// Next decoded frame, `None` once closed. Times out after 10 s.
    pub async fn next_frame(&mut self) -> Option<wire::Message> {
        loop {
            let msg = tokio::time::timeout(std::time::Duration::from_secs(10), self.ws.next())
                .await
                .expect("frame in time");
            match msg {
                Some(Ok(Message::Binary(b))) => {
                    return Some(wire::decode(&b).expect("server frames decode"));
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => {}
            }
        }
    }

    /// Reads until an `error` frame and then the close; returns the error message.
    pub async fn expect_error_and_close(&mut self) -> String {
        let mut message = None;
        while let Some(f) = self.next_frame().await {
            if let wire::Message::Error { message: m } = f {
                message = Some(m);
            }
        }
        message.expect("an error frame before the close")
    }

    /// A sync frame for `doc` with `data`.
    pub fn sync_frame(&self, doc: &str, data: &[u8]) -> Vec<u8> {
        doc_frame("sync", &self.peer, &self.server_peer, doc, data)
    }

    /// A request frame for `doc`.
    pub fn request_frame(&self, doc: &str) -> Vec<u8> {
        doc_frame(
            "request",
            &self.peer,
            &self.server_peer,
            doc,
            &empty_sync_message(),
        )
    }
}

/// A `join` frame offering protocol version 1.
pub fn join_frame(peer: &str) -> Vec<u8> {
    wire::encode(&wire::Message::join(peer))
}

/// A `request` frame (`kind` "request") or a `sync` frame (any other `kind`).
pub fn doc_frame(kind: &str, sender: &str, target: &str, doc: &str, data: &[u8]) -> Vec<u8> {
    let (sender_id, target_id, document_id, data) =
        (sender.into(), target.into(), doc.into(), data.to_vec());
    wire::encode(&if kind == "request" {
        wire::Message::Request {
            sender_id,
            target_id,
            document_id,
            data,
        }
    } else {
        wire::Message::Sync {
            sender_id,
            target_id,
            document_id,
            data,
        }
    })
}

/// A valid sync message carrying the changes of a small document.
pub fn sync_message_with_changes() -> Vec<u8> {
    use automerge::sync::SyncDoc;
    let mut doc = automerge::Automerge::new();
    put_str(&mut doc, "evil", "write");
    let mut state = automerge::sync::State::new();
    // Pretend the other side has nothing so the changes are included.
    let other = automerge::Automerge::new();
    let mut other_state = automerge::sync::State::new();
    let m1 = other.generate_sync_message(&mut other_state).unwrap();
    doc.receive_sync_message(&mut state, m1).unwrap();
    doc.generate_sync_message(&mut state).unwrap().encode()
}

/// A valid sync message of an empty document.
pub fn empty_sync_message() -> Vec<u8> {
    use automerge::sync::SyncDoc;
    let doc = automerge::Automerge::new();
    let mut state = automerge::sync::State::new();
    doc.generate_sync_message(&mut state).unwrap().encode()
}

#[path = "../../../tests/corpus/automerge.rs"]
mod corpus;

/// The repository's automerge crasher corpus (`tests/corpus/automerge/`).
pub fn crashers() -> Vec<(String, Vec<u8>)> {
    corpus::crashers()
        .into_iter()
        .map(|(name, bytes)| (name.to_string(), bytes.to_vec()))
        .collect()
}

/// A call of the router as [`router_call`], with a JSON body given and the answer read as JSON.
pub async fn call(
    state: &AppState,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (axum::http::StatusCode, serde_json::Value) {
    let (status, bytes) =
        router_call(state, method, path, token, body.map(|b| b.to_string())).await;
    (status, body_value(&bytes))
}

/// A new document in a client repo holding `value`.
pub async fn create_doc<D: shared_model::documents::Document>(
    repo: &samod::Repo,
    value: &D,
) -> samod::DocHandle {
    let mut ac = shared_model::documents::create(value).unwrap();
    let doc = automerge::Automerge::load(&ac.save()).unwrap();
    repo.create(doc).await.unwrap()
}

/// Reads a client document as `D` (`None` while it does not read as one).
pub fn read_doc<D: shared_model::documents::Document>(h: &samod::DocHandle) -> Option<D> {
    h.with_document(|d| {
        let ac = automerge::AutoCommit::load(&d.save()).ok()?;
        shared_model::documents::read::<D>(&ac).ok()
    })
}

/// Calls `f` every 50 ms until it answers `Some`, for up to 20 s; fails the test naming `what`.
pub async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
