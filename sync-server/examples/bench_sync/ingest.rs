//! The ingest workload, the same against any automerge-repo sync server.
//!
//! Before the clock: one samod client ("terminal") per writer URL connects and
//! creates its own document with one change, and waits until the server has
//! it. On the clock: every terminal makes `changes` changes as fast as it can;
//! then fresh verifying samod clients (one per tenant) connect and fetch every document,
//! and the clock stops when it holds every terminal's last change. Two more
//! times are taken on the same clock: when every terminal's sync state says
//! the server has its changes (acked), and an optional server-specific check
//! (SnapKasir: read back from its storage).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use automerge::transaction::Transactable;
use automerge::{ChangeHash, ReadDoc};
use futures::StreamExt;
use futures::future::{BoxFuture, join_all, try_join_all};
use sync_server::sync::cluster::WsDialer;

use crate::procstat;

/// Everything a run gives up on after this long.
const DEADLINE: Duration = Duration::from_secs(600);

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

struct Terminal {
    repo: samod::Repo,
    conn: samod::ConnectionId,
    doc: samod::DocHandle,
    // Keeps the connection dialled.
    _dialer: samod::DialerHandle<std::io::Error>,
}

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

async fn connect_terminal(index: usize, url: &str) -> anyhow::Result<Terminal> {
    let (repo, dialer) = dial(url).await?;
    let conn = dialer
        .connection_id()
        .context("established dialer without a connection")?;
    let mut initial = automerge::Automerge::new();
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
    Ok(Terminal {
        repo,
        conn,
        doc,
        _dialer: dialer,
    })
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
            let complete =
                handle.with_document(|d| w.heads.iter().all(|h| d.get_change_by_hash(h).is_some()));
            if complete {
                return Ok(());
            }
            // A change notification, or a look again in a while.
            let _ = tokio::time::timeout(Duration::from_millis(100), changed.next()).await;
        }
    }
}

/// Runs the workload once against `target`.
pub async fn run(
    target: &Target,
    changes: usize,
    extra: Option<ExtraCheck>,
) -> anyhow::Result<Outcome> {
    let terminals = try_join_all(
        target
            .writer_urls
            .iter()
            .enumerate()
            .map(|(i, url)| connect_terminal(i, url)),
    )
    .await
    .with_context(|| format!("{}: connecting the terminals", target.label))?;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let load_before = procstat::loadavg();
    let cpu_before = cpu(target.server_pid);
    let started = Instant::now();
    let writers = terminals.iter().map(|t| {
        let doc = t.doc.clone();
        tokio::spawn(async move {
            for i in 0..changes {
                doc.with_document(|d| {
                    d.transact::<_, _, automerge::AutomergeError>(|tx| {
                        tx.put(automerge::ROOT, format!("sale-{i}"), i as i64)?;
                        Ok(())
                    })
                    .map(|_| ())
                    .map_err(|f| f.error)
                })?;
                tokio::task::yield_now().await;
            }
            Ok::<_, anyhow::Error>(Written {
                document_id: doc.document_id().to_string(),
                heads: doc.with_document(|d| d.get_heads()),
            })
        })
    });
    let mut written = Vec::with_capacity(terminals.len());
    for w in join_all(writers).await {
        written.push(w??);
    }

    let acked = async {
        join_all(
            terminals
                .iter()
                .map(|t| t.doc.they_have_our_changes(t.conn)),
        )
        .await;
        started.elapsed().as_secs_f64()
    };
    let verified = async {
        let mut verifiers: HashMap<&str, (samod::Repo, samod::DialerHandle<std::io::Error>)> =
            HashMap::new();
        for url in &target.verifier_urls {
            if !verifiers.contains_key(url.as_str()) {
                verifiers.insert(url, dial(url).await?);
            }
        }
        try_join_all(
            written
                .iter()
                .zip(&target.verifier_urls)
                .map(|(w, url)| verify(verifiers[url.as_str()].0.clone(), w.clone())),
        )
        .await?;
        let secs = started.elapsed().as_secs_f64();
        for (_, (verifier, dialer)) in verifiers {
            drop(dialer);
            verifier.stop().await;
        }
        Ok::<_, anyhow::Error>(secs)
    };
    let extra_done = async {
        match extra {
            Some(check) => {
                check(written.clone()).await?;
                Ok::<_, anyhow::Error>(Some(started.elapsed().as_secs_f64()))
            }
            None => Ok(None),
        }
    };
    let (acked, verified, extra) = tokio::time::timeout(DEADLINE, async {
        tokio::join!(acked, verified, extra_done)
    })
    .await
    .with_context(|| format!("{}: the run did not finish in {DEADLINE:?}", target.label))?;
    let verified = verified?;
    let extra = extra?;
    let cpu_after = cpu(target.server_pid);
    let load_after = procstat::loadavg();

    for t in terminals {
        t.repo.stop().await;
    }
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
