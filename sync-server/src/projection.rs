//! Projection of documents into relational rows (pure: a document in, rows
//! out), and the worker that keeps the tables up to date as chunks arrive.
//! A document's rows are replaced record by record (the worker writes only the
//! records that changed since it last projected the document, `ProjectedRecords`;
//! `admin reproject` replaces them all), so projecting is idempotent and
//! `admin reproject` rebuilds everything from the stored documents.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::{AutoCommit, Automerge, ChangeHash, ReadDoc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use shared_model::documents::{
    self, DocumentKind, JournalDoc, ParkedCartsDoc, SettingsDoc, StockAdjustmentsDoc, UsersDoc,
};
use shared_model::sale::Sale;
use tokio::sync::Notify;

use crate::error::{Error, Result};
use crate::storage::{DocClaim, DynStorage, RecordChanges, RecordKey};
// The rows are storage's models; re-exported so `projection::ProjectedDoc` etc. keep resolving.
pub use crate::storage::models::{
    CashMovementRow, ConflictRow, NameRow, PaymentRow, ProductRow, ProjectedDoc, RefundLineRow,
    RefundRow, SaleLineRow, SaleRow, SettingsRow, ShiftRow, StockMovementRow, VoidDetail,
};

/// Scale of `*_e4` columns.
const SCALE: i64 = 10_000;

/// An exact decimal as an integer scaled by 10^4; fails on overflow or more
/// than four decimal places.
pub fn e4(d: Decimal) -> Result<i64, String> {
    let scaled = d
        .checked_mul(Decimal::from(SCALE))
        .ok_or("amount overflows")?;
    if scaled.fract() != Decimal::ZERO {
        return Err(format!("{d} has more than 4 decimal places"));
    }
    scaled.to_i64().ok_or_else(|| format!("{d} overflows"))
}

/// Inverse of [`e4`].
pub fn from_e4(v: i64) -> Decimal {
    Decimal::new(v, 4).normalize()
}

fn conflict_row(c: &shared_model::conflicts::Conflict) -> Result<ConflictRow, String> {
    let detail = serde_json::to_string(c).map_err(|e| e.to_string())?;
    let kind = serde_json::from_str::<serde_json::Value>(&detail)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
        .unwrap_or_default();
    Ok(ConflictRow {
        key: c.key(),
        kind,
        detail,
    })
}

fn ms(t: &shared_model::codec::Timestamp) -> i64 {
    t.0.timestamp_millis()
}

/// Rows of a loaded document, `None` for kinds that have no tables (store
/// root, settings, users, ...). `store_id` is the store the document's claim
/// belongs to; a document naming another store is refused.
pub fn project(
    doc_id: &str,
    store_id: &str,
    doc: &(impl ReadDoc + autosurgeon::ReadDoc),
) -> Result<Option<ProjectedDoc>, String> {
    let Some(kind) = DocumentKind::of(doc) else {
        return Ok(None);
    };
    let mut out = ProjectedDoc {
        doc_id: doc_id.to_string(),
        store_id: store_id.to_string(),
        kind: kind.as_str().to_string(),
        ..ProjectedDoc::default()
    };
    let check_store = |s: &str| {
        if s == store_id {
            Ok(())
        } else {
            Err(format!("document names store {s}, claimed by {store_id}"))
        }
    };
    match kind {
        DocumentKind::Journal => {
            let j: JournalDoc = documents::materialize::read(doc).map_err(|e| e.to_string())?;
            check_store(&j.store_id)?;
            journal_rows(doc_id, &j, &mut out)?;
        }
        DocumentKind::StockAdjustments => {
            let a: StockAdjustmentsDoc = documents::read(doc).map_err(|e| e.to_string())?;
            check_store(&a.store_id)?;
            for m in a.movements.values() {
                out.stock_movements.push(stock_row(m)?);
            }
            // A count's delta is a movement too (terminals count it the same way).
            for c in a.counts.values() {
                out.stock_movements
                    .push(stock_row(&c.movement().map_err(|e| e.to_string())?)?);
            }
        }
        DocumentKind::Catalog => {
            let c = documents::catalog_entries::read_catalog(doc).map_err(|e| e.to_string())?;
            check_store(&c.store_id)?;
            for cat in c.categories.values() {
                out.names.push(NameRow {
                    kind: "category".into(),
                    id: cat.id.to_string(),
                    name: cat.name.clone(),
                });
            }
            for conflict in shared_model::conflicts::catalog_conflicts(&c) {
                out.conflicts.push(conflict_row(&conflict)?);
            }
            for p in c.products.values() {
                out.products.push(ProductRow {
                    id: p.id.to_string(),
                    sku: p.sku.clone(),
                    name: p.name.clone(),
                    category_id: p.category_id.map(|c| c.to_string()),
                    price_e4: e4(p.price.0)?,
                    low_stock_threshold_e4: p.low_stock_threshold.map(|q| e4(q.0)).transpose()?,
                    active: p.active,
                });
            }
        }
        DocumentKind::Settings => {
            let s: SettingsDoc = documents::read(doc).map_err(|e| e.to_string())?;
            check_store(&s.store_id)?;
            let day = &s.settings.business_day;
            day.validate().map_err(|e| e.to_string())?;
            out.settings = Some(SettingsRow {
                time_zone: day.time_zone.clone(),
                cutoff_hour: i64::from(day.cutoff_hour),
            });
        }
        DocumentKind::ParkedCarts => {
            let p: ParkedCartsDoc = documents::read(doc).map_err(|e| e.to_string())?;
            check_store(&p.store_id)?;
            for conflict in shared_model::conflicts::parked_cart_conflicts(&p) {
                out.conflicts.push(conflict_row(&conflict)?);
            }
        }
        DocumentKind::Users => {
            let u: UsersDoc = documents::read(doc).map_err(|e| e.to_string())?;
            check_store(&u.store_id)?;
            for user in u.users.values() {
                out.names.push(NameRow {
                    kind: "user".into(),
                    id: user.id.to_string(),
                    name: user.name.clone(),
                });
            }
        }
        _ => return Ok(None),
    }
    Ok(Some(out))
}

/// The sales a journal gained after `before` (the heads it was last projected at), when new
/// sales are all that changed in it; `None` when anything else did (a void, a refund, a shift,
/// the journal's header, a sale already there), when `before` is not in its history, or when a
/// sale does not read (the whole projection then reports it). Only the changes since `before`
/// are looked at, not the document: each of their operations must make a new entry of the
/// `sales` map (overwriting nothing: a sale's JSON, or a schema 1 sale's map) or be inside an
/// object those changes made. Whether a key
/// is new to the tables is the caller's to check: a sale put again under a key already
/// projected is a change to an old record.
pub fn sales_added_since(doc: &Automerge, before: &[ChangeHash]) -> Option<BTreeMap<String, Sale>> {
    use automerge::legacy::{Key, ObjectId, OpId, OpType};
    if before.is_empty() || !documents::has_changes(doc, before) {
        return None;
    }
    let (_, sales) = doc.get(automerge::ROOT, "sales").ok()??;
    let automerge::ObjId::Id(counter, actor, _) = &sales else {
        return None;
    };
    let sales_map = OpId(*counter, actor.clone());
    // The objects the changes made: a new sale, and everything inside it.
    let mut made: HashSet<OpId> = HashSet::new();
    let mut keys = BTreeSet::new();
    for change in doc.get_changes(before) {
        let change = change.decode();
        for (i, op) in change.operations.iter().enumerate() {
            let id = OpId(change.start_op.get() + i as u64, change.actor_id.clone());
            let ObjectId::Id(obj) = &op.obj else {
                return None;
            };
            let makes = matches!(op.action, OpType::Make(_));
            if made.contains(obj) {
                if makes {
                    made.insert(id);
                }
                continue;
            }
            // A new entry of `sales`: a sale's JSON (schema 2), or the map a schema 1 till makes.
            let new_sale = op.pred.is_empty()
                && *obj == sales_map
                && (makes || matches!(op.action, OpType::Put(_)));
            match (&op.key, new_sale) {
                (Key::Map(key), true) => {
                    keys.insert(key.to_string());
                    made.insert(id);
                }
                _ => return None,
            }
        }
    }
    keys.into_iter()
        .map(|key| {
            let sale = documents::materialize::entry(doc, &sales, &key).ok()??;
            Some((key, sale))
        })
        .collect()
}

/// The rows of a journal's `sales` alone (its voids are read too, so that a voided sale keeps
/// its void): the projection of a journal that only gained sales. An error here (another kind
/// of document, too new a schema, another store) sends the caller to the whole projection,
/// which reports it.
pub fn project_sales(
    doc_id: &str,
    store_id: &str,
    doc: &Automerge,
    sales: BTreeMap<String, Sale>,
) -> Result<ProjectedDoc, String> {
    let kind = documents::root_str(doc, "kind");
    if kind.as_deref() != Some(DocumentKind::Journal.as_str()) {
        return Err(format!("not a journal: {kind:?}"));
    }
    let header =
        |key: &str| documents::root_str(doc, key).ok_or_else(|| format!("journal has no {key}"));
    let schema: u64 = autosurgeon::hydrate_prop(doc, automerge::ROOT, "schema_version")
        .map_err(|e| e.to_string())?;
    if schema > documents::SCHEMA_VERSION {
        return Err(format!("schema version {schema} is newer than this build"));
    }
    let mut j = JournalDoc::new(
        &header("store_id")?,
        &header("terminal_code")?,
        header("business_date")?
            .parse()
            .map_err(|e| format!("journal date: {e}"))?,
    );
    if j.store_id != store_id {
        return Err(format!(
            "document names store {}, claimed by {store_id}",
            j.store_id
        ));
    }
    j.voids = documents::materialize::entry(doc, &automerge::ROOT, "voids")
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    j.sales.extend(sales);
    let mut out = ProjectedDoc {
        doc_id: doc_id.to_string(),
        store_id: store_id.to_string(),
        kind: DocumentKind::Journal.as_str().to_string(),
        ..ProjectedDoc::default()
    };
    journal_rows(doc_id, &j, &mut out)?;
    Ok(out)
}

/// The rows of the sales a journal of `claim`'s gained since `before` ([`sales_added_since`],
/// [`project_sales`]); `None` when it gained anything else. One step for both copies the
/// projector reads: the sync repo's live one and one loaded from storage.
fn added_rows(
    doc: &Automerge,
    claim: &DocClaim,
    store_id: &str,
    before: &[ChangeHash],
) -> Option<ProjectedDoc> {
    let sales = sales_added_since(doc, before)?;
    let mut rows = project_sales(&claim.doc_id, store_id, doc, sales).ok()?;
    rows.tenant_id = claim.tenant_id.clone();
    Some(rows)
}

/// The rows of a journal's sales, refunds, shifts, cash and stock movements, into `out`.
fn journal_rows(doc_id: &str, j: &JournalDoc, out: &mut ProjectedDoc) -> Result<(), String> {
    let voids: BTreeMap<String, VoidDetail> = j
        .voids
        .values()
        .map(|v| {
            let detail = VoidDetail {
                at: ms(&v.at),
                reason: v.reason.clone(),
                authorized_by: v.authorized_by.to_string(),
            };
            (v.sale_id.to_string(), detail)
        })
        .collect();
    for sale in j.sales.values() {
        if let Err(e) = sale.check() {
            tracing::warn!(doc_id, sale = %sale.id, error = %e, "invalid sale skipped");
            continue;
        }
        let id = sale.id.to_string();
        out.sales.push(SaleRow {
            id: id.clone(),
            terminal_code: j.terminal_code.clone(),
            business_date: sale.business_date.0.to_string(),
            created_at: ms(&sale.created_at),
            cashier_id: sale.cashier_id.to_string(),
            receipt_no: sale.receipt_no.to_string(),
            total_e4: e4(sale.total().0)?,
            tax_e4: e4(sale.totals.tax.tax.0)?,
            discount_e4: e4(sale.totals.discount_total().map_err(|e| e.to_string())?.0)?,
            voided: voids.contains_key(&id),
            void: voids.get(&id).cloned(),
            receipt_token: sale.receipt_token.clone(),
        });
        for (i, l) in sale.lines.iter().enumerate() {
            out.sale_lines.push(SaleLineRow {
                sale_id: id.clone(),
                line_no: i as i64,
                line_id: l.line_id.to_string(),
                product_id: l.item.product_id.to_string(),
                sku: l.item.sku.clone(),
                name: l.item.name.clone(),
                category_id: l.item.category_id.map(|c| c.to_string()),
                quantity_e4: e4(l.quantity.0)?,
                amount_e4: e4(l.amount.0)?,
                tax_e4: e4(l.tax.tax.0)?,
            });
        }
        for (i, p) in sale.settlement.payments.iter().enumerate() {
            out.payments.push(PaymentRow {
                sale_id: id.clone(),
                seq: i as i64,
                method: p.method.key(),
                amount_e4: e4(p.amount.0)?,
            });
        }
    }
    for r in j.refunds.values() {
        for (i, l) in r.lines.iter().enumerate() {
            out.refund_lines.push(RefundLineRow {
                refund_id: r.id.to_string(),
                seq: i as i64,
                sale_id: r.sale_id.to_string(),
                sale_line_id: l.sale_line_id.to_string(),
                quantity_e4: e4(l.quantity.0)?,
            });
        }
        out.refunds.push(RefundRow {
            id: r.id.to_string(),
            receipt_no: r.receipt_no.to_string(),
            sale_id: r.sale_id.to_string(),
            terminal_code: j.terminal_code.clone(),
            business_date: r.business_date.0.to_string(),
            created_at: ms(&r.created_at),
            total_e4: e4(r.total.0)?,
            tax_e4: e4(r.tax.0)?,
        });
    }
    for s in j.shifts.values() {
        let close = s.close.as_ref();
        out.shifts.push(ShiftRow {
            id: s.id.to_string(),
            terminal_code: s.terminal_code.clone(),
            cashier_id: s.cashier_id.to_string(),
            business_date: s.business_date.0.to_string(),
            opened_at: ms(&s.opened_at),
            closed_at: close.map(|c| ms(&c.closed_at)),
            opening_float_e4: e4(s.opening_float.0)?,
            expected_cash_e4: close.map(|c| e4(c.expected_cash.0)).transpose()?,
            counted_cash_e4: close.map(|c| e4(c.counted_cash.0)).transpose()?,
            difference_e4: close.map(|c| e4(c.difference.0)).transpose()?,
        });
    }
    for c in j.cash_movements.values() {
        out.cash_movements.push(CashMovementRow {
            id: c.id.to_string(),
            shift_id: c.shift_id.to_string(),
            direction: c.direction.as_str().to_string(),
            amount_e4: e4(c.amount.0)?,
            at: ms(&c.at),
        });
    }
    for m in j.all_stock_movements() {
        let mut row = stock_row(&m)?;
        row.terminal_code = Some(j.terminal_code.clone());
        out.stock_movements.push(row);
    }
    Ok(())
}

fn stock_row(m: &shared_model::stock::StockMovement) -> Result<StockMovementRow, String> {
    Ok(StockMovementRow {
        id: m.id.to_string(),
        product_id: m.product_id.to_string(),
        kind: m.kind.as_str().to_string(),
        quantity_e4: e4(m.quantity.0)?,
        at: ms(&m.at),
        reference: m.reference.clone(),
        terminal_code: None,
    })
}

/// Loads a document of `tenant` from its stored chunks (snapshots and incremental changes).
pub async fn load_document(
    storage: &DynStorage,
    tenant: &str,
    doc_id: &str,
) -> Result<Option<AutoCommit>> {
    let chunks = storage.load_chunk_range(tenant, doc_id).await?;
    if chunks.is_empty() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    // Snapshots first, then incremental changes.
    for (_, v) in chunks.iter().filter(|(k, _)| k.contains("/snapshot/")) {
        bytes.extend_from_slice(v);
    }
    for (_, v) in chunks.iter().filter(|(k, _)| !k.contains("/snapshot/")) {
        bytes.extend_from_slice(v);
    }
    blocking("load task", move || {
        let mut doc = AutoCommit::new();
        doc.load_incremental(&bytes)
            .map(|_| doc)
            .map_err(|e| Error::Internal(format!("stored document does not load: {e}")))
    })
    .await?
    .map(Some)
}

/// Projects one stored document, replacing all its rows; returns whether it had rows.
pub async fn project_stored(storage: &DynStorage, doc_id: &str) -> Result<bool> {
    project_stored_with(storage, doc_id, None).await
}

/// What this instance last projected of each document: the `projected_at` it wrote, each
/// record's fingerprint and the document's heads. A document's next projection writes only the
/// records whose fingerprint changed (a journal's new sale, not the day's sales before it), and
/// a journal that only gained sales since those heads reads only the new ones
/// ([`sales_added_since`]), from the live copy the sync repo holds when there is one; unless
/// another projection of it came in between. Lost on restart: the first projection after is
/// whole.
#[derive(Debug, Default)]
struct ProjectedRecords(Mutex<HashMap<String, LastProjection>>);

/// A document's last projection by this instance.
#[derive(Debug)]
struct LastProjection {
    /// The `projected_at` it wrote.
    at: i64,
    fingerprints: HashMap<RecordKey, u64>,
    /// The document's heads it projected.
    heads: Vec<ChangeHash>,
    /// The document's claim (claims never change): its next projection needs no lookup.
    claim: DocClaim,
}

impl ProjectedRecords {
    /// Documents remembered at most; past it the memory starts again (their next projection is
    /// whole).
    const MAX_DOCS: usize = 100_000;

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, LastProjection>> {
        self.0.lock().expect("projected records lock")
    }

    fn changes(&self, doc_id: &str, now: &HashMap<RecordKey, u64>) -> Option<RecordChanges> {
        let known = self.lock();
        let last = known.get(doc_id)?;
        Some(RecordChanges {
            base_projected_at: last.at,
            unchanged: now
                .iter()
                .filter(|(k, f)| last.fingerprints.get(*k) == Some(*f))
                .map(|(k, _)| k.clone())
                .collect(),
            gone: last
                .fingerprints
                .keys()
                .filter(|k| !now.contains_key(*k))
                .cloned()
                .collect(),
        })
    }

    /// The heads of the document's last projection.
    fn heads(&self, doc_id: &str) -> Option<Vec<ChangeHash>> {
        self.lock().get(doc_id).map(|l| l.heads.clone())
    }

    /// The claim and heads of the document's last projection.
    fn claim_and_heads(&self, doc_id: &str) -> Option<(DocClaim, Vec<ChangeHash>)> {
        self.lock()
            .get(doc_id)
            .map(|l| (l.claim.clone(), l.heads.clone()))
    }

    /// The `projected_at` of the last projection, which the records of `added` are added to
    /// when none of them is in it (`None` otherwise, or when nothing is remembered).
    fn additions(&self, doc_id: &str, added: &ProjectedDoc) -> Option<i64> {
        let known = self.lock();
        let last = known.get(doc_id)?;
        let new = added
            .record_keys()
            .all(|k| !last.fingerprints.contains_key(&k));
        new.then_some(last.at)
    }

    fn remember(&self, doc_id: &str, last: LastProjection) {
        let mut known = self.lock();
        if known.len() >= Self::MAX_DOCS && !known.contains_key(doc_id) {
            known.clear();
        }
        known.insert(doc_id.to_string(), last);
    }

    /// Adds the records of an incremental projection to the document's last one.
    fn remember_added(
        &self,
        doc_id: &str,
        at: i64,
        heads: Vec<ChangeHash>,
        added: HashMap<RecordKey, u64>,
    ) {
        if let Some(last) = self.lock().get_mut(doc_id) {
            last.at = at;
            last.heads = heads;
            last.fingerprints.extend(added);
        }
    }

    fn remembers(&self, doc_id: &str) -> bool {
        self.lock().contains_key(doc_id)
    }

    fn forget(&self, doc_id: &str) {
        self.lock().remove(doc_id);
    }
}

/// Writes a document's rows: only the changed records when `known` remembers its last
/// projection and nobody projected it since, else all of them.
async fn write_rows(
    storage: &DynStorage,
    rows: &ProjectedDoc,
    claim: DocClaim,
    heads: Vec<ChangeHash>,
    known: Option<&ProjectedRecords>,
) -> Result<()> {
    let Some(known) = known else {
        storage.project_doc(rows).await?;
        return Ok(());
    };
    let now = rows.record_fingerprints();
    let delta = match known.changes(&rows.doc_id, &now) {
        Some(changes) => storage.project_doc_changes(rows, &changes).await,
        None => Ok(None),
    };
    let at = match delta {
        Ok(Some(at)) => Ok(at),
        Ok(None) => storage.project_doc(rows).await,
        Err(e) => Err(e),
    }
    .inspect_err(|_| known.forget(&rows.doc_id))?;
    known.remember(
        &rows.doc_id,
        LastProjection {
            at,
            fingerprints: now,
            heads,
            claim,
        },
    );
    Ok(())
}

/// Writes journals' new sales ([`project_sales`]) read since this instance's last projection
/// of each, up to [`ADDITIONS_PER_TRANSACTION`] journals in one transaction
/// ([`crate::storage::ProjectionStorage::project_additions`]), and remembers them; returns the
/// journals written. The rest are the caller's to project whole: a journal with a record
/// already projected or projected by another since, and those of a transaction that failed
/// (forgotten, so that their next projection is whole).
async fn write_additions(
    storage: &DynStorage,
    known: &ProjectedRecords,
    read: Vec<(ProjectedDoc, Vec<ChangeHash>)>,
) -> HashSet<String> {
    let mut docs = Vec::new();
    let mut heads = Vec::new();
    for (added, after) in read {
        if let Some(base) = known.additions(&added.doc_id, &added) {
            docs.push((added, base));
            heads.push(after);
        }
    }
    let mut done = HashSet::new();
    for (docs, heads) in docs
        .chunks(ADDITIONS_PER_TRANSACTION)
        .zip(heads.chunks(ADDITIONS_PER_TRANSACTION))
    {
        match storage.project_additions(docs).await {
            Ok(ats) => {
                for (((added, _), after), at) in docs.iter().zip(heads).zip(ats) {
                    let Some(at) = at else { continue };
                    known.remember_added(
                        &added.doc_id,
                        at,
                        after.clone(),
                        added.record_fingerprints(),
                    );
                    done.insert(added.doc_id.clone());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, documents = docs.len(), "journals' new sales not written; each is projected whole");
                for (added, _) in docs {
                    known.forget(&added.doc_id);
                }
            }
        }
    }
    done
}

/// Runs `f` on the blocking pool; `what` names the task in the error if it panics.
async fn blocking<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("{what}: {e}")))
}

async fn project_stored_with(
    storage: &DynStorage,
    doc_id: &str,
    projector: Option<&Projector>,
) -> Result<bool> {
    let known_copy = match projector {
        Some(projector) => projector.known_live_copy(doc_id).await?,
        None => None,
    };
    if matches!(known_copy, Some(LiveCopy::Foreign)) {
        return Ok(false);
    }
    let Some(claim) = storage.doc_claim(doc_id).await? else {
        return Ok(false);
    };
    if let Some(projector) = projector {
        let copy = match known_copy {
            Some(copy) => copy,
            None => projector.live_copy(&claim).await?,
        };
        match copy {
            LiveCopy::Foreign => return Ok(false),
            LiveCopy::Held(doc, heads) => {
                projector
                    .live_projections
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return project_whole(storage, claim, *doc, heads, Some(&projector.known)).await;
            }
            LiveCopy::None => {}
        }
    }
    let known = projector.map(|p| &p.known);
    let Some(doc) = load_document(storage, &claim.tenant_id, doc_id).await? else {
        return Ok(false);
    };
    // A journal that only gained sales since its last projection, with no live copy here to
    // read them from: only the new sales are read and written, so that a day's 500th sale costs
    // what its first did.
    let last_heads = known.and_then(|k| k.heads(doc_id));
    let claim_now = claim.clone();
    let (doc, heads, added) = blocking("projection task", move || {
        let mut doc = doc;
        let heads = doc.get_heads();
        let added = last_heads.and_then(|before| {
            let store = claim_now.store_id.as_deref()?;
            added_rows(doc.document(), &claim_now, store, &before)
        });
        (doc, heads, added)
    })
    .await?;
    if let (Some(added), Some(known)) = (added, known)
        && !write_additions(storage, known, vec![(added, heads.clone())])
            .await
            .is_empty()
    {
        return Ok(true);
    }
    project_whole(storage, claim, doc, heads, known).await
}

/// The whole projection of one copy of a document at `heads` (loaded from storage, or a clone
/// of its sync repo's live copy): its store found, its store-index entry recorded and its rows
/// written; whether it had rows.
async fn project_whole<D>(
    storage: &DynStorage,
    claim: DocClaim,
    doc: D,
    heads: Vec<ChangeHash>,
    known: Option<&ProjectedRecords>,
) -> Result<bool>
where
    D: ReadDoc + autosurgeon::ReadDoc + Send + Sync + 'static,
{
    let doc_id = claim.doc_id.as_str();
    // Tenant-wide documents name their store; it must belong to the tenant.
    let store_id = match &claim.store_id {
        Some(s) => s.clone(),
        None => match doc_store_id(&doc) {
            Some(s)
                if storage
                    .store(&s)
                    .await?
                    .is_some_and(|st| st.tenant_id == claim.tenant_id) =>
            {
                s
            }
            _ => return Ok(false),
        },
    };
    // A journal's index row never changes (its terminal and date are fixed when the till makes
    // it), and a document this instance projected before was indexed before: a till's every
    // sale need not write it again.
    let is_journal = DocumentKind::of(&doc) == Some(DocumentKind::Journal);
    if !(is_journal && known.is_some_and(|k| k.remembers(doc_id))) {
        crate::store_index::record(storage, doc_id, &store_id, &doc).await?;
    }
    let id = doc_id.to_string();
    let projected = blocking("projection task", move || project(&id, &store_id, &doc)).await?;
    match projected {
        Ok(Some(mut rows)) => {
            rows.tenant_id = claim.tenant_id.clone();
            write_rows(storage, &rows, claim, heads, known).await?;
            Ok(true)
        }
        Ok(None) => Ok(false),
        Err(reason) => {
            tracing::warn!(doc_id, %reason, "document not projected");
            Ok(false)
        }
    }
}

fn doc_store_id(doc: &impl ReadDoc) -> Option<String> {
    shared_model::documents::root_str(doc, "store_id")
}

/// Rebuilds every projection from the stored documents; returns how many
/// documents had rows.
pub async fn reproject_all(storage: &DynStorage) -> Result<usize> {
    let mut n = 0;
    for doc_id in storage.chunk_doc_ids().await? {
        if project_stored(storage, &doc_id).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// Documents projected at once with a pool of `max_connections`: a projection waits mostly on
/// the database's round trips, which the database serves in parallel. Half the pool, leaving the
/// rest to the sync path and the API; three of SQLite's four connections (one is enough for the
/// sync path there: SQLite writes one at a time). 100 new journals at once (tills back from a
/// day offline) were projected 3 at a time on PostgreSQL's 16 before.
fn projection_concurrency(max_connections: u32) -> usize {
    let n = max_connections as usize;
    (n / 2).max(n.saturating_sub(1).min(3)).max(1)
}

/// How long the projector gathers changes at most before it projects them: a till's burst of
/// sales is one projection, not one per sale. Measured against gathering from the first change
/// not yet taken (so that what arrived during a batch is not held 100 ms more): that made 100
/// offline tills' journals 5% faster to project and cost live journals 8% more server CPU.
const GATHER: Duration = Duration::from_millis(100);

/// A gathering ends early once no change has been marked for this long ([`gather`]). 100 tills
/// back from a day offline store their journals within a few tens of milliseconds and then
/// nothing more comes: waiting out the rest of [`GATHER`] was a fifth of the time until their
/// sales were in the reports (`ingest-bench --offline`). Changes that keep coming (tills
/// selling) still gather for the whole of [`GATHER`].
const QUIET: Duration = Duration::from_millis(10);

/// Journals whose new sales are written in one transaction at most
/// ([`Projector::project_added_live`]): a batch of 1,000 tills' sales is two transactions.
const ADDITIONS_PER_TRANSACTION: usize = 500;

/// Waits while changes keep being marked (each wakes `marked`): until none has come for
/// `quiet`, and at most `max`.
async fn gather(marked: &Notify, quiet: Duration, max: Duration) {
    let deadline = tokio::time::Instant::now() + max;
    // The deadline is checked on its own: a mark already waiting makes `notified` ready at once,
    // and marks that keep coming would otherwise never let the timeout fire.
    while tokio::time::Instant::now() < deadline {
        let until = deadline.min(tokio::time::Instant::now() + quiet);
        if tokio::time::timeout_at(until, marked.notified())
            .await
            .is_err()
        {
            return;
        }
    }
}

/// The pause before the projector tries again the documents of a batch that failed.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Finds the live copy of a document in this instance's sync repos
/// ([`crate::sync::Repos::live_document`]).
pub struct LiveDocuments(pub Box<FindLive>);

/// The lookup [`LiveDocuments`] holds: a claim in, the document's handle out when its repo
/// holds it.
pub type FindLive = dyn Fn(&DocClaim) -> Option<samod::DocHandle> + Send + Sync;

impl std::fmt::Debug for LiveDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveDocuments")
    }
}

/// A document's live copy, as the projector found it.
#[derive(Debug)]
enum LiveCopy {
    /// No live copy in this instance's repos.
    None,
    /// Not a document of ours: nothing of it is projected or indexed.
    Foreign,
    /// A copy of it, at these heads.
    Held(Box<Automerge>, Vec<ChangeHash>),
}

/// Documents waiting for projection, fed by the storage adapter.
#[derive(Debug, Default)]
pub struct Projector {
    dirty: Mutex<BTreeSet<String>>,
    notify: Notify,
    known: ProjectedRecords,
    /// Set once the repos exist; without it every document is read from storage.
    live: std::sync::OnceLock<LiveDocuments>,
    /// The live copies looked up so far, kept: samod keeps each search's subscriber until the
    /// document next changes, so a repo is searched once per document, not once per projection.
    handles: Mutex<HashMap<String, samod::DocHandle>>,
    /// Projections made from a live copy (its new sales, or a copy of it whole), without a load
    /// from storage.
    live_projections: std::sync::atomic::AtomicU64,
    /// Documents passed over because their live copy is not a document of ours.
    passed_over: std::sync::atomic::AtomicU64,
}

impl Projector {
    /// Lets the projector read documents from the sync repos' live copies (set once; the
    /// repos are built after the projector they feed).
    pub fn read_live_documents_with(&self, live: LiveDocuments) {
        let _ = self.live.set(live);
    }

    /// The journals of `batch` this instance projected before that only gained sales since,
    /// read from the live copies its sync repos hold: their new sales' rows are written, all of
    /// them in one transaction ([`crate::storage::ProjectionStorage::project_additions`]),
    /// without loading or copying a journal (a 300-sale journal loads in tens of milliseconds;
    /// its live copy is already in memory) and without a lookup of its claim. Returns the
    /// documents done; the rest need their own projection. A journal's live copy holds at least
    /// what this instance stored of it; what it lacks (another instance's latest changes) that
    /// instance projects, and a projection by it in between passes the journal over here.
    async fn project_added_live(
        &self,
        storage: &DynStorage,
        batch: &BTreeSet<String>,
        concurrency: usize,
    ) -> HashSet<String> {
        use futures::StreamExt;
        let candidates: Vec<_> = batch
            .iter()
            .filter_map(|doc_id| {
                let (claim, before) = self.known.claim_and_heads(doc_id)?;
                let store_id = claim.store_id.clone()?;
                let handle = self.live_handle(&claim)?;
                Some((claim, store_id, before, handle))
            })
            .collect();
        // A journal that gained anything else than sales (or whose task failed) is left to
        // its own projection below.
        let read: Vec<(ProjectedDoc, Vec<ChangeHash>)> = futures::stream::iter(candidates)
            .map(|(claim, store_id, before, handle)| {
                blocking("projection task", move || {
                    handle.with_document(|doc| {
                        let added = added_rows(doc, &claim, &store_id, &before)?;
                        Some((added, doc.get_heads()))
                    })
                })
            })
            .buffer_unordered(concurrency)
            .filter_map(|read| std::future::ready(read.ok().flatten()))
            .collect()
            .await;
        let done = write_additions(storage, &self.known, read).await;
        self.live_projections
            .fetch_add(done.len() as u64, std::sync::atomic::Ordering::Relaxed);
        done
    }

    /// How many projections were made from a live copy, without a load from storage.
    pub fn live_projections(&self) -> u64 {
        self.live_projections
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A copy of a document's live copy in this instance's sync repo, taken under the repo's
    /// lock (automerge copies its columns; nothing is parsed or applied) and read outside it:
    /// a whole projection needs no load from storage, which reads every chunk and applies
    /// every change again (a till's new journal, back from a day offline, is projected whole
    /// once). The live copy holds at least what this instance stored; what another instance
    /// stored first, that instance projects. A document that is not one of ours (no `kind`,
    /// or one this server does not know: another web product's document) is passed over
    /// without a copy, and is not loaded from storage to find that out again on each change.
    async fn live_copy(&self, claim: &DocClaim) -> Result<LiveCopy> {
        match self.live_handle(claim) {
            Some(handle) => self.copy_of(handle).await,
            None => Ok(LiveCopy::None),
        }
    }

    /// [`Self::live_copy`] of a document whose live copy was found before, read before its
    /// claim: another web product's document is then passed over without a lookup of its claim
    /// in the database, which such a document changing all day would otherwise cost on every
    /// projection. `None` when its live copy was not found before.
    async fn known_live_copy(&self, doc_id: &str) -> Result<Option<LiveCopy>> {
        let Some(handle) = self.lock_handles().get(doc_id).cloned() else {
            return Ok(None);
        };
        self.copy_of(handle).await.map(Some)
    }

    /// The copy [`Self::live_copy`] takes from a live document's handle.
    async fn copy_of(&self, handle: samod::DocHandle) -> Result<LiveCopy> {
        let copy = blocking("projection task", move || {
            handle.with_document(|doc| {
                if DocumentKind::of(doc).is_none() {
                    return LiveCopy::Foreign;
                }
                let heads = doc.get_heads();
                LiveCopy::Held(Box::new(doc.clone()), heads)
            })
        })
        .await?;
        if matches!(copy, LiveCopy::Foreign) {
            self.passed_over
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(copy)
    }

    /// How many projections were passed over because the document is not one of ours.
    pub fn passed_over(&self) -> u64 {
        self.passed_over.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The live copy of a document, looked up once.
    fn live_handle(&self, claim: &DocClaim) -> Option<samod::DocHandle> {
        if let Some(handle) = self.lock_handles().get(&claim.doc_id) {
            return Some(handle.clone());
        }
        let handle = (self.live.get()?.0)(claim)?;
        let mut handles = self.lock_handles();
        if handles.len() >= ProjectedRecords::MAX_DOCS {
            handles.clear();
        }
        handles.insert(claim.doc_id.clone(), handle.clone());
        Some(handle)
    }

    fn lock_handles(&self) -> std::sync::MutexGuard<'_, HashMap<String, samod::DocHandle>> {
        self.handles.lock().expect("projector handles lock")
    }

    /// Marks a document changed.
    pub fn mark(&self, doc_id: &str) {
        self.dirty
            .lock()
            .expect("projector lock")
            .insert(doc_id.to_string());
        self.notify.notify_one();
    }

    /// Projects dirty documents until the process ends; batches changes that arrive close
    /// together ([`gather`]) and projects each batch ([`Self::project_batch`]).
    pub async fn run(self: Arc<Self>, storage: DynStorage) {
        let concurrency = projection_concurrency(storage.max_connections());
        loop {
            self.notify.notified().await;
            gather(&self.notify, QUIET, GATHER).await;
            let batch = std::mem::take(&mut *self.dirty.lock().expect("projector lock"));
            let failed = self.project_batch(&storage, batch, concurrency).await;
            for (doc_id, e) in &failed {
                tracing::error!(doc_id, error = %e, "projection failed; will retry in a second");
            }
            // A document that failed (a busy database) is tried again after a pause, not only
            // when its next change arrives: its sales would otherwise wait for the till's next.
            if !failed.is_empty() {
                tokio::time::sleep(RETRY_PAUSE).await;
                self.notify.notify_one();
            }
        }
    }

    /// Projects a batch of documents: first the journals that only gained sales, together
    /// ([`Self::project_added_live`]), then each of the rest on its own, several at once
    /// ([`projection_concurrency`]; each is its own transaction on its own rows; a document is
    /// in a batch once). The documents that failed are marked dirty again, and returned with
    /// their errors.
    async fn project_batch(
        &self,
        storage: &DynStorage,
        batch: BTreeSet<String>,
        concurrency: usize,
    ) -> Vec<(String, Error)> {
        use futures::StreamExt;
        let done = self.project_added_live(storage, &batch, concurrency).await;
        let failed = Mutex::new(Vec::new());
        futures::stream::iter(batch.into_iter().filter(|d| !done.contains(d)))
            .for_each_concurrent(concurrency, |doc_id| {
                let failed = &failed;
                async move {
                    if let Err(e) = project_stored_with(storage, &doc_id, Some(self)).await {
                        self.dirty
                            .lock()
                            .expect("projector lock")
                            .insert(doc_id.clone());
                        failed
                            .lock()
                            .expect("failed projections lock")
                            .push((doc_id, e));
                    }
                }
            })
            .await;
        failed.into_inner().expect("failed projections lock")
    }

    /// Projects whatever is dirty now (tests, shutdown); the first failure is returned (the
    /// documents that failed stay dirty).
    pub async fn flush(&self, storage: &DynStorage) -> Result<()> {
        let batch = std::mem::take(&mut *self.dirty.lock().expect("projector lock"));
        let concurrency = projection_concurrency(storage.max_connections());
        match self
            .project_batch(storage, batch, concurrency)
            .await
            .into_iter()
            .next()
        {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marks `marked` `times` times, `every` apart, from a task of its own.
    fn mark_every(
        marked: &Arc<Notify>,
        every: Duration,
        times: usize,
    ) -> tokio::task::JoinHandle<()> {
        let marker = marked.clone();
        tokio::spawn(async move {
            for _ in 0..times {
                tokio::time::sleep(every).await;
                marker.notify_one();
            }
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_gathering_ends_once_the_changes_stop() {
        let marked = Arc::new(Notify::new());
        let marks = mark_every(&marked, Duration::from_millis(4), 3);
        let started = tokio::time::Instant::now();
        gather(&marked, QUIET, GATHER).await;
        // The last mark came at 12 ms; nothing for QUIET after it.
        assert_eq!(started.elapsed(), Duration::from_millis(12) + QUIET);
        marks.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn changes_that_keep_coming_are_gathered_for_at_most_the_whole_window() {
        let marked = Arc::new(Notify::new());
        let marks = mark_every(&marked, QUIET / 2, 100);
        let started = tokio::time::Instant::now();
        gather(&marked, QUIET, GATHER).await;
        assert_eq!(started.elapsed(), GATHER);
        marks.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_mark_already_waiting_does_not_hold_a_gathering_past_its_window() {
        let marked = Notify::new();
        marked.notify_one();
        let started = tokio::time::Instant::now();
        gather(&marked, QUIET, GATHER).await;
        assert_eq!(started.elapsed(), QUIET);
    }

    #[test]
    fn projections_take_half_the_pool_and_leave_sqlite_one_connection() {
        assert_eq!(projection_concurrency(16), 8);
        assert_eq!(projection_concurrency(4), 3);
        assert_eq!(projection_concurrency(2), 1);
        assert_eq!(projection_concurrency(1), 1);
    }

    #[test]
    fn e4_is_exact() {
        assert_eq!(e4(Decimal::new(12345, 2)).unwrap(), 1_234_500);
        assert_eq!(from_e4(1_234_500), Decimal::new(12345, 2));
        assert!(e4(Decimal::new(1, 5)).is_err());
        assert!(e4(Decimal::MAX).is_err());
    }
}
