//! Business days: a trading day runs from a cut-off hour to the same hour the next day, in the
//! store's time zone. A sale at 01:30 with a 04:00 cut-off belongs to the previous day.

use std::str::FromStr;

use autosurgeon::{Hydrate, Reconcile};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::codec::{BusinessDate, Timestamp};
use crate::error::{ModelError, ModelResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct BusinessDayConfig {
    /// IANA zone name, e.g. `Asia/Jakarta`.
    pub time_zone: String,
    /// Hour (0–23) at which a new business day starts.
    pub cutoff_hour: u8,
}

impl Default for BusinessDayConfig {
    fn default() -> Self {
        BusinessDayConfig {
            time_zone: "Asia/Jakarta".into(),
            cutoff_hour: 4,
        }
    }
}

impl BusinessDayConfig {
    pub fn validate(&self) -> ModelResult<Tz> {
        if self.cutoff_hour > 23 {
            return Err(ModelError::Invalid {
                field: "cut-off hour",
                reason: format!("{} (0–23)", self.cutoff_hour),
            });
        }
        Tz::from_str(&self.time_zone).map_err(|_| ModelError::Invalid {
            field: "time zone",
            reason: self.time_zone.clone(),
        })
    }

    /// The business date an instant belongs to.
    pub fn business_date(&self, at: Timestamp) -> ModelResult<BusinessDate> {
        let tz = self.validate()?;
        let local =
            at.0.with_timezone(&tz).naive_local() - Duration::hours(i64::from(self.cutoff_hour));
        Ok(BusinessDate(local.date()))
    }

    /// When a business date starts, as an instant.
    pub fn day_start(&self, date: BusinessDate) -> ModelResult<Timestamp> {
        let tz = self.validate()?;
        let naive = date
            .0
            .and_hms_opt(u32::from(self.cutoff_hour), 0, 0)
            .ok_or(ModelError::Overflow)?;
        let local =
            tz.from_local_datetime(&naive)
                .earliest()
                .ok_or_else(|| ModelError::Invalid {
                    field: "business day",
                    reason: format!(
                        "{date} {}:00 does not exist in {}",
                        self.cutoff_hour, self.time_zone
                    ),
                })?;
        Ok(Timestamp(local.with_timezone(&Utc)))
    }
}

/// `2026-11-25` → `261125`, as used in receipt numbers.
pub fn yymmdd(date: NaiveDate) -> String {
    date.format("%y%m%d").to_string()
}
