//! The Z report on paper: from the domain's [`ZReport`] to the printer crate's, with the
//! figures of a shift or a business day in words.

use receipt_printer::{CashCount, PaymentTotal};
use shared_model::codec::Timestamp;
use shared_model::money::Money;
use shared_model::settings::StoreSettings;
use shared_model::zreport::ZReport;

use crate::error::CoreResult;

use super::*;

/// What a printed Z report needs besides the figures.
#[derive(Debug, Clone)]
pub struct ZReportContext<'a> {
    pub settings: &'a StoreSettings,
    /// Report number, e.g. `Z-T1-261125-1` (see [`z_report_number`]).
    pub number: String,
    pub terminal_code: &'a str,
    pub business_date: chrono::NaiveDate,
    pub opened_at: Timestamp,
    pub closed_at: Timestamp,
    /// Display name of who closed the shift or day.
    pub closed_by: &'a str,
    /// First and last receipt number of the shift or day.
    pub receipt_range: Option<(String, String)>,
    pub printed_at: Timestamp,
    pub is_copy: bool,
}

/// `Z-<terminal>-<yyMMdd>` for a day, with `-<n>` for the n-th shift of the day.
pub fn z_report_number(terminal: &str, date: chrono::NaiveDate, shift: Option<u32>) -> String {
    let day = shared_model::business_day::yymmdd(date);
    match shift {
        Some(n) => format!("Z-{terminal}-{day}-{n}"),
        None => format!("Z-{terminal}-{day}"),
    }
}

/// The printed Z report of a shift or day.
///
/// Discounts and refunds print as negative figures; net sales are sales minus refunds; PPN is
/// the sales' tax minus the refunds' tax. The model keeps the tax base (DPP) of sales only, so
/// the refunds' share of it is taken in proportion to their tax (exact when one tax rule
/// applies, within a rupiah of rounding otherwise). Per method, amounts are net of refunds.
pub fn z_report(z: &ZReport, ctx: &ZReportContext<'_>) -> CoreResult<receipt_printer::ZReport> {
    let currency = ctx.settings.currency();
    let refunds_dpp = if z.tax.is_zero() {
        Money::ZERO
    } else {
        currency.round(z.dpp.0 * z.refunds_tax.0 / z.tax.0)
    };
    let tax_label = tax_labels(ctx.settings.tax_rules.iter())
        .map(|(_, t)| t)
        .unwrap_or_else(|| "PPN".into());
    let cash = z.by_method.get("cash").copied().unwrap_or_default();
    let counted = z.counted_cash.unwrap_or(Money::ZERO);
    let difference = match z.difference {
        Some(d) => d,
        None => counted.checked_sub(z.expected_cash)?,
    };
    let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(receipt_printer::ZReport {
        currency: printer_currency(&currency),
        store: store_header(ctx.settings),
        number: ctx.number.clone(),
        terminal: ctx.terminal_code.to_string(),
        business_date: ctx.business_date,
        opened_at: local_time(ctx.settings, ctx.opened_at)?,
        closed_at: local_time(ctx.settings, ctx.closed_at)?,
        closed_by: ctx.closed_by.to_string(),
        sales_count: count(z.sales_count),
        refund_count: count(z.refunds_count),
        void_count: count(z.voids_count),
        gross_sales: z.gross_sales.0,
        discounts: -z.discounts.0,
        refunds: -z.refunds_total.0,
        net_sales: z.sales_total.checked_sub(z.refunds_total)?.0,
        tax_base: z.dpp.checked_sub(refunds_dpp)?.0,
        tax: z.tax.checked_sub(z.refunds_tax)?.0,
        tax_label,
        rounding: z.cash_rounding.0,
        payments: z
            .by_method
            .iter()
            .map(|(key, m)| PaymentTotal {
                method: method_key_label(key),
                count: count(m.count),
                amount: m.net.0,
            })
            .collect(),
        cash: CashCount {
            opening_float: z.opening_float.0,
            cash_sales: cash.net.0,
            cash_in_out: z.cash_in.checked_sub(z.cash_out)?.0,
            expected: z.expected_cash.0,
            counted: counted.0,
            difference: difference.0,
        },
        receipt_range: ctx.receipt_range.clone(),
        printed_at: local_time(ctx.settings, ctx.printed_at)?,
        is_copy: ctx.is_copy,
    })
}

impl crate::Terminal {
    /// The printable Z report of a shift (closed or not), for
    /// [`crate::print_queue::PrintQueue::enqueue_z_report`].
    pub fn z_report_print_shift(
        &mut self,
        shift_id: shared_model::ids::ShiftId,
    ) -> CoreResult<receipt_printer::ZReport> {
        let settings = self.settings()?;
        let terminal = self.identity()?.terminal_code.clone();
        let shift = self.shift(shift_id)?;
        let z = self.z_report_shift(shift_id)?;
        let nth: i64 = self.conn.query_row(
            "SELECT count(*) FROM shifts WHERE terminal_code = ?1 AND business_date = ?2
               AND opened_at <= ?3",
            rusqlite::params![
                terminal,
                shift.business_date.to_string(),
                shift.opened_at.to_string()
            ],
            |r| r.get(0),
        )?;
        let range = self.receipt_range("shift_id = ?1", &shift_id.to_string())?;
        let now = Timestamp::now();
        let (closed_at, closed_by) = match &shift.close {
            Some(c) => (c.closed_at, c.closed_by),
            None => (now, shift.cashier_id),
        };
        let closer = self.user_name(closed_by);
        z_report(
            &z,
            &ZReportContext {
                settings: &settings,
                number: z_report_number(
                    &terminal,
                    shift.business_date.0,
                    Some(u32::try_from(nth.max(1)).unwrap_or(u32::MAX)),
                ),
                terminal_code: &terminal,
                business_date: shift.business_date.0,
                opened_at: shift.opened_at,
                closed_at,
                closed_by: &closer,
                receipt_range: range,
                printed_at: now,
                is_copy: false,
            },
        )
    }

    /// The printable Z report of this terminal's business day, closed by `by`.
    pub fn z_report_print_day(
        &mut self,
        date: shared_model::codec::BusinessDate,
        by: shared_model::ids::UserId,
    ) -> CoreResult<receipt_printer::ZReport> {
        let settings = self.settings()?;
        let terminal = self.identity()?.terminal_code.clone();
        let z = self.z_report_day(date)?;
        let opened_at = settings.business_day.day_start(date)?;
        let range = self.receipt_range("business_date = ?1", &date.to_string())?;
        let closer = self.user_name(by);
        let now = Timestamp::now();
        z_report(
            &z,
            &ZReportContext {
                settings: &settings,
                number: z_report_number(&terminal, date.0, None),
                terminal_code: &terminal,
                business_date: date.0,
                opened_at,
                closed_at: now,
                closed_by: &closer,
                receipt_range: range,
                printed_at: now,
                is_copy: false,
            },
        )
    }

    fn user_name(&mut self, id: shared_model::ids::UserId) -> String {
        self.user(id)
            .map(|u| u.name)
            .unwrap_or_else(|_| id.to_string().chars().take(8).collect())
    }

    /// First and last receipt number of this terminal's sales matching `cond` (with `?1` =
    /// `arg`). Numbers of one business day sort as text.
    fn receipt_range(&self, cond: &str, arg: &str) -> CoreResult<Option<(String, String)>> {
        let terminal = self.identity()?.terminal_code.clone();
        let (first, last): (Option<String>, Option<String>) = self.conn.query_row(
            &format!(
                "SELECT min(receipt_no), max(receipt_no) FROM sales
                 WHERE {cond} AND terminal_code = ?2"
            ),
            rusqlite::params![arg, terminal],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(first.zip(last))
    }
}
