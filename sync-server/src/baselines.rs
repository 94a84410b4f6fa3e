//! Stock baselines (DESIGN.md: one per store per business day, written by the server): the
//! stock on hand of every product at the close of a business day, and which documents, at which
//! heads, it includes.
//!
//! For a closed business date `D` (before the store's current business date in its time zone)
//! that has journals and comes after the newest baseline written, the baseline includes every
//! journal of the store dated `D` or earlier and every stock-adjustments document, each at its
//! current stored heads; `on_hand` is the sum of exactly those documents' stock movements at
//! exactly those heads, with the rules the terminal uses for its `stock_movements` rows (sales,
//! refunds and own movements through `JournalDoc::all_stock_movements`; adjustments' movements
//! and counts' deltas). A terminal (`project_baseline` in pos-core) marks the movements present
//! at those heads as in the baseline and adds the rest, so both sides agree.
//!
//! The document is claimed for the store, created through the repo, and then linked from the
//! store root as `latest_baseline` (claimed *before* it exists: see
//! [`DocWriter::create_for_store`]). `stock_baselines` records each (store, date): inserting the row
//! elects one writer among instances; an election whose writer never finished is taken over after
//! [`STALE_AFTER_MS`].

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use automerge::AutoCommit;
use serde::Serialize;
use shared_model::codec::{BusinessDate, Timestamp};
use shared_model::documents::{
    self, IncludedDoc, JournalDoc, SettingsDoc, StockAdjustmentsDoc, StockBaselineDoc, StoreRootDoc,
};
use shared_model::money::Quantity;
use shared_model::stock::StockMovement;

use crate::documents_writer::DocWriter;
use crate::error::{Error, Result};
use crate::projection::load_document;
use crate::state::AppState;
use crate::storage::{DynStorage, StoreRootRow};
use crate::sync::RepoKey;
use shared_model::wire::url as url_of;

/// An elected writer that has not finished after this long is replaced.
pub const STALE_AFTER_MS: i64 = 10 * 60 * 1000;

/// A baseline this call wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrittenBaseline {
    pub store_id: String,
    pub business_date: String,
    pub doc_id: String,
    /// Documents it includes.
    pub included: usize,
    pub products: usize,
}

fn model(e: shared_model::ModelError) -> Error {
    Error::Internal(e.to_string())
}

/// The stock movements of a loaded journal or adjustments document, as the terminal counts them.
pub fn movements_of(doc: &AutoCommit) -> Result<Vec<StockMovement>> {
    match documents::DocumentKind::of(doc) {
        Some(documents::DocumentKind::Journal) => {
            let j: JournalDoc = documents::read(doc).map_err(model)?;
            Ok(j.all_stock_movements())
        }
        Some(documents::DocumentKind::StockAdjustments) => {
            let a: StockAdjustmentsDoc = documents::read(doc).map_err(model)?;
            let mut out: Vec<StockMovement> = a.movements.into_values().collect();
            for c in a.counts.values() {
                out.push(c.movement().map_err(model)?);
            }
            Ok(out)
        }
        other => Err(Error::Internal(format!(
            "not a journal or adjustments document: {:?}",
            other.map(documents::DocumentKind::as_str)
        ))),
    }
}

/// Computes a baseline of `doc_ids` at their current stored heads (the heads are those of the
/// very copy the movements are read from).
pub async fn compute(
    storage: &DynStorage,
    tenant_id: &str,
    store_id: &str,
    business_date: BusinessDate,
    doc_ids: &[String],
) -> Result<StockBaselineDoc> {
    let mut baseline = StockBaselineDoc::new(store_id, business_date);
    let mut on_hand: HashMap<String, Quantity> = HashMap::new();
    for id in doc_ids {
        let Some(mut doc) = load_document(storage, tenant_id, id).await? else {
            continue;
        };
        let heads: Vec<String> = doc.get_heads().iter().map(|h| h.to_string()).collect();
        let movements = tokio::task::spawn_blocking(move || movements_of(&doc))
            .await
            .map_err(|e| Error::Internal(format!("baseline task: {e}")))??;
        for m in movements {
            let q = on_hand.entry(m.product_id.to_string()).or_default();
            *q = q.checked_add(m.quantity).map_err(model)?;
        }
        baseline.included.push(IncludedDoc {
            url: url_of(id),
            heads,
        });
    }
    baseline.on_hand = on_hand;
    Ok(baseline)
}

/// The business-day settings of a store (from its settings document; the default until one is
/// stored).
async fn business_day(
    storage: &DynStorage,
    tenant_id: &str,
    root: &StoreRootRow,
) -> Result<shared_model::business_day::BusinessDayConfig> {
    Ok(
        match load_document(storage, tenant_id, &root.settings_doc_id).await? {
            Some(doc) => match documents::read::<SettingsDoc>(&doc) {
                Ok(s) => s.settings.business_day,
                Err(e) => {
                    tracing::warn!(store_id = %root.store_id, error = %e, "settings unreadable; default business day");
                    Default::default()
                }
            },
            None => Default::default(),
        },
    )
}

/// Writes every baseline that is due at `now`, for one store or all stores with a root.
/// Returns what it wrote (nothing when another instance is writing or everything is written).
pub async fn write_due(
    writer: &DocWriter,
    storage: &DynStorage,
    store: Option<&str>,
    now: Timestamp,
) -> Result<Vec<WrittenBaseline>> {
    let roots = match store {
        Some(s) => match storage.store_root(s).await? {
            Some(r) => vec![r],
            None => return Err(Error::NoTerminalYet),
        },
        None => storage.store_roots().await?,
    };
    let mut out = Vec::new();
    for root in roots {
        match write_store(writer, storage, &root, now).await {
            Ok(w) => out.extend(w),
            Err(e) if store.is_some() => return Err(e),
            Err(e) => {
                tracing::error!(store_id = %root.store_id, error = %e, "writing stock baselines failed");
            }
        }
    }
    Ok(out)
}

async fn write_store(
    writer: &DocWriter,
    storage: &DynStorage,
    root: &StoreRootRow,
    now: Timestamp,
) -> Result<Vec<WrittenBaseline>> {
    let store_id = root.store_id.as_str();
    let store = storage
        .store(store_id)
        .await?
        .ok_or(Error::NotFound("store not found"))?;
    let today = business_day(storage, &store.tenant_id, root)
        .await?
        .business_date(now)
        .map_err(model)?
        .to_string();
    let written = storage.stock_baselines(store_id).await?;
    // A baseline older than the newest one would never be used by a terminal.
    let newest = written
        .iter()
        .filter(|b| b.doc_id.is_some())
        .map(|b| b.business_date.clone())
        .max();
    let journals = storage.store_journals(store_id).await?;
    let due: BTreeSet<String> = journals
        .iter()
        .map(|j| j.business_date.clone())
        .filter(|d| *d < today && newest.as_ref().is_none_or(|n| d > n))
        .collect();
    let mut out = Vec::new();
    for date in due {
        let now_ms = crate::now_ms();
        if !storage
            .elect_baseline_writer(
                store_id,
                &date,
                writer.label(),
                now_ms,
                now_ms - STALE_AFTER_MS,
            )
            .await?
        {
            continue; // written, or being written by another instance
        }
        let mut ids: Vec<String> = journals
            .iter()
            .filter(|j| j.business_date <= date)
            .map(|j| j.doc_id.clone())
            .collect();
        ids.extend(
            storage
                .store_adjustments(store_id)
                .await?
                .into_iter()
                .map(|a| a.doc_id),
        );
        let business_date: BusinessDate = date
            .parse()
            .map_err(|e| Error::Internal(format!("journal date {date}: {e}")))?;
        let baseline = compute(storage, &store.tenant_id, store_id, business_date, &ids).await?;
        let (included, products) = (baseline.included.len(), baseline.on_hand.len());
        let doc_id = writer
            .create_for_store(&baseline, &store.tenant_id, store_id)
            .await?;
        let url = url_of(&doc_id);
        writer
            .change(&root.root_doc_id, move |doc| {
                let mut r: StoreRootDoc = documents::read(doc).map_err(model)?;
                r.latest_baseline = Some(url);
                documents::write(doc, &r).map_err(model)
            })
            .await?;
        storage
            .finish_baseline(store_id, &date, &doc_id, crate::now_ms())
            .await?;
        tracing::info!(store_id, business_date = %date, doc_id, included, products, "stock baseline written");
        out.push(WrittenBaseline {
            store_id: store_id.to_string(),
            business_date: date,
            doc_id,
            included,
            products,
        });
    }
    Ok(out)
}

/// Delivers the store roots that link the written baselines to the running instances (for
/// `admin write-baselines`, which is not one of them): dials every live instance for each
/// repo written ([`crate::sync::cluster::dial_live`]) and waits (at most 10 s per connection)
/// until it has the root. Returns how many (instance, store root) deliveries were confirmed.
pub async fn deliver(
    state: &AppState,
    writer: &DocWriter,
    written: &[WrittenBaseline],
) -> Result<usize> {
    let storage = &state.services.storage;
    let mut dialers: HashMap<RepoKey, Vec<samod::DialerHandle<std::io::Error>>> = HashMap::new();
    let mut delivered = 0;
    for w in written {
        let Some(root) = storage.store_root(&w.store_id).await? else {
            continue;
        };
        let Some(claim) = state.sync.gate.claim_of(&root.root_doc_id).await? else {
            continue;
        };
        let Some(handle) = writer.find(&root.root_doc_id).await? else {
            continue;
        };
        let key = RepoKey::of_claim(&claim);
        if !dialers.contains_key(&key) {
            let d = crate::sync::cluster::dial_live(state, &key).await?;
            dialers.insert(key.clone(), d);
        }
        for d in &dialers[&key] {
            let Some(conn) = d.connection_id() else {
                continue;
            };
            match tokio::time::timeout(Duration::from_secs(10), handle.they_have_our_changes(conn))
                .await
            {
                Ok(_) => delivered += 1,
                Err(_) => {
                    tracing::warn!(store_id = %w.store_id, "an instance did not take the new store root in time")
                }
            }
        }
    }
    Ok(delivered)
}

/// Runs until the process ends: writes due baselines every `interval`.
pub async fn run(state: AppState, interval: Duration) {
    let writer = DocWriter::new(&state);
    let storage = state.services.storage.clone();
    loop {
        tokio::time::sleep(interval).await;
        if let Err(e) = write_due(&writer, &storage, None, Timestamp::now()).await {
            tracing::error!(error = %e, "stock baseline pass failed");
        }
    }
}
