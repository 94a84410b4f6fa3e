//! Getting bytes to a printer: raw TCP, USB, serial and file connections
//! behind one [`Connection`] trait, chosen by a [`Target`] address.

mod file;
mod serial;
mod target;
mod tcp;
mod usb;

use std::fmt;
use std::time::Duration;

use crate::error::PrinterError;

pub use file::FileConnection;
pub use serial::SerialConnection;
pub use target::Target;
pub use tcp::TcpConnection;
pub use usb::{UsbConnection, UsbPrinterInfo, list_usb_printers};

/// Time limits of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the connection (TCP connect per resolved address).
    pub connect: Duration,
    /// One write call; a printer that stops taking data fails the job.
    pub write: Duration,
    /// Waiting for a reply (status).
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(3),
            write: Duration::from_secs(10),
            read: Duration::from_millis(500),
        }
    }
}

/// An open connection to a printer.
pub trait Connection: Send + fmt::Debug {
    /// Writes all of `bytes`. On failure the error is
    /// [`PrinterError::Write`] with the number of bytes the connection had
    /// accepted, so a queue can tell a job that never started from one cut
    /// short. Accepted is not printed: the printer may still drop its buffer.
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), PrinterError>;

    /// Reads what the printer sent, waiting up to the read timeout;
    /// [`PrinterError::ReadTimeout`] if nothing came.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, PrinterError>;

    /// True if the printer can answer on this connection.
    fn can_read(&self) -> bool;

    /// Drops bytes the printer sent earlier and nobody read (stale replies,
    /// automatic status), without waiting.
    fn discard_input(&mut self) -> Result<(), PrinterError>;
}

/// Serial ports the system reports, for set-up (paths to use as
/// `serial:PATH`). Without libudev the list may miss some USB adapters;
/// their `/dev/ttyUSB*` paths still work.
pub fn list_serial_ports() -> Result<Vec<String>, PrinterError> {
    serialport::available_ports()
        .map(|ports| ports.into_iter().map(|p| p.port_name).collect())
        .map_err(|e| PrinterError::Connect {
            target: "serial".into(),
            source: std::io::Error::other(e),
        })
}

/// Opens a connection to `target`.
#[tracing::instrument(skip_all, fields(target = %target))]
pub fn connect(target: &Target, timeouts: Timeouts) -> Result<Box<dyn Connection>, PrinterError> {
    Ok(match target {
        Target::Tcp { host, port } => Box::new(TcpConnection::connect(host, *port, timeouts)?),
        Target::Usb {
            vendor_id,
            product_id,
        } => Box::new(UsbConnection::open(*vendor_id, *product_id, timeouts)?),
        Target::Serial { path, baud } => Box::new(SerialConnection::open(path, *baud, timeouts)?),
        Target::File(path) => Box::new(FileConnection::create(path)?),
    })
}

/// Writes `bytes` through `write` (which may accept fewer bytes than
/// offered) and reports how many were accepted if it fails.
pub(crate) fn write_counting(
    bytes: &[u8],
    mut write: impl FnMut(&[u8]) -> std::io::Result<usize>,
) -> Result<(), PrinterError> {
    let mut written = 0;
    while written < bytes.len() {
        match write(&bytes[written..]) {
            Ok(0) => {
                return Err(PrinterError::Write {
                    written,
                    total: bytes.len(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::WriteZero,
                        "the printer accepts no more data",
                    ),
                });
            }
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(PrinterError::Write {
                    written,
                    total: bytes.len(),
                    source,
                });
            }
        }
    }
    Ok(())
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}
