//! The outbox: journal entries committed to SQLite and not yet in their journal document.
//!
//! A use-case (refund, void, shift, cash movement) writes its record to the query tables and
//! one outbox row in the same transaction; [`Terminal::drain_outbox`] then applies the row to
//! the journal of its terminal and business day, idempotently by id, and deletes it in the
//! journal change's transaction. What is written and what is replayed is one enum,
//! [`JournalEntry`], so a new kind of entry cannot be written without being replayable.
//!
//! Checkout commits less: its `synchronous=FULL` transaction writes the receipt number and one
//! outbox row that holds the whole sale, and nothing else, so the cashier waits for a few pages
//! and one fsync. [`Terminal::project_committed_sales`] then writes the sale's query-table rows
//! (sale, lines, payments, stock movements) and queues its receipt in a transaction of its own,
//! clearing the row's copy; a crash in between is mended on the next open, which projects first.

use automerge::AutoCommit;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use shared_model::codec::BusinessDate;
use shared_model::documents::{DocumentKind, JournalDoc};
use shared_model::ids::{CashMovementId, RefundId, SaleId, ShiftId, VoidId};
use shared_model::refund::Refund;
use shared_model::sale::{Sale, Void};
use shared_model::shift::{CashMovement, Shift};
use tracing::{instrument, warn};

use crate::docs::{self, Docs, has_entry, put_entry, register_doc};
use crate::error::{CoreError, CoreResult};
use crate::terminal::{CRASH_AFTER_COMMIT_ENV, Terminal};

/// One journal entry waiting in the outbox: the journal map it goes to and its record's id.
/// The serde names are the strings stored in `outbox.entry_map` since schema 1 (and the
/// journal's map names), so outboxes written by older builds replay unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "entry_map", content = "entry_id")]
pub(crate) enum JournalEntry {
    #[serde(rename = "sales")]
    Sale(SaleId),
    #[serde(rename = "refunds")]
    Refund(RefundId),
    #[serde(rename = "voids")]
    Void(VoidId),
    #[serde(rename = "shifts")]
    Shift(ShiftId),
    #[serde(rename = "cash_movements")]
    CashMovement(CashMovementId),
}

impl JournalEntry {
    /// `(entry_map, entry_id)` as stored in the outbox row: the serde names (checked against
    /// serde by `stored_entry_maps_are_unchanged`), written out here because every checkout
    /// enqueues one entry and a JSON round trip per entry costs more than the rest of it.
    fn columns(&self) -> (&'static str, String) {
        match self {
            JournalEntry::Sale(id) => ("sales", id.to_string()),
            JournalEntry::Refund(id) => ("refunds", id.to_string()),
            JournalEntry::Void(id) => ("voids", id.to_string()),
            JournalEntry::Shift(id) => ("shifts", id.to_string()),
            JournalEntry::CashMovement(id) => ("cash_movements", id.to_string()),
        }
    }

    /// The entry an outbox row holds.
    fn from_columns(map: &str, id: &str) -> CoreResult<JournalEntry> {
        serde_json::from_value(serde_json::json!({ "entry_map": map, "entry_id": id }))
            .map_err(|e| CoreError::Corrupt(format!("outbox entry {map}/{id}: {e}")))
    }

    /// Applies the entry to its journal document, with the record's current content from its
    /// query table. Entries already there are left alone (idempotent by id), except shifts,
    /// whose later state (closed) replaces the earlier. Returns whether the journal changed.
    fn apply(&self, tx: &Connection, doc: &mut AutoCommit) -> CoreResult<bool> {
        let (map, id) = self.columns();
        if !matches!(self, JournalEntry::Shift(_)) && has_entry(doc, map, &id)? {
            return Ok(false);
        }
        let id = id.as_str();
        match self {
            JournalEntry::Sale(_) => {
                let sale: Sale = record(tx, "SELECT data FROM sales WHERE sale_id = ?1", map, id)?;
                shared_model::documents::raise_schema(
                    doc,
                    shared_model::documents::SCHEMA_VERSION,
                )?;
                put_entry(doc, map, id, &sale)?
            }
            JournalEntry::Refund(_) => {
                let refund: Refund =
                    record(tx, "SELECT data FROM refunds WHERE refund_id = ?1", map, id)?;
                put_entry(doc, map, id, &refund)?
            }
            JournalEntry::Void(_) => {
                let void: Void = record(tx, "SELECT data FROM voids WHERE void_id = ?1", map, id)?;
                put_entry(doc, map, id, &void)?
            }
            JournalEntry::Shift(_) => {
                let shift: Shift =
                    record(tx, "SELECT data FROM shifts WHERE shift_id = ?1", map, id)?;
                put_entry(doc, map, id, &shift)?
            }
            JournalEntry::CashMovement(_) => {
                let movement: CashMovement = record(
                    tx,
                    "SELECT data FROM cash_movements WHERE movement_id = ?1",
                    map,
                    id,
                )?;
                put_entry(doc, map, id, &movement)?
            }
        }
        Ok(true)
    }
}

/// The current content of a journal entry's record, from its query table.
fn record<T: DeserializeOwned>(tx: &Connection, sql: &str, map: &str, id: &str) -> CoreResult<T> {
    let data: String = tx
        .prepare_cached(sql)?
        .query_row([id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| CoreError::Corrupt(format!("outbox entry {map}/{id} has no record")))?;
    Ok(serde_json::from_str(&data)?)
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
    let id = docs::new_document_id();
    register_doc(tx, &id, DocumentKind::Journal, &scope)?;
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
    entry: JournalEntry,
) -> CoreResult<()> {
    insert_row(tx, journal_doc, terminal, date, entry, "")
}

/// Queues a sale checkout committed without its query-table rows: the row holds the sale
/// itself until [`Terminal::project_committed_sales`] writes those rows.
pub(crate) fn enqueue_unprojected_sale(
    tx: &Connection,
    journal_doc: &str,
    terminal: &str,
    sale: &Sale,
) -> CoreResult<()> {
    let data = serde_json::to_string(sale)?;
    let entry = JournalEntry::Sale(sale.id);
    insert_row(tx, journal_doc, terminal, sale.business_date, entry, &data)
}

fn insert_row(
    tx: &Connection,
    journal_doc: &str,
    terminal: &str,
    date: BusinessDate,
    entry: JournalEntry,
    data: &str,
) -> CoreResult<()> {
    let (map, id) = entry.columns();
    tx.prepare_cached(
        "INSERT INTO outbox (journal_doc, terminal_code, business_date, entry_map, entry_id, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        journal_doc,
        terminal,
        date.to_string(),
        map,
        id,
        data
    ])?;
    Ok(())
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

impl Terminal {
    /// After a committed refund or void: the crash-test hook, the print workers' wake-up,
    /// then [`Terminal::drain_quietly`].
    pub(crate) fn after_commit(&mut self) {
        crash_test_hook();
        crate::print_queue::notify_jobs_queued(&self.path);
        self.drain_quietly();
    }

    /// After checkout's commit: the crash-test hook, then [`Terminal::drain_quietly`], which
    /// projects the sale (and wakes the print workers) unless deferred.
    pub(crate) fn after_checkout_commit(&mut self) {
        self.unprojected_sales = true;
        crash_test_hook();
        self.drain_quietly();
    }

    /// After a committed journal record: the projection of committed sales and the journal
    /// update (unless deferred), then the sync client's nudge, so the record leaves for the
    /// server at once.
    pub(crate) fn drain_quietly(&mut self) {
        if !self.defer_journal
            && let Err(e) = self.drain_outbox()
        {
            // The record is durable in SQLite; the outbox retries on the next call or start.
            warn!(error = %e, "journal update failed; left in the outbox");
        }
        self.nudge_sync();
    }

    /// Leaves the projection of committed sales and journal updates to explicit
    /// [`Terminal::drain_outbox`] calls (e.g. from the shell's idle loop), so checkout returns
    /// right after its SQLite commit. Until then a sale is durable but not in the query tables
    /// (sales, stock, reports) nor in the print queue: a shell that defers calls
    /// [`Terminal::project_committed_sales`] before anything else it asks of the terminal.
    /// Writes project first by themselves.
    pub fn set_defer_journal(&mut self, defer: bool) {
        self.defer_journal = defer;
    }

    /// Projects the sales checkout committed (each held whole by its outbox row) into the
    /// query tables and queues their receipts, in one transaction, then wakes the print
    /// workers. Each row's copy of its sale is cleared in the same transaction, so a sale is
    /// projected and printed once. Returns how many; costs nothing when none wait.
    #[instrument(skip_all)]
    pub fn project_committed_sales(&mut self) -> CoreResult<usize> {
        let rows = self.unprojected_rows()?;
        if !rows.is_empty() {
            self.transact(|tx, _| project_rows(tx, &rows))?;
        }
        self.projected(rows.len());
        Ok(rows.len())
    }

    /// The outbox rows that still hold their sale (none asked when none can).
    fn unprojected_rows(&self) -> CoreResult<Vec<UnprojectedRow>> {
        if !self.unprojected_sales {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, journal_doc, data FROM outbox WHERE data <> '' ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| r.try_into())?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// After `n` unprojected sales committed in the query tables (and the print queue).
    fn projected(&mut self, n: usize) {
        self.unprojected_sales = false;
        if n > 0 {
            crate::print_queue::notify_jobs_queued(&self.path);
        }
    }

    /// Applies every committed journal entry still waiting in the outbox to its journal
    /// document, idempotently by entry id; the document change and the removal of the entry
    /// commit together, in one transaction with the projection of the sales checkout
    /// committed ([`Terminal::project_committed_sales`]). Returns how many entries were
    /// applied. When the journal update fails, the sales are still projected on their own.
    #[instrument(skip_all)]
    pub fn drain_outbox(&mut self) -> CoreResult<usize> {
        let store_id = self.identity()?.store_id.clone();
        let unprojected = self.unprojected_rows()?;
        let rows: Vec<(i64, String, String, String, String, String)> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT seq, journal_doc, terminal_code, business_date, entry_map, entry_id
                 FROM outbox ORDER BY seq",
            )?;
            let rows = stmt.query_map([], |r| r.try_into())?;
            rows.collect::<Result<_, _>>()?
        };
        if rows.is_empty() {
            return Ok(0);
        }
        let drained = self.transact(|tx, d| {
            project_rows(tx, &unprojected)?;
            let mut n = 0;
            for (seq, doc_id, terminal, date, map, id) in &rows {
                let entry = JournalEntry::from_columns(map, id)?;
                ensure_journal(tx, d, doc_id, &store_id, terminal, date)?;
                if entry.apply(tx, d.get_mut(tx, doc_id)?)? {
                    n += 1;
                }
                tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?
                    .execute([seq])?;
            }
            Ok(n)
        });
        match drained {
            Ok(n) => {
                self.projected(unprojected.len());
                Ok(n)
            }
            Err(e) => {
                // The till must still see its sales: they go into the query tables alone,
                // and their journal entries wait in the outbox for the next drain.
                if !unprojected.is_empty()
                    && let Err(p) = self.project_committed_sales()
                {
                    warn!(error = %p, "projecting committed sales failed too");
                }
                Err(e)
            }
        }
    }

    /// Entries committed but not yet in their journal.
    pub fn outbox_len(&self) -> CoreResult<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))?
            as u64)
    }
}

/// An outbox row that still holds its sale: `(seq, journal_doc, data)`.
type UnprojectedRow = (i64, String, String);

/// Writes the query-table rows and the print job of each sale `rows` hold, and clears each
/// row's copy of its sale.
fn project_rows(tx: &Connection, rows: &[UnprojectedRow]) -> CoreResult<()> {
    for (seq, journal_doc, data) in rows {
        let sale: Sale = serde_json::from_str(data)
            .map_err(|e| CoreError::Corrupt(format!("outbox row {seq} holds no sale: {e}")))?;
        crate::projection::project_sale(tx, &sale, journal_doc)?;
        crate::print_queue::queue_receipt(tx, &sale.id.to_string(), "receipt")?;
        tx.prepare_cached("UPDATE outbox SET data = '' WHERE seq = ?1")?
            .execute([seq])?;
    }
    Ok(())
}

/// The crash tests' abort right after a commit ([`CRASH_AFTER_COMMIT_ENV`]).
fn crash_test_hook() {
    if std::env::var_os(CRASH_AFTER_COMMIT_ENV).is_some() {
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strings older builds stored in `outbox.entry_map` read back as the same entries.
    #[test]
    fn stored_entry_maps_are_unchanged() {
        let id = "0192f0a4-7b1e-7c3d-9a2b-3c4d5e6f7a8b";
        for (map, entry) in [
            ("sales", JournalEntry::Sale(id.parse().unwrap())),
            ("refunds", JournalEntry::Refund(id.parse().unwrap())),
            ("voids", JournalEntry::Void(id.parse().unwrap())),
            ("shifts", JournalEntry::Shift(id.parse().unwrap())),
            (
                "cash_movements",
                JournalEntry::CashMovement(id.parse().unwrap()),
            ),
        ] {
            assert_eq!(JournalEntry::from_columns(map, id).unwrap(), entry);
            assert_eq!(entry.columns(), (map, id.to_string()));
            let serde_form = serde_json::to_value(entry).unwrap();
            assert_eq!(serde_form["entry_map"], map);
            assert_eq!(serde_form["entry_id"], id);
        }
        assert!(matches!(
            JournalEntry::from_columns("stock", id),
            Err(CoreError::Corrupt(_))
        ));
    }
}
