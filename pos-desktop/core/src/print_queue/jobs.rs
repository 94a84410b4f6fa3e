//! Jobs as the cashier sees them: listing, cancelling, retrying, reprints (copies), Z reports
//! and previews.

use receipt_printer::ZReport;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use shared_model::codec::Timestamp;
use tracing::{info, instrument, warn};

use crate::error::{CoreError, CoreResult};

use super::render::*;
use super::*;

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

pub(super) const JOB_COLUMNS: &str =
    "j.job_id, j.kind, j.record_id, j.copy, j.copy_of, j.printer_id,
    COALESCE(p.name, (SELECT name FROM printers WHERE is_default = 1 AND j.printer_id IS NULL)),
    j.status, j.last_error, j.attempts, j.next_attempt_ms, j.created_at, j.updated_at,
    j.written_at, COALESCE(s.receipt_no, r.receipt_no, json_extract(j.document, '$.number')),
    COALESCE(p.enabled,
        (SELECT enabled FROM printers WHERE is_default = 1 AND j.printer_id IS NULL))";

pub(super) const JOB_FROM: &str = "print_jobs j
    LEFT JOIN printers p ON p.printer_id = j.printer_id
    LEFT JOIN sales s ON s.sale_id = j.record_id
    LEFT JOIN refunds r ON r.refund_id = j.record_id";

pub(super) fn queued_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedJob> {
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

impl PrintQueue {
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
        let job = self.transition(
            job_id,
            "cancelled",
            "UPDATE print_jobs SET status = 'cancelled', updated_at = ?2
             WHERE job_id = ?1 AND status IN ('pending', 'held', 'failed')",
        )?;
        info!(job_id, "print job cancelled");
        Ok(job)
    }

    /// Puts a failed or cancelled job back in the queue for an attempt now.
    pub fn retry(&mut self, job_id: i64) -> CoreResult<QueuedJob> {
        self.transition(
            job_id,
            "retried",
            "UPDATE print_jobs SET status = 'pending', next_attempt_ms = 0, updated_at = ?2
             WHERE job_id = ?1 AND status IN ('failed', 'cancelled', 'pending', 'held')",
        )
    }

    /// Runs `update` (`?1` the job, `?2` now) and wakes the workers; refused with the job's
    /// state in words when the update changed nothing (the job was not in a state it allows).
    fn transition(
        &mut self,
        job_id: i64,
        action: &'static str,
        update: &str,
    ) -> CoreResult<QueuedJob> {
        let n = self
            .conn
            .execute(update, params![job_id, Timestamp::now().to_string()])?;
        let job = self.job(job_id)?;
        if n == 0 {
            return Err(CoreError::PrintJobState {
                job_id,
                action,
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
    pub(super) fn insert_job(
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
}
