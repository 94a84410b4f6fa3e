//! Many tills against one real `sync-server` process, for the scale benches of issue 17
//! (`conn-bench`, `load-bench`, `ingest-bench`).
//!
//! A full till (pos-core with its SQLite file) costs a process's worth of memory and an fsync
//! per sale; a thousand of them do not fit two cores. A [`JournalTill`] is the part of a till
//! the server sees: an enrolled terminal's device credential, its journal of the business day as
//! a real automerge document of shared-model's [`JournalDoc`] with real [`Sale`]s (priced by
//! shared-model as a till prices them), and shared-model's sans-IO sync [`Session`] over a real
//! WebSocket, with the till's heartbeat (`POST /api/v1/terminals/me/heartbeat`) for the
//! "on server" acknowledgement. What it leaves out: the SQLite query tables, the outbox, the
//! period index and the store's other documents (it neither asks for nor accepts them).
//!
//! Enrolment is the real one over HTTP: each tenant made by `sync-server admin create-tenant`,
//! its further stores and one enrollment code per till through the owner's API, then
//! `POST /api/v1/terminals/enroll`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use automerge::sync::{Message as SyncMessage, State, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use shared_model::cart::{Cart, ProductSnapshot};
use shared_model::catalog::{Product, Unit};
use shared_model::codec::{BusinessDate, Timestamp};
use shared_model::documents::{self, JournalDoc};
use shared_model::heartbeat::{HeartbeatRequest, HeartbeatResponse};
use shared_model::ids::{SaleId, UserId};
use shared_model::money::{Money, Quantity};
use shared_model::payment::Tender;
use shared_model::pricing::{PricingPolicy, price_cart};
use shared_model::receipt_number::ReceiptNumber;
use shared_model::sale::{Sale, SaleContext};
use shared_model::settings::StoreSettings;
use shared_model::sync_session::{Session, SyncStore};
use shared_model::wire::{self, Message};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::processes::{ServerProcess, TestDatabase, api_token, create_tenant_args};

/// A bench's command line: `--name value` options.
#[derive(Debug)]
pub struct BenchArgs(Vec<String>);

impl BenchArgs {
    pub fn from_env() -> BenchArgs {
        BenchArgs(std::env::args().collect())
    }

    /// The value after `name`, if given.
    pub fn opt(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.0.get(i + 1).cloned())
    }

    /// Whether the flag `name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|a| a == name)
    }

    /// The number after `name`, else `default`; a value that is not a number is an error.
    pub fn num(&self, name: &str, default: u64) -> Result<u64> {
        self.opt(name)
            .map(|v| {
                v.parse()
                    .with_context(|| format!("{name} {v}: not a number"))
            })
            .transpose()
            .map(|v| v.unwrap_or(default))
    }
}

/// The real `sync-server` process of a bench, on a fresh PostgreSQL database, with the bench's
/// runtime (two workers, as the machine has two cores). Its config lifts the per-address and
/// per-tenant connection caps: every client comes from 127.0.0.1, and one tenant may hold more
/// tills than a shop's defaults allow.
#[derive(Debug)]
pub struct BenchServer {
    /// Declared first: dropped (stopped) before its database.
    pub server: ServerProcess,
    pub db: TestDatabase,
    pub dir: tempfile::TempDir,
    pub rt: tokio::runtime::Runtime,
}

impl BenchServer {
    /// Starts the server on a fresh database named after `database`, for up to `tills` tills.
    pub fn start(database: &str, tills: usize) -> Result<BenchServer> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let db = TestDatabase::create(database);
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("server.toml");
        std::fs::write(
            &config,
            format!(
                "max_connections_per_address = {n}\nmax_connections_per_tenant = {n}\n",
                n = tills + 100
            ),
        )?;
        let server = ServerProcess::start_with(
            &[
                "--config".into(),
                config.display().to_string(),
                "--database-url".into(),
                db.url.clone(),
            ],
            &[],
            "127.0.0.1:0",
            &dir.path().join("server.log"),
        );
        Ok(BenchServer {
            server,
            db,
            dir,
            rt,
        })
    }
}

/// An enrolled till: what enrolment gave it.
#[derive(Debug, Clone)]
pub struct TillIdentity {
    pub tenant: usize,
    pub store_id: String,
    pub store_code: String,
    pub terminal_code: String,
    pub credential: String,
}

/// Enrols `n` tills: `per_store` to a store, `per_tenant` to a tenant (a chain of
/// `per_tenant / per_store` stores). Stores enrol concurrently (`parallel` at a time), the tills
/// of one store one after another (the server numbers a store's tills in enrolment order).
pub async fn enrol_fleet(
    server: &ServerProcess,
    n: usize,
    per_store: usize,
    per_tenant: usize,
    parallel: usize,
) -> Result<Vec<TillIdentity>> {
    let per_store = per_store.max(1);
    let per_tenant = per_tenant.max(per_store);
    let client = crate::processes::http_client();
    let base = server.url();
    // (tenant, store id, store code, tills) per store.
    let mut stores: Vec<(usize, String, String, usize)> = Vec::new();
    let tenants = n.div_ceil(per_tenant);
    let run = std::process::id() % 10_000;
    for tenant in 0..tenants {
        let email = format!("owner-{run}-{tenant}@fleet.test");
        let first_code = format!("F{tenant}S0");
        let made = server.admin(&create_tenant_args(
            &format!("Fleet {tenant}"),
            &first_code,
            "Toko 0",
            &email,
        ));
        let token = api_token(&client, &base, &email, "rahasia-panjang-1").await;
        let tills_here = per_tenant.min(n - tenant * per_tenant);
        let mut left = tills_here;
        let mut s = 0;
        while left > 0 {
            let code = format!("F{tenant}S{s}");
            let store_id = if s == 0 {
                made["store_id"].as_str().context("store id")?.to_string()
            } else {
                let r: Value = client
                    .post(format!("{base}/api/v1/stores"))
                    .bearer_auth(&token)
                    .json(&json!({"code": code, "name": format!("Toko {s}")}))
                    .send()
                    .await?
                    .json()
                    .await?;
                r["id"]
                    .as_str()
                    .ok_or_else(|| anyhow!("store not created: {r}"))?
                    .to_string()
            };
            let k = per_store.min(left);
            stores.push((tenant, store_id, token.clone(), k));
            left -= k;
            s += 1;
        }
    }
    let enrolled: Vec<Result<Vec<TillIdentity>>> =
        futures::stream::iter(stores.into_iter().map(|(tenant, store_id, token, k)| {
            let client = client.clone();
            let base = base.clone();
            async move {
                let mut out = Vec::with_capacity(k);
                for t in 0..k {
                    let code: Value = client
                        .post(format!("{base}/api/v1/stores/{store_id}/enrollment-codes"))
                        .bearer_auth(&token)
                        .json(&json!({"terminal_name": format!("Kasir {}", t + 1)}))
                        .send()
                        .await?
                        .json()
                        .await?;
                    let code = code["code"]
                        .as_str()
                        .ok_or_else(|| anyhow!("no enrollment code: {code}"))?;
                    let e: Value = client
                        .post(format!("{base}/api/v1/terminals/enroll"))
                        .json(&json!({"code": code}))
                        .send()
                        .await?
                        .json()
                        .await?;
                    let field = |k: &str| {
                        e[k].as_str()
                            .map(str::to_string)
                            .ok_or_else(|| anyhow!("enrolment failed: {e}"))
                    };
                    out.push(TillIdentity {
                        tenant,
                        store_id: field("store_id")?,
                        store_code: field("store_code")?,
                        terminal_code: field("terminal_code")?,
                        credential: field("device_credential")?,
                    });
                }
                Ok(out)
            }
        }))
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    let mut tills = Vec::with_capacity(n);
    for e in enrolled {
        tills.extend(e?);
    }
    Ok(tills)
}

/// The server's resident memory from `/proc/<pid>/status`: (VmRSS, VmHWM) in KiB.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat`.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / 100.0
}

/// The load average over the last minute.
pub fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// Nearest-rank percentile of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `p50 …, p99 …, max … (n=…)` of a sample.
pub fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    format!(
        "p50 {}, p90 {}, p99 {}, max {} (n={})",
        ms(percentile(&v, 50.0)),
        ms(percentile(&v, 90.0)),
        ms(percentile(&v, 99.0)),
        ms(v.last().copied().unwrap_or_default()),
        v.len()
    )
}

/// What the tills of a run measured, shared by all of them.
#[derive(Debug, Default)]
pub struct FleetStats {
    /// Commit → the server's sync reply names the change among its heads.
    pub sync_acks: Vec<Duration>,
    /// Commit → a heartbeat answer lists the sale as stored and projected ("on server").
    pub server_acks: Vec<Duration>,
    pub sales: usize,
    pub errors: usize,
    /// The first few errors, in words.
    pub error_samples: Vec<String>,
}

impl FleetStats {
    pub fn error(&mut self, what: String) {
        self.errors += 1;
        if self.error_samples.len() < 10 {
            self.error_samples.push(what);
        }
    }
}

pub type SharedStats = Arc<Mutex<FleetStats>>;

fn lock_stats(s: &SharedStats) -> std::sync::MutexGuard<'_, FleetStats> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// The products every till sells (the same ids everywhere: one catalog per bench run).
#[derive(Debug, Clone)]
pub struct Shelf {
    settings: StoreSettings,
    snapshots: Vec<ProductSnapshot>,
    cashier: UserId,
}

impl Shelf {
    pub fn new() -> Result<Shelf> {
        let settings = StoreSettings::indonesia("Toko", "Jl. Bench 1");
        let rule = settings
            .tax_rule("standard")
            .context("standard tax rule")?
            .clone();
        let mut snapshots = Vec::new();
        for (sku, name, price) in [
            ("IDM", "Indomie Goreng", 3_500),
            ("KOP", "Kopi Susu", 12_000),
            ("AQU", "Aqua 600 ml", 4_000),
            ("ROT", "Roti Tawar", 15_500),
        ] {
            let mut p = Product::new(sku, name, Money::from_i64(price), "standard");
            p.unit = Unit::Piece;
            snapshots.push(ProductSnapshot::of(&p, None, rule.clone())?);
        }
        Ok(Shelf {
            settings,
            snapshots,
            cashier: UserId::new(),
        })
    }

    pub fn business_date(&self) -> Result<BusinessDate> {
        Ok(self.settings.business_day.business_date(Timestamp::now())?)
    }

    /// Sale number `seq` of a till: one to three lines, paid in exact cash, as checkout makes
    /// it (priced by shared-model's pricing).
    pub fn sale(&self, id: &TillIdentity, day: BusinessDate, seq: u32) -> Result<Sale> {
        let mut cart = Cart::new();
        let lines = 1 + (seq as usize % 3);
        for l in 0..lines {
            let p = &self.snapshots[(seq as usize + l) % self.snapshots.len()];
            cart.add(p.clone(), Quantity::from_i64(1 + (l as i64 % 2)))?;
        }
        let policy = PricingPolicy {
            currency: self.settings.currency(),
            price_mode: self.settings.price_mode,
            promotions: vec![],
        };
        let priced = price_cart(&cart, &policy)?;
        let total = priced.total();
        let ctx = SaleContext {
            id: SaleId::new(),
            receipt_no: ReceiptNumber::new(&id.store_code, &id.terminal_code, day, seq)?,
            created_at: Timestamp::now(),
            cashier_id: self.cashier,
            shift_id: None,
            currency: self.settings.currency(),
            price_mode: self.settings.price_mode,
            cash_unit: self.settings.cash_unit(),
        };
        Ok(Sale::checkout(priced, &[Tender::cash(total)], ctx, None)?)
    }
}

/// A sale committed to the journal and not yet acknowledged.
#[derive(Debug)]
struct Pending {
    sale_id: String,
    /// Its place in the journal's history (the header is 0).
    seq: u32,
    change: ChangeHash,
    committed: Instant,
    synced: bool,
}

/// The journal as the session's store: the one document this till syncs.
struct JournalStore<'a> {
    doc_id: &'a str,
    doc: &'a mut AutoCommit,
    states: &'a mut HashMap<String, Vec<u8>>,
    /// The heads the server is known to have after the last message it sent.
    server_heads: &'a mut Vec<ChangeHash>,
}

impl SyncStore for JournalStore<'_> {
    type Error = String;

    fn sync_doc_ids(&mut self) -> Result<Vec<String>, String> {
        Ok(vec![self.doc_id.to_string()])
    }
    fn has_doc(&mut self, doc_id: &str) -> Result<bool, String> {
        Ok(doc_id == self.doc_id)
    }
    fn accepts_new_doc(&mut self, _doc_id: &str) -> bool {
        false
    }
    fn heads(&mut self, doc_id: &str) -> Result<Vec<ChangeHash>, String> {
        Ok(if doc_id == self.doc_id {
            self.doc.get_heads()
        } else {
            Vec::new()
        })
    }
    fn generate(&mut self, doc_id: &str, state: &mut State) -> Result<Option<SyncMessage>, String> {
        if doc_id != self.doc_id {
            return Ok(None);
        }
        Ok(self.doc.sync().generate_sync_message(state))
    }
    fn receive(
        &mut self,
        doc_id: &str,
        state: &mut State,
        message: SyncMessage,
    ) -> Result<bool, String> {
        if doc_id != self.doc_id {
            return Ok(false);
        }
        let before = self.doc.get_heads();
        self.doc
            .sync()
            .receive_sync_message(state, message)
            .map_err(|e| e.to_string())?;
        let mut known = state.their_heads.clone().unwrap_or_default();
        known.extend(state.shared_heads.iter().copied());
        *self.server_heads = known;
        Ok(self.doc.get_heads() != before)
    }
    fn load_state(&mut self, peer: &str, doc_id: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.states.get(&format!("{peer}/{doc_id}")).cloned())
    }
    fn save_state(&mut self, peer: &str, doc_id: &str, state: &[u8]) -> Result<(), String> {
        self.states
            .insert(format!("{peer}/{doc_id}"), state.to_vec());
        Ok(())
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// How a till behaves once connected.
#[derive(Debug, Clone)]
pub struct TillPlan {
    /// Time between two sales (`None`: no sales, an idle till).
    pub sale_every: Option<Duration>,
    /// Sales to make at most (then the till waits for its acknowledgements).
    pub max_sales: usize,
    /// Heartbeat interval (`None`: no heartbeats).
    pub heartbeat: Option<Duration>,
    /// A sale not acknowledged by the server's sync this long after its commit is an error.
    pub ack_timeout: Duration,
    /// When given, the sales start once it turns true (all tills on one clock); otherwise as
    /// soon as the till's journal is on the server.
    pub go: Option<tokio::sync::watch::Receiver<bool>>,
    /// A till back from a day offline: it makes its `max_sales` sales before it connects, says
    /// it is ready (`connected`), and connects once `go` turns true; the sync then carries the
    /// day's sales at once. The acknowledgement times count from `go`.
    pub offline: bool,
}

/// One simulated till: its identity, its journal of the day and its sync session.
pub struct JournalTill {
    pub id: TillIdentity,
    doc_id: String,
    doc: AutoCommit,
    day: BusinessDate,
    states: HashMap<String, Vec<u8>>,
    server_heads: Vec<ChangeHash>,
    seq: u32,
    /// Every change this till made, by its place in the journal's history (the header is 0):
    /// the journal is the till's alone, so its history is one line and a server head names
    /// everything up to it.
    own_changes: HashMap<ChangeHash, u32>,
    pending: Vec<Pending>,
    /// Sales synced but not yet reported "on server" by a heartbeat, with their commit time.
    unconfirmed: HashMap<String, Instant>,
}

impl std::fmt::Debug for JournalTill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalTill")
            .field("terminal", &self.id.terminal_code)
            .field("doc_id", &self.doc_id)
            .finish()
    }
}

impl JournalTill {
    /// A till with a new, empty journal of `day` (one change: the journal's header).
    pub fn new(id: TillIdentity, day: BusinessDate) -> Result<JournalTill> {
        let mut doc = documents::create(&JournalDoc::new(&id.store_id, &id.terminal_code, day))?;
        let own_changes = doc.get_heads().into_iter().map(|h| (h, 0)).collect();
        Ok(JournalTill {
            id,
            doc_id: wire::new_document_id(),
            doc,
            day,
            states: HashMap::new(),
            server_heads: Vec::new(),
            seq: 0,
            own_changes,
            pending: Vec::new(),
            unconfirmed: HashMap::new(),
        })
    }

    pub fn doc_id(&self) -> &str {
        &self.doc_id
    }

    /// Commits the next sale to the journal (one automerge change, as checkout's outbox
    /// applies it); returns its id.
    pub fn commit_sale(&mut self, shelf: &Shelf) -> Result<String> {
        self.seq += 1;
        let sale = shelf.sale(&self.id, self.day, self.seq)?;
        let id = sale.id.to_string();
        documents::put_entries(&mut self.doc, "sales", &[(id.clone(), &sale)])?;
        self.doc.commit();
        let change = *self
            .doc
            .get_heads()
            .first()
            .context("a journal has heads")?;
        self.own_changes.insert(change, self.seq);
        self.pending.push(Pending {
            sale_id: id.clone(),
            seq: self.seq,
            change,
            committed: Instant::now(),
            synced: false,
        });
        Ok(id)
    }

    fn store(&mut self) -> JournalStore<'_> {
        JournalStore {
            doc_id: &self.doc_id,
            doc: &mut self.doc,
            states: &mut self.states,
            server_heads: &mut self.server_heads,
        }
    }

    /// Whether the server is known to hold every change of the journal.
    pub fn in_sync(&mut self) -> bool {
        if self.server_heads.is_empty() {
            return false;
        }
        match self.server_holds_up_to() {
            Some(seq) => seq == self.seq,
            None => self.doc.get_changes(&self.server_heads).is_empty(),
        }
    }

    /// The latest of this till's changes the server's heads name, or `None` when one of them
    /// is not the till's (then only automerge can say what the server holds).
    fn server_holds_up_to(&self) -> Option<u32> {
        self.server_heads
            .iter()
            .map(|h| self.own_changes.get(h).copied())
            .try_fold(0, |max, seq| seq.map(|s| max.max(s)))
    }

    /// Marks the pending sales the server's heads now cover; returns their latencies. Asking
    /// automerge which changes come after the server's heads rebuilds them from the whole
    /// journal: on every frame of 1,000 tills that was 38% of the bench's CPU, on the cores the
    /// server runs on (`load-bench`, `perf`, 2026-12-05), so the till's own history answers
    /// when it can.
    fn take_sync_acks(&mut self) -> Vec<Duration> {
        if self.pending.iter().all(|p| p.synced) || self.server_heads.is_empty() {
            return Vec::new();
        }
        let holds: Box<dyn Fn(&Pending) -> bool> = match self.server_holds_up_to() {
            Some(seq) => Box::new(move |p| p.seq <= seq),
            None => {
                let after: HashSet<ChangeHash> = self
                    .doc
                    .get_changes(&self.server_heads)
                    .iter()
                    .map(|c| c.hash())
                    .collect();
                Box::new(move |p| !after.contains(&p.change))
            }
        };
        let now = Instant::now();
        let mut out = Vec::new();
        for p in self.pending.iter_mut().filter(|p| !p.synced) {
            if holds(p) {
                p.synced = true;
                out.push(now - p.committed);
                self.unconfirmed.insert(p.sale_id.clone(), p.committed);
            }
        }
        self.pending.retain(|p| !p.synced);
        out
    }

    /// Runs the till on a new connection to `addr` until `stop` turns true (or, with a
    /// `max_sales` plan, until every sale is acknowledged); `connected` is told once the
    /// journal is on the server. Errors are counted in `stats`, not returned.
    #[allow(clippy::too_many_arguments)] // the fleet's shared handles, each used by every till
    pub async fn run(
        mut self,
        addr: std::net::SocketAddr,
        plan: TillPlan,
        shelf: Arc<Shelf>,
        http: reqwest::Client,
        stats: SharedStats,
        connected: tokio::sync::mpsc::UnboundedSender<()>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> JournalTill {
        if let Err(e) = self
            .session(addr, &plan, &shelf, &http, &stats, &connected, &mut stop)
            .await
        {
            lock_stats(&stats).error(format!("{}: {e:#}", self.peer()));
            let _ = connected.send(());
        }
        self
    }

    fn peer(&self) -> String {
        format!("{}-{}", self.id.store_code, self.id.terminal_code)
    }

    #[allow(clippy::too_many_arguments)]
    async fn session(
        &mut self,
        addr: std::net::SocketAddr,
        plan: &TillPlan,
        shelf: &Shelf,
        http: &reqwest::Client,
        stats_: &SharedStats,
        connected: &tokio::sync::mpsc::UnboundedSender<()>,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<()> {
        let mut told = false;
        let mut go = plan.go.clone();
        if plan.offline {
            while (self.seq as usize) < plan.max_sales {
                self.commit_sale(shelf)?;
            }
            lock_stats(stats_).sales += plan.max_sales;
            told = true;
            let _ = connected.send(());
            if let Some(mut g) = go.take() {
                let _ = g.wait_for(|v| *v).await;
            }
            let now = Instant::now();
            for p in &mut self.pending {
                p.committed = now;
            }
        }
        let mut ws = connect(addr, &self.id.credential).await?;
        let (mut session, join) = Session::dial(&self.peer());
        send(&mut ws, vec![join]).await?;
        let mut sale_tick: Option<tokio::time::Interval> = None;
        let start_selling = |every: Duration| {
            // Spread the tills' sales over the interval.
            let offset = every.mul_f64(rand::random::<f64>());
            tokio::time::interval_at(tokio::time::Instant::now() + offset, every)
        };
        let mut hb_tick = plan.heartbeat.map(|every| {
            let offset = every.mul_f64(rand::random::<f64>());
            tokio::time::interval_at(tokio::time::Instant::now() + offset, every)
        });
        let mut ping = tokio::time::interval(Duration::from_secs(5));
        let (hb_tx, mut hb_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut hb_busy = false;
        let mut check = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                frame = ws.next() => {
                    let bytes = match frame {
                        None => bail!("server closed the connection"),
                        Some(Err(e)) => bail!("connection: {e}"),
                        Some(Ok(WsMessage::Binary(b))) => b,
                        Some(Ok(WsMessage::Close(c))) => bail!("server closed: {c:?}"),
                        Some(Ok(_)) => continue,
                    };
                    let message = wire::decode(&bytes)?;
                    let step = session.handle(message, &mut self.store()).map_err(|e| anyhow!("{e}"))?;
                    send(&mut ws, step.send).await?;
                    let acks = self.take_sync_acks();
                    if !acks.is_empty() {
                        lock_stats(stats_).sync_acks.extend(acks);
                    }
                    if !told && session.is_connected() && self.in_sync() {
                        told = true;
                        let _ = connected.send(());
                    }
                }
                _ = async {
                    if let Some(g) = go.as_mut() {
                        let _ = g.wait_for(|v| *v).await;
                    }
                }, if told && sale_tick.is_none() && plan.sale_every.is_some() => {
                    go = None;
                    sale_tick = plan.sale_every.map(start_selling);
                }
                _ = async { sale_tick.as_mut().expect("sale tick").tick().await }, if sale_tick.is_some() && (self.seq as usize) < plan.max_sales => {
                    self.commit_sale(shelf)?;
                    lock_stats(stats_).sales += 1;
                    let step = session.poll(&mut self.store()).map_err(|e| anyhow!("{e}"))?;
                    send(&mut ws, step.send).await?;
                }
                _ = async { hb_tick.as_mut().expect("heartbeat tick").tick().await }, if hb_tick.is_some() && !hb_busy && told => {
                    hb_busy = true;
                    let body = HeartbeatRequest {
                        terminal_time: Timestamp::now(),
                        waiting_documents: u64::from(!self.pending.is_empty()),
                        waiting_sales: (self.pending.len() + self.unconfirmed.len()) as u64,
                        unacknowledged: self.unconfirmed.keys().take(1000).cloned().collect(),
                        app_version: Some(env!("CARGO_PKG_VERSION").to_string()),
                    };
                    let (http, url, cred, tx) = (http.clone(), format!("http://{addr}/api/v1/terminals/me/heartbeat"), self.id.credential.clone(), hb_tx.clone());
                    tokio::spawn(async move {
                        let r = heartbeat(&http, &url, &cred, &body).await;
                        let _ = tx.send(r);
                    });
                }
                reply = hb_rx.recv() => {
                    hb_busy = false;
                    match reply {
                        Some(Ok(acked)) => {
                            let now = Instant::now();
                            let mut s = lock_stats(stats_);
                            for id in acked {
                                if let Some(at) = self.unconfirmed.remove(&id) {
                                    s.server_acks.push(now - at);
                                }
                            }
                        }
                        Some(Err(e)) => lock_stats(stats_).error(format!("{}: heartbeat: {e:#}", self.peer())),
                        None => {}
                    }
                }
                _ = ping.tick() => {
                    ws.send(WsMessage::Ping(Vec::new().into())).await?;
                }
                _ = check.tick() => {
                    if let Some(late) = self.pending.iter().find(|p| p.committed.elapsed() > plan.ack_timeout) {
                        bail!("sale {} not acknowledged {:?} after its commit", late.sale_id, plan.ack_timeout);
                    }
                    let finished = plan.sale_every.is_some()
                        && self.seq as usize >= plan.max_sales
                        && self.pending.is_empty()
                        && (plan.heartbeat.is_none() || self.unconfirmed.is_empty());
                    if finished {
                        let _ = ws.close(None).await;
                        return Ok(());
                    }
                }
                _ = stop.changed() => {
                    if *stop.borrow() {
                        let _ = ws.close(None).await;
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Sales synced but never reported "on server" by a heartbeat.
    pub fn unconfirmed(&self) -> usize {
        self.unconfirmed.len()
    }

    /// Sales committed and not acknowledged by the server's sync.
    pub fn unsynced(&self) -> usize {
        self.pending.len()
    }

    /// The journal as it stands (for the baseline's rows).
    pub fn journal(&self) -> &AutoCommit {
        &self.doc
    }
}

/// A WebSocket to the server's `/sync` as a till opens it (bearer credential, schema header),
/// with small buffers: the bench holds thousands of them in one process.
pub async fn connect(addr: std::net::SocketAddr, credential: &str) -> Result<Ws> {
    let mut request = format!("ws://{addr}/sync").into_client_request()?;
    let headers = request.headers_mut();
    headers.insert("authorization", format!("Bearer {credential}").parse()?);
    headers.insert(
        shared_model::compat::SCHEMA_HEADER,
        shared_model::documents::SCHEMA_VERSION.into(),
    );
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(4096);
    let tcp = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::net::TcpStream::connect(addr),
    )
    .await
    .context("TCP connect timed out")??;
    tcp.set_nodelay(true)?;
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(60),
        tokio_tungstenite::client_async_with_config(request, tcp, Some(config)),
    )
    .await
    .context("WebSocket upgrade timed out")??;
    Ok(ws)
}

async fn send(ws: &mut Ws, frames: Vec<Message>) -> Result<()> {
    if frames.is_empty() {
        return Ok(());
    }
    for f in frames {
        ws.feed(WsMessage::Binary(wire::encode(&f).into())).await?;
    }
    ws.flush().await?;
    Ok(())
}

async fn heartbeat(
    http: &reqwest::Client,
    url: &str,
    credential: &str,
    body: &HeartbeatRequest,
) -> Result<Vec<String>> {
    let r = http
        .post(url)
        .bearer_auth(credential)
        .json(body)
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("server answered {}", r.status());
    }
    let reply: HeartbeatResponse = r.json().await?;
    Ok(reply.acknowledged)
}
