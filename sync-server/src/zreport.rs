//! The Z report of a store's business day, computed from the tills' journals of that day by
//! [`shared_model::zreport::ZReport::compute`], the function each till uses for its own Z
//! report: the dashboard's figures are the tills' figures, not a second implementation over
//! the projected tables (which keep neither discounts nor refund payouts per method).
//!
//! One report per till (its journal of the day) and one for the store (every journal together).

use serde::{Deserialize, Serialize};
use shared_model::documents::{self, JournalDoc};
use shared_model::money::Money;
use shared_model::refund::Refund;
use shared_model::sale::Sale;
use shared_model::shift::CashMovement;
use shared_model::zreport::{ZReport, ZReportInput};
use tracing::instrument;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::projection::load_document;
use crate::service::Services;

/// `?date=YYYY-MM-DD`: one business day.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BusinessDay {
    /// The business date, `YYYY-MM-DD`.
    #[param(format = Date)]
    pub date: String,
}

/// Takings of one payment method.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MethodTotalsView {
    /// `cash`, `qris`, `card`, `ewallet:<provider>`, `other:<name>`.
    pub method: String,
    /// Payments taken.
    pub count: u64,
    pub sales: String,
    pub refunds: String,
    /// Sales minus refunds.
    pub net: String,
}

/// A Z report: amounts are decimal strings.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ZTotals {
    pub sales_count: u64,
    pub refunds_count: u64,
    pub voids_count: u64,
    /// Before discounts.
    pub gross_sales: String,
    pub discounts: String,
    /// What customers owed: the sum of sale totals.
    pub sales_total: String,
    pub tax: String,
    /// Tax base (DPP).
    pub dpp: String,
    pub refunds_total: String,
    pub refunds_tax: String,
    pub cash_rounding: String,
    pub by_method: Vec<MethodTotalsView>,
    pub opening_float: String,
    pub cash_in: String,
    pub cash_out: String,
    /// Float + cash taken − cash refunded + cash in − cash out.
    pub expected_cash: String,
    /// Sum of the counted cash of the shifts; null while a shift is open or when there was none.
    pub counted_cash: Option<String>,
    /// Counted minus expected: negative when cash is missing.
    pub difference: Option<String>,
}

/// One till's Z report of the day.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TillZReport {
    pub terminal_code: String,
    pub shifts: u64,
    /// Shifts not closed yet (their cash is not counted).
    pub open_shifts: u64,
    pub report: ZTotals,
}

/// The Z report of a business day: each till's and the store's.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DayZReport {
    pub business_date: String,
    /// By terminal code.
    pub tills: Vec<TillZReport>,
    pub store: ZTotals,
}

fn amount(m: Money) -> String {
    m.0.normalize().to_string()
}

fn totals(z: &ZReport) -> ZTotals {
    ZTotals {
        sales_count: z.sales_count,
        refunds_count: z.refunds_count,
        voids_count: z.voids_count,
        gross_sales: amount(z.gross_sales),
        discounts: amount(z.discounts),
        sales_total: amount(z.sales_total),
        tax: amount(z.tax),
        dpp: amount(z.dpp),
        refunds_total: amount(z.refunds_total),
        refunds_tax: amount(z.refunds_tax),
        cash_rounding: amount(z.cash_rounding),
        by_method: z
            .by_method
            .iter()
            .map(|(method, t)| MethodTotalsView {
                method: method.clone(),
                count: t.count,
                sales: amount(t.sales),
                refunds: amount(t.refunds),
                net: amount(t.net),
            })
            .collect(),
        opening_float: amount(z.opening_float),
        cash_in: amount(z.cash_in),
        cash_out: amount(z.cash_out),
        expected_cash: amount(z.expected_cash),
        counted_cash: z.counted_cash.map(amount),
        difference: z.difference.map(amount),
    }
}

/// What the Z report of one or several journals is computed from.
#[derive(Default)]
struct DayRecords {
    sales: Vec<Sale>,
    voided: Vec<shared_model::ids::SaleId>,
    refunds: Vec<Refund>,
    cash: Vec<CashMovement>,
    opening_float: Money,
    /// Counted cash of the closed shifts.
    counted: Money,
    shifts: u64,
    open_shifts: u64,
    /// Set on the store's records when a till had no shift or an open one: its cash is not
    /// counted, so neither is the store's.
    uncounted_till: bool,
}

impl DayRecords {
    /// Adds a journal; sales the projection would skip as invalid are left out here too.
    fn add(&mut self, j: JournalDoc) -> Result<()> {
        let model = |e: shared_model::error::ModelError| Error::Internal(e.to_string());
        self.sales
            .extend(j.sales.into_values().filter(|s| s.check().is_ok()));
        self.voided.extend(j.voids.into_values().map(|v| v.sale_id));
        self.refunds.extend(j.refunds.into_values());
        self.cash.extend(j.cash_movements.into_values());
        for s in j.shifts.into_values() {
            self.shifts += 1;
            self.opening_float = self
                .opening_float
                .checked_add(s.opening_float)
                .map_err(model)?;
            match &s.close {
                Some(close) => {
                    self.counted = self
                        .counted
                        .checked_add(close.counted_cash)
                        .map_err(model)?
                }
                None => self.open_shifts += 1,
            }
        }
        Ok(())
    }

    fn report(&self) -> Result<ZReport> {
        ZReport::compute(ZReportInput {
            sales: &self.sales,
            voided: &self.voided,
            refunds: &self.refunds,
            cash_movements: &self.cash,
            opening_float: self.opening_float,
            // Like the till's: a count only when every shift is closed.
            counted_cash: (self.shifts > 0 && self.open_shifts == 0 && !self.uncounted_till)
                .then_some(self.counted),
        })
        .map_err(|e| Error::Internal(format!("z report: {e}")))
    }
}

impl Services {
    /// The Z report of business day `date`: each till's journal of that day and all together.
    #[instrument(skip_all, fields(store_id, date = %q.date))]
    pub async fn z_report(
        &self,
        who: &Principal,
        store_id: &str,
        q: &BusinessDay,
    ) -> Result<DayZReport> {
        chrono::NaiveDate::parse_from_str(&q.date, "%Y-%m-%d").map_err(|_| {
            Error::BadRequest(format!("invalid date {:?}, expected YYYY-MM-DD", q.date))
        })?;
        let tenant_id = self.readable_store(who, store_id).await?.tenant_id;
        let mut journals: Vec<_> = self
            .storage
            .store_journals(store_id)
            .await?
            .into_iter()
            .filter(|j| j.business_date == q.date)
            .collect();
        journals.sort_by(|a, b| (&a.terminal_code, &a.doc_id).cmp(&(&b.terminal_code, &b.doc_id)));
        let mut store = DayRecords::default();
        let mut tills: Vec<(String, DayRecords)> = Vec::new();
        for row in journals {
            let Some(doc) = load_document(&self.storage, &tenant_id, &row.doc_id).await? else {
                continue;
            };
            let journal: JournalDoc = documents::read(&doc).map_err(|e| {
                Error::Internal(format!("journal {} does not read: {e}", row.doc_id))
            })?;
            // A till has one journal a day; should it have two, they add up.
            let idx = match tills.iter().position(|(t, _)| *t == row.terminal_code) {
                Some(i) => i,
                None => {
                    tills.push((row.terminal_code.clone(), DayRecords::default()));
                    tills.len() - 1
                }
            };
            tills[idx].1.add(journal.clone())?;
            store.add(journal)?;
        }
        store.uncounted_till = tills
            .iter()
            .any(|(_, r)| r.shifts == 0 || r.open_shifts > 0);
        let tills = tills
            .into_iter()
            .map(|(terminal_code, r)| {
                Ok(TillZReport {
                    terminal_code,
                    shifts: r.shifts,
                    open_shifts: r.open_shifts,
                    report: totals(&r.report()?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DayZReport {
            business_date: q.date.clone(),
            tills,
            store: totals(&store.report()?),
        })
    }
}
