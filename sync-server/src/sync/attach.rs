//! The repos one WebSocket connection is attached to, and the routing of its frames.
//!
//! A client (a till, an owner's browser, an app) speaks the automerge-repo protocol with "the
//! server"; on this side that is several samod repos ([`super::Repos`]): its tenant's, for the
//! tenant-wide documents, and one per store for the stores' documents. The connection is
//! accepted by each repo it needs, each over its own in-process transport, and every frame
//! about a document goes to the repo that document lives in. All repos of a tenant have the
//! same peer id, so the client sees one peer: it gets the tenant repo's `peer` answer to its
//! `join`, and the other repos' answers (to the same `join`, replayed) are dropped here.
//!
//! An instance's peering connection names one repo (`?tenant=…&store=…`) and is attached to
//! that repo alone, since the instance on the other end links each of its repos separately.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::SinkExt;
use shared_model::wire::Message as Frame;

use super::RepoKey;
use super::protocol;
use crate::state::AppState;

/// Frames queued into samod per repo connection at most: a peer that sends faster than samod
/// takes its frames is read more slowly (TCP pushes back) instead of queueing in memory.
const INBOUND_QUEUE: usize = 16;

type Inbound = futures::channel::mpsc::Sender<Result<Vec<u8>, std::io::Error>>;

/// Where an inbound frame goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    /// Every repo the connection is attached to (`leave`, subscription changes).
    All,
    /// The repo a document lives in: its store's, or the tenant's (`None`).
    Store(Option<String>),
}

/// Why the connection must end.
#[derive(Debug)]
pub(super) enum Ended {
    /// A repo ended its side (shutdown, or its outbound queue went over the cap).
    ByServer,
    /// A repo could not be opened.
    NoRepo(String),
}

impl Ended {
    /// What the peer is told.
    pub fn reason(self) -> String {
        match self {
            Ended::ByServer => "sync session ended by the server".into(),
            Ended::NoRepo(r) => r,
        }
    }
}

/// The connection's links to its repos, by store (`None`: the tenant's repo).
pub(super) struct Attachments {
    tenant: String,
    /// The repo an instance's peering connection is for; `None` for clients (routed).
    fixed: Option<RepoKey>,
    peer_id: String,
    join: Vec<u8>,
    links: HashMap<Option<String>, Inbound>,
    /// Every repo's frames for the peer, in one queue the pump writes to the socket.
    out_tx: futures::channel::mpsc::UnboundedSender<Vec<u8>>,
    /// Bytes waiting in `out_tx`'s queue (the pump subtracts what it sent).
    pub queued: Arc<AtomicUsize>,
    cap: usize,
    /// Signalled when a repo drops its side of a link.
    pub ended: Arc<tokio::sync::Notify>,
}

/// Signals the pump when samod drops a link's sink (its connection ended).
struct EndSignal(Arc<tokio::sync::Notify>);

impl Drop for EndSignal {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

impl Attachments {
    /// No link yet. `join` is the client's join frame, replayed to every repo it is attached to;
    /// `cap` the bytes that may wait for the peer before its links fail.
    pub fn new(
        tenant: &str,
        fixed: Option<RepoKey>,
        peer_id: &str,
        join: Vec<u8>,
        cap: usize,
    ) -> (Self, futures::channel::mpsc::UnboundedReceiver<Vec<u8>>) {
        let (out_tx, out_rx) = futures::channel::mpsc::unbounded::<Vec<u8>>();
        let me = Self {
            tenant: tenant.to_string(),
            fixed,
            peer_id: peer_id.to_string(),
            join,
            links: HashMap::new(),
            out_tx,
            queued: Arc::new(AtomicUsize::new(0)),
            cap,
            ended: Arc::new(tokio::sync::Notify::new()),
        };
        (me, out_rx)
    }

    /// The first link: the named repo of an instance's peering connection, or the tenant's repo
    /// of a client, whose `peer` answer is the one the client gets.
    pub async fn attach_first(&mut self, app: &AppState) -> Result<(), Ended> {
        let store = self.fixed.as_ref().and_then(|k| k.store_id.clone());
        self.attach(app, store, false).await
    }

    /// Links the connection to a store's repo unless linked; its `peer` answer is dropped.
    pub async fn attach_store(&mut self, app: &AppState, store: &str) -> Result<(), Ended> {
        let store = Some(store.to_string());
        if self.fixed.is_some() || self.links.contains_key(&store) {
            return Ok(());
        }
        self.attach(app, store, true).await
    }

    /// Whether this (client) connection is linked to `store`'s repo.
    pub fn has_store(&self, store: &str) -> bool {
        self.links.contains_key(&Some(store.to_string()))
    }

    async fn attach(
        &mut self,
        app: &AppState,
        store: Option<String>,
        answer_dropped: bool,
    ) -> Result<(), Ended> {
        let key = RepoKey {
            tenant_id: self.tenant.clone(),
            store_id: store.clone(),
        };
        let repo = app.sync.repos.get(&key).await.map_err(|e| {
            tracing::error!(error = %e, repo = %key.label(), "no repo");
            Ended::NoRepo("server shutting down".into())
        })?;
        let (mut in_tx, in_rx) =
            futures::channel::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(INBOUND_QUEUE);
        let queued = self.queued.clone();
        let cap = self.cap;
        let signal = EndSignal(self.ended.clone());
        let mut drop_answer = answer_dropped;
        // samod's connection task must never wait on one slow peer, so the shared queue takes
        // every frame at once but counts its bytes; past the cap the sink fails, samod drops
        // the link, and the pump closes the connection saying why.
        let sink = self
            .out_tx
            .clone()
            .sink_map_err(std::io::Error::other)
            .with_flat_map(move |bytes: Vec<u8>| {
                let _alive = &signal;
                if std::mem::take(&mut drop_answer)
                    && matches!(protocol::decode(&bytes), Ok(Frame::Peer { .. }))
                {
                    return futures::stream::iter(Vec::new());
                }
                let total = queued.fetch_add(bytes.len(), Ordering::Relaxed) + bytes.len();
                futures::stream::iter(vec![if total > cap {
                    Err(std::io::Error::other("peer is not reading"))
                } else {
                    Ok(bytes)
                }])
            });
        let transport = samod::Transport::new(in_rx, sink)
            .with_expected_peer_id(samod::PeerId::from_string(self.peer_id.clone()));
        if repo.acceptor.accept(transport).is_err() {
            return Err(Ended::NoRepo("server shutting down".into()));
        }
        // The queue is new and empty: the join always fits.
        let _ = in_tx.try_send(Ok(self.join.clone()));
        tracing::debug!(repo = %key.label(), "connection linked to repo");
        self.links.insert(store, in_tx);
        Ok(())
    }

    /// Hands an inbound frame to the repo(s) of `route`, linking a store's repo first if this
    /// client has none yet (an owner opening a store's document).
    pub async fn forward(
        &mut self,
        app: &AppState,
        route: Route,
        bytes: Vec<u8>,
    ) -> Result<(), Ended> {
        if self.fixed.is_some() || route == Route::All {
            let mut links = self.links.values_mut().peekable();
            while let Some(link) = links.next() {
                let frame = if links.peek().is_some() {
                    bytes.clone()
                } else {
                    return link.send(Ok(bytes)).await.map_err(|_| Ended::ByServer);
                };
                link.send(Ok(frame)).await.map_err(|_| Ended::ByServer)?;
            }
            return Ok(());
        }
        let Route::Store(store) = route else {
            return Ok(());
        };
        if let Some(s) = &store {
            self.attach_store(app, s).await?;
        }
        match self.links.get_mut(&store) {
            Some(link) => link.send(Ok(bytes)).await.map_err(|_| Ended::ByServer),
            None => Err(Ended::ByServer),
        }
    }

    /// Unlinks every repo (their connections end).
    pub fn close(&mut self) {
        self.links.clear();
    }
}

/// Store repos opened on this instance from now on, for a client that should be linked to each
/// it may reach as it opens (an owner receives a store's new documents unasked, as from one
/// repo). `opened` is `None` for a till, whose one store is linked from the start.
pub(super) async fn next_opened(
    opened: &mut Option<tokio::sync::broadcast::Receiver<RepoKey>>,
) -> Opened {
    let Some(rx) = opened else {
        return std::future::pending().await;
    };
    match rx.recv().await {
        Ok(k) => Opened::Repo(k),
        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Opened::Missed,
        Err(tokio::sync::broadcast::error::RecvError::Closed) => {
            *opened = None;
            std::future::pending().await
        }
    }
}

/// What [`next_opened`] saw.
pub(super) enum Opened {
    /// This repo was opened.
    Repo(RepoKey),
    /// Some were opened while the connection was not looking: check every open repo.
    Missed,
}
