//! The crate's one error type. HTTP handlers map it to a JSON body with a
//! stable `code`; internal details go to the log only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Every failure of the sync server library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed (connection, query, constraint we did not expect).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique constraint was hit (duplicate email, store code, ...).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The thing asked for does not exist (or is not visible to the caller).
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// Missing, malformed, expired or forged credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// Authenticated, but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The request is invalid; the message is safe to show to the client.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A value a person typed is refused: which field, and why in English and in Bahasa
    /// Indonesia (the API answers the English; the dashboard shows the reader's language
    /// next to the field).
    #[error("invalid {field}: {en}")]
    Invalid {
        field: &'static str,
        en: String,
        id: String,
    },
    /// Too many attempts; retry later.
    #[error("rate limited")]
    RateLimited,
    /// A connection cap is reached; the message says which.
    #[error("too many connections: {0}")]
    TooManyConnections(&'static str),
    /// The server is at its bound of concurrent password checks; retry in a moment.
    #[error("busy")]
    Busy,
    /// Configuration could not be loaded.
    #[error("configuration error: {0}")]
    Config(String),
    /// A protocol violation on the sync endpoint; the message is sent to the peer.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Anything else that should not happen; never shown to clients.
    #[error("internal error: {0}")]
    Internal(String),
    /// IO failure (binding a socket, creating the data directory).
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
    /// A backup file cannot be written or restored; the message says why in words.
    #[error("backup: {0}")]
    Backup(String),
    /// A till and this server write document schemas that cannot sync
    /// ([`shared_model::compat`]); the message says which of the two to update.
    #[error("version mismatch: {0}")]
    VersionMismatch(shared_model::compat::Mismatch),
    /// A payment could not be made, checked or refunded: a stable code, the HTTP status, and
    /// words safe to show to the cashier (the gateway's own, or what to do).
    #[error("payment: {message}")]
    Payment {
        code: &'static str,
        status: StatusCode,
        message: String,
    },
    /// The store's documents are made by its first terminal, and none has synced them yet.
    #[error("the store has no terminal yet")]
    NoTerminalYet,
    /// No `smtp_url` is configured: this server sends no email.
    #[error("email is not configured")]
    EmailNotConfigured,
    /// The sale a till refers to has not reached the server yet; the till retries later.
    #[error("the sale has not synced yet")]
    NotSynced,
    /// The SMTP server refused or could not be reached; the message says why in words (no
    /// password: lettre's errors name the host and the SMTP reply).
    #[error("email failed: {0}")]
    EmailFailed(String),
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// JSON error body of the HTTP API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `unauthorized`, `rate_limited`.
    pub code: &'static str,
    /// Human-readable message; never contains internals.
    pub message: String,
}

impl Error {
    /// Stable code and HTTP status for this error.
    pub fn code_and_status(&self) -> (&'static str, StatusCode) {
        match self {
            Error::Conflict(_) => ("conflict", StatusCode::CONFLICT),
            Error::NotFound(_) => ("not_found", StatusCode::NOT_FOUND),
            Error::Unauthorized(_) => ("unauthorized", StatusCode::UNAUTHORIZED),
            Error::Forbidden(_) => ("forbidden", StatusCode::FORBIDDEN),
            Error::BadRequest(_) | Error::Protocol(_) | Error::Invalid { .. } => {
                ("bad_request", StatusCode::BAD_REQUEST)
            }
            Error::RateLimited => ("rate_limited", StatusCode::TOO_MANY_REQUESTS),
            Error::TooManyConnections(_) => ("too_many_connections", StatusCode::TOO_MANY_REQUESTS),
            Error::Busy | Error::Database(sqlx::Error::PoolTimedOut) => {
                ("busy", StatusCode::SERVICE_UNAVAILABLE)
            }
            Error::NoTerminalYet => ("store_has_no_terminal", StatusCode::CONFLICT),
            Error::Payment { code, status, .. } => (code, *status),
            Error::EmailNotConfigured => ("email_not_configured", StatusCode::SERVICE_UNAVAILABLE),
            Error::NotSynced => ("not_synced", StatusCode::CONFLICT),
            Error::EmailFailed(_) => ("email_failed", StatusCode::BAD_GATEWAY),
            Error::VersionMismatch(m @ shared_model::compat::Mismatch::Till { .. }) => {
                (m.code(), StatusCode::UPGRADE_REQUIRED)
            }
            Error::VersionMismatch(m) => (m.code(), StatusCode::CONFLICT),
            Error::Database(_)
            | Error::Migrate(_)
            | Error::Config(_)
            | Error::Internal(_)
            | Error::Backup(_)
            | Error::Io(_) => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// Message safe to show to a client.
    pub fn public_message(&self) -> String {
        match self {
            Error::Conflict(m)
            | Error::NotFound(m)
            | Error::Unauthorized(m)
            | Error::Forbidden(m)
            | Error::TooManyConnections(m) => (*m).to_string(),
            Error::BadRequest(m) | Error::Protocol(m) => m.clone(),
            Error::VersionMismatch(m) => m.to_string(),
            Error::Invalid { en, .. } => en.clone(),
            Error::Payment { message, .. } => message.clone(),
            Error::RateLimited => "too many attempts, retry later".to_string(),
            Error::Busy => "the server is busy checking passwords, retry in a moment".to_string(),
            Error::Database(sqlx::Error::PoolTimedOut) => {
                "the server is busy, retry in a moment".to_string()
            }
            Error::NoTerminalYet => {
                "no terminal of this store has synced its documents yet: set up a terminal first"
                    .to_string()
            }
            Error::EmailNotConfigured => {
                "this server is not set up to send email (no smtp_url in its configuration)"
                    .to_string()
            }
            Error::NotSynced => {
                "the sale has not reached the server yet: the till sends it again once it has"
                    .to_string()
            }
            Error::EmailFailed(why) => format!("the email could not be sent: {why}"),
            _ => "internal server error".to_string(),
        }
    }

    /// [`Error::Invalid`] of `field` from the model's refusal.
    pub fn model(field: &'static str, e: &shared_model::ModelError) -> Self {
        Error::Invalid {
            field,
            en: e.to_string(),
            id: e.indonesian(),
        }
    }

    /// Maps a unique-constraint violation to [`Error::Conflict`].
    pub(crate) fn from_insert(e: sqlx::Error, what: &'static str) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict(what),
            _ => Error::Database(e),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (code, status) = self.code_and_status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::info!(error = %self, code, "request rejected");
        }
        let body = ErrorBody {
            code,
            message: self.public_message(),
        };
        let mut resp = (status, axum::Json(body)).into_response();
        let retry_after = match self {
            Error::RateLimited | Error::TooManyConnections(_) => Some("60"),
            Error::Busy => Some("1"),
            Error::Database(sqlx::Error::PoolTimedOut) => Some("5"),
            _ => None,
        };
        if let Some(secs) = retry_after {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(secs),
            );
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_pool_that_is_full_answers_busy_with_a_retry_time() {
        let resp = Error::Database(sqlx::Error::PoolTimedOut).into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[axum::http::header::RETRY_AFTER], "5");
        let other = Error::Database(sqlx::Error::RowNotFound).into_response();
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            other
                .headers()
                .get(axum::http::header::RETRY_AFTER)
                .is_none()
        );
    }
}
