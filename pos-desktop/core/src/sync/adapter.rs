//! The terminal's documents as a [`SyncStore`]: what the sync session reads and writes.
//!
//! Documents received from a peer are applied in one SQLite transaction together with their
//! query-table rows (the same projection as local writes), so a catalog edit from another till
//! is searchable and another till's sales count in stock as soon as they arrive.

use std::collections::HashMap;

use automerge::sync::{Message as SyncMessage, State, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use chrono::Datelike;
use rusqlite::{OptionalExtension, params};
use shared_model::codec::BusinessDate;
use shared_model::documents::{self, DocumentKind, JournalRef, PeriodIndexDoc};
use shared_model::sync_session::SyncStore;

use crate::docs::{register_doc, scope_of};
use crate::error::{CoreError, CoreResult};
use crate::terminal::Terminal;

/// Borrows the terminal for one step of a session. Documents we asked for but do not hold yet
/// live in `pending` until their first content arrives.
#[derive(Debug)]
pub struct TerminalSyncStore<'a> {
    pub(crate) terminal: &'a mut Terminal,
    pub(crate) pending: &'a mut HashMap<String, AutoCommit>,
}

impl<'a> TerminalSyncStore<'a> {
    /// The terminal as a sync store for a session of another transport (or a benchmark):
    /// `pending` holds the documents asked for and not received yet, across steps.
    pub fn new(
        terminal: &'a mut Terminal,
        pending: &'a mut HashMap<String, AutoCommit>,
    ) -> TerminalSyncStore<'a> {
        TerminalSyncStore { terminal, pending }
    }
}

/// The months whose period index a terminal follows: the current one and the one before.
fn followed_months(today: BusinessDate) -> [String; 2] {
    let d = today.0;
    let this = d.format("%Y-%m").to_string();
    let prev = (d.with_day0(0).unwrap_or(d) - chrono::Duration::days(1))
        .format("%Y-%m")
        .to_string();
    [this, prev]
}

/// Whether a period index lists a journal scope (`<terminal>/<date>`).
fn listed_in_index(index: &AutoCommit, scope: &str) -> CoreResult<bool> {
    use automerge::ReadDoc;
    Ok(match index.get(automerge::ROOT, "journals")? {
        Some((automerge::Value::Object(_), journals)) => index.get(&journals, scope)?.is_some(),
        _ => false,
    })
}

/// The id of the stock baseline a store root links (`latest_baseline`), read as one key: this
/// runs on every poll.
fn latest_baseline(root: &AutoCommit) -> CoreResult<Option<String>> {
    Ok(shared_model::documents::root_str(root, "latest_baseline")
        .map(|url| crate::docs::id_of(&url).to_string()))
}

impl Terminal {
    /// Lists every own journal in its month's period index (creating the index from its shared
    /// genesis when this till is the first to need it). Idempotent.
    pub(crate) fn register_journals_in_period_indexes(&mut self) -> CoreResult<()> {
        let ident = self.identity()?.clone();
        let own: Vec<(String, String)> = {
            let mut stmt = self.conn.prepare(
                "SELECT doc_id, scope FROM documents WHERE kind = 'journal' AND own = 1",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (doc_id, scope) in own {
            if !self.docs.exists(&self.conn, &doc_id)? {
                continue; // registered, first entry not applied yet
            }
            let Some((terminal, date)) = scope.split_once('/') else {
                continue;
            };
            let date: BusinessDate = date
                .parse()
                .map_err(|e| CoreError::Invalid(format!("journal scope {scope}: {e}")))?;
            let month = date.0.format("%Y-%m").to_string();
            let index_id = documents::period_index_id(&ident.store_id, &month);
            if !self.docs.exists(&self.conn, &index_id)? {
                let genesis = documents::period_index_genesis(&ident.store_id, &month)?;
                let bytes = genesis.clone().save();
                self.merge_document(&index_id, &bytes)?;
            }
            // A lookup of the one key, not a read of the whole index: this runs on every poll.
            if listed_in_index(self.docs.get(&self.conn, &index_id)?, &scope)? {
                continue;
            }
            self.write(|tx, d| {
                let doc = d.get_mut(tx, &index_id)?;
                let mut index: PeriodIndexDoc = documents::read(doc)?;
                index.journals.insert(
                    scope.clone(),
                    JournalRef {
                        url: crate::docs::url(&doc_id),
                        terminal_code: terminal.to_string(),
                        business_date: date,
                    },
                );
                documents::write(doc, &index)?;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Documents to keep in sync: every document held, the followed period indexes, the
    /// journals they list that this terminal does not hold yet, and the latest stock baseline
    /// the store root links.
    pub(crate) fn sync_doc_ids(&mut self) -> CoreResult<Vec<String>> {
        let ident = self.identity()?.clone();
        let mut ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT doc_id FROM documents ORDER BY doc_id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let today = self.business_date_at(shared_model::codec::Timestamp::now())?;
        for month in followed_months(today) {
            let index_id = documents::period_index_id(&ident.store_id, &month);
            if self.docs.exists(&self.conn, &index_id)? {
                let index: PeriodIndexDoc = documents::read(self.docs.get(&self.conn, &index_id)?)?;
                ids.extend(
                    index
                        .journals
                        .values()
                        .map(|j| crate::docs::id_of(&j.url).to_string()),
                );
            }
            ids.push(index_id);
        }
        // The stock baseline the server wrote last (it links it from the store root).
        if self.docs.exists(&self.conn, &ident.root_doc)?
            && let Some(id) = latest_baseline(self.docs.get(&self.conn, &ident.root_doc)?)?
        {
            ids.push(id);
        }
        ids.sort();
        ids.dedup();
        // Registered but never written (a journal whose first entry is still in the outbox).
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let registered_only: bool = self
                .conn
                .query_row(
                    "SELECT own = 1 FROM documents WHERE doc_id = ?1",
                    [&id],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(false);
            if registered_only && !self.docs.exists(&self.conn, &id)? {
                continue;
            }
            out.push(id);
        }
        Ok(out)
    }

    pub(crate) fn load_sync_state(&self, peer: &str, doc_id: &str) -> CoreResult<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT state FROM sync_states WHERE peer = ?1 AND doc_id = ?2",
                params![peer, doc_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub(crate) fn save_sync_state(&self, peer: &str, doc_id: &str, state: &[u8]) -> CoreResult<()> {
        self.conn.execute(
            "INSERT INTO sync_states (peer, doc_id, state) VALUES (?1, ?2, ?3)
             ON CONFLICT (peer, doc_id) DO UPDATE SET state = excluded.state WHERE state <> excluded.state",
            params![peer, doc_id, state],
        )?;
        Ok(())
    }
}

impl SyncStore for TerminalSyncStore<'_> {
    type Error = CoreError;

    fn sync_doc_ids(&mut self) -> CoreResult<Vec<String>> {
        self.terminal.sync_doc_ids()
    }

    fn has_doc(&mut self, doc_id: &str) -> CoreResult<bool> {
        let t = &mut *self.terminal;
        t.docs.exists(&t.conn, doc_id)
    }

    fn accepts_new_doc(&mut self, _doc_id: &str) -> bool {
        // Peers are authenticated as the store's server or the store's own tills; whatever they
        // offer is a document of this store, and it is checked when it is applied.
        true
    }

    fn heads(&mut self, doc_id: &str) -> CoreResult<Vec<ChangeHash>> {
        if !self.has_doc(doc_id)? {
            return Ok(Vec::new());
        }
        let t = &mut *self.terminal;
        t.docs.heads(&t.conn, doc_id)
    }

    fn generate(&mut self, doc_id: &str, state: &mut State) -> CoreResult<Option<SyncMessage>> {
        if self.has_doc(doc_id)? {
            let t = &mut *self.terminal;
            return Ok(t
                .docs
                .get(&t.conn, doc_id)?
                .sync()
                .generate_sync_message(state));
        }
        Ok(self
            .pending
            .entry(doc_id.to_string())
            .or_default()
            .sync()
            .generate_sync_message(state))
    }

    fn receive(
        &mut self,
        doc_id: &str,
        state: &mut State,
        message: SyncMessage,
    ) -> CoreResult<bool> {
        crate::chunks::ChunkKey::new(&[doc_id])?;
        if !self.has_doc(doc_id)? {
            let scratch = self.pending.entry(doc_id.to_string()).or_default();
            crate::docs::receive_sync(scratch, doc_id, state, message)?;
            if DocumentKind::of(scratch).is_none() {
                return Ok(false); // nothing usable yet (e.g. only heads)
            }
            let bytes = scratch.save();
            self.terminal.merge_document(doc_id, &bytes)?;
            self.pending.remove(doc_id);
            return Ok(true);
        }
        let t = &mut *self.terminal;
        t.invalidate_caches();
        let changed = t.write(|tx, d| {
            let doc = d.get_mut(tx, doc_id)?;
            let before = doc.get_heads();
            let ((), patches) = crate::docs::with_patches(doc, |doc| {
                crate::docs::receive_sync(doc, doc_id, state, message)
            })?;
            if doc.get_heads() == before {
                return Ok(false);
            }
            let kind = DocumentKind::of(doc).ok_or_else(|| CoreError::Document {
                doc: doc_id.into(),
                reason: "has no kind".into(),
            })?;
            let scope = scope_of(doc, kind);
            register_doc(tx, doc_id, kind, &scope)?;
            crate::projection::project_change(tx, d, doc_id, kind, patches)?;
            Ok(true)
        })?;
        // The store root carries the signed LAN roster: a newer one, signed by the store, is
        // taken at once (a forged or older one is ignored there).
        if changed
            && doc_id == t.identity()?.root_doc
            && let Err(e) = t.adopt_root_lan_roster()
        {
            tracing::warn!(error = %e, "LAN roster in the store root not taken");
        }
        Ok(changed)
    }

    fn load_state(&mut self, peer: &str, doc_id: &str) -> CoreResult<Option<Vec<u8>>> {
        self.terminal.load_sync_state(peer, doc_id)
    }

    fn save_state(&mut self, peer: &str, doc_id: &str, state: &[u8]) -> CoreResult<()> {
        self.terminal.save_sync_state(peer, doc_id, state)
    }
}
