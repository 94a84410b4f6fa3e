//! Serial (RS-232 or USB-serial) printers, through the `serialport` crate
//! built without libudev, so no system library is needed.

use std::io::{Read, Write};
use std::time::Duration;

use serialport::{ClearBuffer, SerialPort};

use super::{Connection, Timeouts, is_timeout, write_counting};
use crate::error::PrinterError;

/// An open serial port.
pub struct SerialConnection {
    port: Box<dyn SerialPort>,
    timeouts: Timeouts,
}

impl std::fmt::Debug for SerialConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialConnection")
            .field("port", &self.port.name())
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

impl SerialConnection {
    /// Opens `path` at `baud`, 8N1, no flow control.
    pub fn open(
        path: &str,
        baud: u32,
        timeouts: Timeouts,
    ) -> Result<SerialConnection, PrinterError> {
        let port = serialport::new(path, baud)
            .timeout(timeouts.write)
            .open()
            .map_err(|e| PrinterError::Connect {
                target: format!("serial:{path}@{baud}"),
                source: std::io::Error::other(e),
            })?;
        Ok(SerialConnection { port, timeouts })
    }

    fn set_timeout(&mut self, timeout: Duration) -> std::io::Result<()> {
        self.port
            .set_timeout(timeout)
            .map_err(std::io::Error::other)
    }
}

impl Connection for SerialConnection {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        let total = bytes.len();
        self.set_timeout(self.timeouts.write)
            .map_err(|source| PrinterError::Write {
                written: 0,
                total,
                source,
            })?;
        write_counting(bytes, |chunk| self.port.write(chunk))?;
        self.port.flush().map_err(|source| PrinterError::Write {
            written: total,
            total,
            source,
        })
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, PrinterError> {
        self.set_timeout(self.timeouts.read)
            .map_err(PrinterError::Read)?;
        match self.port.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if is_timeout(&e) => Err(PrinterError::ReadTimeout(self.timeouts.read)),
            Err(e) => Err(PrinterError::Read(e)),
        }
    }

    fn can_read(&self) -> bool {
        true
    }

    fn discard_input(&mut self) -> Result<(), PrinterError> {
        self.port
            .clear(ClearBuffer::Input)
            .map_err(|e| PrinterError::Read(std::io::Error::other(e)))
    }
}
