//! The durable print queue and its workers (one per printer). See `docs/print-queue.md`.
//!
//! Jobs are rows of `print_jobs` in the terminal's SQLite file. Checkout and refunds queue
//! theirs in the same transaction as the record (`sales.rs`); reprints and Z reports are
//! queued here. A job names a printer or none (the default printer takes those).
//!
//! Each enabled printer has a worker thread with its own connection to the file. For the
//! oldest job waiting for its printer it:
//!
//! 1. renders the job once, if it has no document yet (sale or refund → [`Receipt`], with the
//!    store's settings and the cashier's name) and freezes it in the row, so retries and
//!    reprints print the same receipt;
//! 2. encodes it for the printer's profile (the drawer kick only on an original cash receipt);
//! 3. connects and asks the status (`DLE EOT`) where the printer answers: paper out, cover open
//!    or offline **holds** the job (nothing is written; asked again every
//!    [`QueueConfig::hold_poll`]);
//! 4. marks the job `printing` (durable), writes the bytes;
//! 5. right after a complete write marks it `done` in a durable (`synchronous=FULL`)
//!    transaction — retried until it commits, never by sending again — then asks the status
//!    once more and records it for the next job.
//!
//! Errors before or during the write (unreachable printer, write cut off, no answer) put the
//! job back with exponential backoff and jitter. A job cut off part-way prints again in full
//! without the drawer kick. A crash between a complete write and the `done` mark (a few
//! milliseconds) is the one case where a receipt can print twice: at start-up such a job is
//! found in `printing` and sent again, with a note in its last error.
//!
//! Workers are OS threads rather than tokio tasks: pos-core is synchronous (rusqlite), the
//! drivers block (TCP, serial, USB), a shop has one to three printers, and the Tauri shell
//! needs nothing from a runtime to start them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::Rng;
use receipt_printer::driver::{self, Target, Timeouts};
use receipt_printer::{
    LayoutOptions, PrinterError, PrinterProfile, PrinterStatus, Readiness, Receipt, ZReport,
    encode_receipt, encode_z_report, query_status,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use shared_model::codec::{Timestamp, now_ms};
use shared_model::documents::{SettingsDoc, UsersDoc};
use shared_model::refund::Refund;
use shared_model::sale::Sale;
use tracing::{debug, error, info, info_span, instrument, warn};

use crate::db;
use crate::docs::{self, Docs};
use crate::error::{CoreError, CoreResult};
use crate::receipt::{self, ReceiptContext};

/// What a job prints, frozen in its row as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum PrintDocument {
    Receipt(Receipt),
    ZReport(ZReport),
}

impl PrintDocument {
    /// The number printed on it (receipt or report number).
    pub fn number(&self) -> &str {
        match self {
            PrintDocument::Receipt(r) => &r.number,
            PrintDocument::ZReport(z) => &z.number,
        }
    }

    fn as_copy(&self) -> PrintDocument {
        let mut doc = self.clone();
        match &mut doc {
            PrintDocument::Receipt(r) => r.is_copy = true,
            PrintDocument::ZReport(z) => z.is_copy = true,
        }
        doc
    }

    /// ESC/POS bytes for `profile`.
    pub fn encode(&self, profile: &PrinterProfile, open_drawer: bool) -> CoreResult<Vec<u8>> {
        let options = LayoutOptions {
            open_drawer,
            ..LayoutOptions::default()
        };
        Ok(match self {
            PrintDocument::Receipt(r) => encode_receipt(r, profile, &options)?,
            PrintDocument::ZReport(z) => encode_z_report(z, profile, &options)?,
        })
    }
}

/// Test-only fault injection.
#[derive(Debug, Default)]
pub struct Faults {
    /// The next this-many attempts to record a fully written job as done fail as if the
    /// database refused the write (the worker must retry the mark, never the print).
    pub fail_written_marks: AtomicU32,
}

/// How the queue behaves. [`QueueConfig::default`] suits a shop; tests shorten the times.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Base of the digital-receipt link printed as a QR code (the sale or refund id is
    /// appended); `None`: no QR code.
    pub digital_receipt_base_url: Option<String>,
    /// Wait after the first failed attempt; doubles with each further failure …
    pub backoff_initial: Duration,
    /// … up to this. Each wait is drawn at random between half and all of it (jitter).
    pub backoff_max: Duration,
    /// How often a printer that reported paper out, cover open or offline is asked again.
    pub hold_poll: Duration,
    /// How often an idle worker looks for jobs queued through another connection (checkout)
    /// when nobody woke it.
    pub idle_poll: Duration,
    /// Connect, write and read (status) time limits.
    pub timeouts: Timeouts,
    /// Fault injection for tests.
    pub faults: Arc<Faults>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            digital_receipt_base_url: None,
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            hold_poll: Duration::from_secs(2),
            idle_poll: Duration::from_millis(500),
            timeouts: Timeouts::default(),
            faults: Arc::new(Faults::default()),
        }
    }
}

/// The wait before attempt `attempts + 1` after `attempts` failures: `initial × 2^(n−1)`
/// capped at `max`, then a random point between half of it and all of it.
pub fn backoff_delay(config: &QueueConfig, attempts: u32) -> Duration {
    let exp = attempts.saturating_sub(1).min(20);
    let full = config
        .backoff_initial
        .saturating_mul(1u32 << exp)
        .min(config.backoff_max);
    let half = full / 2;
    let jitter_ms = full.saturating_sub(half).as_millis() as u64;
    half + Duration::from_millis(rand::rng().random_range(0..=jitter_ms))
}

/// A printer of this terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Printer {
    pub id: i64,
    pub name: String,
    /// `tcp://HOST:PORT`, `usb:VID:PID`, `serial:PATH@BAUD` or `file:PATH`.
    pub target: String,
    pub profile: PrinterProfile,
    pub enabled: bool,
    /// Takes the jobs that name no printer (receipts from checkout).
    pub is_default: bool,
    /// What the printer last said about itself, in words ("online, paper OK", "offline: paper
    /// out", "cannot be reached …").
    pub last_status: Option<String>,
}

/// A printer to add.
#[derive(Debug, Clone)]
pub struct NewPrinter {
    pub name: String,
    pub target: String,
    pub profile: PrinterProfile,
    /// The first printer added becomes the default whatever this says.
    pub is_default: bool,
}

/// Changes to a printer; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PrinterChange {
    pub name: Option<String>,
    pub target: Option<String>,
    pub profile: Option<PrinterProfile>,
    pub enabled: Option<bool>,
    /// `Some(true)` makes it the default (the others stop being default).
    pub is_default: Option<bool>,
}

/// Where a job is, for the cashier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    /// Waiting for its turn.
    Waiting,
    /// An attempt failed; the next one is scheduled (see `next_attempt_at`).
    Retrying,
    /// The printer reported paper out, cover open or offline; prints when it is ready.
    Held,
    /// Being sent now (or the app stopped while sending: see `last_error`).
    Printing,
    /// Every byte reached the printer.
    Printed,
    /// Cannot print as it is (e.g. the receipt cannot be laid out); retry or cancel it.
    Failed,
    Cancelled,
}

/// A job as the cashier sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedJob {
    pub job_id: i64,
    /// `receipt` (a sale), `refund` or `zreport`.
    pub kind: String,
    /// The sale or refund id (or the Z report's number).
    pub record_id: String,
    /// Receipt or report number, when known.
    pub number: Option<String>,
    /// A reprint ("COPY / SALINAN" on paper).
    pub copy: bool,
    /// The job it reprints.
    pub copy_of: Option<i64>,
    pub printer_id: Option<i64>,
    /// Printer name (the default printer's for unassigned jobs).
    pub printer: Option<String>,
    pub state: JobState,
    /// The state in words, with the reason: "held: offline: paper out", "retrying in 4 s:
    /// printer at tcp://… cannot be reached (connection refused)".
    pub description: String,
    /// The last error in words.
    pub last_error: Option<String>,
    /// Failed attempts so far.
    pub attempts: u32,
    /// RFC 3339; set while retrying.
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// When the bytes were fully written (RFC 3339).
    pub written_at: Option<String>,
}

/// Which jobs to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobFilter {
    /// Not yet printed and not cancelled (waiting, retrying, held, printing, failed).
    Open,
    /// Everything, newest first.
    All,
}

fn ms_to_rfc3339(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| Timestamp::from(t).to_string())
}

/// An error in words for the cashier.
pub fn describe_printer_error(e: &PrinterError) -> String {
    match e {
        PrinterError::Connect { target, source } => {
            format!("printer at {target} cannot be reached ({source})")
        }
        PrinterError::Write {
            written: 0, source, ..
        } => format!("the printer did not take the job ({source})"),
        PrinterError::Write {
            written,
            total,
            source,
        } => format!(
            "the job was cut off after {written} of {total} bytes ({source}); it prints again in full"
        ),
        PrinterError::ReadTimeout(_) => "the printer did not answer".into(),
        PrinterError::NotReady(status) => format!("printer not ready: {status}"),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Wake-ups: a process-wide signal per store file, so that checkout (another connection) can
// wake the workers of its file without knowing about them.

#[derive(Debug, Default)]
struct Signal {
    generation: Mutex<u64>,
    cv: Condvar,
}

impl Signal {
    fn generation(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn notify(&self) {
        let mut g = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        *g = g.wrapping_add(1);
        self.cv.notify_all();
    }

    /// Waits until the generation moves past `seen` or `timeout` passes.
    fn wait(&self, seen: u64, timeout: Duration) {
        let g = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        let _unused = self
            .cv
            .wait_timeout_while(g, timeout, |g| *g == seen)
            .unwrap_or_else(|p| p.into_inner());
    }
}

fn signals() -> &'static Mutex<HashMap<PathBuf, Weak<Signal>>> {
    static SIGNALS: OnceLock<Mutex<HashMap<PathBuf, Weak<Signal>>>> = OnceLock::new();
    SIGNALS.get_or_init(Default::default)
}

fn signal_key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn signal_for(path: &Path) -> Arc<Signal> {
    let mut map = signals().lock().unwrap_or_else(|p| p.into_inner());
    let key = signal_key(path);
    if let Some(s) = map.get(&key).and_then(Weak::upgrade) {
        return s;
    }
    let s = Arc::new(Signal::default());
    map.retain(|_, w| w.strong_count() > 0);
    map.insert(key, Arc::downgrade(&s));
    s
}

/// Wakes the print workers of the store file at `path` in this process, if any run: called
/// after a transaction that queued print jobs (checkout, refund), so the receipt prints at once
/// instead of at the workers' next look ([`QueueConfig::idle_poll`]).
pub fn notify_jobs_queued(path: &Path) {
    let signal = {
        let map = signals().lock().unwrap_or_else(|p| p.into_inner());
        if map.is_empty() {
            // No queue in this process: nothing to wake, and no path to resolve.
            return;
        }
        map.get(&signal_key(path)).and_then(Weak::upgrade)
    };
    if let Some(s) = signal {
        s.notify();
    }
}

// ---------------------------------------------------------------------------------------------
// The queue handle.

#[derive(Debug)]
struct WorkerHandle {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The print queue of one terminal store: printers, jobs, and one worker thread per enabled
/// printer. Dropping it stops the workers (jobs stay queued in the file).
#[derive(Debug)]
pub struct PrintQueue {
    conn: Connection,
    path: PathBuf,
    config: QueueConfig,
    signal: Arc<Signal>,
    workers: HashMap<i64, WorkerHandle>,
}

const JOB_COLUMNS: &str = "j.job_id, j.kind, j.record_id, j.copy, j.copy_of, j.printer_id,
    COALESCE(p.name, (SELECT name FROM printers WHERE is_default = 1 AND j.printer_id IS NULL)),
    j.status, j.last_error, j.attempts, j.next_attempt_ms, j.created_at, j.updated_at,
    j.written_at, COALESCE(s.receipt_no, r.receipt_no, json_extract(j.document, '$.number')),
    COALESCE(p.enabled,
        (SELECT enabled FROM printers WHERE is_default = 1 AND j.printer_id IS NULL))";

const JOB_FROM: &str = "print_jobs j
    LEFT JOIN printers p ON p.printer_id = j.printer_id
    LEFT JOIN sales s ON s.sale_id = j.record_id
    LEFT JOIN refunds r ON r.refund_id = j.record_id";

fn queued_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedJob> {
    let status: String = r.get(7)?;
    let last_error: Option<String> = r.get(8)?;
    let attempts: u32 = r.get(9)?;
    let next_ms: i64 = r.get(10)?;
    let copy: bool = r.get(3)?;
    let printer_enabled: Option<bool> = r.get(15)?;
    let now = now_ms();
    let retrying = status == "pending" && last_error.is_some() && attempts > 0;
    let state = match status.as_str() {
        "pending" if retrying => JobState::Retrying,
        "pending" => JobState::Waiting,
        "held" => JobState::Held,
        "printing" => JobState::Printing,
        "done" => JobState::Printed,
        "failed" => JobState::Failed,
        "cancelled" => JobState::Cancelled,
        _ => JobState::Failed,
    };
    let err = last_error.as_deref().unwrap_or("unknown error");
    let description = match state {
        JobState::Waiting => match (printer_enabled, &last_error) {
            (None, _) => "waiting: no printer is set up for it".to_string(),
            (Some(false), _) => "waiting: its printer is disabled".to_string(),
            (Some(true), Some(e)) => format!("waiting for the printer ({e})"),
            (Some(true), None) => "waiting for the printer".to_string(),
        },
        JobState::Retrying => {
            let secs = ((next_ms - now).max(0) as f64 / 1000.0).ceil() as i64;
            if secs > 0 {
                format!("retrying in {secs} s (attempt {attempts} failed: {err})")
            } else {
                format!("retrying now (attempt {attempts} failed: {err})")
            }
        }
        JobState::Held => format!("held: {err}; prints when the printer is ready"),
        JobState::Printing => match &last_error {
            Some(e) => format!("printing ({e})"),
            None => "printing".to_string(),
        },
        JobState::Printed if copy => "printed (copy)".to_string(),
        JobState::Printed => "printed".to_string(),
        JobState::Failed => format!("not printed: {err}"),
        JobState::Cancelled => "cancelled".to_string(),
    };
    Ok(QueuedJob {
        job_id: r.get(0)?,
        kind: r.get(1)?,
        record_id: r.get(2)?,
        copy,
        copy_of: r.get(4)?,
        printer_id: r.get(5)?,
        printer: r.get(6)?,
        state,
        description,
        last_error,
        attempts,
        next_attempt_at: (retrying && next_ms > 0)
            .then(|| ms_to_rfc3339(next_ms))
            .flatten(),
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
        written_at: r.get(13)?,
        number: r.get(14)?,
    })
}

fn load_printers(conn: &Connection, id: Option<i64>) -> CoreResult<Vec<Printer>> {
    let mut stmt = conn.prepare_cached(
        "SELECT printer_id, name, target, profile, enabled, is_default, last_status
         FROM printers WHERE (?1 IS NULL OR printer_id = ?1) ORDER BY printer_id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, bool>(4)?,
            r.get::<_, bool>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, target, profile, enabled, is_default, last_status) = row?;
        out.push(Printer {
            id,
            name,
            target,
            profile: serde_json::from_str(&profile)?,
            enabled,
            is_default,
            last_status,
        });
    }
    Ok(out)
}

fn check_printer(name: &str, target: &str, profile: &PrinterProfile) -> CoreResult<()> {
    if name.trim().is_empty() {
        return Err(CoreError::Invalid("a printer needs a name".into()));
    }
    target.parse::<Target>()?;
    // A profile that cannot lay out a receipt is refused now, not at the first sale.
    receipt_printer::encode_receipt(
        &receipt_printer::sample::sample_receipt(),
        profile,
        &LayoutOptions::default(),
    )?;
    Ok(())
}

impl PrintQueue {
    /// Opens the queue of the store file at `path` (migrating it if needed) and starts a
    /// worker for every enabled printer.
    #[instrument(skip_all, fields(path = %path.as_ref().display()))]
    pub fn open(path: impl AsRef<Path>, config: QueueConfig) -> CoreResult<PrintQueue> {
        let path = path.as_ref().to_path_buf();
        let mut conn = db::connect(&path)?;
        db::migrate(&mut conn, &path, db::MIGRATIONS)?;
        let mut q = PrintQueue {
            conn,
            signal: signal_for(&path),
            path,
            config,
            workers: HashMap::new(),
        };
        q.sync_workers()?;
        Ok(q)
    }

    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// Starts workers for enabled printers that have none and stops those of disabled or
    /// removed printers.
    fn sync_workers(&mut self) -> CoreResult<()> {
        let printers = load_printers(&self.conn, None)?;
        let wanted: Vec<i64> = printers
            .iter()
            .filter(|p| p.enabled)
            .map(|p| p.id)
            .collect();
        let stale: Vec<i64> = self
            .workers
            .keys()
            .copied()
            .filter(|id| !wanted.contains(id))
            .collect();
        for id in stale {
            if let Some(w) = self.workers.remove(&id) {
                stop_worker(w, &self.signal);
            }
        }
        for id in wanted {
            if self.workers.contains_key(&id) {
                continue;
            }
            let stop = Arc::new(AtomicBool::new(false));
            let ctx = WorkerCtx {
                path: self.path.clone(),
                printer_id: id,
                config: self.config.clone(),
                signal: self.signal.clone(),
                stop: stop.clone(),
            };
            let thread = std::thread::Builder::new()
                .name(format!("print-worker-{id}"))
                .spawn(move || ctx.run())?;
            self.workers.insert(
                id,
                WorkerHandle {
                    stop,
                    thread: Some(thread),
                },
            );
        }
        Ok(())
    }

    /// Wakes the workers now (e.g. right after a checkout in this process; checkout in this
    /// crate does it through [`notify_jobs_queued`]).
    pub fn wake(&self) {
        self.signal.notify();
    }

    /// Adds a printer and starts its worker.
    pub fn add_printer(&mut self, new: NewPrinter) -> CoreResult<Printer> {
        check_printer(&new.name, &new.target, &new.profile)?;
        let now = Timestamp::now().to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let has_default: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM printers WHERE is_default = 1)",
            [],
            |r| r.get(0),
        )?;
        let is_default = new.is_default || !has_default;
        if is_default {
            tx.execute("UPDATE printers SET is_default = 0", [])?;
        }
        let id: i64 = tx
            .query_row(
                "INSERT INTO printers (name, target, profile, enabled, is_default, created_at,
                    updated_at)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5) RETURNING printer_id",
                params![
                    new.name.trim(),
                    new.target.trim(),
                    serde_json::to_string(&new.profile)?,
                    is_default,
                    now
                ],
                |r| r.get(0),
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    CoreError::Duplicate {
                        field: "printer name",
                        value: new.name.trim().to_string(),
                        other: "another printer".into(),
                    }
                }
                other => CoreError::Db(other),
            })?;
        tx.commit()?;
        info!(printer = %new.name, target = %new.target, "printer added");
        self.sync_workers()?;
        self.printer(id)
    }

    /// Changes a printer; its worker picks the change up at its next job.
    pub fn update_printer(&mut self, id: i64, change: PrinterChange) -> CoreResult<Printer> {
        let current = self.printer(id)?;
        let name = change.name.unwrap_or(current.name);
        let target = change.target.unwrap_or(current.target);
        let profile = change.profile.unwrap_or(current.profile);
        check_printer(&name, &target, &profile)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if change.is_default == Some(true) {
            tx.execute("UPDATE printers SET is_default = 0", [])?;
        }
        tx.execute(
            "UPDATE printers SET name = ?2, target = ?3, profile = ?4, enabled = ?5,
                is_default = ?6, updated_at = ?7 WHERE printer_id = ?1",
            params![
                id,
                name.trim(),
                target.trim(),
                serde_json::to_string(&profile)?,
                change.enabled.unwrap_or(current.enabled),
                change.is_default.unwrap_or(current.is_default),
                Timestamp::now().to_string()
            ],
        )?;
        tx.commit()?;
        self.sync_workers()?;
        self.signal.notify();
        self.printer(id)
    }

    pub fn printer(&self, id: i64) -> CoreResult<Printer> {
        load_printers(&self.conn, Some(id))?
            .pop()
            .ok_or_else(|| CoreError::NotFound {
                what: "printer",
                id: id.to_string(),
            })
    }

    pub fn printers(&self) -> CoreResult<Vec<Printer>> {
        load_printers(&self.conn, None)
    }

    /// The queue: open jobs oldest first, or every job newest first, at most `limit`.
    pub fn jobs(&self, filter: JobFilter, limit: usize) -> CoreResult<Vec<QueuedJob>> {
        let (cond, order) = match filter {
            JobFilter::Open => ("j.status NOT IN ('done', 'cancelled')", "j.job_id"),
            JobFilter::All => ("1", "j.job_id DESC"),
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM {JOB_FROM} WHERE {cond} ORDER BY {order} LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], queued_job)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn job(&self, job_id: i64) -> CoreResult<QueuedJob> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM {JOB_FROM} WHERE j.job_id = ?1"
            ))?
            .query_row([job_id], queued_job)
            .optional()?
            .ok_or_else(|| CoreError::NotFound {
                what: "print job",
                id: job_id.to_string(),
            })
    }

    /// Every job of a sale, refund or report, oldest first.
    pub fn jobs_for(&self, record_id: &str) -> CoreResult<Vec<QueuedJob>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM {JOB_FROM} WHERE j.record_id = ?1 ORDER BY j.job_id"
        ))?;
        let rows = stmt.query_map([record_id], queued_job)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Cancels a job that has not been sent: waiting, retrying, held or failed.
    pub fn cancel(&mut self, job_id: i64) -> CoreResult<QueuedJob> {
        let n = self.conn.execute(
            "UPDATE print_jobs SET status = 'cancelled', updated_at = ?2
             WHERE job_id = ?1 AND status IN ('pending', 'held', 'failed')",
            params![job_id, Timestamp::now().to_string()],
        )?;
        let job = self.job(job_id)?;
        if n == 0 {
            return Err(CoreError::PrintJobState {
                job_id,
                action: "cancelled",
                state: job.description,
            });
        }
        info!(job_id, "print job cancelled");
        self.signal.notify();
        Ok(job)
    }

    /// Puts a failed or cancelled job back in the queue for an attempt now.
    pub fn retry(&mut self, job_id: i64) -> CoreResult<QueuedJob> {
        let n = self.conn.execute(
            "UPDATE print_jobs SET status = 'pending', next_attempt_ms = 0, updated_at = ?2
             WHERE job_id = ?1 AND status IN ('failed', 'cancelled', 'pending', 'held')",
            params![job_id, Timestamp::now().to_string()],
        )?;
        let job = self.job(job_id)?;
        if n == 0 {
            return Err(CoreError::PrintJobState {
                job_id,
                action: "retried",
                state: job.description,
            });
        }
        self.signal.notify();
        Ok(job)
    }

    /// Queues a copy of a sale's or refund's receipt (marked "COPY / SALINAN", never opening
    /// the drawer) on the printer of its original, or the default printer. The copy prints the
    /// receipt exactly as first printed when it was; otherwise it is rendered from the record.
    #[instrument(skip(self))]
    pub fn reprint(&mut self, record_id: &str) -> CoreResult<QueuedJob> {
        let original: Option<(i64, String, Option<i64>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT job_id, kind, printer_id, document FROM print_jobs
                 WHERE record_id = ?1 ORDER BY copy, document IS NULL, job_id LIMIT 1",
                [record_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let (copy_of, kind, printer_id, document) = match original {
            Some((id, kind, printer, doc)) => {
                let doc = doc
                    .map(|d| serde_json::from_str::<PrintDocument>(&d))
                    .transpose()?
                    .map(|d| serde_json::to_string(&d.as_copy()))
                    .transpose()?;
                (Some(id), kind, printer, doc)
            }
            None => {
                let kind: Option<String> = self
                    .conn
                    .query_row(
                        "SELECT 'receipt' FROM sales WHERE sale_id = ?1
                         UNION ALL SELECT 'refund' FROM refunds WHERE refund_id = ?1",
                        [record_id],
                        |r| r.get(0),
                    )
                    .optional()?;
                let kind = kind.ok_or_else(|| CoreError::NotFound {
                    what: "sale or refund",
                    id: record_id.to_string(),
                })?;
                (None, kind, None, None)
            }
        };
        let job_id = self.insert_job(
            record_id,
            &kind,
            true,
            copy_of,
            printer_id,
            document.as_deref(),
            false,
        )?;
        info!(job_id, "reprint queued");
        self.signal.notify();
        self.job(job_id)
    }

    /// Queues a copy of a printed job (its receipt or report, marked as a copy).
    pub fn reprint_job(&mut self, job_id: i64) -> CoreResult<QueuedJob> {
        let (record_id, kind, printer_id, document): (String, String, Option<i64>, Option<String>) =
            self.conn
                .query_row(
                    "SELECT record_id, kind, printer_id, document FROM print_jobs
                     WHERE job_id = ?1",
                    [job_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?
                .ok_or_else(|| CoreError::NotFound {
                    what: "print job",
                    id: job_id.to_string(),
                })?;
        let document = document
            .map(|d| serde_json::from_str::<PrintDocument>(&d))
            .transpose()?
            .map(|d| serde_json::to_string(&d.as_copy()))
            .transpose()?;
        if document.is_none() && kind == "zreport" {
            return Err(CoreError::Corrupt(format!(
                "print job {job_id} has no report"
            )));
        }
        let id = self.insert_job(
            &record_id,
            &kind,
            true,
            Some(job_id),
            printer_id,
            document.as_deref(),
            false,
        )?;
        self.signal.notify();
        self.job(id)
    }

    /// Queues a Z report (see [`crate::receipt::z_report`]) on `printer` or the default one.
    pub fn enqueue_z_report(
        &mut self,
        report: ZReport,
        printer: Option<i64>,
    ) -> CoreResult<QueuedJob> {
        let number = report.number.clone();
        let copy = report.is_copy;
        let doc = serde_json::to_string(&PrintDocument::ZReport(report))?;
        let id = self.insert_job(&number, "zreport", copy, None, printer, Some(&doc), false)?;
        self.signal.notify();
        self.job(id)
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_job(
        &mut self,
        record_id: &str,
        kind: &str,
        copy: bool,
        copy_of: Option<i64>,
        printer_id: Option<i64>,
        document: Option<&str>,
        open_drawer: bool,
    ) -> CoreResult<i64> {
        if let Some(p) = printer_id {
            self.printer(p)?;
        }
        let now = Timestamp::now().to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = tx.query_row(
            "INSERT INTO print_jobs (record_id, kind, copy, copy_of, printer_id, document,
                open_drawer, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) RETURNING job_id",
            params![
                record_id,
                kind,
                copy,
                copy_of,
                printer_id,
                document,
                open_drawer,
                now
            ],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// The bytes a job would send to its printer (or `printer`), e.g. for a PNG preview with
    /// `receipt_printer::preview::render_png`. Renders the job without storing anything.
    pub fn job_bytes(&self, job_id: i64, printer: Option<i64>) -> CoreResult<Vec<u8>> {
        let job = load_job(&self.conn, job_id)?;
        let printer = self.printer_for(printer.or(job.printer_id))?;
        let (doc, drawer) = match &job.document {
            Some(d) => (serde_json::from_str(d)?, job.open_drawer),
            None => render_record(&self.conn, &job, &self.config)?,
        };
        doc.encode(&printer.profile, drawer)
    }

    /// A PNG picture of what a job prints (on its printer or `printer`), for the cashier app.
    pub fn job_preview_png(&self, job_id: i64, printer: Option<i64>) -> CoreResult<Vec<u8>> {
        let job = load_job(&self.conn, job_id)?;
        let profile = self.printer_for(printer.or(job.printer_id))?.profile;
        let bytes = self.job_bytes(job_id, printer)?;
        Ok(receipt_printer::preview::render_png(&bytes, &profile)?)
    }

    fn printer_for(&self, id: Option<i64>) -> CoreResult<Printer> {
        match id {
            Some(id) => self.printer(id),
            None => self
                .printers()?
                .into_iter()
                .find(|p| p.is_default)
                .ok_or_else(|| CoreError::NotFound {
                    what: "default printer",
                    id: String::new(),
                }),
        }
    }

    /// Stops the workers and waits for them (a job being sent finishes first).
    pub fn shutdown(mut self) {
        self.stop_all();
    }

    fn stop_all(&mut self) {
        for (_, w) in self.workers.drain() {
            stop_worker(w, &self.signal);
        }
    }
}

impl Drop for PrintQueue {
    fn drop(&mut self) {
        self.stop_all();
    }
}

fn stop_worker(mut w: WorkerHandle, signal: &Signal) {
    w.stop.store(true, Ordering::SeqCst);
    signal.notify();
    if let Some(t) = w.thread.take()
        && t.join().is_err()
    {
        error!("a print worker panicked");
    }
}

// ---------------------------------------------------------------------------------------------
// Jobs as the worker sees them.

#[derive(Debug, Clone)]
struct Job {
    job_id: i64,
    record_id: String,
    kind: String,
    status: String,
    copy: bool,
    printer_id: Option<i64>,
    document: Option<String>,
    open_drawer: bool,
    attempts: u32,
    next_attempt_ms: i64,
    last_error: Option<String>,
}

const WORKER_JOB_COLUMNS: &str = "job_id, record_id, kind, status, copy, printer_id, document,
    open_drawer, attempts, next_attempt_ms, last_error";

fn worker_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        job_id: r.get(0)?,
        record_id: r.get(1)?,
        kind: r.get(2)?,
        status: r.get(3)?,
        copy: r.get(4)?,
        printer_id: r.get(5)?,
        document: r.get(6)?,
        open_drawer: r.get(7)?,
        attempts: r.get(8)?,
        next_attempt_ms: r.get(9)?,
        last_error: r.get(10)?,
    })
}

fn load_job(conn: &Connection, job_id: i64) -> CoreResult<Job> {
    conn.prepare_cached(&format!(
        "SELECT {WORKER_JOB_COLUMNS} FROM print_jobs WHERE job_id = ?1"
    ))?
    .query_row([job_id], worker_job)
    .optional()?
    .ok_or_else(|| CoreError::NotFound {
        what: "print job",
        id: job_id.to_string(),
    })
}

/// Renders a sale or refund job from the records, the store's settings and users documents
/// and the terminal's identity. Returns the document and whether it opens the drawer (an
/// original receipt that moved cash).
fn render_record(
    conn: &Connection,
    job: &Job,
    config: &QueueConfig,
) -> CoreResult<(PrintDocument, bool)> {
    let (terminal_code, settings_doc, users_doc): (String, String, String) = conn
        .query_row(
            "SELECT terminal_code, settings_doc, users_doc FROM terminal_identity",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or(CoreError::NotInitialized)?;
    let mut docs = Docs::new();
    let settings = docs::read::<SettingsDoc>(docs.get(conn, &settings_doc)?)?.settings;
    let users = docs::read::<UsersDoc>(docs.get(conn, &users_doc)?)?.users;
    let name_of = |id: shared_model::ids::UserId| -> String {
        users
            .get(&id.to_string())
            .map(|u| u.name.clone())
            .unwrap_or_else(|| id.to_string().chars().take(8).collect())
    };
    let record = |sql: &str| -> CoreResult<String> {
        conn.query_row(sql, [&job.record_id], |r| r.get::<_, String>(0))
            .optional()?
            .ok_or_else(|| CoreError::NotFound {
                what: "sale or refund to print",
                id: job.record_id.clone(),
            })
    };
    let base = config.digital_receipt_base_url.as_deref();
    match job.kind.as_str() {
        "receipt" => {
            let sale: Sale =
                serde_json::from_str(&record("SELECT data FROM sales WHERE sale_id = ?1")?)?;
            let cashier = name_of(sale.cashier_id);
            let ctx = ReceiptContext {
                settings: &settings,
                cashier: &cashier,
                terminal_code: &terminal_code,
                digital_receipt_base_url: base,
                is_copy: job.copy,
            };
            let drawer = !job.copy && receipt::moves_cash(&sale.settlement);
            Ok((
                PrintDocument::Receipt(receipt::sale_receipt(&sale, &ctx)?),
                drawer,
            ))
        }
        "refund" => {
            let refund: Refund =
                serde_json::from_str(&record("SELECT data FROM refunds WHERE refund_id = ?1")?)?;
            let sale: Option<Sale> = conn
                .query_row(
                    "SELECT data FROM sales WHERE sale_id = ?1",
                    [refund.sale_id.to_string()],
                    |r| r.get::<_, String>(0),
                )
                .optional()?
                .map(|d| serde_json::from_str(&d))
                .transpose()?;
            let cashier = name_of(refund.cashier_id);
            let ctx = ReceiptContext {
                settings: &settings,
                cashier: &cashier,
                terminal_code: &terminal_code,
                digital_receipt_base_url: base,
                is_copy: job.copy,
            };
            let drawer = !job.copy && receipt::moves_cash(&refund.payout);
            Ok((
                PrintDocument::Receipt(receipt::refund_receipt(&refund, sale.as_ref(), &ctx)?),
                drawer,
            ))
        }
        other => Err(CoreError::Invalid(format!(
            "print job {} of kind {other:?} has nothing to print",
            job.job_id
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// The worker.

#[derive(Debug)]
struct WorkerCtx {
    path: PathBuf,
    printer_id: i64,
    config: QueueConfig,
    signal: Arc<Signal>,
    stop: Arc<AtomicBool>,
}

/// What one pass over the head job came to.
enum Outcome {
    /// Look for the next job at once.
    Next,
    /// Wait this long (or until woken) before looking again.
    Wait(Duration),
}

impl WorkerCtx {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn run(self) {
        let span = info_span!("print_worker", printer_id = self.printer_id);
        let _entered = span.enter();
        let mut conn = None;
        let mut failures = 0u32;
        while !self.stopped() {
            let seen = self.signal.generation();
            if conn.is_none() {
                match db::connect(&self.path).and_then(|c| {
                    recover_interrupted(&c, self.printer_id)?;
                    Ok(c)
                }) {
                    Ok(c) => conn = Some(c),
                    Err(e) => {
                        failures += 1;
                        error!(error = %e, "print worker cannot open the store");
                        self.signal
                            .wait(seen, backoff_delay(&self.config, failures));
                        continue;
                    }
                }
            }
            let Some(c) = conn.as_ref() else { continue };
            match self.step(c) {
                Ok(Outcome::Next) => failures = 0,
                Ok(Outcome::Wait(d)) => {
                    failures = 0;
                    self.signal.wait(seen, d);
                }
                Err(e) => {
                    failures += 1;
                    error!(error = %e, "print worker step failed");
                    self.signal
                        .wait(seen, backoff_delay(&self.config, failures));
                }
            }
        }
        debug!("print worker stopped");
    }

    /// Looks at the head job of this printer and does what it needs.
    fn step(&self, conn: &Connection) -> CoreResult<Outcome> {
        let Some(printer) = load_printers(conn, Some(self.printer_id))?.pop() else {
            self.stop.store(true, Ordering::SeqCst);
            return Ok(Outcome::Next);
        };
        if !printer.enabled {
            return Ok(Outcome::Wait(self.config.idle_poll));
        }
        let job = conn
            .prepare_cached(&format!(
                "SELECT {WORKER_JOB_COLUMNS} FROM print_jobs
                 WHERE status IN ('pending', 'held')
                   AND (printer_id = ?1 OR (printer_id IS NULL AND ?2))
                 ORDER BY job_id LIMIT 1"
            ))?
            .query_row(params![printer.id, printer.is_default], worker_job)
            .optional()?;
        let Some(job) = job else {
            return Ok(Outcome::Wait(self.config.idle_poll));
        };
        let wait_ms = job.next_attempt_ms - now_ms();
        if wait_ms > 0 {
            return Ok(Outcome::Wait(
                Duration::from_millis(wait_ms as u64).min(self.config.idle_poll),
            ));
        }
        let span = info_span!("print_job", job_id = job.job_id, kind = %job.kind, copy = job.copy);
        let _entered = span.enter();
        self.attempt(conn, &printer, job)
    }

    fn attempt(&self, conn: &Connection, printer: &Printer, job: Job) -> CoreResult<Outcome> {
        // 1. What to print.
        let (document, open_drawer, fresh) = match &job.document {
            Some(json) => match serde_json::from_str::<PrintDocument>(json) {
                Ok(d) => (d, job.open_drawer, false),
                Err(e) => {
                    fail(
                        conn,
                        &job,
                        &format!("the stored receipt cannot be read: {e}"),
                    )?;
                    return Ok(Outcome::Next);
                }
            },
            None => match render_record(conn, &job, &self.config) {
                Ok((d, drawer)) => (d, drawer, true),
                Err(CoreError::Db(e)) => return Err(CoreError::Db(e)),
                Err(e) => {
                    fail(conn, &job, &format!("the receipt cannot be made: {e}"))?;
                    return Ok(Outcome::Next);
                }
            },
        };
        // 2. Bytes for this printer.
        let bytes = match document.encode(&printer.profile, open_drawer) {
            Ok(b) => b,
            Err(e) => {
                fail(conn, &job, &format!("the receipt cannot be laid out: {e}"))?;
                return Ok(Outcome::Next);
            }
        };
        // 3. Connect and ask the status.
        let target: Target = match printer.target.parse() {
            Ok(t) => t,
            Err(e) => {
                let text = describe_printer_error(&e);
                self.retry_later(conn, printer, &job, &text, false)?;
                return Ok(Outcome::Next);
            }
        };
        let mut connection = match driver::connect(&target, self.config.timeouts) {
            Ok(c) => c,
            Err(e) => {
                let text = describe_printer_error(&e);
                warn!(error = %text, "printer unreachable");
                self.retry_later(conn, printer, &job, &text, false)?;
                return Ok(Outcome::Next);
            }
        };
        let before = match query_status(connection.as_mut(), &printer.profile) {
            Ok(s) => s,
            Err(e) => {
                let text = describe_printer_error(&e);
                self.retry_later(conn, printer, &job, &text, false)?;
                return Ok(Outcome::Next);
            }
        };
        if before.readiness() == Readiness::Hold {
            let words = before.to_string();
            info!(status = %words, "printer not ready, job held");
            hold(conn, printer, &job, &words)?;
            return Ok(Outcome::Wait(self.config.hold_poll));
        }
        // 4. Claim, durably, then write.
        let claimed = conn.execute(
            "UPDATE print_jobs SET status = 'printing', printer_id = ?2,
                document = COALESCE(?3, document), open_drawer = ?4, updated_at = ?5
             WHERE job_id = ?1 AND status IN ('pending', 'held')",
            params![
                job.job_id,
                printer.id,
                fresh
                    .then(|| serde_json::to_string(&document))
                    .transpose()?,
                open_drawer,
                Timestamp::now().to_string()
            ],
        )?;
        if claimed == 0 {
            debug!("job changed meanwhile (cancelled)");
            return Ok(Outcome::Next);
        }
        let started = Instant::now();
        match connection.write_all(&bytes) {
            Ok(()) => {
                // 5. Record it before anything else can go wrong.
                if let Err(e) = self.try_mark_written(conn, &job, bytes.len()) {
                    // Let go of the printer while the record is retried.
                    drop(connection);
                    self.mark_written(conn, &job, bytes.len(), e)?;
                    info!(bytes = bytes.len(), "job printed (recorded late)");
                    return Ok(Outcome::Next);
                }
                let after = query_status(connection.as_mut(), &printer.profile)
                    .unwrap_or(PrinterStatus::UNKNOWN);
                record_status(conn, printer.id, &after.to_string())?;
                info!(
                    bytes = bytes.len(),
                    write_ms = started.elapsed().as_millis() as u64,
                    status_after = %after,
                    "job printed"
                );
                Ok(Outcome::Next)
            }
            Err(e) => {
                let partial = matches!(e, PrinterError::Write { written, .. } if written > 0);
                let text = describe_printer_error(&e);
                warn!(error = %text, "write failed");
                self.retry_later(conn, printer, &job, &text, partial)?;
                Ok(Outcome::Next)
            }
        }
    }

    /// Records that every byte of `job` was written (one try).
    fn try_mark_written(&self, conn: &Connection, job: &Job, bytes: usize) -> CoreResult<()> {
        if take_fault(&self.config.faults.fail_written_marks) {
            return Err(CoreError::Invalid(
                "simulated failure recording a written job".into(),
            ));
        }
        conn.execute(
            "UPDATE print_jobs SET status = 'done', written_at = ?2, bytes_written = ?3,
                last_error = NULL, open_drawer = 0, updated_at = ?2
             WHERE job_id = ?1",
            params![job.job_id, Timestamp::now().to_string(), bytes as i64],
        )?;
        Ok(())
    }

    /// Retries the record of a written job until it commits or the worker stops: the job is
    /// never sent again because the record failed (only a stop or crash now leaves it in
    /// `printing`, the documented window).
    fn mark_written(
        &self,
        conn: &Connection,
        job: &Job,
        bytes: usize,
        first_error: CoreError,
    ) -> CoreResult<()> {
        let mut error = first_error;
        let mut tries = 1u32;
        loop {
            error!(error = %error, tries, "job printed but not yet recorded; retrying the record");
            if self.stopped() {
                return Err(error);
            }
            std::thread::sleep(backoff_delay(&self.config, tries));
            match self.try_mark_written(conn, job, bytes) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    error = e;
                    tries += 1;
                }
            }
        }
    }

    fn retry_later(
        &self,
        conn: &Connection,
        printer: &Printer,
        job: &Job,
        error_text: &str,
        partial_write: bool,
    ) -> CoreResult<()> {
        let attempts = job.attempts + 1;
        let delay = backoff_delay(&self.config, attempts);
        conn.execute(
            "UPDATE print_jobs SET status = 'pending', attempts = ?2, last_error = ?3,
                next_attempt_ms = ?4, updated_at = ?5,
                open_drawer = CASE WHEN ?6 THEN 0 ELSE open_drawer END
             WHERE job_id = ?1 AND status IN ('pending', 'held', 'printing')",
            params![
                job.job_id,
                attempts,
                error_text,
                now_ms() + delay.as_millis() as i64,
                Timestamp::now().to_string(),
                partial_write
            ],
        )?;
        record_status(conn, printer.id, error_text)?;
        debug!(
            attempts,
            delay_ms = delay.as_millis() as u64,
            "job retried later"
        );
        Ok(())
    }
}

fn take_fault(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn hold(conn: &Connection, printer: &Printer, job: &Job, words: &str) -> CoreResult<()> {
    // Only write when something changed: a held printer is asked every few seconds.
    if job.status != "held" || job.last_error.as_deref() != Some(words) {
        conn.execute(
            "UPDATE print_jobs SET status = 'held', last_error = ?2, printer_id = ?3,
                updated_at = ?4
             WHERE job_id = ?1 AND status IN ('pending', 'held')",
            params![job.job_id, words, printer.id, Timestamp::now().to_string()],
        )?;
    }
    record_status(conn, printer.id, words)
}

fn fail(conn: &Connection, job: &Job, words: &str) -> CoreResult<()> {
    warn!(error = %words, "print job failed");
    conn.execute(
        "UPDATE print_jobs SET status = 'failed', last_error = ?2, updated_at = ?3
         WHERE job_id = ?1 AND status IN ('pending', 'held')",
        params![job.job_id, words, Timestamp::now().to_string()],
    )?;
    Ok(())
}

fn record_status(conn: &Connection, printer_id: i64, words: &str) -> CoreResult<()> {
    conn.execute(
        "UPDATE printers SET last_status = ?2, last_status_ms = ?3 WHERE printer_id = ?1
           AND (last_status IS NOT ?2 OR last_status_ms < ?3 - 60000)",
        params![printer_id, words, now_ms()],
    )?;
    Ok(())
}

/// Jobs of this printer found `printing` when its worker starts were being sent when the app
/// stopped: whether their bytes reached the printer is unknown. They go back in the queue
/// (printing twice is better than a lost receipt) with a note.
/// (The default printer also takes `printing` jobs that name no printer: rows marked by
/// `Terminal::set_print_status`, never sent by a queue. Having no frozen receipt, they are
/// rendered afresh, drawer kick included, as an original print.)
fn recover_interrupted(conn: &Connection, printer_id: i64) -> CoreResult<()> {
    let n = conn.execute(
        "UPDATE print_jobs SET status = 'pending', open_drawer = 0,
            last_error = 'the app stopped while this job was being sent; it is sent again and may print twice',
            updated_at = ?2
         WHERE status = 'printing'
           AND (printer_id = ?1 OR (printer_id IS NULL
                AND EXISTS (SELECT 1 FROM printers WHERE printer_id = ?1 AND is_default = 1)))",
        params![printer_id, Timestamp::now().to_string()],
    )?;
    if n > 0 {
        warn!(jobs = n, "jobs interrupted while printing are queued again");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let config = QueueConfig {
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_millis(1_000),
            ..QueueConfig::default()
        };
        for (attempts, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1_000),
            (40, 1_000),
        ] {
            for _ in 0..50 {
                let d = backoff_delay(&config, attempts).as_millis() as u64;
                assert!(d >= full / 2 && d <= full, "attempt {attempts}: {d} ms");
            }
        }
    }

    #[test]
    fn printer_errors_read_as_words() {
        let e = PrinterError::Write {
            written: 10,
            total: 100,
            source: std::io::Error::other("reset"),
        };
        assert_eq!(
            describe_printer_error(&e),
            "the job was cut off after 10 of 100 bytes (reset); it prints again in full"
        );
        let e = PrinterError::NotReady(PrinterStatus::UNKNOWN);
        assert!(describe_printer_error(&e).starts_with("printer not ready"));
    }
}
