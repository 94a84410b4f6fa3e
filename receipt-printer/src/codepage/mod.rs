//! Single-byte code pages that receipt printers select with `ESC t n`.
//!
//! Only the character tables live here; which pages a printer has, and under
//! which `ESC t` number, is part of its [`crate::PrinterProfile`].

mod tables;

use std::fmt;

/// A code page a printer may offer. The `ESC t` number is not fixed by the
/// code page: it comes from the printer's profile.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum CodePage {
    /// PC437, USA / standard Europe (the power-on default of most printers).
    Pc437,
    /// PC850, Multilingual Latin-1.
    Pc850,
    /// PC852, Latin-2 (Central European).
    Pc852,
    /// PC858, PC850 with the euro sign.
    Pc858,
    /// PC860, Portuguese.
    Pc860,
    /// PC863, Canadian French.
    Pc863,
    /// PC865, Nordic.
    Pc865,
    /// PC866, Cyrillic #2.
    Pc866,
    /// WPC1252, Windows Latin-1.
    Wpc1252,
}

impl CodePage {
    /// Every code page this crate can encode.
    pub const ALL: [CodePage; 9] = [
        CodePage::Pc437,
        CodePage::Pc850,
        CodePage::Pc852,
        CodePage::Pc858,
        CodePage::Pc860,
        CodePage::Pc863,
        CodePage::Pc865,
        CodePage::Pc866,
        CodePage::Wpc1252,
    ];

    /// The conventional name, as printed on a printer's self-test page.
    pub fn name(self) -> &'static str {
        match self {
            CodePage::Pc437 => "PC437",
            CodePage::Pc850 => "PC850",
            CodePage::Pc852 => "PC852",
            CodePage::Pc858 => "PC858",
            CodePage::Pc860 => "PC860",
            CodePage::Pc863 => "PC863",
            CodePage::Pc865 => "PC865",
            CodePage::Pc866 => "PC866",
            CodePage::Wpc1252 => "WPC1252",
        }
    }

    fn upper_half(self) -> &'static [char; 128] {
        match self {
            CodePage::Pc437 => &tables::PC437,
            CodePage::Pc850 => &tables::PC850,
            CodePage::Pc852 => &tables::PC852,
            CodePage::Pc858 => &tables::PC858,
            CodePage::Pc860 => &tables::PC860,
            CodePage::Pc863 => &tables::PC863,
            CodePage::Pc865 => &tables::PC865,
            CodePage::Pc866 => &tables::PC866,
            CodePage::Wpc1252 => &tables::WPC1252,
        }
    }

    /// The byte that prints `c` in this code page, if it has one.
    ///
    /// Printable ASCII (0x20..=0x7E) maps to itself in every page, so '-' is
    /// always 0x2D (never the soft hyphen some tables hold at 0xF0). Control
    /// characters and DEL have no byte: they are commands, not text.
    pub fn encode(self, c: char) -> Option<u8> {
        if is_printable_ascii(c) {
            return u8::try_from(c).ok();
        }
        if c == '\0' {
            return None;
        }
        let index = self.upper_half().iter().position(|&t| t == c)?;
        u8::try_from(0x80 + index).ok()
    }

    /// The character byte `b` prints in this code page, if any.
    pub fn decode(self, b: u8) -> Option<char> {
        match b {
            0x20..=0x7E => Some(char::from(b)),
            0x80..=0xFF => {
                let c = self.upper_half()[usize::from(b - 0x80)];
                (c != '\0').then_some(c)
            }
            _ => None,
        }
    }
}

impl fmt::Display for CodePage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// True for the characters every printer prints without a code page.
pub fn is_printable_ascii(c: char) -> bool {
    matches!(c, ' '..='~')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphen_is_plain_ascii_in_every_page() {
        for page in CodePage::ALL {
            assert_eq!(page.encode('-'), Some(0x2D), "{page}");
        }
    }

    #[test]
    fn known_positions_from_the_published_tables() {
        assert_eq!(CodePage::Pc437.encode('é'), Some(0x82));
        assert_eq!(CodePage::Pc850.encode('é'), Some(0x82));
        assert_eq!(CodePage::Wpc1252.encode('é'), Some(0xE9));
        assert_eq!(CodePage::Wpc1252.encode('€'), Some(0x80));
        assert_eq!(CodePage::Wpc1252.encode('–'), Some(0x96));
        assert_eq!(CodePage::Pc858.encode('€'), Some(0xD5));
        assert_eq!(CodePage::Pc850.encode('€'), None);
        assert_eq!(CodePage::Pc852.encode('č'), Some(0x9F));
        assert_eq!(CodePage::Pc866.encode('Ж'), Some(0x86));
        assert_eq!(CodePage::Pc437.encode('–'), None);
    }

    #[test]
    fn pages_written_as_changes_have_both_the_changes_and_the_rest() {
        assert_eq!(CodePage::Pc865.decode(0x9B), Some('ø'));
        assert_eq!(CodePage::Pc865.decode(0x9D), Some('Ø'));
        assert_eq!(CodePage::Pc865.decode(0x80), Some('Ç'));
        assert_eq!(CodePage::Pc860.decode(0x84), Some('ã'));
        assert_eq!(CodePage::Pc860.decode(0xB0), Some('░'));
        assert_eq!(CodePage::Pc863.decode(0x84), Some('Â'));
        assert_eq!(CodePage::Pc863.decode(0xE1), Some('ß'));
        assert_eq!(CodePage::Pc858.decode(0xD5), Some('€'));
        assert_eq!(CodePage::Pc858.decode(0xD4), Some('È'));
    }

    #[test]
    fn every_defined_byte_round_trips() {
        for page in CodePage::ALL {
            for b in 0x20..=0xFFu8 {
                if let Some(c) = page.decode(b) {
                    assert_eq!(page.encode(c), Some(b), "{page} byte {b:#04X}");
                }
            }
        }
    }

    #[test]
    fn control_bytes_are_never_text() {
        for page in CodePage::ALL {
            for b in (0x00..0x20u8).chain([0x7F]) {
                assert_eq!(page.decode(b), None);
                assert_eq!(page.encode(char::from(b)), None);
            }
        }
    }
}
