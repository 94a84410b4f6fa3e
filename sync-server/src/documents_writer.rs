//! "The server changes a document": one primitive for every document the server writes (users,
//! period indexes, store roots, stock baselines).
//!
//! Changes go through the samod [`samod::Repo`] of the document's tenant (found from its claim;
//! `find` → `DocHandle::with_document`), so the terminals connected to this instance (and other
//! instances, by peering) receive them by sync, and samod persists them through our storage
//! adapter. That adapter cannot report an error to samod (it retries until it succeeds), so a
//! write here is only reported done once its heads are read back from storage; a storage error
//! while checking is returned, and a write that does not reach storage in time is an error too,
//! never a silent success.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use automerge::{ActorId, AutoCommit, Automerge, ChangeHash};
use samod::{DocHandle, DocumentId};
use shared_model::documents::{self, Document};

use crate::error::{Error, Result};
use crate::state::{AppState, SyncHub};
use crate::storage::{DocClaim, DynStorage};

/// How long a write may take to reach storage before it is reported as failed.
const PERSIST_TIMEOUT: Duration = Duration::from_secs(15);

/// Writes documents as the server.
#[derive(Clone)]
pub struct DocWriter {
    hub: Arc<SyncHub>,
    storage: DynStorage,
    actor: ActorId,
    label: String,
}

impl std::fmt::Debug for DocWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocWriter")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

fn doc_id(id: &str) -> Result<DocumentId> {
    DocumentId::from_str(id).map_err(|_| Error::Internal(format!("invalid document id {id:?}")))
}

fn stopped(_: samod::Stopped) -> Error {
    Error::Internal("document repo stopped".into())
}

fn join_err(e: tokio::task::JoinError) -> Error {
    Error::Internal(format!("document task: {e}"))
}

/// An editable copy of a repo document (the model's reconcile works on an `AutoCommit`).
fn editable(doc: &Automerge, actor: &ActorId) -> Result<AutoCommit> {
    let mut ac = AutoCommit::load(&doc.save_nocompress())
        .map_err(|e| Error::Internal(format!("document does not load: {e}")))?;
    ac.set_actor(actor.clone());
    Ok(ac)
}

impl DocWriter {
    /// A writer over the instance's repos. Its automerge actor is derived from the
    /// instance id, so every instance writes with its own actor and a restart never reuses one.
    pub fn new(state: &AppState) -> Self {
        let instance = uuid::Uuid::parse_str(&state.sync.instance_id)
            .map(|u| u.as_bytes().to_vec())
            .unwrap_or_else(|_| uuid::Uuid::new_v4().as_bytes().to_vec());
        DocWriter {
            hub: state.sync.clone(),
            storage: state.services.storage.clone(),
            actor: ActorId::from(instance),
            label: format!("instance:{}", state.sync.instance_id),
        }
    }

    /// Label recorded in the claims this writer makes.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The handle of a document in its repo (its store's or its tenant's): loaded from storage,
    /// or asked of connected peers. `None` when nobody has it. A document nobody claimed yet
    /// belongs to no tenant and is [`Error::NotFound`] (the server claims before it creates).
    pub async fn find(&self, id: &str) -> Result<Option<DocHandle>> {
        Ok(self.find_claimed(id).await?.1)
    }

    /// [`DocWriter::find`], with the tenant the document's claim names.
    async fn find_claimed(&self, id: &str) -> Result<(String, Option<DocHandle>)> {
        let doc = doc_id(id)?;
        let claim = self
            .hub
            .gate
            .claim_of(id)
            .await?
            .ok_or(Error::NotFound("document not claimed by any tenant"))?;
        let repo = self.hub.repos.of_claim(&claim).await?.repo;
        let handle = repo.find(doc).await.map_err(stopped)?;
        Ok((claim.tenant_id, handle))
    }

    /// Reads a document of kind `D` through the repo (`None` when nobody has it).
    pub async fn read<D: Document + Send + 'static>(&self, id: &str) -> Result<Option<D>> {
        let Some(handle) = self.find(id).await? else {
            return Ok(None);
        };
        let actor = self.actor.clone();
        tokio::task::spawn_blocking(move || {
            handle.with_document(|doc| {
                let ac = editable(doc, &actor)?;
                documents::read::<D>(&ac)
                    .map_err(|e| Error::Internal(format!("{id}: {e}", id = handle.document_id())))
            })
        })
        .await
        .map_err(join_err)?
        .map(Some)
    }

    /// Reads what `f` takes from a document (e.g. one entry of a large map, without
    /// hydrating the rest); `None` when nobody has the document.
    pub async fn read_with<T, F>(&self, id: &str, f: F) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce(&AutoCommit) -> Result<T> + Send + 'static,
    {
        let Some(handle) = self.find(id).await? else {
            return Ok(None);
        };
        let actor = self.actor.clone();
        tokio::task::spawn_blocking(move || {
            handle.with_document(|doc| {
                let ac = editable(doc, &actor)?;
                f(&ac)
            })
        })
        .await
        .map_err(join_err)?
        .map(Some)
    }

    /// Changes a document: `f` edits a copy (e.g. with `documents::write`), the new changes are
    /// applied to the repo's document (so connected peers receive them) and the call returns
    /// once they are in storage. Returns `f`'s value and the document's heads after the change.
    /// A document nobody has is [`Error::NotFound`].
    pub async fn change<T, F>(&self, id: &str, f: F) -> Result<(T, Vec<ChangeHash>)>
    where
        T: Send + 'static,
        F: FnOnce(&mut AutoCommit) -> Result<T> + Send + 'static,
    {
        let (tenant_id, handle) = self.find_claimed(id).await?;
        let handle = handle.ok_or(Error::NotFound("document not on the server"))?;
        let actor = self.actor.clone();
        let (value, heads, changed) = tokio::task::spawn_blocking(move || {
            handle.with_document(|doc| -> Result<_> {
                let before = doc.get_heads();
                let mut ac = editable(doc, &actor)?;
                let value = f(&mut ac)?;
                let changes = ac.get_changes(&before);
                let changed = !changes.is_empty();
                if changed {
                    doc.apply_changes(changes)
                        .map_err(|e| Error::Internal(format!("applying server change: {e}")))?;
                }
                Ok((value, doc.get_heads(), changed))
            })
        })
        .await
        .map_err(join_err)??;
        if changed {
            self.wait_persisted(&tenant_id, id, &heads).await?;
        }
        Ok((value, heads))
    }

    /// Writes `value` into a document (only the differences become changes).
    pub async fn write<D: Document + Send + Sync + 'static>(
        &self,
        id: &str,
        value: D,
    ) -> Result<Vec<ChangeHash>> {
        let (_, heads) = self
            .change(id, move |doc| {
                documents::write(doc, &value).map_err(|e| Error::Internal(e.to_string()))
            })
            .await?;
        Ok(heads)
    }

    /// Creates a new document of a store holding `value`; returns its id once stored.
    ///
    /// The id is claimed for the store *before* the document exists anywhere: samod asks the
    /// share policy about a document once per peer when it appears and keeps the answer, so a
    /// document made with `repo.create` and claimed afterwards stays hidden from the store's
    /// terminals (found by the baseline test). So the new id is claimed first, its changes are
    /// put into storage under samod's key layout, and the repo opens it from there.
    pub async fn create_for_store<D: Document>(
        &self,
        value: &D,
        tenant_id: &str,
        store_id: &str,
    ) -> Result<String> {
        let mut ac = documents::create(value).map_err(|e| Error::Internal(e.to_string()))?;
        ac.set_actor(self.actor.clone());
        ac.commit();
        let id = shared_model::wire::new_document_id();
        self.claim_for_store(&id, tenant_id, store_id).await?;
        self.seed(tenant_id, &id, &mut ac).await?;
        let heads = ac.get_heads();
        self.find(&id)
            .await?
            .ok_or_else(|| Error::Internal(format!("new document {id} not found in storage")))?;
        self.wait_persisted(tenant_id, &id, &heads).await?;
        Ok(id)
    }

    /// Claims a document for a store unless claimed; an existing claim of another store or
    /// tenant is [`Error::Conflict`].
    pub async fn claim_for_store(&self, id: &str, tenant_id: &str, store_id: &str) -> Result<()> {
        let claim = self
            .storage
            .claim_doc(&DocClaim {
                doc_id: id.to_string(),
                tenant_id: tenant_id.to_string(),
                store_id: Some(store_id.to_string()),
                claimed_by: self.label.clone(),
                claimed_at: crate::now_ms(),
            })
            .await?;
        if claim.tenant_id != tenant_id || claim.store_id.as_deref().is_some_and(|s| s != store_id)
        {
            tracing::error!(
                doc_id = id,
                store_id,
                "document is claimed by another store"
            );
            return Err(Error::Conflict("document belongs to another store"));
        }
        Ok(())
    }

    /// Puts a document's first change into storage under samod's key layout
    /// (`<id>/incremental/<hash>`) unless the document already has chunks, so that `find` loads
    /// it. For documents whose first change is the same everywhere (period indexes). `tenant_id`
    /// is the tenant the document is claimed for.
    pub async fn seed(&self, tenant_id: &str, id: &str, genesis: &mut AutoCommit) -> Result<()> {
        if !self
            .storage
            .load_chunk_range(tenant_id, id)
            .await?
            .is_empty()
        {
            return Ok(());
        }
        for change in genesis.get_changes(&[]) {
            let key = format!("{id}/incremental/{}", change.hash());
            self.storage
                .put_chunk(tenant_id, &key, change.raw_bytes())
                .await?;
        }
        Ok(())
    }

    /// Waits until every one of `heads` is in the stored document (of `tenant_id`). Storage
    /// errors are returned.
    pub async fn wait_persisted(
        &self,
        tenant_id: &str,
        id: &str,
        heads: &[ChangeHash],
    ) -> Result<()> {
        let deadline = tokio::time::Instant::now() + PERSIST_TIMEOUT;
        let mut delay = Duration::from_millis(5);
        loop {
            if let Some(mut doc) =
                crate::projection::load_document(&self.storage, tenant_id, id).await?
                && documents::has_changes(doc.document(), heads)
            {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::error!(doc_id = id, "server change not in storage in time");
                return Err(Error::Internal(format!(
                    "change to {id} did not reach storage in time"
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(200));
        }
    }
}
