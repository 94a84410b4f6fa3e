//! SQL of [`AccountStorage`]: server settings, tenants, stores, users, terminals, enrollment
//! codes and refresh tokens.
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::{Error, Result};
use crate::storage::{
    AccountStorage, EnrollmentCodeRow, RefreshTokenRow, RefreshUse, StoreRow, Tenant,
    TerminalReport, TerminalRow, TerminalStatusRow, UserRow,
};

impl AccountStorage for Backend {
    fn setting<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar("SELECT value FROM server_settings WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?,
            )
        })
    }

    fn setting_init<'a>(&'a self, key: &'a str, value: &'a str) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO server_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
            Ok(
                sqlx::query_scalar("SELECT value FROM server_settings WHERE key = $1")
                    .bind(key)
                    .fetch_one(&self.pool)
                    .await?,
            )
        })
    }

    fn insert_tenant<'a>(&'a self, t: &'a Tenant) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(&t.id)
                .bind(&t.name)
                .bind(t.created_at)
                .execute(&self.pool)
                .await
                .map_err(|e| Error::from_insert(e, "tenant already exists"))?;
            Ok(())
        })
    }

    fn tenant<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Tenant>>> {
        Box::pin(async move {
            Ok(
                sqlx::query_as("SELECT id, name, created_at FROM tenants WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?,
            )
        })
    }

    fn insert_store<'a>(&'a self, s: &'a StoreRow) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO stores (id, tenant_id, code, name, store_key, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&s.id)
            .bind(&s.tenant_id)
            .bind(&s.code)
            .bind(&s.name)
            .bind(&s.store_key)
            .bind(s.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::from_insert(e, "store code already used"))?;
            Ok(())
        })
    }

    fn store<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoreRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT id, tenant_id, code, name, store_key, created_at FROM stores WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn stores_of_tenant<'a>(&'a self, tenant_id: &'a str) -> BoxFuture<'a, Result<Vec<StoreRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT id, tenant_id, code, name, store_key, created_at FROM stores \
                 WHERE tenant_id = $1 ORDER BY code",
            )
            .bind(tenant_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn insert_user<'a>(&'a self, u: &'a UserRow) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO users (id, tenant_id, store_id, email, password_hash, role, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&u.id)
            .bind(&u.tenant_id)
            .bind(&u.store_id)
            .bind(&u.email)
            .bind(&u.password_hash)
            .bind(&u.role)
            .bind(u.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::from_insert(e, "email already registered"))?;
            Ok(())
        })
    }

    fn user<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<UserRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT id, tenant_id, store_id, email, password_hash, role, created_at, \
                 disabled_at FROM users WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn managers_of_store<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<Vec<UserRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT id, tenant_id, store_id, email, password_hash, role, created_at, \
                 disabled_at FROM users WHERE store_id = $1 AND role = 'manager' ORDER BY email, id",
            )
            .bind(store_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn user_by_email<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Option<UserRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT id, tenant_id, store_id, email, password_hash, role, created_at, \
                 disabled_at FROM users WHERE email = $1",
            )
            .bind(email)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn insert_enrollment_code<'a>(&'a self, c: &'a EnrollmentCodeRow) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO enrollment_codes (code_hash, tenant_id, store_id, created_by, \
                 terminal_name, created_at, expires_at, used_at, terminal_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&c.code_hash)
            .bind(&c.tenant_id)
            .bind(&c.store_id)
            .bind(&c.created_by)
            .bind(&c.terminal_name)
            .bind(c.created_at)
            .bind(c.expires_at)
            .bind(c.used_at)
            .bind(&c.terminal_id)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::from_insert(e, "enrollment code collision"))?;
            Ok(())
        })
    }

    fn enrollment_code<'a>(
        &'a self,
        code_hash: &'a str,
    ) -> BoxFuture<'a, Result<Option<EnrollmentCodeRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT code_hash, tenant_id, store_id, created_by, terminal_name, created_at, \
                 expires_at, used_at, terminal_id FROM enrollment_codes WHERE code_hash = $1",
            )
            .bind(code_hash)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn redeem_enrollment_code<'a>(
        &'a self,
        code_hash: &'a str,
        terminal: &'a TerminalRow,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<EnrollmentCodeRow>>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            let code: Option<EnrollmentCodeRow> = sqlx::query_as(
                "UPDATE enrollment_codes SET used_at = $2, terminal_id = $3 \
                 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 \
                 RETURNING code_hash, tenant_id, store_id, created_by, terminal_name, \
                 created_at, expires_at, used_at, terminal_id",
            )
            .bind(code_hash)
            .bind(now)
            .bind(&terminal.id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(code) = code else {
                tx.rollback().await?;
                return Ok(None);
            };
            if code.tenant_id != terminal.tenant_id || code.store_id != terminal.store_id {
                tx.rollback().await?;
                return Err(Error::Internal(
                    "terminal does not match enrollment code".into(),
                ));
            }
            sqlx::query(
                "INSERT INTO terminals (id, tenant_id, store_id, name, credential_hash, \
                 created_at, revoked_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&terminal.id)
            .bind(&terminal.tenant_id)
            .bind(&terminal.store_id)
            .bind(&terminal.name)
            .bind(&terminal.credential_hash)
            .bind(terminal.created_at)
            .bind(terminal.revoked_at)
            .bind(terminal.last_seen_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::from_insert(e, "terminal already exists"))?;
            tx.commit().await?;
            Ok(Some(code))
        })
    }

    fn terminal<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TerminalRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT id, tenant_id, store_id, name, credential_hash, created_at, revoked_at, \
                 last_seen_at FROM terminals WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn terminal_by_credential<'a>(
        &'a self,
        credential_hash: &'a str,
    ) -> BoxFuture<'a, Result<Option<TerminalRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT id, tenant_id, store_id, name, credential_hash, created_at, revoked_at, \
                 last_seen_at FROM terminals WHERE credential_hash = $1",
            )
            .bind(credential_hash)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn terminals_of_store<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<TerminalRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT id, tenant_id, store_id, name, credential_hash, created_at, revoked_at, \
                 last_seen_at FROM terminals WHERE store_id = $1 ORDER BY created_at, id",
            )
            .bind(store_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn terminal_statuses_of_store<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<TerminalStatusRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT id, tenant_id, store_id, name, credential_hash, created_at, revoked_at, \
                 last_seen_at, last_report_at, waiting_documents, waiting_sales, clock_skew_ms, \
                 app_version, connected_until FROM terminals WHERE store_id = $1 ORDER BY created_at, id",
            )
            .bind(store_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn revoke_terminal<'a>(
        &'a self,
        id: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<TerminalRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "UPDATE terminals SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 \
                 RETURNING id, tenant_id, store_id, name, credential_hash, created_at, revoked_at, \
                 last_seen_at",
            )
            .bind(id)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn touch_terminal<'a>(&'a self, id: &'a str, now: i64) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query("UPDATE terminals SET last_seen_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }

    fn terminals_revoked_since(&self, since: i64) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar("SELECT id FROM terminals WHERE revoked_at >= $1")
                    .bind(since)
                    .fetch_all(&self.pool)
                    .await?,
            )
        })
    }

    fn record_terminal_reports<'a>(
        &'a self,
        reports: &'a [TerminalReport],
    ) -> BoxFuture<'a, Result<()>> {
        // One statement for the reports of many terminals: a heartbeat comes every 2 s from
        // each till, and a statement per heartbeat cost a pooled connection and a commit (with
        // its WAL flush) each. A CTE, not `FROM (VALUES ..) AS v(..)`, because SQLite names no
        // columns of a subquery; the casts type the binds of `VALUES` on PostgreSQL. Each
        // terminal is named once (the caller keeps its latest).
        Box::pin(async move {
            for chunk in reports.chunks(1_000) {
                let mut q = sqlx::QueryBuilder::<super::Db>::new(
                    "WITH v (id, at, waiting_documents, waiting_sales, clock_skew_ms, app_version) \
                     AS (",
                );
                q.push_values(chunk, |mut row, r| {
                    row.push("CAST(")
                        .push_bind_unseparated(&r.terminal_id)
                        .push_unseparated(" AS TEXT)")
                        .push("CAST(")
                        .push_bind_unseparated(r.at)
                        .push_unseparated(" AS BIGINT)")
                        .push("CAST(")
                        .push_bind_unseparated(r.waiting_documents)
                        .push_unseparated(" AS BIGINT)")
                        .push("CAST(")
                        .push_bind_unseparated(r.waiting_sales)
                        .push_unseparated(" AS BIGINT)")
                        .push("CAST(")
                        .push_bind_unseparated(r.clock_skew_ms)
                        .push_unseparated(" AS BIGINT)")
                        .push("CAST(")
                        .push_bind_unseparated(&r.app_version)
                        .push_unseparated(" AS TEXT)");
                });
                q.push(
                    ") UPDATE terminals SET last_seen_at = v.at, last_report_at = v.at, \
                     waiting_documents = v.waiting_documents, waiting_sales = v.waiting_sales, \
                     clock_skew_ms = v.clock_skew_ms, app_version = v.app_version \
                     FROM v WHERE terminals.id = v.id",
                );
                q.build().persistent(false).execute(&self.pool).await?;
            }
            Ok(())
        })
    }

    fn set_terminals_connected_until<'a>(
        &'a self,
        ids: &'a [String],
        until: i64,
    ) -> BoxFuture<'a, Result<()>> {
        // One statement per 1,000 terminals, not one per terminal: the renewal covers every
        // terminal connected here, and a transaction of a thousand round trips held their rows
        // locked while each till's heartbeat waited to write its report on its own row.
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            for chunk in ids.chunks(1_000) {
                let mut q =
                    sqlx::QueryBuilder::<super::Db>::new("UPDATE terminals SET connected_until = ");
                q.push_bind(until);
                q.push(" WHERE id IN (");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(id);
                }
                q.push(")");
                q.build().persistent(false).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn insert_refresh_token<'a>(&'a self, t: &'a RefreshTokenRow) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO refresh_tokens (tenant_id, token_hash, user_id, created_at, expires_at, \
                 used_at, session_id) \
                 VALUES ((SELECT tenant_id FROM users WHERE id = $2), $1, $2, $3, $4, $5, $6)",
            )
            .bind(&t.token_hash)
            .bind(&t.user_id)
            .bind(t.created_at)
            .bind(t.expires_at)
            .bind(t.used_at)
            .bind(&t.session_id)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::from_insert(e, "refresh token collision"))?;
            Ok(())
        })
    }

    fn use_refresh_token<'a>(
        &'a self,
        token_hash: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<RefreshUse>> {
        Box::pin(async move {
            let fresh: Option<RefreshTokenRow> = sqlx::query_as(
                "UPDATE refresh_tokens SET used_at = $2 \
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
                 RETURNING token_hash, user_id, created_at, expires_at, used_at, session_id",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = fresh {
                return Ok(RefreshUse::Fresh(row));
            }
            let seen: Option<RefreshTokenRow> = sqlx::query_as(
                "SELECT token_hash, user_id, created_at, expires_at, used_at, session_id \
                 FROM refresh_tokens WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
            Ok(match seen {
                Some(row) if row.used_at.is_some() => RefreshUse::Reused(row),
                _ => RefreshUse::Invalid,
            })
        })
    }
}
