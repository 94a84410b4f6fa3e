//! QR codes: sizing for the paper, and the symbol for previews.

use qrcode::{EcLevel, QrCode};

use crate::commands::QR_MAX_DATA;
use crate::error::PrinterError;

/// The symbol for `payload` at error correction level M, the level the
/// encoder asks the printer for.
pub fn symbol(payload: &str) -> Result<QrCode, PrinterError> {
    if payload.is_empty() {
        return Err(PrinterError::QrPayload("empty payload".into()));
    }
    if payload.len() > QR_MAX_DATA {
        return Err(PrinterError::QrPayload(format!(
            "{} bytes, the printer stores at most {QR_MAX_DATA}",
            payload.len()
        )));
    }
    QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| PrinterError::QrPayload(e.to_string()))
}

/// Modules smaller than this do not scan reliably on thermal paper.
const MIN_MODULE_DOTS: u8 = 2;

/// The largest module size up to `preferred` at which `payload`'s symbol,
/// with its 4-module quiet zone, fits in `width_dots`.
pub fn module_size_for(payload: &str, preferred: u8, width_dots: u16) -> Result<u8, PrinterError> {
    let modules = symbol(payload)?.width() + 8;
    let fit = usize::from(width_dots) / modules;
    let size = fit.min(usize::from(preferred.clamp(1, 16)));
    u8::try_from(size).ok().filter(|&s| s >= MIN_MODULE_DOTS).ok_or_else(|| {
        PrinterError::QrPayload(format!(
            "a symbol of {modules} modules does not fit {width_dots} dots at {MIN_MODULE_DOTS} dots per module"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_payloads_shrink_then_fail() {
        assert_eq!(
            module_size_for("https://snapkasir.id/r/1", 6, 576).ok(),
            Some(6)
        );
        let long = "x".repeat(600);
        let size = module_size_for(&long, 6, 384).expect("fits at a small module size");
        assert!(size < 6);
        assert!(module_size_for(&"x".repeat(2000), 6, 300).is_err());
        assert!(module_size_for(&"x".repeat(3000), 6, 576).is_err());
        assert!(module_size_for("", 6, 384).is_err());
    }
}
