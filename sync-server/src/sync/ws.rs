//! The WebSocket endpoint. Each connection is pumped by one task that sits
//! between the socket and samod: inbound frames are size- and rate-limited,
//! decoded, checked against document claims and validated before samod sees
//! them, then handed to the repo their document lives in ([`super::attach`]);
//! a violation closes only this connection, with an `error` frame.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tracing::Instrument;

use super::attach::{Attachments, Ended, Opened, Route, next_opened};
use super::{ConnId, RepoKey};
use shared_model::wire::{self, Message as Frame, PROTOCOL_VERSION};

use super::protocol;
use crate::access;
use crate::auth::{Principal, instance_peer_id};
use crate::error::Error;
use crate::extract::{ClientAddr, bearer_token};
use crate::state::AppState;

/// Query parameters of the sync endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// Device credential or access token (browsers cannot set headers on WebSockets).
    token: Option<String>,
    /// The tenant an instance's peering connection is for (instances serve every tenant, and
    /// each tenant has its own repos, [`super::Repos`]); ignored for everyone else.
    tenant: Option<String>,
    /// The store whose repo an instance's peering connection is for (absent: the tenant's
    /// repo); ignored for everyone else.
    store: Option<String>,
}

/// `GET /sync`: authenticate, then upgrade to the automerge-repo protocol.
#[utoipa::path(get, path = "/sync", params(SyncQuery,
        ("Connection" = String, Header, description = "`Upgrade`"),
        ("Upgrade" = String, Header, description = "`websocket`"),
        ("Sec-WebSocket-Version" = String, Header, description = "`13`"),
        ("Sec-WebSocket-Key" = String, Header),
        ("snapkasir-schema" = Option<String>, Header, description = "A till's document schema version (`1` when absent); see `409` and `426`")),
    security(("bearer" = [])),
    description = "The automerge-repo sync protocol over a WebSocket. Takes a device credential, an access \
        token or an instance token, as a bearer token or as `token`.",
    responses((status = 101, description = "switched to the WebSocket protocol"),
        (status = 400, description = "not a WebSocket upgrade request (text), an instance without `tenant`, or a till's `snapkasir-schema` that is not a number (JSON `bad_request`)", content_type = "text/plain", body = String),
        (status = 401, description = "`unauthorized`: missing, unknown or revoked token", body = crate::error::ErrorBody),
        (status = 409, description = "`server_too_old`: the till writes a document schema newer than this server knows (its `snapkasir-schema` header)", body = crate::error::ErrorBody),
        (status = 426, description = "`till_too_old`: the till writes a document schema older than this server serves; the till must be updated", body = crate::error::ErrorBody),
        (status = 500, description = "`internal`: storage failed", body = crate::error::ErrorBody)))]
pub async fn sync_handler(
    State(app): State<AppState>,
    Query(q): Query<SyncQuery>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let token = match (bearer_token(&headers), q.token) {
        (Some(t), _) => t,
        // Instances always send a header; a credential in a URL ends up in proxy logs.
        (None, Some(t)) if t.starts_with(crate::auth::CLUSTER_CREDENTIAL_PREFIX) => {
            return Error::Unauthorized("cluster credentials only in the Authorization header")
                .into_response();
        }
        (None, Some(t)) => t,
        (None, None) => return Error::Unauthorized("missing token").into_response(),
    };
    let principal = match app.services.authenticate_sync(&token).await {
        Ok(p) => p,
        Err(e) => {
            tracing::info!(error = %e, "sync upgrade refused");
            return e.into_response();
        }
    };
    if let Principal::Terminal { terminal_id, .. } = &principal {
        let offered = headers
            .get(shared_model::compat::SCHEMA_HEADER)
            .map(|v| v.to_str().unwrap_or("(not text)"));
        let checked = shared_model::compat::parse_schema_header(offered)
            .map_err(Error::BadRequest)
            .and_then(|schema| {
                shared_model::compat::check_till_schema(schema).map_err(Error::VersionMismatch)
            });
        if let Err(e) = checked {
            tracing::warn!(terminal = %terminal_id, error = %e, "sync upgrade refused");
            return e.into_response();
        }
    }
    // Everyone else's tenant is the one their credential belongs to.
    let peering = match (&principal, &q.tenant) {
        (Principal::Instance { .. }, Some(t)) if !t.is_empty() => Some(RepoKey {
            tenant_id: t.clone(),
            store_id: q.store.filter(|s| !s.is_empty()),
        }),
        _ => None,
    };
    let tenant = match (&principal, q.tenant) {
        (Principal::Instance { .. }, Some(t)) if !t.is_empty() => t,
        (Principal::Instance { .. }, _) => {
            return Error::BadRequest("instance peering needs a tenant parameter".into())
                .into_response();
        }
        (p, _) => p.tenant_id().to_string(),
    };
    let cfg = &app.services.config;
    let caps = super::ConnectionCaps {
        per_principal: cfg.max_connections_per_principal,
        per_tenant: cfg.max_connections_per_tenant,
        per_address: cfg.max_connections_per_address,
    };
    let registry = app.services.connections.clone();
    let admitted = match registry.admit(principal.clone(), &tenant, addr, caps) {
        Ok((id, close_rx)) => Admitted {
            registry,
            id,
            close_rx: Some(close_rx),
        },
        Err(reason) => {
            tracing::warn!(who = %principal.label(), %tenant, %addr, reason, "sync upgrade refused");
            return Error::TooManyConnections(reason).into_response();
        }
    };
    let max = cfg.max_frame_bytes;
    let lease = app.services.session_lease(&token);
    ws.max_message_size(max)
        .max_frame_size(max)
        // Small initial buffers (they grow as needed): idle connections are
        // the common case, and the 128 KiB default dominates their memory.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .on_upgrade(move |socket| {
            run_connection(app, principal, tenant, peering, admitted, lease, socket)
        })
}

/// A registered connection; unregistered when dropped, also when the upgrade never happens.
struct Admitted {
    registry: std::sync::Arc<super::ConnectionRegistry>,
    id: ConnId,
    close_rx: Option<tokio::sync::mpsc::UnboundedReceiver<String>>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.registry.unregister(self.id);
    }
}

/// Token bucket over frames and bytes.
#[derive(Debug)]
struct RateLimit {
    frames: f64,
    bytes: f64,
    frame_rate: f64,
    frame_burst: f64,
    byte_rate: f64,
    byte_burst: f64,
    last: Instant,
}

impl RateLimit {
    fn new(frame_rate: f64, frame_burst: f64, byte_rate: f64, max_frame: usize) -> Self {
        let byte_burst = byte_rate.max(max_frame as f64);
        Self {
            frames: frame_burst,
            bytes: byte_burst,
            frame_rate,
            frame_burst,
            byte_rate,
            byte_burst,
            last: Instant::now(),
        }
    }

    fn allow(&mut self, len: usize) -> bool {
        let now = Instant::now();
        let dt = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.frames = (self.frames + dt * self.frame_rate).min(self.frame_burst);
        self.bytes = (self.bytes + dt * self.byte_rate).min(self.byte_burst);
        if self.frames < 1.0 || self.bytes < len as f64 {
            return false;
        }
        self.frames -= 1.0;
        self.bytes -= len as f64;
        true
    }
}

/// What to do with an inbound frame.
enum Verdict {
    Forward(Route),
    Reply(Vec<u8>),
    Drop,
    Close(String),
}

struct Conn {
    app: AppState,
    id: ConnId,
    principal: Principal,
    peer_id: String,
    server_peer: String,
}

impl Conn {
    async fn inspect(&self, frame: &Frame) -> Verdict {
        if let Some(sender) = frame.sender_id()
            && sender != self.peer_id
        {
            return Verdict::Close("senderId does not match the peer id of this connection".into());
        }
        match frame {
            Frame::Join { .. } => Verdict::Close("duplicate join".into()),
            Frame::Peer { .. } => Verdict::Close("unexpected peer message from a client".into()),
            Frame::Error { message } => {
                Verdict::Close(format!("peer reported an error: {message}"))
            }
            Frame::Leave { .. } | Frame::RemoteSubscriptionChange { .. } => {
                Verdict::Forward(Route::All)
            }
            Frame::Request { .. }
            | Frame::Sync { .. }
            | Frame::DocUnavailable { .. }
            | Frame::Ephemeral { .. }
            | Frame::RemoteHeadsChanged { .. } => self.inspect_doc_frame(frame).await,
            // `protocol::decode` refuses types it does not know.
            Frame::Other { kind } => Verdict::Close(format!("unknown message type {kind:?}")),
        }
    }

    async fn inspect_doc_frame(&self, frame: &Frame) -> Verdict {
        let Some(doc) = frame.document_id() else {
            return Verdict::Close("missing documentId".into());
        };
        let is_doc_msg = matches!(frame, Frame::Request { .. } | Frame::Sync { .. });
        if let Some(data) = protocol::sync_data(frame)
            && let Err(reason) = validate(data).await
        {
            return Verdict::Close(reason);
        }
        // Another instance relays what its own clients were allowed to send, over the link of
        // one repo.
        if matches!(self.principal, Principal::Instance { .. }) {
            return Verdict::Forward(Route::All);
        }
        let gate = &self.app.sync.gate;
        let claim = match gate.claim_of(doc).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, doc, "claim lookup failed");
                return Verdict::Close("server storage unavailable, retry later".into());
            }
        };
        let claim = match (claim, frame) {
            (Some(c), _) => c,
            // The first authenticated writer of a new document claims it.
            (None, Frame::Sync { .. }) => match gate.claim(doc, &self.principal).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, doc, "claiming document failed");
                    return Verdict::Close("server storage unavailable, retry later".into());
                }
            },
            (None, Frame::Request { .. }) => {
                tracing::debug!(doc, "request for an unknown document");
                return Verdict::Reply(self.unavailable(doc));
            }
            (None, _) => return Verdict::Drop,
        };
        if !access::may_see_document(&self.principal, &claim) {
            self.app.sync.metrics.denied.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                doc,
                who = %self.principal.label(),
                kind = frame.kind(),
                "access denied: document belongs to another tenant or store"
            );
            return if is_doc_msg {
                Verdict::Reply(self.unavailable(doc))
            } else {
                Verdict::Drop
            };
        }
        if is_doc_msg {
            self.app.services.connections.touch_doc(self.id, doc);
        }
        Verdict::Forward(Route::Store(claim.store_id))
    }

    fn unavailable(&self, doc: &str) -> Vec<u8> {
        wire::encode(&Frame::DocUnavailable {
            sender_id: self.server_peer.clone(),
            target_id: self.peer_id.clone(),
            document_id: doc.to_string(),
        })
    }
}

/// Payloads up to this size are validated on the connection's own task: parsing a few KiB
/// costs less than the two thread hand-offs of `spawn_blocking`, which were most of the
/// server's context switches when every sale is a small frame. Larger ones go to the blocking
/// pool so that they never hold up other connections.
const INLINE_VALIDATE_BYTES: usize = 16 * 1024;

async fn validate(data: &[u8]) -> Result<(), String> {
    let outcome = if data.len() <= INLINE_VALIDATE_BYTES {
        // A panic inside automerge on hostile bytes must not take the connection task down.
        std::panic::catch_unwind(|| protocol::validate_sync_data(data)).map_err(|_| ())
    } else {
        let data = data.to_vec();
        tokio::task::spawn_blocking(move || protocol::validate_sync_data(&data))
            .await
            .map_err(|_| ())
    };
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.0),
        Err(()) => Err("invalid automerge data".into()),
    }
}

fn first_frame(msg: Option<Result<Message, axum::Error>>) -> Result<(Vec<u8>, String), String> {
    let bytes = match msg {
        Some(Ok(Message::Binary(b))) => b.to_vec(),
        Some(Ok(_)) => return Err("expected a binary join message".into()),
        Some(Err(e)) => return Err(format!("receive failed: {e}")),
        None => return Err("closed before join".into()),
    };
    let Frame::Join {
        sender_id,
        supported_protocol_versions,
    } = protocol::decode(&bytes).map_err(|e| e.0)?
    else {
        return Err("the first message must be join".into());
    };
    if !supported_protocol_versions
        .iter()
        .any(|v| v == PROTOCOL_VERSION)
    {
        return Err(format!(
            "unsupported protocol version; this server speaks {PROTOCOL_VERSION}"
        ));
    }
    Ok((bytes, sender_id))
}

async fn run_connection(
    app: AppState,
    principal: Principal,
    tenant: String,
    peering: Option<RepoKey>,
    mut admitted: Admitted,
    lease: Option<crate::service::SessionLease>,
    socket: WebSocket,
) {
    let id = admitted.id;
    let Some(close_rx) = admitted.close_rx.take() else {
        return;
    };
    let _watch = super::session_watch::start(&app, id, lease);
    app.sync
        .metrics
        .connections_total
        .fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!("sync_conn", conn = id, who = %principal.label());
    async {
        tracing::info!("connected");
        let reason = pump(&app, id, principal, &tenant, peering, socket, close_rx).await;
        match &reason {
            Ok(()) => tracing::info!("disconnected"),
            Err(r) => tracing::warn!(reason = %r, "connection closed by server"),
        }
    }
    .instrument(span)
    .await;
    drop(admitted);
}

async fn close_with(ws_tx: &mut futures::stream::SplitSink<WebSocket, Message>, reason: &str) {
    // A peer that does not read would hold this task forever.
    let _ = tokio::time::timeout(Duration::from_secs(2), close_frames(ws_tx, reason)).await;
}

async fn close_frames(ws_tx: &mut futures::stream::SplitSink<WebSocket, Message>, reason: &str) {
    let _ = ws_tx
        .send(Message::Binary(
            wire::encode(&Frame::Error {
                message: reason.to_string(),
            })
            .into(),
        ))
        .await;
    let mut short = reason.to_string();
    short.truncate(120);
    let _ = ws_tx
        .send(Message::Close(Some(CloseFrame {
            code: 1008,
            reason: short.into(),
        })))
        .await;
    let _ = ws_tx.close().await;
}

/// Frames written to the socket before one flush at most.
const SEND_BATCH: usize = 64;

/// Writes `first` and whatever else samod has already queued for this peer (up to
/// [`SEND_BATCH`] frames), then flushes once: a flush per frame was a write system call per
/// frame while a busy document answers every change.
async fn send_queued(
    ws_tx: &mut futures::stream::SplitSink<WebSocket, Message>,
    first: Vec<u8>,
    queued: &mut futures::channel::mpsc::UnboundedReceiver<Vec<u8>>,
) -> Result<usize, axum::Error> {
    let mut sent = first.len();
    ws_tx.feed(Message::Binary(first.into())).await?;
    for _ in 1..SEND_BATCH {
        match queued.try_recv() {
            Ok(bytes) => {
                sent += bytes.len();
                ws_tx.feed(Message::Binary(bytes.into())).await?
            }
            _ => break,
        }
    }
    ws_tx.flush().await?;
    Ok(sent)
}

/// Writes the tenant repo's answer to the client's `join` (its `peer` frame) to the socket
/// before any other repo is linked: a store repo's first `sync` could otherwise reach the client
/// before it has heard whom it speaks with (seen: "expected peer, got sync").
async fn pass_first_answer(
    ws_tx: &mut futures::stream::SplitSink<WebSocket, Message>,
    out_rx: &mut futures::channel::mpsc::UnboundedReceiver<Vec<u8>>,
    links: &Attachments,
    send_timeout: Duration,
) -> Result<(), Ended> {
    let answer = tokio::select! {
        a = tokio::time::timeout(send_timeout, out_rx.next()) => a,
        () = links.ended.notified() => return Err(Ended::ByServer),
    };
    let Ok(Some(answer)) = answer else {
        return Err(Ended::NoRepo(
            "the server did not answer the join in time".into(),
        ));
    };
    match tokio::time::timeout(send_timeout, send_queued(ws_tx, answer, out_rx)).await {
        Ok(Ok(sent)) => {
            links.queued.fetch_sub(sent, Ordering::Relaxed);
            Ok(())
        }
        _ => Err(Ended::ByServer),
    }
}

/// Links an owner's or an app's connection to each of these store repos of its tenant that its
/// principal may reach and it is not linked to yet.
async fn attach_reachable(
    app: &AppState,
    links: &mut Attachments,
    principal: &Principal,
    tenant: &str,
    keys: Vec<RepoKey>,
) -> Result<(), Ended> {
    for key in keys {
        if let Some(store) = &key.store_id
            && key.tenant_id == tenant
            && !links.has_store(store)
            && access::may_reach(principal, tenant, Some(store))
        {
            links.attach_store(app, store).await?;
        }
    }
    Ok(())
}

/// The reason a peer that does not read what it is sent is disconnected with.
fn not_reading(detail: &str) -> String {
    format!("disconnected: this peer does not read its messages ({detail})")
}

async fn pump(
    app: &AppState,
    id: ConnId,
    principal: Principal,
    tenant: &str,
    peering: Option<RepoKey>,
    socket: WebSocket,
    mut close_rx: tokio::sync::mpsc::UnboundedReceiver<String>,
) -> Result<(), String> {
    let (mut ws_tx, mut ws_rx) = socket.split();
    let first = tokio::time::timeout(Duration::from_secs(15), ws_rx.next()).await;
    let (join_bytes, peer_id) = match first
        .map_err(|_| "no join within 15 s".to_string())
        .and_then(first_frame)
    {
        Ok(v) => v,
        Err(r) => {
            close_with(&mut ws_tx, &r).await;
            return Err(r);
        }
    };
    if !access::may_bind_peer(&principal, &peer_id, tenant) {
        let r = "peer id does not match the credential";
        close_with(&mut ws_tx, r).await;
        return Err(r.into());
    }
    // An instance links each of its repos with the same peer id: each link binds it in the
    // scope of its repo, so that one link does not replace another.
    let scope = peering
        .as_ref()
        .map_or_else(|| tenant.to_string(), RepoKey::label);
    if let Err(r) = app.services.connections.bind_peer(id, &scope, &peer_id) {
        close_with(&mut ws_tx, r).await;
        return Err(r.to_string());
    }
    let cfg = &app.services.config;
    let (mut links, mut out_rx) = Attachments::new(
        tenant,
        peering.clone(),
        &peer_id,
        join_bytes,
        cfg.max_outbound_queue_bytes,
    );
    let send_timeout = Duration::from_secs(cfg.send_timeout_secs.max(1));
    let mut linked = links.attach_first(app).await;
    if linked.is_ok() && peering.is_none() {
        linked = pass_first_answer(&mut ws_tx, &mut out_rx, &links, send_timeout).await;
    }
    // A till gets its store's documents offered from the start (the other tills' journals);
    // an owner every store repo open now and each one opened later.
    let mut opened = None;
    if linked.is_ok() && peering.is_none() {
        match principal.store_id() {
            Some(store) => linked = links.attach_store(app, store).await,
            None => {
                opened = Some(app.sync.repos.subscribe_opened());
                let open = app.sync.repos.open_stores_of(tenant);
                linked = attach_reachable(app, &mut links, &principal, tenant, open).await;
            }
        }
    }
    if let Err(e) = linked {
        let r = e.reason();
        close_with(&mut ws_tx, &r).await;
        return Err(r);
    }
    let conn = Conn {
        app: app.clone(),
        id,
        principal,
        peer_id,
        server_peer: instance_peer_id(&app.sync.instance_id, tenant),
    };
    let mut limit = RateLimit::new(
        cfg.rate_limit_frames_per_sec,
        cfg.rate_limit_burst,
        cfg.rate_limit_bytes_per_sec,
        cfg.max_frame_bytes,
    );
    let metrics = &app.sync.metrics;
    let queued = links.queued.clone();
    let ended = links.ended.clone();
    let outcome: Result<(), String> = loop {
        tokio::select! {
            reason = close_rx.recv() => break Err(reason.unwrap_or_else(|| "closed".into())),
            () = ended.notified() => {
                if queued.load(Ordering::Relaxed) > cfg.max_outbound_queue_bytes {
                    break Err(not_reading(&format!("over {} bytes waiting for it", cfg.max_outbound_queue_bytes)));
                }
                break Err(Ended::ByServer.reason());
            }
            opened_now = next_opened(&mut opened) => {
                let keys = match opened_now {
                    Opened::Repo(key) => vec![key],
                    Opened::Missed => app.sync.repos.open_stores_of(tenant),
                };
                if let Err(e) = attach_reachable(app, &mut links, &conn.principal, tenant, keys).await {
                    break Err(e.reason());
                }
            }
            out = out_rx.next() => match out {
                Some(bytes) => {
                    match tokio::time::timeout(send_timeout, send_queued(&mut ws_tx, bytes, &mut out_rx)).await {
                        Ok(Ok(sent)) => {
                            queued.fetch_sub(sent, Ordering::Relaxed);
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "send failed");
                            break Ok(());
                        }
                        Err(_) => break Err(not_reading(&format!("a write took over {}s", send_timeout.as_secs()))),
                    }
                }
                None => break Err(Ended::ByServer.reason()),
            },
            msg = ws_rx.next() => match msg {
                None | Some(Ok(Message::Close(_))) => break Ok(()),
                Some(Err(e)) => break Err(format!("receive failed: {e}")),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Text(_))) => break Err("text messages are not part of the protocol".into()),
                Some(Ok(Message::Binary(bytes))) => {
                    metrics.frames_in.fetch_add(1, Ordering::Relaxed);
                    if !limit.allow(bytes.len()) {
                        break Err("rate limit exceeded".into());
                    }
                    if !matches!(conn.principal, Principal::Instance { .. }) {
                        let wait = app.sync.throttle.charge(tenant, bytes.len());
                        if !wait.is_zero() {
                            metrics.throttled.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(wait).await;
                        }
                    }
                    let frame = match protocol::decode(&bytes) {
                        Ok(f) => f,
                        Err(e) => break Err(e.0),
                    };
                    match conn.inspect(&frame).await {
                        Verdict::Forward(route) => {
                            if let Err(e) = links.forward(app, route, bytes.to_vec()).await {
                                break Err(e.reason());
                            }
                        }
                        Verdict::Reply(reply) => {
                            match tokio::time::timeout(send_timeout, ws_tx.send(Message::Binary(reply.into()))).await {
                                Ok(Ok(())) => {}
                                Ok(Err(_)) => break Ok(()),
                                Err(_) => break Err(not_reading("a reply was not read")),
                            }
                        }
                        Verdict::Drop => {}
                        Verdict::Close(reason) => break Err(reason),
                    }
                }
            },
        }
    };
    links.close();
    match &outcome {
        Ok(()) => {
            let _ = tokio::time::timeout(Duration::from_secs(2), ws_tx.close()).await;
        }
        Err(reason) => {
            metrics.frames_rejected.fetch_add(1, Ordering::Relaxed);
            close_with(&mut ws_tx, reason).await;
        }
    }
    outcome
}
