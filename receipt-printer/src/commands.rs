//! ESC/POS command bytes, as given in the Epson ESC/POS command reference.
//!
//! This crate writes its own command bytes instead of going through the
//! `escpos` crate (0.20.1): that crate couples its encoder to its drivers
//! (a `Printer` owns a `Driver` and writes as it goes, while we need bytes
//! with no IO for a durable queue), its `cash_drawer` sends 3 bytes instead of
//! `ESC p m t1 t2`, its PC850/PC858/WPC1252 tables send '-' as the soft
//! hyphen, and it lets characters missing from a table out as raw UTF-8.
//! The commands below are few and fixed, so owning them costs little.

/// `ESC @`: initialize the printer (styles, code page and alignment reset).
pub const INITIALIZE: [u8; 2] = [0x1B, 0x40];
/// `FS .`: cancel Kanji (double-byte) character mode.
pub const CANCEL_KANJI: [u8; 2] = [0x1C, 0x2E];
/// `LF`: print the line buffer and feed one line.
pub const LINE_FEED: u8 = 0x0A;

/// `ESC t n`: select character code table `n`.
pub fn select_code_page(n: u8) -> [u8; 3] {
    [0x1B, 0x74, n]
}

/// `ESC E n`: emphasized (bold) on or off.
pub fn bold(on: bool) -> [u8; 3] {
    [0x1B, 0x45, u8::from(on)]
}

/// `ESC - n`: underline off (0) or one dot thick (1).
pub fn underline(on: bool) -> [u8; 3] {
    [0x1B, 0x2D, u8::from(on)]
}

/// `GS ! n`: character size; width and height multipliers 1 or 2.
pub fn character_size(double_width: bool, double_height: bool) -> [u8; 3] {
    let n = (u8::from(double_width) << 4) | u8::from(double_height);
    [0x1D, 0x21, n]
}

/// Justification for `ESC a n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Justify {
    /// `n = 0`.
    Left = 0,
    /// `n = 1`.
    Center = 1,
    /// `n = 2`.
    Right = 2,
}

/// `ESC a n`: justification of the following lines, images and codes.
pub fn justify(j: Justify) -> [u8; 3] {
    [0x1B, 0x61, j as u8]
}

/// `ESC d n`: print and feed `n` lines.
pub fn feed_lines(n: u8) -> [u8; 3] {
    [0x1B, 0x64, n]
}

/// `GS V 65 n`: feed to the cutting position plus `n` motion units, full cut.
pub fn full_cut_after_feed(n: u8) -> [u8; 4] {
    [0x1D, 0x56, 65, n]
}

/// `GS V 66 n`: feed to the cutting position plus `n` motion units, partial cut.
pub fn partial_cut_after_feed(n: u8) -> [u8; 4] {
    [0x1D, 0x56, 66, n]
}

/// `ESC p m t1 t2`: pulse drawer pin 2 (`m = 0`) or 5 (`m = 1`) for
/// `t1 × 2 ms` on and `t2 × 2 ms` off.
pub fn drawer_kick(pin5: bool, on_units: u8, off_units: u8) -> [u8; 5] {
    [0x1B, 0x70, u8::from(pin5), on_units, off_units]
}

/// `DLE EOT n`: real-time status request (1 printer, 2 offline cause,
/// 3 error cause, 4 roll paper sensor).
pub fn status_request(n: u8) -> [u8; 3] {
    [0x10, 0x04, n]
}

/// QR error correction level for `GS ( k` function 169.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrErrorCorrection {
    /// About 7% recovery (`n = 48`).
    L = 48,
    /// About 15% recovery (`n = 49`).
    M = 49,
    /// About 25% recovery (`n = 50`).
    Q = 50,
    /// About 30% recovery (`n = 51`).
    H = 51,
}

/// `GS ( k` function 165: select QR model 2.
pub const QR_SELECT_MODEL_2: [u8; 9] = [0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00];
/// `GS ( k` function 181: print the QR symbol in the storage area.
pub const QR_PRINT: [u8; 8] = [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30];

/// `GS ( k` function 167: module size in dots (1..=16).
pub fn qr_module_size(dots: u8) -> [u8; 8] {
    [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, dots]
}

/// `GS ( k` function 169: error correction level.
pub fn qr_error_correction(level: QrErrorCorrection) -> [u8; 8] {
    [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, level as u8]
}

/// Most data bytes `GS ( k` function 180 can store.
pub const QR_MAX_DATA: usize = 7089;

/// `GS ( k` function 180: store `data` (at most [`QR_MAX_DATA`] bytes) in
/// the symbol storage area. `None` if it is longer.
pub fn qr_store(data: &[u8]) -> Option<Vec<u8>> {
    if data.len() > QR_MAX_DATA {
        return None;
    }
    let len = u16::try_from(data.len() + 3).ok()?;
    let [p_l, p_h] = len.to_le_bytes();
    let mut out = vec![0x1D, 0x28, 0x6B, p_l, p_h, 0x31, 0x50, 0x30];
    out.extend_from_slice(data);
    Some(out)
}

/// `GS v 0 m xL xH yL yH d…`: print a raster bit image, normal density.
/// `width_bytes` bytes per row, `rows` rows, one bit per dot, MSB left,
/// 1 = black. `None` if the sizes do not fit the command.
pub fn raster_image(width_bytes: u16, rows: u16, data: &[u8]) -> Option<Vec<u8>> {
    if data.len() != usize::from(width_bytes) * usize::from(rows) {
        return None;
    }
    let [x_l, x_h] = width_bytes.to_le_bytes();
    let [y_l, y_h] = rows.to_le_bytes();
    let mut out = vec![0x1D, 0x76, 0x30, 0x00, x_l, x_h, y_l, y_h];
    out.extend_from_slice(data);
    Some(out)
}
