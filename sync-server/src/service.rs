//! Tenancy and auth use-cases. HTTP handlers and the admin CLI call these;
//! they hold the logic, the edges stay thin.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::auth::{self, Claims, JwtKey, Principal, Role};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::now_ms;
use crate::storage::{
    DynStorage, EnrollmentCodeRow, RefreshTokenRow, StoreRow, Tenant, TerminalRow, UserRow,
};
use crate::sync::ConnectionRegistry;

/// Tokens returned by login and refresh.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// Short-lived JWT for `Authorization: Bearer` (and the sync endpoint).
    pub access_token: String,
    /// One-time refresh token; exchange it at `/api/v1/auth/refresh`.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token, seconds.
    pub expires_in: i64,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// What a terminal receives when it enrols.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Enrollment {
    pub terminal_id: String,
    pub tenant_id: String,
    pub store_id: String,
    pub store_code: String,
    /// Secret device credential: the token for the sync endpoint. Shown once.
    pub device_credential: String,
    /// Secret shared by the store's terminals for LAN sync.
    pub store_key: String,
    /// Path of the WebSocket sync endpoint on this server.
    pub sync_path: String,
}

impl std::fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrollment")
            .field("terminal_id", &self.terminal_id)
            .field("store_id", &self.store_id)
            .finish_non_exhaustive()
    }
}

/// A freshly made enrollment code.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewEnrollmentCode {
    /// The one-time code to type on the terminal, e.g. `K7QM-2XWP-9HDA`.
    pub code: String,
    pub store_id: String,
    pub terminal_name: String,
    /// Unix milliseconds.
    pub expires_at: i64,
}

/// Result of creating a tenant with its first store and owner.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Bootstrap {
    pub tenant_id: String,
    pub store_id: String,
    pub owner_id: String,
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

/// A terminal as shown to owners and managers.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TerminalView {
    pub id: String,
    pub store_id: String,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    /// Whether the terminal has an open sync connection to this instance.
    pub connected: bool,
    /// What the terminal last reported through its heartbeat; `null` when it never reported.
    pub last_report: Option<TerminalReportView>,
}

/// A terminal's last heartbeat report (`POST /api/v1/terminals/me/heartbeat`).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TerminalReportView {
    /// When the server received the report (unix ms).
    pub at: i64,
    /// Documents the terminal still had to send.
    pub waiting_documents: i64,
    /// Sales the terminal still had to send.
    pub waiting_sales: i64,
    /// The terminal's clock minus the server's when it reported, in milliseconds.
    pub clock_skew_ms: i64,
}

/// Change hashes (hex) a client wants confirmed as persisted.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PersistedRequest {
    /// At most 1000 change hashes, each 64 hex digits.
    #[schema(value_type = Vec<crate::openapi::ChangeHashHex>, max_items = 1000)]
    pub heads: Vec<String>,
}

/// Which of the asked change hashes the server has in durable storage.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Persisted {
    /// True when every asked hash is stored.
    pub all: bool,
    /// The asked hashes that are not stored (yet).
    pub missing: Vec<String>,
}

/// Counts failures per key within a window.
#[derive(Debug, Default)]
struct FailureCounter {
    entries: HashMap<String, (u32, i64)>,
}

impl FailureCounter {
    fn blocked(&mut self, key: &str, max: u32, window_ms: i64, now: i64) -> bool {
        match self.entries.get(key) {
            Some((n, start)) if now - start < window_ms => *n >= max,
            Some(_) => {
                self.entries.remove(key);
                false
            }
            None => false,
        }
    }
    fn fail(&mut self, key: &str, window_ms: i64, now: i64) {
        if self.entries.len() > 100_000 {
            self.entries
                .retain(|_, (_, start)| now - *start < window_ms);
        }
        let e = self.entries.entry(key.to_string()).or_insert((0, now));
        if now - e.1 >= window_ms {
            *e = (0, now);
        }
        e.0 += 1;
    }
    fn clear(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

/// Login attempt limits per account and per client address (per instance).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    accounts: Mutex<FailureCounter>,
    addresses: Mutex<FailureCounter>,
}

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

fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn make_enrollment_code() -> String {
    // Crockford-like alphabet without look-alikes; 12 symbols = 60 bits.
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let raw: String = (0..12)
        .map(|_| ALPHABET[(rand::random::<u8>() as usize) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
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
        Ok(store)
    }

    /// Adds a store to the caller's tenant (owners only).
    #[instrument(skip_all)]
    pub async fn create_store(&self, who: &Principal, code: &str, name: &str) -> Result<StoreView> {
        match who {
            Principal::User {
                role: Role::Owner,
                tenant_id,
                ..
            } => Ok(self.insert_store(tenant_id, code, name).await?.into()),
            _ => Err(Error::Forbidden("only owners create stores")),
        }
    }

    /// Stores visible to the caller.
    pub async fn list_stores(&self, who: &Principal) -> Result<Vec<StoreView>> {
        let stores = self.storage.stores_of_tenant(who.tenant_id()).await?;
        Ok(stores
            .into_iter()
            .filter(|s| who.may_access(&s.tenant_id, Some(&s.id)))
            .map(StoreView::from)
            .collect())
    }

    /// Adds a manager bound to one store (owners only).
    #[instrument(skip_all)]
    pub async fn create_manager(
        &self,
        who: &Principal,
        store_id: &str,
        email: &str,
        password: &str,
    ) -> Result<String> {
        let Principal::User {
            role: Role::Owner,
            tenant_id,
            ..
        } = who
        else {
            return Err(Error::Forbidden("only owners add managers"));
        };
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
            tenant_id: tenant_id.clone(),
            store_id: Some(store_id.to_string()),
            email,
            password_hash: auth::hash_password(password)?,
            role: Role::Manager.as_str().to_string(),
            created_at: now_ms(),
        };
        self.storage.insert_user(&user).await?;
        Ok(user.id)
    }

    /// Password login, limited per account and per address.
    #[instrument(skip_all, fields(addr = %addr))]
    pub async fn login(&self, email: &str, password: &str, addr: IpAddr) -> Result<TokenPair> {
        let email = normalize_email(email);
        let now = now_ms();
        let window = self.config.login_window_secs * 1000;
        let addr_key = addr.to_string();
        {
            let blocked_account = self.limiter.accounts.lock().expect("limiter lock").blocked(
                &email,
                self.config.login_max_failures_per_account,
                window,
                now,
            );
            let blocked_addr = self
                .limiter
                .addresses
                .lock()
                .expect("limiter lock")
                .blocked(
                    &addr_key,
                    self.config.login_max_failures_per_address,
                    window,
                    now,
                );
            if blocked_account || blocked_addr {
                tracing::warn!(blocked_account, blocked_addr, "login rate limited");
                return Err(Error::RateLimited);
            }
        }
        let user = self.storage.user_by_email(&email).await?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || {
            auth::verify_password(&pw, hash.as_deref().unwrap_or(auth::dummy_password_hash()))
        })
        .await
        .map_err(|e| Error::Internal(format!("password check: {e}")))?;
        match user {
            Some(user) if ok => {
                self.limiter
                    .accounts
                    .lock()
                    .expect("limiter lock")
                    .clear(&email);
                self.issue_tokens(&user).await
            }
            _ => {
                self.limiter
                    .accounts
                    .lock()
                    .expect("limiter lock")
                    .fail(&email, window, now);
                self.limiter
                    .addresses
                    .lock()
                    .expect("limiter lock")
                    .fail(&addr_key, window, now);
                tracing::info!("login failed");
                Err(Error::Unauthorized("wrong email or password"))
            }
        }
    }

    async fn issue_tokens(&self, user: &UserRow) -> Result<TokenPair> {
        let now = now_ms();
        let claims = Claims {
            sub: user.id.clone(),
            tid: user.tenant_id.clone(),
            sid: user.store_id.clone(),
            role: Role::parse(&user.role)?,
            iat: now / 1000,
            exp: now / 1000 + self.config.access_token_ttl_secs,
        };
        let access_token = self.jwt.sign(&claims)?;
        let refresh_token = format!("skr_{}", auth::random_token(32));
        self.storage
            .insert_refresh_token(&RefreshTokenRow {
                token_hash: auth::sha256_hex(&refresh_token),
                user_id: user.id.clone(),
                created_at: now,
                expires_at: now + self.config.refresh_token_ttl_secs * 1000,
                used_at: None,
            })
            .await?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            token_type: "Bearer".into(),
            expires_in: self.config.access_token_ttl_secs,
        })
    }

    /// Exchanges a refresh token (one use) for a new pair.
    #[instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair> {
        let row = self
            .storage
            .use_refresh_token(&auth::sha256_hex(refresh_token), now_ms())
            .await?
            .ok_or(Error::Unauthorized("invalid refresh token"))?;
        let user = self
            .storage
            .user(&row.user_id)
            .await?
            .ok_or(Error::Unauthorized("invalid refresh token"))?;
        self.issue_tokens(&user).await
    }

    /// Validates an access token (JWT) of an owner or manager.
    pub fn authenticate_access(&self, token: &str) -> Result<Principal> {
        let claims = self.jwt.verify(token, now_ms() / 1000)?;
        Ok(Principal::User {
            user_id: claims.sub,
            tenant_id: claims.tid,
            store_id: claims.sid,
            role: claims.role,
        })
    }

    /// Credential with which instance `instance_id` dials its peers.
    pub fn cluster_token(&self, instance_id: &str) -> String {
        format!(
            "{}{instance_id}.{}",
            auth::CLUSTER_CREDENTIAL_PREFIX,
            self.jwt.tag(&format!("cluster:{instance_id}"))
        )
    }

    /// Validates a sync-endpoint token: a terminal's device credential, a
    /// user's access token, or another instance's cluster credential.
    pub async fn authenticate_sync(&self, token: &str) -> Result<Principal> {
        if let Some(rest) = token.strip_prefix(auth::CLUSTER_CREDENTIAL_PREFIX) {
            let (id, _) = rest
                .split_once('.')
                .ok_or(Error::Unauthorized("invalid cluster credential"))?;
            if self.cluster_token(id) != token {
                return Err(Error::Unauthorized("invalid cluster credential"));
            }
            return Ok(Principal::Instance {
                instance_id: id.to_string(),
            });
        }
        if token.starts_with(auth::DEVICE_CREDENTIAL_PREFIX) {
            let term = self
                .storage
                .terminal_by_credential(&auth::sha256_hex(token))
                .await?
                .ok_or(Error::Unauthorized("unknown device credential"))?;
            if term.revoked_at.is_some() {
                return Err(Error::Unauthorized("terminal revoked"));
            }
            self.storage.touch_terminal(&term.id, now_ms()).await?;
            Ok(Principal::Terminal {
                terminal_id: term.id,
                tenant_id: term.tenant_id,
                store_id: term.store_id,
            })
        } else {
            self.authenticate_access(token)
        }
    }

    pub(crate) async fn store_for(&self, who: &Principal, store_id: &str) -> Result<StoreRow> {
        let store = self
            .storage
            .store(store_id)
            .await?
            .ok_or(Error::NotFound("store not found"))?;
        if !who.may_access(&store.tenant_id, Some(&store.id)) {
            return Err(Error::NotFound("store not found"));
        }
        if !who.may_manage_store(&store.tenant_id, &store.id) {
            return Err(Error::Forbidden("not allowed to manage this store"));
        }
        Ok(store)
    }

    /// Makes a one-time enrollment code for a new terminal of `store_id`.
    #[instrument(skip_all, fields(store_id))]
    pub async fn create_enrollment_code(
        &self,
        who: &Principal,
        store_id: &str,
        terminal_name: &str,
    ) -> Result<NewEnrollmentCode> {
        let store = self.store_for(who, store_id).await?;
        self.make_code(store, &who.label(), terminal_name).await
    }

    /// Makes an enrollment code as the operator (admin CLI).
    pub async fn admin_enrollment_code(
        &self,
        store_id: &str,
        terminal_name: &str,
    ) -> Result<NewEnrollmentCode> {
        let store = self
            .storage
            .store(store_id)
            .await?
            .ok_or(Error::NotFound("store not found"))?;
        self.make_code(store, "admin", terminal_name).await
    }

    async fn make_code(
        &self,
        store: StoreRow,
        created_by: &str,
        terminal_name: &str,
    ) -> Result<NewEnrollmentCode> {
        let name = terminal_name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(Error::BadRequest(
                "terminal name must have 1-64 characters".into(),
            ));
        }
        let code = make_enrollment_code();
        let now = now_ms();
        let row = EnrollmentCodeRow {
            code_hash: auth::sha256_hex(&normalize_code(&code)),
            tenant_id: store.tenant_id,
            store_id: store.id.clone(),
            created_by: created_by.to_string(),
            terminal_name: name.to_string(),
            created_at: now,
            expires_at: now + self.config.enrollment_code_ttl_secs * 1000,
            used_at: None,
            terminal_id: None,
        };
        self.storage.insert_enrollment_code(&row).await?;
        Ok(NewEnrollmentCode {
            code,
            store_id: store.id,
            terminal_name: row.terminal_name,
            expires_at: row.expires_at,
        })
    }

    /// Enrols a terminal with a one-time code; attempts are limited per address.
    #[instrument(skip_all, fields(addr = %addr))]
    pub async fn enroll(&self, code: &str, addr: IpAddr) -> Result<Enrollment> {
        let now = now_ms();
        let window = self.config.login_window_secs * 1000;
        let addr_key = format!("enroll:{addr}");
        if self
            .limiter
            .addresses
            .lock()
            .expect("limiter lock")
            .blocked(
                &addr_key,
                self.config.login_max_failures_per_address,
                window,
                now,
            )
        {
            return Err(Error::RateLimited);
        }
        let code_hash = auth::sha256_hex(&normalize_code(code));
        // The terminal row is inserted in the same transaction that consumes
        // the code, so tenant/store come from the code itself.
        let Some(code_row) = self.peek_code(&code_hash).await? else {
            self.limiter
                .addresses
                .lock()
                .expect("limiter lock")
                .fail(&addr_key, window, now);
            return Err(Error::Unauthorized("invalid or expired enrollment code"));
        };
        let credential = format!(
            "{}{}",
            auth::DEVICE_CREDENTIAL_PREFIX,
            auth::random_token(32)
        );
        let terminal = TerminalRow {
            id: new_id(),
            tenant_id: code_row.tenant_id.clone(),
            store_id: code_row.store_id.clone(),
            name: code_row.terminal_name.clone(),
            credential_hash: auth::sha256_hex(&credential),
            created_at: now,
            revoked_at: None,
            last_seen_at: None,
        };
        if self
            .storage
            .redeem_enrollment_code(&code_hash, &terminal, now)
            .await?
            .is_none()
        {
            self.limiter
                .addresses
                .lock()
                .expect("limiter lock")
                .fail(&addr_key, window, now);
            return Err(Error::Unauthorized("invalid or expired enrollment code"));
        }
        let store = self
            .storage
            .store(&terminal.store_id)
            .await?
            .ok_or(Error::NotFound("store not found"))?;
        tracing::info!(terminal_id = %terminal.id, store_id = %store.id, "terminal enrolled");
        Ok(Enrollment {
            terminal_id: terminal.id,
            tenant_id: store.tenant_id,
            store_id: store.id,
            store_code: store.code,
            device_credential: credential,
            store_key: store.store_key,
            sync_path: "/sync".into(),
        })
    }

    async fn peek_code(&self, code_hash: &str) -> Result<Option<EnrollmentCodeRow>> {
        // Reading through a redeem would consume it; codes are looked up by
        // hash in the same table, so a tiny helper query is enough.
        self.storage.enrollment_code(code_hash).await
    }

    /// Which of `heads` are in the stored (durable) document — read back from
    /// storage, not from memory: the acknowledgement a terminal shows as
    /// "on server".
    #[instrument(skip_all, fields(document_id))]
    pub async fn persisted(
        &self,
        who: &Principal,
        document_id: &str,
        heads: &[String],
    ) -> Result<Persisted> {
        crate::sync::protocol::parse_document_id(document_id)
            .map_err(|_| Error::BadRequest("invalid document id".into()))?;
        if heads.len() > 1000 {
            return Err(Error::BadRequest("at most 1000 heads".into()));
        }
        let mut hashes = Vec::with_capacity(heads.len());
        for h in heads {
            hashes.push(
                h.parse::<automerge::ChangeHash>()
                    .map_err(|_| Error::BadRequest(format!("invalid change hash {h:?}")))?,
            );
        }
        let claim = self.storage.doc_claim(document_id).await?;
        match claim {
            Some(c) if who.may_access(&c.tenant_id, c.store_id.as_deref()) => {}
            _ => return Err(Error::NotFound("document not found")),
        }
        let mut doc = crate::projection::load_document(&self.storage, document_id).await?;
        let mut missing = Vec::new();
        for (s, h) in heads.iter().zip(&hashes) {
            let stored = doc
                .as_mut()
                .is_some_and(|d| d.get_change_by_hash(h).is_some());
            if !stored {
                missing.push(s.clone());
            }
        }
        Ok(Persisted {
            all: missing.is_empty(),
            missing,
        })
    }

    /// Terminals of a store.
    pub async fn list_terminals(
        &self,
        who: &Principal,
        store_id: &str,
    ) -> Result<Vec<TerminalView>> {
        self.store_for(who, store_id).await?;
        let rows = self.storage.terminal_statuses_of_store(store_id).await?;
        Ok(rows
            .into_iter()
            .map(|s| {
                let t = s.terminal;
                TerminalView {
                    connected: self.connections.terminal_connected(&t.id),
                    id: t.id,
                    store_id: t.store_id,
                    name: t.name,
                    created_at: t.created_at,
                    revoked_at: t.revoked_at,
                    last_seen_at: t.last_seen_at,
                    last_report: s.last_report_at.map(|at| TerminalReportView {
                        at,
                        waiting_documents: s.waiting_documents,
                        waiting_sales: s.waiting_sales,
                        // Written by the same update as `last_report_at`.
                        clock_skew_ms: s.clock_skew_ms.unwrap_or_default(),
                    }),
                }
            })
            .collect())
    }

    /// Revokes a terminal and closes its open connections (here at once,
    /// on other instances within `revocation_poll_ms`). `who` is `None` for the admin CLI.
    #[instrument(skip_all, fields(terminal_id))]
    pub async fn revoke_terminal(&self, who: Option<&Principal>, terminal_id: &str) -> Result<()> {
        let term = self
            .storage
            .terminal(terminal_id)
            .await?
            .ok_or(Error::NotFound("terminal not found"))?;
        if let Some(who) = who {
            self.store_for(who, &term.store_id).await?;
        }
        self.storage.revoke_terminal(terminal_id, now_ms()).await?;
        let closed = self
            .connections
            .close_terminal(terminal_id, "terminal revoked");
        tracing::warn!(terminal_id, closed, "terminal revoked");
        Ok(())
    }

    /// Polls storage for revocations made by any instance and closes the
    /// affected connections. Runs until the process ends.
    pub async fn watch_revocations(self) {
        let every = std::time::Duration::from_millis(self.config.revocation_poll_ms.max(50));
        let mut since = now_ms() - 60_000;
        loop {
            tokio::time::sleep(every).await;
            let started = now_ms();
            match self.storage.terminals_revoked_since(since).await {
                Ok(ids) => {
                    for id in ids {
                        self.connections.close_terminal(&id, "terminal revoked");
                    }
                    since = started - 5_000;
                }
                Err(e) => tracing::error!(error = %e, "revocation poll failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_normalize() {
        let c = make_enrollment_code();
        assert_eq!(c.len(), 14);
        assert_eq!(normalize_code(&c.to_lowercase()), normalize_code(&c));
        assert_eq!(normalize_code(" ab-cd "), "ABCD");
    }

    #[test]
    fn failure_counter_blocks_then_expires() {
        let mut f = FailureCounter::default();
        for _ in 0..3 {
            assert!(!f.blocked("a", 3, 1000, 0));
            f.fail("a", 1000, 0);
        }
        assert!(f.blocked("a", 3, 1000, 10));
        assert!(!f.blocked("b", 3, 1000, 10));
        assert!(!f.blocked("a", 3, 1000, 1000));
    }
}
