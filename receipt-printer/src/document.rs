//! The laid-out receipt: a list of blocks that already fit the printer.

use crate::raster::Raster;

/// Character styles of a text line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextStyle {
    /// Emphasized (`ESC E 1`).
    pub bold: bool,
    /// Underlined (`ESC - 1`).
    pub underline: bool,
    /// Double width (`GS !`): each character takes two cells.
    pub double_width: bool,
    /// Double height (`GS !`).
    pub double_height: bool,
}

impl TextStyle {
    /// Bold.
    pub const BOLD: TextStyle = TextStyle {
        bold: true,
        underline: false,
        double_width: false,
        double_height: false,
    };
    /// Bold, double width and height.
    pub const BIG: TextStyle = TextStyle {
        bold: true,
        underline: false,
        double_width: true,
        double_height: true,
    };
    /// Bold, double height only (keeps the full column count).
    pub const TALL: TextStyle = TextStyle {
        bold: true,
        underline: false,
        double_width: false,
        double_height: true,
    };

    /// Cells one character takes.
    pub fn cells_per_char(self) -> usize {
        if self.double_width { 2 } else { 1 }
    }
}

/// One block of the document, printed top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A line of printable text, already padded or aligned with spaces;
    /// `chars × cells_per_char` never exceeds the printer's columns.
    Line {
        /// The text (see [`crate::Charset::printable`]).
        text: String,
        /// Its style.
        style: TextStyle,
    },
    /// A QR code, centred.
    Qr {
        /// The encoded data.
        payload: String,
        /// Module size in dots.
        module_size: u8,
    },
    /// A raster image, centred.
    Image(Raster),
    /// Open the cash drawer.
    DrawerKick,
    /// Cut the paper (or feed to the tear bar on printers without cutter).
    Cut,
}

/// A receipt or report laid out for one printer width.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    /// Blocks in print order.
    pub blocks: Vec<Block>,
}

impl Document {
    /// The text lines, for tests and plain-text previews.
    pub fn text_lines(&self) -> Vec<&str> {
        self.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Line { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}
