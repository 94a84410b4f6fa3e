//! The one error type of the terminal core.

use shared_model::ModelError;

/// Everything a use-case of the terminal core can refuse. Callers (the Tauri shell) branch on
/// the variant; the message is for people.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    #[error("document error: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error("document {doc}: {reason}")]
    Document { doc: String, reason: String },
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
    #[error("migration {version} failed: {reason}")]
    Migration { version: u32, reason: String },
    #[error(
        "the store file was written by a newer version (schema {found}, this build knows {known})"
    )]
    SchemaTooNew { found: u32, known: u32 },
    #[error("sync: {0}")]
    Sync(String),
    #[error("this terminal is not set up yet")]
    NotInitialized,
    #[error("this terminal is already set up")]
    AlreadyInitialized,
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{field} {value:?} is already used by {other}")]
    Duplicate {
        field: &'static str,
        value: String,
        other: String,
    },
    #[error("no product matches barcode {0:?}")]
    UnknownBarcode(String),
    #[error("product {0} is not active")]
    InactiveProduct(String),
    #[error("no open shift on this terminal")]
    NoOpenShift,
    #[error("a shift is already open on this terminal ({0})")]
    ShiftAlreadyOpen(String),
    #[error("this needs a supervisor's PIN: {0}")]
    SupervisorRequired(String),
    #[error("wrong PIN ({attempts_left} attempts left before the user is locked)")]
    WrongPin { attempts_left: u32 },
    #[error("user is locked after too many wrong PINs until {until}")]
    UserLocked { until: String },
    #[error("user {0} may not authorise this")]
    NotAuthorized(String),
    #[error("user {0} is inactive")]
    InactiveUser(String),
    #[error("sale {0} is already voided")]
    AlreadyVoided(String),
    #[error("sale {0} was voided and cannot be refunded")]
    VoidedSale(String),
    #[error("sale {sale} belongs to shift {shift}, which is not the open shift")]
    VoidOutsideShift { sale: String, shift: String },
    #[error("parked cart {cart} was already resumed on till {terminal}")]
    CartAlreadyClaimed { cart: String, terminal: String },
    #[error("receipt sequence for {0} is exhausted")]
    SequenceExhausted(String),
    #[error("CSV error: {0}")]
    Csv(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("printer: {0}")]
    Printer(#[from] receipt_printer::PrinterError),
    #[error("print job {job_id} cannot be {action}: it is {state}")]
    PrintJobState {
        job_id: i64,
        action: &'static str,
        state: String,
    },
}

pub type CoreResult<T> = Result<T, CoreError>;

impl From<csv::Error> for CoreError {
    fn from(e: csv::Error) -> Self {
        CoreError::Csv(e.to_string())
    }
}

impl From<serde_json::Error> for CoreError {
    fn from(e: serde_json::Error) -> Self {
        CoreError::Corrupt(e.to_string())
    }
}
