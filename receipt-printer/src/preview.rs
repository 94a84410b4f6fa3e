//! PNG preview of a job, drawn from the very bytes sent to the printer.
//!
//! The bytes are decoded into a [`Printout`] and drawn on a canvas as wide as
//! the printer's paper: one font A cell per character (12 × 24 dots), the
//! same lines, columns, styles, QR codes and images the printer prints.
//! Glyphs come from the public-domain 8×8 font of the `font8x8` crate,
//! stretched to the cell.

use font8x8::legacy::{BASIC_LEGACY, BLOCK_LEGACY, BOX_LEGACY, GREEK_LEGACY, LATIN_LEGACY};
use image::{GrayImage, Luma};

use crate::error::PrinterError;
use crate::printout::{Line, Printed, Printout};
use crate::profile::PrinterProfile;
use crate::translit::transliterate;

/// Height of a font A cell in dots.
pub const CELL_HEIGHT: u32 = 24;
/// Dots between text lines (the printer's default line spacing is about 30 dots).
const LINE_GAP: u32 = 6;
const MARGIN: u32 = 16;
const BLACK: Luma<u8> = Luma([0]);
const GREY: Luma<u8> = Luma([160]);

/// Renders `bytes` as printed by `profile`'s printer.
pub fn render(bytes: &[u8], profile: &PrinterProfile) -> Result<GrayImage, PrinterError> {
    let printout = Printout::from_bytes(bytes, profile)?;
    Ok(render_printout(&printout, profile))
}

/// Renders `bytes` to PNG file bytes.
pub fn render_png(bytes: &[u8], profile: &PrinterProfile) -> Result<Vec<u8>, PrinterError> {
    let image = render(bytes, profile)?;
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| PrinterError::Preview(e.to_string()))?;
    Ok(png)
}

/// Renders an already decoded printout.
pub fn render_printout(printout: &Printout, profile: &PrinterProfile) -> GrayImage {
    let width = u32::from(profile.width_dots);
    let cell_w = u32::from(profile.cell_width_dots());
    let tops = item_tops(printout);
    let height = tops.last().copied().unwrap_or(MARGIN) + MARGIN;
    let mut canvas = GrayImage::from_pixel(width, height, Luma([255]));
    for (item, &y) in printout.items.iter().zip(&tops) {
        match item {
            Printed::Line(line) => draw_line(&mut canvas, line, y, cell_w),
            Printed::Qr {
                data,
                module_size,
                error_correction,
                justify,
            } => {
                if let Some(modules) = qr_modules(data, *error_correction) {
                    let side = modules.len() as u32 * u32::from(*module_size);
                    let x0 = justified_x(width, side, *justify);
                    for (my, row) in modules.iter().enumerate() {
                        for (mx, &dark) in row.iter().enumerate() {
                            if dark {
                                let s = u32::from(*module_size);
                                fill(
                                    &mut canvas,
                                    x0 + mx as u32 * s,
                                    y + my as u32 * s,
                                    s,
                                    s,
                                    BLACK,
                                );
                            }
                        }
                    }
                }
            }
            Printed::Image { raster, justify } => {
                let x0 = justified_x(width, u32::from(raster.width()), *justify);
                for ry in 0..usize::from(raster.height()) {
                    for rx in 0..usize::from(raster.width()) {
                        if raster.is_black(rx, ry) {
                            put(&mut canvas, x0 + rx as u32, y + ry as u32, BLACK);
                        }
                    }
                }
            }
            Printed::Cut { .. } => {
                let mid = y + 8;
                for x in (0..width).step_by(8) {
                    fill(&mut canvas, x, mid, 4, 1, GREY);
                }
            }
            Printed::Feed(_) | Printed::DrawerKick { .. } => {}
        }
    }
    canvas
}

/// The y (in dots) at which each item of `printout` starts in the preview,
/// followed by the y just below the last item.
pub fn item_tops(printout: &Printout) -> Vec<u32> {
    let mut tops = Vec::with_capacity(printout.items.len() + 1);
    let mut y = MARGIN;
    for item in &printout.items {
        tops.push(y);
        y += item_height(item);
    }
    tops.push(y);
    tops
}

fn item_height(item: &Printed) -> u32 {
    match item {
        Printed::Line(line) => CELL_HEIGHT * u32::from(line.height()) + LINE_GAP,
        Printed::Qr {
            data,
            module_size,
            error_correction,
            ..
        } => qr_modules(data, *error_correction)
            .map_or(0, |m| m.len() as u32 * u32::from(*module_size)),
        Printed::Image { raster, .. } => u32::from(raster.height()),
        Printed::Feed(n) => u32::from(*n) * (CELL_HEIGHT + LINE_GAP),
        Printed::Cut { .. } => 16,
        Printed::DrawerKick { .. } => 0,
    }
}

fn qr_modules(data: &[u8], error_correction: u8) -> Option<Vec<Vec<bool>>> {
    let level = match error_correction {
        48 => qrcode::EcLevel::L,
        50 => qrcode::EcLevel::Q,
        51 => qrcode::EcLevel::H,
        _ => qrcode::EcLevel::M,
    };
    let code = qrcode::QrCode::with_error_correction_level(data, level).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    Some(
        colors
            .chunks(width)
            .map(|row| row.iter().map(|c| *c == qrcode::Color::Dark).collect())
            .collect(),
    )
}

fn justified_x(width: u32, object: u32, justify: u8) -> u32 {
    match justify {
        1 => width.saturating_sub(object) / 2,
        2 => width.saturating_sub(object),
        _ => 0,
    }
}

fn draw_line(canvas: &mut GrayImage, line: &Line, y: u32, cell_w: u32) {
    let line_px = line.columns() as u32 * cell_w;
    let line_height = u32::from(line.height());
    let mut x = justified_x(canvas.width(), line_px, line.justify);
    for cell in &line.cells {
        let w = cell_w * u32::from(cell.width);
        let h = CELL_HEIGHT * u32::from(cell.height);
        // characters sit on the baseline of the tallest one
        let top = y + CELL_HEIGHT * (line_height - u32::from(cell.height));
        let glyph = glyph(cell.ch);
        // the glyph fills the cell less a one-twelfth margin on each side
        let (gx0, gy0) = (w / 12, h / 12);
        let (gw, gh) = (w - 2 * gx0, h - 2 * gy0);
        for py in 0..gh {
            let row = glyph[(py * 8 / gh) as usize];
            for px in 0..gw {
                if row & (1 << (px * 8 / gw)) != 0 {
                    put(canvas, x + gx0 + px, top + gy0 + py, BLACK);
                    if cell.bold {
                        put(canvas, x + gx0 + px + 1, top + gy0 + py, BLACK);
                    }
                }
            }
        }
        if cell.underline {
            fill(canvas, x, top + h - 1, w, 1, BLACK);
        }
        x += w;
    }
}

/// The 8×8 glyph of `c`, one byte per row, bit 0 the leftmost dot.
fn glyph(c: char) -> [u8; 8] {
    let code = c as usize;
    match c {
        ' '..='~' => BASIC_LEGACY[code],
        '\u{00A0}'..='\u{00FF}' => LATIN_LEGACY[code - 0xA0],
        '\u{0390}'..='\u{03C9}' => GREEK_LEGACY[code - 0x390],
        '\u{2500}'..='\u{257F}' => BOX_LEGACY[code - 0x2500],
        '\u{2580}'..='\u{259F}' => BLOCK_LEGACY[code - 0x2580],
        '€' => [0x3C, 0x66, 0x0F, 0x06, 0x0F, 0x66, 0x3C, 0x00],
        '–' => [0x00, 0x00, 0x00, 0x7F, 0x00, 0x00, 0x00, 0x00],
        '—' => [0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, 0x00],
        '…' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x49, 0x00],
        '“' | '”' => [0x36, 0x36, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00],
        '‘' | '’' => [0x0C, 0x0C, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00],
        _ => match transliterate(c).and_then(|s| s.chars().next()) {
            Some(base) if base.is_ascii_graphic() => BASIC_LEGACY[base as usize],
            _ => [0x7E, 0x42, 0x42, 0x42, 0x42, 0x42, 0x7E, 0x00],
        },
    }
}

fn put(canvas: &mut GrayImage, x: u32, y: u32, color: Luma<u8>) {
    if x < canvas.width() && y < canvas.height() {
        canvas.put_pixel(x, y, color);
    }
}

fn fill(canvas: &mut GrayImage, x: u32, y: u32, w: u32, h: u32, color: Luma<u8>) {
    for yy in y..y + h {
        for xx in x..x + w {
            put(canvas, xx, yy, color);
        }
    }
}
