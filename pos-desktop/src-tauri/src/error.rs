//! The one error of the shell's commands. It serialises exactly like pos-core's
//! [`CoreError`] (`{ "code", "message_key", "params" }`, see contract.md), so the UI
//! translates every error the same way; the shell adds a few codes of its own.

use pos_core::CoreError;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::{Map, Value, json};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A refusal or failure of the terminal core, passed on as it serialises.
    #[error(transparent)]
    Core(CoreError),
    /// The command needs a cashier logged in by PIN.
    #[error("nobody is logged in")]
    NotLoggedIn,
    /// The first run (demo store or enrolment) is not done.
    #[error("this terminal has no store yet")]
    NoStore,
    /// A command argument that cannot be read (a malformed amount, id or discount).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Enrolment was refused or could not reach the server; `reason` is the core's code.
    #[error("enrolment failed: {reason}")]
    EnrolmentFailed {
        reason: String,
        source: Box<CoreError>,
    },
    /// Something that should not happen (a task that panicked); logged, never shown in detail.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<CoreError> for AppError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotInitialized => AppError::NoStore,
            e => AppError::Core(e),
        }
    }
}

impl From<pos_core::shared_model::ModelError> for AppError {
    fn from(e: pos_core::shared_model::ModelError) -> Self {
        AppError::Core(e.into())
    }
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Core(e) => e.code(),
            AppError::NotLoggedIn => "not_logged_in",
            AppError::NoStore => "no_store",
            AppError::InvalidInput(_) => "invalid_input",
            AppError::EnrolmentFailed { .. } => "enrolment_failed",
            AppError::Internal(_) => "internal",
        }
    }

    fn params(&self) -> Map<String, Value> {
        let params = match self {
            AppError::Core(e) => return e.params(),
            AppError::InvalidInput(detail) => json!({ "detail": detail }),
            AppError::EnrolmentFailed { reason, source } => {
                let mut p = source.params();
                p.insert("reason".into(), json!(reason));
                return p;
            }
            AppError::NotLoggedIn | AppError::NoStore | AppError::Internal(_) => json!({}),
        };
        match params {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// Enrolment's errors, with the core's code as the reason.
    pub fn enrolment(e: CoreError) -> AppError {
        AppError::EnrolmentFailed {
            reason: e.code().to_string(),
            source: Box::new(e),
        }
    }

    /// An argument that does not parse.
    pub fn invalid(what: &str, e: impl std::fmt::Display) -> AppError {
        AppError::InvalidInput(format!("{what}: {e}"))
    }
}

impl Serialize for AppError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let AppError::Core(e) = self {
            return e.serialize(serializer);
        }
        if let AppError::Internal(detail) = self {
            tracing::error!(%detail, "internal error");
        }
        let mut s = serializer.serialize_struct("AppError", 3)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message_key", &format!("error.{}", self.code()))?;
        s.serialize_field("params", &self.params())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(e: AppError) -> Value {
        serde_json::to_value(e).expect("serialise")
    }

    #[test]
    fn core_errors_pass_through_unchanged() {
        let core = CoreError::WrongPin { attempts_left: 2 };
        let expected = serde_json::to_value(&core).expect("serialise");
        assert_eq!(v(AppError::from(core)), expected);
        assert_eq!(
            v(CoreError::SupervisorRequired("a cart discount above 20%".into()).into()),
            json!({ "code": "supervisor_required", "message_key": "error.supervisor_required",
                    "params": { "reason": "a cart discount above 20%" } })
        );
    }

    #[test]
    fn shell_errors_have_the_core_shape() {
        assert_eq!(
            v(AppError::NotLoggedIn),
            json!({ "code": "not_logged_in", "message_key": "error.not_logged_in", "params": {} })
        );
        assert_eq!(
            v(CoreError::NotInitialized.into()),
            json!({ "code": "no_store", "message_key": "error.no_store", "params": {} })
        );
        assert_eq!(
            v(AppError::invalid("quantity", "not a number")),
            json!({ "code": "invalid_input", "message_key": "error.invalid_input",
                    "params": { "detail": "quantity: not a number" } })
        );
        assert_eq!(
            v(AppError::enrolment(CoreError::Sync("refused".into()))),
            json!({ "code": "enrolment_failed", "message_key": "error.enrolment_failed",
                    "params": { "reason": "sync" } })
        );
    }

    #[test]
    fn internal_details_stay_in_the_log() {
        let text = serde_json::to_string(&AppError::Internal("task panicked at /home/x".into()))
            .expect("serialise");
        assert_eq!(
            text,
            r#"{"code":"internal","message_key":"error.internal","params":{}}"#
        );
    }
}
