//! Raw TCP ("port 9100") printers.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::{Connection, Timeouts, is_timeout, write_counting};
use crate::error::PrinterError;

/// A raw TCP connection.
#[derive(Debug)]
pub struct TcpConnection {
    stream: TcpStream,
    read_timeout: Duration,
}

impl TcpConnection {
    /// Resolves `host` (name or address) and connects to the first address
    /// that answers within the connect timeout.
    pub fn connect(
        host: &str,
        port: u16,
        timeouts: Timeouts,
    ) -> Result<TcpConnection, PrinterError> {
        let target = format!("tcp://{host}:{port}");
        let connect_err = |source| PrinterError::Connect {
            target: target.clone(),
            source,
        };
        let addresses = (host, port).to_socket_addrs().map_err(connect_err)?;
        let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "host has no address");
        for address in addresses {
            match TcpStream::connect_timeout(&address, timeouts.connect) {
                Ok(stream) => {
                    stream.set_nodelay(true).map_err(connect_err)?;
                    stream
                        .set_write_timeout(Some(timeouts.write))
                        .map_err(connect_err)?;
                    stream
                        .set_read_timeout(Some(timeouts.read))
                        .map_err(connect_err)?;
                    return Ok(TcpConnection {
                        stream,
                        read_timeout: timeouts.read,
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(connect_err(last))
    }
}

impl Connection for TcpConnection {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        write_counting(bytes, |chunk| self.stream.write(chunk))?;
        self.stream.flush().map_err(|source| PrinterError::Write {
            written: bytes.len(),
            total: bytes.len(),
            source,
        })
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, PrinterError> {
        match self.stream.read(buf) {
            Ok(0) if !buf.is_empty() => Err(PrinterError::Read(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the printer closed the connection",
            ))),
            Ok(n) => Ok(n),
            Err(e) if is_timeout(&e) => Err(PrinterError::ReadTimeout(self.read_timeout)),
            Err(e) => Err(PrinterError::Read(e)),
        }
    }

    fn can_read(&self) -> bool {
        true
    }

    fn discard_input(&mut self) -> Result<(), PrinterError> {
        self.stream
            .set_nonblocking(true)
            .map_err(PrinterError::Read)?;
        let mut scratch = [0u8; 256];
        let outcome = loop {
            match self.stream.read(&mut scratch) {
                Ok(0) => break Ok(()),
                Ok(_) => continue,
                Err(e) if is_timeout(&e) => break Ok(()),
                Err(e) => break Err(PrinterError::Read(e)),
            }
        };
        self.stream
            .set_nonblocking(false)
            .map_err(PrinterError::Read)?;
        outcome
    }
}

impl Drop for TcpConnection {
    fn drop(&mut self) {
        // Tell the printer the job is complete; errors do not matter here.
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}
