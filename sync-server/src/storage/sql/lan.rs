//! SQL of [`LanStorage`]: the stores' LAN secrets and versions, the tills' LAN keys.
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::{Error, Result};
use crate::storage::{LanStorage, StoreLanRow, TerminalLanKey};

/// The columns of [`StoreLanRow`], as a literal for `concat!` (static SQL text for sqlx).
macro_rules! store_lan_columns {
    () => {
        "store_id, signing_key, pin_pepper, roster_version, store_key_version, created_at"
    };
}

impl LanStorage for Backend {
    fn store_lan_init<'a>(&'a self, fresh: &'a StoreLanRow) -> BoxFuture<'a, Result<StoreLanRow>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO store_lan (tenant_id, store_id, signing_key, pin_pepper, roster_version, \
                 store_key_version, created_at) \
                 VALUES ((SELECT tenant_id FROM stores WHERE id = $1), $1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (tenant_id, store_id) DO NOTHING",
            )
            .bind(&fresh.store_id)
            .bind(&fresh.signing_key)
            .bind(&fresh.pin_pepper)
            .bind(fresh.roster_version)
            .bind(fresh.store_key_version)
            .bind(fresh.created_at)
            .execute(&self.pool)
            .await?;
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                store_lan_columns!(),
                " FROM store_lan WHERE store_id = $1"
            ))
            .bind(&fresh.store_id)
            .fetch_one(&self.pool)
            .await?)
        })
    }

    fn store_lan<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<Option<StoreLanRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                store_lan_columns!(),
                " FROM store_lan WHERE store_id = $1"
            ))
            .bind(store_id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn bump_lan_roster<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<StoreLanRow>> {
        Box::pin(async move {
            sqlx::query_as(concat!(
                "UPDATE store_lan SET roster_version = roster_version + 1 WHERE store_id = $1 \
                 RETURNING ",
                store_lan_columns!()
            ))
            .bind(store_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound("store has no LAN row"))
        })
    }

    fn rotate_store_key<'a>(
        &'a self,
        store_id: &'a str,
        new_key: &'a str,
    ) -> BoxFuture<'a, Result<StoreLanRow>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            sqlx::query("UPDATE stores SET store_key = $2 WHERE id = $1")
                .bind(store_id)
                .bind(new_key)
                .execute(&mut *tx)
                .await?;
            let row: Option<StoreLanRow> = sqlx::query_as(concat!(
                "UPDATE store_lan SET roster_version = roster_version + 1, \
                 store_key_version = store_key_version + 1 WHERE store_id = $1 RETURNING ",
                store_lan_columns!()
            ))
            .bind(store_id)
            .fetch_optional(&mut *tx)
            .await?;
            let row = row.ok_or(Error::NotFound("store has no LAN row"))?;
            tx.commit().await?;
            Ok(row)
        })
    }

    fn lan_rosters_to_publish(&self) -> BoxFuture<'_, Result<Vec<(String, i64)>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT l.store_id, l.roster_version FROM store_lan l \
                 JOIN store_roots r ON r.store_id = l.store_id \
                 WHERE l.published_version < l.roster_version",
            )
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn mark_lan_roster_published<'a>(
        &'a self,
        store_id: &'a str,
        version: i64,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE store_lan SET published_version = $2 \
                 WHERE store_id = $1 AND published_version < $2",
            )
            .bind(store_id)
            .bind(version)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn lan_roster_published<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<i64>> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar("SELECT published_version FROM store_lan WHERE store_id = $1")
                    .bind(store_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .unwrap_or(0),
            )
        })
    }

    fn reset_lan_roster_published<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query("UPDATE store_lan SET published_version = 0 WHERE store_id = $1")
                .bind(store_id)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }

    fn set_terminal_lan_key<'a>(&'a self, key: &'a TerminalLanKey) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO terminal_lan_keys (tenant_id, terminal_id, lan_key, set_at) \
                 VALUES ((SELECT tenant_id FROM terminals WHERE id = $1), $1, $2, $3) \
                 ON CONFLICT (tenant_id, terminal_id) DO UPDATE SET lan_key = excluded.lan_key, \
                 set_at = excluded.set_at",
            )
            .bind(&key.terminal_id)
            .bind(&key.lan_key)
            .bind(key.set_at)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn terminal_lan_keys<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<TerminalLanKey>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT k.terminal_id, k.lan_key, k.set_at FROM terminal_lan_keys k \
                 JOIN terminals t ON t.id = k.terminal_id WHERE t.store_id = $1",
            )
            .bind(store_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }
}
