//! Tenancy and auth use-cases. HTTP handlers and the admin CLI call these;
//! they hold the logic, the edges stay thin. One file per concern: [`accounts`], [`apps`],
//! [`login`], [`sessions`], [`users`], [`web_session`], [`enrollment`], [`terminals`],
//! [`documents`], [`lan`]; the heartbeat's two hot paths, [`device_credentials`] and
//! [`terminal_reports`].

mod accounts;
mod apps;
mod device_credentials;
mod documents;
mod enrollment;
mod lan;
mod login;
mod sessions;
mod terminal_reports;
mod terminals;
mod users;
mod web_session;

use std::sync::Arc;

pub use accounts::{Bootstrap, ManagerView, StoreView};
pub use apps::{AppCredentialView, MAX_APP_NAME_CHARS, NewAppCredential};
pub use documents::{Persisted, PersistedRequest};
pub use enrollment::{Enrollment, NewEnrollmentCode};
pub use login::PasswordChecks;
pub use sessions::{LoginLimiter, SessionLease, TokenPair};
pub use terminal_reports::{ReportCounters, TerminalReports};
pub use terminals::{TerminalReportView, TerminalView};

use crate::access;
use crate::auth::{self, JwtKey, Principal};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::proxy::TrustedProxies;
use crate::storage::{DynStorage, StoreRow};
use crate::sync::ConnectionRegistry;

/// The services of the server, shared by the HTTP API, the sync endpoint and the CLI.
#[derive(Debug, Clone)]
pub struct Services {
    pub storage: DynStorage,
    /// The report reads: on the report replica while it keeps up, else on `storage`.
    pub reports: Arc<crate::report_replica::ReportReads>,
    pub config: Arc<Config>,
    pub connections: Arc<ConnectionRegistry>,
    jwt: JwtKey,
    limiter: Arc<LoginLimiter>,
    /// The bound on concurrent argon2 work, with its counters for `/metrics`.
    pub password_checks: Arc<PasswordChecks>,
    /// Where requests come from behind the configured proxies.
    pub proxies: Arc<TrustedProxies>,
    /// How the scheduled backups went, for `/readyz` and `/metrics`.
    pub backups: Arc<crate::backup::BackupStatus>,
    /// Dynamic QRIS: the stores' gateways, charges and their notifications.
    pub payments: Arc<crate::payments::Payments>,
    /// Device credentials recently accepted (see [`device_credentials`]).
    device_credentials: Arc<device_credentials::DeviceCredentials>,
    /// Heartbeat reports, written together.
    pub terminal_reports: Arc<TerminalReports>,
    /// Ids of sessions as they end (here, or seen in the database): sync connections opened
    /// with their tokens close.
    session_ended: tokio::sync::broadcast::Sender<String>,
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
        let proxies = Arc::new(TrustedProxies::parse(&config.trusted_proxies)?);
        let password_checks = Arc::new(PasswordChecks::new(
            config.password_checks,
            config.password_check_queue,
        ));
        let payments = Arc::new(crate::payments::Payments::new(
            storage.clone(),
            config.clone(),
        )?);
        let reports = crate::report_replica::ReportReads::new(storage.clone(), &config)?;
        let terminal_reports = Arc::new(TerminalReports::start(storage.clone()));
        Ok(Self {
            storage,
            reports,
            config,
            payments,
            connections: Arc::new(ConnectionRegistry::default()),
            jwt: JwtKey::new(key.as_bytes()),
            limiter: Arc::new(LoginLimiter::default()),
            password_checks,
            proxies,
            backups: Arc::default(),
            device_credentials: Arc::default(),
            terminal_reports,
            session_ended: tokio::sync::broadcast::channel(1024).0,
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
