//! SQL of [`PaymentStorage`]: gateway accounts, QRIS charges and their refunds.
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::Result;
use crate::storage::payments::{
    ChargeRow, ChargeUpdate, GatewayRefundRow, GatewayRow, PaymentStorage,
};

/// The columns of [`ChargeRow`], as a literal for `concat!` (static SQL text for sqlx).
macro_rules! charge_columns {
    () => {
        "payment_id, tenant_id, store_id, terminal_id, provider, amount, status, qr_string, \
         gateway_id, reference, expires_at, abandoned_at, paid_at, refunded_amount, created_at, \
         updated_at"
    };
}

macro_rules! refund_columns {
    () => {
        "refund_id, payment_id, amount, status, reference, reason, created_at"
    };
}

impl PaymentStorage for Backend {
    fn put_gateway<'a>(&'a self, row: &'a GatewayRow) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO payment_gateways (store_id, tenant_id, provider, environment, \
                 sealed_secrets, key_hint, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant_id, store_id) DO UPDATE SET provider = excluded.provider, \
                 environment = excluded.environment, sealed_secrets = excluded.sealed_secrets, \
                 key_hint = excluded.key_hint, updated_by = excluded.updated_by, \
                 updated_at = excluded.updated_at",
            )
            .bind(&row.store_id)
            .bind(&row.tenant_id)
            .bind(&row.provider)
            .bind(&row.environment)
            .bind(&row.sealed_secrets)
            .bind(&row.key_hint)
            .bind(&row.updated_by)
            .bind(row.updated_at)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn gateway<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<Option<GatewayRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT store_id, tenant_id, provider, environment, sealed_secrets, key_hint, \
                 updated_by, updated_at FROM payment_gateways WHERE store_id = $1",
            )
            .bind(store_id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn delete_gateway<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM payment_gateways WHERE store_id = $1")
                .bind(store_id)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    fn insert_charge<'a>(&'a self, row: &'a ChargeRow) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let done = sqlx::query(concat!(
                "INSERT INTO gateway_charges (",
                charge_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT DO NOTHING"
            ))
            .bind(&row.payment_id)
            .bind(&row.tenant_id)
            .bind(&row.store_id)
            .bind(&row.terminal_id)
            .bind(&row.provider)
            .bind(row.amount)
            .bind(&row.status)
            .bind(&row.qr_string)
            .bind(&row.gateway_id)
            .bind(&row.reference)
            .bind(row.expires_at)
            .bind(row.abandoned_at)
            .bind(row.paid_at)
            .bind(row.refunded_amount)
            .bind(row.created_at)
            .bind(row.updated_at)
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    fn charge<'a>(&'a self, payment_id: &'a str) -> BoxFuture<'a, Result<Option<ChargeRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                charge_columns!(),
                " FROM gateway_charges WHERE payment_id = $1"
            ))
            .bind(payment_id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn set_charge_qr<'a>(
        &'a self,
        payment_id: &'a str,
        qr_string: &'a str,
        gateway_id: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE gateway_charges SET qr_string = $1, gateway_id = $2, updated_at = $3 \
                 WHERE payment_id = $4",
            )
            .bind(qr_string)
            .bind(gateway_id)
            .bind(now)
            .bind(payment_id)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn charge_by_reference<'a>(
        &'a self,
        store_id: &'a str,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<Option<ChargeRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                charge_columns!(),
                " FROM gateway_charges WHERE store_id = $1 AND reference = $2"
            ))
            .bind(store_id)
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn update_charge<'a>(
        &'a self,
        payment_id: &'a str,
        from: &'a str,
        update: &'a ChargeUpdate,
        now: i64,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let done = sqlx::query(
                "UPDATE gateway_charges SET status = $1, \
                 gateway_id = COALESCE($2, gateway_id), reference = COALESCE($3, reference), \
                 paid_at = COALESCE(paid_at, $4), refunded_amount = $5, updated_at = $6 \
                 WHERE payment_id = $7 AND status = $8",
            )
            .bind(&update.status)
            .bind(&update.gateway_id)
            .bind(&update.reference)
            .bind(update.paid_at)
            .bind(update.refunded_amount)
            .bind(now)
            .bind(payment_id)
            .bind(from)
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    fn abandon_charge<'a>(&'a self, payment_id: &'a str, now: i64) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE gateway_charges SET abandoned_at = $1, updated_at = $1 \
                 WHERE payment_id = $2 AND abandoned_at IS NULL",
            )
            .bind(now)
            .bind(payment_id)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn insert_refund<'a>(
        &'a self,
        row: &'a GatewayRefundRow,
    ) -> BoxFuture<'a, Result<GatewayRefundRow>> {
        Box::pin(async move {
            sqlx::query(concat!(
                "INSERT INTO gateway_refunds (tenant_id, ",
                refund_columns!(),
                ") VALUES ((SELECT tenant_id FROM gateway_charges WHERE payment_id = $2), \
                 $1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
            ))
            .bind(&row.refund_id)
            .bind(&row.payment_id)
            .bind(row.amount)
            .bind(&row.status)
            .bind(&row.reference)
            .bind(&row.reason)
            .bind(row.created_at)
            .execute(&self.pool)
            .await?;
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                refund_columns!(),
                " FROM gateway_refunds WHERE refund_id = $1"
            ))
            .bind(&row.refund_id)
            .fetch_one(&self.pool)
            .await?)
        })
    }

    fn refund<'a>(&'a self, refund_id: &'a str) -> BoxFuture<'a, Result<Option<GatewayRefundRow>>> {
        Box::pin(async move {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                refund_columns!(),
                " FROM gateway_refunds WHERE refund_id = $1"
            ))
            .bind(refund_id)
            .fetch_optional(&self.pool)
            .await?)
        })
    }

    fn finish_refund<'a>(
        &'a self,
        refund_id: &'a str,
        status: &'a str,
        reference: Option<&'a str>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE gateway_refunds SET status = $1, reference = COALESCE($2, reference) \
                 WHERE refund_id = $3",
            )
            .bind(status)
            .bind(reference)
            .bind(refund_id)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }
}
