//! The worker thread of one printer: takes the oldest job, holds it while the printer is not
//! ready, sends it, records it, and backs off after errors (see the module `print_queue`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use receipt_printer::driver::{self, Target};
use receipt_printer::{PrinterError, PrinterStatus, Readiness, query_status};
use rusqlite::{Connection, OptionalExtension, params};
use shared_model::codec::Timestamp;
use tracing::{debug, error, info, info_span, warn};

use crate::db;
use crate::error::{CoreError, CoreResult};

use super::render::*;
use super::*;

// ---------------------------------------------------------------------------------------------
// The worker.

#[derive(Debug)]
pub(super) struct WorkerCtx {
    pub(super) path: PathBuf,
    pub(super) printer_id: i64,
    pub(super) config: QueueConfig,
    pub(super) signal: Arc<Signal>,
    pub(super) stop: Arc<AtomicBool>,
}

/// What one pass over the head job came to.
pub(super) enum Outcome {
    /// Look for the next job at once.
    Next,
    /// Wait this long (or until woken) before looking again.
    Wait(Duration),
}

impl WorkerCtx {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub(super) fn run(self) {
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

pub(super) fn take_fault(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

pub(super) fn hold(conn: &Connection, printer: &Printer, job: &Job, words: &str) -> CoreResult<()> {
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

pub(super) fn fail(conn: &Connection, job: &Job, words: &str) -> CoreResult<()> {
    warn!(error = %words, "print job failed");
    conn.execute(
        "UPDATE print_jobs SET status = 'failed', last_error = ?2, updated_at = ?3
         WHERE job_id = ?1 AND status IN ('pending', 'held')",
        params![job.job_id, words, Timestamp::now().to_string()],
    )?;
    Ok(())
}

pub(super) fn record_status(conn: &Connection, printer_id: i64, words: &str) -> CoreResult<()> {
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
/// (A worker marks a job `printing` and assigns its printer in one update, so every such job
/// names its printer; rows the removed `Terminal::set_print_status` left `printing` with no
/// printer are put back to `pending` by migration 6.)
pub(super) fn recover_interrupted(conn: &Connection, printer_id: i64) -> CoreResult<()> {
    let n = conn.execute(
        "UPDATE print_jobs SET status = 'pending', open_drawer = 0,
            last_error = 'the app stopped while this job was being sent; it is sent again and may print twice',
            updated_at = ?2
         WHERE status = 'printing' AND printer_id = ?1",
        params![printer_id, Timestamp::now().to_string()],
    )?;
    if n > 0 {
        warn!(jobs = n, "jobs interrupted while printing are queued again");
    }
    Ok(())
}
