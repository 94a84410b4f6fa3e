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
//! Every connection is TLS 1.3 with mutual authentication ([`channel`]): each till presents a
//! certificate of its own Ed25519 key ([`LanIdentity`]) and accepts only the keys it trusts.
//! Inside the tunnel both ends also prove the store key (HMAC-SHA256, constant time) in proofs
//! that name the target's key and are bound to the TLS session's exported keying material, so a
//! proof is useless on any other connection or to any other till. See `docs/lan-sync.md`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{Instrument, info_span};

use super::client::{DeviceCredential, lock};
use crate::error::{CoreError, CoreResult};
use crate::terminal::Terminal;

mod channel;
mod discovery;
mod identity;
mod proof;
mod roster;
mod session;

use channel::Channel;
use discovery::discovery;
pub use identity::LanIdentity;
pub use proof::{Binding, DialProof, LanAuth, ProofError, StoreKey};
pub use roster::refresh_lan_info;
use session::{dial_loop, listen};

/// The mDNS service type terminals advertise.
pub const SERVICE_TYPE: &str = "_snapkasir._tcp.local.";
/// The scheme of the dialer's `Authorization` header.
pub const AUTH_SCHEME: &str = "SnapKasir-LAN";
/// The header carrying the acceptor's proof.
pub const PROOF_HEADER: &str = "x-snapkasir-lan";

const SYNC_META_KEY: &str = "store_key";
const SYNC_META_KEY_VERSION: &str = "store_key_version";

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
    /// The server to fetch the roster and store key from (`GET /api/v1/terminal/lan`): at
    /// start, when the roster names a newer store key than this till holds, and every
    /// `refresh_interval`. `None`: only what reaches the till otherwise (enrolment, the store
    /// root document).
    pub server: Option<LanServer>,
    pub refresh_interval: Duration,
}

/// Where the till's server is and how it proves itself there.
#[derive(Debug, Clone)]
pub struct LanServer {
    pub url: String,
    pub credential: DeviceCredential,
    pub ca_file: Option<PathBuf>,
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
            server: None,
            refresh_interval: Duration::from_secs(300),
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
    /// Connections refused: a failed TLS handshake (unknown key, garbage, a replay) or a
    /// store-key proof that did not verify.
    pub refused: u64,
    /// Peers found by mDNS (terminal codes).
    pub discovered: Vec<String>,
    pub last_error: Option<String>,
    /// The version of the verified roster this till honours.
    pub roster_version: Option<u64>,
    /// The version of the store key this till holds.
    pub store_key_version: u32,
}

struct Shared {
    terminal: Arc<Mutex<Terminal>>,
    config: LanConfig,
    auth: RwLock<LanAuth>,
    channel: Channel,
    local_peer: String,
    store_id: String,
    store_code: String,
    terminal_code: String,
    /// The roster version and store key version in force.
    loaded: Mutex<Option<(u64, u32)>>,
    /// Bumped when a new roster is in force: sessions check their peer is still in it.
    roster_changed: watch::Sender<u64>,
    peers: Mutex<BTreeMap<String, LanPeer>>,
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
        let has_roster = lock(&terminal).lan_roster()?.is_some();
        if !has_roster
            && let Some(server) = &config.server
            && let Err(e) = refresh_lan_info(
                &terminal,
                &server.url,
                &server.credential,
                server.ca_file.as_deref(),
            )
            .await
        {
            tracing::warn!(error = %e, "no LAN roster yet and the server gave none");
        }
        let (channel, local_peer, store_id, store_code, terminal_code) = {
            let mut t = lock(&terminal);
            if t.store_key()?.is_none() {
                return Err(CoreError::Sync(
                    "no store key: enrol this terminal before LAN sync".into(),
                ));
            }
            if t.lan_roster()?.is_none() {
                return Err(CoreError::Sync(
                    "no LAN roster: this till needs the store's roster from the server \
                     (GET /api/v1/terminal/lan) before LAN sync"
                        .into(),
                ));
            }
            let identity = t.lan_identity()?;
            let ident = t.identity()?;
            (
                Channel::new(&identity, &ident.terminal_code)?,
                format!("{}-{}", ident.store_code, ident.terminal_code),
                ident.store_id.clone(),
                ident.store_code.clone(),
                ident.terminal_code.clone(),
            )
        };
        // Replaced by `reload` below, before anything listens or dials.
        let auth = LanAuth::new(StoreKey::new("0".repeat(16))?, 0, &store_id, &terminal_code);
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
            auth: RwLock::new(auth),
            channel,
            local_peer,
            store_id,
            store_code,
            terminal_code,
            loaded: Mutex::new(None),
            roster_changed: watch::channel(0).0,
            peers: Mutex::new(BTreeMap::new()),
            dialing: Mutex::new(BTreeMap::new()),
            status: status_tx,
            changes: watch::channel(0).0,
            stop: stop_rx,
            tasks: Mutex::new(Vec::new()),
        });
        shared.reload()?;
        let span = info_span!("lan", terminal = %shared.local_peer);
        shared.spawn(watch_roster(shared.clone()).instrument(span.clone()));
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
    /// The proofs in force (the store key and its version change with the roster).
    fn auth(&self) -> LanAuth {
        self.auth.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts the till's latest verified roster and store key in force when they changed (trust,
    /// proofs, status) and tells the sessions. Returns whether the till should ask the server
    /// for news: the roster names a newer store key than it holds, or does not list this till's
    /// key.
    fn reload(&self) -> CoreResult<bool> {
        let own_key = proof::hex(&self.channel.own_key);
        let (roster, key, version, signing) = {
            let t = lock(&self.terminal);
            (
                t.lan_roster()?,
                t.store_key()?,
                t.store_key_version()?,
                t.lan_signing_key()?,
            )
        };
        let (Some(roster), Some(key), Some(signing)) = (roster, key, signing) else {
            return Ok(true);
        };
        let now = (roster.version, version);
        let changed = {
            let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
            loaded.replace(now) != Some(now)
        };
        if changed {
            self.channel.trust.set_roster(&roster);
            *self.auth.write().unwrap_or_else(|p| p.into_inner()) =
                LanAuth::new(key, version, &self.store_id, &self.terminal_code)
                    .knowing_version(roster.store_key_version)
                    .with_tag_key(&signing);
            self.publish(|s| {
                s.roster_version = Some(roster.version);
                s.store_key_version = version;
            });
            self.roster_changed.send_modify(|n| *n += 1);
            tracing::info!(
                roster = roster.version,
                store_key_version = version,
                "LAN roster in force"
            );
        }
        Ok(version < roster.store_key_version || !roster.trusts(&self.terminal_code, &own_key))
    }

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

    /// Checks a dialer's proof for this TLS session; `roster_code` is the terminal its
    /// certificate key belongs to in the roster.
    fn admit(
        &self,
        header: Option<&str>,
        binding: &Binding,
        roster_code: &str,
    ) -> Result<(String, String), String> {
        let (code, mac) = self
            .auth()
            .check_dial(header, binding)
            .map_err(|e| e.to_string())?;
        if code != roster_code {
            return Err(format!(
                "the peer proves terminal {code} with the key of another till"
            ));
        }
        if self.is_connected(&code) {
            return Err(format!("terminal {code} is already connected"));
        }
        Ok((code, mac))
    }
}

/// Keeps the roster in force: reloads it when the till took a newer one (from the store root
/// document or the server) and asks the server for news when there is a server to ask.
async fn watch_roster(shared: Arc<Shared>) {
    let mut stop = shared.stop.clone();
    let mut tick = tokio::time::interval(shared.config.poll_interval);
    let mut next_refresh = Instant::now() + shared.config.refresh_interval;
    let mut retry_at = Instant::now();
    let mut backoff = shared.config.min_backoff;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let stale = match shared.reload() {
            Ok(stale) => stale,
            Err(e) => {
                tracing::warn!(error = %e, "LAN roster could not be read");
                continue;
            }
        };
        let Some(server) = &shared.config.server else {
            continue;
        };
        let now = Instant::now();
        if !(stale || now >= next_refresh) || now < retry_at {
            continue;
        }
        match refresh_lan_info(
            &shared.terminal,
            &server.url,
            &server.credential,
            server.ca_file.as_deref(),
        )
        .await
        {
            Ok(_) => {
                next_refresh = Instant::now() + shared.config.refresh_interval;
                backoff = shared.config.min_backoff;
                let _ = shared.reload();
            }
            Err(e) => {
                tracing::debug!(error = %e, "LAN roster refresh failed");
                retry_at = Instant::now() + backoff;
                backoff = (backoff * 2).min(shared.config.max_backoff);
                shared.publish(|s| s.last_error = Some(e.to_string()));
            }
        }
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
