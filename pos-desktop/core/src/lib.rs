//! SnapKasir's terminal core: everything a cashier does, as a library with no Tauri
//! dependency.
//!
//! One SQLite file per terminal ([`Terminal::open`]) holds the store's automerge documents as
//! chunks ([`chunks`], keyed like samod's storage keys) next to local query tables (products
//! with FTS5 search and a barcode index, sales, payments, refunds, shifts, cash and stock
//! movements, print jobs). The tables are projections of the documents, updated in the same
//! transaction as each document change and rebuildable from the documents
//! ([`Terminal::rebuild_query_tables`]). Sales and other journal entries commit to SQLite
//! first (`synchronous=FULL`) and reach this terminal's journal document through an outbox
//! ([`Terminal::drain_outbox`]). See `docs/terminal-core.md`.

pub mod app_settings;
pub mod catalog;
pub mod chunks;
pub mod csv_io;
pub mod day_sales;
pub mod db;
pub mod demo;
pub mod docs;
pub mod enrolment;
pub mod error;
pub mod gateway_payments;
mod outbox;
pub mod parked;
pub mod print_queue;
pub mod private_files;
mod projection;
pub mod receipt;
pub mod receipt_mail;
pub mod sales;
pub mod shifts;
pub mod stock;
pub mod store_export;
pub mod sync;
pub mod terminal;
pub mod users;

pub use catalog::{DuplicateCode, ProductHit, ScanMatch};
pub use chunks::{ChunkKey, ChunkStore};
pub use csv_io::{ImportProgress, ImportReport, RowError};
pub use day_sales::SaleSummary;
pub use demo::DemoStore;
pub use enrolment::Enrolment;
pub use error::{CoreError, CoreResult};
pub use parked::{DoubleClaim, ParkedSummary};
pub use projection::PROJECTED_TABLES;
pub use sales::{RefundRequest, SupervisorReason};
pub use stock::LowStock;
pub use terminal::{CRASH_AFTER_COMMIT_ENV, Identity, JoinStore, NewStore, Terminal};
pub use users::{Approval, MAX_PIN_FAILURES};

/// The domain model, re-exported for callers of the core.
pub use shared_model;
