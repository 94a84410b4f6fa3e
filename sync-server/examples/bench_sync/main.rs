//! Sync-server benchmarks (figures go to BENCHMARKS.md).
//!
//! `cargo run --release -p sync-server --example bench_sync -- [--postgres URL] [--terminals 100] [--per-store 1] [--per-tenant 2] [--changes 20] [--idle 2000] [--js-reference] [--js-share none|all] [--js-dir DIR] [--rounds 1] [--verifier plain|samod]`
//!
//! 1. ingest (`ingest.rs`): `--terminals` samod clients (one enrolled
//!    terminal each, one journal-like document each; `--per-store` to a store,
//!    `--per-tenant` to a tenant, 2 by default) make `--changes`
//!    changes as fast as they can; the clock stops when fresh verifying
//!    clients (each tenant's owner) have fetched every document with every
//!    change (`--verifier`: a plain sync-protocol reader, the default, or a
//!    samod client; `ingest.rs` says why). The time at which every change
//!    reads back from storage (`Services::persisted`) is reported as well.
//!    Projections run.
//! 2. `--js-reference`: the same workload, in the same run and with the same
//!    Rust clients, against the automerge-repo JavaScript reference sync
//!    server (`sync-server/bench/js-reference-server`, run `npm install`
//!    there first) as a Node child process, no token; prints both figures and
//!    the ratio. `--rounds R` repeats it R times with fresh servers (the
//!    order flips every round) and compares medians.
//! 3. idle: `--idle` WebSocket connections that joined and then stay silent;
//!    reports the growth of this process's RSS (server and client sides).
//!    `--idle 0` skips it.
//!
//! The SnapKasir server runs in this process on its own tokio runtime
//! (threads `sk-server`; the process has the `sync-server` binary's allocator), the load
//! generator on another, so the CPU time of
//! each side is read from `/proc/self/task`; the Node server's from
//! `/proc/<pid>/stat`. All share this machine's cores.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod ingest;
mod js_reference;
mod procstat;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sync_server::auth::{Principal, Role};
use sync_server::config::Config;
use sync_server::service::Enrollment;
use sync_server::state::AppState;
use sync_server::storage::{DynStorage, PgStorage, SqliteStorage};
use tokio::runtime::Handle;

/// The shipped server's allocator (`src/main.rs`): the server this bench measures runs in this
/// process, so the process uses what the `sync-server` binary uses. With glibc's malloc,
/// `malloc` and `free` were 15% of the server threads' samples on the chain's clock (`perf`,
/// 2026-12-06).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn num(args: &[String], name: &str, default: usize) -> anyhow::Result<usize> {
    Ok(arg(args, name)
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(default))
}

/// The SnapKasir server under test and what the bench enrolled on it.
struct Sk {
    state: AppState,
    addr: SocketAddr,
    backend: &'static str,
    /// Per terminal: its enrollment and the index of its tenant's owner.
    creds: Vec<(Enrollment, usize)>,
    /// Per tenant: the owner and the owner's access token.
    owners: Vec<(Principal, String)>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Sk {
    /// Stops accepting connections, closes the open ones and stops the sync repos (on the
    /// server's runtime), as the JavaScript server's process ends after its round: a round's
    /// server does not tick on beside the next round's (each samod repo wakes ten times a
    /// second). The data directory stays until the process ends.
    async fn stop(&mut self, server: &Handle) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let state = self.state.clone();
        server.spawn(async move { state.shutdown().await }).await?;
        Ok(())
    }
}

/// Starts the server (on the current runtime: call it on the server's) and
/// enrolls `terminals` terminals, `per_store` to a store and `per_tenant` to a tenant.
async fn start_server(
    postgres: Option<String>,
    terminals: usize,
    per_store: usize,
    per_tenant: usize,
) -> anyhow::Result<Sk> {
    let dir = tempfile::tempdir()?;
    let storage: DynStorage = match postgres {
        Some(url) => Arc::new(PgStorage::connect(&url, 16).await?),
        None => Arc::new(SqliteStorage::open(dir.path()).await?),
    };
    storage.migrate().await?;
    let backend = storage.backend();
    let config = Config {
        rate_limit_frames_per_sec: 1e9,
        rate_limit_burst: 1e9,
        // The idle measurement opens `--idle` connections with one till's credential from one
        // address; the default caps (8 per principal, 200 per address) refused them with 429.
        max_connections_per_principal: 0,
        max_connections_per_tenant: 0,
        max_connections_per_address: 0,
        ..Config::default()
    };
    let state = AppState::new(storage, Arc::new(config)).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(sync_server::app::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    let s = &state.services;
    let ip = "127.0.0.1".parse()?;
    // Within a store the server shares every document with every till, so
    // K tills per store multiply the traffic.
    let mut creds = Vec::new();
    let mut owners: Vec<(Principal, String)> = Vec::new();
    let mut store_id = String::new();
    let (per_store, per_tenant) = (per_store.max(1), per_tenant.max(1));
    for i in 0..terminals {
        if i % per_tenant == 0 {
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
            // The verifying client is the owner, who may read every store's documents.
            let token = s.login(&email, "bench-password", ip).await?.access_token;
            owners.push((owner, token));
            store_id = b.store_id;
        } else if i % per_tenant % per_store == 0 {
            let owner = &owners.last().expect("a tenant").0;
            store_id = s.create_store(owner, &format!("S{i}"), "Bench").await?.id;
        }
        let code = s
            .create_enrollment_code(
                &owners.last().expect("a tenant").0,
                &store_id,
                &format!("T{i}"),
            )
            .await?;
        creds.push((s.enroll(&code.code, None, ip).await?, owners.len() - 1));
    }
    Ok(Sk {
        state,
        addr,
        backend,
        creds,
        owners,
        stop: Some(stop),
        _dir: dir,
    })
}

/// Storage read-back on the server's runtime: every document's heads are in storage.
fn persisted_check(sk: &Sk, server: &Handle) -> ingest::ExtraCheck {
    let state = sk.state.clone();
    let owners: Vec<Principal> = sk
        .creds
        .iter()
        .map(|(_, o)| sk.owners[*o].0.clone())
        .collect();
    let server = server.clone();
    Box::new(move |written| {
        Box::pin(async move {
            server
                .spawn(async move {
                    let s = &state.services;
                    for (w, owner) in written.into_iter().zip(&owners) {
                        let heads: Vec<String> = w.heads.iter().map(|h| h.to_string()).collect();
                        loop {
                            match s.persisted(owner, &w.document_id, &heads).await {
                                Ok(p) if p.all => break,
                                Ok(_) => {}
                                Err(e) => eprintln!("persisted check failed (retrying): {e}"),
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                })
                .await?;
            Ok(())
        })
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() -> anyhow::Result<()> {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name(procstat::SERVER_THREAD)
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    let result = client_rt.block_on(bench(server_rt.handle().clone()));
    client_rt.shutdown_timeout(Duration::from_secs(1));
    server_rt.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn bench(server: Handle) -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let terminals = num(&args, "--terminals", 100)?;
    let changes = num(&args, "--changes", 20)?;
    let idle = num(&args, "--idle", 2000)?;
    let per_store = num(&args, "--per-store", 1)?;
    let per_tenant = num(&args, "--per-tenant", 2)?;
    let rounds = num(&args, "--rounds", 1)?.max(1);
    let js = args.iter().any(|a| a == "--js-reference");
    let js_share = arg(&args, "--js-share").unwrap_or_else(|| "none".into());
    let js_dir = arg(&args, "--js-dir").map_or_else(js_reference::default_dir, Into::into);
    let verifier =
        ingest::Verifier::parse(&arg(&args, "--verifier").unwrap_or_else(|| "plain".into()))?;

    let postgres = arg(&args, "--postgres");
    println!(
        "ingest: {terminals} terminals ({per_store} per store, {per_tenant} per tenant) x {changes} changes, {rounds} round(s), fresh servers every round, verified by a fresh {} client per tenant, {} cores, load average {:.2}",
        verifier.name(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        procstat::loadavg()
    );
    let mut backend = "";
    let mut servers = Vec::new();
    let mut sk_runs = Vec::new();
    let mut js_runs = Vec::new();
    for round in 0..rounds {
        let mut sk = server
            .spawn(start_server(
                postgres.clone(),
                terminals,
                per_store,
                per_tenant,
            ))
            .await??;
        backend = sk.backend;
        let sk_target = ingest::Target {
            label: format!("snapkasir [{backend}]"),
            writer_urls: sk
                .creds
                .iter()
                .map(|(e, _)| format!("ws://{}/sync?token={}", sk.addr, e.device_credential))
                .collect(),
            verifier_urls: sk
                .creds
                .iter()
                .map(|(_, o)| format!("ws://{}/sync?token={}", sk.addr, sk.owners[*o].1))
                .collect(),
            server_pid: None,
        };
        let js_server = if js {
            let j = js_reference::start(&js_dir, &js_share).await?;
            if round == 0 {
                println!("js reference server: {}", j.ready);
            }
            Some(j)
        } else {
            None
        };
        let js_target = js_server.as_ref().map(|j| ingest::Target {
            label: format!(
                "js reference [automerge-repo {}, nodefs, share {js_share}]",
                j.ready["automergeRepo"].as_str().unwrap_or("?")
            ),
            writer_urls: vec![format!("ws://127.0.0.1:{}/", j.port); terminals],
            verifier_urls: vec![format!("ws://127.0.0.1:{}/", j.port); terminals],
            server_pid: Some(j.pid),
        });
        // The order flips every round.
        let js_first = round % 2 == 1;
        for which in [js_first, !js_first] {
            let outcome = match (which, &js_target) {
                (false, _) => {
                    let o = ingest::run(
                        &sk_target,
                        changes,
                        verifier,
                        Some(persisted_check(&sk, &server)),
                    )
                    .await?;
                    sk_runs.push(o.clone());
                    o
                }
                (true, Some(t)) => {
                    let o = ingest::run(t, changes, verifier, None).await?;
                    js_runs.push(o.clone());
                    o
                }
                (true, None) => continue,
            };
            println!(
                "round {}: {}",
                round + 1,
                outcome.line("read back from storage")
            );
        }
        drop(js_server);
        if round + 1 < rounds || idle == 0 {
            sk.stop(&server).await?;
        }
        servers.push(sk);
    }
    let sk_rate = median(sk_runs.iter().map(ingest::Outcome::rate).collect());
    let sk_persisted = median(
        sk_runs
            .iter()
            .filter_map(|o| o.extra.map(|s| o.total as f64 / s))
            .collect(),
    );
    println!(
        "ingest [{backend}]: median {sk_rate:.0} changes/s verified by a fresh client, {sk_persisted:.0} changes/s read back from storage"
    );
    if !js_runs.is_empty() {
        let js_rate = median(js_runs.iter().map(ingest::Outcome::rate).collect());
        let ratio = sk_rate / js_rate;
        println!(
            "ingest [js reference]: median {js_rate:.0} changes/s verified by a fresh client\nratio snapkasir [{backend}] / js reference: {ratio:.1}x (goal >= 10x: {})",
            if ratio >= 10.0 { "met" } else { "not met" }
        );
    }
    if idle > 0
        && let Some(sk) = servers.last()
    {
        idle_connections(sk, idle).await?;
    }
    Ok(())
}

/// `idle` joined, silent WebSocket connections; growth of this process's RSS.
async fn idle_connections(sk: &Sk, idle: usize) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = procstat::rss_kib();
    let mut sockets = Vec::with_capacity(idle);
    let token = &sk.creds[0].0.device_credential;
    for i in 0..idle {
        // Small client buffers so that the RSS growth is mostly the server's.
        let cfg = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(4096);
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(
            format!("ws://{}/sync?token={token}", sk.addr),
            Some(cfg),
            false,
        )
        .await?;
        ws.send(tokio_tungstenite::tungstenite::Message::Binary(
            shared_model::wire::encode(&shared_model::wire::Message::join(format!("idle-{i}")))
                .into(),
        ))
        .await?;
        let _peer = ws.next().await;
        sockets.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = procstat::rss_kib();
    let per_conn = (after.saturating_sub(before)) as f64 / idle as f64;
    println!(
        "idle [{}]: {idle} joined idle connections, RSS {before} KiB -> {after} KiB, {per_conn:.1} KiB per connection (server + client side) => {:.0} connections per GiB",
        sk.backend,
        1024.0 * 1024.0 / per_conn.max(0.001)
    );
    println!(
        "server open connections: {}",
        sk.state.services.connections.len()
    );
    Ok(())
}
