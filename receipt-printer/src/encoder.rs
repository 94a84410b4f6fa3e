//! [`Document`] → ESC/POS bytes. No IO: the bytes go to a driver or a queue.

use crate::commands::{self, Justify, QrErrorCorrection};
use crate::document::{Block, Document, TextStyle};
use crate::error::PrinterError;
use crate::layout::{self, LayoutOptions};
use crate::model::{Receipt, ZReport};
use crate::profile::{CutMode, DrawerPin, PrinterProfile};
use crate::raster::Raster;
use crate::text::{TextEncoder, cell_count};

/// Rows per `GS v 0` command; small bands suit printers with small buffers.
const RASTER_BAND_ROWS: u16 = 64;
/// Drawer pulse: 25 × 2 ms on, 250 × 2 ms off (Epson's recommended 50/500 ms).
const DRAWER_ON_UNITS: u8 = 25;
const DRAWER_OFF_UNITS: u8 = 250;

/// Lays out and encodes a receipt for `profile`.
pub fn encode_receipt(
    receipt: &Receipt,
    profile: &PrinterProfile,
    options: &LayoutOptions,
) -> Result<Vec<u8>, PrinterError> {
    let document = layout::receipt_document(receipt, profile, options)?;
    encode_document(&document, profile)
}

/// Lays out and encodes a Z report for `profile`.
pub fn encode_z_report(
    report: &ZReport,
    profile: &PrinterProfile,
    options: &LayoutOptions,
) -> Result<Vec<u8>, PrinterError> {
    let document = layout::z_report_document(report, profile, options)?;
    encode_document(&document, profile)
}

/// Just the drawer kick (for a "no sale" drawer open).
pub fn encode_drawer_kick(profile: &PrinterProfile) -> Vec<u8> {
    drawer_kick(profile).to_vec()
}

fn drawer_kick(profile: &PrinterProfile) -> [u8; 5] {
    commands::drawer_kick(
        profile.drawer_pin == DrawerPin::Pin5,
        DRAWER_ON_UNITS,
        DRAWER_OFF_UNITS,
    )
}

/// Encodes a laid-out document. Starts with `ESC @` so nothing left over from
/// an earlier job (styles, code page, a half-sent command) carries over.
/// A hand-built line wider than the paper is refused
/// ([`PrinterError::LineTooWide`]); characters no code page has print as '?'.
pub fn encode_document(
    document: &Document,
    profile: &PrinterProfile,
) -> Result<Vec<u8>, PrinterError> {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(&commands::INITIALIZE);
    if profile.cancel_kanji_mode {
        out.extend_from_slice(&commands::CANCEL_KANJI);
    }
    let mut text = TextEncoder::new(profile);
    text.select_default(&mut out);
    let mut style = TextStyle::default();
    for block in &document.blocks {
        match block {
            Block::Line {
                text: line,
                style: wanted,
            } => {
                let columns = cell_count(line) * wanted.cells_per_char();
                if columns > profile.columns() {
                    return Err(PrinterError::LineTooWide {
                        line: line.clone(),
                        columns,
                        width: profile.columns(),
                    });
                }
                set_style(&mut out, &mut style, *wanted);
                text.encode(line, &mut out);
                out.push(commands::LINE_FEED);
            }
            Block::Qr {
                payload,
                module_size,
            } => {
                set_style(&mut out, &mut style, TextStyle::default());
                // never wider than the paper, even in a hand-built document
                let fitting =
                    crate::qr::module_size_for(payload, *module_size, profile.width_dots)?;
                qr(&mut out, payload, fitting)?;
            }
            Block::Image(raster) => {
                if raster.width() > profile.width_dots {
                    return Err(PrinterError::Logo(format!(
                        "image {} dots wide, the paper has {}",
                        raster.width(),
                        profile.width_dots
                    )));
                }
                set_style(&mut out, &mut style, TextStyle::default());
                image(&mut out, raster)?;
            }
            Block::DrawerKick => out.extend_from_slice(&drawer_kick(profile)),
            Block::Cut => {
                set_style(&mut out, &mut style, TextStyle::default());
                match profile.cut {
                    CutMode::None => {
                        out.extend_from_slice(&commands::feed_lines(profile.tear_off_feed))
                    }
                    CutMode::Full => out.extend_from_slice(&commands::full_cut_after_feed(0)),
                    CutMode::Partial => out.extend_from_slice(&commands::partial_cut_after_feed(0)),
                }
            }
        }
    }
    set_style(&mut out, &mut style, TextStyle::default());
    Ok(out)
}

fn set_style(out: &mut Vec<u8>, current: &mut TextStyle, wanted: TextStyle) {
    if current.bold != wanted.bold {
        out.extend_from_slice(&commands::bold(wanted.bold));
    }
    if current.underline != wanted.underline {
        out.extend_from_slice(&commands::underline(wanted.underline));
    }
    if (current.double_width, current.double_height) != (wanted.double_width, wanted.double_height)
    {
        out.extend_from_slice(&commands::character_size(
            wanted.double_width,
            wanted.double_height,
        ));
    }
    *current = wanted;
}

fn qr(out: &mut Vec<u8>, payload: &str, module_size: u8) -> Result<(), PrinterError> {
    let store = commands::qr_store(payload.as_bytes()).ok_or_else(|| {
        PrinterError::QrPayload(format!(
            "{} bytes is more than the printer stores",
            payload.len()
        ))
    })?;
    out.extend_from_slice(&commands::justify(Justify::Center));
    out.extend_from_slice(&commands::QR_SELECT_MODEL_2);
    out.extend_from_slice(&commands::qr_module_size(module_size.clamp(1, 16)));
    out.extend_from_slice(&commands::qr_error_correction(QrErrorCorrection::M));
    out.extend_from_slice(&store);
    out.extend_from_slice(&commands::QR_PRINT);
    out.push(commands::LINE_FEED);
    out.extend_from_slice(&commands::justify(Justify::Left));
    Ok(())
}

fn image(out: &mut Vec<u8>, raster: &Raster) -> Result<(), PrinterError> {
    let row_bytes = usize::from(raster.width_bytes());
    out.extend_from_slice(&commands::justify(Justify::Center));
    let mut top = 0u16;
    while top < raster.height() {
        let rows = RASTER_BAND_ROWS.min(raster.height() - top);
        let start = usize::from(top) * row_bytes;
        let end = start + usize::from(rows) * row_bytes;
        let band = raster
            .bits()
            .get(start..end)
            .and_then(|bits| commands::raster_image(raster.width_bytes(), rows, bits))
            .ok_or_else(|| PrinterError::Logo("raster rows out of range".into()))?;
        out.extend_from_slice(&band);
        top += rows;
    }
    out.extend_from_slice(&commands::justify(Justify::Left));
    Ok(())
}
