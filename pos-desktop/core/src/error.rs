//! The one error type of the terminal core, and its serialised form for the shell.
//!
//! A Tauri command returns [`CoreError`] as JSON: `{ "code", "message_key", "params" }`, with
//! `code` a stable snake_case name per variant (the shell branches on it), `message_key` the
//! translation key `error.<code>` and `params` the values the message shows. Database, file,
//! document and sync errors carry no params: their text may hold SQL, paths or addresses, and
//! it goes to the log, not to the cashier.

use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::{Map, Value, json};
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
    SupervisorRequired(crate::sales::SupervisorReason),
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
    #[error("the enrolment code is unknown, used or expired")]
    EnrolmentCodeInvalid,
    #[error("too many wrong enrolment codes from this address; wait and try again")]
    EnrolmentRateLimited,
    #[error("the sync server cannot be reached: {0}")]
    ServerUnreachable(String),
    #[error("the sync server's certificate is not trusted: {0}")]
    Tls(String),
    /// The store has no payment gateway (or the server no payment key): static QRIS only.
    #[error("the store has no payment gateway")]
    NoGateway,
    /// The payment gateway (through the server) refused or failed; its words.
    #[error("payment gateway: {0}")]
    Gateway(String),
    /// The server refused this till's document schema: `outdated` says which side to update,
    /// `detail` is the server's words.
    #[error("{detail}")]
    VersionMismatch {
        outdated: shared_model::compat::Outdated,
        detail: String,
    },
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    /// The stable identifier of the variant (what the shell and translations key on).
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Model(_) => "invalid_data",
            CoreError::Db(_) => "database",
            CoreError::Io(_) => "file",
            CoreError::Automerge(_) => "document_format",
            CoreError::Document { .. } => "document",
            CoreError::Corrupt(_) => "corrupt_record",
            CoreError::Migration { .. } => "migration_failed",
            CoreError::SchemaTooNew { .. } => "schema_too_new",
            CoreError::Sync(_) => "sync",
            CoreError::NotInitialized => "not_initialized",
            CoreError::AlreadyInitialized => "already_initialized",
            CoreError::NotFound { .. } => "not_found",
            CoreError::Duplicate { .. } => "duplicate",
            CoreError::UnknownBarcode(_) => "unknown_barcode",
            CoreError::InactiveProduct(_) => "inactive_product",
            CoreError::NoOpenShift => "no_open_shift",
            CoreError::ShiftAlreadyOpen(_) => "shift_already_open",
            CoreError::SupervisorRequired(_) => "supervisor_required",
            CoreError::WrongPin { .. } => "wrong_pin",
            CoreError::UserLocked { .. } => "user_locked",
            CoreError::NotAuthorized(_) => "not_authorized",
            CoreError::InactiveUser(_) => "inactive_user",
            CoreError::AlreadyVoided(_) => "already_voided",
            CoreError::VoidedSale(_) => "voided_sale",
            CoreError::VoidOutsideShift { .. } => "void_outside_shift",
            CoreError::CartAlreadyClaimed { .. } => "cart_already_claimed",
            CoreError::SequenceExhausted(_) => "sequence_exhausted",
            CoreError::Csv(_) => "csv",
            CoreError::Invalid(_) => "invalid_input",
            CoreError::Printer(_) => "printer",
            CoreError::PrintJobState { .. } => "print_job_state",
            CoreError::EnrolmentCodeInvalid => "enrolment_code_invalid",
            CoreError::EnrolmentRateLimited => "enrolment_rate_limited",
            CoreError::ServerUnreachable(_) => "server_unreachable",
            CoreError::Tls(_) => "tls",
            CoreError::NoGateway => "no_gateway",
            CoreError::Gateway(_) => "gateway_failed",
            CoreError::VersionMismatch { outdated, .. } => outdated.code(),
        }
    }

    /// The translation key of the message: `error.<code>`.
    pub fn message_key(&self) -> String {
        format!("error.{}", self.code())
    }

    /// The values the message shows. Domain refusals carry what the cashier needs; errors of
    /// the database, files, documents, sync and printer drivers carry nothing.
    pub fn params(&self) -> Map<String, Value> {
        let params = match self {
            CoreError::Model(e) => json!({ "detail": e.to_string() }),
            CoreError::Migration { version, .. } => json!({ "version": version }),
            CoreError::SchemaTooNew { found, known } => json!({ "found": found, "known": known }),
            CoreError::NotFound { what, id } => json!({ "what": what, "id": id }),
            CoreError::Duplicate {
                field,
                value,
                other,
            } => json!({ "field": field, "value": value, "other": other }),
            CoreError::UnknownBarcode(code) => json!({ "barcode": code }),
            CoreError::InactiveProduct(product) => json!({ "product": product }),
            CoreError::ShiftAlreadyOpen(shift) => json!({ "shift": shift }),
            CoreError::SupervisorRequired(reason) => {
                // The reason in English for logs, and its kind and fields for translation.
                let mut params = serde_json::to_value(reason).unwrap_or_else(|_| json!({}));
                params["reason"] = json!(reason.to_string());
                params
            }
            CoreError::WrongPin { attempts_left } => json!({ "attempts_left": attempts_left }),
            CoreError::UserLocked { until } => json!({ "until": until }),
            CoreError::NotAuthorized(user) | CoreError::InactiveUser(user) => {
                json!({ "user": user })
            }
            CoreError::AlreadyVoided(receipt) | CoreError::VoidedSale(receipt) => {
                json!({ "receipt": receipt })
            }
            CoreError::VoidOutsideShift { sale, shift } => json!({ "sale": sale, "shift": shift }),
            CoreError::CartAlreadyClaimed { cart, terminal } => {
                json!({ "cart": cart, "terminal": terminal })
            }
            CoreError::SequenceExhausted(date) => json!({ "business_date": date }),
            CoreError::Csv(detail) | CoreError::Invalid(detail) | CoreError::Gateway(detail) => {
                json!({ "detail": detail })
            }
            CoreError::PrintJobState {
                job_id,
                action,
                state,
            } => json!({ "job_id": job_id, "action": action, "state": state }),
            CoreError::Db(_)
            | CoreError::Io(_)
            | CoreError::Automerge(_)
            | CoreError::Document { .. }
            | CoreError::Corrupt(_)
            | CoreError::Sync(_)
            | CoreError::NotInitialized
            | CoreError::AlreadyInitialized
            | CoreError::NoOpenShift
            | CoreError::Printer(_)
            | CoreError::EnrolmentCodeInvalid
            | CoreError::EnrolmentRateLimited
            | CoreError::ServerUnreachable(_)
            | CoreError::Tls(_)
            | CoreError::NoGateway
            | CoreError::VersionMismatch { .. } => json!({}),
        };
        match params {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

/// `{ "code", "message_key", "params" }` (see the module's documentation).
impl Serialize for CoreError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("CoreError", 3)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message_key", &self.message_key())?;
        s.serialize_field("params", &self.params())?;
        s.end()
    }
}

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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// One of every variant (a new variant fails to compile in `code` until it has one, and
    /// belongs here too).
    fn one_of_each() -> Vec<CoreError> {
        vec![
            CoreError::Model(ModelError::EmptyCart),
            CoreError::Db(rusqlite::Error::QueryReturnedNoRows),
            CoreError::Io(std::io::Error::other("/home/kasir/terminal.db: disk full")),
            CoreError::Automerge(automerge::AutomergeError::InvalidIndex(3)),
            CoreError::Document {
                doc: "2xyz".into(),
                reason: "has no kind".into(),
            },
            CoreError::Corrupt("bad json".into()),
            CoreError::Migration {
                version: 6,
                reason: "near \"UPDATE\": syntax error".into(),
            },
            CoreError::SchemaTooNew { found: 9, known: 6 },
            CoreError::Sync("connect: ws://10.0.0.2/sync refused".into()),
            CoreError::NotInitialized,
            CoreError::AlreadyInitialized,
            CoreError::NotFound {
                what: "sale",
                id: "s1".into(),
            },
            CoreError::Duplicate {
                field: "sku",
                value: "AQ".into(),
                other: "Aqua".into(),
            },
            CoreError::UnknownBarcode("899".into()),
            CoreError::InactiveProduct("Aqua".into()),
            CoreError::NoOpenShift,
            CoreError::ShiftAlreadyOpen("sh1".into()),
            CoreError::SupervisorRequired(crate::sales::SupervisorReason::CartDiscount {
                threshold: 10.into(),
            }),
            CoreError::WrongPin { attempts_left: 2 },
            CoreError::UserLocked {
                until: "2026-12-02T10:00:00Z".into(),
            },
            CoreError::NotAuthorized("Siti".into()),
            CoreError::InactiveUser("Siti".into()),
            CoreError::AlreadyVoided("TKO1-T1-261202-0001".into()),
            CoreError::VoidedSale("TKO1-T1-261202-0001".into()),
            CoreError::VoidOutsideShift {
                sale: "TKO1-T1-261202-0001".into(),
                shift: "sh0".into(),
            },
            CoreError::CartAlreadyClaimed {
                cart: "c1".into(),
                terminal: "T2".into(),
            },
            CoreError::SequenceExhausted("2026-12-02".into()),
            CoreError::Csv("line 3: 2 fields, expected 4".into()),
            CoreError::Invalid("a void needs a reason".into()),
            CoreError::Printer(receipt_printer::PrinterError::NotReady(
                receipt_printer::PrinterStatus::UNKNOWN,
            )),
            CoreError::PrintJobState {
                job_id: 4,
                action: "cancelled",
                state: "printed".into(),
            },
            CoreError::EnrolmentCodeInvalid,
            CoreError::EnrolmentRateLimited,
            CoreError::ServerUnreachable("connect: ws://10.0.0.2/sync refused".into()),
            CoreError::Tls("ws://10.0.0.2: unknown issuer".into()),
            CoreError::VersionMismatch {
                outdated: shared_model::compat::Outdated::Till,
                detail: "this till's app is too old for the server".into(),
            },
            CoreError::VersionMismatch {
                outdated: shared_model::compat::Outdated::Server,
                detail: "the server is older than this till".into(),
            },
        ]
    }

    #[test]
    fn every_variant_has_a_distinct_snake_case_code() {
        let all = one_of_each();
        let codes: HashSet<&str> = all.iter().map(CoreError::code).collect();
        assert_eq!(codes.len(), all.len(), "codes repeat: {codes:?}");
        for code in codes {
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
        }
    }

    #[test]
    fn errors_serialise_to_code_message_key_and_params() {
        let v = |e: CoreError| serde_json::to_value(e).unwrap();
        assert_eq!(
            v(CoreError::WrongPin { attempts_left: 2 }),
            json!({ "code": "wrong_pin", "message_key": "error.wrong_pin",
                    "params": { "attempts_left": 2 } })
        );
        assert_eq!(
            v(CoreError::NotFound {
                what: "sale",
                id: "s1".into()
            }),
            json!({ "code": "not_found", "message_key": "error.not_found",
                    "params": { "what": "sale", "id": "s1" } })
        );
        assert_eq!(
            v(CoreError::NoOpenShift),
            json!({ "code": "no_open_shift", "message_key": "error.no_open_shift",
                    "params": {} })
        );
        assert_eq!(
            v(CoreError::Model(ModelError::EmptyCart)),
            json!({ "code": "invalid_data", "message_key": "error.invalid_data",
                    "params": { "detail": "the cart is empty" } })
        );
    }

    #[test]
    fn internals_do_not_leave_in_the_serialised_form() {
        for e in one_of_each() {
            let text = serde_json::to_string(&e).unwrap();
            for internal in ["/home/kasir", "UPDATE", "ws://", "2xyz", "bad json"] {
                assert!(
                    !text.contains(internal),
                    "{} leaks {internal}: {text}",
                    e.code()
                );
            }
        }
    }
}
