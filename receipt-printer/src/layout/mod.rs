//! From models to [`crate::Document`]s that fit a printer.

mod builder;
mod header;
mod labels;
pub mod lines;
mod receipt;
mod zreport;

pub use labels::Labels;
pub use receipt::receipt_document;
pub use zreport::z_report_document;

/// Choices made per print job rather than per receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutOptions {
    /// Words printed on the receipt.
    pub labels: Labels,
    /// Kick the cash drawer at the start of the job (cash sales).
    pub open_drawer: bool,
    /// Cut (or feed to the tear bar) at the end.
    pub cut: bool,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions {
            labels: Labels::default(),
            open_drawer: false,
            cut: true,
        }
    }
}
