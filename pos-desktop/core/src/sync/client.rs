//! The connection loop: one WebSocket to the sync server at a time, reconnected with jittered
//! exponential backoff; the protocol work is shared-model's sans-IO session over
//! [`TerminalSyncStore`]. The terminal is locked only for the short, synchronous steps between
//! awaits, never across one, so a checkout waits at most for one step.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use rand::Rng;
use shared_model::codec::Timestamp;
use shared_model::heartbeat::{HeartbeatRequest, HeartbeatResponse};
use shared_model::sync_session::{Session, Step};
use shared_model::wire;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tracing::{debug, info, warn};

use super::adapter::TerminalSyncStore;
use super::{MAX_CLOCK_SKEW_MS, SyncStatus};
use crate::error::{CoreError, CoreResult};
use crate::terminal::Terminal;

/// The device credential from enrolment. Hidden from `Debug`.
#[derive(Clone)]
pub struct DeviceCredential(pub String);

impl std::fmt::Debug for DeviceCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceCredential(<hidden>)")
    }
}

#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// The server's base URL, `http://host:port` (the WebSocket is `ws://host:port/sync`), or
    /// `https://host:port` for TLS (`wss://…/sync`, see [`super::tls`]). `ws://` and `wss://`
    /// are taken too.
    pub server_url: String,
    pub credential: DeviceCredential,
    /// A PEM file of CA certificates trusted besides the system's, for a store whose server has
    /// a certificate from its own (private) CA. Only used with `https://`.
    pub ca_file: Option<PathBuf>,
    /// How often local changes are looked for (a nudge after a checkout sends at once).
    pub poll_interval: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    pub connect_timeout: Duration,
    /// A connection that receives nothing (not even a pong) for this long is dropped.
    pub idle_timeout: Duration,
    /// How often every document is offered to the server again (anti-entropy).
    pub resync_interval: Duration,
    /// How often waiting sales are reported and acknowledgements asked for.
    pub heartbeat_interval: Duration,
    /// How many unacknowledged sales one heartbeat asks about (the server takes at most 1,000).
    /// When a whole page comes back acknowledged the next heartbeat goes at once, so a day's
    /// backlog is confirmed in a few round trips rather than one page per interval.
    pub heartbeat_page: usize,
    /// Warn the cashier after this long without a complete sync.
    pub offline_warning_after: Duration,
    /// Warn the cashier when more sales than this wait.
    pub waiting_warning_threshold: u64,
    /// How often queued email receipts are looked for ([`crate::receipt_mail`]).
    pub email_interval: Duration,
    /// The document schema this till writes, sent when it connects
    /// ([`shared_model::compat`]): this build's, unless a test plays an older or newer till.
    pub schema_version: u64,
}

impl SyncConfig {
    pub fn new(server_url: &str, credential: DeviceCredential) -> SyncConfig {
        SyncConfig {
            server_url: server_url.trim_end_matches('/').to_string(),
            credential,
            ca_file: None,
            poll_interval: Duration::from_millis(250),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(15),
            heartbeat_interval: Duration::from_secs(2),
            heartbeat_page: 1000,
            resync_interval: Duration::from_secs(30),
            offline_warning_after: Duration::from_secs(24 * 3600),
            waiting_warning_threshold: 500,
            email_interval: Duration::from_secs(1),
            schema_version: shared_model::documents::SCHEMA_VERSION,
        }
    }

    fn ws_url(&self) -> String {
        let base = if let Some(rest) = self.server_url.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.server_url.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.server_url.clone()
        };
        format!("{base}/sync")
    }

    /// The base of the HTTP calls (`ws://` and `wss://` server URLs turned into `http(s)://`).
    pub(crate) fn http_url(&self) -> String {
        if let Some(rest) = self.server_url.strip_prefix("wss://") {
            format!("https://{rest}")
        } else if let Some(rest) = self.server_url.strip_prefix("ws://") {
            format!("http://{rest}")
        } else {
            self.server_url.clone()
        }
    }
}

/// The running client. Dropping it stops the loop.
#[derive(Debug)]
pub struct SyncClient {
    status: watch::Receiver<SyncStatus>,
    nudge: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    /// The email receipts' sender ([`crate::receipt_mail::run`]).
    mail_task: Option<JoinHandle<()>>,
}

impl SyncClient {
    /// Starts syncing in the background on the current tokio runtime.
    pub fn start(terminal: Arc<Mutex<Terminal>>, config: SyncConfig) -> SyncClient {
        let (status_tx, status) = watch::channel(SyncStatus::default());
        let nudge = Arc::new(Notify::new());
        // Every committed journal record wakes the client, whichever shell made it.
        lock(&terminal).set_sync_nudge(Arc::downgrade(&nudge));
        let (stop, stop_rx) = watch::channel(false);
        let mail_task = tokio::spawn(crate::receipt_mail::run(
            terminal.clone(),
            config.clone(),
            stop_rx.clone(),
        ));
        let worker = Worker {
            terminal,
            config,
            status: status_tx,
            nudge: nudge.clone(),
            stop: stop_rx,
            pending: HashMap::new(),
            outdated: None,
        };
        let task = tokio::spawn(worker.run());
        SyncClient {
            status,
            nudge,
            stop,
            task: Some(task),
            mail_task: Some(mail_task),
        }
    }

    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Tells the client something changed locally. Checkout, refunds, voids, shifts and cash
    /// movements of the terminal it was started with do this themselves.
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// Stops the loop and waits for it.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(task) = self.mail_task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SyncClient {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(task) = self.mail_task.take() {
            task.abort();
        }
    }
}

struct Worker {
    terminal: Arc<Mutex<Terminal>>,
    config: SyncConfig,
    status: watch::Sender<SyncStatus>,
    nudge: Arc<Notify>,
    stop: watch::Receiver<bool>,
    /// Documents asked for and not held yet; kept across connections.
    pending: HashMap<String, automerge::AutoCommit>,
    /// The side the server last said must be updated; cleared by the next connection.
    outdated: Option<shared_model::compat::Outdated>,
}

pub(crate) fn lock(t: &Arc<Mutex<Terminal>>) -> MutexGuard<'_, Terminal> {
    // A panic while holding the lock leaves the SQLite file consistent (transactions roll back).
    t.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) type Ws = super::tls::SyncSocket;

impl Worker {
    async fn run(mut self) {
        let mut backoff = self.config.min_backoff;
        {
            let t = lock(&self.terminal);
            if t.sync_meta("first_started").ok().flatten().is_none() {
                let _ = t.set_sync_meta("first_started", Some(&Timestamp::now().to_string()));
            }
        }
        self.publish(false, None, None);
        let mut last_logged: Option<String> = None;
        loop {
            if *self.stop.borrow() {
                return;
            }
            let started = Instant::now();
            let result = self.connection().await;
            let error = match &result {
                Ok(()) => None,
                Err(e) => Some(e.to_string()),
            };
            if let Err(CoreError::VersionMismatch { outdated, detail }) = &result {
                // Retrying soon mends nothing: the cashier is told who must update, and the
                // server is asked again at the longest backoff (it may be updated meanwhile).
                if self.outdated != Some(*outdated) {
                    warn!(error = %detail, "the sync server refused this till's version");
                }
                self.outdated = Some(*outdated);
                backoff = self.config.max_backoff;
            }
            if let Some(e) = &error {
                // A problem the operator must fix (a certificate, a CA file) is logged as a
                // warning once, not on every retry.
                let needs_fixing = e.contains("certificate");
                if needs_fixing && last_logged.as_ref() != Some(e) {
                    warn!(error = %e, "cannot connect to the sync server; retrying");
                } else {
                    debug!(error = %e, "sync connection ended");
                }
                last_logged = Some(e.clone());
            }
            self.publish(false, None, error.clone());
            if *self.stop.borrow() {
                return;
            }
            if started.elapsed() > self.config.idle_timeout {
                backoff = self.config.min_backoff;
            }
            let jittered = backoff.mul_f64(rand::rng().random_range(0.5..1.0));
            let retry_at = tokio::time::Instant::now() + jittered;
            let mut stop = self.stop.clone();
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(retry_at) => break,
                    _ = stop.changed() => return,
                    // A checkout while offline: the cashier sees the waiting count grow at once
                    // rather than at the next connection attempt; the backoff is kept.
                    _ = self.nudge.notified() => self.publish(false, None, error.clone()),
                }
            }
            backoff = (backoff * 2).min(self.config.max_backoff);
        }
    }

    async fn connection(&mut self) -> CoreResult<()> {
        let (peer_id, request) = {
            let t = lock(&self.terminal);
            let ident = t.identity()?;
            let peer = format!("{}-{}", ident.store_code, ident.terminal_code);
            let req = self
                .config
                .ws_url()
                .into_client_request()
                .map_err(|e| CoreError::Sync(format!("bad server URL: {e}")))?;
            (peer, req)
        };
        let mut ws = super::tls::connect_sync_socket(
            request,
            &self.config.credential.0,
            self.config.schema_version,
            self.config.ca_file.as_deref(),
            self.config.connect_timeout,
        )
        .await?
        .map_err(CoreError::Sync)?;
        // The server took this till's version (it may have been updated since it refused).
        self.outdated = None;
        let (mut session, join) = Session::dial(&peer_id);
        send(&mut ws, vec![join]).await?;

        let mut poll = tokio::time::interval(self.config.poll_interval);
        let mut heartbeat = tokio::time::interval(self.config.heartbeat_interval);
        let mut ping = tokio::time::interval(self.config.idle_timeout / 3);
        let mut resync = tokio::time::interval(self.config.resync_interval);
        resync.tick().await;
        let mut last_received = Instant::now();
        let mut stop = self.stop.clone();
        let http =
            super::tls::http_client(self.config.ca_file.as_deref(), self.config.connect_timeout)?;
        let mut clock_skew: Option<i64> = None;
        loop {
            tokio::select! {
                frame = ws.next() => {
                    last_received = Instant::now();
                    let frame = match frame {
                        None => return Err(CoreError::Sync("server closed the connection".into())),
                        Some(Err(e)) => return Err(CoreError::Sync(format!("connection: {e}"))),
                        Some(Ok(f)) => f,
                    };
                    let bytes = match frame {
                        WsMessage::Binary(b) => b,
                        WsMessage::Close(c) => return Err(CoreError::Sync(format!("server closed: {}", c.map(|c| c.reason.to_string()).unwrap_or_default()))),
                        WsMessage::Text(_) => return Err(CoreError::Sync("text frame from server".into())),
                        _ => continue,
                    };
                    let message = wire::decode(&bytes).map_err(|e| CoreError::Sync(e.to_string()))?;
                    let step = self.step(|s, store| s.handle(message, store), &mut session)?;
                    send(&mut ws, step.send).await?;
                    self.refresh(&mut session, clock_skew)?;
                }
                _ = poll.tick() => {
                    if last_received.elapsed() > self.config.idle_timeout {
                        return Err(CoreError::Sync("no answer from the server".into()));
                    }
                    self.local_changes(&mut session, &mut ws, clock_skew).await?;
                }
                _ = self.nudge.notified() => {
                    self.local_changes(&mut session, &mut ws, clock_skew).await?;
                }
                _ = resync.tick() => {
                    session.resync();
                    self.local_changes(&mut session, &mut ws, clock_skew).await?;
                }
                _ = ping.tick() => {
                    ws.send(WsMessage::Ping(Vec::new().into())).await.map_err(|e| CoreError::Sync(format!("send: {e}")))?;
                }
                _ = heartbeat.tick() => {
                    if session.is_connected() {
                        match self.heartbeat(&http, &mut session).await {
                            Ok((skew, more)) => {
                                clock_skew = Some(skew);
                                if more {
                                    heartbeat.reset_immediately();
                                }
                            }
                            Err(e) => warn!(error = %e, "heartbeat failed"),
                        }
                        self.refresh(&mut session, clock_skew)?;
                    }
                }
                _ = stop.changed() => {
                    let _ = ws.close(None).await;
                    return Ok(());
                }
            }
        }
    }

    /// Runs one synchronous session step with the terminal locked.
    fn step(
        &mut self,
        f: impl FnOnce(
            &mut Session,
            &mut TerminalSyncStore<'_>,
        ) -> Result<Step, shared_model::sync_session::SessionError>,
        session: &mut Session,
    ) -> CoreResult<Step> {
        let mut t = lock(&self.terminal);
        let mut store = TerminalSyncStore {
            terminal: &mut t,
            pending: &mut self.pending,
        };
        f(session, &mut store).map_err(|e| CoreError::Sync(e.to_string()))
    }

    async fn local_changes(
        &mut self,
        session: &mut Session,
        ws: &mut Ws,
        skew: Option<i64>,
    ) -> CoreResult<()> {
        if !session.is_connected() {
            return Ok(());
        }
        {
            let mut t = lock(&self.terminal);
            t.register_journals_in_period_indexes()?;
        }
        let step = self.step(|s, store| s.poll(store), session)?;
        send(ws, step.send).await?;
        self.refresh(session, skew)
    }

    async fn heartbeat(
        &mut self,
        http: &reqwest::Client,
        session: &mut Session,
    ) -> CoreResult<(i64, bool)> {
        let body = {
            let waiting_documents = self.waiting_documents(session)?;
            let t = lock(&self.terminal);
            HeartbeatRequest {
                terminal_time: Timestamp::now(),
                waiting_documents,
                waiting_sales: t.waiting_records()?,
                unacknowledged: t.unacknowledged_records(self.config.heartbeat_page)?,
                app_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }
        };
        let sent = Instant::now();
        let url = format!("{}/api/v1/terminals/me/heartbeat", self.config.http_url());
        let response = http
            .post(url)
            .bearer_auth(&self.config.credential.0)
            .json(&body)
            .send()
            .await
            .map_err(|e| CoreError::Sync(super::tls::describe("heartbeat", &e)))?;
        if !response.status().is_success() {
            return Err(CoreError::Sync(format!(
                "heartbeat: server answered {}",
                response.status()
            )));
        }
        let reply: HeartbeatResponse = response
            .json()
            .await
            .map_err(|e| CoreError::Sync(format!("heartbeat reply: {e}")))?;
        let round_trip = sent.elapsed();
        let local_mid =
            body.terminal_time.0 + chrono::Duration::from_std(round_trip / 2).unwrap_or_default();
        let skew = (reply.server_time.0 - local_mid).num_milliseconds();
        let mut t = lock(&self.terminal);
        t.record_acknowledgements(&reply.acknowledged, reply.server_time)?;
        t.set_sync_meta("clock_skew_ms", Some(&skew.to_string()))?;
        if skew.abs() > MAX_CLOCK_SKEW_MS {
            warn!(skew_ms = skew, "terminal clock differs from the server's");
        }
        // A full page, all acknowledged: more may be waiting behind it.
        let more = body.unacknowledged.len() >= self.config.heartbeat_page.max(1)
            && reply.acknowledged.len() == body.unacknowledged.len();
        Ok((skew, more))
    }

    /// Documents with local changes the server is not yet known to have.
    fn waiting_documents(&mut self, session: &mut Session) -> CoreResult<u64> {
        let mut t = lock(&self.terminal);
        let mut store = TerminalSyncStore {
            terminal: &mut t,
            pending: &mut self.pending,
        };
        let waiting = session
            .waiting(&mut store)
            .map_err(|e| CoreError::Sync(e.to_string()))?;
        Ok(waiting.len() as u64)
    }

    /// Recomputes the status after a step.
    fn refresh(&mut self, session: &mut Session, skew: Option<i64>) -> CoreResult<()> {
        let waiting_docs = self.waiting_documents(session)?;
        if session.is_connected() && waiting_docs == 0 {
            let t = lock(&self.terminal);
            t.set_sync_meta("last_sync", Some(&Timestamp::now().to_string()))?;
        }
        self.publish(session.is_connected(), Some((waiting_docs, skew)), None);
        Ok(())
    }

    fn publish(
        &self,
        online: bool,
        docs_and_skew: Option<(u64, Option<i64>)>,
        error: Option<String>,
    ) {
        let t = lock(&self.terminal);
        let meta = |k: &str| t.sync_meta(k).ok().flatten();
        let last_sync: Option<Timestamp> = meta("last_sync").and_then(|s| s.parse().ok());
        let skew = docs_and_skew
            .and_then(|(_, s)| s)
            .or_else(|| meta("clock_skew_ms").and_then(|s| s.parse().ok()));
        let waiting_sales = t.waiting_records().unwrap_or(0);
        let prev = self.status.borrow().clone();
        let waiting_documents = match docs_and_skew {
            Some((d, _)) => d,
            None => prev.waiting_documents,
        };
        let since = last_sync.or_else(|| meta("first_started").and_then(|s| s.parse().ok()));
        let warnings = super::warnings(
            Timestamp::now(),
            since,
            self.config.offline_warning_after,
            waiting_sales,
            self.config.waiting_warning_threshold,
            skew,
        );
        if online && !prev.online {
            info!("sync connected");
        }
        let warnings = match self.outdated {
            Some(outdated) => std::iter::once(super::SyncWarning::UpdateRequired { outdated })
                .chain(warnings)
                .collect(),
            None => warnings,
        };
        let status = SyncStatus {
            online,
            last_sync,
            waiting_documents,
            waiting_sales,
            clock_skew_ms: skew,
            warnings,
            last_error: error.or(if online { None } else { prev.last_error }),
        };
        self.status.send_if_modified(|s| {
            if *s == status {
                return false;
            }
            *s = status;
            true
        });
    }
}

pub(crate) async fn send(ws: &mut Ws, frames: Vec<wire::Message>) -> CoreResult<()> {
    for f in frames {
        ws.send(WsMessage::Binary(wire::encode(&f).into()))
            .await
            .map_err(|e| CoreError::Sync(format!("send: {e}")))?;
    }
    Ok(())
}
