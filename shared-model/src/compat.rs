//! Which tills a server serves. The wire protocol's version is negotiated in its `join`
//! ([`crate::wire::PROTOCOL_VERSION`]); what the documents mean is versioned apart from it
//! ([`crate::documents::SCHEMA_VERSION`]), and a till says which schema it writes in the
//! [`SCHEMA_HEADER`] of its sync connection, so that the server can refuse it in words before a
//! single document is exchanged: a till older than the oldest schema the server still serves
//! must be updated, and a till newer than the server must wait for the server's update (the
//! server could not read what it writes). Between the two, a newer server keeps serving older
//! tills: a later schema must keep what an older till writes readable (added fields are
//! optional), or raise [`OLDEST_TILL_SCHEMA_VERSION`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::documents::SCHEMA_VERSION;

/// The HTTP header of a till's sync connection that carries the document schema it writes.
/// A till that sends none predates the header and writes schema 1.
pub const SCHEMA_HEADER: &str = "snapkasir-schema";

/// The oldest document schema a till may write and still be served.
pub const OLDEST_TILL_SCHEMA_VERSION: u64 = 1;

/// The schema of a till that sends no [`SCHEMA_HEADER`].
pub const SCHEMA_WITHOUT_HEADER: u64 = 1;

/// Why a till and a server cannot sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outdated", rename_all = "snake_case")]
pub enum Mismatch {
    /// The till writes a schema older than the oldest the server serves: update the till.
    Till { till: u64, oldest: u64 },
    /// The till writes a schema newer than the server knows: update the server.
    Server { till: u64, server: u64 },
}

/// Which side of a [`Mismatch`] must be updated, as a till learns it from the server's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outdated {
    Till,
    Server,
}

impl Outdated {
    /// The error code the server answers with.
    pub fn code(self) -> &'static str {
        match self {
            Outdated::Till => "till_too_old",
            Outdated::Server => "server_too_old",
        }
    }

    /// The side named by an error `code` of the server, if it is one of the two.
    pub fn from_code(code: &str) -> Option<Outdated> {
        [Outdated::Till, Outdated::Server]
            .into_iter()
            .find(|o| o.code() == code)
    }
}

impl Mismatch {
    pub fn outdated(self) -> Outdated {
        match self {
            Mismatch::Till { .. } => Outdated::Till,
            Mismatch::Server { .. } => Outdated::Server,
        }
    }

    /// The error code the server answers with.
    pub fn code(self) -> &'static str {
        self.outdated().code()
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Till { till, oldest } => write!(
                f,
                "this till's app is too old for the server (document schema {till}, the server \
                 serves {oldest} and newer): update SnapKasir on this till"
            ),
            Mismatch::Server { till, server } => write!(
                f,
                "the server is older than this till (document schema {till}, the server knows \
                 {server}): ask whoever runs the server to update it"
            ),
        }
    }
}

/// Whether a server of this build serves a till that writes schema `till`.
pub fn check_till_schema(till: u64) -> Result<(), Mismatch> {
    if till < OLDEST_TILL_SCHEMA_VERSION {
        Err(Mismatch::Till {
            till,
            oldest: OLDEST_TILL_SCHEMA_VERSION,
        })
    } else if till > SCHEMA_VERSION {
        Err(Mismatch::Server {
            till,
            server: SCHEMA_VERSION,
        })
    } else {
        Ok(())
    }
}

/// The schema named by a [`SCHEMA_HEADER`] value (`None`: no header). A value that is not a
/// number is refused with the value in words.
pub fn parse_schema_header(value: Option<&str>) -> Result<u64, String> {
    match value {
        None => Ok(SCHEMA_WITHOUT_HEADER),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{SCHEMA_HEADER} {v:?} is not a schema version")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_builds_tills_are_served_and_others_are_told_who_must_update() {
        assert_eq!(check_till_schema(SCHEMA_VERSION), Ok(()));
        assert_eq!(check_till_schema(OLDEST_TILL_SCHEMA_VERSION), Ok(()));
        let old = check_till_schema(OLDEST_TILL_SCHEMA_VERSION - 1).unwrap_err();
        assert_eq!(old.code(), "till_too_old");
        assert!(old.to_string().contains("update SnapKasir on this till"));
        let new = check_till_schema(SCHEMA_VERSION + 1).unwrap_err();
        assert_eq!(
            new,
            Mismatch::Server {
                till: SCHEMA_VERSION + 1,
                server: SCHEMA_VERSION
            }
        );
        assert!(new.to_string().contains("update it"));
        for m in [old, new] {
            assert_eq!(Outdated::from_code(m.code()), Some(m.outdated()));
        }
        assert_eq!(Outdated::from_code("unauthorized"), None);
    }

    #[test]
    fn a_till_without_the_header_writes_the_first_schema_and_garbage_is_refused() {
        assert_eq!(parse_schema_header(None), Ok(1));
        assert_eq!(parse_schema_header(Some(" 1 ")), Ok(1));
        assert!(
            parse_schema_header(Some("v2"))
                .unwrap_err()
                .contains("\"v2\"")
        );
        assert!(parse_schema_header(Some("-1")).is_err());
    }

    #[test]
    fn a_mismatch_travels_as_json_with_who_is_outdated() {
        let json = serde_json::to_value(Mismatch::Till { till: 0, oldest: 1 }).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"outdated": "till", "till": 0, "oldest": 1})
        );
    }
}
