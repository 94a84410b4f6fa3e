//! SnapKasir sync server library: storage, auth and tenancy services, the
//! automerge-repo sync endpoint (on `samod`) and the HTTP API.

pub mod access;
pub mod api;
pub mod app;
pub mod apps_api;
pub mod auth;
pub mod backup;
pub mod baselines;
pub mod catalog;
pub mod catalog_api;
pub mod config;
pub mod conflict_report;
pub mod dashboard;
pub mod documents_writer;
pub mod error;
pub mod extract;
pub mod http_client;
pub mod lan_api;
pub mod lan_keys;
pub mod lan_publish;
pub mod openapi;
pub mod overview;
pub mod payments;
pub mod payments_api;
pub mod period_index;
pub mod projection;
pub mod proxy;
pub mod receipt_mail;
pub mod receipt_mail_api;
pub mod report_api;
pub mod report_csv;
pub mod report_replica;
pub mod reports;
pub mod service;
pub mod session_api;
pub mod staff;
pub mod state;
pub mod stock_reports;
pub mod storage;
pub mod store_index;
pub mod store_settings;
pub mod store_tasks;
pub mod sync;
pub mod terminal_report;
pub mod zreport;

pub use error::{Error, Result};

/// The shared model, for tools built on the server library (the fuzz target).
pub use shared_model;
/// Current time in unix milliseconds (shared-model's clock, the terminal's too).
pub use shared_model::codec::now_ms;
