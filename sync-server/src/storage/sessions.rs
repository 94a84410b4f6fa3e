//! Sign-in sessions, disabled users, password changes and the login attempt counters: what
//! makes owner and manager access revocable, and the login limits shared by every instance.

use futures::future::BoxFuture;

use crate::error::Result;
use crate::storage::{SessionRow, SessionState};

/// Sessions and login limits.
pub trait SessionStorage: Send + Sync {
    fn insert_session<'a>(&'a self, s: &'a SessionRow) -> BoxFuture<'a, Result<()>>;
    /// The session and whether its user is disabled; `None` when unknown.
    fn session_state<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<SessionState>>>;
    /// Ends a session unless already ended; returns whether this call ended it.
    fn end_session<'a>(
        &'a self,
        id: &'a str,
        reason: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<bool>>;
    /// Ends every open session of `user_id` except `keep`; returns the ids ended.
    fn end_user_sessions<'a>(
        &'a self,
        user_id: &'a str,
        keep: Option<&'a str>,
        reason: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Vec<String>>>;
    /// Ids of sessions ended at or after `since` (every instance polls this to close the sync
    /// connections opened with them).
    fn sessions_ended_since(&self, since: i64) -> BoxFuture<'_, Result<Vec<String>>>;
    /// Sets (`Some`) or clears (`None`) a user's `disabled_at`; returns whether the user exists.
    fn set_user_disabled<'a>(
        &'a self,
        user_id: &'a str,
        disabled_at: Option<i64>,
    ) -> BoxFuture<'a, Result<bool>>;
    fn set_password_hash<'a>(
        &'a self,
        user_id: &'a str,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<()>>;
    /// Counts one login attempt under `key` in the window of `window_ms` that holds `now`
    /// (a new window when the last one is over), atomically; returns the attempts counted in
    /// the window, this one included.
    fn count_login_attempt<'a>(
        &'a self,
        key: &'a str,
        now: i64,
        window_ms: i64,
    ) -> BoxFuture<'a, Result<i64>>;
    /// Takes back one attempt counted under `key` (a successful login, or one never checked).
    fn refund_login_attempt<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>>;
    /// Forgets counters whose window began before `before`.
    fn prune_login_attempts(&self, before: i64) -> BoxFuture<'_, Result<u64>>;
}
