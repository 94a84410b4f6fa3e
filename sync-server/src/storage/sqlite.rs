//! Embedded SQLite backend: the default when no PostgreSQL URL is configured.
//! One file, `snapkasir-server.db`, in the data directory, WAL journal.

use futures::future::BoxFuture;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

use super::{
    Chunk, ConflictListRow, DayTotal, DocClaim, EnrollmentCodeRow, InstanceRow, KeyTotal,
    OverRefundRow, ProductTotal, RefreshTokenRow, RefundListRow, SaleListRow, ShiftListRow,
    StockLevel, StoreRow, Tenant, TerminalRow, UserRow,
};
use crate::error::{Error, Result};
use crate::projection::ProjectedDoc;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/server-sqlite");

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "snapkasir-server.db";

/// Storage in an embedded SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    pool: SqlitePool,
}

impl SqliteStorage {
    /// Opens (creating if needed) the database in `data_dir`, without migrating.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let opts = SqliteConnectOptions::new()
            .filename(data_dir.join(DB_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        Ok(Self { pool })
    }

    /// The underlying pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

super::impl_storage!(SqliteStorage, "sqlite", MIGRATOR);
super::store_docs::impl_store_docs!(SqliteStorage);
