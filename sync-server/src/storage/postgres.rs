//! PostgreSQL backend (production; several server instances may share it).

use futures::future::BoxFuture;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

use super::{
    Chunk, ConflictListRow, DayTotal, DocClaim, EnrollmentCodeRow, InstanceRow, KeyTotal,
    OverRefundRow, ProductTotal, RefreshTokenRow, RefundListRow, SaleListRow, ShiftListRow,
    StockLevel, StoreRow, Tenant, TerminalRow, UserRow,
};
use crate::error::{Error, Result};
use crate::projection::ProjectedDoc;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/server-postgres");

/// Storage on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgStorage {
    pool: PgPool,
}

impl PgStorage {
    /// Connects (without migrating). `url` is a `postgres://` URL.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("invalid database URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Self { pool })
    }

    /// The underlying pool (projections and reports use it directly).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

super::impl_storage!(PgStorage, "postgres", MIGRATOR);
super::store_docs::impl_store_docs!(PgStorage);
