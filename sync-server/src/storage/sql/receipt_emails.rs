//! SQL of [`ReceiptEmailStorage`]: the log of email receipts.
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::{Error, Result};
use crate::storage::{ReceiptEmailClaim, ReceiptEmailRow, ReceiptEmailStorage};

/// The columns of [`ReceiptEmailRow`], as a literal for `concat!` (static SQL text for sqlx).
macro_rules! receipt_email_columns {
    () => {
        "send_id, store_id, terminal_id, receipt_token, email, state, attempts, last_error, \
         created_at, attempt_at, sent_at"
    };
}

impl ReceiptEmailStorage for Backend {
    fn claim_receipt_email<'a>(
        &'a self,
        fresh: &'a ReceiptEmailRow,
        stale_ms: i64,
    ) -> BoxFuture<'a, Result<ReceiptEmailClaim>> {
        Box::pin(async move {
            let inserted = sqlx::query(
                "INSERT INTO receipt_emails (tenant_id, send_id, store_id, terminal_id, receipt_token, \
                 email, state, attempts, created_at, attempt_at) \
                 VALUES ((SELECT tenant_id FROM stores WHERE id = $2), $1, $2, $3, $4, $5, 'sending', 1, $6, $6) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&fresh.send_id)
            .bind(&fresh.store_id)
            .bind(&fresh.terminal_id)
            .bind(&fresh.receipt_token)
            .bind(&fresh.email)
            .bind(fresh.attempt_at)
            .execute(&self.pool)
            .await?;
            if inserted.rows_affected() == 1 {
                return Ok(ReceiptEmailClaim::Send);
            }
            // A failed send is tried again by whichever request turns it back to `sending`
            // first; the address may have changed (the cashier corrected it on the till).
            let retried = sqlx::query(
                "UPDATE receipt_emails SET state = 'sending', attempts = attempts + 1, \
                 attempt_at = $3, email = $4, last_error = NULL \
                 WHERE send_id = $1 AND store_id = $2 AND state = 'failed'",
            )
            .bind(&fresh.send_id)
            .bind(&fresh.store_id)
            .bind(fresh.attempt_at)
            .bind(&fresh.email)
            .execute(&self.pool)
            .await?;
            if retried.rows_affected() == 1 {
                return Ok(ReceiptEmailClaim::Send);
            }
            let row: Option<(String, String, i64, Option<i64>)> = sqlx::query_as(
                "SELECT store_id, state, attempt_at, sent_at FROM receipt_emails WHERE send_id = $1",
            )
            .bind(&fresh.send_id)
            .fetch_optional(&self.pool)
            .await?;
            match row {
                Some((store, _, _, _)) if store != fresh.store_id => {
                    Err(Error::NotFound("no such send"))
                }
                Some((_, state, _, Some(sent_at))) if state == "sent" => {
                    Ok(ReceiptEmailClaim::Sent(sent_at))
                }
                Some((_, state, attempt_at, _)) if state == "sending" => {
                    if fresh.attempt_at - attempt_at < stale_ms {
                        Ok(ReceiptEmailClaim::InProgress)
                    } else {
                        Ok(ReceiptEmailClaim::Unknown)
                    }
                }
                // Failed again between the two statements: another request retries it.
                _ => Ok(ReceiptEmailClaim::InProgress),
            }
        })
    }

    fn receipt_email_sent<'a>(
        &'a self,
        send_id: &'a str,
        sent_at: i64,
        forget_email: bool,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE receipt_emails SET state = 'sent', sent_at = $2, last_error = NULL, \
                 email = CASE WHEN $3 THEN NULL ELSE email END WHERE send_id = $1",
            )
            .bind(send_id)
            .bind(sent_at)
            .bind(forget_email)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn receipt_email_failed<'a>(
        &'a self,
        send_id: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE receipt_emails SET state = 'failed', last_error = $2 \
                 WHERE send_id = $1 AND state = 'sending'",
            )
            .bind(send_id)
            .bind(reason)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn receipt_email<'a>(
        &'a self,
        send_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ReceiptEmailRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                receipt_email_columns!(),
                " FROM receipt_emails WHERE send_id = $1"
            ))
            .bind(send_id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn receipt_email_stores(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            Ok(sqlx::query_scalar(
                "SELECT DISTINCT store_id FROM receipt_emails WHERE email IS NOT NULL \
                 AND state <> 'sending'",
            )
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn purge_receipt_emails<'a>(
        &'a self,
        store_id: &'a str,
        before: i64,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let done = sqlx::query(
                "UPDATE receipt_emails SET email = NULL WHERE store_id = $1 \
                 AND email IS NOT NULL AND state <> 'sending' \
                 AND COALESCE(sent_at, created_at) <= $2",
            )
            .bind(store_id)
            .bind(before)
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected())
        })
    }
}
