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
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{Instrument, info_span};

use super::client::lock;
use crate::error::{CoreError, CoreResult};
use crate::terminal::Terminal;

mod discovery;
mod proof;
mod session;

use discovery::discovery;
use proof::now_ms;
pub use proof::{DialProof, LanAuth, ProofError, StoreKey};
use session::{dial_loop, listen};

/// The mDNS service type terminals advertise.
pub const SERVICE_TYPE: &str = "_snapkasir._tcp.local.";
/// Proofs older or newer than this are refused.
pub const MAX_PROOF_AGE_MS: i64 = 5 * 60 * 1000;
/// The scheme of the dialer's `Authorization` header.
pub const AUTH_SCHEME: &str = "SnapKasir-LAN";
/// The header carrying the acceptor's proof.
pub const PROOF_HEADER: &str = "x-snapkasir-lan";

const SYNC_META_KEY: &str = "store_key";

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
