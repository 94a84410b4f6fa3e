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
//!
//! # Reserved ids
//!
//! A derived id can be computed by anyone who knows the store id, and a document id belongs to
//! the first authenticated peer that writes it. So that no other tenant can take a store's
//! period index first (the server would then never list that month's journals), the ids are
//! claimed for the store ahead of time ([`reserve`]): at the store's creation and in a daily
//! pass over every store ([`reserve_all`]), for the previous month through
//! [`RESERVE_MONTHS_AHEAD`] months ahead. We chose reservation over deriving the id from a
//! store secret (the store key is rotated when a till is revoked, which would move every
//! index) and over checking derivation at claim time (an id cannot be inverted to its store,
//! so every new document would have to be checked against every store and month).

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

/// How many months ahead each store's period index ids are reserved.
pub const RESERVE_MONTHS_AHEAD: i32 = 24;

/// How often every store's reservations are extended.
const RESERVE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// The months (`YYYY-MM`) whose period index ids are reserved at `now`: the previous month
/// (a till's business date may lag UTC) through [`RESERVE_MONTHS_AHEAD`] months ahead.
pub fn reserved_months(now: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    use chrono::Datelike;
    let start = now.year() * 12 + now.month0() as i32 - 1;
    (start..=start + 1 + RESERVE_MONTHS_AHEAD)
        .map(|m| format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1))
        .collect()
}

/// Claims the period index ids of `store_id` (of `tenant_id`) for [`reserved_months`], so that
/// nobody else can claim them first. Idempotent; an id some other tenant or store already holds
/// (claimed before reservations existed) is logged and counted, never moved.
pub async fn reserve(
    storage: &DynStorage,
    tenant_id: &str,
    store_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize> {
    let mut taken = 0;
    for month in reserved_months(now) {
        let id = documents::period_index_id(store_id, &month);
        let claim = storage
            .claim_doc(&crate::storage::DocClaim {
                doc_id: id.clone(),
                tenant_id: tenant_id.to_string(),
                store_id: Some(store_id.to_string()),
                claimed_by: "server:reserved".into(),
                claimed_at: crate::now_ms(),
            })
            .await?;
        if claim.tenant_id != tenant_id || claim.store_id.as_deref() != Some(store_id) {
            taken += 1;
            tracing::error!(
                store_id,
                month,
                doc_id = id,
                holder = %claim.tenant_id,
                "a period index id of this store was claimed by someone else before it was reserved"
            );
        }
    }
    Ok(taken)
}

/// [`reserve`] for every store (the daily pass); returns how many stores were reserved.
pub async fn reserve_all(storage: &DynStorage) -> Result<usize> {
    let stores = storage.store_tenants().await?;
    let now = chrono::Utc::now();
    for (tenant_id, store_id) in &stores {
        reserve(storage, tenant_id, store_id, now).await?;
    }
    Ok(stores.len())
}

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
    writer
        .seed(&store.tenant_id, &index_id, &mut genesis)
        .await?;
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

/// Runs until the process ends: lists new journals every [`POLL`], and extends every store's
/// reservations at start and every [`RESERVE_EVERY`].
pub async fn run(state: AppState) {
    let writer = DocWriter::new(&state);
    let storage = state.services.storage.clone();
    let mut reserved_at: Option<tokio::time::Instant> = None;
    loop {
        if reserved_at.is_none_or(|t| t.elapsed() >= RESERVE_EVERY) {
            match reserve_all(&storage).await {
                Ok(n) => {
                    tracing::debug!(stores = n, "period index ids reserved");
                    reserved_at = Some(tokio::time::Instant::now());
                }
                Err(e) => {
                    tracing::error!(error = %e, "reserving period index ids failed; retrying")
                }
            }
        }
        if let Err(e) = index_pending(&writer, &storage).await {
            tracing::error!(error = %e, "period index pass failed");
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_months_run_from_last_month_to_two_years_ahead() {
        let now = "2026-12-03T03:00:00Z".parse().unwrap();
        let months = reserved_months(now);
        assert_eq!(months.first().unwrap(), "2026-11");
        assert_eq!(months[1], "2026-12");
        assert_eq!(months[2], "2027-01");
        assert_eq!(months.last().unwrap(), "2028-12");
        assert_eq!(months.len(), 2 + RESERVE_MONTHS_AHEAD as usize);
        let january = "2027-01-15T00:00:00Z".parse().unwrap();
        assert_eq!(reserved_months(january)[0], "2026-12");
    }
}
