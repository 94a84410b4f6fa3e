//! Terminals' heartbeat reports, written together. Each till reports every 2 s; one statement
//! and one commit per report cost a pooled connection and a WAL flush each. Reports that arrive
//! while a write is under way wait for the next write, which takes them all (group commit): a
//! lone report is written at once, and under load one statement carries hundreds. Each
//! heartbeat still waits until its report is stored, and is answered with the write's error if
//! it failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};
use crate::storage::{DynStorage, TerminalReport};

/// At most this many reports are taken into one write.
const MAX_BATCH: usize = 1_000;

/// A report waiting to be written, and where its outcome goes.
struct Pending {
    report: TerminalReport,
    done: oneshot::Sender<Result<()>>,
}

/// The writer's counters, for `/metrics`.
#[derive(Debug, Default)]
pub struct ReportCounters {
    /// Reports recorded.
    pub reports: AtomicU64,
    /// Writes (one statement each), failed ones included.
    pub writes: AtomicU64,
}

/// The queue of reports and the task that writes them.
#[derive(Debug)]
pub struct TerminalReports {
    queue: mpsc::UnboundedSender<Pending>,
    pub counters: Arc<ReportCounters>,
}

impl TerminalReports {
    /// Starts the writer on the current runtime; it stops once this is dropped.
    pub fn start(storage: DynStorage) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        let counters = Arc::new(ReportCounters::default());
        tokio::spawn(write_batches(storage, rx, counters.clone()));
        Self { queue, counters }
    }

    /// Records `report`; returns once it is stored.
    pub async fn record(&self, report: TerminalReport) -> Result<()> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Pending { report, done })
            .map_err(|_| Error::Internal("the terminal report writer has stopped".into()))?;
        outcome
            .await
            .map_err(|_| Error::Internal("the terminal report writer has stopped".into()))?
    }
}

async fn write_batches(
    storage: DynStorage,
    mut rx: mpsc::UnboundedReceiver<Pending>,
    counters: Arc<ReportCounters>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let reports = latest_per_terminal(&batch);
        let written = storage.record_terminal_reports(&reports).await;
        counters.writes.fetch_add(1, Ordering::Relaxed);
        if written.is_ok() {
            counters
                .reports
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
        } else {
            tracing::error!(reports = batch.len(), error = ?written, "recording terminal reports failed");
        }
        for p in batch.drain(..) {
            // A heartbeat that gave up waiting has dropped its receiver: nothing to tell.
            let _ = p.done.send(match &written {
                Ok(()) => Ok(()),
                Err(e) => Err(shared_error(e)),
            });
        }
    }
}

/// The latest report of each terminal in `batch` (an UPDATE names each row once), in the order
/// the terminals first appear.
fn latest_per_terminal(batch: &[Pending]) -> Vec<TerminalReport> {
    let mut at: HashMap<&str, usize> = HashMap::with_capacity(batch.len());
    let mut out: Vec<TerminalReport> = Vec::with_capacity(batch.len());
    for p in batch {
        match at.get(p.report.terminal_id.as_str()) {
            Some(&i) => out[i] = p.report.clone(),
            None => {
                at.insert(&p.report.terminal_id, out.len());
                out.push(p.report.clone());
            }
        }
    }
    out
}

/// The error each waiting heartbeat is answered with: a busy pool stays "busy" (503, retry),
/// anything else is an internal error (the write's own error is logged once above).
fn shared_error(e: &Error) -> Error {
    match e {
        Error::Database(sqlx::Error::PoolTimedOut) => Error::Database(sqlx::Error::PoolTimedOut),
        _ => Error::Internal("recording the terminal's report failed".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(terminal: &str, at: i64) -> Pending {
        Pending {
            report: TerminalReport {
                terminal_id: terminal.into(),
                at,
                waiting_documents: 0,
                waiting_sales: at,
                clock_skew_ms: 0,
                app_version: None,
            },
            done: oneshot::channel().0,
        }
    }

    #[test]
    fn a_terminal_reporting_twice_in_a_batch_is_written_once_with_its_latest_report() {
        let batch = [pending("a", 1), pending("b", 2), pending("a", 3)];
        let got: Vec<(String, i64)> = latest_per_terminal(&batch)
            .into_iter()
            .map(|r| (r.terminal_id, r.at))
            .collect();
        assert_eq!(got, [("a".to_string(), 3), ("b".to_string(), 2)]);
    }
}
