//! Terminal-to-terminal sync on the LAN, for when the server is unreachable.
//!
//! Every terminal of a store may listen for WebSocket connections from the store's other tills
//! ([`LanConfig::listen`]), dial configured peer addresses ([`LanConfig::peers`]) and, when
//! [`LanConfig::discovery`] is on, advertise itself and find its peers by mDNS
//! (`_snapkasir._tcp`). Each connection runs shared-model's sans-IO
//! [`Session`] over the terminal's documents (the same one the server connection runs), so
//! parked carts, journals (sales and their stock movements), stock adjustments and catalog edits
//! flow between tills; whatever reaches the server later, by any path, is deduplicated there by
//! automerge change hash and by sale id.
//!
//! Both ends prove that they hold the store key from enrolment before any document moves:
//! the dialer sends an HMAC-SHA256 proof in `Authorization`, the acceptor checks it (constant
//! time, ±5 minutes, never the same proof twice) and answers with its own proof bound to the
//! dialer's, so the dialer authenticates the acceptor too. See `docs/lan-sync.md`.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use shared_model::codec::now_ms;
use shared_model::sync_session::{Event, Session, SessionError, Step};
use shared_model::wire;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http;
use tracing::{Instrument, debug, info, info_span, warn};

use super::adapter::TerminalSyncStore;
use super::client::{Ws, lock, send};
use crate::error::{CoreError, CoreResult};
use crate::terminal::Terminal;

/// The mDNS service type terminals advertise.
pub const SERVICE_TYPE: &str = "_snapkasir._tcp.local.";
/// Proofs older or newer than this are refused.
pub const MAX_PROOF_AGE_MS: i64 = 5 * 60 * 1000;
/// The scheme of the dialer's `Authorization` header.
pub const AUTH_SCHEME: &str = "SnapKasir-LAN";
/// The header carrying the acceptor's proof.
pub const PROOF_HEADER: &str = "x-snapkasir-lan";

const SYNC_META_KEY: &str = "store_key";

/// The store key from enrolment: the secret the store's terminals share for LAN sync. Hidden
/// from `Debug`, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey(String);

impl StoreKey {
    pub fn new(key: impl Into<String>) -> CoreResult<StoreKey> {
        let key = key.into();
        if key.len() < 16 {
            return Err(CoreError::Invalid(
                "a store key has at least 16 characters".into(),
            ));
        }
        Ok(StoreKey(key))
    }

    fn mac(&self, message: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(message.as_bytes());
        mac
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(<hidden>)")
    }
}

impl Terminal {
    /// Keeps the store key from enrolment (in `sync_meta`, next to the documents).
    pub fn set_store_key(&mut self, key: &StoreKey) -> CoreResult<()> {
        self.set_sync_meta(SYNC_META_KEY, Some(&key.0))
    }

    /// The store key, if this terminal was enrolled with one.
    pub fn store_key(&self) -> CoreResult<Option<StoreKey>> {
        Ok(self.sync_meta(SYNC_META_KEY)?.map(StoreKey))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 32
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Why a proof was refused (said to the peer and logged; never contains the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("no LAN proof")]
    Missing,
    #[error("malformed LAN proof")]
    Malformed,
    #[error("LAN proof is outside the ±5 minute window (clock skew {0} ms)")]
    Stale(i64),
    #[error("LAN proof does not verify (not enrolled in this store)")]
    BadMac,
    #[error("LAN proof was already used")]
    Replayed,
    #[error("the peer claims this terminal's own code")]
    SelfConnection,
}

/// Makes and checks the proofs of one terminal (`docs/lan-sync.md`).
#[derive(Debug, Clone)]
pub struct LanAuth {
    key: StoreKey,
    store_id: String,
    terminal_code: String,
}

/// A dialer's proof as sent, kept to check the acceptor's answer.
#[derive(Debug, Clone)]
pub struct DialProof {
    pub header: String,
    mac: String,
}

impl LanAuth {
    pub fn new(key: StoreKey, store_id: &str, terminal_code: &str) -> LanAuth {
        LanAuth {
            key,
            store_id: store_id.into(),
            terminal_code: terminal_code.into(),
        }
    }

    fn dial_message(&self, code: &str, ms: i64, nonce: &str) -> String {
        format!("lan/v1/dial/{}/{code}/{ms}/{nonce}", self.store_id)
    }

    fn accept_message(&self, code: &str, ms: i64, dialer_mac: &str) -> String {
        format!("lan/v1/accept/{}/{code}/{ms}/{dialer_mac}", self.store_id)
    }

    /// The dialer's `Authorization` value:
    /// `SnapKasir-LAN <terminal code>:<unix ms>:<nonce hex>:<HMAC hex>`.
    pub fn dial_proof(&self, ms: i64) -> DialProof {
        let nonce = hex(&rand::rng().random::<[u8; 16]>());
        let mac = hex(&self
            .key
            .mac(&self.dial_message(&self.terminal_code, ms, &nonce))
            .finalize()
            .into_bytes());
        DialProof {
            header: format!("{AUTH_SCHEME} {}:{ms}:{nonce}:{mac}", self.terminal_code),
            mac,
        }
    }

    /// Checks a dialer's `Authorization` value; returns its terminal code and its MAC (the key
    /// of the replay cache and what the acceptor's proof is bound to).
    pub fn check_dial(
        &self,
        header: Option<&str>,
        now: i64,
    ) -> Result<(String, String), ProofError> {
        let header = header.ok_or(ProofError::Missing)?;
        let rest = header
            .strip_prefix(AUTH_SCHEME)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(ProofError::Malformed)?;
        let parts: Vec<&str> = rest.split(':').collect();
        let [code, ms, nonce, mac] = parts[..] else {
            return Err(ProofError::Malformed);
        };
        let ms: i64 = ms.parse().map_err(|_| ProofError::Malformed)?;
        if !valid_code(code) || nonce.len() != 32 || unhex(nonce).is_none() {
            return Err(ProofError::Malformed);
        }
        let mac_bytes = unhex(mac).ok_or(ProofError::Malformed)?;
        if (now - ms).abs() > MAX_PROOF_AGE_MS {
            return Err(ProofError::Stale(now - ms));
        }
        self.key
            .mac(&self.dial_message(code, ms, nonce))
            .verify_slice(&mac_bytes)
            .map_err(|_| ProofError::BadMac)?;
        if code == self.terminal_code {
            return Err(ProofError::SelfConnection);
        }
        Ok((code.to_string(), mac.to_ascii_lowercase()))
    }

    /// The acceptor's answer (`x-snapkasir-lan: <terminal code>:<unix ms>:<HMAC hex>`), bound to
    /// the dialer's MAC so it cannot be replayed to another dialer.
    pub fn accept_proof(&self, ms: i64, dialer_mac: &str) -> String {
        let mac = self
            .key
            .mac(&self.accept_message(&self.terminal_code, ms, dialer_mac))
            .finalize()
            .into_bytes();
        format!("{}:{ms}:{}", self.terminal_code, hex(&mac))
    }

    /// Checks the acceptor's answer to our proof; returns its terminal code.
    pub fn check_accept(
        &self,
        header: Option<&str>,
        sent: &DialProof,
        now: i64,
    ) -> Result<String, ProofError> {
        let header = header.ok_or(ProofError::Missing)?;
        let parts: Vec<&str> = header.split(':').collect();
        let [code, ms, mac] = parts[..] else {
            return Err(ProofError::Malformed);
        };
        let ms: i64 = ms.parse().map_err(|_| ProofError::Malformed)?;
        let mac = unhex(mac).ok_or(ProofError::Malformed)?;
        if !valid_code(code) {
            return Err(ProofError::Malformed);
        }
        if (now - ms).abs() > MAX_PROOF_AGE_MS {
            return Err(ProofError::Stale(now - ms));
        }
        self.key
            .mac(&self.accept_message(code, ms, &sent.mac))
            .verify_slice(&mac)
            .map_err(|_| ProofError::BadMac)?;
        if code == self.terminal_code {
            return Err(ProofError::SelfConnection);
        }
        Ok(code.to_string())
    }

    /// What the terminal advertises as its store in mDNS: an HMAC of the store id under the
    /// store key (16 hex digits), so that only the store's own tills can tell which store it is.
    pub fn store_tag(&self) -> String {
        let mac = self
            .key
            .mac(&format!("lan/v1/mdns/{}", self.store_id))
            .finalize()
            .into_bytes();
        hex(&mac[..8])
    }

    /// The TXT records of this terminal's mDNS advert.
    pub fn txt_records(&self) -> Vec<(String, String)> {
        vec![
            ("v".into(), "1".into()),
            ("store".into(), self.store_tag()),
            ("code".into(), self.terminal_code.clone()),
        ]
    }

    /// The terminal code of a discovered advert if it is another terminal of this store.
    pub fn peer_of_advert(&self, txt: &HashMap<String, String>) -> Option<String> {
        if txt.get("v").map(String::as_str) != Some("1") {
            return None;
        }
        if txt.get("store")? != &self.store_tag() {
            return None;
        }
        let code = txt.get("code")?;
        (valid_code(code) && *code != self.terminal_code).then(|| code.clone())
    }

    /// Whether this terminal dials a discovered peer: of two tills that both discover each
    /// other, the one with the smaller code dials, so they open one connection, not two.
    pub fn dials_discovered(&self, peer_code: &str) -> bool {
        self.terminal_code.as_str() < peer_code
    }
}

/// How the LAN sync runs.
#[derive(Debug, Clone)]
pub struct LanConfig {
    /// Where to accept peers (e.g. `0.0.0.0:47470`; port 0 picks a free one). `None`: dial only.
    pub listen: Option<SocketAddr>,
    /// Peer addresses to dial (`host:port`).
    pub peers: Vec<String>,
    /// Advertise and discover peers by mDNS.
    pub discovery: bool,
    pub poll_interval: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    pub connect_timeout: Duration,
    /// A connection that receives nothing (not even a pong) for this long is dropped.
    pub idle_timeout: Duration,
    /// How often every document is offered to the peer again (anti-entropy).
    pub resync_interval: Duration,
}

impl Default for LanConfig {
    fn default() -> LanConfig {
        LanConfig {
            listen: None,
            peers: Vec::new(),
            discovery: false,
            poll_interval: Duration::from_millis(250),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(15),
            resync_interval: Duration::from_secs(30),
        }
    }
}

/// A peer connected now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanPeer {
    pub terminal_code: String,
    pub address: String,
    /// The peer dialed us.
    pub inbound: bool,
}

/// What the cashier's screen (and the tests) see of the LAN sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanStatus {
    pub listening: Option<SocketAddr>,
    pub peers: Vec<LanPeer>,
    /// Connections refused because they did not prove the store key.
    pub refused: u64,
    /// Peers found by mDNS (terminal codes).
    pub discovered: Vec<String>,
    pub last_error: Option<String>,
}

struct Shared {
    terminal: Arc<Mutex<Terminal>>,
    config: LanConfig,
    auth: LanAuth,
    local_peer: String,
    store_code: String,
    peers: Mutex<BTreeMap<String, LanPeer>>,
    /// Dialer MACs seen recently, with when they stop being fresh.
    seen: Mutex<HashMap<String, i64>>,
    /// Discovered peers with a dial task, and where they were last seen.
    dialing: Mutex<BTreeMap<String, watch::Sender<String>>>,
    status: watch::Sender<LanStatus>,
    /// Bumped whenever documents may have changed (locally or from a peer).
    changes: watch::Sender<u64>,
    stop: watch::Receiver<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("local_peer", &self.local_peer)
            .finish_non_exhaustive()
    }
}

/// The running LAN sync. Dropping it stops everything.
pub struct LanSync {
    shared: Arc<Shared>,
    status: watch::Receiver<LanStatus>,
    stop: watch::Sender<bool>,
    local_addr: Option<SocketAddr>,
    mdns: Option<mdns_sd::ServiceDaemon>,
}

impl std::fmt::Debug for LanSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanSync")
            .field("local_addr", &self.local_addr)
            .field("discovery", &self.mdns.is_some())
            .finish_non_exhaustive()
    }
}

impl LanSync {
    /// Binds the listener (if any) and starts dialing and discovery on the current runtime.
    /// Fails when the terminal has no store key.
    pub async fn start(terminal: Arc<Mutex<Terminal>>, config: LanConfig) -> CoreResult<LanSync> {
        let (auth, local_peer, store_code) = {
            let t = lock(&terminal);
            let ident = t.identity()?;
            let key = t.store_key()?.ok_or_else(|| {
                CoreError::Sync("no store key: enrol this terminal before LAN sync".into())
            })?;
            (
                LanAuth::new(key, &ident.store_id, &ident.terminal_code),
                format!("{}-{}", ident.store_code, ident.terminal_code),
                ident.store_code.clone(),
            )
        };
        let listener = match config.listen {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let local_addr = listener.as_ref().map(|l| l.local_addr()).transpose()?;
        let (status_tx, status) = watch::channel(LanStatus {
            listening: local_addr,
            ..LanStatus::default()
        });
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            terminal,
            config,
            auth,
            local_peer,
            store_code,
            peers: Mutex::new(BTreeMap::new()),
            seen: Mutex::new(HashMap::new()),
            dialing: Mutex::new(BTreeMap::new()),
            status: status_tx,
            changes: watch::channel(0).0,
            stop: stop_rx,
            tasks: Mutex::new(Vec::new()),
        });
        let span = info_span!("lan", terminal = %shared.local_peer);
        if let Some(listener) = listener {
            shared.spawn(listen(shared.clone(), listener).instrument(span.clone()));
        }
        for addr in shared.config.peers.clone() {
            let (_, addr) = watch::channel(addr);
            shared.spawn(dial_loop(shared.clone(), addr, None).instrument(span.clone()));
        }
        let mdns = match (shared.config.discovery, local_addr) {
            (true, Some(addr)) => Some(discovery(shared.clone(), addr, span)?),
            (true, None) => {
                return Err(CoreError::Sync(
                    "mDNS discovery needs a listening address".into(),
                ));
            }
            _ => None,
        };
        Ok(LanSync {
            shared,
            status,
            stop,
            local_addr,
            mdns,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    pub fn status(&self) -> LanStatus {
        self.status.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<LanStatus> {
        self.status.clone()
    }

    /// Tells every peer session something changed locally (e.g. after a checkout).
    pub fn nudge(&self) {
        self.shared.changes.send_modify(|n| *n += 1);
    }

    /// Stops listening, dialing and advertising, and closes every connection.
    pub async fn stop(mut self) {
        self.shutdown();
        let tasks: Vec<_> =
            std::mem::take(&mut *self.shared.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
        }
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(d) = self.mdns.take() {
            let _ = d.shutdown();
        }
    }
}

impl Drop for LanSync {
    fn drop(&mut self) {
        self.shutdown();
        for t in self
            .shared
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }
}

impl Shared {
    fn spawn(&self, f: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.retain(|t| !t.is_finished());
        tasks.push(tokio::spawn(f));
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    fn publish(&self, f: impl FnOnce(&mut LanStatus)) {
        let peers: Vec<LanPeer> = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        self.status.send_if_modified(|s| {
            let before = s.clone();
            s.peers = peers;
            f(s);
            *s != before
        });
    }

    fn is_connected(&self, code: &str) -> bool {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(code)
    }

    /// Records a connected peer; one connection per peer at a time.
    fn register(self: &Arc<Self>, peer: LanPeer) -> CoreResult<PeerGuard> {
        let code = peer.terminal_code.clone();
        {
            let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
            if peers.contains_key(&code) {
                return Err(CoreError::Sync(format!(
                    "already connected to terminal {code}"
                )));
            }
            peers.insert(code.clone(), peer);
        }
        self.publish(|_| {});
        Ok(PeerGuard {
            shared: self.clone(),
            code,
        })
    }

    /// Checks a dialer's proof, and that it was not used before.
    fn admit(&self, header: Option<&str>) -> Result<(String, String), String> {
        let now = now_ms();
        let (code, mac) = self
            .auth
            .check_dial(header, now)
            .map_err(|e| e.to_string())?;
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.retain(|_, until| *until >= now);
            if seen.contains_key(&mac) {
                return Err(ProofError::Replayed.to_string());
            }
            seen.insert(mac.clone(), now + 2 * MAX_PROOF_AGE_MS);
        }
        if self.is_connected(&code) {
            return Err(format!("terminal {code} is already connected"));
        }
        Ok((code, mac))
    }
}

struct PeerGuard {
    shared: Arc<Shared>,
    code: String,
}

impl Drop for PeerGuard {
    fn drop(&mut self) {
        self.shared
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.code);
        self.shared.publish(|_| {});
    }
}

async fn listen(shared: Arc<Shared>, listener: TcpListener) {
    let mut stop = shared.stop.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, addr)) => {
                    let s = shared.clone();
                    shared.spawn(async move {
                        if let Err(e) = inbound(s.clone(), tcp, addr).await {
                            debug!(peer = %addr, error = %e, "LAN connection ended");
                            s.publish(|st| st.last_error = Some(e.to_string()));
                        }
                    }.in_current_span());
                }
                Err(e) => {
                    warn!(error = %e, "LAN accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

// The handshake callback's error type is tungstenite's `ErrorResponse`, large by its nature.
#[allow(clippy::result_large_err)]
async fn inbound(shared: Arc<Shared>, tcp: TcpStream, addr: SocketAddr) -> CoreResult<()> {
    let _ = tcp.set_nodelay(true);
    let admitted: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let callback = {
        let shared = shared.clone();
        let admitted = admitted.clone();
        move |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
            let header = req
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            match shared.admit(header) {
                Ok((code, mac)) => {
                    let proof = shared.auth.accept_proof(now_ms(), &mac);
                    if let Ok(v) = http::HeaderValue::from_str(&proof) {
                        resp.headers_mut().insert(PROOF_HEADER, v);
                    }
                    *admitted.lock().unwrap_or_else(|p| p.into_inner()) = Some(code);
                    Ok(resp)
                }
                Err(reason) => {
                    warn!(peer = %addr, %reason, "LAN peer refused");
                    shared.publish(|s| s.refused += 1);
                    let mut r = ErrorResponse::new(Some(reason));
                    *r.status_mut() = http::StatusCode::UNAUTHORIZED;
                    Err(r)
                }
            }
        }
    };
    let ws = tokio::time::timeout(
        shared.config.connect_timeout,
        tokio_tungstenite::accept_hdr_async(MaybeTlsStream::Plain(tcp), callback),
    )
    .await
    .map_err(|_| CoreError::Sync("LAN handshake timed out".into()))?
    .map_err(|e| CoreError::Sync(format!("LAN handshake: {e}")))?;
    let code = admitted
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(|| CoreError::Sync("LAN peer not admitted".into()))?;
    let _guard = shared.register(LanPeer {
        terminal_code: code.clone(),
        address: addr.to_string(),
        inbound: true,
    })?;
    info!(peer = %code, address = %addr, "LAN peer connected (inbound)");
    let session = Session::accept(&shared.local_peer);
    run_session(&shared, ws, session, Vec::new(), &code).await
}

/// Dials one peer address (a discovered peer's may change: the latest advert wins).
async fn dial_loop(shared: Arc<Shared>, addr: watch::Receiver<String>, mut known: Option<String>) {
    let mut backoff = shared.config.min_backoff;
    let mut stop = shared.stop.clone();
    loop {
        if shared.stopped() {
            return;
        }
        // The peer behind this address is connected already (it dialed us): wait.
        if known.as_deref().is_some_and(|c| shared.is_connected(c)) {
            tokio::select! {
                _ = tokio::time::sleep(shared.config.poll_interval) => continue,
                _ = stop.changed() => return,
            }
        }
        let started = Instant::now();
        let addr = addr.borrow().clone();
        let result = dial_once(&shared, &addr, &mut known).await;
        if let Err(e) = &result {
            debug!(address = %addr, error = %e, "LAN dial ended");
            shared.publish(|s| s.last_error = Some(e.to_string()));
        }
        if shared.stopped() {
            return;
        }
        if started.elapsed() > shared.config.idle_timeout {
            backoff = shared.config.min_backoff;
        }
        let jittered = backoff.mul_f64(rand::rng().random_range(0.5..1.0));
        tokio::select! {
            _ = tokio::time::sleep(jittered) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(shared.config.max_backoff);
    }
}

async fn dial_once(shared: &Arc<Shared>, addr: &str, known: &mut Option<String>) -> CoreResult<()> {
    let proof = shared.auth.dial_proof(now_ms());
    let mut request = format!("ws://{addr}/lan")
        .into_client_request()
        .map_err(|e| CoreError::Sync(format!("bad LAN peer address {addr}: {e}")))?;
    request.headers_mut().insert(
        http::header::AUTHORIZATION,
        http::HeaderValue::from_str(&proof.header)
            .map_err(|_| CoreError::Sync("LAN proof is not a valid header".into()))?,
    );
    let (ws, response) = tokio::time::timeout(
        shared.config.connect_timeout,
        tokio_tungstenite::connect_async(request),
    )
    .await
    .map_err(|_| CoreError::Sync(format!("LAN connect to {addr} timed out")))?
    .map_err(|e| CoreError::Sync(format!("LAN connect to {addr}: {e}")))?;
    if let MaybeTlsStream::Plain(tcp) = ws.get_ref() {
        let _ = tcp.set_nodelay(true);
    }
    let answer = response
        .headers()
        .get(PROOF_HEADER)
        .and_then(|v| v.to_str().ok());
    let code = match shared.auth.check_accept(answer, &proof, now_ms()) {
        Ok(code) => code,
        Err(e) => {
            warn!(address = %addr, reason = %e, "LAN peer did not prove the store key");
            shared.publish(|s| s.refused += 1);
            return Err(CoreError::Sync(format!("LAN peer at {addr}: {e}")));
        }
    };
    *known = Some(code.clone());
    let _guard = shared.register(LanPeer {
        terminal_code: code.clone(),
        address: addr.to_string(),
        inbound: false,
    })?;
    info!(peer = %code, address = %addr, "LAN peer connected (outbound)");
    let (session, join) = Session::dial(&shared.local_peer);
    run_session(shared, ws, session, vec![join], &code).await
}

/// One synchronous session step with the terminal locked.
fn step(
    shared: &Shared,
    pending: &mut HashMap<String, automerge::AutoCommit>,
    session: &mut Session,
    f: impl FnOnce(&mut Session, &mut TerminalSyncStore<'_>) -> Result<Step, SessionError>,
) -> CoreResult<Step> {
    let mut t = lock(&shared.terminal);
    let mut store = TerminalSyncStore {
        terminal: &mut t,
        pending,
    };
    f(session, &mut store).map_err(|e| CoreError::Sync(e.to_string()))
}

async fn run_session(
    shared: &Arc<Shared>,
    mut ws: Ws,
    mut session: Session,
    first: Vec<wire::Message>,
    code: &str,
) -> CoreResult<()> {
    let expected_peer = format!("{}-{code}", shared.store_code);
    let mut pending = HashMap::new();
    let config = &shared.config;
    send(&mut ws, first).await?;
    let mut poll = tokio::time::interval(config.poll_interval);
    let mut ping = tokio::time::interval(config.idle_timeout / 3);
    let mut resync = tokio::time::interval(config.resync_interval);
    resync.tick().await;
    let mut changes = shared.changes.subscribe();
    let mut stop = shared.stop.clone();
    let mut last_received = Instant::now();
    loop {
        let local = tokio::select! {
            frame = ws.next() => {
                last_received = Instant::now();
                let bytes = match frame {
                    None => return Err(CoreError::Sync(format!("LAN peer {code} closed the connection"))),
                    Some(Err(e)) => return Err(CoreError::Sync(format!("LAN connection to {code}: {e}"))),
                    Some(Ok(WsMessage::Binary(b))) => b,
                    Some(Ok(WsMessage::Close(_))) => return Err(CoreError::Sync(format!("LAN peer {code} closed the connection"))),
                    Some(Ok(WsMessage::Text(_))) => return Err(CoreError::Sync(format!("text frame from LAN peer {code}"))),
                    Some(Ok(_)) => continue,
                };
                let message = wire::decode(&bytes).map_err(|e| CoreError::Sync(e.to_string()))?;
                let step = step(shared, &mut pending, &mut session, |s, store| s.handle(message, store))?;
                let mut changed = false;
                for event in &step.events {
                    match event {
                        Event::Connected { peer } if *peer != expected_peer => {
                            return Err(CoreError::Sync(format!(
                                "LAN peer authenticated as {code} joined as {peer:?}"
                            )));
                        }
                        Event::Changed { .. } => changed = true,
                        _ => {}
                    }
                }
                send(&mut ws, step.send).await?;
                if changed {
                    // Relay to the other peers at once.
                    shared.changes.send_modify(|n| *n += 1);
                }
                false
            }
            _ = poll.tick() => {
                if last_received.elapsed() > config.idle_timeout {
                    return Err(CoreError::Sync(format!("no answer from LAN peer {code}")));
                }
                true
            }
            _ = changes.changed() => true,
            _ = resync.tick() => {
                session.resync();
                true
            }
            _ = ping.tick() => {
                ws.send(WsMessage::Ping(Vec::new().into()))
                    .await
                    .map_err(|e| CoreError::Sync(format!("send: {e}")))?;
                false
            }
            _ = stop.changed() => {
                let _ = ws.close(None).await;
                return Ok(());
            }
        };
        if local && session.is_connected() {
            {
                let mut t = lock(&shared.terminal);
                t.register_journals_in_period_indexes()?;
            }
            let step = step(shared, &mut pending, &mut session, |s, store| s.poll(store))?;
            send(&mut ws, step.send).await?;
        }
    }
}

/// Advertises this terminal and dials the store's peers it finds (the smaller code dials).
fn discovery(
    shared: Arc<Shared>,
    addr: SocketAddr,
    span: tracing::Span,
) -> CoreResult<mdns_sd::ServiceDaemon> {
    let mdns_err = |e: mdns_sd::Error| CoreError::Sync(format!("mDNS: {e}"));
    let daemon = mdns_sd::ServiceDaemon::new().map_err(mdns_err)?;
    let tag = shared.auth.store_tag();
    let instance = format!("snapkasir-{tag}-{}", shared.auth.terminal_code);
    let host = format!("{instance}.local.");
    let ip = addr.ip();
    let info = if ip.is_unspecified() {
        mdns_sd::ServiceInfo::new(
            SERVICE_TYPE,
            &instance,
            &host,
            "",
            addr.port(),
            &shared.auth.txt_records()[..],
        )
        .map(mdns_sd::ServiceInfo::enable_addr_auto)
    } else {
        if ip.is_loopback() {
            daemon
                .enable_interface(mdns_sd::IfKind::LoopbackV4)
                .map_err(mdns_err)?;
        }
        mdns_sd::ServiceInfo::new(
            SERVICE_TYPE,
            &instance,
            &host,
            ip,
            addr.port(),
            &shared.auth.txt_records()[..],
        )
    }
    .map_err(mdns_err)?;
    daemon.register(info).map_err(mdns_err)?;
    let events = daemon.browse(SERVICE_TYPE).map_err(mdns_err)?;
    let s = shared.clone();
    shared.spawn(
        async move {
            let mut stop = s.stop.clone();
            loop {
                let event = tokio::select! {
                    e = events.recv_async() => match e { Ok(e) => e, Err(_) => return },
                    _ = stop.changed() => return,
                };
                let mdns_sd::ServiceEvent::ServiceResolved(found) = event else {
                    continue;
                };
                let txt: HashMap<String, String> = found
                    .get_properties()
                    .iter()
                    .map(|p| (p.key().to_string(), p.val_str().to_string()))
                    .collect();
                let Some(code) = s.auth.peer_of_advert(&txt) else {
                    continue;
                };
                let Some(ip) = found
                    .get_addresses_v4()
                    .into_iter()
                    .map(IpAddr::V4)
                    .min_by_key(|ip| !ip.is_loopback())
                else {
                    continue;
                };
                let peer_addr = SocketAddr::new(ip, found.get_port()).to_string();
                s.publish(|st| {
                    if !st.discovered.contains(&code) {
                        st.discovered.push(code.clone());
                    }
                });
                if !s.auth.dials_discovered(&code) {
                    continue;
                }
                let new = {
                    let mut dialing = s.dialing.lock().unwrap_or_else(|p| p.into_inner());
                    match dialing.get(&code) {
                        Some(tx) => {
                            tx.send_if_modified(|a| {
                                let moved = *a != peer_addr;
                                if moved {
                                    a.clone_from(&peer_addr);
                                }
                                moved
                            });
                            None
                        }
                        None => {
                            let (tx, rx) = watch::channel(peer_addr.clone());
                            dialing.insert(code.clone(), tx);
                            Some(rx)
                        }
                    }
                };
                let Some(rx) = new else { continue };
                info!(peer = %code, address = %peer_addr, "LAN peer discovered");
                s.spawn(dial_loop(s.clone(), rx, Some(code)).in_current_span());
            }
        }
        .instrument(span),
    );
    Ok(daemon)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(key: &str, code: &str) -> LanAuth {
        LanAuth::new(StoreKey::new(key).unwrap(), "store-1", code)
    }

    #[test]
    fn lan_proofs_authenticate_both_ends() {
        let a = auth("kunci-toko-rahasia-1", "T1");
        let b = auth("kunci-toko-rahasia-1", "T2");
        let now = now_ms();
        let proof = a.dial_proof(now);
        let (code, mac) = b.check_dial(Some(&proof.header), now + 1000).unwrap();
        assert_eq!(code, "T1");
        let answer = b.accept_proof(now, &mac);
        assert_eq!(a.check_accept(Some(&answer), &proof, now).unwrap(), "T2");
        // The answer is bound to the dialer's proof: it does not verify another dial.
        let other = a.dial_proof(now);
        assert_eq!(
            a.check_accept(Some(&answer), &other, now),
            Err(ProofError::BadMac)
        );
    }

    #[test]
    fn lan_proofs_refuse_wrong_key_stale_tampered_and_self() {
        let a = auth("kunci-toko-rahasia-1", "T1");
        let b = auth("kunci-toko-rahasia-1", "T2");
        let stranger = auth("kunci-toko-lain-0000", "T9");
        let now = now_ms();
        let p = stranger.dial_proof(now);
        assert_eq!(b.check_dial(Some(&p.header), now), Err(ProofError::BadMac));
        let p = a.dial_proof(now - MAX_PROOF_AGE_MS - 1);
        assert!(matches!(
            b.check_dial(Some(&p.header), now),
            Err(ProofError::Stale(_))
        ));
        let p = a.dial_proof(now);
        let tampered = p.header.replacen("T1:", "T3:", 1);
        assert_eq!(b.check_dial(Some(&tampered), now), Err(ProofError::BadMac));
        assert_eq!(b.check_dial(None, now), Err(ProofError::Missing));
        assert_eq!(
            b.check_dial(Some("Bearer abc"), now),
            Err(ProofError::Malformed)
        );
        assert_eq!(
            a.check_dial(Some(&p.header), now),
            Err(ProofError::SelfConnection)
        );
        // A stranger cannot answer as an acceptor of this store either.
        let (_, mac) = b.check_dial(Some(&p.header), now).unwrap();
        let fake = stranger.accept_proof(now, &mac);
        assert_eq!(
            a.check_accept(Some(&fake), &p, now),
            Err(ProofError::BadMac)
        );
    }

    #[test]
    fn lan_store_key_is_hidden_from_debug() {
        let k = StoreKey::new("kunci-toko-rahasia-1").unwrap();
        assert!(!format!("{k:?}").contains("rahasia"));
        assert!(!format!("{:?}", auth("kunci-toko-rahasia-1", "T1")).contains("rahasia"));
        assert!(StoreKey::new("short").is_err());
    }

    #[test]
    fn lan_discovery_keeps_only_peers_of_the_same_store() {
        let a = auth("kunci-toko-rahasia-1", "T1");
        let b = auth("kunci-toko-rahasia-1", "T2");
        let other_store = LanAuth::new(
            StoreKey::new("kunci-toko-rahasia-1").unwrap(),
            "store-2",
            "T2",
        );
        let other_key = auth("kunci-toko-lain-0000", "T2");
        let map =
            |a: &LanAuth| -> HashMap<String, String> { a.txt_records().into_iter().collect() };
        assert_eq!(a.peer_of_advert(&map(&b)), Some("T2".into()));
        assert_eq!(b.peer_of_advert(&map(&a)), Some("T1".into()));
        assert_eq!(a.peer_of_advert(&map(&a)), None, "itself");
        assert_eq!(a.peer_of_advert(&map(&other_store)), None);
        assert_eq!(a.peer_of_advert(&map(&other_key)), None);
        // The advert does not carry the store id.
        assert!(map(&a).values().all(|v| !v.contains("store-1")));
        let mut bad = map(&b);
        bad.insert("code".into(), "T2:evil".into());
        assert_eq!(a.peer_of_advert(&bad), None);
        let mut v2 = map(&b);
        v2.insert("v".into(), "2".into());
        assert_eq!(a.peer_of_advert(&v2), None);
        // Exactly one of two tills dials the other.
        assert!(a.dials_discovered("T2") != b.dials_discovered("T1"));
    }
}
