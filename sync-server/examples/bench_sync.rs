//! Sync-server benchmarks (figures go to BENCHMARKS.md).
//!
//! `cargo run --release -p sync-server --example bench_sync -- [--postgres URL] [--terminals 100] [--per-store 1] [--changes 20] [--idle 2000]`
//!
//! 1. ingest: `--terminals` samod clients (one enrolled terminal each, one
//!    journal-like document each) make `--changes` changes as fast as they
//!    can; the clock stops when every change is read back from storage
//!    (`Services::persisted`). Projections run. Clients and server share this
//!    process and its cores, so the figure is a lower bound for the server.
//! 2. idle: `--idle` WebSocket connections that joined and then stay silent;
//!    reports the growth of this process's RSS (server and client sides).
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{SinkExt, StreamExt};
use sync_server::app::AppState;
use sync_server::auth::{Principal, Role};
use sync_server::config::Config;
use sync_server::storage::{DynStorage, PgStorage, SqliteStorage};
use sync_server::sync::cluster::WsDialer;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let terminals: usize = arg(&args, "--terminals")
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(100);
    let changes: usize = arg(&args, "--changes")
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(20);
    let idle: usize = arg(&args, "--idle")
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(2000);
    let _dir = tempfile::tempdir()?;
    let storage: DynStorage = match arg(&args, "--postgres") {
        Some(url) => Arc::new(PgStorage::connect(&url, 16).await?),
        None => Arc::new(SqliteStorage::open(_dir.path()).await?),
    };
    storage.migrate().await?;
    let backend = storage.backend();
    let config = Config {
        rate_limit_frames_per_sec: 1e9,
        rate_limit_burst: 1e9,
        ..Config::default()
    };
    let state = AppState::new(storage, Arc::new(config)).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(sync_server::app::serve(
        listener,
        state.clone(),
        std::future::pending(),
    ));
    let s = &state.services;
    let email = format!("bench-{}@example.com", uuid::Uuid::now_v7().simple());
    let b = s
        .bootstrap("Bench", "B1", "Bench", &email, "bench-password")
        .await?;
    let owner = Principal::User {
        user_id: b.owner_id,
        tenant_id: b.tenant_id.clone(),
        store_id: None,
        role: Role::Owner,
    };
    let ip = "127.0.0.1".parse()?;
    let mut creds = Vec::new();
    // Terminals per store (default 1: many shops). Within a store the server
    // shares every document with every till, so K tills multiply the traffic.
    let per_store: usize = arg(&args, "--per-store")
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(1);
    let mut store_id = b.store_id.clone();
    for i in 0..terminals {
        if i > 0 && i % per_store.max(1) == 0 {
            store_id = s.create_store(&owner, &format!("S{i}"), "Bench").await?.id;
        }
        let code = s
            .create_enrollment_code(&owner, &store_id, &format!("T{i}"))
            .await?;
        creds.push(s.enroll(&code.code, ip).await?);
    }

    // ---- ingest
    let mut clients = Vec::new();
    for e in &creds {
        let repo = samod::Repo::build_tokio().load().await;
        let url = samod::Url::parse(&format!("ws://{addr}/sync?token={}", e.device_credential))?;
        let d = repo.dial(
            samod::BackoffConfig::default(),
            Arc::new(WsDialer::new(url)),
        )?;
        tokio::time::timeout(Duration::from_secs(30), d.established())
            .await
            .context("handshake timeout")?
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let doc = repo.create(automerge::Automerge::new()).await?;
        clients.push((repo, d, doc, e.clone_principal()));
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (_, _, doc, _) in &clients {
        let doc = doc.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..changes {
                doc.with_document(|d| {
                    use automerge::transaction::Transactable;
                    d.transact::<_, _, automerge::AutomergeError>(|tx| {
                        tx.put(automerge::ROOT, format!("sale-{i}"), i as i64)?;
                        Ok(())
                    })
                    .map(|_| ())
                    .map_err(|f| f.error.to_string())
                })
                .expect("change");
                tokio::task::yield_now().await;
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    for (_, _, doc, who) in &clients {
        let heads: Vec<String> = doc
            .with_document(|d| d.get_heads())
            .iter()
            .map(|h| h.to_string())
            .collect();
        loop {
            match s
                .persisted(who, &doc.document_id().to_string(), &heads)
                .await
            {
                Ok(p) if p.all => break,
                Ok(_) => {}
                Err(e) => eprintln!("persisted check failed (retrying): {e}"),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let total = terminals * changes;
    println!(
        "ingest [{backend}]: {terminals} terminals x {changes} changes = {total} changes persisted in {secs:.2} s = {:.0} changes/s",
        total as f64 / secs
    );
    for (repo, _, _, _) in clients {
        repo.stop().await;
    }

    // ---- idle connections
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib();
    let mut sockets = Vec::with_capacity(idle);
    let token = &creds[0].device_credential;
    for i in 0..idle {
        // Small client buffers so that the RSS growth is mostly the server's.
        let cfg = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(4096);
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(
            format!("ws://{addr}/sync?token={token}"),
            Some(cfg),
            false,
        )
        .await?;
        ws.send(tokio_tungstenite::tungstenite::Message::Binary(
            sync_server::sync::protocol::encode_join(&format!("idle-{i}"), &["1"]).into(),
        ))
        .await?;
        let _peer = ws.next().await;
        sockets.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib();
    let per_conn = (after.saturating_sub(before)) as f64 / idle as f64;
    println!(
        "idle [{backend}]: {idle} joined idle connections, RSS {before} KiB -> {after} KiB, {per_conn:.1} KiB per connection (server + client side) => {:.0} connections per GiB",
        1024.0 * 1024.0 / per_conn.max(0.001)
    );
    println!("server open connections: {}", s.connections.len());
    Ok(())
}

trait ClonePrincipal {
    fn clone_principal(&self) -> Principal;
}

impl ClonePrincipal for sync_server::service::Enrollment {
    fn clone_principal(&self) -> Principal {
        Principal::Terminal {
            terminal_id: self.terminal_id.clone(),
            tenant_id: self.tenant_id.clone(),
            store_id: self.store_id.clone(),
        }
    }
}
