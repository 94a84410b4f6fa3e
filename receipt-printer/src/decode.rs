//! An ESC/POS parser for the commands this crate emits, written from the
//! Epson reference independently of [`crate::commands`]. The test printer,
//! the PNG preview and the property tests read output through it; anything
//! else is an [`PrinterError::UnknownCommand`].

use crate::error::PrinterError;

/// One command or run of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Bytes to print in the current code page (0x20..=0x7E, 0x80..=0xFF).
    Text(Vec<u8>),
    /// `LF`.
    LineFeed,
    /// `ESC @`.
    Initialize,
    /// `FS .`.
    CancelKanji,
    /// `ESC t n`.
    CodePage(u8),
    /// `ESC E n`.
    Bold(bool),
    /// `ESC - n` (0 off, 1 or 2 dots).
    Underline(u8),
    /// `GS ! n` as (width, height) multipliers 1..=8.
    Size {
        /// Width multiplier.
        width: u8,
        /// Height multiplier.
        height: u8,
    },
    /// `ESC a n`: 0 left, 1 centre, 2 right.
    Justify(u8),
    /// `ESC d n`.
    FeedLines(u8),
    /// `GS V`: cut, `partial` or full, with the extra feed of function B.
    Cut {
        /// Partial (one point left) rather than full.
        partial: bool,
        /// `n` of function B, `None` for function A.
        feed: Option<u8>,
    },
    /// `ESC p m t1 t2`.
    DrawerKick {
        /// `m`: 0 = pin 2, 1 = pin 5.
        pin: u8,
        /// `t1` (× 2 ms).
        on: u8,
        /// `t2` (× 2 ms).
        off: u8,
    },
    /// `DLE EOT n`.
    StatusRequest(u8),
    /// `GS ( k` function 165 (model; 49 = model 1, 50 = model 2).
    QrModel(u8),
    /// `GS ( k` function 167.
    QrModuleSize(u8),
    /// `GS ( k` function 169 (48..=51 = L, M, Q, H).
    QrErrorCorrection(u8),
    /// `GS ( k` function 180.
    QrStore(Vec<u8>),
    /// `GS ( k` function 181.
    QrPrint,
    /// `GS v 0`: raster image.
    Raster {
        /// Bytes per row.
        width_bytes: u16,
        /// Rows.
        height: u16,
        /// Packed rows.
        data: Vec<u8>,
    },
}

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const DLE: u8 = 0x10;
const LF: u8 = 0x0A;

/// Parses a complete byte stream.
pub fn parse(bytes: &[u8]) -> Result<Vec<Command>, PrinterError> {
    let mut commands = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match parse_one(&bytes[at..], at)? {
            Some((command, used)) => {
                commands.push(command);
                at += used;
            }
            None => {
                return Err(PrinterError::MalformedCommand {
                    offset: at,
                    reason: "stream ends inside a command".into(),
                });
            }
        }
    }
    Ok(commands)
}

/// Parses the command at the start of `bytes` (found at `offset` of the
/// stream, for error messages). `Ok(None)` means more bytes are needed.
pub fn parse_one(bytes: &[u8], offset: usize) -> Result<Option<(Command, usize)>, PrinterError> {
    let Some(&first) = bytes.first() else {
        return Ok(None);
    };
    let unknown = |len: usize| PrinterError::UnknownCommand {
        offset,
        bytes: bytes[..len.min(bytes.len())].to_vec(),
    };
    let malformed = |reason: String| PrinterError::MalformedCommand { offset, reason };
    let arg = |i: usize| bytes.get(i).copied();
    match first {
        LF => Ok(Some((Command::LineFeed, 1))),
        0x20..=0x7E | 0x80..=0xFF => {
            let len = bytes.iter().take_while(|&&b| is_text(b)).count();
            Ok(Some((Command::Text(bytes[..len].to_vec()), len)))
        }
        ESC => {
            let Some(code) = arg(1) else { return Ok(None) };
            match code {
                b'@' => Ok(Some((Command::Initialize, 2))),
                b't' | b'E' | b'-' | b'a' | b'd' => {
                    let Some(n) = arg(2) else { return Ok(None) };
                    let command = match code {
                        b't' => Command::CodePage(n),
                        b'E' => Command::Bold(n & 1 == 1),
                        b'-' => match n {
                            0 | 48 => Command::Underline(0),
                            1 | 49 => Command::Underline(1),
                            2 | 50 => Command::Underline(2),
                            _ => return Err(malformed(format!("ESC - {n}"))),
                        },
                        b'a' => match n {
                            0..=2 => Command::Justify(n),
                            48..=50 => Command::Justify(n - 48),
                            _ => return Err(malformed(format!("ESC a {n}"))),
                        },
                        _ => Command::FeedLines(n),
                    };
                    Ok(Some((command, 3)))
                }
                b'p' => {
                    if bytes.len() < 5 {
                        return Ok(None);
                    }
                    let pin = match bytes[2] {
                        0 | 48 => 0,
                        1 | 49 => 1,
                        m => return Err(malformed(format!("ESC p with pin {m}"))),
                    };
                    Ok(Some((
                        Command::DrawerKick {
                            pin,
                            on: bytes[3],
                            off: bytes[4],
                        },
                        5,
                    )))
                }
                _ => Err(unknown(2)),
            }
        }
        GS => {
            let Some(code) = arg(1) else { return Ok(None) };
            match code {
                b'!' => {
                    let Some(n) = arg(2) else { return Ok(None) };
                    let (width, height) = ((n >> 4) + 1, (n & 0x0F) + 1);
                    if width > 8 || height > 8 {
                        return Err(malformed(format!("GS ! {n:#04X}")));
                    }
                    Ok(Some((Command::Size { width, height }, 3)))
                }
                b'V' => {
                    let Some(m) = arg(2) else { return Ok(None) };
                    match m {
                        0 | 48 => Ok(Some((
                            Command::Cut {
                                partial: false,
                                feed: None,
                            },
                            3,
                        ))),
                        1 | 49 => Ok(Some((
                            Command::Cut {
                                partial: true,
                                feed: None,
                            },
                            3,
                        ))),
                        65 | 66 => {
                            let Some(n) = arg(3) else { return Ok(None) };
                            Ok(Some((
                                Command::Cut {
                                    partial: m == 66,
                                    feed: Some(n),
                                },
                                4,
                            )))
                        }
                        _ => Err(malformed(format!("GS V {m}"))),
                    }
                }
                b'(' => parse_gs_paren(bytes, offset),
                b'v' => parse_raster(bytes, offset),
                _ => Err(unknown(2)),
            }
        }
        FS => {
            let Some(code) = arg(1) else { return Ok(None) };
            if code == b'.' {
                Ok(Some((Command::CancelKanji, 2)))
            } else {
                Err(unknown(2))
            }
        }
        DLE => {
            if bytes.len() < 3 {
                return Ok(None);
            }
            match (bytes[1], bytes[2]) {
                (0x04, n @ 1..=4) => Ok(Some((Command::StatusRequest(n), 3))),
                _ => Err(unknown(3)),
            }
        }
        _ => Err(unknown(1)),
    }
}

fn is_text(b: u8) -> bool {
    matches!(b, 0x20..=0x7E | 0x80..=0xFF)
}

fn parse_gs_paren(bytes: &[u8], offset: usize) -> Result<Option<(Command, usize)>, PrinterError> {
    if bytes.len() < 5 {
        return Ok(None);
    }
    if bytes[2] != b'k' {
        return Err(PrinterError::UnknownCommand {
            offset,
            bytes: bytes[..3].to_vec(),
        });
    }
    let len = usize::from(u16::from_le_bytes([bytes[3], bytes[4]]));
    let total = 5 + len;
    if bytes.len() < total {
        return Ok(None);
    }
    let body = &bytes[5..total];
    let malformed = |reason: &str| PrinterError::MalformedCommand {
        offset,
        reason: format!("GS ( k: {reason}"),
    };
    let (&cn, rest) = body.split_first().ok_or_else(|| malformed("empty"))?;
    if cn != 49 {
        return Err(malformed("only QR (cn = 49) is known"));
    }
    let (&func, params) = rest.split_first().ok_or_else(|| malformed("no function"))?;
    let command = match (func, params) {
        (65, [n1 @ (49 | 50), 0]) => Command::QrModel(*n1),
        (67, [n @ 1..=16]) => Command::QrModuleSize(*n),
        (69, [n @ 48..=51]) => Command::QrErrorCorrection(*n),
        (80, [48, data @ ..]) if !data.is_empty() => Command::QrStore(data.to_vec()),
        (81, [48]) => Command::QrPrint,
        _ => {
            return Err(malformed(&format!(
                "function {func} with {} parameter bytes",
                params.len()
            )));
        }
    };
    Ok(Some((command, total)))
}

fn parse_raster(bytes: &[u8], offset: usize) -> Result<Option<(Command, usize)>, PrinterError> {
    if bytes.len() < 8 {
        return Ok(None);
    }
    if bytes[2] != b'0' || !matches!(bytes[3], 0 | 48) {
        return Err(PrinterError::MalformedCommand {
            offset,
            reason: format!(
                "GS v {} {} (only normal density GS v 0 0 is known)",
                bytes[2], bytes[3]
            ),
        });
    }
    let width_bytes = u16::from_le_bytes([bytes[4], bytes[5]]);
    let height = u16::from_le_bytes([bytes[6], bytes[7]]);
    let total = 8 + usize::from(width_bytes) * usize::from(height);
    if bytes.len() < total {
        return Ok(None);
    }
    let data = bytes[8..total].to_vec();
    Ok(Some((
        Command::Raster {
            width_bytes,
            height,
            data,
        },
        total,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_whole_commands() {
        assert_eq!(parse_one(&[0x1D, 0x28, 0x6B, 0x04], 0).ok(), Some(None));
        assert_eq!(parse_one(&[0x10, 0x04], 0).ok(), Some(None));
        assert!(matches!(
            parse_one(&[0x07], 0),
            Err(PrinterError::UnknownCommand { .. })
        ));
        assert!(matches!(
            parse_one(&[0x1B, 0x21, 0], 0),
            Err(PrinterError::UnknownCommand { .. })
        ));
    }
}
