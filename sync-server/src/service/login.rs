//! Password login and the two things that keep it from being a weapon: login attempt limits
//! counted in the database *before* the password is checked (so parallel attempts cannot
//! overtake the count, and every instance sharing the database shares the limits), and a bound
//! on concurrent password checks (each argon2 check holds ~19 MiB; an unbounded pool of them
//! grew the server to 2 GiB).
//!
//! Limits: per account (its normalized email) and per client address ([`crate::proxy`] says
//! which address that is behind a proxy). An attempt counts against the account first; one
//! refused there never counts against the address, so hammering one account does not lock the
//! other owners who share the attacker's address (an office, a NAT) out of theirs. A
//! successful login takes its attempt back: the counters hold failures and checks in flight.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use tracing::instrument;

use super::{Services, normalize_email};
use crate::auth;
use crate::error::{Error, Result};
use crate::now_ms;

use super::TokenPair;

/// How long a password check may wait in the queue before the login is answered `busy`.
const QUEUE_WAIT: Duration = Duration::from_secs(10);

/// Bounded concurrency for argon2 password checks and hashes, with a short bounded queue.
#[derive(Debug)]
pub struct PasswordChecks {
    permits: Semaphore,
    waiting: AtomicUsize,
    queue: usize,
    /// Password checks and hashes run, for `/metrics` (`snapkasir_password_checks_total`).
    pub total: AtomicU64,
    /// Logins refused by the limits without a check (`snapkasir_login_limited_total`).
    pub limited: AtomicU64,
    /// Logins answered `busy` (`snapkasir_login_busy_total`).
    pub busy: AtomicU64,
}

/// Leaves the queue when the waiting login finishes or is dropped (client gone).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PasswordChecks {
    /// `concurrent` checks at once (at least one), `queue` more waiting.
    pub fn new(concurrent: usize, queue: usize) -> Self {
        Self {
            permits: Semaphore::new(concurrent.max(1)),
            waiting: AtomicUsize::new(0),
            queue,
            total: AtomicU64::new(0),
            limited: AtomicU64::new(0),
            busy: AtomicU64::new(0),
        }
    }

    /// Runs `f` (argon2 work) on the blocking pool once a permit is free; [`Error::Busy`] when
    /// the queue is full or the wait too long.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let permit = match self.permits.try_acquire() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    self.busy.fetch_add(1, Ordering::Relaxed);
                    return Err(Error::Busy);
                }
                let _waiting = Waiting(&self.waiting);
                match tokio::time::timeout(QUEUE_WAIT, self.permits.acquire()).await {
                    Ok(Ok(p)) => p,
                    _ => {
                        self.busy.fetch_add(1, Ordering::Relaxed);
                        return Err(Error::Busy);
                    }
                }
            }
        };
        self.total.fetch_add(1, Ordering::Relaxed);
        let out = tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| Error::Internal(format!("password check: {e}")));
        drop(permit);
        out
    }
}

/// Which limit refused an attempt, for the log.
fn limited(checks: &PasswordChecks, which: &'static str) -> Error {
    checks.limited.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(which, "login rate limited");
    Error::RateLimited
}

impl Services {
    /// Password login, limited per account and per address (counted before the check).
    #[instrument(skip_all, fields(addr = %addr))]
    pub async fn login(&self, email: &str, password: &str, addr: IpAddr) -> Result<TokenPair> {
        let email = normalize_email(email);
        let (account_key, address_key) = (format!("account:{email}"), format!("address:{addr}"));
        let now = now_ms();
        let window = self.config.login_window_secs * 1000;
        let storage = &self.storage;
        let checks = &self.password_checks;
        let n = storage
            .count_login_attempt(&account_key, now, window)
            .await?;
        if n > i64::from(self.config.login_max_failures_per_account) {
            return Err(limited(checks, "account"));
        }
        let n = storage
            .count_login_attempt(&address_key, now, window)
            .await?;
        if n > i64::from(self.config.login_max_failures_per_address) {
            storage.refund_login_attempt(&account_key).await?;
            return Err(limited(checks, "address"));
        }
        let user = storage.user_by_email(&email).await?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let pw = password.to_string();
        let checked = checks
            .run(move || {
                auth::verify_password(&pw, hash.as_deref().unwrap_or(auth::dummy_password_hash()))
            })
            .await;
        let ok = match checked {
            Ok(ok) => ok,
            Err(e) => {
                // Never checked: the attempt does not count.
                storage.refund_login_attempt(&account_key).await?;
                storage.refund_login_attempt(&address_key).await?;
                return Err(e);
            }
        };
        match user {
            Some(user) if ok => {
                storage.refund_login_attempt(&account_key).await?;
                storage.refund_login_attempt(&address_key).await?;
                if user.disabled_at.is_some() {
                    tracing::info!(user_id = %user.id, "login of a disabled user refused");
                    return Err(Error::Forbidden("this account is disabled"));
                }
                self.start_session(&user).await
            }
            _ => {
                tracing::info!("login failed");
                Err(Error::Unauthorized("wrong email or password"))
            }
        }
    }

    /// Checks `password` against `phc` within the bound on concurrent checks.
    pub(super) async fn check_password(&self, password: &str, phc: &str) -> Result<bool> {
        let (pw, phc) = (password.to_string(), phc.to_string());
        self.password_checks
            .run(move || auth::verify_password(&pw, &phc))
            .await
    }

    /// Hashes `password` within the bound on concurrent checks.
    pub(super) async fn hash_password(&self, password: &str) -> Result<String> {
        let pw = password.to_string();
        self.password_checks
            .run(move || auth::hash_password(&pw))
            .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Gate = std::sync::Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>;

    /// A check that holds its permit until `gate` lets it go.
    fn hold(
        checks: &std::sync::Arc<PasswordChecks>,
        gate: &Gate,
    ) -> tokio::task::JoinHandle<Result<()>> {
        let (checks, gate) = (checks.clone(), gate.clone());
        tokio::spawn(async move {
            checks
                .run(move || {
                    let _ = gate.lock().expect("gate").recv();
                })
                .await
        })
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy() {
        let checks = std::sync::Arc::new(PasswordChecks::new(1, 1));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let gate: Gate = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let running = hold(&checks, &gate);
        while checks.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let queued = hold(&checks, &gate);
        while checks.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(checks.run(|| ()).await, Err(Error::Busy)));
        tx.send(()).unwrap();
        tx.send(()).unwrap();
        running.await.unwrap().unwrap();
        queued.await.unwrap().unwrap();
        assert_eq!(checks.total.load(Ordering::Relaxed), 2);
        assert_eq!(checks.busy.load(Ordering::Relaxed), 1);
    }
}
