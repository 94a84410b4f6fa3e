//! Mapping of the model's scalar types to automerge values.
//!
//! Decimals, ids, dates and timestamps are stored as strings: exact (automerge has no decimal
//! type), readable from the JavaScript client, and stable across versions.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// Implements `Reconcile` and `Hydrate` for a type with `Display` and `FromStr` as a string.
macro_rules! string_codec {
    ($t:ty) => {
        impl autosurgeon::Reconcile for $t {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: autosurgeon::Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
                r.str(self.to_string())
            }
        }

        impl autosurgeon::Hydrate for $t {
            fn hydrate_string(s: &'_ str) -> Result<Self, autosurgeon::HydrateError> {
                s.parse().map_err(|e: $crate::error::ModelError| {
                    autosurgeon::HydrateError::unexpected(stringify!($t), e.to_string())
                })
            }
        }
    };
}
pub(crate) use string_codec;

string_codec!(crate::money::Money);
string_codec!(crate::money::Quantity);
string_codec!(crate::money::Percent);

/// A point in time, UTC, stored as RFC 3339 with milliseconds (finer precision is dropped on
/// creation, so a value reads back equal to what was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp::from(Utc::now())
    }
}

/// Current time in unix milliseconds.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t.trunc_subsecs(3))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl FromStr for Timestamp {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| Timestamp::from(t.with_timezone(&Utc)))
            .map_err(|e| ModelError::Invalid {
                field: "timestamp",
                reason: format!("{s:?}: {e}"),
            })
    }
}
string_codec!(Timestamp);

/// A business date (the store's trading day), stored as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BusinessDate(pub NaiveDate);

impl fmt::Display for BusinessDate {
    /// `YYYY-MM-DD`: chrono's own ISO form of a date, written without parsing a format string
    /// (a checkout writes the date three times, and `format` took ~7,000 instructions each).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for BusinessDate {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(BusinessDate)
            .map_err(|e| ModelError::Invalid {
                field: "date",
                reason: format!("{s:?}: {e}"),
            })
    }
}
string_codec!(BusinessDate);

#[cfg(test)]
mod tests {
    use super::*;

    /// Business dates are stored and compared as text: the form must stay `%Y-%m-%d`.
    #[test]
    fn business_dates_print_as_year_month_day_and_read_back() {
        for (y, m, d) in [
            (2026, 1, 5),
            (2026, 12, 31),
            (999, 3, 9),
            (1, 1, 1),
            (9999, 12, 31),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let text = BusinessDate(date).to_string();
            assert_eq!(text, date.format("%Y-%m-%d").to_string());
            assert_eq!(text.parse::<BusinessDate>().unwrap(), BusinessDate(date));
        }
        assert_eq!(
            BusinessDate(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()).to_string(),
            "2026-01-05"
        );
    }
}
