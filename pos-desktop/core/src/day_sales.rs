//! The day's sales list of the till: this till's and its peers' sales of one business day.

use serde::{Deserialize, Serialize};
use shared_model::codec::{BusinessDate, Timestamp};
use shared_model::money::Money;

use crate::error::CoreResult;
use crate::terminal::Terminal;

/// One row of the day's sales list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SaleSummary {
    pub sale_id: String,
    pub receipt_no: String,
    pub created_at: Timestamp,
    pub total: Money,
    pub cashier_name: String,
    pub payment_methods: Vec<String>,
    pub on_server: bool,
}

impl Terminal {
    /// This till's and its peers' sales of `date`, newest first.
    pub fn day_sales(&mut self, date: BusinessDate) -> CoreResult<Vec<SaleSummary>> {
        let _ = date;
        unimplemented!()
    }
}
