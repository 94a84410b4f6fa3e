//! What concerns the database as a whole ([`Storage`]: backend name, ping, migrations).
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::Result;
use crate::storage::Storage;

impl Storage for Backend {
    fn backend(&self) -> &'static str {
        super::BACKEND
    }

    fn max_connections(&self) -> u32 {
        self.pool.options().get_max_connections()
    }

    fn ping(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            sqlx::query("SELECT 1").execute(&self.pool).await?;
            Ok(())
        })
    }

    fn migrate(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            super::MIGRATOR.run(&self.pool).await?;
            Ok(())
        })
    }
}
