//! Sending one job: status before, bytes, status after.

use crate::driver::Connection;
use crate::error::PrinterError;
use crate::profile::PrinterProfile;
use crate::status::{PrinterStatus, Readiness, query_status};

/// What happened to a job that was sent.
#[derive(Debug)]
pub struct JobReport {
    /// Status before the job was sent.
    pub before: PrinterStatus,
    /// Status after the bytes were written (unknown if it could not be read).
    pub after: PrinterStatus,
    /// Why the status after the job could not be read, if it could not. The
    /// job's bytes were all written either way.
    pub after_error: Option<PrinterError>,
}

/// Sends `bytes` as one job. Checks the status first where the printer
/// answers and refuses with [`PrinterError::NotReady`] (nothing written)
/// while it reports paper out, offline, cover open or an error. After a
/// complete write it asks again, so a queue can hold the next job when the
/// paper ran out during this one.
#[tracing::instrument(skip_all, fields(profile = %profile.name, bytes = bytes.len()))]
pub fn send_job(
    connection: &mut dyn Connection,
    profile: &PrinterProfile,
    bytes: &[u8],
) -> Result<JobReport, PrinterError> {
    let before = query_status(connection, profile)?;
    if before.readiness() == Readiness::Hold {
        tracing::info!(status = %before, "printer not ready, job held");
        return Err(PrinterError::NotReady(before));
    }
    connection.write_all(bytes)?;
    let (after, after_error) = match query_status(connection, profile) {
        Ok(status) => (status, None),
        Err(e) => {
            tracing::warn!(error = %e, "status after the job could not be read");
            (PrinterStatus::UNKNOWN, Some(e))
        }
    };
    tracing::debug!(before = %before, after = %after, "job written");
    Ok(JobReport {
        before,
        after,
        after_error,
    })
}
