//! Accounts: tenants with their first store and owner, stores, and the managers bound to
//! one store.

use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::{Services, new_id, normalize_email};
use crate::access;
use crate::auth::{self, Principal, Role};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::storage::{StoreRow, Tenant, UserRow};

/// Result of creating a tenant with its first store and owner.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Bootstrap {
    pub tenant_id: String,
    pub store_id: String,
    pub owner_id: String,
}

/// A manager of a store as shown to owners and managers (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ManagerView {
    pub id: String,
    pub email: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Disabled managers cannot sign in (`POST /api/v1/users/{user_id}/enable` lets them again).
    pub disabled: bool,
}

/// A store as shown to owners and managers.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoreView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub created_at: i64,
}

impl From<StoreRow> for StoreView {
    fn from(s: StoreRow) -> Self {
        Self {
            id: s.id,
            code: s.code,
            name: s.name,
            created_at: s.created_at,
        }
    }
}

impl Services {
    /// Creates a tenant with its first store and owner (admin CLI).
    #[instrument(skip_all, fields(store_code))]
    pub async fn bootstrap(
        &self,
        tenant_name: &str,
        store_code: &str,
        store_name: &str,
        owner_email: &str,
        owner_password: &str,
    ) -> Result<Bootstrap> {
        if owner_password.chars().count() < 8 {
            return Err(Error::BadRequest(
                "password must have at least 8 characters".into(),
            ));
        }
        let email = normalize_email(owner_email);
        if !email.contains('@') {
            return Err(Error::BadRequest("invalid email".into()));
        }
        let now = now_ms();
        let tenant = Tenant {
            id: new_id(),
            name: tenant_name.trim().to_string(),
            created_at: now,
        };
        self.storage.insert_tenant(&tenant).await?;
        let store = self
            .insert_store(&tenant.id, store_code, store_name)
            .await?;
        let owner = UserRow {
            id: new_id(),
            tenant_id: tenant.id.clone(),
            store_id: None,
            email,
            password_hash: auth::hash_password(owner_password)?,
            role: Role::Owner.as_str().to_string(),
            created_at: now,
            disabled_at: None,
        };
        self.storage.insert_user(&owner).await?;
        Ok(Bootstrap {
            tenant_id: tenant.id,
            store_id: store.id,
            owner_id: owner.id,
        })
    }

    async fn insert_store(&self, tenant_id: &str, code: &str, name: &str) -> Result<StoreRow> {
        let code = code.trim().to_uppercase();
        if code.is_empty() || code.len() > 16 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::BadRequest(
                "store code must be 1-16 letters or digits".into(),
            ));
        }
        let store = StoreRow {
            id: new_id(),
            tenant_id: tenant_id.to_string(),
            code,
            name: name.trim().to_string(),
            store_key: auth::random_token(32),
            created_at: now_ms(),
        };
        self.storage.insert_store(&store).await?;
        // Its derived document ids are its own from the start (see period_index).
        crate::period_index::reserve(&self.storage, tenant_id, &store.id, chrono::Utc::now())
            .await?;
        Ok(store)
    }

    /// Adds a store to the caller's tenant (owners only).
    #[instrument(skip_all)]
    pub async fn create_store(&self, who: &Principal, code: &str, name: &str) -> Result<StoreView> {
        let tenant_id = access::create_store(who)?;
        Ok(self.insert_store(tenant_id, code, name).await?.into())
    }

    /// Stores visible to the caller.
    pub async fn list_stores(&self, who: &Principal) -> Result<Vec<StoreView>> {
        let stores = self.storage.stores_of_tenant(who.tenant_id()).await?;
        Ok(stores
            .into_iter()
            .filter(|s| access::may_see_store(who, s))
            .map(StoreView::from)
            .collect())
    }

    /// The managers of a store (for those who may manage it), by email.
    pub async fn list_managers(&self, who: &Principal, store_id: &str) -> Result<Vec<ManagerView>> {
        self.store_for(who, store_id).await?;
        let rows = self.storage.managers_of_store(store_id).await?;
        Ok(rows
            .into_iter()
            .map(|u| ManagerView {
                id: u.id,
                email: u.email,
                created_at: u.created_at,
                disabled: u.disabled_at.is_some(),
            })
            .collect())
    }

    /// Adds a manager bound to one store (owners only). Emails are unique across tenants (they
    /// sign in with it), so an email already in use cannot be taken; the answer is the same as
    /// for a new one (a new id, after the same password hashing), so that an owner cannot probe
    /// whether an address has an account in another tenant. The log says it was not created.
    #[instrument(skip_all)]
    pub async fn create_manager(
        &self,
        who: &Principal,
        store_id: &str,
        email: &str,
        password: &str,
    ) -> Result<String> {
        let tenant_id = access::add_manager(who)?;
        self.store_for(who, store_id).await?;
        if password.chars().count() < 8 {
            return Err(Error::BadRequest(
                "password must have at least 8 characters".into(),
            ));
        }
        let email = normalize_email(email);
        if !email.contains('@') {
            return Err(Error::BadRequest("invalid email".into()));
        }
        let user = UserRow {
            id: new_id(),
            tenant_id: tenant_id.to_string(),
            store_id: Some(store_id.to_string()),
            email,
            password_hash: self.hash_password(password).await?,
            role: Role::Manager.as_str().to_string(),
            created_at: now_ms(),
            disabled_at: None,
        };
        match self.storage.insert_user(&user).await {
            Ok(()) => {}
            Err(Error::Conflict(_)) => {
                tracing::warn!(
                    store_id,
                    "manager not created: the email is already in use (answered as created)"
                );
            }
            Err(e) => return Err(e),
        }
        Ok(user.id)
    }
}
