//! SnapKasir sync server library: storage, auth and tenancy services, the
//! automerge-repo sync endpoint (on `samod`) and the HTTP API.

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod projection;
pub mod reports;
pub mod service;
pub mod storage;
pub mod sync;
pub mod terminal_report;

pub use error::{Error, Result};

/// Current time in unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
