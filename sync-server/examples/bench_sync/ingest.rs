//! The ingest workload, the same against any automerge-repo sync server.
//!
//! Before the clock: one samod client per writer URL connects, creates its own
//! document with one change and waits until the server has it, then stops. Each
//! terminal then makes its `changes` changes locally and encodes each as the
//! sync message a client sends after it (heads, `have` = the heads before it,
//! the change), and opens a plain WebSocket as a new peer (`join`, `peer`). On
//! the clock: every terminal sends its messages as fast as the socket takes
//! them, one `sync` frame per change, while reading (and decoding) what the
//! server sends back, until the server's replies name its last change as a
//! head (acked). Then fresh verifying clients (one per tenant) connect and
//! fetch every document, and the clock stops when they hold every terminal's
//! last change. An optional server-specific check starts once the verifiers
//! are done, on the same clock (SnapKasir: read back from its storage).
//!
//! A verifier is a plain reader by default ([`Verifier::Plain`]: one
//! WebSocket, a `request` per document, automerge's sync protocol over a fresh
//! document until it holds the last change), or a samod client
//! ([`Verifier::Samod`], `--verifier samod`). The samod client's own
//! bookkeeping for 100 documents took two thirds of the machine's CPU while it
//! read (`perf`, 2026-12-05), more than the server it read from.
//!
//! Why frames made before the clock, not samod clients writing on it: on two
//! cores the load generator shares the machine with the server, and samod
//! clients spent more CPU making and syncing the changes than the SnapKasir
//! server spent taking them (7.4 s against 5.7 s for 30,000 changes), so they,
//! not the server, set the pace. The frames are what a client sends; each
//! server receives the same bytes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, sync};
use futures::future::{BoxFuture, try_join_all};
use futures::{SinkExt, StreamExt};
use shared_model::documents;
use shared_model::wire::{self, Message};
use sync_server::sync::cluster::WsDialer;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::procstat;

/// Everything a run gives up on after this long.
const DEADLINE: Duration = Duration::from_secs(600);

/// How the fresh clients that check a run read the documents back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verifier {
    /// A plain WebSocket per tenant speaking the sync protocol, as the writers do.
    Plain,
    /// A samod client per tenant (`Repo::find` for each document).
    Samod,
}

impl Verifier {
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        match s {
            "plain" => Ok(Self::Plain),
            "samod" => Ok(Self::Samod),
            other => anyhow::bail!("--verifier {other:?}: plain or samod"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Samod => "samod",
        }
    }
}

/// Where the load goes.
#[derive(Debug)]
pub struct Target {
    /// Name in the output.
    pub label: String,
    /// One WebSocket URL per terminal (with its token, where the server wants one).
    pub writer_urls: Vec<String>,
    /// For each terminal, the URL of a verifying client allowed to read its document (one
    /// client per distinct URL: the owner of each tenant).
    pub verifier_urls: Vec<String>,
    /// The server's process when it is not this one (its CPU is read from /proc).
    pub server_pid: Option<u32>,
}

/// A document written in a run: its id and the writer's heads after its last change.
#[derive(Debug, Clone)]
pub struct Written {
    pub document_id: String,
    pub heads: Vec<ChangeHash>,
}

/// A server-specific completion check, started on the clock once the changes are made.
pub type ExtraCheck =
    Box<dyn FnOnce(Vec<Written>) -> BoxFuture<'static, anyhow::Result<()>> + Send>;

/// Figures of one run; times are seconds on the run's clock.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub label: String,
    pub total: usize,
    pub verified: f64,
    pub acked: f64,
    pub extra: Option<f64>,
    pub server_cpu: f64,
    pub client_cpu: f64,
    pub load_before: f64,
    pub load_after: f64,
}

impl Outcome {
    /// Changes per second at the verified clock stop.
    pub fn rate(&self) -> f64 {
        self.total as f64 / self.verified
    }

    /// One line for the report.
    pub fn line(&self, extra_name: &str) -> String {
        let extra = self
            .extra
            .map(|s| format!(", {extra_name} {s:.2} s"))
            .unwrap_or_default();
        format!(
            "{}: {} changes verified by a fresh client in {:.2} s = {:.0} changes/s (acked {:.2} s{extra}); CPU over the run: server {:.2} s ({:.0}% of one core), load generator {:.2} s ({:.0}%); load average {:.2} -> {:.2}",
            self.label,
            self.total,
            self.verified,
            self.rate(),
            self.acked,
            self.server_cpu,
            100.0 * self.server_cpu / self.verified,
            self.client_cpu,
            100.0 * self.client_cpu / self.verified,
            self.load_before,
            self.load_after,
        )
    }
}

/// A terminal ready for the clock: its connection and the frames it will send.
struct Terminal {
    ws: WsStream,
    /// One `sync` frame per change.
    frames: Vec<Vec<u8>>,
    written: Written,
}

type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn dial(url: &str) -> anyhow::Result<(samod::Repo, samod::DialerHandle<std::io::Error>)> {
    let repo = samod::Repo::build_tokio().load().await;
    let dialer = repo.dial(
        samod::BackoffConfig::default(),
        Arc::new(WsDialer::new(samod::Url::parse(url)?)),
    )?;
    tokio::time::timeout(Duration::from_secs(30), dialer.established())
        .await
        .context("handshake timeout")?
        .map_err(|e| anyhow::anyhow!("dial {url}: {e:?}"))?;
    Ok((repo, dialer))
}

/// The terminal's document, created through a samod client and taken by the server.
async fn create_document(index: usize, url: &str) -> anyhow::Result<(String, Automerge)> {
    let (repo, dialer) = dial(url).await?;
    let conn = dialer
        .connection_id()
        .context("established dialer without a connection")?;
    let mut initial = Automerge::new();
    initial
        .transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, "terminal", index as i64)?;
            Ok(())
        })
        .map_err(|f| f.error)?;
    let doc = repo
        .create(initial)
        .await
        .map_err(|_| anyhow::anyhow!("repo stopped"))?;
    tokio::time::timeout(Duration::from_secs(60), doc.they_have_our_changes(conn))
        .await
        .context("the server did not take the initial document")?;
    let id = doc.document_id().to_string();
    let mut copy = doc.with_document(|d| d.clone());
    drop(dialer);
    repo.stop().await;
    copy.set_actor(automerge::ActorId::random());
    Ok((id, copy))
}

/// `changes` changes to `doc`, each encoded as the sync message that carries it.
fn sync_messages(doc: &mut Automerge, changes: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity(changes);
    for i in 0..changes {
        let before = doc.get_heads();
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, format!("sale-{i}"), i as i64)?;
            Ok(())
        })
        .map_err(|f| f.error)?;
        let change = doc
            .get_last_local_change()
            .context("a change was just made")?;
        let message = sync::Message {
            heads: doc.get_heads(),
            need: Vec::new(),
            // The client has everything up to `before`, and this change since.
            have: vec![sync::Have {
                last_sync: before,
                bloom: sync::BloomFilter::from_hashes(std::iter::once(change.hash())),
            }],
            changes: vec![change.raw_bytes().to_vec()].into(),
            flags: None,
            version: sync::MessageVersion::V1,
        };
        out.push(message.encode());
    }
    Ok(out)
}

/// A plain WebSocket that has joined as `peer`; returns it with the server's peer id.
async fn join(url: &str, peer: &str) -> anyhow::Result<(WsStream, String)> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    ws.send(WsMessage::Binary(wire::encode(&Message::join(peer)).into()))
        .await?;
    let reply = tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .context("no peer message")?
        .context("closed before peer")??;
    match wire::decode(&reply.into_data())? {
        Message::Peer { sender_id, .. } => Ok((ws, sender_id)),
        other => anyhow::bail!("expected peer, got {:?}", other.kind()),
    }
}

async fn connect_terminal(index: usize, url: &str, changes: usize) -> anyhow::Result<Terminal> {
    let (document_id, mut doc) = create_document(index, url).await?;
    let messages = sync_messages(&mut doc, changes)?;
    let peer = format!("bench-writer-{index}-{}", rand::random::<u32>());
    let (ws, server) = join(url, &peer).await?;
    let frames = messages
        .into_iter()
        .map(|data| {
            wire::encode(&Message::Sync {
                sender_id: peer.clone(),
                target_id: server.clone(),
                document_id: document_id.clone(),
                data,
            })
        })
        .collect();
    Ok(Terminal {
        ws,
        frames,
        written: Written {
            document_id,
            heads: doc.get_heads(),
        },
    })
}

/// Sends a terminal's frames; returns once the server's replies name its last change as a head.
/// Reading goes on beside sending so that the server never waits on a full socket.
async fn replay(t: Terminal) -> anyhow::Result<()> {
    let (mut tx, mut rx) = t.ws.split();
    let last = t.written.heads.clone();
    let acked = async move {
        while let Some(msg) = rx.next().await {
            let WsMessage::Binary(bytes) = msg? else {
                continue;
            };
            let frame = wire::decode(&bytes)?;
            if let Message::Error { message } = &frame {
                anyhow::bail!("server error: {message:?}");
            }
            if let Message::Sync { data, .. } = frame
                && sync::Message::decode(&data)
                    .is_ok_and(|m| last.iter().all(|h| m.heads.contains(h)))
            {
                return Ok(rx);
            }
        }
        anyhow::bail!("the server closed the connection before taking every change")
    };
    let send = async move {
        for f in t.frames {
            tx.feed(WsMessage::Binary(f.into())).await?;
        }
        tx.flush().await?;
        Ok::<_, anyhow::Error>(tx)
    };
    let (tx, rx) = tokio::try_join!(send, acked)?;
    if let Ok(mut ws) = tx.reunite(rx) {
        let _ = ws.close(None).await;
    }
    Ok(())
}

/// Waits until `repo` (fetching from its server) holds every change up to `heads`.
async fn verify(repo: samod::Repo, w: Written) -> anyhow::Result<()> {
    let id: samod::DocumentId = w
        .document_id
        .parse()
        .map_err(|e| anyhow::anyhow!("document id {}: {e:?}", w.document_id))?;
    loop {
        let Some(handle) = repo
            .find(id.clone())
            .await
            .map_err(|_| anyhow::anyhow!("verifier stopped"))?
        else {
            // Not (yet) available on the server: ask again.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let mut changed = std::pin::pin!(handle.changes());
        loop {
            if handle.with_document(|d| documents::has_changes(d, &w.heads)) {
                return Ok(());
            }
            // A change notification, or a look again in a while.
            let _ = tokio::time::timeout(Duration::from_millis(100), changed.next()).await;
        }
    }
}

/// A document a plain reader fetches: its copy, its sync state, and the heads it waits for.
struct Reading {
    doc: Automerge,
    state: sync::State,
    wanted: Vec<ChangeHash>,
}

/// Fetches `docs` over one plain WebSocket from `url`: a `request` per document, then the sync
/// protocol on each until the reader holds every writer's last change.
async fn read_plain(url: &str, docs: Vec<Written>) -> anyhow::Result<()> {
    let peer = format!("bench-reader-{}", rand::random::<u32>());
    let (ws, server) = join(url, &peer).await?;
    let (mut tx, mut rx) = ws.split();
    let frame = |kind_request: bool, document_id: &str, data: Vec<u8>| {
        let (sender_id, target_id, document_id) =
            (peer.clone(), server.clone(), document_id.to_string());
        let m = if kind_request {
            Message::Request {
                sender_id,
                target_id,
                document_id,
                data,
            }
        } else {
            Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            }
        };
        WsMessage::Binary(wire::encode(&m).into())
    };
    let mut reading = HashMap::with_capacity(docs.len());
    for w in docs {
        let mut r = Reading {
            doc: Automerge::new(),
            state: sync::State::new(),
            wanted: w.heads,
        };
        let first = r
            .doc
            .generate_sync_message(&mut r.state)
            .context("an empty document has a first sync message")?;
        tx.feed(frame(true, &w.document_id, first.encode())).await?;
        reading.insert(w.document_id, r);
    }
    tx.flush().await?;
    // A document leaves `reading` once the reader holds what it waits for.
    while !reading.is_empty() {
        let msg = rx
            .next()
            .await
            .context("the server closed the connection while documents were read")??;
        let WsMessage::Binary(bytes) = msg else {
            continue;
        };
        match wire::decode(&bytes)? {
            Message::Sync {
                document_id, data, ..
            } => {
                // Documents offered unasked (an owner is offered its stores' documents) are
                // not this reader's.
                let Some(r) = reading.get_mut(&document_id) else {
                    continue;
                };
                r.doc
                    .receive_sync_message(&mut r.state, sync::Message::decode(&data)?)?;
                if documents::has_changes(&r.doc, &r.wanted) {
                    reading.remove(&document_id);
                } else if let Some(reply) = r.doc.generate_sync_message(&mut r.state) {
                    tx.send(frame(false, &document_id, reply.encode())).await?;
                }
            }
            Message::DocUnavailable { document_id, .. } => {
                anyhow::bail!("the server says it does not have {document_id}")
            }
            Message::Error { message } => anyhow::bail!("server error: {message:?}"),
            _ => {}
        }
    }
    let mut ws = tx
        .reunite(rx)
        .map_err(|_| anyhow::anyhow!("split halves"))?;
    let _ = ws.close(None).await;
    Ok(())
}

/// A samod reader, stopped once the clock has stopped.
type SamodReader = (samod::Repo, samod::DialerHandle<std::io::Error>);

/// Every document of `written` read back by a fresh client of its tenant (`urls[i]` may read
/// `written[i]`), one client per distinct URL. Returns the samod readers, for the caller to stop
/// off the clock.
async fn read_back(
    verifier: Verifier,
    written: &[Written],
    urls: &[String],
) -> anyhow::Result<Vec<SamodReader>> {
    let mut by_url: HashMap<&str, Vec<Written>> = HashMap::new();
    for (w, url) in written.iter().zip(urls) {
        by_url.entry(url.as_str()).or_default().push(w.clone());
    }
    match verifier {
        Verifier::Plain => {
            try_join_all(by_url.into_iter().map(|(url, docs)| read_plain(url, docs))).await?;
            Ok(Vec::new())
        }
        Verifier::Samod => {
            let dialed = try_join_all(by_url.keys().map(|url| dial(url))).await?;
            try_join_all(by_url.values().zip(&dialed).flat_map(|(docs, (repo, _))| {
                docs.iter().map(|w| verify(repo.clone(), w.clone()))
            }))
            .await?;
            Ok(dialed)
        }
    }
}

/// Runs the workload once against `target`.
pub async fn run(
    target: &Target,
    changes: usize,
    verifier: Verifier,
    extra: Option<ExtraCheck>,
) -> anyhow::Result<Outcome> {
    let terminals = try_join_all(
        target
            .writer_urls
            .iter()
            .enumerate()
            .map(|(i, url)| connect_terminal(i, url, changes)),
    )
    .await
    .with_context(|| format!("{}: connecting the terminals", target.label))?;
    let written: Vec<Written> = terminals.iter().map(|t| t.written.clone()).collect();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let load_before = procstat::loadavg();
    let cpu_before = cpu(target.server_pid);
    let started = Instant::now();
    let acked = async {
        try_join_all(
            terminals
                .into_iter()
                .map(|t| async move { tokio::spawn(replay(t)).await? }),
        )
        .await?;
        Ok::<_, anyhow::Error>(started.elapsed().as_secs_f64())
    };
    // The verifiers connect once every terminal's last change is acknowledged: connected
    // earlier, they would be sent every change as it arrives, and both sides would do a second
    // ingest's work.
    let run = async {
        let acked = acked.await?;
        let readers = read_back(verifier, &written, &target.verifier_urls).await?;
        let secs = started.elapsed().as_secs_f64();
        for (repo, dialer) in readers {
            drop(dialer);
            repo.stop().await;
        }
        Ok::<_, anyhow::Error>((acked, secs))
    };
    let (acked, verified) = tokio::time::timeout(DEADLINE, run)
        .await
        .with_context(|| format!("{}: the run did not finish in {DEADLINE:?}", target.label))??;
    // CPU and load up to the verified clock stop.
    let cpu_after = cpu(target.server_pid);
    let load_after = procstat::loadavg();
    // The server-specific check starts once the verifier is done, so that its polling does not
    // slow the figure compared across servers; it stays on the same clock.
    let extra = match extra {
        Some(check) => {
            tokio::time::timeout(DEADLINE, check(written.clone()))
                .await
                .with_context(|| format!("{}: the extra check did not finish", target.label))??;
            Some(started.elapsed().as_secs_f64())
        }
        None => None,
    };

    Ok(Outcome {
        label: target.label.clone(),
        total: written.len() * changes,
        verified,
        acked,
        extra,
        server_cpu: procstat::secs(cpu_after.0 - cpu_before.0),
        client_cpu: procstat::secs(cpu_after.1 - cpu_before.1),
        load_before,
        load_after,
    })
}

/// (server, load generator) CPU ticks so far. The in-process server's threads
/// count as server; when the server is another process, they are idle and
/// count for neither.
fn cpu(server_pid: Option<u32>) -> (u64, u64) {
    let (own_server, client) = procstat::self_ticks();
    match server_pid {
        Some(pid) => (procstat::pid_ticks(pid), client),
        None => (own_server, client),
    }
}
