//! LAN connections: accepting and dialling tills over TLS, checking their proofs inside the
//! tunnel, and running the sync session over a WebSocket in it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use rand::Rng;
use rustls::pki_types::ServerName;
use shared_model::sync_session::{Event, Session, SessionError, Step};
use shared_model::wire;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http;
use tracing::{Instrument, debug, info, warn};

use super::super::adapter::TerminalSyncStore;
use super::super::client::lock;
use super::channel::{EXPORTER_LABEL, SERVER_NAME, exporter, peer_key};
use crate::error::{CoreError, CoreResult};

use super::*;

pub(super) async fn listen(shared: Arc<Shared>, listener: TcpListener) {
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

/// Counts and logs a connection refused before any document moved.
fn refuse(shared: &Shared, addr: &str, reason: &str) {
    warn!(peer = %addr, %reason, "LAN peer refused");
    shared.publish(|s| s.refused += 1);
}

// The handshake callback's error type is tungstenite's `ErrorResponse`, large by its nature.
#[allow(clippy::result_large_err)]
pub(super) async fn inbound(
    shared: Arc<Shared>,
    tcp: TcpStream,
    addr: SocketAddr,
) -> CoreResult<()> {
    let _ = tcp.set_nodelay(true);
    let deadline = shared.config.connect_timeout;
    // TLS first: a peer whose certificate key is not trusted, or who cannot finish the handshake
    // (garbage, a replayed handshake), never reaches the WebSocket.
    let tls = match tokio::time::timeout(deadline, shared.channel.acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            let reason = format!("LAN TLS handshake failed: {e}");
            refuse(&shared, &addr.to_string(), &reason);
            return Err(CoreError::Sync(reason));
        }
        Err(_) => {
            refuse(&shared, &addr.to_string(), "LAN TLS handshake timed out");
            return Err(CoreError::Sync("LAN TLS handshake timed out".into()));
        }
    };
    let (binding, roster_code) = {
        let (_, conn) = tls.get_ref();
        let dialer_key = peer_key(conn.peer_certificates())?;
        let binding = Binding {
            exporter: exporter(conn.export_keying_material([0u8; 32], EXPORTER_LABEL, None))?,
            dialer_key,
            acceptor_key: shared.channel.own_key,
        };
        let roster_code = shared
            .channel
            .trust
            .identify(&dialer_key)
            .map_err(CoreError::Sync)?;
        (binding, roster_code)
    };
    let dialer_key = binding.dialer_key;
    let admitted: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let callback = {
        let shared = shared.clone();
        let admitted = admitted.clone();
        move |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
            let header = req
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            match shared.admit(header, &binding, &roster_code) {
                Ok((code, mac)) => {
                    let proof = shared.auth().accept_proof(&binding, &mac);
                    if let Ok(v) = http::HeaderValue::from_str(&proof) {
                        resp.headers_mut().insert(PROOF_HEADER, v);
                    }
                    *admitted.lock().unwrap_or_else(|p| p.into_inner()) = Some(code);
                    Ok(resp)
                }
                Err(reason) => {
                    refuse(&shared, &addr.to_string(), &reason);
                    let mut r = ErrorResponse::new(Some(reason));
                    *r.status_mut() = http::StatusCode::UNAUTHORIZED;
                    Err(r)
                }
            }
        }
    };
    let ws = tokio::time::timeout(
        deadline,
        tokio_tungstenite::accept_hdr_async(TlsStream::Server(tls), callback),
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
    run_session(&shared, ws, session, Vec::new(), &code, dialer_key).await
}

/// Dials one peer address (a discovered peer's may change: the latest advert wins).
pub(super) async fn dial_loop(
    shared: Arc<Shared>,
    addr: watch::Receiver<String>,
    mut known: Option<String>,
) {
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

pub(super) async fn dial_once(
    shared: &Arc<Shared>,
    addr: &str,
    known: &mut Option<String>,
) -> CoreResult<()> {
    let deadline = shared.config.connect_timeout;
    let tcp = tokio::time::timeout(deadline, TcpStream::connect(addr))
        .await
        .map_err(|_| CoreError::Sync(format!("LAN connect to {addr} timed out")))?
        .map_err(|e| CoreError::Sync(format!("LAN connect to {addr}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from(SERVER_NAME)
        .map_err(|e| CoreError::Sync(format!("LAN server name: {e}")))?;
    let tls =
        match tokio::time::timeout(deadline, shared.channel.connector.connect(name, tcp)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                let reason = format!("LAN TLS handshake with {addr} failed: {e}");
                refuse(shared, addr, &reason);
                return Err(CoreError::Sync(reason));
            }
            Err(_) => return Err(CoreError::Sync(format!("LAN TLS with {addr} timed out"))),
        };
    let (binding, roster_code) = {
        let (_, conn) = tls.get_ref();
        let acceptor_key = peer_key(conn.peer_certificates())?;
        let binding = Binding {
            exporter: exporter(conn.export_keying_material([0u8; 32], EXPORTER_LABEL, None))?,
            dialer_key: shared.channel.own_key,
            acceptor_key,
        };
        let roster_code = shared
            .channel
            .trust
            .identify(&acceptor_key)
            .map_err(CoreError::Sync)?;
        (binding, roster_code)
    };
    let proof = shared.auth().dial_proof(&binding);
    let mut request = format!("ws://{SERVER_NAME}/lan")
        .into_client_request()
        .map_err(|e| CoreError::Sync(format!("LAN request: {e}")))?;
    request.headers_mut().insert(
        http::header::AUTHORIZATION,
        http::HeaderValue::from_str(&proof.header)
            .map_err(|_| CoreError::Sync("LAN proof is not a valid header".into()))?,
    );
    let (ws, response) = tokio::time::timeout(
        deadline,
        tokio_tungstenite::client_async(request, TlsStream::Client(tls)),
    )
    .await
    .map_err(|_| CoreError::Sync(format!("LAN handshake with {addr} timed out")))?
    .map_err(|e| CoreError::Sync(format!("LAN handshake with {addr}: {e}")))?;
    let answer = response
        .headers()
        .get(PROOF_HEADER)
        .and_then(|v| v.to_str().ok());
    let checked = shared
        .auth()
        .check_accept(answer, &proof, &binding)
        .map_err(|e| e.to_string())
        .and_then(|code| {
            if code == roster_code {
                Ok(code)
            } else {
                Err(format!(
                    "the peer proves terminal {code} with the key of terminal {roster_code}"
                ))
            }
        });
    let code = match checked {
        Ok(code) => code,
        Err(reason) => {
            refuse(shared, addr, &reason);
            return Err(CoreError::Sync(format!("LAN peer at {addr}: {reason}")));
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
    run_session(shared, ws, session, vec![join], &code, binding.acceptor_key).await
}

/// One synchronous session step with the terminal locked.
pub(super) fn step(
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

/// A WebSocket to a peer, inside the TLS tunnel.
pub(super) type LanWs = WebSocketStream<TlsStream<TcpStream>>;

async fn send(ws: &mut LanWs, frames: Vec<wire::Message>) -> CoreResult<()> {
    for f in frames {
        ws.send(WsMessage::Binary(wire::encode(&f).into()))
            .await
            .map_err(|e| CoreError::Sync(format!("send: {e}")))?;
    }
    Ok(())
}

pub(super) async fn run_session(
    shared: &Arc<Shared>,
    mut ws: LanWs,
    mut session: Session,
    first: Vec<wire::Message>,
    code: &str,
    peer_key: [u8; 32],
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
    let mut roster = shared.roster_changed.subscribe();
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
            _ = roster.changed() => {
                // A new roster: a peer that is no longer in it (revoked) is dropped at once.
                if let Err(reason) = shared.channel.trust.identify(&peer_key) {
                    warn!(peer = %code, %reason, "LAN peer dropped");
                    let _ = ws.close(None).await;
                    return Err(CoreError::Sync(format!("LAN peer {code} dropped: {reason}")));
                }
                false
            }
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
