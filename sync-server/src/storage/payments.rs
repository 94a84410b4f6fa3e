//! Storage of dynamic QRIS (migration 0016): each store's payment gateway account (its secrets
//! sealed, see [`crate::payments::secrets`]), the charges tills asked for and the refunds made
//! through the gateway. A supertrait of [`super::Storage`]; `sql/payments.rs` implements it for
//! both backends.

use std::fmt::Debug;

use futures::future::BoxFuture;

use crate::error::Result;

/// A store's gateway account. `sealed_secrets` is never shown, not even in `Debug`.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GatewayRow {
    pub store_id: String,
    pub tenant_id: String,
    pub provider: String,
    pub environment: String,
    pub sealed_secrets: Vec<u8>,
    pub key_hint: String,
    pub updated_by: String,
    pub updated_at: i64,
}

impl Debug for GatewayRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayRow")
            .field("store_id", &self.store_id)
            .field("provider", &self.provider)
            .field("environment", &self.environment)
            .field("key_hint", &self.key_hint)
            .finish_non_exhaustive()
    }
}

/// One QRIS charge: what the till asked for and what the gateway said since.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChargeRow {
    pub payment_id: String,
    pub tenant_id: String,
    pub store_id: String,
    pub terminal_id: String,
    pub provider: String,
    pub amount: i64,
    pub status: String,
    pub qr_string: String,
    pub gateway_id: Option<String>,
    pub reference: Option<String>,
    pub expires_at: i64,
    pub abandoned_at: Option<i64>,
    pub paid_at: Option<i64>,
    pub refunded_amount: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A refund made (or refused) through the gateway.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GatewayRefundRow {
    pub refund_id: String,
    pub payment_id: String,
    pub amount: i64,
    pub status: String,
    pub reference: Option<String>,
    pub reason: String,
    pub created_at: i64,
}

/// What a charge's row changes to after a gateway's word ([`PaymentStorage::update_charge`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeUpdate {
    pub status: String,
    pub gateway_id: Option<String>,
    pub reference: Option<String>,
    pub paid_at: Option<i64>,
    pub refunded_amount: i64,
}

/// The payment tables.
pub trait PaymentStorage: Send + Sync {
    /// Sets or replaces the store's gateway account.
    fn put_gateway<'a>(&'a self, row: &'a GatewayRow) -> BoxFuture<'a, Result<()>>;
    fn gateway<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<Option<GatewayRow>>>;
    /// Removes the store's gateway account; its charges stay (their history is the shop's).
    fn delete_gateway<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<bool>>;
    /// Records a new charge; false when the payment id exists already (nothing is written).
    fn insert_charge<'a>(&'a self, row: &'a ChargeRow) -> BoxFuture<'a, Result<bool>>;
    fn charge<'a>(&'a self, payment_id: &'a str) -> BoxFuture<'a, Result<Option<ChargeRow>>>;
    /// Records the QR code and the gateway's id of a charge the gateway made.
    fn set_charge_qr<'a>(
        &'a self,
        payment_id: &'a str,
        qr_string: &'a str,
        gateway_id: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<()>>;
    /// The store's charge paid with `reference` (a refund names the payment by it).
    fn charge_by_reference<'a>(
        &'a self,
        store_id: &'a str,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<Option<ChargeRow>>>;
    /// Writes `update` if the row still has status `from` (compare-and-set, so that two
    /// notifications racing on two instances apply once); true when written.
    fn update_charge<'a>(
        &'a self,
        payment_id: &'a str,
        from: &'a str,
        update: &'a ChargeUpdate,
        now: i64,
    ) -> BoxFuture<'a, Result<bool>>;
    /// Records that the till gave up on the charge (the first time only).
    fn abandon_charge<'a>(&'a self, payment_id: &'a str, now: i64) -> BoxFuture<'a, Result<()>>;
    /// Records a refund unless its id exists; returns the row in force.
    fn insert_refund<'a>(
        &'a self,
        row: &'a GatewayRefundRow,
    ) -> BoxFuture<'a, Result<GatewayRefundRow>>;
    fn refund<'a>(&'a self, refund_id: &'a str) -> BoxFuture<'a, Result<Option<GatewayRefundRow>>>;
    /// Sets a refund's outcome.
    fn finish_refund<'a>(
        &'a self,
        refund_id: &'a str,
        status: &'a str,
        reference: Option<&'a str>,
    ) -> BoxFuture<'a, Result<()>>;
}
