//! Tenancy and auth use-cases. HTTP handlers and the admin CLI call these;
//! they hold the logic, the edges stay thin. One file per concern: [`accounts`],
//! [`sessions`], [`enrollment`], [`terminals`], [`documents`], [`lan`].

mod accounts;
mod documents;
mod enrollment;
mod lan;
mod sessions;
mod terminals;

use std::sync::Arc;

pub use accounts::{Bootstrap, StoreView};
pub use documents::{Persisted, PersistedRequest};
pub use enrollment::{Enrollment, NewEnrollmentCode};
pub use sessions::{LoginLimiter, TokenPair};
pub use terminals::{TerminalReportView, TerminalView};

use crate::access;
use crate::auth::{self, JwtKey, Principal};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::storage::{DynStorage, StoreRow};
use crate::sync::ConnectionRegistry;

/// The services of the server, shared by the HTTP API, the sync endpoint and the CLI.
#[derive(Debug, Clone)]
pub struct Services {
    pub storage: DynStorage,
    pub config: Arc<Config>,
    pub connections: Arc<ConnectionRegistry>,
    jwt: JwtKey,
    limiter: Arc<LoginLimiter>,
}

const JWT_KEY_SETTING: &str = "jwt_signing_key";

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Services {
    /// Builds the services; the JWT signing key is created once and shared
    /// through the database by every instance.
    pub async fn new(storage: DynStorage, config: Arc<Config>) -> Result<Self> {
        let key = storage
            .setting_init(JWT_KEY_SETTING, &auth::random_token(48))
            .await?;
        Ok(Self {
            storage,
            config,
            connections: Arc::new(ConnectionRegistry::default()),
            jwt: JwtKey::new(key.as_bytes()),
            limiter: Arc::new(LoginLimiter::default()),
        })
    }

    /// `store_id` when `who` may manage it ([`access::manage_store`]).
    pub(crate) async fn store_for(&self, who: &Principal, store_id: &str) -> Result<StoreRow> {
        let store = self
            .storage
            .store(store_id)
            .await?
            .ok_or(Error::NotFound("store not found"))?;
        access::manage_store(who, &store)?;
        Ok(store)
    }
}
