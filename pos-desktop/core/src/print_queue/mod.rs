//! The durable print queue and its workers (one per printer). See `docs/print-queue.md`.
//!
//! Jobs are rows of `print_jobs` in the terminal's SQLite file. Checkout and refunds queue
//! theirs in the same transaction as the record ([`queue_receipt`], from `sales.rs`); reprints and Z reports are
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
//!
//! Split by concern: `printers` (set-up), `jobs` (the cashier's view and reprints), `render`
//! (what a job prints) and `worker` (one thread per printer); this file holds the handle,
//! its configuration and the wake-up signal.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use rand::Rng;
use receipt_printer::driver::Timeouts;
use rusqlite::{Connection, params};
use shared_model::codec::{Timestamp, now_ms};
use tracing::{error, instrument, warn};

use crate::db;
use crate::error::CoreResult;

mod jobs;
mod printers;
mod render;
mod worker;

pub use jobs::{JobFilter, JobState, QueuedJob};
use printers::load_printers;
pub use printers::{NewPrinter, Printer, PrinterChange, describe_printer_error};
pub use render::PrintDocument;
use worker::WorkerCtx;

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
    /// Base of the digital-receipt link printed as a QR code under a sale's receipt (its
    /// receipt token is appended); `None`: the public receipt page (`/r`) of the server the
    /// till is enrolled with, and no QR code on a till that is not enrolled.
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

fn ms_to_rfc3339(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| Timestamp::from(t).to_string())
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

/// Queues the original receipt of a sale (`kind` `receipt`) or refund (`refund`) in the
/// caller's transaction, the one that commits the record; no printer named, so the default
/// printer takes it, and no document yet: the worker renders it from the record.
pub(crate) fn queue_receipt(tx: &Connection, record_id: &str, kind: &str) -> CoreResult<i64> {
    let now = Timestamp::now().to_string();
    Ok(tx
        .prepare_cached(
            "INSERT INTO print_jobs (record_id, kind, copy, created_at, updated_at)
             VALUES (?1, ?2, 0, ?3, ?3) RETURNING job_id",
        )?
        .query_row(params![record_id, kind, now], |r| r.get(0))?)
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

#[cfg(test)]
mod tests {
    use receipt_printer::{PrinterError, PrinterStatus};

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
