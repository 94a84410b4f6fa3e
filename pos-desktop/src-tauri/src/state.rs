//! The app's one state: the terminal store, the cashier's session (who is logged in, the cart
//! on the till), the print queue and the background services (server sync, LAN sync).
//!
//! Every command runs its pos-core call through [`App::blocking`] / [`App::with_terminal`]:
//! the closure runs on tokio's blocking pool and takes the std mutexes inside it, so no lock is
//! ever held across an `.await` (tauri#15891) and SQLite work never stalls the async threads.
//! Lock order, where more than one is taken: terminal, then session, then print queue.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};

use pos_core::Terminal;
use pos_core::print_queue::{PrintQueue, QueueConfig};
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::users::StoreUser;
use pos_core::sync::client::SyncClient;
use pos_core::sync::lan::LanSync;

use crate::error::{AppError, AppResult};

/// The environment variable naming the directory of `terminal.db` (tests, several tills on one
/// machine); without it the OS's app data directory is used.
pub const DATA_DIR_ENV: &str = "SNAPKASIR_DATA_DIR";

/// The cashier at the till and the cart being rung up.
#[derive(Debug, Default)]
pub struct Session {
    /// Logged in by PIN; `None` after `lock` (the cart stays).
    pub user: Option<StoreUser>,
    pub cart: Cart,
    /// The cart was resumed from the parked list (so a double claim is looked for).
    pub resumed: bool,
}

/// The background services, present once the terminal is enrolled (server) or holds a store key
/// (LAN).
#[derive(Debug, Default)]
pub struct Services {
    pub sync: Option<SyncClient>,
    pub lan: Option<LanSync>,
}

#[derive(Debug)]
pub struct Inner {
    pub terminal: Arc<Mutex<Terminal>>,
    pub session: Mutex<Session>,
    pub print: Mutex<PrintQueue>,
    pub services: Mutex<Services>,
    pub data_dir: PathBuf,
    /// Wakes the print-job watcher (a job was queued or changed by a command).
    pub print_changed: Mutex<mpsc::Sender<()>>,
    ready_announced: AtomicBool,
}

/// The managed state (cheap to clone into blocking closures and watchers).
#[derive(Debug, Clone)]
pub struct App(pub Arc<Inner>);

/// Locks a mutex; a panic elsewhere while holding it does not make the state unusable (every
/// guarded value is left consistent by the pos-core calls, which commit or roll back).
pub fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl App {
    /// Opens the terminal store and the print queue in `data_dir` (created if missing, 0700).
    pub fn open(data_dir: &Path) -> AppResult<(App, mpsc::Receiver<()>)> {
        // Private (0700 when created): the store file in it holds the till's secrets.
        pos_core::private_files::create_dir(data_dir).map_err(|e| AppError::Core(e.into()))?;
        let db = data_dir.join("terminal.db");
        let mut terminal = Terminal::open(&db)?;
        // Checkout returns right after its SQLite commit of the sale; the sale's query-table
        // rows, its print job and the journal document are written by `drain_journal_soon`
        // off the cashier's wait (BENCHMARKS.md, "checkout + journal update"), or by the next
        // command first (`with_terminal`). Entries wait durably in the outbox; opening the
        // store drains them too.
        terminal.set_defer_journal(true);
        let print = PrintQueue::open(&db, QueueConfig::default())?;
        let (tx, rx) = mpsc::channel();
        let inner = Inner {
            terminal: Arc::new(Mutex::new(terminal)),
            session: Mutex::new(Session::default()),
            print: Mutex::new(print),
            services: Mutex::new(Services::default()),
            data_dir: data_dir.to_path_buf(),
            print_changed: Mutex::new(tx),
            ready_announced: AtomicBool::new(false),
        };
        Ok((App(Arc::new(inner)), rx))
    }

    /// Runs `f` on the blocking pool; `f` takes the locks it needs.
    pub async fn blocking<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> AppResult<T> + Send + 'static,
    {
        let inner = self.0.clone();
        tauri::async_runtime::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| AppError::Internal(format!("blocking task: {e}")))?
    }

    /// Runs `f` on the blocking pool with the terminal locked (inside the task), after the
    /// sales a deferred checkout committed are in the query tables, so `f` reads them.
    pub async fn with_terminal<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Terminal, &Inner) -> AppResult<T> + Send + 'static,
    {
        self.blocking(move |inner| {
            let mut t = guard(&inner.terminal);
            inner.project_sales(&mut t)?;
            f(&mut t, inner)
        })
        .await
    }

    /// Projects the sales checkout committed (query tables, print jobs) and applies committed
    /// journal entries (sales, shifts, stock) to their documents, in one transaction, in the
    /// background, then tells the print-job watcher and offers them to the sync services; then
    /// compacts the documents that are due (`Terminal::compact_documents`), off the command
    /// that made them due. Not through `with_terminal`, whose projection would be a
    /// transaction of its own.
    pub fn drain_journal_soon(&self) {
        let app = self.clone();
        tauri::async_runtime::spawn(async move {
            let drained = app
                .blocking(|inner| {
                    let mut t = guard(&inner.terminal);
                    let drained = t.drain_outbox();
                    // Even when the journal update failed, the sales were projected.
                    inner.print_jobs_changed();
                    let applied = drained?;
                    inner.nudge_sync();
                    if let Err(e) = t.compact_documents() {
                        // The chunks stay as they were; the next write past the bound compacts.
                        tracing::warn!(error = %e, "compacting documents failed");
                    }
                    Ok(applied)
                })
                .await;
            if let Err(e) = drained {
                // The entries stay in the outbox; the next drain or the next start applies them.
                tracing::warn!(error = %e, "journal update failed; left in the outbox");
            }
        });
    }

    /// True the first time only: the UI's first paint is announced once.
    pub fn first_ready(&self) -> bool {
        !self.0.ready_announced.swap(true, Ordering::SeqCst)
    }
}

impl Inner {
    /// Projects the sales a deferred checkout committed (query tables, receipt print jobs),
    /// with the terminal locked as `t`, and tells the print-job watcher when any waited.
    /// Before anything reads sales or their print jobs: the drain after `pay` may not have run.
    pub fn project_sales(&self, t: &mut Terminal) -> AppResult<()> {
        if t.project_committed_sales()? > 0 {
            self.print_jobs_changed();
        }
        Ok(())
    }

    /// Tells the print-job watcher to look now.
    pub fn print_jobs_changed(&self) {
        let _ = guard(&self.print_changed).send(());
    }

    /// Tells the sync services that local documents changed (a sale, a parked cart).
    pub fn nudge_sync(&self) {
        let services = guard(&self.services);
        if let Some(s) = &services.sync {
            s.nudge();
        }
        if let Some(l) = &services.lan {
            l.nudge();
        }
    }
}

/// The logged-in user, or `not_logged_in`.
pub fn require_user(session: &Session) -> AppResult<StoreUser> {
    session.user.clone().ok_or(AppError::NotLoggedIn)
}
