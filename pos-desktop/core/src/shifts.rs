//! Shifts: open with a float, cash in/out, close with counted cash; Z reports per shift and per
//! business day.

use rusqlite::params;
use shared_model::codec::{BusinessDate, Timestamp};
use shared_model::ids::{SaleId, ShiftId, UserId};
use shared_model::money::Money;
use shared_model::refund::Refund;
use shared_model::sale::Sale;
use shared_model::shift::{CashDirection, CashMovement, Shift};
use shared_model::zreport::{ZReport, ZReportInput};
use tracing::instrument;

use crate::error::{CoreError, CoreResult};
use crate::outbox::{JournalEntry, enqueue, journal_for};
use crate::projection;
use crate::terminal::Terminal;

fn load_all<T: serde::de::DeserializeOwned>(
    conn: &rusqlite::Connection,
    sql: &str,
    arg: &str,
) -> CoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([arg], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for d in rows {
        out.push(serde_json::from_str(&d?)?);
    }
    Ok(out)
}

impl Terminal {
    /// Opens a shift on this terminal with the cash float in the drawer.
    #[instrument(skip_all)]
    pub fn start_shift(&mut self, cashier: UserId, opening_float: Money) -> CoreResult<Shift> {
        let ident = self.identity()?.clone();
        let settings = self.settings()?;
        self.active_user(cashier)?;
        if let Some(open) = self.open_shift()? {
            return Err(CoreError::ShiftAlreadyOpen(open.id.to_string()));
        }
        settings.currency().parse_amount(opening_float.0)?;
        let now = Timestamp::now();
        let date = settings.business_day.business_date(now)?;
        let shift = Shift::open(&ident.terminal_code, cashier, date, now, opening_float)?;
        self.record_shift(&shift)?;
        Ok(shift)
    }

    fn record_shift(&mut self, shift: &Shift) -> CoreResult<()> {
        let ident = self.identity()?.clone();
        let date = shift.business_date;
        self.write(|tx, _| {
            let journal = journal_for(tx, &ident.terminal_code, date)?;
            projection::project_shift(tx, shift, &journal)?;
            enqueue(
                tx,
                &journal,
                &ident.terminal_code,
                date,
                JournalEntry::Shift(shift.id),
            )
        })?;
        self.drain_quietly();
        Ok(())
    }

    /// Cash put into or taken out of the drawer outside a sale.
    #[instrument(skip_all, fields(direction = ?direction))]
    pub fn cash_movement(
        &mut self,
        direction: CashDirection,
        amount: Money,
        reason: &str,
        by: UserId,
    ) -> CoreResult<CashMovement> {
        let ident = self.identity()?.clone();
        let settings = self.settings()?;
        self.active_user(by)?;
        let shift = self.require_open_shift()?;
        settings.currency().parse_amount(amount.0)?;
        let m = CashMovement::new(shift.id, direction, amount, reason, by, Timestamp::now())?;
        let date = shift.business_date;
        self.write(|tx, _| {
            let journal = journal_for(tx, &ident.terminal_code, date)?;
            projection::project_cash_movement(tx, &m, &journal)?;
            enqueue(
                tx,
                &journal,
                &ident.terminal_code,
                date,
                JournalEntry::CashMovement(m.id),
            )
        })?;
        self.drain_quietly();
        Ok(m)
    }

    /// Closes the open shift with the cash counted in the drawer; returns its Z report.
    #[instrument(skip_all)]
    pub fn close_shift(&mut self, counted_cash: Money, by: UserId) -> CoreResult<(Shift, ZReport)> {
        // The expected cash counts every sale checkout committed.
        self.project_committed_sales()?;
        let settings = self.settings()?;
        self.active_user(by)?;
        let mut shift = self.require_open_shift()?;
        settings.currency().parse_amount(counted_cash.0)?;
        let z = self.z_report_shift(shift.id)?;
        shift.close(counted_cash, z.expected_cash, by, Timestamp::now())?;
        self.record_shift(&shift)?;
        let z = self.z_report_shift(shift.id)?;
        Ok((shift, z))
    }

    pub fn shift(&self, id: ShiftId) -> CoreResult<Shift> {
        load_all::<Shift>(
            &self.conn,
            "SELECT data FROM shifts WHERE shift_id = ?1",
            &id.to_string(),
        )?
        .pop()
        .ok_or_else(|| CoreError::NotFound {
            what: "shift",
            id: id.to_string(),
        })
    }

    /// The Z report of a shift.
    pub fn z_report_shift(&self, id: ShiftId) -> CoreResult<ZReport> {
        let shift = self.shift(id)?;
        self.z_report_of(&[shift])
    }

    /// The Z report of this terminal's business day: every shift that started in it.
    pub fn z_report_day(&self, date: BusinessDate) -> CoreResult<ZReport> {
        let terminal = self.identity()?.terminal_code.clone();
        let shifts: Vec<Shift> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT data FROM shifts WHERE business_date = ?1 AND terminal_code = ?2",
            )?;
            let rows = stmt.query_map(params![date.to_string(), terminal], |r| {
                r.get::<_, String>(0)
            })?;
            let mut v = Vec::new();
            for d in rows {
                v.push(serde_json::from_str::<Shift>(&d?)?);
            }
            v
        };
        self.z_report_of(&shifts)
    }

    /// The Z report over the given shifts: their sales, refunds and cash movements, the sum of
    /// their floats, and the sum of their counted cash when every one of them is closed.
    fn z_report_of(&self, shifts: &[Shift]) -> CoreResult<ZReport> {
        let mut sales: Vec<Sale> = Vec::new();
        let mut refunds: Vec<Refund> = Vec::new();
        let mut cash: Vec<CashMovement> = Vec::new();
        let mut float = Money::ZERO;
        let mut counted = Some(Money::ZERO);
        for s in shifts {
            let key = s.id.to_string();
            sales.extend(load_all::<Sale>(
                &self.conn,
                "SELECT data FROM sales WHERE shift_id = ?1",
                &key,
            )?);
            refunds.extend(load_all::<Refund>(
                &self.conn,
                "SELECT data FROM refunds WHERE shift_id = ?1",
                &key,
            )?);
            cash.extend(load_all::<CashMovement>(
                &self.conn,
                "SELECT data FROM cash_movements WHERE shift_id = ?1",
                &key,
            )?);
            float = float.checked_add(s.opening_float)?;
            counted = match (counted, &s.close) {
                (Some(c), Some(close)) => Some(c.checked_add(close.counted_cash)?),
                _ => None,
            };
        }
        if shifts.is_empty() {
            counted = None;
        }
        let voided = self.voided_among(&sales)?;
        Ok(ZReport::compute(ZReportInput {
            sales: &sales,
            voided: &voided,
            refunds: &refunds,
            cash_movements: &cash,
            opening_float: float,
            counted_cash: counted,
        })?)
    }

    fn voided_among(&self, sales: &[Sale]) -> CoreResult<Vec<SaleId>> {
        let mut out = Vec::new();
        for s in sales {
            if self.is_voided(s.id)? {
                out.push(s.id);
            }
        }
        Ok(out)
    }
}
