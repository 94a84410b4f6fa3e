//! Several instances on one database: each instance heartbeats into the
//! `instances` table and dials every older live instance over the sync
//! protocol with a cluster credential (one connection per repo open here, a
//! tenant's or a store's, see [`super::Repos`]), so a change accepted by one instance
//! reaches clients connected to another within moments. samod cannot reload a
//! document changed in storage beneath it, hence peering instead of
//! LISTEN/NOTIFY (see docs/sync-server.md).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use super::RepoKey;
use crate::now_ms;
use crate::state::AppState;

/// samod dialer over tokio-tungstenite (plain `ws://`; use a TLS-terminating
/// proxy or a private network between instances). An instance's dialer mints a fresh,
/// short-lived cluster credential for every connection attempt and sends it in the
/// `Authorization` header only, never in the URL (where proxies and logs keep it).
pub struct WsDialer {
    url: samod::Url,
    bearer: Option<Arc<dyn Fn() -> String + Send + Sync>>,
}

impl std::fmt::Debug for WsDialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsDialer")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl WsDialer {
    /// A dialer for `url` (a client's token, if any, in its query string).
    pub fn new(url: samod::Url) -> Self {
        Self { url, bearer: None }
    }

    /// A dialer for `url` that sends `bearer()`, called for every attempt, as its bearer token.
    pub fn with_bearer(url: samod::Url, bearer: Arc<dyn Fn() -> String + Send + Sync>) -> Self {
        Self {
            url,
            bearer: Some(bearer),
        }
    }
}

impl samod::Dialer for WsDialer {
    type Error = std::io::Error;

    fn url(&self) -> samod::Url {
        self.url.clone()
    }

    fn connect(
        &self,
    ) -> futures::future::BoxFuture<'static, Result<samod::Transport, samod::DialError<Self::Error>>>
    {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let request = self.url.as_str().into_client_request().map(|mut r| {
            if let Some(bearer) = &self.bearer
                && let Ok(v) = format!("Bearer {}", bearer())
                    .parse::<tokio_tungstenite::tungstenite::http::HeaderValue>()
            {
                r.headers_mut().insert("authorization", v);
            }
            r
        });
        Box::pin(async move {
            let request = request.map_err(samod::DialError::transient)?;
            let ws = open_socket(request)
                .await
                .map_err(samod::DialError::transient)?;
            let (sink, stream) = ws.split();
            let stream = stream.filter_map(|m| {
                futures::future::ready(match m {
                    Ok(Message::Binary(b)) => Some(Ok(b.to_vec())),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                })
            });
            let sink = sink.with(|v: Vec<u8>| {
                futures::future::ready(Ok::<_, tokio_tungstenite::tungstenite::Error>(
                    Message::Binary(v.into()),
                ))
            });
            Ok(samod::Transport::new(stream, sink))
        })
    }
}

/// The WebSocket of a dial, with `TCP_NODELAY`: sync frames are small, and with Nagle's
/// algorithm one written while the one before was unacknowledged waited for the delayed ACK
/// (see `app::tune_accepted` for the server's side).
async fn open_socket(
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tokio_tungstenite::tungstenite::Error,
> {
    let disable_nagle = true;
    let (ws, _) =
        tokio_tungstenite::connect_async_with_config(request, None, disable_nagle).await?;
    Ok(ws)
}

/// Heartbeat every second; an instance silent for this long is gone.
const LIVE_WINDOW_MS: i64 = 10_000;

/// The sync URL of an instance for one repo, a tenant's or a store's (the credential goes in a
/// header).
fn peering_url(url: &str, key: &RepoKey) -> Option<samod::Url> {
    let mut url = samod::Url::parse(url).ok()?;
    url.query_pairs_mut().append_pair("tenant", &key.tenant_id);
    if let Some(store) = &key.store_id {
        url.query_pairs_mut().append_pair("store", store);
    }
    Some(url)
}

/// A dialer of `url` that presents a fresh credential of this instance on every attempt.
fn instance_dialer(state: &AppState, url: samod::Url) -> Arc<WsDialer> {
    let services = state.services.clone();
    let me = state.sync.instance_id.clone();
    Arc::new(WsDialer::with_bearer(
        url,
        Arc::new(move || services.cluster_token(&me)),
    ))
}

/// Runs until the process ends: heartbeats `advertise_url` (this instance's `ws://…/sync`) and
/// keeps, for every repo open here (a tenant's or a store's), one connection from that repo to
/// the same repo on every older live instance. A repo nobody here uses needs no connection: it
/// opens with the first client or server write, and the next pass (within a second) dials it;
/// samod syncs every open document of the repo when a connection is established.
pub async fn run(state: AppState, advertise_url: String) {
    let me = state.sync.instance_id.clone();
    let storage = state.services.storage.clone();
    let mut dialers: HashMap<(String, RepoKey), samod::DialerHandle<std::io::Error>> =
        HashMap::new();
    loop {
        let now = now_ms();
        if let Err(e) = storage.heartbeat_instance(&me, &advertise_url, now).await {
            tracing::error!(error = %e, "instance heartbeat failed");
        }
        match storage.live_instances(now - LIVE_WINDOW_MS).await {
            Ok(live) => {
                let live: HashMap<String, String> = live.into_iter().collect();
                dialers.retain(|(id, key), d| {
                    let keep = live.contains_key(id);
                    if !keep {
                        tracing::info!(peer_instance = %id, repo = %key.label(), "instance gone; closing peering");
                        d.close();
                    }
                    keep
                });
                let repos = state.sync.repos.open();
                for (id, url) in &live {
                    // Newer instances dial older ones: one connection per pair and repo.
                    if *id >= me {
                        continue;
                    }
                    for (repo_key, repo) in &repos {
                        let key = (id.clone(), repo_key.clone());
                        if dialers.contains_key(&key) {
                            continue;
                        }
                        let Some(url) = peering_url(url, repo_key) else {
                            tracing::error!(peer_instance = %id, "instance has an invalid url");
                            continue;
                        };
                        let backoff = samod::BackoffConfig {
                            initial_delay: Duration::from_millis(100),
                            max_delay: Duration::from_secs(2),
                            max_retries: None,
                        };
                        match repo.repo.dial(backoff, instance_dialer(&state, url)) {
                            Ok(d) => {
                                tracing::info!(peer_instance = %id, repo = %repo_key.label(), "peering with instance");
                                dialers.insert(key, d);
                            }
                            // Shutting down.
                            Err(_) => return,
                        }
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "listing instances failed"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Dials every live instance once for the repo `key` and waits (bounded) for the handshakes;
/// returns the connected dialers. For admin commands that write documents (`admin
/// write-baselines`): the instances that hold those documents open must receive the changes,
/// since samod does not reload a document changed in storage beneath it. samod syncs the
/// repo's open documents on connecting, so dialing after writing delivers them. Only instances
/// that advertise themselves (`advertise_url`) are found.
pub async fn dial_live(
    state: &AppState,
    key: &RepoKey,
) -> crate::Result<Vec<samod::DialerHandle<std::io::Error>>> {
    let repo = state.sync.repos.get(key).await?.repo;
    let live = state
        .services
        .storage
        .live_instances(now_ms() - LIVE_WINDOW_MS)
        .await?;
    let mut out = Vec::new();
    for (id, url) in live {
        if id == state.sync.instance_id {
            continue;
        }
        let Some(url) = peering_url(&url, key) else {
            tracing::error!(peer_instance = %id, "instance has an invalid url");
            continue;
        };
        let backoff = samod::BackoffConfig {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_retries: Some(3),
        };
        let d = repo
            .dial(backoff, instance_dialer(state, url))
            .map_err(|_| crate::Error::Internal("samod stopped".into()))?;
        match tokio::time::timeout(Duration::from_secs(5), d.established()).await {
            Ok(Ok(_)) => out.push(d),
            _ => {
                tracing::warn!(peer_instance = %id, "live instance not reachable; it will not see the change until it restarts")
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    #[tokio::test]
    async fn a_peering_socket_sends_small_frames_without_waiting_for_acks() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio_tungstenite::accept_async(tcp).await.unwrap()
        });
        let request = format!("ws://{addr}/sync").into_client_request().unwrap();
        let ws = super::open_socket(request).await.unwrap();
        let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = ws.get_ref() else {
            panic!("a ws:// URL is dialled without TLS");
        };
        assert!(
            tcp.nodelay().unwrap(),
            "Nagle's algorithm is on for a peering socket"
        );
        peer.await.unwrap();
    }
}
