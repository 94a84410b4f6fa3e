//! SnapKasir sync server library: storage, auth and tenancy services, the
//! automerge-repo sync endpoint (on `samod`) and the HTTP API.

pub mod error;
pub mod storage;

pub use error::{Error, Result};

/// Current time in unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
