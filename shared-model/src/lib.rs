//! SnapKasir's pure domain model. No IO, no async.
//!
//! Money is `rust_decimal` (never floats) and overflow is an error. Every total is
//! reproducible from the lines: see [`tax`] for the rounding rule and [`pricing`] for the order
//! in which discounts apply.
#![deny(clippy::float_arithmetic)]

pub mod barcode;
pub mod business_day;
pub mod cart;
pub mod catalog;
pub mod catalog_csv;
pub mod codec;
pub mod compat;
pub mod conflicts;
pub mod csv_cell;
pub mod documents;
pub mod enrol_link;
pub mod error;
pub mod heartbeat;
pub mod ids;
pub mod lan_roster;
pub mod money;
pub mod payment;
pub mod pricing;
pub mod promotion;
pub mod qris;
pub mod receipt_number;
pub mod refund;
pub mod sale;
pub mod settings;
pub mod shift;
pub mod stock;
pub mod sync_session;
pub mod tax;
pub mod users;
pub mod wire;
pub mod zreport;

pub use error::{ModelError, ModelResult};
pub use money::{Currency, Money, Percent, Quantity};
