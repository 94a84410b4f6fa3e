//! Printer addresses: `tcp://HOST:PORT`, `usb:VID:PID`, `serial:PATH[@BAUD]`,
//! `file:PATH`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::PrinterError;

/// The port network receipt printers take raw jobs on.
pub const RAW_TCP_PORT: u16 = 9100;
/// Baud rate when a serial address names none.
pub const DEFAULT_BAUD: u32 = 9600;

/// Where a printer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Raw TCP ("port 9100"); host name or IP address.
    Tcp {
        /// Host name, IPv4 or IPv6 address (without brackets).
        host: String,
        /// Port.
        port: u16,
    },
    /// USB printer class device.
    Usb {
        /// Vendor id.
        vendor_id: u16,
        /// Product id.
        product_id: u16,
    },
    /// Serial port.
    Serial {
        /// Device path, e.g. `/dev/ttyUSB0` or `COM3`.
        path: String,
        /// Baud rate.
        baud: u32,
    },
    /// A file or device node (e.g. `/dev/usb/lp0`) the bytes are written to.
    File(PathBuf),
}

impl FromStr for Target {
    type Err = PrinterError;

    fn from_str(address: &str) -> Result<Target, PrinterError> {
        let invalid = |reason: &str| PrinterError::InvalidTarget {
            address: address.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(rest) = address.strip_prefix("tcp://") {
            let rest = rest.trim_end_matches('/');
            let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
                let (host, after) = bracketed
                    .split_once(']')
                    .ok_or_else(|| invalid("unclosed '[' in IPv6 host"))?;
                let port = match after.strip_prefix(':') {
                    Some(p) => Some(p),
                    None if after.is_empty() => None,
                    None => return Err(invalid("expected ':PORT' after ']'")),
                };
                (host, port)
            } else {
                match rest.rsplit_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (rest, None),
                }
            };
            if host.is_empty() {
                return Err(invalid("no host"));
            }
            let port = match port {
                Some(p) => p
                    .parse::<u16>()
                    .ok()
                    .filter(|&p| p > 0)
                    .ok_or_else(|| invalid("bad port"))?,
                None => RAW_TCP_PORT,
            };
            return Ok(Target::Tcp {
                host: host.to_owned(),
                port,
            });
        }
        if let Some(rest) = address.strip_prefix("usb:") {
            let (vid, pid) = rest
                .split_once(':')
                .ok_or_else(|| invalid("expected usb:VID:PID"))?;
            let hex = |s: &str| {
                let s = s.trim_start_matches("0x").trim_start_matches("0X");
                u16::from_str_radix(s, 16).map_err(|_| invalid("VID and PID are 4 hex digits"))
            };
            return Ok(Target::Usb {
                vendor_id: hex(vid)?,
                product_id: hex(pid)?,
            });
        }
        if let Some(rest) = address.strip_prefix("serial:") {
            let (path, baud) = match rest.rsplit_once('@') {
                Some((path, baud)) => (
                    path,
                    baud.parse::<u32>()
                        .map_err(|_| invalid("bad baud rate after '@'"))?,
                ),
                None => (rest, DEFAULT_BAUD),
            };
            if path.is_empty() {
                return Err(invalid("no serial device path"));
            }
            return Ok(Target::Serial {
                path: path.to_owned(),
                baud,
            });
        }
        if let Some(rest) = address.strip_prefix("file:") {
            if rest.is_empty() {
                return Err(invalid("no file path"));
            }
            return Ok(Target::File(PathBuf::from(rest)));
        }
        Err(invalid(
            "expected tcp://HOST:PORT, usb:VID:PID, serial:PATH[@BAUD] or file:PATH",
        ))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, port } if host.contains(':') => write!(f, "tcp://[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Target::Usb {
                vendor_id,
                product_id,
            } => write!(f, "usb:{vendor_id:04x}:{product_id:04x}"),
            Target::Serial { path, baud } => write!(f, "serial:{path}@{baud}"),
            Target::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Target {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse("tcp://192.168.1.50:9100"),
            Target::Tcp {
                host: "192.168.1.50".into(),
                port: 9100
            }
        );
        assert_eq!(
            parse("tcp://printer.local"),
            Target::Tcp {
                host: "printer.local".into(),
                port: 9100
            }
        );
        assert_eq!(
            parse("tcp://[::1]:9101"),
            Target::Tcp {
                host: "::1".into(),
                port: 9101
            }
        );
        assert_eq!(
            parse("usb:04b8:0e15"),
            Target::Usb {
                vendor_id: 0x04b8,
                product_id: 0x0e15
            }
        );
        assert_eq!(
            parse("serial:/dev/ttyUSB0"),
            Target::Serial {
                path: "/dev/ttyUSB0".into(),
                baud: 9600
            }
        );
        assert_eq!(
            parse("serial:COM3@115200"),
            Target::Serial {
                path: "COM3".into(),
                baud: 115200
            }
        );
        assert_eq!(
            parse("file:/tmp/out.bin"),
            Target::File("/tmp/out.bin".into())
        );
        for bad in [
            "tcp://",
            "tcp://h:0",
            "tcp://h:x",
            "usb:zz:1",
            "usb:04b8",
            "serial:",
            "lpt1",
            "file:",
        ] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
        assert_eq!(parse("tcp://[::1]:9101").to_string(), "tcp://[::1]:9101");
    }
}
