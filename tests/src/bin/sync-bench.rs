//! Sync benchmarks across whole processes (issue 5): a real `sync-server` on PostgreSQL and
//! headless terminals (`snapkasir-terminal`). Prints its figures; BENCHMARKS.md ("Sync") keeps
//! them.
//!
//! 1. Offline day: T1 online, T2 behind a partitioned proxy sells 2,000 sales (checkout rate),
//!    then the proxy heals: time until T2 is back online, until PostgreSQL's `sales` table has
//!    all of them, and until T2's `waiting_sales` is 0 (stored and projected, acknowledged).
//! 2. A→B latency through the server, both online: sales on A one at a time, each timed until
//!    B holds it. Both terminals reach the server through a pass-through tap that timestamps
//!    every chunk, which splits each latency into A (checkout returned → first WebSocket bytes
//!    to the server), server (→ first WebSocket bytes to B) and B (→ B holds the sale).
//!
//! Latency runs four ways: test intervals and shop intervals (`SyncConfig::new`) with the nudge
//! after checkout, shop intervals without the nudge (poll only), and shop intervals with A's
//! journal of today already holding `--prefill` sales (default 500).
//!
//! Usage: `cargo run --release -p snapkasir-tests --bin sync-bench -- [offline|latency|prefill|all]
//! [--sales N] [--latency-sales N] [--prefill N] [--intervals shop|test]`; needs
//! `DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/postgres) and the `sync-server`
//! and `snapkasir-terminal` binaries of the same profile (`cargo build --release -p sync-server
//! -p snapkasir-tests`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use snapkasir_tests::processes::{TestDatabase, create_tenant_args, lines_of, psql};
use snapkasir_tests::proxy::FaultProxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SKUS: [&str; 3] = ["AQUA", "TEH", "KOPI"];

/// The directory holding this profile's binaries (`target/release` for a release run).
fn bin_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent().context("exe dir")?.to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    Ok(dir)
}

fn binary(name: &str) -> Result<PathBuf> {
    let dir = bin_dir()?;
    let p = dir.join(name);
    if !p.exists() {
        let release = if dir.ends_with("release") {
            " --release"
        } else {
            ""
        };
        bail!(
            "{} is missing: build it with `cargo build{release} -p sync-server -p snapkasir-tests`",
            p.display()
        );
    }
    Ok(p)
}

struct Server {
    child: Child,
    addr: SocketAddr,
    bin: PathBuf,
    db: String,
}

impl Server {
    fn start(db: &str, log: &Path) -> Result<Server> {
        let bin = binary("sync-server")?;
        let logfile = std::fs::File::create(log)?;
        let mut child = Command::new(&bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", db])
            .env("SNAPKASIR_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(logfile)
            .spawn()
            .context("start sync-server")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| anyhow!("sync-server did not start: {line:?}; see {}", log.display()))?;
        Ok(Server {
            child,
            addr,
            bin,
            db: db.into(),
        })
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn admin(&self, args: &[&str]) -> Result<Value> {
        let out = Command::new(&self.bin)
            .arg("admin")
            .args(["--database-url", &self.db])
            .args(args)
            .output()?;
        if !out.status.success() {
            bail!(
                "admin {args:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Term {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
    code: String,
}

impl Term {
    fn spawn(db: &Path, code: &str) -> Result<Term> {
        let log = std::fs::File::create(db.with_extension("log"))?;
        let mut child = Command::new(binary("snapkasir-terminal")?)
            .arg(db)
            .env("SNAPKASIR_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("start snapkasir-terminal")?;
        let stdin = child.stdin.take().context("stdin")?;
        let stdout = child.stdout.take().context("stdout")?;
        let replies = lines_of(stdout);
        Ok(Term {
            child,
            stdin,
            replies,
            code: code.into(),
        })
    }

    fn cmd(&mut self, command: Value) -> Result<Value> {
        writeln!(self.stdin, "{command}")?;
        self.stdin.flush()?;
        let line = self
            .replies
            .recv_timeout(Duration::from_millis(
                command["timeout_ms"].as_u64().unwrap_or(0) + 120_000,
            ))
            .map_err(|e| anyhow!("no reply from terminal {}: {e}", self.code))?;
        let v: Value = serde_json::from_str(&line)?;
        if v["ok"] == true {
            Ok(v["result"].clone())
        } else {
            Err(anyhow!(
                "terminal {} answered {command}: {}",
                self.code,
                v["error"]
            ))
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{{\"cmd\":\"exit\"}}");
        let _ = self.stdin.flush();
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chunk forwarded by the tap.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    at: Instant,
    tap: usize,
    to_server: bool,
    websocket: bool,
}

/// A pass-through TCP proxy that timestamps every chunk of every connection.
struct Tap {
    addr: SocketAddr,
}

impl Tap {
    async fn start(upstream: SocketAddr, id: usize, log: Arc<Mutex<Vec<Chunk>>>) -> Result<Tap> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let ws = Arc::new(std::sync::atomic::AtomicBool::new(false));
                    let (log2, ws2) = (log.clone(), ws.clone());
                    let up = async move {
                        let mut buf = vec![0u8; 64 * 1024];
                        let mut first = true;
                        while let Ok(n) = cr.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                            if first {
                                first = false;
                                ws2.store(
                                    buf[..n].starts_with(b"GET /sync"),
                                    std::sync::atomic::Ordering::Relaxed,
                                );
                            }
                            log2.lock().unwrap_or_else(|p| p.into_inner()).push(Chunk {
                                at: Instant::now(),
                                tap: id,
                                to_server: true,
                                websocket: ws2.load(std::sync::atomic::Ordering::Relaxed),
                            });
                            if sw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = sw.shutdown().await;
                    };
                    let down = async move {
                        let mut buf = vec![0u8; 64 * 1024];
                        while let Ok(n) = sr.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                            log.lock().unwrap_or_else(|p| p.into_inner()).push(Chunk {
                                at: Instant::now(),
                                tap: id,
                                to_server: false,
                                websocket: ws.load(std::sync::atomic::Ordering::Relaxed),
                            });
                            if cw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = cw.shutdown().await;
                    };
                    tokio::join!(up, down);
                });
            }
        });
        Ok(Tap { addr })
    }
}

fn enroll(
    rt: &tokio::runtime::Runtime,
    server: &Server,
    store_id: &str,
    name: &str,
) -> Result<String> {
    let made = server.admin(&[
        "enrollment-code",
        "--store-id",
        store_id,
        "--terminal-name",
        name,
    ])?;
    let code = made["code"]
        .as_str()
        .context("enrollment code")?
        .to_string();
    let url = format!("{}/api/v1/terminals/enroll", server.url());
    let reply: Value = rt.block_on(async {
        snapkasir_tests::processes::http_client()
            .post(url)
            .json(&json!({ "code": code }))
            .send()
            .await?
            .json()
            .await
    })?;
    Ok(reply["device_credential"]
        .as_str()
        .ok_or_else(|| anyhow!("enrolment failed: {reply}"))?
        .to_string())
}

/// A store with `n` terminals set up (T1 creates it, the others join), none syncing yet.
struct Store {
    store_id: String,
    terminals: Vec<Term>,
    credentials: Vec<String>,
}

fn setup_store(
    rt: &tokio::runtime::Runtime,
    server: &Server,
    dir: &Path,
    code: &str,
    n: usize,
) -> Result<Store> {
    let owner_email = format!("owner-{}@example.com", code.to_lowercase());
    let made = server.admin(&create_tenant_args(code, code, code, &owner_email))?;
    let store_id = made["store_id"].as_str().context("store id")?.to_string();
    let products: Vec<Value> = SKUS.iter().map(|s| json!([s, 5000, 1_000_000])).collect();
    let export = dir.join(format!("{code}.json"));
    let mut terminals = Vec::new();
    let mut credentials = Vec::new();
    for i in 0..n {
        let tcode = format!("T{}", i + 1);
        credentials.push(enroll(rt, server, &store_id, &tcode)?);
        let mut t = Term::spawn(&dir.join(format!("{code}-{tcode}.db")), &tcode)?;
        if i == 0 {
            t.cmd(json!({"cmd": "create_store", "store_id": store_id, "store_code": code, "terminal_code": tcode, "products": products}))?;
            t.cmd(json!({"cmd": "export", "path": export}))?;
        } else {
            t.cmd(json!({"cmd": "join", "path": export, "terminal_code": tcode}))?;
        }
        t.cmd(json!({"cmd": "start_shift"}))?;
        terminals.push(t);
    }
    Ok(Store {
        store_id,
        terminals,
        credentials,
    })
}

fn sync_cmd(url: &str, credential: &str, intervals: &str) -> Value {
    json!({"cmd": "sync", "server": url, "credential": credential, "intervals": intervals})
}

/// Percentile of sorted durations (nearest rank).
fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "p50 {}, p90 {}, p99 {}, max {} (n={})",
        ms(pct(&v, 50.0)),
        ms(pct(&v, 90.0)),
        ms(pct(&v, 99.0)),
        ms(v.last().copied().unwrap_or_default()),
        v.len()
    )
}

fn offline_day(
    rt: &tokio::runtime::Runtime,
    server: &Server,
    db: &str,
    dir: &Path,
    sales: usize,
    intervals: &str,
) -> Result<()> {
    println!(
        "== offline day: {sales} sales on T2 behind a partitioned proxy ({intervals} intervals) =="
    );
    let code = format!("OFF{}", rand::random::<u16>());
    let mut store = setup_store(rt, server, dir, &code, 2)?;
    let cred1 = store.credentials[0].clone();
    store.terminals[0].cmd(sync_cmd(&server.url(), &cred1, intervals))?;
    let proxy = rt.block_on(FaultProxy::start(server.addr))?;
    proxy.partition();
    let cred2 = store.credentials[1].clone();
    let t2url = format!("http://{}", proxy.addr());
    store.terminals[1].cmd(sync_cmd(&t2url, &cred2, intervals))?;
    let mut checkout = Vec::with_capacity(sales);
    let mut last_id = String::new();
    let started = Instant::now();
    for i in 0..sales {
        let t = Instant::now();
        let r = store.terminals[1]
            .cmd(json!({"cmd": "sell", "sku": SKUS[i % SKUS.len()], "qty": 1}))?;
        checkout.push(t.elapsed());
        last_id = r["sale_id"].as_str().context("sale id")?.to_string();
    }
    let selling = started.elapsed();
    println!(
        "checkout on T2 (offline): {sales} sales in {:.1} s = {:.0} sales/s; per sale {}",
        selling.as_secs_f64(),
        sales as f64 / selling.as_secs_f64(),
        summary(checkout.clone())
    );
    let first: Vec<Duration> = checkout[..sales.min(100)].to_vec();
    let last: Vec<Duration> = checkout[sales.saturating_sub(100)..].to_vec();
    println!(
        "  first 100: {}; last 100: {}",
        summary(first),
        summary(last)
    );
    let size = store.terminals[1].cmd(json!({"cmd": "journal_size"}))?;
    let status = store.terminals[1].cmd(json!({"cmd": "status"}))?;
    println!(
        "journal document of T2's day: {} bytes ({:.0} bytes/sale); waiting_sales before heal: {}",
        size["bytes"],
        size["bytes"].as_f64().unwrap_or(0.0) / sales as f64,
        status["sync"]["waiting_sales"]
    );
    let file = std::fs::metadata(dir.join(format!("{code}-T2.db")))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("T2's SQLite file: {file} bytes (WAL not counted)");

    let healed = Instant::now();
    proxy.heal();
    let (mut online, mut in_pg, mut acked, mut on_t1) = (None, None, None, None);
    let deadline = Duration::from_secs(600);
    let count_sql = format!(
        "SELECT count(*) FROM sales WHERE store_id = '{}'",
        store.store_id
    );
    while online.is_none() || in_pg.is_none() || acked.is_none() || on_t1.is_none() {
        if healed.elapsed() > deadline {
            bail!(
                "not done {deadline:?} after heal: online {online:?}, in PostgreSQL {in_pg:?}, acknowledged {acked:?}, on T1 {on_t1:?}"
            );
        }
        if online.is_none() || acked.is_none() {
            let s = store.terminals[1].cmd(json!({"cmd": "status"}))?;
            if online.is_none() && s["sync"]["online"] == true {
                online = Some(healed.elapsed());
            }
            if acked.is_none() && s["sync"]["waiting_sales"] == 0 {
                acked = Some(healed.elapsed());
            }
        }
        if in_pg.is_none() {
            let n: usize = psql(db, &count_sql).parse().unwrap_or(0);
            if n >= sales {
                in_pg = Some(healed.elapsed());
            }
        }
        if on_t1.is_none()
            && store.terminals[0].cmd(json!({"cmd": "has_sale", "id": last_id}))? == true
        {
            on_t1 = Some(healed.elapsed());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let (online, in_pg, acked, on_t1) = (
        online.unwrap_or_default(),
        in_pg.unwrap_or_default(),
        acked.unwrap_or_default(),
        on_t1.unwrap_or_default(),
    );
    println!("after heal: T2 online at {}", ms(online));
    println!(
        "after heal: all {sales} sales in PostgreSQL `sales` at {} ({} after reconnecting)",
        ms(in_pg),
        ms(in_pg.saturating_sub(online))
    );
    println!(
        "after heal: T2 waiting_sales = 0 (stored, projected, acknowledged) at {} ({} after reconnecting)",
        ms(acked),
        ms(acked.saturating_sub(online))
    );
    println!("after heal: T1 holds T2's last sale at {}", ms(on_t1));
    Ok(())
}

struct Scenario {
    name: &'static str,
    intervals: &'static str,
    nudge: bool,
    /// Sales on A before the measured ones (today's journal already this long).
    prefill: usize,
}

fn latency(
    rt: &tokio::runtime::Runtime,
    server: &Server,
    dir: &Path,
    n: usize,
    scenario: &Scenario,
) -> Result<()> {
    println!("== A→B through the server: {n} sales, {} ==", scenario.name);
    let code = format!("LAT{}", rand::random::<u16>());
    let mut store = setup_store(rt, server, dir, &code, 2)?;
    let log = Arc::new(Mutex::new(Vec::<Chunk>::new()));
    let taps = [
        rt.block_on(Tap::start(server.addr, 0, log.clone()))?,
        rt.block_on(Tap::start(server.addr, 1, log.clone()))?,
    ];
    for (i, tap) in taps.iter().enumerate() {
        let c = sync_cmd(
            &format!("http://{}", tap.addr),
            &store.credentials[i].clone(),
            scenario.intervals,
        );
        store.terminals[i].cmd(c)?;
    }
    let wait_online = Instant::now();
    loop {
        let a = store.terminals[0].cmd(json!({"cmd": "status"}))?;
        let b = store.terminals[1].cmd(json!({"cmd": "status"}))?;
        if a["sync"]["online"] == true && b["sync"]["online"] == true {
            break;
        }
        if wait_online.elapsed() > Duration::from_secs(30) {
            bail!("terminals not online after 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (a, b) = store.terminals.split_at_mut(1);
    let (a, b) = (&mut a[0], &mut b[0]);
    if scenario.prefill > 0 {
        let started = Instant::now();
        let mut last = Value::Null;
        for i in 0..scenario.prefill {
            last = a.cmd(json!({"cmd": "sell", "sku": SKUS[i % SKUS.len()], "qty": 1}))?["sale_id"]
                .clone();
        }
        let found = b.cmd(json!({"cmd": "wait_sale", "id": last, "timeout_ms": 240_000}))?;
        if found["found"] != true {
            println!(
                "prefill: {} sales on A in {:.1} s; B did not hold the last of them 240 s later: scenario skipped",
                scenario.prefill,
                started.elapsed().as_secs_f64() - 240.0
            );
            return Ok(());
        }
        println!(
            "prefill: {} sales on A, all on B after {:.1} s",
            scenario.prefill,
            started.elapsed().as_secs_f64()
        );
    }
    let mut first = Vec::new();
    let mut total = Vec::new();
    let mut checkout = Vec::new();
    let mut a_side = Vec::new();
    let mut server_side = Vec::new();
    let mut b_side = Vec::new();
    let mut b_chunks: Vec<(u32, u32)> = Vec::new();
    let mut b_apply = Vec::new();
    let mut b_reply = Vec::new();
    let mut unattributed = 0;
    let warmup = 5;
    for i in 0..warmup + n {
        // Spread the sales over the poll cycle.
        std::thread::sleep(Duration::from_millis(rand::random_range(0..90)));
        let sent = Instant::now();
        let r = a.cmd(
            json!({"cmd": "sell", "sku": SKUS[i % SKUS.len()], "qty": 1, "nudge": scenario.nudge}),
        )?;
        let paid = Instant::now();
        let id = r["sale_id"].as_str().context("sale id")?.to_string();
        let found = b.cmd(json!({"cmd": "wait_sale", "id": id, "timeout_ms": 90_000}))?;
        let seen = Instant::now();
        if found["found"] != true {
            bail!("B never held sale {id}");
        }
        if i < warmup {
            first.push(seen - paid);
            continue;
        }
        total.push(seen - paid);
        checkout.push(paid - sent);
        // B's answer to the server follows its apply and commit: give it time to pass the tap.
        std::thread::sleep(Duration::from_millis(30));
        let chunks = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let a_out = chunks
            .iter()
            .find(|c| c.tap == 0 && c.to_server && c.websocket && c.at >= sent)
            .map(|c| c.at);
        let b_in = a_out.and_then(|t| {
            chunks
                .iter()
                .find(|c| c.tap == 1 && !c.to_server && c.websocket && c.at >= t && c.at <= seen)
                .map(|c| c.at)
        });
        match (a_out, b_in) {
            (Some(ao), Some(bi)) if ao <= seen => {
                a_side.push(ao.saturating_duration_since(paid));
                server_side.push(bi - ao);
                b_side.push(seen - bi);
                // Round trips: WebSocket chunks between the server and B before B held it.
                let window = chunks
                    .iter()
                    .filter(|c| c.tap == 1 && c.websocket && c.at >= bi && c.at <= seen);
                let (mut down, mut up, mut last_down) = (0, 0, bi);
                for c in window {
                    if c.to_server {
                        up += 1;
                    } else {
                        down += 1;
                        last_down = c.at;
                    }
                }
                b_chunks.push((down, up));
                b_apply.push(seen - last_down);
                if let Some(reply) = chunks
                    .iter()
                    .find(|c| c.tap == 1 && c.to_server && c.websocket && c.at >= bi)
                {
                    b_reply.push(reply.at - bi);
                }
            }
            _ => unattributed += 1,
        }
        log.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
    println!(
        "first {warmup} sales (A's new journal announced through the period index first): {:?}",
        first.iter().map(|d| ms(*d)).collect::<Vec<_>>()
    );
    println!(
        "checkout on A (sell sent → paid reply): {}",
        summary(checkout)
    );
    println!("A→B (paid on A → B holds it): {}", summary(total));
    println!(
        "  A: paid → first WebSocket bytes from A to the server: {}",
        summary(a_side)
    );
    println!(
        "  server: → first WebSocket bytes from the server to B: {}",
        summary(server_side)
    );
    println!(
        "  B: → B holds the sale (apply, 1 ms check, reply): {}",
        summary(b_side)
    );
    println!(
        "  B after the last server bytes before it held the sale (apply + 1 ms check + reply): {}",
        summary(b_apply)
    );
    println!(
        "  B: first server bytes → B's first answer to the server (receive, apply, commit): {}",
        summary(b_reply.clone())
    );
    let half = b_reply.len() / 2;
    println!(
        "    the same over the first half of the sales: {}; over the second half: {}",
        summary(b_reply[..half].to_vec()),
        summary(b_reply[half..].to_vec())
    );
    let many = b_chunks.iter().filter(|(d, _)| *d > 1).count();
    println!(
        "  chunks server→B / B→server in that window: {:.2} / {:.2} on average; {many} of {} sales needed more than one chunk to B",
        b_chunks.iter().map(|c| c.0 as f64).sum::<f64>() / b_chunks.len().max(1) as f64,
        b_chunks.iter().map(|c| c.1 as f64).sum::<f64>() / b_chunks.len().max(1) as f64,
        b_chunks.len()
    );
    if unattributed > 0 {
        println!("  ({unattributed} sales could not be split: their bytes were not seen in order)");
    }
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args
        .iter()
        .find(|a| !a.starts_with("--") && a.parse::<usize>().is_err())
        .cloned()
        .unwrap_or_else(|| "all".into());
    let opt = |name: &str, default: usize| -> Result<usize> {
        match args.iter().position(|a| a == name) {
            Some(i) => Ok(args
                .get(i + 1)
                .ok_or_else(|| anyhow!("{name} needs a value"))?
                .parse()?),
            None => Ok(default),
        }
    };
    let sales = opt("--sales", 2000)?;
    let latency_sales = opt("--latency-sales", 200)?;
    let prefill = opt("--prefill", 500)?;
    let intervals = args
        .iter()
        .position(|a| a == "--intervals")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "shop".into());
    binary("sync-server")?;
    binary("snapkasir-terminal")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let db = TestDatabase::create("snapkasir_syncbench");
    let dir = std::env::temp_dir().join(format!("snapkasir-sync-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let server = Server::start(&db.url, &dir.join("server.log"))?;
    println!(
        "sync-server {} on {}; binaries in {}; work dir {}",
        server.url(),
        db.url,
        bin_dir()?.display(),
        dir.display()
    );
    if what == "offline" || what == "all" {
        offline_day(&rt, &server, &db.url, &dir, sales, &intervals)?;
    }
    if what == "latency" || what == "prefill" || what == "all" {
        for s in [
            Scenario {
                name: "test intervals (poll 100 ms, heartbeat 300 ms), nudge after checkout",
                intervals: "test",
                nudge: true,
                prefill: 0,
            },
            Scenario {
                name: "shop intervals (SyncConfig::new: poll 250 ms, heartbeat 2 s), nudge after checkout",
                intervals: "shop",
                nudge: true,
                prefill: 0,
            },
            Scenario {
                name: "shop intervals, no nudge (poll only)",
                intervals: "shop",
                nudge: false,
                prefill: 0,
            },
            Scenario {
                name: "shop intervals, nudge after checkout, A's journal of today already holding --prefill sales",
                intervals: "shop",
                nudge: true,
                prefill,
            },
        ]
        .into_iter()
        .filter(|s| what != "prefill" || s.prefill > 0)
        {
            latency(&rt, &server, &dir, latency_sales, &s)?;
        }
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
