//! SQL of [`AppStorage`]: app credentials.
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::{Error, Result};
use crate::storage::{AppCredentialRow, AppStorage};

/// The columns of [`AppCredentialRow`], in `concat!` (sqlx takes static query texts).
macro_rules! columns {
    () => {
        "id, tenant_id, name, secret_hash, created_by, created_at, revoked_at, last_used_at"
    };
}

impl AppStorage for Backend {
    fn insert_app_credential<'a>(&'a self, c: &'a AppCredentialRow) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO app_credentials (id, tenant_id, name, secret_hash, created_by, \
                 created_at, revoked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&c.id)
            .bind(&c.tenant_id)
            .bind(&c.name)
            .bind(&c.secret_hash)
            .bind(&c.created_by)
            .bind(c.created_at)
            .bind(c.revoked_at)
            .bind(c.last_used_at)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::from_insert(e, "app credential collision"))?;
            Ok(())
        })
    }

    fn app_credential<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<AppCredentialRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                columns!(),
                " FROM app_credentials WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn app_credential_by_secret<'a>(
        &'a self,
        secret_hash: &'a str,
    ) -> BoxFuture<'a, Result<Option<AppCredentialRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                columns!(),
                " FROM app_credentials WHERE secret_hash = $1"
            ))
            .bind(secret_hash)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn app_credentials_of_tenant<'a>(
        &'a self,
        tenant_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<AppCredentialRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                columns!(),
                " FROM app_credentials WHERE tenant_id = $1 \
                 ORDER BY created_at, id"
            ))
            .bind(tenant_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn revoke_app_credential<'a>(
        &'a self,
        id: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<AppCredentialRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(concat!(
                "UPDATE app_credentials SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 \
                 RETURNING ",
                columns!(),
                ""
            ))
            .bind(id)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn touch_app_credential<'a>(&'a self, id: &'a str, now: i64) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query("UPDATE app_credentials SET last_used_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }

    fn app_credentials_revoked_since(&self, since: i64) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar("SELECT id FROM app_credentials WHERE revoked_at >= $1")
                    .bind(since)
                    .fetch_all(&self.pool)
                    .await?,
            )
        })
    }
}
