//! Real-time status (`DLE EOT n`): requests, reply parsing and the summary
//! a print queue acts on.
//!
//! Every reply byte has fixed bits: bit 0 = 0, bit 1 = 1, bit 4 = 1,
//! bit 7 = 0 (`byte & 0x93 == 0x12`). A byte without them is not a status
//! reply and is refused as [`PrinterError::BadStatusReply`].

use std::fmt;
use std::time::Duration;

use crate::commands;
use crate::driver::Connection;
use crate::error::PrinterError;
use crate::profile::PrinterProfile;

/// `DLE EOT 1`: printer status.
pub const REQUEST_PRINTER: u8 = 1;
/// `DLE EOT 2`: offline cause.
pub const REQUEST_OFFLINE_CAUSE: u8 = 2;
/// `DLE EOT 4`: roll paper sensor.
pub const REQUEST_PAPER_SENSOR: u8 = 4;

const FIXED_MASK: u8 = 0x93;
const FIXED_VALUE: u8 = 0x12;

/// Paper as reported by the roll paper sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperState {
    /// Paper present and not near its end.
    Ok,
    /// The near-end sensor sees the roll running low.
    NearEnd,
    /// No paper.
    Out,
    /// Not reported.
    Unknown,
}

/// What the printer said about itself; `None` where it was not asked or did
/// not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterStatus {
    /// Online (`DLE EOT 1` bit 3 clear).
    pub online: Option<bool>,
    /// Cover open (`DLE EOT 2` bit 2).
    pub cover_open: Option<bool>,
    /// Printing stopped because the paper ran out (`DLE EOT 2` bit 5).
    pub stopped_for_paper: Option<bool>,
    /// An error occurred (`DLE EOT 2` bit 6).
    pub error: Option<bool>,
    /// Roll paper sensor (`DLE EOT 4`).
    pub paper: PaperState,
}

/// What a print queue should do given a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// The printer says it can print.
    Ready,
    /// The printer says it cannot print now (paper out, offline, cover open,
    /// error): hold the job.
    Hold,
    /// The printer does not report status: print and hope.
    Unknown,
}

impl PrinterStatus {
    /// Nothing known.
    pub const UNKNOWN: PrinterStatus = PrinterStatus {
        online: None,
        cover_open: None,
        stopped_for_paper: None,
        error: None,
        paper: PaperState::Unknown,
    };

    /// Whether to print now.
    pub fn readiness(&self) -> Readiness {
        let blocked = self.online == Some(false)
            || self.cover_open == Some(true)
            || self.stopped_for_paper == Some(true)
            || self.error == Some(true)
            || self.paper == PaperState::Out;
        if blocked {
            Readiness::Hold
        } else if self.online.is_none() && self.paper == PaperState::Unknown {
            Readiness::Unknown
        } else {
            Readiness::Ready
        }
    }

    /// Applies one reply byte to `request`.
    pub fn apply_reply(&mut self, request: u8, byte: u8) -> Result<(), PrinterError> {
        if byte & FIXED_MASK != FIXED_VALUE {
            return Err(PrinterError::BadStatusReply { request, byte });
        }
        let bit = |n: u8| byte & (1 << n) != 0;
        match request {
            REQUEST_PRINTER => self.online = Some(!bit(3)),
            REQUEST_OFFLINE_CAUSE => {
                self.cover_open = Some(bit(2));
                self.stopped_for_paper = Some(bit(5));
                self.error = Some(bit(6));
            }
            REQUEST_PAPER_SENSOR => {
                // bits 2-3 near end, bits 5-6 paper end (both bits of a pair are set)
                self.paper = if bit(5) || bit(6) {
                    PaperState::Out
                } else if bit(2) || bit(3) {
                    PaperState::NearEnd
                } else {
                    PaperState::Ok
                };
            }
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Display for PrinterStatus {
    /// In words: "online, paper OK", "offline: paper out, cover open",
    /// "unknown (the printer does not report status)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.online.is_none() && self.cover_open.is_none() && self.paper == PaperState::Unknown {
            return f.write_str("unknown (the printer does not report status)");
        }
        let mut problems = Vec::new();
        if self.paper == PaperState::Out || self.stopped_for_paper == Some(true) {
            problems.push("paper out");
        }
        if self.cover_open == Some(true) {
            problems.push("cover open");
        }
        if self.error == Some(true) {
            problems.push("printer error");
        }
        if self.paper == PaperState::NearEnd {
            problems.push("paper near end");
        }
        let state = match self.online {
            Some(true) => "online",
            Some(false) => "offline",
            None => "online state unknown",
        };
        if problems.is_empty() {
            let paper = if self.paper == PaperState::Ok {
                "paper OK"
            } else {
                "paper unknown"
            };
            write!(f, "{state}, {paper}")
        } else {
            write!(f, "{state}: {}", problems.join(", "))
        }
    }
}

/// Asks the printer for its status with the requests `profile` says it
/// answers. A request that gets no answer within the connection's read
/// timeout leaves its fields unknown; a reply that is not a status byte is an
/// error. Connections that cannot read (files) give [`PrinterStatus::UNKNOWN`].
pub fn query_status(
    connection: &mut dyn Connection,
    profile: &PrinterProfile,
) -> Result<PrinterStatus, PrinterError> {
    let mut status = PrinterStatus::UNKNOWN;
    if !connection.can_read() {
        return Ok(status);
    }
    let support = profile.status;
    let requests = [
        (support.printer, REQUEST_PRINTER),
        (support.offline_cause, REQUEST_OFFLINE_CAUSE),
        (support.paper_sensor, REQUEST_PAPER_SENSOR),
    ];
    for (_, request) in requests.iter().filter(|(asked, _)| *asked) {
        connection.discard_input()?;
        connection.write_all(&commands::status_request(*request))?;
        let mut reply = [0u8; 1];
        match connection.read(&mut reply) {
            Ok(1) => status.apply_reply(*request, reply[0]).inspect_err(|e| {
                tracing::warn!(error = %e, "bad status reply");
            })?,
            Ok(_) | Err(PrinterError::ReadTimeout(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(status)
}

/// Default time to wait for one status reply.
pub const DEFAULT_STATUS_TIMEOUT: Duration = Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_from_the_reference() {
        let mut s = PrinterStatus::UNKNOWN;
        s.apply_reply(1, 0x12).expect("online");
        s.apply_reply(2, 0x12).expect("no cause");
        s.apply_reply(4, 0x12).expect("paper ok");
        assert_eq!(s.readiness(), Readiness::Ready);
        assert_eq!(s.to_string(), "online, paper OK");

        s.apply_reply(1, 0x1A).expect("offline");
        s.apply_reply(2, 0x32).expect("paper end stop");
        s.apply_reply(4, 0x72).expect("paper out");
        assert_eq!(s.readiness(), Readiness::Hold);
        assert_eq!(s.to_string(), "offline: paper out");

        let mut near = PrinterStatus::UNKNOWN;
        near.apply_reply(4, 0x1E).expect("near end");
        assert_eq!(near.paper, PaperState::NearEnd);
    }

    #[test]
    fn bytes_without_the_fixed_bits_are_refused() {
        for bad in [0x00, 0xFF, 0x41, 0x13, 0x92] {
            let mut s = PrinterStatus::UNKNOWN;
            assert!(matches!(
                s.apply_reply(1, bad),
                Err(PrinterError::BadStatusReply { request: 1, byte }) if byte == bad
            ));
        }
    }

    #[test]
    fn unknown_reads_in_words() {
        assert_eq!(PrinterStatus::UNKNOWN.readiness(), Readiness::Unknown);
        assert_eq!(
            PrinterStatus::UNKNOWN.to_string(),
            "unknown (the printer does not report status)"
        );
    }
}
