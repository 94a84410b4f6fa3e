//! The SQL of every storage area, written once and compiled once per backend: `postgres.rs`
//! and `sqlite.rs` each declare this directory as their submodule `sql`
//! (`#[path = "sql/mod.rs"] mod sql;`) after defining, for their own backend, `Backend` (the
//! storage type, with its sqlx `pool`), `Db` (its sqlx database), `BACKEND` (its name),
//! `MIGRATOR`, the few SQL texts that differ between the two databases, and how the projection's
//! rows are inserted (`insert_projected_rows`). Each area file implements its trait for
//! `super::Backend`. Why not a generic `impl<DB: sqlx::Database>`: see [`crate::storage`].

mod accounts;
mod apps;
mod backup;
mod base;
mod catalog;
mod chunks;
mod claims;
mod detail_reports;
mod lan;
mod payments;
mod projections;
mod receipt_emails;
mod reports;
mod sessions;
mod store_docs;

use super::{
    BACKEND, Backend, Db, LOCK_PROJECTED_SQL, MIGRATOR, PROJECTED_RECORDS_SQL, SNAPSHOT_SQL,
    insert_projected_rows,
};
