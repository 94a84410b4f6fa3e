//! SQL of [`SessionStorage`]: sessions, disabled users, password changes, login attempts.
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::{Error, Result};
use crate::storage::{SessionRow, SessionState, SessionStorage};

impl SessionStorage for Backend {
    fn insert_session<'a>(&'a self, s: &'a SessionRow) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO sessions (tenant_id, id, user_id, created_at, ended_at, end_reason) \
                 VALUES ((SELECT tenant_id FROM users WHERE id = $2), $1, $2, $3, $4, $5)",
            )
            .bind(&s.id)
            .bind(&s.user_id)
            .bind(s.created_at)
            .bind(s.ended_at)
            .bind(&s.end_reason)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::from_insert(e, "session id collision"))?;
            Ok(())
        })
    }

    fn session_state<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<SessionState>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT s.user_id, s.ended_at, u.disabled_at AS user_disabled_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn end_session<'a>(
        &'a self,
        id: &'a str,
        reason: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let done = sqlx::query(
                "UPDATE sessions SET ended_at = $2, end_reason = $3 \
                 WHERE id = $1 AND ended_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .bind(reason)
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn end_user_sessions<'a>(
        &'a self,
        user_id: &'a str,
        keep: Option<&'a str>,
        reason: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            Ok(sqlx::query_scalar(
                "UPDATE sessions SET ended_at = $2, end_reason = $3 \
                 WHERE user_id = $1 AND ended_at IS NULL AND id <> $4 RETURNING id",
            )
            .bind(user_id)
            .bind(now)
            .bind(reason)
            .bind(keep.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn sessions_ended_since(&self, since: i64) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar("SELECT id FROM sessions WHERE ended_at >= $1")
                    .bind(since)
                    .fetch_all(&self.pool)
                    .await?,
            )
        })
    }

    fn set_user_disabled<'a>(
        &'a self,
        user_id: &'a str,
        disabled_at: Option<i64>,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let done = sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1")
                .bind(user_id)
                .bind(disabled_at)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn set_password_hash<'a>(
        &'a self,
        user_id: &'a str,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(user_id)
                .bind(hash)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }

    fn count_login_attempt<'a>(
        &'a self,
        key: &'a str,
        now: i64,
        window_ms: i64,
    ) -> BoxFuture<'a, Result<i64>> {
        Box::pin(async move {
            // One statement, so that parallel attempts (on any instance) each see their own
            // count: both databases run an upsert atomically.
            Ok(sqlx::query_scalar(
                "INSERT INTO login_attempts (key, window_start, attempts) VALUES ($1, $2, 1) \
                 ON CONFLICT (key) DO UPDATE SET \
                 attempts = CASE WHEN login_attempts.window_start <= $2 - $3 THEN 1 \
                            ELSE login_attempts.attempts + 1 END, \
                 window_start = CASE WHEN login_attempts.window_start <= $2 - $3 THEN $2 \
                                ELSE login_attempts.window_start END \
                 RETURNING attempts",
            )
            .bind(key)
            .bind(now)
            .bind(window_ms)
            .fetch_one(&self.pool)
            .await?)
        })
    }

    fn refund_login_attempt<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE login_attempts SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0",
            )
            .bind(key)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn prune_login_attempts(&self, before: i64) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM login_attempts WHERE window_start < $1")
                .bind(before)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected())
        })
    }
}
