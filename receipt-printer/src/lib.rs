//! ESC/POS receipt printing for SnapKasir.
//!
//! The crate is split the way a print queue uses it:
//!
//! * **model** ([`Receipt`], [`ZReport`], [`Currency`]): what to print, with
//!   `rust_decimal` amounts; serializable so a queue can store it.
//! * **layout and encoding**, no IO: [`encode_receipt`] /
//!   [`encode_z_report`] turn a model into ESC/POS bytes for a
//!   [`PrinterProfile`] (widths, code pages, cutter, drawer pin, status).
//!   Text is never sent as raw UTF-8: each character goes out in a code page
//!   the printer has, else as an ASCII spelling, else as `'?'`.
//! * **preview**: [`preview::render_png`] draws the same bytes as a PNG.
//! * **drivers**: [`driver::connect`] opens a [`driver::Connection`] to a
//!   [`driver::Target`] (`tcp://`, `usb:`, `serial:`, `file:`) with
//!   [`driver::Timeouts`].
//! * **status**: [`query_status`] asks `DLE EOT 1/2/4` and returns a
//!   [`PrinterStatus`]; [`send_job`] checks it before and after a job.
//!
//! ```
//! use receipt_printer::{LayoutOptions, PrinterProfile, encode_receipt, sample};
//!
//! let profile = PrinterProfile::by_name("generic-58")?;
//! let bytes = encode_receipt(&sample::sample_receipt(), &profile, &LayoutOptions::default())?;
//! assert_eq!(&bytes[..2], &[0x1B, 0x40]); // ESC @
//! # Ok::<(), receipt_printer::PrinterError>(())
//! ```

pub mod codepage;
pub mod commands;
pub mod decode;
mod document;
pub mod driver;
mod encoder;
mod error;
mod job;
pub mod layout;
mod model;
mod money;
pub mod preview;
pub mod printout;
mod profile;
pub mod qr;
mod raster;
pub mod sample;
pub mod status;
pub mod test_printer;
mod text;
mod translit;

pub use codepage::CodePage;
pub use document::{Block, Document, TextStyle};
pub use encoder::{encode_document, encode_drawer_kick, encode_receipt, encode_z_report};
pub use error::PrinterError;
pub use job::{JobReport, send_job};
pub use layout::{Labels, LayoutOptions, receipt_document, z_report_document};
pub use model::{
    Adjustment, CashCount, Logo, Payment, PaymentTotal, Quantity, Receipt, ReceiptLine,
    StoreHeader, TaxSummary, ZReport,
};
pub use money::Currency;
pub use profile::{CodePageSlot, CutMode, DrawerPin, PrinterProfile, StatusSupport};
pub use raster::Raster;
pub use status::{PaperState, PrinterStatus, Readiness, query_status};
pub use text::{Charset, cell_count};
pub use translit::transliterate;
