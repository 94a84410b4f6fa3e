//! Embedded SQLite backend: the default when no PostgreSQL URL is configured.
//! One file, `snapkasir-server.db`, in the data directory, WAL journal. The area
//! implementations in `sql/` are compiled here (module `sql`) with `Backend` = [`SqliteStorage`] (see the
//! module documentation of [`crate::storage`]).

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

use crate::error::Result;
use crate::storage::projections::{RowValue, RowValues};

#[allow(
    clippy::duplicate_mod,
    reason = "sql/ is compiled once per backend, on purpose"
)]
#[path = "sql/mod.rs"]
mod sql;

/// The storage type the `sql/` files implement, in this module.
type Backend = SqliteStorage;

/// The sqlx database of `Backend`.
type Db = sqlx::Sqlite;

/// [`crate::storage::Storage::backend`].
const BACKEND: &str = "sqlite";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/server-sqlite");

/// Ids of the store's projected sales and refunds among a JSON array of ids (`$2`), unpacked
/// by SQLite's own JSON function so that any number of ids costs one query.
const PROJECTED_RECORDS_SQL: &str = "SELECT id FROM sales WHERE tenant_id = $1 AND store_id = $2 AND id IN \
     (SELECT value FROM json_each($3)) \
     UNION SELECT id FROM refunds WHERE tenant_id = $1 AND store_id = $2 AND id IN \
     (SELECT value FROM json_each($3))";

/// [`sql`]'s `lock_projected`: the `projected_docs` rows of a `VALUES` list of
/// `(tenant_id, doc_id)`, read by a no-op `UPDATE` so that the transaction writes first (SQLite
/// has no row locks; its one writer is the lock).
const LOCK_PROJECTED_SQL: (&str, &str) = (
    "UPDATE projected_docs SET projected_at = projected_at WHERE (tenant_id, doc_id) IN (",
    ") RETURNING tenant_id, doc_id, projected_at",
);

/// A backup's transaction needs no setting: SQLite's read transaction (WAL) is one snapshot
/// from its first read.
const SNAPSHOT_SQL: Option<&str> = None;

/// [`sql`]'s projection `INSERT`s: one multi-row `VALUES` list. Not kept as a prepared
/// statement: each row count is a different text (SQLite parses in process, without a round
/// trip; PostgreSQL's way is another, see `postgres.rs`).
async fn insert_projected_rows(
    tx: &mut sqlx::Transaction<'static, Db>,
    insert: &str,
    tail: &str,
    rows: &[RowValues<'_>],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut q = sqlx::QueryBuilder::<Db>::new(insert);
    q.push(" ");
    q.push_values(rows, |mut row, values| {
        for value in &values.0 {
            match *value {
                RowValue::Text(t) => row.push_bind(t),
                RowValue::Int(n) => row.push_bind(n),
                RowValue::Bool(b) => row.push_bind(b),
            };
        }
    });
    q.push(" ");
    q.push(tail);
    q.build().persistent(false).execute(&mut **tx).await?;
    Ok(())
}

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "snapkasir-server.db";

/// Storage in an embedded SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    pool: SqlitePool,
}

impl SqliteStorage {
    /// Opens (creating if needed) the database in `data_dir`, without migrating. A directory
    /// it creates is 0700 and the database file 0600 ([`super::private_files`]).
    pub async fn open(data_dir: &Path) -> Result<Self> {
        super::private_files::create_dir(data_dir)?;
        let file = data_dir.join(DB_FILE);
        super::private_files::prepare_database(&file)?;
        let opts = SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // A connection to a local file does not drop the way a network connection does: no
        // ping (a round trip to the connection's worker thread) before each use.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(opts)
            .await?;
        Ok(Self { pool })
    }

    /// The underlying pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
