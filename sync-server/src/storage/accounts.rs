//! Accounts and credentials: server settings, tenants, stores, owner and manager users, enrolled
//! terminals with their heartbeat reports, enrollment codes and refresh tokens.

use futures::future::BoxFuture;

use crate::error::Result;
use crate::storage::{
    EnrollmentCodeRow, RefreshTokenRow, RefreshUse, StoreRow, Tenant, TerminalReport, TerminalRow,
    TerminalStatusRow, UserRow,
};

/// Accounts and credentials.
pub trait AccountStorage: Send + Sync {
    /// Reads a server-wide setting.
    fn setting<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>>;
    /// Sets a server-wide setting unless it exists; returns the stored value.
    fn setting_init<'a>(&'a self, key: &'a str, value: &'a str) -> BoxFuture<'a, Result<String>>;
    fn insert_tenant<'a>(&'a self, t: &'a Tenant) -> BoxFuture<'a, Result<()>>;
    fn tenant<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Tenant>>>;
    fn insert_store<'a>(&'a self, s: &'a StoreRow) -> BoxFuture<'a, Result<()>>;
    fn store<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoreRow>>>;
    fn stores_of_tenant<'a>(&'a self, tenant_id: &'a str) -> BoxFuture<'a, Result<Vec<StoreRow>>>;
    fn insert_user<'a>(&'a self, u: &'a UserRow) -> BoxFuture<'a, Result<()>>;
    fn user<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<UserRow>>>;
    /// The managers of a store (disabled ones too), by email.
    fn managers_of_store<'a>(&'a self, store_id: &'a str) -> BoxFuture<'a, Result<Vec<UserRow>>>;
    fn user_by_email<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Option<UserRow>>>;
    fn insert_enrollment_code<'a>(&'a self, c: &'a EnrollmentCodeRow) -> BoxFuture<'a, Result<()>>;
    /// Looks an enrollment code up by hash (used or not).
    fn enrollment_code<'a>(
        &'a self,
        code_hash: &'a str,
    ) -> BoxFuture<'a, Result<Option<EnrollmentCodeRow>>>;
    /// Atomically consumes an unexpired, unused code and inserts the terminal
    /// it enrols. `None` when the code is unknown, used or expired.
    fn redeem_enrollment_code<'a>(
        &'a self,
        code_hash: &'a str,
        terminal: &'a TerminalRow,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<EnrollmentCodeRow>>>;
    fn terminal<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TerminalRow>>>;
    fn terminal_by_credential<'a>(
        &'a self,
        credential_hash: &'a str,
    ) -> BoxFuture<'a, Result<Option<TerminalRow>>>;
    fn terminals_of_store<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<TerminalRow>>>;
    /// The store's terminals with their last heartbeat report.
    fn terminal_statuses_of_store<'a>(
        &'a self,
        store_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<TerminalStatusRow>>>;
    /// Marks a terminal revoked; returns it, or `None` when unknown.
    fn revoke_terminal<'a>(
        &'a self,
        id: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<TerminalRow>>>;
    fn touch_terminal<'a>(&'a self, id: &'a str, now: i64) -> BoxFuture<'a, Result<()>>;
    /// Ids of terminals revoked at or after `since` (every instance polls this).
    fn terminals_revoked_since(&self, since: i64) -> BoxFuture<'_, Result<Vec<String>>>;
    /// Records terminals' heartbeat reports (also their last-seen times), each terminal at
    /// most once, in one statement per 1,000; unknown terminal ids are passed over.
    fn record_terminal_reports<'a>(
        &'a self,
        reports: &'a [TerminalReport],
    ) -> BoxFuture<'a, Result<()>>;
    /// Sets until when the terminals `ids` count as online (their sync connection is open on
    /// the calling instance; a time in the past when it closed).
    fn set_terminals_connected_until<'a>(
        &'a self,
        ids: &'a [String],
        until: i64,
    ) -> BoxFuture<'a, Result<()>>;
    fn insert_refresh_token<'a>(&'a self, t: &'a RefreshTokenRow) -> BoxFuture<'a, Result<()>>;
    /// Atomically marks an unexpired, unused token used and returns it; a token used before is
    /// [`RefreshUse::Reused`] (its family must be revoked), an unknown or expired one
    /// [`RefreshUse::Invalid`].
    fn use_refresh_token<'a>(
        &'a self,
        token_hash: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<RefreshUse>>;
}
