//! What a printer would put on paper for a byte stream: decoded text lines
//! with their styles, QR codes, images, cuts and drawer kicks. Built on
//! [`crate::decode`]; used by the test printer, the preview and tests.

use crate::codepage::CodePage;
use crate::decode::{self, Command};
use crate::error::PrinterError;
use crate::profile::PrinterProfile;
use crate::raster::Raster;

/// One printed character and its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// The character the printer's table shows for the byte.
    pub ch: char,
    /// Emphasized.
    pub bold: bool,
    /// Underlined.
    pub underline: bool,
    /// Width multiplier.
    pub width: u8,
    /// Height multiplier.
    pub height: u8,
}

/// A printed line of text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Line {
    /// The characters.
    pub cells: Vec<Cell>,
    /// 0 left, 1 centre, 2 right.
    pub justify: u8,
}

impl Line {
    /// The text of the line.
    pub fn text(&self) -> String {
        self.cells.iter().map(|c| c.ch).collect()
    }

    /// Columns (font A cells) the line takes.
    pub fn columns(&self) -> usize {
        self.cells.iter().map(|c| usize::from(c.width)).sum()
    }

    /// Tallest height multiplier on the line (1 for an empty line).
    pub fn height(&self) -> u8 {
        self.cells.iter().map(|c| c.height).max().unwrap_or(1)
    }
}

/// One thing on the paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printed {
    /// A text line.
    Line(Line),
    /// A QR symbol.
    Qr {
        /// Stored data.
        data: Vec<u8>,
        /// Module size in dots.
        module_size: u8,
        /// Error correction (48..=51).
        error_correction: u8,
        /// Justification when printed.
        justify: u8,
    },
    /// A raster image.
    Image {
        /// The dots.
        raster: Raster,
        /// Justification when printed.
        justify: u8,
    },
    /// Empty lines fed with `ESC d`.
    Feed(u8),
    /// A cut.
    Cut {
        /// Partial cut.
        partial: bool,
    },
    /// A drawer pulse.
    DrawerKick {
        /// 0 = pin 2, 1 = pin 5.
        pin: u8,
        /// On time (× 2 ms).
        on: u8,
        /// Off time (× 2 ms).
        off: u8,
    },
}

/// The paper output of a job, plus anything a strict printer would object to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Printout {
    /// Output in order.
    pub items: Vec<Printed>,
    /// `DLE EOT n` requests seen in the stream.
    pub status_requests: Vec<u8>,
    /// Code pages selected, as `ESC t` numbers, in order.
    pub code_page_selections: Vec<u8>,
    /// Problems: bytes with no character, unknown pages, lines too wide.
    pub problems: Vec<String>,
}

struct State {
    page: Option<CodePage>,
    bold: bool,
    underline: bool,
    width: u8,
    height: u8,
    justify: u8,
    line: Line,
    qr_data: Option<Vec<u8>>,
    qr_module: u8,
    qr_ecc: u8,
}

impl State {
    fn reset(profile: &PrinterProfile) -> State {
        State {
            page: profile.page_for_esc_t(0).or(Some(CodePage::Pc437)),
            bold: false,
            underline: false,
            width: 1,
            height: 1,
            justify: 0,
            line: Line::default(),
            qr_data: None,
            qr_module: 3,
            qr_ecc: 48,
        }
    }
}

impl Printout {
    /// Decodes `bytes` as `profile`'s printer would print them.
    pub fn from_bytes(bytes: &[u8], profile: &PrinterProfile) -> Result<Printout, PrinterError> {
        Ok(Printout::from_commands(&decode::parse(bytes)?, profile))
    }

    /// Interprets parsed commands as `profile`'s printer would.
    pub fn from_commands(commands: &[Command], profile: &PrinterProfile) -> Printout {
        let mut out = Printout::default();
        let mut s = State::reset(profile);
        for command in commands {
            match command {
                Command::Text(bytes) => {
                    for &b in bytes {
                        let ch = s.page.and_then(|p| p.decode(b)).unwrap_or_else(|| {
                            out.problems.push(format!("byte {b:#04X} has no character"));
                            '\u{FFFD}'
                        });
                        s.line.cells.push(Cell {
                            ch,
                            bold: s.bold,
                            underline: s.underline,
                            width: s.width,
                            height: s.height,
                        });
                    }
                }
                Command::LineFeed => out.end_line(&mut s, profile),
                Command::Initialize => {
                    out.flush_partial(&mut s, profile);
                    s = State::reset(profile);
                }
                Command::CancelKanji => {}
                Command::CodePage(n) => {
                    out.code_page_selections.push(*n);
                    s.page = profile.page_for_esc_t(*n);
                    if s.page.is_none() {
                        out.problems
                            .push(format!("ESC t {n}: {} has no such page", profile.name));
                    }
                }
                Command::Bold(on) => s.bold = *on,
                Command::Underline(n) => s.underline = *n > 0,
                Command::Size { width, height } => (s.width, s.height) = (*width, *height),
                Command::Justify(n) => s.justify = *n,
                Command::FeedLines(n) => {
                    out.flush_partial(&mut s, profile);
                    out.items.push(Printed::Feed(*n));
                }
                Command::Cut { partial, .. } => {
                    out.flush_partial(&mut s, profile);
                    out.items.push(Printed::Cut { partial: *partial });
                }
                Command::DrawerKick { pin, on, off } => out.items.push(Printed::DrawerKick {
                    pin: *pin,
                    on: *on,
                    off: *off,
                }),
                Command::StatusRequest(n) => out.status_requests.push(*n),
                Command::QrModel(_) => {}
                Command::QrModuleSize(n) => s.qr_module = *n,
                Command::QrErrorCorrection(n) => s.qr_ecc = *n,
                Command::QrStore(data) => s.qr_data = Some(data.clone()),
                Command::QrPrint => match s.qr_data.clone() {
                    Some(data) => out.items.push(Printed::Qr {
                        data,
                        module_size: s.qr_module,
                        error_correction: s.qr_ecc,
                        justify: s.justify,
                    }),
                    None => out.problems.push("QR print with no stored data".into()),
                },
                Command::Raster {
                    width_bytes,
                    height,
                    data,
                } => {
                    out.flush_partial(&mut s, profile);
                    let dots = usize::from(*width_bytes) * 8;
                    if dots > usize::from(profile.width_dots) {
                        out.problems.push(format!(
                            "image {dots} dots wide on {} dots",
                            profile.width_dots
                        ));
                    }
                    match Raster::from_packed(*width_bytes, *height, data.clone()) {
                        Some(raster) => out.items.push(Printed::Image {
                            raster,
                            justify: s.justify,
                        }),
                        None => out.problems.push("raster data of the wrong size".into()),
                    }
                }
            }
        }
        out.flush_partial(&mut s, profile);
        out
    }

    fn end_line(&mut self, s: &mut State, profile: &PrinterProfile) {
        let line = std::mem::take(&mut s.line);
        if line.columns() > profile.columns() {
            self.problems.push(format!(
                "line {:?} takes {} columns of {}",
                line.text(),
                line.columns(),
                profile.columns()
            ));
        }
        self.items.push(Printed::Line(Line {
            justify: s.justify,
            ..line
        }));
    }

    /// Text left in the buffer prints when the next command forces it out.
    fn flush_partial(&mut self, s: &mut State, profile: &PrinterProfile) {
        if !s.line.cells.is_empty() {
            self.end_line(s, profile);
        }
    }

    /// Text of every printed line.
    pub fn text_lines(&self) -> Vec<String> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Printed::Line(l) => Some(l.text()),
                _ => None,
            })
            .collect()
    }

    /// All printed text, one line per line.
    pub fn text(&self) -> String {
        self.text_lines().join("\n")
    }

    /// Payloads of the printed QR codes.
    pub fn qr_payloads(&self) -> Vec<String> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Printed::Qr { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
                _ => None,
            })
            .collect()
    }

    /// Printed images.
    pub fn images(&self) -> Vec<&Raster> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Printed::Image { raster, .. } => Some(raster),
                _ => None,
            })
            .collect()
    }

    /// Number of cuts.
    pub fn cuts(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i, Printed::Cut { .. }))
            .count()
    }

    /// Drawer kicks as (pin, on, off).
    pub fn drawer_kicks(&self) -> Vec<(u8, u8, u8)> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Printed::DrawerKick { pin, on, off } => Some((*pin, *on, *off)),
                _ => None,
            })
            .collect()
    }
}
