//! The terminal store: one SQLite file holding the automerge documents as chunks and the local
//! query tables. Every use-case is a method of [`Terminal`].

use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use shared_model::codec::{BusinessDate, Timestamp};
use shared_model::documents::{
    CatalogDoc, DocumentKind, ParkedCartsDoc, SettingsDoc, StoreRootDoc, UsersDoc,
};
use shared_model::receipt_number::check_code;
use shared_model::settings::StoreSettings;
use tokio::sync::Notify;
use tracing::{info, instrument, warn};

use crate::db;
use crate::docs::{self, Docs, register_doc, scope_of};
use crate::error::{CoreError, CoreResult};

/// Who this terminal is and where its store's documents are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub store_id: String,
    pub store_code: String,
    pub terminal_code: String,
    /// Document ids (not URLs) of the store-wide documents.
    pub root_doc: String,
    pub catalog_doc: String,
    pub settings_doc: String,
    pub users_doc: String,
    pub parked_doc: String,
}

/// Setting up the first terminal of a new store: the store-wide documents are created here.
#[derive(Debug, Clone)]
pub struct NewStore {
    pub store_id: String,
    pub store_code: String,
    pub terminal_code: String,
    pub settings: StoreSettings,
}

/// Setting up another terminal of an existing store: the store's document ids and their
/// current bytes (from enrollment or a peer). The terminal never creates store-wide documents
/// of its own, so nothing it writes can shadow the store's.
#[derive(Debug, Clone)]
pub struct JoinStore {
    pub identity: Identity,
    pub documents: Vec<(String, Vec<u8>)>,
}

/// How long a user stays locked after [`crate::users::MAX_PIN_FAILURES`] wrong PINs.
pub const DEFAULT_PIN_LOCK: Duration = Duration::from_secs(5 * 60);

/// WAL pages not yet in the database file at which a write other than a checkout copies them
/// first ([`Terminal::checkpoint_if_due`]): SQLite's own default threshold.
const CHECKPOINT_DUE_PAGES: i64 = 1_000;

/// The terminal connection's own automatic checkpoint threshold (~40 MiB of WAL): reached only
/// when checkouts alone commit for a long while; other writes checkpoint at
/// [`CHECKPOINT_DUE_PAGES`] first.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;

/// An open terminal store.
#[derive(Debug)]
pub struct Terminal {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) docs: Docs,
    pub(crate) ident: Option<Identity>,
    pub(crate) pin_lock: Duration,
    pub(crate) defer_journal: bool,
    /// The outbox may hold sales committed by checkout and not yet in the query tables
    /// ([`Terminal::project_committed_sales`]); true on open, so the first look scans.
    pub(crate) unprojected_sales: bool,
    /// Settings and promotions as last read; cleared whenever a document may have changed
    /// them (an edit, a merge).
    pub(crate) settings_cache: Option<StoreSettings>,
    pub(crate) promotions_cache: Option<Vec<shared_model::promotion::Promotion>>,
    pub(crate) user_cache: crate::users::UserCache,
    /// This terminal's open shift as last read ([`Terminal::require_open_shift`]); cleared by
    /// every [`Terminal::write`], the only way its row changes (start, close, a merge).
    pub(crate) open_shift_cache: Option<shared_model::shift::Shift>,
    backup: Option<PathBuf>,
    /// The running sync client's wake-up ([`Terminal::nudge_sync`]); weak, so a stopped client
    /// is not kept alive by the terminal.
    sync_nudge: Option<Weak<Notify>>,
}

/// The environment variable that makes checkout abort the process right after the SQLite
/// commit and before the journal update (crash tests of the outbox only).
pub const CRASH_AFTER_COMMIT_ENV: &str = "POS_CORE_TEST_CRASH_AFTER_COMMIT";

impl Terminal {
    /// Opens (or creates) the store file, migrates it (backing it up first when it already has
    /// a schema), and applies every committed journal entry still waiting in the outbox.
    #[instrument(skip_all, fields(path = %path.as_ref().display()))]
    pub fn open(path: impl AsRef<Path>) -> CoreResult<Terminal> {
        let path = path.as_ref().to_path_buf();
        let mut conn = db::connect(&path)?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
        let backup = db::migrate(&mut conn, &path, db::MIGRATIONS)?;
        let ident = read_identity(&conn)?;
        let mut t = Terminal {
            conn,
            path,
            docs: Docs::new(),
            ident,
            pin_lock: DEFAULT_PIN_LOCK,
            defer_journal: false,
            unprojected_sales: true,
            settings_cache: None,
            promotions_cache: None,
            user_cache: Default::default(),
            open_shift_cache: None,
            backup,
            sync_nudge: None,
        };
        if t.ident.is_some() {
            let applied = t.drain_outbox()?;
            if applied > 0 {
                info!(applied, "applied committed journal entries from the outbox");
            }
        }
        Ok(t)
    }

    /// The backup taken before migrating on this open, if any.
    pub fn backup_taken(&self) -> Option<&Path> {
        self.backup.as_deref()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The automerge actor id this open writes with (fresh on every open).
    pub fn actor_id(&self) -> String {
        self.docs.actor().to_hex_string()
    }

    /// Registers the sync client to wake after every committed journal record (see
    /// [`crate::sync::client::SyncClient::start`]), so a sale leaves for the server at once
    /// in every shell.
    pub(crate) fn set_sync_nudge(&mut self, nudge: Weak<Notify>) {
        self.sync_nudge = Some(nudge);
    }

    /// Wakes the sync client, if one runs, to offer local changes now.
    pub(crate) fn nudge_sync(&self) {
        if let Some(nudge) = self.sync_nudge.as_ref().and_then(Weak::upgrade) {
            nudge.notify_one();
        }
    }

    /// Lets tests shorten the PIN lockout.
    pub fn set_pin_lock_duration(&mut self, d: Duration) {
        self.pin_lock = d;
    }

    pub fn identity(&self) -> CoreResult<&Identity> {
        self.ident.as_ref().ok_or(CoreError::NotInitialized)
    }

    /// Sets up the first terminal of a new store.
    #[instrument(skip_all, fields(store = %new.store_code, terminal = %new.terminal_code))]
    pub fn create_store(&mut self, new: NewStore) -> CoreResult<Identity> {
        if self.ident.is_some() {
            return Err(CoreError::AlreadyInitialized);
        }
        check_code("store code", &new.store_code)?;
        check_code("terminal code", &new.terminal_code)?;
        if new.store_id.trim().is_empty() {
            return Err(CoreError::Invalid("store id must not be empty".into()));
        }
        new.settings.validate()?;
        let ident = Identity {
            store_id: new.store_id.clone(),
            store_code: new.store_code.clone(),
            terminal_code: new.terminal_code.clone(),
            root_doc: docs::new_document_id(),
            catalog_doc: docs::new_document_id(),
            settings_doc: docs::new_document_id(),
            users_doc: docs::new_document_id(),
            parked_doc: docs::new_document_id(),
        };
        let root = StoreRootDoc::new(
            &new.store_id,
            &new.store_code,
            &new.settings.store_name,
            [
                docs::url(&ident.catalog_doc),
                docs::url(&ident.settings_doc),
                docs::url(&ident.users_doc),
                docs::url(&ident.parked_doc),
            ],
        );
        let i = ident.clone();
        self.write(|tx, d| {
            d.create(&i.root_doc, &root)?;
            d.create(&i.catalog_doc, &CatalogDoc::new(&i.store_id))?;
            d.create(
                &i.settings_doc,
                &SettingsDoc::new(&i.store_id, new.settings),
            )?;
            d.create(&i.users_doc, &UsersDoc::new(&i.store_id))?;
            d.create(&i.parked_doc, &ParkedCartsDoc::new(&i.store_id))?;
            insert_identity(tx, &i)?;
            Ok(())
        })?;
        self.ident = Some(ident.clone());
        Ok(ident)
    }

    /// Sets up another terminal of an existing store from its documents.
    #[instrument(skip_all, fields(terminal = %join.identity.terminal_code))]
    pub fn join_store(&mut self, join: JoinStore) -> CoreResult<Identity> {
        if self.ident.is_some() {
            return Err(CoreError::AlreadyInitialized);
        }
        let i = join.identity;
        check_code("store code", &i.store_code)?;
        check_code("terminal code", &i.terminal_code)?;
        for (id, _) in &join.documents {
            crate::chunks::ChunkKey::new(&[id.as_str()])?;
        }
        let needed = [
            &i.root_doc,
            &i.catalog_doc,
            &i.settings_doc,
            &i.users_doc,
            &i.parked_doc,
        ];
        for n in needed {
            if !join.documents.iter().any(|(id, _)| id == n) {
                return Err(CoreError::NotFound {
                    what: "store document",
                    id: n.clone(),
                });
            }
        }
        let ident = i.clone();
        self.write(|tx, d| {
            insert_identity(tx, &ident)?;
            for (id, bytes) in &join.documents {
                d.merge_bytes(tx, id, bytes)?;
                let kind = DocumentKind::of(d.get(tx, id)?).ok_or_else(|| CoreError::Document {
                    doc: id.clone(),
                    reason: "has no kind".into(),
                })?;
                register_doc(tx, id, kind, &scope_of(d.get(tx, id)?, kind))?;
                crate::projection::project_doc(tx, d, id, kind)?;
            }
            Ok(())
        })?;
        self.ident = Some(i.clone());
        Ok(i)
    }

    /// The store's settings (from the settings document).
    pub fn settings(&mut self) -> CoreResult<StoreSettings> {
        if let Some(s) = &self.settings_cache {
            return Ok(s.clone());
        }
        let id = self.identity()?.settings_doc.clone();
        let doc = self.docs.get(&self.conn, &id)?;
        let settings = docs::read::<SettingsDoc>(doc)?.settings;
        self.settings_cache = Some(settings.clone());
        Ok(settings)
    }

    /// Forgets cached settings and promotions (after a document changed).
    pub(crate) fn invalidate_caches(&mut self) {
        self.settings_cache = None;
        self.promotions_cache = None;
    }

    /// Replaces the store's settings (tax rules, rounding, business day, receipt texts…).
    #[instrument(skip_all)]
    pub fn update_settings(&mut self, settings: StoreSettings) -> CoreResult<()> {
        settings.validate()?;
        let id = self.identity()?.settings_doc.clone();
        self.invalidate_caches();
        self.write(|tx, d| {
            let doc = d.get_mut(tx, &id)?;
            autosurgeon::reconcile_prop(doc, automerge::ROOT, "settings", &settings).map_err(
                |e| CoreError::Document {
                    doc: id.clone(),
                    reason: e.to_string(),
                },
            )?;
            Ok(())
        })
    }

    /// The business date of an instant under the store's settings.
    pub fn business_date_at(&mut self, at: Timestamp) -> CoreResult<BusinessDate> {
        Ok(self.settings()?.business_day.business_date(at)?)
    }

    /// Every document this store holds: (id, kind, scope).
    pub fn documents(&self) -> CoreResult<Vec<(String, String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT doc_id, kind, scope FROM documents ORDER BY kind, scope")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A document's full bytes, for a peer, a backup or the sync layer.
    pub fn export_document(&mut self, doc_id: &str) -> CoreResult<Vec<u8>> {
        self.docs.save(&self.conn, doc_id)
    }

    /// Loads every document afresh from the file (checks they all load).
    pub fn load_all_documents(&mut self) -> CoreResult<usize> {
        self.docs.clear();
        let ids = self.documents()?;
        for (id, _, _) in &ids {
            let doc = self.docs.get(&self.conn, id)?;
            if DocumentKind::of(doc).is_none() {
                return Err(CoreError::Document {
                    doc: id.clone(),
                    reason: "has no kind".into(),
                });
            }
        }
        Ok(ids.len())
    }

    /// Merges a document received from a peer or the sync layer and updates the query tables
    /// from it, in one transaction. Malformed bytes are refused and change nothing.
    #[instrument(skip_all, fields(doc = doc_id))]
    pub fn merge_document(&mut self, doc_id: &str, bytes: &[u8]) -> CoreResult<()> {
        self.identity()?;
        crate::chunks::ChunkKey::new(&[doc_id])?;
        self.invalidate_caches();
        let res = self.write(|tx, d| {
            let patches = d.merge_bytes(tx, doc_id, bytes)?;
            let kind = DocumentKind::of(d.get(tx, doc_id)?).ok_or_else(|| CoreError::Document {
                doc: doc_id.to_string(),
                reason: "has no kind".into(),
            })?;
            let scope = scope_of(d.get(tx, doc_id)?, kind);
            register_doc(tx, doc_id, kind, &scope)?;
            crate::projection::project_change(tx, d, doc_id, kind, patches)?;
            Ok(())
        });
        if let Err(e) = &res {
            warn!(error = %e, "refused a document");
        }
        res
    }

    /// `PRAGMA integrity_check`: `ok` when the file is sound.
    pub fn integrity_check(&self) -> CoreResult<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Compacts the documents that are due ([`docs::COMPACT_DUE`] chunks or more) into one
    /// snapshot each, in one transaction; returns how many. Off the write that made them due,
    /// which would otherwise wait for a large document's whole save (a catalog of 100,000
    /// products: ~250 ms). The shell runs it after a command that wrote returns.
    pub fn compact_documents(&mut self) -> CoreResult<usize> {
        let Terminal { conn, docs, .. } = self;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let compacted = docs.compact_due(&tx)?;
        tx.commit()?;
        let n = compacted.len();
        docs.committed(compacted);
        Ok(n)
    }

    /// Runs `f` in one IMMEDIATE transaction; the documents it touched are saved as chunks in
    /// the same transaction. On any error nothing is written and the touched documents are
    /// reloaded from the file on next use. Sales a checkout committed are projected into the
    /// query tables first, so `f` reads them ([`Terminal::project_committed_sales`]).
    pub(crate) fn write<T>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>, &mut Docs) -> CoreResult<T>,
    ) -> CoreResult<T> {
        self.project_committed_sales()?;
        self.open_shift_cache = None;
        self.transact(f)
    }

    /// [`Terminal::write`] without projecting committed sales first (for that projection and
    /// the outbox drain, neither of which changes a shift), after a WAL checkpoint when one is
    /// due ([`Terminal::checkpoint_if_due`]).
    pub(crate) fn transact<T>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>, &mut Docs) -> CoreResult<T>,
    ) -> CoreResult<T> {
        self.checkpoint_if_due()?;
        self.commit(f)
    }

    /// Copies the WAL into the database file when it holds [`CHECKPOINT_DUE_PAGES`] pages
    /// not yet copied, before a write that is not a checkout. SQLite would otherwise do it
    /// inside whichever commit crosses the threshold (a checkpoint syncs the file: several
    /// times a commit's cost), and the first commit after it restarts the WAL and syncs the
    /// WAL's new header too: a second fsync. Taken here, both land on this write (the outbox
    /// drain that follows every checkout, a shift, an edit), not on a cashier's checkout.
    /// The connection's own threshold ([`WAL_AUTOCHECKPOINT_PAGES`]) still bounds the WAL
    /// when nothing but checkouts commits.
    pub(crate) fn checkpoint_if_due(&self) -> CoreResult<()> {
        let (in_wal, copied): (i64, i64) = self
            .conn
            .prepare_cached("PRAGMA wal_checkpoint(NOOP)")?
            .query_row([], |r| Ok((r.get(1)?, r.get(2)?)))?;
        if in_wal - copied >= CHECKPOINT_DUE_PAGES {
            self.conn
                .prepare_cached("PRAGMA wal_checkpoint(PASSIVE)")?
                .query_row([], |_| Ok(()))?;
        }
        Ok(())
    }

    /// Runs `f` in one IMMEDIATE transaction, as it is: for checkout's commit, and under
    /// [`Terminal::transact`].
    pub(crate) fn commit<T>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>, &mut Docs) -> CoreResult<T>,
    ) -> CoreResult<T> {
        let Terminal { conn, docs, .. } = self;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        docs.begin();
        let result = f(&tx, docs).and_then(|v| {
            let saved = docs.persist(&tx)?;
            tx.commit()?;
            Ok((v, saved))
        });
        match result {
            Ok((v, saved)) => {
                docs.committed(saved);
                Ok(v)
            }
            Err(e) => {
                docs.abort();
                Err(e)
            }
        }
    }
}

fn read_identity(conn: &Connection) -> CoreResult<Option<Identity>> {
    Ok(conn
        .query_row(
            "SELECT store_id, store_code, terminal_code, root_doc, catalog_doc, settings_doc,
                    users_doc, parked_doc FROM terminal_identity WHERE id = 1",
            [],
            |r| {
                Ok(Identity {
                    store_id: r.get(0)?,
                    store_code: r.get(1)?,
                    terminal_code: r.get(2)?,
                    root_doc: r.get(3)?,
                    catalog_doc: r.get(4)?,
                    settings_doc: r.get(5)?,
                    users_doc: r.get(6)?,
                    parked_doc: r.get(7)?,
                })
            },
        )
        .optional()?)
}

fn insert_identity(tx: &Transaction<'_>, i: &Identity) -> CoreResult<()> {
    tx.execute(
        "INSERT INTO terminal_identity (id, store_id, store_code, terminal_code, root_doc,
            catalog_doc, settings_doc, users_doc, parked_doc, created_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            i.store_id,
            i.store_code,
            i.terminal_code,
            i.root_doc,
            i.catalog_doc,
            i.settings_doc,
            i.users_doc,
            i.parked_doc,
            Timestamp::now().to_string()
        ],
    )?;
    for (id, kind) in [
        (&i.root_doc, DocumentKind::StoreRoot),
        (&i.catalog_doc, DocumentKind::Catalog),
        (&i.settings_doc, DocumentKind::Settings),
        (&i.users_doc, DocumentKind::Users),
        (&i.parked_doc, DocumentKind::ParkedCarts),
    ] {
        register_doc(tx, id, kind, "")?;
    }
    Ok(())
}
