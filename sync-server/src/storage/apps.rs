//! App credentials: the credentials an owner makes for other web products of the tenant, which
//! sync their own documents through the server (migration 0012). Only a secret's SHA-256 is
//! stored.

use futures::future::BoxFuture;

use crate::error::Result;
use crate::storage::AppCredentialRow;

/// App credentials.
pub trait AppStorage: Send + Sync {
    fn insert_app_credential<'a>(&'a self, c: &'a AppCredentialRow) -> BoxFuture<'a, Result<()>>;
    fn app_credential<'a>(&'a self, id: &'a str)
    -> BoxFuture<'a, Result<Option<AppCredentialRow>>>;
    /// The credential whose secret hashes to `secret_hash` (revoked or not).
    fn app_credential_by_secret<'a>(
        &'a self,
        secret_hash: &'a str,
    ) -> BoxFuture<'a, Result<Option<AppCredentialRow>>>;
    /// The tenant's credentials, oldest first, revoked ones included.
    fn app_credentials_of_tenant<'a>(
        &'a self,
        tenant_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<AppCredentialRow>>>;
    /// Marks a credential revoked (the first revocation's time stays); returns it, or `None`
    /// when unknown.
    fn revoke_app_credential<'a>(
        &'a self,
        id: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<AppCredentialRow>>>;
    /// Records that a sync connection was opened with the credential.
    fn touch_app_credential<'a>(&'a self, id: &'a str, now: i64) -> BoxFuture<'a, Result<()>>;
    /// Ids of credentials revoked at or after `since` (every instance polls this to close the
    /// sync connections opened with them).
    fn app_credentials_revoked_since(&self, since: i64) -> BoxFuture<'_, Result<Vec<String>>>;
}
