//! Sessions: password login (limited per account and per address), access and refresh
//! tokens, and authenticating whoever calls: users, terminals and other instances.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::{Services, normalize_email};
use crate::auth::{self, Claims, Principal, Role};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::storage::{RefreshTokenRow, UserRow};

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

/// Counts failures per key within a window.
#[derive(Debug, Default)]
pub(super) struct FailureCounter {
    entries: HashMap<String, (u32, i64)>,
}

impl FailureCounter {
    pub(super) fn blocked(&mut self, key: &str, max: u32, window_ms: i64, now: i64) -> bool {
        match self.entries.get(key) {
            Some((n, start)) if now - start < window_ms => *n >= max,
            Some(_) => {
                self.entries.remove(key);
                false
            }
            None => false,
        }
    }
    pub(super) fn fail(&mut self, key: &str, window_ms: i64, now: i64) {
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
    pub(super) fn clear(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

/// Login attempt limits per account and per client address (per instance).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    accounts: Mutex<FailureCounter>,
    /// Also counts failed enrollments, keyed `enroll:<addr>`.
    pub(super) addresses: Mutex<FailureCounter>,
}

impl Services {
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

    /// A fresh credential with which instance `instance_id` dials its peers (short-lived: mint
    /// one per dial, see [`auth::cluster_credential`]).
    pub fn cluster_token(&self, instance_id: &str) -> String {
        let exp = now_ms() / 1000 + auth::CLUSTER_CREDENTIAL_TTL_SECS;
        auth::cluster_credential(&self.jwt, instance_id, exp)
    }

    /// Validates a sync-endpoint token: a terminal's device credential, a
    /// user's access token, or another instance's cluster credential.
    pub async fn authenticate_sync(&self, token: &str) -> Result<Principal> {
        if token.starts_with(auth::CLUSTER_CREDENTIAL_PREFIX) {
            let instance_id = auth::verify_cluster_credential(&self.jwt, token, now_ms() / 1000)?;
            return Ok(Principal::Instance { instance_id });
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn failure_counter_blocks_then_expires() {
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
