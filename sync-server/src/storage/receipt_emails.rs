//! Storage of email receipts (migration 0017): the log of sends the tills asked for, keyed by
//! the till's send id so that a send happens once. A supertrait of [`super::Storage`];
//! `sql/receipt_emails.rs` implements it for both backends.

use futures::future::BoxFuture;

use crate::error::Result;
use crate::storage::{ReceiptEmailClaim, ReceiptEmailRow};

/// The `receipt_emails` table.
pub trait ReceiptEmailStorage: Send + Sync {
    /// Claims the send `fresh.send_id` for one attempt starting at `fresh.attempt_at`: a new
    /// send is inserted as `sending`; a `failed` one becomes `sending` again; a `sent` one is
    /// [`ReceiptEmailClaim::Sent`]; a `sending` one is [`ReceiptEmailClaim::InProgress`] while
    /// its attempt is younger than `stale_ms`, else [`ReceiptEmailClaim::Unknown`]. A send id
    /// of another store is refused as not found.
    fn claim_receipt_email<'a>(
        &'a self,
        fresh: &'a ReceiptEmailRow,
        stale_ms: i64,
    ) -> BoxFuture<'a, Result<ReceiptEmailClaim>>;
    /// The SMTP server accepted the message at `sent_at`; with `forget_email` the address is
    /// blanked in the same statement (a store that keeps no contacts).
    fn receipt_email_sent<'a>(
        &'a self,
        send_id: &'a str,
        sent_at: i64,
        forget_email: bool,
    ) -> BoxFuture<'a, Result<()>>;
    /// The attempt failed with `reason`; a later request may try again.
    fn receipt_email_failed<'a>(
        &'a self,
        send_id: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<()>>;
    /// One send, for tests and support.
    fn receipt_email<'a>(
        &'a self,
        send_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ReceiptEmailRow>>>;
    /// Stores whose log still holds an address.
    fn receipt_email_stores(&self) -> BoxFuture<'_, Result<Vec<String>>>;
    /// Blanks the addresses of the store's sends made (or, never sent, asked for) before
    /// `before` (Unix ms); returns how many.
    fn purge_receipt_emails<'a>(
        &'a self,
        store_id: &'a str,
        before: i64,
    ) -> BoxFuture<'a, Result<u64>>;
}
