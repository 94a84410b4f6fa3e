//! Turning Unicode text into what a given printer can print.
//!
//! [`Charset::printable`] runs before layout, so widths are counted on the
//! characters that will actually be printed (one cell each): "…" becomes
//! "..." (three cells) before the line is measured, never after.

use crate::codepage::{CodePage, is_printable_ascii};
use crate::profile::PrinterProfile;
use crate::translit::transliterate;

/// The character repertoire of one printer.
#[derive(Debug, Clone, Copy)]
pub struct Charset<'a> {
    profile: &'a PrinterProfile,
}

impl<'a> Charset<'a> {
    /// The repertoire of `profile`'s code pages.
    pub fn new(profile: &'a PrinterProfile) -> Charset<'a> {
        Charset { profile }
    }

    /// True if some code page of the printer has `c`.
    pub fn has(&self, c: char) -> bool {
        is_printable_ascii(c)
            || self
                .profile
                .code_pages
                .iter()
                .any(|s| s.page.encode(c).is_some())
    }

    /// `text` with every character the printer lacks replaced by its ASCII
    /// spelling or `'?'`, and control characters (tabs, newlines) by spaces.
    /// Each character of the result occupies exactly one cell.
    pub fn printable(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if c.is_control() {
                out.push(' ');
            } else if self.has(c) {
                out.push(c);
            } else if let Some(spelled) = transliterate(c) {
                out.push_str(spelled);
            } else {
                out.push('?');
            }
        }
        out
    }
}

/// Encodes printable text into code page bytes, switching pages with
/// `ESC t n` only when the current page lacks a character.
#[derive(Debug)]
pub(crate) struct TextEncoder<'a> {
    profile: &'a PrinterProfile,
    current: Option<CodePage>,
}

impl<'a> TextEncoder<'a> {
    pub(crate) fn new(profile: &'a PrinterProfile) -> TextEncoder<'a> {
        TextEncoder {
            profile,
            current: None,
        }
    }

    /// Selects the profile's preferred page (after `ESC @` reset it).
    pub(crate) fn select_default(&mut self, out: &mut Vec<u8>) {
        self.current = None;
        if let Some(first) = self.profile.code_pages.first() {
            out.extend_from_slice(&crate::commands::select_code_page(first.esc_t));
            self.current = Some(first.page);
        }
    }

    /// Appends the bytes of `text`; characters no page has print as '?'.
    pub(crate) fn encode(&mut self, text: &str, out: &mut Vec<u8>) {
        for c in text.chars() {
            if is_printable_ascii(c) {
                out.push(c as u8);
                continue;
            }
            if let Some(byte) = self.current.and_then(|page| page.encode(c)) {
                out.push(byte);
                continue;
            }
            let other = self
                .profile
                .code_pages
                .iter()
                .find_map(|slot| slot.page.encode(c).map(|byte| (slot, byte)));
            match other {
                Some((slot, byte)) => {
                    out.extend_from_slice(&crate::commands::select_code_page(slot.esc_t));
                    self.current = Some(slot.page);
                    out.push(byte);
                }
                None => out.push(b'?'),
            }
        }
    }
}

/// Number of printed cells of printable text.
pub fn cell_count(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliterates_only_what_the_printer_lacks() {
        let generic = PrinterProfile::by_name("generic-80").expect("built in");
        let epson = PrinterProfile::by_name("epson-tm-t20").expect("built in");
        assert_eq!(
            Charset::new(&generic).printable("Café – “ok”…"),
            "Café - \"ok\"..."
        );
        assert_eq!(
            Charset::new(&epson).printable("Café – “ok”…"),
            "Café – “ok”…"
        );
        assert_eq!(Charset::new(&epson).printable("a\tb\nc 中"), "a b c ?");
    }

    #[test]
    fn switches_page_only_when_needed() {
        let epson = PrinterProfile::by_name("epson-tm-t20").expect("built in");
        let mut out = Vec::new();
        let mut enc = TextEncoder::new(&epson);
        enc.select_default(&mut out);
        enc.encode("é–é", &mut out);
        // PC437 first (ESC t 0), é = 0x82 in PC437; – needs WPC1252 (ESC t 16) = 0x96; é stays WPC1252.
        assert_eq!(out, [0x1B, 0x74, 0, 0x82, 0x1B, 0x74, 16, 0x96, 0xE9]);
    }
}
