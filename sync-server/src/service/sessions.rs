//! Sessions: one per sign-in, its access tokens (`ses` claim) and its family of refresh tokens
//! (reuse of a spent one ends the family); sign-out; and authenticating whoever calls: users
//! (whose session is checked on every request), terminals and other instances.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::Services;
use super::device_credentials::KnownTerminal;
use crate::auth::{self, Claims, Principal, Role};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::storage::{RefreshTokenRow, RefreshUse, SessionRow, UserRow};

/// How stale a terminal's `last_seen_at` may be before an authenticated request writes it.
const TOUCH_EVERY_MS: i64 = 10_000;

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

/// Counts failures per key within a window (failed enrollments per address; logins are
/// limited in the database, see [`super::login`]).
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
}

/// Enrollment attempt limits per client address (per instance).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    /// Failed enrollments, keyed `enroll:<addr>`.
    pub(super) addresses: Mutex<FailureCounter>,
}

/// The session behind a user's access token, for a sync connection opened with it: the
/// connection closes when the token expires or the session ends
/// ([`crate::sync::session_watch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLease {
    pub session_id: String,
    /// When the access token expires, unix milliseconds.
    pub expires_at_ms: i64,
}

/// Why a session ended (stored in `sessions.end_reason`).
pub mod end_reason {
    pub const SIGNED_OUT: &str = "signed out";
    pub const REFRESH_REUSED: &str = "refresh token reused";
    pub const PASSWORD_CHANGED: &str = "password changed";
    pub const USER_DISABLED: &str = "user disabled";
}

impl Services {
    /// Starts a session for `user` (a login) and issues its first tokens.
    pub(super) async fn start_session(&self, user: &UserRow) -> Result<TokenPair> {
        let session = SessionRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user.id.clone(),
            created_at: now_ms(),
            ended_at: None,
            end_reason: None,
        };
        self.storage.insert_session(&session).await?;
        self.issue_tokens(user, &session.id).await
    }

    async fn issue_tokens(&self, user: &UserRow, session_id: &str) -> Result<TokenPair> {
        let now = now_ms();
        let claims = Claims {
            sub: user.id.clone(),
            tid: user.tenant_id.clone(),
            sid: user.store_id.clone(),
            role: Role::parse(&user.role)?,
            ses: Some(session_id.to_string()),
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
                session_id: Some(session_id.to_string()),
            })
            .await?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            token_type: "Bearer".into(),
            expires_in: self.config.access_token_ttl_secs,
        })
    }

    /// Exchanges a refresh token (one use) for a new pair of the same session. A token used a
    /// second time means two parties hold it: its whole session (the family) is ended, so the
    /// thief's tokens and the owner's stop working and the owner signs in again.
    #[instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair> {
        let invalid = Error::Unauthorized("invalid refresh token");
        let row = match self
            .storage
            .use_refresh_token(&auth::sha256_hex(refresh_token), now_ms())
            .await?
        {
            RefreshUse::Fresh(row) => row,
            RefreshUse::Reused(row) => {
                if let Some(session) = &row.session_id {
                    tracing::warn!(
                        session_id = %session,
                        user_id = %row.user_id,
                        "refresh token used twice: ending its session"
                    );
                    self.end_sessions(std::slice::from_ref(session), end_reason::REFRESH_REUSED)
                        .await?;
                }
                return Err(invalid);
            }
            RefreshUse::Invalid => return Err(invalid),
        };
        let Some(session_id) = row.session_id else {
            return Err(invalid);
        };
        self.live_session(&session_id, &row.user_id).await?;
        let user = self.storage.user(&row.user_id).await?.ok_or(invalid)?;
        self.issue_tokens(&user, &session_id).await
    }

    /// Ends the session of `who`'s access token (sign-out): its access and refresh tokens stop
    /// working at once, and sync connections opened with them close.
    #[instrument(skip_all)]
    pub async fn logout(&self, token: &str) -> Result<()> {
        let (_, session_id) = self.authenticate_session(token).await?;
        self.end_sessions(&[session_id], end_reason::SIGNED_OUT)
            .await
    }

    /// Ends `sessions` and tells this instance's sync connections at once (other instances
    /// see it on their next poll, [`Services::watch_revocations`]).
    pub(super) async fn end_sessions(&self, sessions: &[String], reason: &str) -> Result<()> {
        let now = now_ms();
        for id in sessions {
            self.storage.end_session(id, reason, now).await?;
            let _ = self.session_ended.send(id.clone());
        }
        Ok(())
    }

    /// Errs unless session `id` belongs to `user_id`, is not ended and its user not disabled.
    async fn live_session(&self, id: &str, user_id: &str) -> Result<()> {
        match self.storage.session_state(id).await? {
            Some(s) if s.user_id == user_id && s.ended_at.is_none() => {
                if s.user_disabled_at.is_some() {
                    Err(Error::Unauthorized("user disabled"))
                } else {
                    Ok(())
                }
            }
            _ => Err(Error::Unauthorized("session ended")),
        }
    }

    /// Whether the session of a lease is still live (a sync connection's re-check).
    pub async fn session_live(&self, lease: &SessionLease) -> Result<bool> {
        Ok(match self.storage.session_state(&lease.session_id).await? {
            Some(s) => s.ended_at.is_none() && s.user_disabled_at.is_none(),
            None => false,
        })
    }

    /// Validates an access token (JWT) of an owner or manager and its session: one indexed
    /// lookup per request, so that sign-out, disabling and password changes take effect at once.
    pub async fn authenticate_access(&self, token: &str) -> Result<Principal> {
        Ok(self.authenticate_session(token).await?.0)
    }

    /// [`Services::authenticate_access`], with the session id.
    pub(super) async fn authenticate_session(&self, token: &str) -> Result<(Principal, String)> {
        let claims = self.jwt.verify(token, now_ms() / 1000)?;
        // Tokens issued before sessions existed name none; they expire within the access token
        // lifetime, and until then they are refused.
        let session_id = claims.ses.ok_or(Error::Unauthorized("invalid token"))?;
        self.live_session(&session_id, &claims.sub).await?;
        Ok((
            Principal::User {
                user_id: claims.sub,
                tenant_id: claims.tid,
                store_id: claims.sid,
                role: claims.role,
            },
            session_id,
        ))
    }

    /// The session and expiry of a user's access token (already authenticated); `None` for
    /// other credentials.
    pub fn session_lease(&self, token: &str) -> Option<SessionLease> {
        let claims = self.jwt.verify(token, now_ms() / 1000).ok()?;
        Some(SessionLease {
            session_id: claims.ses?,
            expires_at_ms: claims.exp.saturating_mul(1000),
        })
    }

    /// Sessions ended anywhere: each sync connection opened with a user's token listens here.
    pub fn session_events(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.session_ended.subscribe()
    }

    /// A fresh credential with which instance `instance_id` dials its peers (short-lived: mint
    /// one per dial, see [`auth::cluster_credential`]).
    pub fn cluster_token(&self, instance_id: &str) -> String {
        let exp = now_ms() / 1000 + auth::CLUSTER_CREDENTIAL_TTL_SECS;
        auth::cluster_credential(&self.jwt, instance_id, exp)
    }

    /// Validates a sync-endpoint token: a terminal's device credential, an app credential, a
    /// user's access token, or another instance's cluster credential.
    pub async fn authenticate_sync(&self, token: &str) -> Result<Principal> {
        if token.starts_with(auth::APP_CREDENTIAL_PREFIX) {
            return self.authenticate_app(token).await;
        }
        if token.starts_with(auth::CLUSTER_CREDENTIAL_PREFIX) {
            let instance_id = auth::verify_cluster_credential(&self.jwt, token, now_ms() / 1000)?;
            return Ok(Principal::Instance { instance_id });
        }
        if token.starts_with(auth::DEVICE_CREDENTIAL_PREFIX) {
            let term = self.authenticate_device(token).await?;
            Ok(Principal::Terminal {
                terminal_id: term.terminal_id,
                tenant_id: term.tenant_id,
                store_id: term.store_id,
            })
        } else {
            self.authenticate_access(token).await
        }
    }

    /// The terminal of a device credential: kept from an earlier request (see
    /// [`super::device_credentials`]) or looked up, refused when unknown or revoked.
    async fn authenticate_device(&self, token: &str) -> Result<KnownTerminal> {
        let hash = auth::sha256_hex(token);
        let now = now_ms();
        let term = match self.device_credentials.get(&hash, now) {
            Some(term) => term,
            None => {
                let row = self
                    .storage
                    .terminal_by_credential(&hash)
                    .await?
                    .ok_or(Error::Unauthorized("unknown device credential"))?;
                if row.revoked_at.is_some() {
                    return Err(Error::Unauthorized("terminal revoked"));
                }
                let term = KnownTerminal {
                    terminal_id: row.id,
                    tenant_id: row.tenant_id,
                    store_id: row.store_id,
                };
                self.device_credentials
                    .keep(&hash, term.clone(), row.last_seen_at, now);
                term
            }
        };
        // A till's heartbeat records its `last_seen_at` every 2 s anyway: a row already
        // touched in the last 10 s is not written again for each of its requests.
        if self
            .device_credentials
            .seen_at(&term.terminal_id)
            .is_none_or(|seen| now - seen >= TOUCH_EVERY_MS)
        {
            self.storage.touch_terminal(&term.terminal_id, now).await?;
            self.device_credentials.seen(&term.terminal_id, now);
        }
        Ok(term)
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
