//! The server lists every journal it has in its month's period index (DESIGN.md: period
//! indexes are written by the server), so a journal that reached only the server (a till that
//! never registered it, a raw client) is still found by the store's other tills.
//!
//! A period index has a derived id (`period_index_id(store, month)`) and a byte-identical first
//! change (`period_index_genesis`). When the server has no copy yet it claims the id for the
//! store, puts the genesis change into storage under samod's key layout and then opens it through
//! the repo, so its copy merges with the tills' copies instead of competing with them. Terminals
//! keep listing their own journals too (for LAN sync during outages); equal entries merge.
//!
//! Idempotent: a journal already listed is not written again, and each journal is marked
//! `indexed_at` in `store_journals` once listed.

use std::collections::BTreeMap;
use std::time::Duration;

use shared_model::codec::BusinessDate;
use shared_model::documents::{self, JournalRef, PeriodIndexDoc};

use crate::documents_writer::DocWriter;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::storage::{DynStorage, StoreJournalRow};
use shared_model::wire::url as url_of;

/// Journals listed per pass at most.
const BATCH: i64 = 500;

/// How often the indexer looks for journals it has not listed.
pub const POLL: Duration = Duration::from_millis(500);

/// Lists the journals not yet listed in their period index; returns how many were written
/// into an index (journals already listed by their till count as done, not written).
pub async fn index_pending(writer: &DocWriter, storage: &DynStorage) -> Result<usize> {
    let rows = storage.unindexed_journals(BATCH).await?;
    let mut groups: BTreeMap<(String, String), Vec<StoreJournalRow>> = BTreeMap::new();
    for j in rows {
        let month = j.business_date.get(..7).unwrap_or_default().to_string();
        groups
            .entry((j.store_id.clone(), month))
            .or_default()
            .push(j);
    }
    let mut written = 0;
    for ((store_id, month), journals) in groups {
        match list_in_index(writer, storage, &store_id, &month, &journals).await {
            Ok(n) => written += n,
            // The derived id is claimed by another store: never listable, do not retry.
            Err(Error::Conflict(reason)) => {
                tracing::error!(
                    store_id,
                    month,
                    reason,
                    "period index not writable; journals left unlisted"
                );
            }
            Err(e) => {
                tracing::error!(store_id, month, error = %e, "listing journals in the period index failed; retrying later");
                continue;
            }
        }
        let ids: Vec<String> = journals.into_iter().map(|j| j.doc_id).collect();
        storage.mark_journals_indexed(&ids, crate::now_ms()).await?;
    }
    Ok(written)
}

/// Opens (creating from its genesis if needed) a store's period index of a month.
pub async fn open_index(
    writer: &DocWriter,
    storage: &DynStorage,
    store_id: &str,
    month: &str,
) -> Result<String> {
    let store = storage
        .store(store_id)
        .await?
        .ok_or(Error::NotFound("store not found"))?;
    let index_id = documents::period_index_id(store_id, month);
    // Claimed before any content exists, so the tills of the store may sync it at once.
    writer
        .claim_for_store(&index_id, &store.tenant_id, store_id)
        .await?;
    let mut genesis = documents::period_index_genesis(store_id, month)
        .map_err(|e| Error::Internal(e.to_string()))?;
    writer.seed(&index_id, &mut genesis).await?;
    Ok(index_id)
}

async fn list_in_index(
    writer: &DocWriter,
    storage: &DynStorage,
    store_id: &str,
    month: &str,
    journals: &[StoreJournalRow],
) -> Result<usize> {
    let index_id = open_index(writer, storage, store_id, month).await?;
    let mut entries = Vec::with_capacity(journals.len());
    for j in journals {
        let date: BusinessDate = j
            .business_date
            .parse()
            .map_err(|e| Error::Internal(format!("journal date {}: {e}", j.business_date)))?;
        entries.push((
            format!("{}/{}", j.terminal_code, j.business_date),
            JournalRef {
                url: url_of(&j.doc_id),
                terminal_code: j.terminal_code.clone(),
                business_date: date,
            },
        ));
    }
    let index_for_log = index_id.clone();
    let (n, _) = writer
        .change(&index_id, move |doc| {
            let mut index: PeriodIndexDoc =
                documents::read(doc).map_err(|e| Error::Internal(e.to_string()))?;
            let mut n = 0;
            for (key, entry) in entries {
                match index.journals.get(&key) {
                    Some(listed) if listed.url == entry.url => {}
                    Some(listed) => tracing::warn!(
                        index = %index_for_log,
                        key,
                        listed = %listed.url,
                        other = %entry.url,
                        "two journals for one terminal and date; the listed one stays"
                    ),
                    None => {
                        index.journals.insert(key, entry);
                        n += 1;
                    }
                }
            }
            if n > 0 {
                documents::write(doc, &index).map_err(|e| Error::Internal(e.to_string()))?;
            }
            Ok(n)
        })
        .await?;
    if n > 0 {
        tracing::info!(
            store_id,
            month,
            listed = n,
            "journals listed in the period index"
        );
    }
    Ok(n)
}

/// Runs until the process ends: lists new journals every [`POLL`].
pub async fn run(state: AppState) {
    let writer = DocWriter::new(&state);
    let storage = state.services.storage.clone();
    loop {
        if let Err(e) = index_pending(&writer, &storage).await {
            tracing::error!(error = %e, "period index pass failed");
        }
        tokio::time::sleep(POLL).await;
    }
}
