//! Pricing, checkout with the durable outbox, refunds, voids and the print queue.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared_model::cart::Cart;
use shared_model::codec::{BusinessDate, Timestamp};
use shared_model::documents::{CatalogDoc, JournalDoc};
use shared_model::ids::{LineId, RefundId, SaleId, UserId, VoidId};
use shared_model::money::Quantity;
use shared_model::payment::Tender;
use shared_model::pricing::{PricedCart, PricingPolicy, price_cart};
use shared_model::promotion::Promotion;
use shared_model::receipt_number::ReceiptNumber;
use shared_model::refund::{
    OverRefund, Refund, RefundContext, build_refund, over_refunds, refunded_per_line,
};
use shared_model::sale::{Sale, SaleContext, Void};
use shared_model::shift::{CashMovement, Shift};
use tracing::{info, instrument, warn};

use crate::docs::Docs;
use crate::error::{CoreError, CoreResult};
use crate::projection;
use crate::terminal::{CRASH_AFTER_COMMIT_ENV, Terminal, has_entry, put_entry, register_doc};
use crate::users::Approval;

/// A queued print job (the printer worker of the receipt-printer issue consumes these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintJob {
    pub job_id: i64,
    /// The sale or refund id.
    pub record_id: String,
    /// `receipt` (a sale) or `refund`.
    pub kind: String,
    /// `pending`, `printing`, `done` or `failed`.
    pub status: String,
    pub attempts: u32,
    /// Reprints are marked as copies.
    pub copy: bool,
    pub last_error: Option<String>,
    pub created_at: String,
}

/// Status a print worker reports for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrintStatus {
    Pending,
    Printing,
    Done,
    Failed,
}

impl PrintStatus {
    fn as_str(self) -> &'static str {
        match self {
            PrintStatus::Pending => "pending",
            PrintStatus::Printing => "printing",
            PrintStatus::Done => "done",
            PrintStatus::Failed => "failed",
        }
    }
}

/// A refund as the cashier asks for it.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub sale_id: SaleId,
    /// Sale lines and quantities to refund; see [`Terminal::refundable_lines`] for a whole
    /// refund.
    pub lines: Vec<(LineId, Quantity)>,
    /// How the money goes back (usually cash).
    pub tenders: Vec<Tender>,
    pub reason: String,
    pub cashier: UserId,
    pub approval: Approval,
}

/// Allocates the next receipt sequence of a business day inside the caller's transaction, so
/// a rolled-back checkout gives its number back and a committed one never repeats.
pub(crate) fn next_sequence(tx: &Connection, date: BusinessDate) -> CoreResult<u32> {
    let seq: i64 = tx
        .prepare_cached(
            "INSERT INTO receipt_sequences (business_date, last_sequence) VALUES (?1, 1)
             ON CONFLICT (business_date) DO UPDATE SET last_sequence = last_sequence + 1
             RETURNING last_sequence",
        )?
        .query_row([date.to_string()], |r| r.get(0))?;
    u32::try_from(seq).map_err(|_| CoreError::SequenceExhausted(date.to_string()))
}

/// The journal document of a terminal's business day (registered on first use; the document
/// itself is created when the first entry is applied).
pub(crate) fn journal_for(
    tx: &Connection,
    terminal: &str,
    date: BusinessDate,
) -> CoreResult<String> {
    let scope = format!("{terminal}/{date}");
    let existing: Option<String> = tx
        .prepare_cached(
            "SELECT doc_id FROM documents WHERE kind = 'journal' AND scope = ?1 AND own = 1",
        )?
        .query_row([&scope], |r| r.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = crate::docs::new_document_id();
    register_doc(
        tx,
        &id,
        shared_model::documents::DocumentKind::Journal,
        &scope,
    )?;
    tx.execute("UPDATE documents SET own = 1 WHERE doc_id = ?1", [&id])?;
    Ok(id)
}

/// Queues a journal entry for its document. The entry's content is read from its query table
/// when the entry is applied (it was written there in the same transaction), so the outbox row
/// stays small.
pub(crate) fn enqueue(
    tx: &Connection,
    journal_doc: &str,
    terminal: &str,
    date: BusinessDate,
    map: &str,
    id: &str,
) -> CoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO outbox (journal_doc, terminal_code, business_date, entry_map, entry_id, data)
         VALUES (?1, ?2, ?3, ?4, ?5, '')",
    )?
    .execute(params![journal_doc, terminal, date.to_string(), map, id])?;
    Ok(())
}

/// The current content of a journal entry, from its query table.
fn entry_data(tx: &Connection, map: &str, id: &str) -> CoreResult<String> {
    let sql = match map {
        "sales" => "SELECT data FROM sales WHERE sale_id = ?1",
        "refunds" => "SELECT data FROM refunds WHERE refund_id = ?1",
        "voids" => "SELECT data FROM voids WHERE void_id = ?1",
        "shifts" => "SELECT data FROM shifts WHERE shift_id = ?1",
        "cash_movements" => "SELECT data FROM cash_movements WHERE movement_id = ?1",
        other => {
            return Err(CoreError::Corrupt(format!(
                "outbox entry for map {other:?}"
            )));
        }
    };
    tx.prepare_cached(sql)?
        .query_row([id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| CoreError::Corrupt(format!("outbox entry {map}/{id} has no record")))
}

fn enqueue_print(tx: &Connection, record_id: &str, kind: &str, copy: bool) -> CoreResult<i64> {
    let now = Timestamp::now().to_string();
    Ok(tx
        .prepare_cached(
            "INSERT INTO print_jobs (record_id, kind, copy, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4) RETURNING job_id",
        )?
        .query_row(params![record_id, kind, copy, now], |r| r.get(0))?)
}

/// Applies one outbox entry to its journal document; entries already there are left alone
/// (idempotent by id), except shifts, whose later state (closed) replaces the earlier.
fn apply_entry(
    doc: &mut automerge::AutoCommit,
    map: &str,
    id: &str,
    data: &str,
) -> CoreResult<bool> {
    if map != "shifts" && has_entry(doc, map, id)? {
        return Ok(false);
    }
    match map {
        "sales" => put_entry(doc, map, id, &serde_json::from_str::<Sale>(data)?)?,
        "refunds" => put_entry(doc, map, id, &serde_json::from_str::<Refund>(data)?)?,
        "voids" => put_entry(doc, map, id, &serde_json::from_str::<Void>(data)?)?,
        "shifts" => put_entry(doc, map, id, &serde_json::from_str::<Shift>(data)?)?,
        "cash_movements" => put_entry(doc, map, id, &serde_json::from_str::<CashMovement>(data)?)?,
        other => {
            return Err(CoreError::Corrupt(format!(
                "outbox entry for map {other:?}"
            )));
        }
    }
    Ok(true)
}

impl Terminal {
    /// The promotions of the catalog (from the query tables: pricing never loads the catalog
    /// document).
    pub fn promotions(&mut self) -> CoreResult<Vec<Promotion>> {
        if let Some(p) = &self.promotions_cache {
            return Ok(p.clone());
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM promotions ORDER BY promotion_id")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut v: Vec<Promotion> = Vec::new();
        for d in rows {
            v.push(serde_json::from_str(&d?)?);
        }
        drop(stmt);
        self.promotions_cache = Some(v.clone());
        Ok(v)
    }

    /// Adds or changes a promotion.
    pub fn save_promotion(&mut self, promo: Promotion) -> CoreResult<Promotion> {
        promo.validate()?;
        let id = self.identity()?.catalog_doc.clone();
        self.invalidate_caches();
        self.write(|tx, d| {
            let doc = d.get_mut(tx, &id)?;
            put_entry(doc, "promotions", &promo.id.to_string(), &promo)?;
            projection::upsert_promotion(tx, &promo)
        })?;
        Ok(promo)
    }

    /// Prices a cart with the store's settings and active promotions.
    pub fn price(&mut self, cart: &Cart) -> CoreResult<PricedCart> {
        let s = self.settings()?;
        let policy = PricingPolicy {
            currency: s.currency(),
            price_mode: s.price_mode,
            promotions: self.promotions()?,
        };
        Ok(price_cart(cart, &policy)?)
    }

    /// Whether the cart's discounts need a supervisor (above the store's threshold).
    pub fn needs_supervisor(&mut self, priced: &PricedCart) -> CoreResult<Option<String>> {
        let threshold = self.settings()?.supervisor_discount_percent.value();
        let pct = |off: Decimal, of: Decimal| {
            if of.is_zero() {
                if off.is_zero() {
                    Decimal::ZERO
                } else {
                    Decimal::ONE_HUNDRED
                }
            } else {
                off * Decimal::ONE_HUNDRED / of
            }
        };
        for l in &priced.lines {
            if pct(l.line_discount.0, l.base.0) > threshold {
                return Ok(Some(format!(
                    "a line discount on {} above {threshold}%",
                    l.item.name
                )));
            }
        }
        let before_cart = priced
            .totals
            .subtotal
            .checked_sub(priced.totals.line_discounts)?
            .checked_sub(priced.totals.promotion_discounts)?;
        if pct(priced.totals.cart_discount.0, before_cart.0) > threshold {
            return Ok(Some(format!("a cart discount above {threshold}%")));
        }
        Ok(None)
    }

    /// The open shift of this terminal, if any.
    pub fn open_shift(&self) -> CoreResult<Option<Shift>> {
        let terminal = self.identity()?.terminal_code.clone();
        let data: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT data FROM shifts WHERE terminal_code = ?1 AND closed_at IS NULL
                 ORDER BY opened_at DESC LIMIT 1",
            )?
            .query_row([terminal], |r| r.get(0))
            .optional()?;
        data.map(|d| serde_json::from_str(&d).map_err(CoreError::from))
            .transpose()
    }

    pub(crate) fn require_open_shift(&self) -> CoreResult<Shift> {
        self.open_shift()?.ok_or(CoreError::NoOpenShift)
    }

    /// Pays a cart. The sale, its payments, its stock movements, its print job and its outbox
    /// entry are committed in one `synchronous=FULL` transaction (with the receipt number
    /// allocated inside it) before this returns; then the sale is applied to this terminal's
    /// journal for the business day (unless deferred with [`Terminal::set_defer_journal`]).
    #[instrument(skip_all, fields(cart = %cart.id, lines = cart.lines.len()))]
    pub fn checkout(
        &mut self,
        cart: &Cart,
        tenders: &[Tender],
        cashier: UserId,
        approval: Option<&Approval>,
    ) -> CoreResult<Sale> {
        let ident = self.identity()?.clone();
        let settings = self.settings()?;
        self.active_user(cashier)?;
        let shift = self.require_open_shift()?;
        let priced = self.price(cart)?;
        if let Some(why) = self.needs_supervisor(&priced)? {
            let a = approval.ok_or(CoreError::SupervisorRequired(why.clone()))?;
            self.authorize(a, &why)?;
        }
        let now = Timestamp::now();
        let date = settings.business_day.business_date(now)?;
        let currency = settings.currency();
        let sale = self.write(|tx, _| {
            let seq = next_sequence(tx, date)?;
            let receipt_no =
                ReceiptNumber::new(&ident.store_code, &ident.terminal_code, date, seq)?;
            let ctx = SaleContext {
                id: SaleId::new(),
                receipt_no,
                created_at: now,
                cashier_id: cashier,
                shift_id: Some(shift.id),
                currency,
                price_mode: settings.price_mode,
                cash_unit: settings.cash_unit(),
            };
            let sale = Sale::checkout(priced, tenders, ctx, cart.note.clone())?;
            let journal = journal_for(tx, &ident.terminal_code, date)?;
            projection::project_sale(tx, &sale, &journal)?;
            let id = sale.id.to_string();
            enqueue(tx, &journal, &ident.terminal_code, date, "sales", &id)?;
            enqueue_print(tx, &id, "receipt", false)?;
            Ok(sale)
        })?;
        info!(receipt = %sale.receipt_no, total = %sale.total(), "sale committed");
        self.after_commit();
        Ok(sale)
    }

    /// The crash-test hook and the journal update after a committed record.
    fn after_commit(&mut self) {
        if std::env::var_os(CRASH_AFTER_COMMIT_ENV).is_some() {
            std::process::abort();
        }
        crate::print_queue::notify_jobs_queued(&self.path);
        if !self.defer_journal
            && let Err(e) = self.drain_outbox()
        {
            // The record is durable in SQLite; the outbox retries on the next call or start.
            warn!(error = %e, "journal update failed; left in the outbox");
        }
    }

    /// Leaves journal updates to explicit [`Terminal::drain_outbox`] calls (e.g. from the
    /// shell's idle loop), so checkout returns right after the SQLite commit.
    pub fn set_defer_journal(&mut self, defer: bool) {
        self.defer_journal = defer;
    }

    /// Applies every committed journal entry still waiting in the outbox to its journal
    /// document, idempotently by entry id; the document change and the removal of the entry
    /// commit together. Returns how many entries were applied.
    #[instrument(skip_all)]
    pub fn drain_outbox(&mut self) -> CoreResult<usize> {
        let store_id = self.identity()?.store_id.clone();
        let rows: Vec<(i64, String, String, String, String, String)> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT seq, journal_doc, terminal_code, business_date, entry_map, entry_id
                 FROM outbox ORDER BY seq",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        if rows.is_empty() {
            return Ok(0);
        }
        self.write(|tx, d| {
            let mut n = 0;
            for (seq, doc_id, terminal, date, map, id) in &rows {
                ensure_journal(tx, d, doc_id, &store_id, terminal, date)?;
                let data = entry_data(tx, map, id)?;
                let doc = d.get_mut(tx, doc_id)?;
                if apply_entry(doc, map, id, &data)? {
                    n += 1;
                }
                tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?
                    .execute([seq])?;
            }
            Ok(n)
        })
    }

    /// Entries committed but not yet in their journal.
    pub fn outbox_len(&self) -> CoreResult<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// A sale from the query tables (this terminal's or a peer's, once synced).
    pub fn sale(&self, id: SaleId) -> CoreResult<Sale> {
        let data: Option<String> = self
            .conn
            .prepare_cached("SELECT data FROM sales WHERE sale_id = ?1")?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?;
        let data = data.ok_or_else(|| CoreError::NotFound {
            what: "sale",
            id: id.to_string(),
        })?;
        Ok(serde_json::from_str(&data)?)
    }

    pub fn sale_by_receipt(&self, receipt_no: &str) -> CoreResult<Sale> {
        let id: Option<String> = self
            .conn
            .query_row(
                "SELECT sale_id FROM sales WHERE receipt_no = ?1",
                [receipt_no.trim()],
                |r| r.get(0),
            )
            .optional()?;
        let id = id.ok_or_else(|| CoreError::NotFound {
            what: "receipt",
            id: receipt_no.to_string(),
        })?;
        self.sale(id.parse()?)
    }

    /// The refunds of a sale known to this terminal (its own and synced peers').
    pub fn refunds_of(&self, sale: SaleId) -> CoreResult<Vec<Refund>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM refunds WHERE sale_id = ?1 ORDER BY receipt_no")?;
        let rows = stmt.query_map([sale.to_string()], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for d in rows {
            out.push(serde_json::from_str(&d?)?);
        }
        Ok(out)
    }

    pub fn is_voided(&self, sale: SaleId) -> CoreResult<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM voids WHERE sale_id = ?1")?
            .query_row([sale.to_string()], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// What is still refundable of each line of a sale (for a whole refund).
    pub fn refundable_lines(&self, sale_id: SaleId) -> CoreResult<Vec<(LineId, Quantity)>> {
        let sale = self.sale(sale_id)?;
        let done = refunded_per_line(&sale, &self.refunds_of(sale_id)?)?;
        let mut out = Vec::new();
        for l in &sale.lines {
            let before = done.get(&l.line_id).map(|r| r.quantity).unwrap_or_default();
            let left = l.quantity.checked_sub(before)?;
            if left.is_positive() {
                out.push((l.line_id, left));
            }
        }
        Ok(out)
    }

    /// Refunds (part of) a sale, offline too: never more than this terminal knows is left; an
    /// over-refund that only a merge reveals shows in [`Terminal::over_refund_flags`].
    #[instrument(skip_all, fields(sale = %req.sale_id))]
    pub fn refund(&mut self, req: RefundRequest) -> CoreResult<Refund> {
        let ident = self.identity()?.clone();
        let settings = self.settings()?;
        self.active_user(req.cashier)?;
        let shift = self.require_open_shift()?;
        let sale = self.sale(req.sale_id)?;
        if self.is_voided(sale.id)? {
            return Err(CoreError::VoidedSale(sale.receipt_no.to_string()));
        }
        let earlier = self.refunds_of(sale.id)?;
        let supervisor = self.authorize(&req.approval, "refund")?;
        let now = Timestamp::now();
        let date = settings.business_day.business_date(now)?;
        let refund = self.write(|tx, _| {
            let seq = next_sequence(tx, date)?;
            let receipt_no =
                ReceiptNumber::new(&ident.store_code, &ident.terminal_code, date, seq)?;
            let ctx = RefundContext {
                id: RefundId::new(),
                receipt_no,
                created_at: now,
                cashier_id: req.cashier,
                authorized_by: Some(supervisor.id),
                shift_id: Some(shift.id),
                cash_unit: settings.cash_unit(),
                reason: req.reason.trim().to_string(),
            };
            let refund = build_refund(&sale, &earlier, &req.lines, &req.tenders, ctx)?;
            let journal = journal_for(tx, &ident.terminal_code, date)?;
            projection::project_refund(tx, &refund, &journal)?;
            let id = refund.id.to_string();
            enqueue(tx, &journal, &ident.terminal_code, date, "refunds", &id)?;
            enqueue_print(tx, &id, "refund", false)?;
            Ok(refund)
        })?;
        info!(receipt = %refund.receipt_no, total = %refund.total, "refund committed");
        self.after_commit();
        Ok(refund)
    }

    /// Voids a sale of the open shift as a whole (supervisor PIN): its stock comes back and it
    /// leaves the Z report's totals.
    #[instrument(skip_all, fields(sale = %sale_id))]
    pub fn void_sale(
        &mut self,
        sale_id: SaleId,
        reason: &str,
        cashier: UserId,
        approval: &Approval,
    ) -> CoreResult<Void> {
        let ident = self.identity()?.clone();
        self.active_user(cashier)?;
        let shift = self.require_open_shift()?;
        let sale = self.sale(sale_id)?;
        if sale.receipt_no.terminal_code != ident.terminal_code || sale.shift_id != Some(shift.id) {
            return Err(CoreError::VoidOutsideShift {
                sale: sale.receipt_no.to_string(),
                shift: sale.shift_id.map(|s| s.to_string()).unwrap_or_default(),
            });
        }
        if self.is_voided(sale_id)? {
            return Err(CoreError::AlreadyVoided(sale.receipt_no.to_string()));
        }
        if !self.refunds_of(sale_id)?.is_empty() {
            return Err(CoreError::Invalid(format!(
                "{} has refunds; refund the rest instead of voiding",
                sale.receipt_no
            )));
        }
        if reason.trim().is_empty() {
            return Err(CoreError::Invalid("a void needs a reason".into()));
        }
        let supervisor = self.authorize(approval, "void")?;
        let void = Void {
            id: VoidId::new(),
            sale_id,
            receipt_no: sale.receipt_no.clone(),
            at: Timestamp::now(),
            by: cashier,
            authorized_by: supervisor.id,
            reason: reason.trim().to_string(),
        };
        let date = sale.business_date;
        self.write(|tx, _| {
            let journal = journal_for(tx, &ident.terminal_code, date)?;
            projection::project_void(tx, &void, &journal)?;
            let id = void.id.to_string();
            enqueue(tx, &journal, &ident.terminal_code, date, "voids", &id)?;
            Ok(())
        })?;
        self.after_commit();
        Ok(void)
    }

    /// Lines refunded beyond what was sold, visible once journals of several tills merged.
    pub fn over_refund_flags(&self) -> CoreResult<Vec<OverRefund>> {
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT DISTINCT sale_id FROM refunds ORDER BY sale_id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for id in ids {
            let id: SaleId = id.parse()?;
            let Ok(sale) = self.sale(id) else {
                continue;
            };
            out.extend(over_refunds(&sale, &self.refunds_of(id)?)?);
        }
        Ok(out)
    }

    /// Print jobs waiting for the printer worker, oldest first.
    pub fn pending_print_jobs(&self, limit: usize) -> CoreResult<Vec<PrintJob>> {
        self.print_jobs_where("status IN ('pending', 'printing')", limit)
    }

    pub fn print_jobs_for(&self, record_id: &str) -> CoreResult<Vec<PrintJob>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT job_id, record_id, kind, status, attempts, copy, last_error, created_at
             FROM print_jobs WHERE record_id = ?1 ORDER BY job_id",
        )?;
        let rows = stmt.query_map([record_id], print_job_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn print_jobs_where(&self, cond: &str, limit: usize) -> CoreResult<Vec<PrintJob>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT job_id, record_id, kind, status, attempts, copy, last_error, created_at
             FROM print_jobs WHERE {cond} ORDER BY job_id LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], print_job_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records what the printer worker did with a job.
    pub fn set_print_status(
        &mut self,
        job_id: i64,
        status: PrintStatus,
        error: Option<&str>,
    ) -> CoreResult<()> {
        let n = self.conn.execute(
            "UPDATE print_jobs SET status = ?2, last_error = ?3, updated_at = ?4,
                attempts = attempts + CASE WHEN ?2 IN ('failed', 'printing') THEN 1 ELSE 0 END
             WHERE job_id = ?1",
            params![job_id, status.as_str(), error, Timestamp::now().to_string()],
        )?;
        if n == 0 {
            return Err(CoreError::NotFound {
                what: "print job",
                id: job_id.to_string(),
            });
        }
        Ok(())
    }

    /// Queues a reprint (marked as a copy) of a sale or refund receipt.
    pub fn reprint(&mut self, record_id: &str) -> CoreResult<i64> {
        let kind: Option<String> = self
            .conn
            .query_row(
                "SELECT 'receipt' FROM sales WHERE sale_id = ?1
                 UNION ALL SELECT 'refund' FROM refunds WHERE refund_id = ?1",
                [record_id],
                |r| r.get(0),
            )
            .optional()?;
        let kind = kind.ok_or_else(|| CoreError::NotFound {
            what: "sale or refund",
            id: record_id.to_string(),
        })?;
        let tx = self.conn.transaction()?;
        let id = enqueue_print(&tx, record_id, &kind, true)?;
        tx.commit()?;
        Ok(id)
    }

    /// The journal document held for a terminal's business day, if any.
    pub fn journal(
        &mut self,
        terminal: &str,
        date: BusinessDate,
    ) -> CoreResult<Option<JournalDoc>> {
        let scope = format!("{terminal}/{date}");
        let id: Option<String> = self
            .conn
            .query_row(
                "SELECT doc_id FROM documents WHERE kind = 'journal' AND scope = ?1",
                [scope],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else { return Ok(None) };
        if !self.docs.exists(&self.conn, &id)? {
            return Ok(None);
        }
        Ok(Some(crate::docs::read(self.docs.get(&self.conn, &id)?)?))
    }

    /// The journal document id of a terminal's business day, if registered.
    pub fn journal_id(&self, terminal: &str, date: BusinessDate) -> CoreResult<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT doc_id FROM documents WHERE kind = 'journal' AND scope = ?1",
                [format!("{terminal}/{date}")],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The whole catalog document (for export or checks; large catalogs take a while).
    pub fn catalog_document(&mut self) -> CoreResult<CatalogDoc> {
        let id = self.identity()?.catalog_doc.clone();
        crate::docs::read(self.docs.get(&self.conn, &id)?)
    }

    /// Clears the query tables and rebuilds them from the documents alone.
    #[instrument(skip_all)]
    pub fn rebuild_query_tables(&mut self) -> CoreResult<usize> {
        self.drain_outbox()?;
        self.write(|tx, d| projection::rebuild(tx, d))
    }
}

fn print_job_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PrintJob> {
    Ok(PrintJob {
        job_id: r.get(0)?,
        record_id: r.get(1)?,
        kind: r.get(2)?,
        status: r.get(3)?,
        attempts: r.get(4)?,
        copy: r.get(5)?,
        last_error: r.get(6)?,
        created_at: r.get(7)?,
    })
}

/// Creates the journal document on first use.
pub(crate) fn ensure_journal(
    tx: &Transaction<'_>,
    d: &mut Docs,
    doc_id: &str,
    store_id: &str,
    terminal: &str,
    date: &str,
) -> CoreResult<()> {
    if d.exists(tx, doc_id)? {
        return Ok(());
    }
    let date: BusinessDate = date.parse()?;
    d.create(doc_id, &JournalDoc::new(store_id, terminal, date))
}
