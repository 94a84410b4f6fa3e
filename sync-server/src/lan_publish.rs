//! Writes each store's signed LAN roster into its store root document (`lan_roster`), which
//! every till of the store already syncs, from the server and from each other on the LAN.
//!
//! A roster change (a till enrolled, a LAN key set, a till revoked) only bumps the store's
//! roster version in storage; this task, polling like the period indexer, writes every roster
//! whose version is above the one last written, once the store has a root (a store's first till
//! creates the root after it enrolled, so the roster follows it there). Several instances may
//! write the same version: the write is skipped when the document already holds a roster that
//! verifies with the store's key and is as new. A till that writes an unsigned, forged or older
//! roster into the root changes nothing for the other tills (they only take a newer roster
//! signed by the store), and the server puts its own back: the projector hands every stored
//! root to [`crate::lan_keys::check_root`], which marks the store's roster for writing again.

use std::time::Duration;

use shared_model::documents::{self, StoreRootDoc};

use crate::documents_writer::DocWriter;
use crate::error::{Error, Result};
use crate::state::AppState;

/// How often the task looks for rosters to write.
pub const POLL: Duration = Duration::from_millis(500);

/// Writes every roster not yet in its store root; returns how many were written.
pub async fn publish_pending(app: &AppState, writer: &DocWriter) -> Result<usize> {
    let storage = &app.services.storage;
    let mut written = 0;
    for (store_id, _) in storage.lan_rosters_to_publish().await? {
        match publish(app, writer, &store_id).await {
            Ok(version) => {
                storage
                    .mark_lan_roster_published(&store_id, version)
                    .await?;
                written += 1;
            }
            Err(e) => {
                tracing::error!(store_id, error = %e, "writing the LAN roster failed; retrying later")
            }
        }
    }
    Ok(written)
}

/// Writes the store's current roster into its root document; returns the version written.
pub async fn publish(app: &AppState, writer: &DocWriter, store_id: &str) -> Result<i64> {
    let root = app
        .services
        .storage
        .store_root(store_id)
        .await?
        .ok_or(Error::NotFound("store has no root document"))?;
    let (signed, public, version) = app.services.roster_to_publish(store_id).await?;
    let wanted = u64::try_from(version).unwrap_or_default();
    writer
        .change(&root.root_doc_id, move |doc| {
            let mut r: StoreRootDoc =
                documents::read(doc).map_err(|e| Error::Internal(e.to_string()))?;
            let held = r.lan_roster.as_ref().and_then(|h| h.verify(&public).ok());
            if held.is_some_and(|h| h.version >= wanted) {
                return Ok(());
            }
            r.lan_roster = Some(signed);
            documents::write(doc, &r).map_err(|e| Error::Internal(e.to_string()))
        })
        .await?;
    tracing::info!(store_id, version, "LAN roster written into the store root");
    Ok(version)
}

/// Runs until the process ends.
pub async fn run(state: AppState) {
    let writer = DocWriter::new(&state);
    loop {
        if let Err(e) = publish_pending(&state, &writer).await {
            tracing::error!(error = %e, "LAN roster pass failed");
        }
        tokio::time::sleep(POLL).await;
    }
}
