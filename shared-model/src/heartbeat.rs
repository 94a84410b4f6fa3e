//! The terminal heartbeat (`POST /api/v1/terminals/me/heartbeat`): what a terminal reports and
//! what the server answers, defined once for both sides (see docs/terminal-sync.md). JSON:
//! times are RFC 3339 strings.

use serde::{Deserialize, Serialize};

use crate::codec::Timestamp;

/// What the terminal reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeartbeatRequest {
    /// The terminal's clock, RFC 3339.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub terminal_time: Timestamp,
    pub waiting_documents: u64,
    pub waiting_sales: u64,
    /// Sale and refund ids the terminal has not heard about yet (at most 1000, each 1–64 bytes).
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub unacknowledged: Vec<String>,
    /// The till's app version, e.g. `0.1.0` (1–32 characters, no control characters); tills
    /// from before it existed send none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 32, pattern = r"^[^\x00-\x1F\x7F-\x9F]{1,32}$")
    )]
    pub app_version: Option<String>,
}

/// What the server answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeartbeatResponse {
    /// The server's clock, RFC 3339 with milliseconds.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub server_time: Timestamp,
    /// Those of `unacknowledged` the server has stored and projected.
    pub acknowledged: Vec<String>,
}
