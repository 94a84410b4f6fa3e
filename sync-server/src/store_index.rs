//! What the server knows about each store's documents, projected from the stored documents
//! like the report tables: the store root and the ids it links, the journals (terminal code and
//! business date) and the stock-adjustment documents. Period indexes, baselines and the staff
//! API start from here.

use shared_model::documents::{self, DocumentKind, StoreRootDoc, root_str};
use shared_model::wire::id_of;

use crate::error::Result;
use crate::storage::{DynStorage, StoreAdjustmentsRow, StoreJournalRow, StoreRootRow};

/// What one document adds to the store index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreDocEntry {
    Root(StoreRootRow),
    Journal(StoreJournalRow),
    Adjustments(StoreAdjustmentsRow),
}

/// The entry of a loaded document of store `store_id` (its claim's store), `None` for kinds the
/// index does not keep. A document naming another store is refused.
pub fn entry(
    doc_id: &str,
    store_id: &str,
    doc: &(impl automerge::ReadDoc + autosurgeon::ReadDoc),
) -> Result<Option<StoreDocEntry>, String> {
    let Some(kind) = DocumentKind::of(doc) else {
        return Ok(None);
    };
    if !matches!(
        kind,
        DocumentKind::StoreRoot | DocumentKind::Journal | DocumentKind::StockAdjustments
    ) {
        return Ok(None);
    }
    let named = root_str(doc, "store_id").unwrap_or_default();
    if named != store_id {
        return Err(format!(
            "document names store {named}, claimed by {store_id}"
        ));
    }
    Ok(Some(match kind {
        DocumentKind::StoreRoot => {
            let r: StoreRootDoc = documents::read(doc).map_err(|e| e.to_string())?;
            StoreDocEntry::Root(StoreRootRow {
                store_id: store_id.to_string(),
                root_doc_id: doc_id.to_string(),
                catalog_doc_id: id_of(&r.catalog).to_string(),
                settings_doc_id: id_of(&r.settings).to_string(),
                users_doc_id: id_of(&r.users).to_string(),
                parked_carts_doc_id: id_of(&r.parked_carts).to_string(),
                latest_baseline_doc_id: r.latest_baseline.as_deref().map(|u| id_of(u).to_string()),
                updated_at: crate::now_ms(),
            })
        }
        DocumentKind::Journal => {
            let terminal_code = root_str(doc, "terminal_code").ok_or("journal has no terminal")?;
            let business_date = root_str(doc, "business_date").ok_or("journal has no date")?;
            business_date
                .parse::<shared_model::codec::BusinessDate>()
                .map_err(|e| format!("journal date {business_date:?}: {e}"))?;
            StoreDocEntry::Journal(StoreJournalRow {
                doc_id: doc_id.to_string(),
                store_id: store_id.to_string(),
                terminal_code,
                business_date,
                indexed_at: None,
            })
        }
        _ => StoreDocEntry::Adjustments(StoreAdjustmentsRow {
            doc_id: doc_id.to_string(),
            store_id: store_id.to_string(),
            period: root_str(doc, "period").unwrap_or_default(),
        }),
    }))
}

/// Records a stored document in the store index (called by the projector for every document it
/// reads: loaded from storage, or its sync repo's live copy). Idempotent.
pub async fn record(
    storage: &DynStorage,
    doc_id: &str,
    store_id: &str,
    doc: &(impl automerge::ReadDoc + autosurgeon::ReadDoc + Sync),
) -> Result<()> {
    match entry(doc_id, store_id, doc) {
        Ok(Some(StoreDocEntry::Root(r))) => {
            let in_force = storage.upsert_store_root(&r).await?;
            if in_force.root_doc_id == r.root_doc_id {
                crate::lan_keys::check_root(storage, store_id, doc).await?;
            }
            if in_force.root_doc_id != r.root_doc_id {
                tracing::warn!(
                    store_id,
                    doc_id,
                    root = %in_force.root_doc_id,
                    "a second store root for a store; the first one stays"
                );
            }
        }
        Ok(Some(StoreDocEntry::Journal(j))) => storage.insert_store_journal(&j).await?,
        Ok(Some(StoreDocEntry::Adjustments(a))) => storage.insert_store_adjustments(&a).await?,
        Ok(None) => {}
        Err(reason) => tracing::warn!(doc_id, %reason, "document not indexed"),
    }
    Ok(())
}
