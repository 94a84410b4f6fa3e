//! Pricing, checkout, refunds and voids: each record commits with its outbox entry
//! ([`crate::outbox`]) and its receipt's print job ([`crate::print_queue`]).

use rusqlite::{Connection, OptionalExtension};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared_model::cart::Cart;
use shared_model::codec::{BusinessDate, Timestamp};
use shared_model::documents::{CatalogDoc, JournalDoc};
use shared_model::ids::{LineId, RefundId, SaleId, UserId, VoidId};
use shared_model::money::{Money, Quantity};
use shared_model::payment::Tender;
use shared_model::pricing::{PricedCart, PricingPolicy, price_cart};
use shared_model::promotion::Promotion;
use shared_model::receipt_number::ReceiptNumber;
use shared_model::refund::{
    OverRefund, Refund, RefundContext, build_refund, over_refunds, refunded_per_line,
};
use shared_model::sale::{Sale, SaleContext, Void};
use shared_model::settings::StoreSettings;
use shared_model::shift::Shift;
use tracing::{info, instrument, warn};

use crate::docs::put_entry;
use crate::error::{CoreError, CoreResult};
use crate::outbox::{JournalEntry, enqueue, enqueue_unprojected_sale, journal_for};
use crate::print_queue;
use crate::projection;
use crate::terminal::Terminal;
use crate::users::Approval;

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

/// Why a sale needs a supervisor's PIN; shells show it in the cashier's language from `kind`
/// and its fields (JSON `{"kind": "line_discount", "product": …, "threshold": "20"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SupervisorReason {
    /// A line's discount is above the store's threshold (percent).
    LineDiscount { product: String, threshold: Decimal },
    /// The cart discount is above the store's threshold (percent).
    CartDiscount { threshold: Decimal },
}

impl std::fmt::Display for SupervisorReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SupervisorReason::LineDiscount { product, threshold } => {
                write!(f, "a line discount on {product} above {threshold}%")
            }
            SupervisorReason::CartDiscount { threshold } => {
                write!(f, "a cart discount above {threshold}%")
            }
        }
    }
}

/// Why `priced` needs a supervisor under a discount threshold (percent), if it does.
fn supervisor_reason(
    priced: &PricedCart,
    threshold: Decimal,
) -> CoreResult<Option<SupervisorReason>> {
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
            return Ok(Some(SupervisorReason::LineDiscount {
                product: l.item.name.clone(),
                threshold,
            }));
        }
    }
    let before_cart = priced
        .totals
        .subtotal
        .checked_sub(priced.totals.line_discounts)?
        .checked_sub(priced.totals.promotion_discounts)?;
    if pct(priced.totals.cart_discount.0, before_cart.0) > threshold {
        return Ok(Some(SupervisorReason::CartDiscount { threshold }));
    }
    Ok(None)
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
        self.price_with(cart, &s)
    }

    /// [`Terminal::price`] with the settings the caller already read.
    fn price_with(&mut self, cart: &Cart, s: &StoreSettings) -> CoreResult<PricedCart> {
        let policy = PricingPolicy {
            currency: s.currency(),
            price_mode: s.price_mode,
            promotions: self.promotions()?,
        };
        Ok(price_cart(cart, &policy)?)
    }

    /// Whether the cart's discounts need a supervisor (above the store's threshold).
    pub fn needs_supervisor(
        &mut self,
        priced: &PricedCart,
    ) -> CoreResult<Option<SupervisorReason>> {
        let threshold = self.settings()?.supervisor_discount_percent.value();
        supervisor_reason(priced, threshold)
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

    /// The open shift, kept between calls until the next write (a checkout would otherwise
    /// read and parse the shift's row every time).
    pub(crate) fn require_open_shift(&mut self) -> CoreResult<Shift> {
        if let Some(shift) = &self.open_shift_cache {
            return Ok(shift.clone());
        }
        let shift = self.open_shift()?.ok_or(CoreError::NoOpenShift)?;
        self.open_shift_cache = Some(shift.clone());
        Ok(shift)
    }

    /// Pays a cart. The sale is committed whole, as its outbox row, in one `synchronous=FULL`
    /// transaction (with the receipt number allocated inside it) before this returns; then
    /// its query-table rows (payments, stock movements) and print job are written and it is
    /// applied to this terminal's journal for the business day, unless deferred with
    /// [`Terminal::set_defer_journal`] (see [`Terminal::project_committed_sales`]).
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
        let priced = self.price_with(cart, &settings)?;
        let threshold = settings.supervisor_discount_percent.value();
        if let Some(why) = supervisor_reason(&priced, threshold)? {
            let a = approval.ok_or(CoreError::SupervisorRequired(why.clone()))?;
            self.authorize(a, &why.to_string())?;
        }
        let now = Timestamp::now();
        let date = settings.business_day.business_date(now)?;
        let currency = settings.currency();
        // `commit`, not `write`: no earlier sale is projected first (a checkout reads none) and
        // no WAL checkpoint is taken before it, so the cashier waits for the sale's own pages
        // only (see `Terminal::checkpoint_if_due`).
        let sale = self.commit(|tx, _| {
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
            enqueue_unprojected_sale(tx, &journal, &ident.terminal_code, &sale)?;
            Ok(sale)
        })?;
        info!(receipt = %sale.receipt_no, total = %sale.total(), "sale committed");
        self.after_checkout_commit();
        Ok(sale)
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

    /// What refunding `lines` of `sale_id` comes to, as [`Terminal::refund`] would count it.
    pub fn refund_total(&self, sale_id: SaleId, lines: &[(LineId, Quantity)]) -> CoreResult<Money> {
        let sale = self.sale(sale_id)?;
        let earlier = self.refunds_of(sale_id)?;
        let probe = RefundContext {
            id: RefundId::new(),
            receipt_no: sale.receipt_no.clone(),
            created_at: Timestamp::now(),
            cashier_id: sale.cashier_id,
            authorized_by: None,
            shift_id: None,
            cash_unit: None,
            reason: "total".into(),
        };
        // Paid in cash of the sale's whole total, which no refund of it exceeds.
        let refund = build_refund(&sale, &earlier, lines, &[Tender::cash(sale.total())], probe)?;
        Ok(refund.total)
    }

    /// Refunds (part of) a sale, offline too: never more than this terminal knows is left; an
    /// over-refund that only a merge reveals shows in [`Terminal::over_refund_flags`].
    #[instrument(skip_all, fields(sale = %req.sale_id))]
    pub fn refund(&mut self, req: RefundRequest) -> CoreResult<Refund> {
        self.project_committed_sales()?;
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
            enqueue(
                tx,
                &journal,
                &ident.terminal_code,
                date,
                JournalEntry::Refund(refund.id),
            )?;
            print_queue::queue_receipt(tx, &id, "refund")?;
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
        self.project_committed_sales()?;
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
            enqueue(
                tx,
                &journal,
                &ident.terminal_code,
                date,
                JournalEntry::Void(void.id),
            )?;
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
        Ok(shared_model::documents::catalog_entries::read_catalog(
            self.docs.get(&self.conn, &id)?,
        )?)
    }

    /// Clears the query tables and rebuilds them from the documents alone.
    #[instrument(skip_all)]
    pub fn rebuild_query_tables(&mut self) -> CoreResult<usize> {
        self.drain_outbox()?;
        self.write(|tx, d| projection::rebuild(tx, d))
    }
}
