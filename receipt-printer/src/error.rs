//! The crate's one error type.

use std::io;

use crate::status::PrinterStatus;

/// Everything that can go wrong between a receipt and the paper.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrinterError {
    /// No built-in profile has this name.
    #[error("unknown printer profile {0:?} (see `escpos-print profiles`)")]
    UnknownProfile(String),
    /// A custom profile with impossible settings.
    #[error("invalid printer profile: {0}")]
    InvalidProfile(String),
    /// A printer address that is not `tcp://HOST:PORT`, `usb:VID:PID`,
    /// `serial:PATH` or `file:PATH`.
    #[error("invalid printer address {address:?}: {reason}")]
    InvalidTarget {
        /// What was given.
        address: String,
        /// Why it was refused.
        reason: String,
    },
    /// The logo is not a readable image.
    #[error("logo image cannot be read: {0}")]
    Logo(String),
    /// The QR payload cannot be printed.
    #[error("QR payload cannot be printed: {0}")]
    QrPayload(String),
    /// A line of a hand-built document is wider than the paper.
    #[error("line {line:?} takes {columns} columns, the paper has {width}")]
    LineTooWide {
        /// The line.
        line: String,
        /// Columns it takes.
        columns: usize,
        /// Columns the printer has.
        width: usize,
    },
    /// The PNG preview could not be produced.
    #[error("preview image cannot be written: {0}")]
    Preview(String),
    /// Bytes that are not a command this crate knows (decoder, test printer).
    #[error("unknown ESC/POS command at byte {offset}: {bytes:02X?}")]
    UnknownCommand {
        /// Position of the first byte of the command.
        offset: usize,
        /// The first bytes of the command.
        bytes: Vec<u8>,
    },
    /// A command whose parameters are out of range or truncated.
    #[error("malformed ESC/POS command at byte {offset}: {reason}")]
    MalformedCommand {
        /// Position of the first byte of the command.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// Could not reach the printer.
    #[error("cannot connect to printer at {target}: {source}")]
    Connect {
        /// The printer address.
        target: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The USB printer is not plugged in or cannot be opened.
    #[error("USB printer {target}: {reason}")]
    Usb {
        /// `usb:VID:PID`.
        target: String,
        /// What failed.
        reason: String,
    },
    /// Writing to the printer failed after `written` bytes of the job had
    /// been accepted. `written == total` never produces this error.
    #[error("writing to the printer failed after {written} of {total} bytes: {source}")]
    Write {
        /// Bytes the connection had accepted before the failure.
        written: usize,
        /// Bytes in the job.
        total: usize,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Reading from the printer failed (other than a timeout).
    #[error("reading from the printer failed: {0}")]
    Read(#[source] io::Error),
    /// The printer did not answer within the read timeout.
    #[error("the printer did not answer within {0:?}")]
    ReadTimeout(std::time::Duration),
    /// The connection cannot read replies (e.g. a file), so no status exists.
    #[error("this connection cannot read printer replies")]
    ReadUnsupported,
    /// A status reply that does not follow the DLE EOT reply format.
    #[error("bad status reply to DLE EOT {request}: {byte:#04X} (fixed bits wrong)")]
    BadStatusReply {
        /// The `n` of `DLE EOT n` that was asked.
        request: u8,
        /// What came back.
        byte: u8,
    },
    /// The printer reported it cannot print now (paper out, offline, cover open).
    #[error("printer not ready: {0}")]
    NotReady(PrinterStatus),
}
