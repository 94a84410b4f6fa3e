//! Printer profiles: what a model of printer can do and how it is addressed.

use serde::{Deserialize, Serialize};

use crate::codepage::CodePage;
use crate::error::PrinterError;

/// How the printer cuts the paper, if it has a cutter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CutMode {
    /// No cutter: the receipt is fed past the tear bar instead.
    None,
    /// Full cut (`GS V 65 n`).
    Full,
    /// Partial cut, leaving one point uncut (`GS V 66 n`).
    Partial,
}

/// The drawer kick-out connector pin that opens the cash drawer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrawerPin {
    /// Connector pin 2 (`ESC p 0 …`), the usual wiring.
    Pin2,
    /// Connector pin 5 (`ESC p 1 …`).
    Pin5,
}

/// Which real-time status requests (`DLE EOT n`) the printer answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusSupport {
    /// `DLE EOT 1`: printer status (online/offline, drawer pin 3).
    pub printer: bool,
    /// `DLE EOT 2`: offline cause (cover open, paper end, error).
    pub offline_cause: bool,
    /// `DLE EOT 4`: roll paper sensor (near end, out).
    pub paper_sensor: bool,
}

impl StatusSupport {
    /// Answers all three requests.
    pub const FULL: StatusSupport = StatusSupport {
        printer: true,
        offline_cause: true,
        paper_sensor: true,
    };
    /// Answers none: every status is "unknown".
    pub const NONE: StatusSupport = StatusSupport {
        printer: false,
        offline_cause: false,
        paper_sensor: false,
    };

    /// True if at least one request is answered.
    pub fn any(self) -> bool {
        self.printer || self.offline_cause || self.paper_sensor
    }
}

/// A code page the printer has, with the number `ESC t n` selects it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodePageSlot {
    /// The table.
    pub page: CodePage,
    /// The `n` of `ESC t n` on this printer.
    pub esc_t: u8,
}

/// Everything the encoder and the drivers need to know about a printer model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterProfile {
    /// Short name used on the command line and in settings.
    pub name: String,
    /// Human description.
    pub description: String,
    /// Printable width in dots (raster images and QR codes fit in this).
    pub width_dots: u16,
    /// Characters per line in font A (12×24).
    pub columns_font_a: u16,
    /// Characters per line in font B (9×17).
    pub columns_font_b: u16,
    /// Code pages the printer has, in order of preference.
    pub code_pages: Vec<CodePageSlot>,
    /// Cutter.
    pub cut: CutMode,
    /// Drawer pin the shop wired the cash drawer to.
    pub drawer_pin: DrawerPin,
    /// Real-time status requests the printer answers.
    pub status: StatusSupport,
    /// Send `FS .` after `ESC @`: many Chinese-market firmwares start in
    /// double-byte (GB18030) mode, which would swallow code page bytes.
    pub cancel_kanji_mode: bool,
    /// Largest QR module size (dots) the layout will ask for.
    pub qr_module_size: u8,
    /// Lines fed at the end of a job on printers without a cutter, so the
    /// last line clears the tear bar.
    pub tear_off_feed: u8,
}

/// The `ESC t` number of a code page in the Epson ESC/POS reference (TM-T20/TM-T82 family).
/// Every built-in profile numbers its pages this way.
const fn epson_esc_t(page: CodePage) -> u8 {
    match page {
        CodePage::Pc437 => 0,
        CodePage::Pc850 => 2,
        CodePage::Pc860 => 3,
        CodePage::Pc863 => 4,
        CodePage::Pc865 => 5,
        CodePage::Wpc1252 => 16,
        CodePage::Pc866 => 17,
        CodePage::Pc852 => 18,
        CodePage::Pc858 => 19,
    }
}

/// The pages of the Epson TM-T20/TM-T82 family.
const EPSON_PAGES: [CodePage; 9] = [
    CodePage::Pc437,
    CodePage::Wpc1252,
    CodePage::Pc858,
    CodePage::Pc850,
    CodePage::Pc852,
    CodePage::Pc860,
    CodePage::Pc863,
    CodePage::Pc865,
    CodePage::Pc866,
];

/// Xprinter XP-58/XP-80 firmware: the same numbers as Epson for these pages
/// (its table adds Arabic, Hebrew and Asian pages this crate does not use).
const XPRINTER_PAGES: [CodePage; 6] = [
    CodePage::Pc437,
    CodePage::Wpc1252,
    CodePage::Pc858,
    CodePage::Pc850,
    CodePage::Pc852,
    CodePage::Pc866,
];

/// Unknown clones: only what nearly every ESC/POS printer has.
const GENERIC_PAGES: [CodePage; 2] = [CodePage::Pc437, CodePage::Pc850];

struct Spec {
    name: &'static str,
    description: &'static str,
    width_dots: u16,
    columns_font_a: u16,
    columns_font_b: u16,
    pages: &'static [CodePage],
    cut: CutMode,
    status: StatusSupport,
    cancel_kanji_mode: bool,
    qr_module_size: u8,
}

/// The Epson TM-T20; the TM-T82 differs from it in name only.
const EPSON_TM_T20: Spec = Spec {
    name: "epson-tm-t20",
    description: "Epson TM-T20 family, 80 mm: 48 columns, 576 dots, auto cutter",
    width_dots: 576,
    columns_font_a: 48,
    columns_font_b: 64,
    pages: &EPSON_PAGES,
    cut: CutMode::Partial,
    status: StatusSupport::FULL,
    cancel_kanji_mode: false,
    qr_module_size: 6,
};

const BUILT_IN: [Spec; 6] = [
    Spec {
        name: "generic-58",
        description: "Any 58 mm ESC/POS printer: 32 columns, 384 dots",
        width_dots: 384,
        columns_font_a: 32,
        columns_font_b: 42,
        pages: &GENERIC_PAGES,
        cut: CutMode::None,
        status: StatusSupport::NONE,
        cancel_kanji_mode: false,
        qr_module_size: 5,
    },
    Spec {
        name: "generic-80",
        description: "Any 80 mm ESC/POS printer: 48 columns, 576 dots",
        width_dots: 576,
        columns_font_a: 48,
        columns_font_b: 64,
        pages: &GENERIC_PAGES,
        cut: CutMode::Partial,
        status: StatusSupport::NONE,
        cancel_kanji_mode: false,
        qr_module_size: 6,
    },
    EPSON_TM_T20,
    Spec {
        name: "epson-tm-t82",
        description: "Epson TM-T82 family, 80 mm: 48 columns, 576 dots, auto cutter",
        ..EPSON_TM_T20
    },
    Spec {
        name: "xprinter-58",
        description: "Xprinter XP-58 class, 58 mm: 32 columns, 384 dots, no cutter",
        width_dots: 384,
        columns_font_a: 32,
        columns_font_b: 42,
        pages: &XPRINTER_PAGES,
        cut: CutMode::None,
        status: StatusSupport {
            printer: true,
            offline_cause: true,
            paper_sensor: true,
        },
        cancel_kanji_mode: true,
        qr_module_size: 5,
    },
    Spec {
        name: "xprinter-80",
        description: "Xprinter XP-80 class, 80 mm: 48 columns, 576 dots, auto cutter",
        width_dots: 576,
        columns_font_a: 48,
        columns_font_b: 64,
        pages: &XPRINTER_PAGES,
        cut: CutMode::Full,
        status: StatusSupport::FULL,
        cancel_kanji_mode: true,
        qr_module_size: 6,
    },
];

impl PrinterProfile {
    /// The built-in profiles, in the order `escpos-print profiles` lists them.
    pub fn built_in() -> Vec<PrinterProfile> {
        BUILT_IN.iter().map(PrinterProfile::from_spec).collect()
    }

    /// A built-in profile by name, or a custom width written as
    /// `custom:COLUMNS:DOTS` (e.g. `custom:42:512`).
    pub fn by_name(name: &str) -> Result<PrinterProfile, PrinterError> {
        if let Some(spec) = BUILT_IN.iter().find(|s| s.name == name) {
            return Ok(PrinterProfile::from_spec(spec));
        }
        if let Some(rest) = name.strip_prefix("custom:") {
            let mut parts = rest.split(':');
            let columns = parts.next().and_then(|c| c.parse::<u16>().ok());
            let dots = parts.next().and_then(|d| d.parse::<u16>().ok());
            if let (Some(columns), Some(dots), None) = (columns, dots, parts.next()) {
                return PrinterProfile::custom(columns, dots);
            }
        }
        Err(PrinterError::UnknownProfile(name.to_owned()))
    }

    /// A generic printer of another width: `columns` characters in font A
    /// over `width_dots` dots. Other settings are those of `generic-80`.
    pub fn custom(columns: u16, width_dots: u16) -> Result<PrinterProfile, PrinterError> {
        if !(16..=80).contains(&columns) || !(128..=832).contains(&width_dots) {
            return Err(PrinterError::InvalidProfile(format!(
                "custom width must be 16..=80 columns and 128..=832 dots, got {columns} columns \
                 and {width_dots} dots"
            )));
        }
        let mut profile = PrinterProfile::from_spec(&BUILT_IN[1]);
        profile.name = format!("custom:{columns}:{width_dots}");
        profile.description = format!("Custom width: {columns} columns, {width_dots} dots");
        profile.width_dots = width_dots;
        profile.columns_font_a = columns;
        profile.columns_font_b = columns.saturating_mul(4) / 3;
        profile.qr_module_size = if width_dots < 480 { 5 } else { 6 };
        Ok(profile)
    }

    fn from_spec(spec: &Spec) -> PrinterProfile {
        PrinterProfile {
            name: spec.name.to_owned(),
            description: spec.description.to_owned(),
            width_dots: spec.width_dots,
            columns_font_a: spec.columns_font_a,
            columns_font_b: spec.columns_font_b,
            code_pages: spec
                .pages
                .iter()
                .map(|&page| CodePageSlot {
                    page,
                    esc_t: epson_esc_t(page),
                })
                .collect(),
            cut: spec.cut,
            drawer_pin: DrawerPin::Pin2,
            status: spec.status,
            cancel_kanji_mode: spec.cancel_kanji_mode,
            qr_module_size: spec.qr_module_size,
            tear_off_feed: 4,
        }
    }

    /// Characters per line in font A, the font receipts are laid out in.
    pub fn columns(&self) -> usize {
        usize::from(self.columns_font_a)
    }

    /// Width of one font A character cell in dots.
    pub fn cell_width_dots(&self) -> u16 {
        (self.width_dots / self.columns_font_a.max(1)).max(1)
    }

    /// The `ESC t` number of `page` on this printer, if it has the page.
    pub fn esc_t(&self, page: CodePage) -> Option<u8> {
        self.code_pages
            .iter()
            .find(|s| s.page == page)
            .map(|s| s.esc_t)
    }

    /// The code page `ESC t n` selects on this printer.
    pub fn page_for_esc_t(&self, n: u8) -> Option<CodePage> {
        self.code_pages
            .iter()
            .find(|s| s.esc_t == n)
            .map(|s| s.page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_resolve() {
        let all = PrinterProfile::built_in();
        for p in &all {
            assert_eq!(PrinterProfile::by_name(&p.name).ok().as_ref(), Some(p));
            assert_eq!(all.iter().filter(|q| q.name == p.name).count(), 1);
        }
    }

    #[test]
    fn profiles_round_trip_through_json() {
        for p in PrinterProfile::built_in() {
            let json = serde_json::to_string(&p).expect("serializes");
            let back: PrinterProfile = serde_json::from_str(&json).expect("deserializes");
            assert_eq!(back, p);
        }
    }

    #[test]
    fn built_in_pages_keep_their_order_and_epson_numbers() {
        let slots = |name: &str| -> Vec<(CodePage, u8)> {
            PrinterProfile::by_name(name)
                .expect("built in")
                .code_pages
                .iter()
                .map(|s| (s.page, s.esc_t))
                .collect()
        };
        use CodePage::*;
        assert_eq!(
            slots("epson-tm-t20"),
            [
                (Pc437, 0),
                (Wpc1252, 16),
                (Pc858, 19),
                (Pc850, 2),
                (Pc852, 18),
                (Pc860, 3),
                (Pc863, 4),
                (Pc865, 5),
                (Pc866, 17)
            ]
        );
        assert_eq!(
            slots("xprinter-80"),
            [
                (Pc437, 0),
                (Wpc1252, 16),
                (Pc858, 19),
                (Pc850, 2),
                (Pc852, 18),
                (Pc866, 17)
            ]
        );
        assert_eq!(slots("generic-58"), [(Pc437, 0), (Pc850, 2)]);
    }

    #[test]
    fn custom_widths() {
        let p = PrinterProfile::by_name("custom:42:512").expect("valid custom profile");
        assert_eq!((p.columns(), p.width_dots), (42, 512));
        assert!(PrinterProfile::by_name("custom:2:512").is_err());
        assert!(PrinterProfile::by_name("custom:42").is_err());
        assert!(PrinterProfile::by_name("nope").is_err());
    }
}
