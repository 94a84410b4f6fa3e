//! App credentials: an owner's other web products sync their own documents through the server
//! with the official automerge-repo client and a credential made here. A credential belongs to
//! the tenant and to no store ([`crate::access`] says what it reaches); its secret is shown
//! once, at creation, and only its SHA-256 is stored; revoking it refuses it from then on and
//! closes its connections (here at once, on other instances within `revocation_poll_ms`).

use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::{Services, new_id};
use crate::access;
use crate::auth::{self, Principal};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::storage::AppCredentialRow;

/// Why an app's connections are closed when its credential is revoked.
pub(super) const REVOKED: &str = "app credential revoked";

/// Longest name of a credential, in characters.
pub const MAX_APP_NAME_CHARS: usize = 64;

/// An app credential as shown to its tenant's owners (never its secret).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppCredentialView {
    pub id: String,
    pub name: String,
    /// The owner who made it (a user id).
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// When a sync connection was last opened with it (unix ms); `null` if never.
    pub last_used_at: Option<i64>,
    /// Sync connections open with it on the instance that answers.
    pub connections: usize,
}

/// A credential just made: the only time its secret is told.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewAppCredential {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    /// The secret (`ska_…`): the app passes it to the sync endpoint (`/sync?token=…`). It is
    /// shown once and cannot be read again; a lost one is revoked and replaced.
    pub secret: String,
}

impl std::fmt::Debug for NewAppCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAppCredential")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Services {
    fn app_view(&self, c: AppCredentialRow) -> AppCredentialView {
        AppCredentialView {
            connections: self.connections.app_connections(&c.id),
            id: c.id,
            name: c.name,
            created_by: c.created_by,
            created_at: c.created_at,
            revoked_at: c.revoked_at,
            last_used_at: c.last_used_at,
        }
    }

    /// The app credentials of `who`'s tenant, oldest first (owners only).
    #[instrument(skip_all)]
    pub async fn list_app_credentials(&self, who: &Principal) -> Result<Vec<AppCredentialView>> {
        let tenant = access::manage_apps(who)?;
        let rows = self.storage.app_credentials_of_tenant(tenant).await?;
        Ok(rows.into_iter().map(|c| self.app_view(c)).collect())
    }

    /// Makes a credential named `name` (at most 64 characters, not blank, stored trimmed) for `who`'s tenant
    /// (owners only) and tells its secret, once.
    #[instrument(skip_all)]
    pub async fn create_app_credential(
        &self,
        who: &Principal,
        name: &str,
    ) -> Result<NewAppCredential> {
        let tenant = access::manage_apps(who)?;
        // Counted before trimming, as the API's schema counts it.
        let long = name.chars().count() > MAX_APP_NAME_CHARS;
        let name = name.trim();
        if name.is_empty() || long {
            return Err(Error::BadRequest(format!(
                "the app's name must be 1 to {MAX_APP_NAME_CHARS} characters"
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(Error::BadRequest(
                "the app's name must not contain control characters".into(),
            ));
        }
        let Principal::User { user_id, .. } = who else {
            return Err(Error::Forbidden("only owners manage app credentials"));
        };
        let secret = format!("{}{}", auth::APP_CREDENTIAL_PREFIX, auth::random_token(32));
        let row = AppCredentialRow {
            id: new_id(),
            tenant_id: tenant.to_string(),
            name: name.to_string(),
            secret_hash: auth::sha256_hex(&secret),
            created_by: user_id.clone(),
            created_at: now_ms(),
            revoked_at: None,
            last_used_at: None,
        };
        self.storage.insert_app_credential(&row).await?;
        tracing::info!(app_id = %row.id, tenant_id = %row.tenant_id, "app credential created");
        Ok(NewAppCredential {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            secret,
        })
    }

    /// Revokes credential `app_id` of `who`'s tenant (owners only): refused from now on, its
    /// open connections closed. Revoking twice keeps the first time.
    #[instrument(skip_all, fields(app_id))]
    pub async fn revoke_app_credential(
        &self,
        who: &Principal,
        app_id: &str,
    ) -> Result<AppCredentialView> {
        let found = self.storage.app_credential(app_id).await?;
        access::app_credential(who, found.as_ref())?;
        let row = self
            .storage
            .revoke_app_credential(app_id, now_ms())
            .await?
            .ok_or(Error::NotFound("app credential not found"))?;
        let closed = self.connections.close_app(app_id, REVOKED);
        tracing::warn!(app_id, closed, "app credential revoked");
        Ok(self.app_view(row))
    }

    /// The principal of an app credential's secret, unless unknown or revoked.
    pub(super) async fn authenticate_app(&self, secret: &str) -> Result<Principal> {
        let row = self
            .storage
            .app_credential_by_secret(&auth::sha256_hex(secret))
            .await?
            .ok_or(Error::Unauthorized("unknown app credential"))?;
        if row.revoked_at.is_some() {
            return Err(Error::Unauthorized("app credential revoked"));
        }
        self.storage.touch_app_credential(&row.id, now_ms()).await?;
        Ok(Principal::App {
            app_id: row.id,
            tenant_id: row.tenant_id,
        })
    }
}
