//! Collects blocks for one printer, making every text printable first.

use crate::document::{Block, Document, TextStyle};
use crate::layout::lines;
use crate::profile::PrinterProfile;
use crate::text::Charset;

/// Builds a [`Document`] for one profile. Text passed in may be any Unicode;
/// it is made printable before it is measured.
#[derive(Debug)]
pub(crate) struct Builder<'a> {
    profile: &'a PrinterProfile,
    charset: Charset<'a>,
    blocks: Vec<Block>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(profile: &'a PrinterProfile) -> Builder<'a> {
        Builder {
            profile,
            charset: Charset::new(profile),
            blocks: Vec::new(),
        }
    }

    pub(crate) fn profile(&self) -> &'a PrinterProfile {
        self.profile
    }

    /// Columns available to text of `style`.
    pub(crate) fn width_for(&self, style: TextStyle) -> usize {
        (self.profile.columns() / style.cells_per_char()).max(1)
    }

    pub(crate) fn printable(&self, text: &str) -> String {
        self.charset.printable(text)
    }

    fn push_lines(&mut self, lines: Vec<String>, style: TextStyle) {
        for text in lines {
            self.blocks.push(Block::Line {
                text: text.trim_end().to_owned(),
                style,
            });
        }
    }

    /// Left-aligned, wrapped text.
    pub(crate) fn text(&mut self, text: &str, style: TextStyle) {
        let lines = lines::wrap(&self.printable(text), self.width_for(style));
        self.push_lines(lines, style);
    }

    /// Centred, wrapped text.
    pub(crate) fn centered(&mut self, text: &str, style: TextStyle) {
        let lines = lines::centered(&self.printable(text), self.width_for(style));
        self.push_lines(lines, style);
    }

    /// `left` and `right` on a line, `right` flush right.
    pub(crate) fn left_right(&mut self, left: &str, right: &str, style: TextStyle) {
        self.left_right_indented(0, left, right, style);
    }

    /// Like [`Builder::left_right`] with `indent` cells before the left text.
    pub(crate) fn left_right_indented(
        &mut self,
        indent: usize,
        left: &str,
        right: &str,
        style: TextStyle,
    ) {
        let width = self.width_for(style);
        let indent = indent.min(width / 2);
        let pad = " ".repeat(indent);
        let lines = lines::left_right(
            &self.printable(left),
            &self.printable(right),
            width - indent,
        )
        .into_iter()
        .map(|l| format!("{pad}{l}"))
        .collect();
        self.push_lines(lines, style);
    }

    /// A dashed rule.
    pub(crate) fn rule(&mut self) {
        let width = self.width_for(TextStyle::default());
        self.blocks.push(Block::Line {
            text: lines::rule('-', width),
            style: TextStyle::default(),
        });
    }

    /// An empty line.
    pub(crate) fn blank(&mut self) {
        self.blocks.push(Block::Line {
            text: String::new(),
            style: TextStyle::default(),
        });
    }

    pub(crate) fn block(&mut self, block: Block) {
        self.blocks.push(block);
    }

    pub(crate) fn finish(self) -> Document {
        Document {
            blocks: self.blocks,
        }
    }
}
