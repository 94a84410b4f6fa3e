//! Receipt numbers, unique without coordination: `<store>-<terminal>-<yyMMdd>-<sequence>`.
//! The sequence restarts each business day per terminal; refunds use the same sequence.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::business_day::yymmdd;
use crate::codec::BusinessDate;
use crate::error::{ModelError, ModelResult};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReceiptNumber {
    pub store_code: String,
    pub terminal_code: String,
    pub business_date: BusinessDate,
    pub sequence: u32,
}

/// Store and terminal codes: 1–8 upper-case letters or digits.
pub fn check_code(field: &'static str, code: &str) -> ModelResult<()> {
    if code.is_empty()
        || code.len() > 8
        || !code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(ModelError::Invalid {
            field,
            reason: format!("{code:?} must be 1–8 upper-case letters or digits"),
        });
    }
    Ok(())
}

impl ReceiptNumber {
    pub fn new(
        store_code: &str,
        terminal_code: &str,
        business_date: BusinessDate,
        sequence: u32,
    ) -> ModelResult<Self> {
        check_code("store code", store_code)?;
        check_code("terminal code", terminal_code)?;
        if sequence == 0 {
            return Err(ModelError::Invalid {
                field: "receipt sequence",
                reason: "starts at 1".into(),
            });
        }
        Ok(ReceiptNumber {
            store_code: store_code.into(),
            terminal_code: terminal_code.into(),
            business_date,
            sequence,
        })
    }
}

impl fmt::Display for ReceiptNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}-{:04}",
            self.store_code,
            self.terminal_code,
            yymmdd(self.business_date.0),
            self.sequence
        )
    }
}

impl FromStr for ReceiptNumber {
    type Err = ModelError;
    fn from_str(s: &str) -> ModelResult<Self> {
        let bad = || ModelError::Invalid {
            field: "receipt number",
            reason: format!("{s:?}"),
        };
        let parts: Vec<&str> = s.split('-').collect();
        let [store, terminal, date, seq] = parts.as_slice() else {
            return Err(bad());
        };
        let date = NaiveDate::parse_from_str(&format!("20{date}"), "%Y%m%d").map_err(|_| bad())?;
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let seq: u32 = seq.parse().map_err(|_| bad())?;
        ReceiptNumber::new(store, terminal, BusinessDate(date), seq)
    }
}

impl TryFrom<String> for ReceiptNumber {
    type Error = ModelError;
    fn try_from(s: String) -> ModelResult<Self> {
        s.parse()
    }
}

impl From<ReceiptNumber> for String {
    fn from(r: ReceiptNumber) -> String {
        r.to_string()
    }
}

crate::codec::string_codec!(ReceiptNumber);
