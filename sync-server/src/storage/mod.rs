//! Server storage: one async, fallible [`Storage`] trait with a PostgreSQL and an embedded
//! SQLite implementation, both run through the shared conformance suite in
//! `tests/storage_conformance.rs`.
//!
//! The interface is split by area, one trait per file: [`ChunkStorage`] (automerge chunks),
//! [`AccountStorage`] (settings, tenants, stores, users, terminals, enrollment, refresh tokens),
//! [`AppStorage`] (credentials of the tenant's other web products), [`ClaimStorage`] (document
//! claims and live instances), [`DetailReportStorage`] (row-level report reads: voids, stock
//! movements, product names), [`LanStorage`] (the stores' LAN
//! roster secrets and the tills' LAN keys), [`PaymentStorage`] (gateway accounts, QRIS charges
//! and their refunds), [`ProjectionStorage`] (the rows
//! documents project to), [`ReportStorage`] (reads over those rows), [`SessionStorage`]
//! (sign-in sessions, disabled users, login attempt counters) and [`StoreDocsStorage`]
//! (store roots, journals, baselines), [`CatalogStorage`] (the projected catalog's pages),
//! [`BackupStorage`] (whole tables, for backups), [`ReceiptEmailStorage`] (the log of email
//! receipts).
//! [`Storage`] is all of them plus `ping` and `migrate`;
//! methods of every area can be called on a [`DynStorage`] without importing the area traits
//! (a trait object's supertrait methods are in scope with it), and [`prelude`] brings them
//! into scope for code that holds a concrete [`PgStorage`] or [`SqliteStorage`].
//!
//! The rows live in [`models`] (re-exported here).
//!
//! # One implementation, compiled once per backend
//!
//! Both backends run the same SQL (numbered `$n` parameters work on both drivers). Each area's
//! implementation is written once, as plain Rust, in `sql/<area>.rs` against the name
//! `Backend`; `postgres.rs` and `sqlite.rs` each include the `sql/` directory as their own
//! submodule (`#[path = "sql/mod.rs"] mod sql;`) with `Backend` naming their storage type, so
//! the compiler checks every query's types against both drivers and errors point at the real
//! line. Where the SQL must differ (JSON arrays), the backend module provides a constant.
//!
//! We chose this over a generic `impl<DB: sqlx::Database>`: such an impl needs a dozen
//! higher-ranked bounds (`for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>`,
//! `for<'q> &'q str: Encode<'q, DB> + Type<DB>`, the same for every bound and decoded type,
//! `usize: ColumnIndex<DB::Row>`, ...), which Rust does not imply from a trait and so must be
//! repeated on every area's impl, and `rows_affected` is not on any sqlx trait. The previous
//! `macro_rules!` bodies hid the code from rustfmt and from the compiler's line numbers.

mod accounts;
mod apps;
mod backup;
mod catalog;
mod chunks;
mod claims;
mod detail_reports;
mod lan;
pub mod models;
pub mod payments;
mod postgres;
mod private_files;
mod projections;
mod receipt_emails;
mod reports;
mod sessions;
mod sqlite;
mod store_docs;

use std::fmt::Debug;
use std::sync::Arc;

use futures::future::BoxFuture;

pub use accounts::AccountStorage;
pub use apps::AppStorage;
pub use backup::{BackupItem, BackupStorage, Cell};
pub use catalog::CatalogStorage;
pub use chunks::ChunkStorage;
pub(crate) use chunks::{PUT_CHUNKS_ROWS, doc_id_of_key, last_of_each, range_end};
pub use claims::ClaimStorage;
pub use detail_reports::DetailReportStorage;
pub use lan::LanStorage;
pub use models::*;
pub use payments::PaymentStorage;
/// The heartbeat's lookup on PostgreSQL, public so that a test can check its plan.
pub use postgres::PROJECTED_RECORDS_SQL as POSTGRES_PROJECTED_RECORDS_SQL;
pub use postgres::PgStorage;
pub use projections::ProjectionStorage;
pub use receipt_emails::ReceiptEmailStorage;
pub use reports::ReportStorage;
pub use sessions::SessionStorage;
pub use sqlite::SqliteStorage;
pub use store_docs::StoreDocsStorage;

use crate::error::Result;

/// Shared handle to the chosen backend.
pub type DynStorage = Arc<dyn Storage>;

/// The server's persistent state: every area, plus what concerns the database as a whole.
/// Every method is fallible; callers decide whether to retry, fail the request or close a
/// connection.
pub trait Storage:
    ChunkStorage
    + AccountStorage
    + AppStorage
    + ClaimStorage
    + LanStorage
    + PaymentStorage
    + ProjectionStorage
    + ReportStorage
    + DetailReportStorage
    + SessionStorage
    + StoreDocsStorage
    + CatalogStorage
    + BackupStorage
    + ReceiptEmailStorage
    + Send
    + Sync
    + Debug
    + 'static
{
    /// Name of the backend (`postgres` or `sqlite`), for logs and metrics.
    fn backend(&self) -> &'static str;
    /// Connections the pool opens at most (work that runs in parallel sizes itself by it).
    fn max_connections(&self) -> u32;
    /// Cheap round trip, for readiness.
    fn ping(&self) -> BoxFuture<'_, Result<()>>;
    /// Applies pending migrations.
    fn migrate(&self) -> BoxFuture<'_, Result<()>>;
}

/// Every storage trait, for calling storage methods on a concrete backend type.
pub mod prelude {
    pub use super::{
        AccountStorage, AppStorage, BackupStorage, CatalogStorage, ChunkStorage, ClaimStorage,
        DetailReportStorage, LanStorage, PaymentStorage, ProjectionStorage, ReceiptEmailStorage,
        ReportStorage, SessionStorage, Storage, StoreDocsStorage,
    };
}
