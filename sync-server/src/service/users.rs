//! Revoking owner and manager access: an owner disables (and re-enables) a user of their
//! tenant, and a user changes their password; both end sessions ([`super::sessions`]), so the
//! tokens of those sessions stop working at once and their sync connections close.

use tracing::instrument;

use super::Services;
use super::sessions::end_reason;
use crate::access;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::now_ms;

/// Shortest password accepted.
pub(super) const MIN_PASSWORD_CHARS: usize = 8;

impl Services {
    /// Disables (`disabled`) or re-enables a user of the caller's tenant (owners only, never
    /// themselves). Disabling ends every session of the user.
    #[instrument(skip_all, fields(user_id, disabled))]
    pub async fn set_user_disabled(
        &self,
        who: &Principal,
        user_id: &str,
        disabled: bool,
    ) -> Result<()> {
        let target = self.storage.user(user_id).await?;
        access::disable_user(who, target.as_ref())?;
        self.storage
            .set_user_disabled(user_id, disabled.then(now_ms))
            .await?;
        if disabled {
            let ended = self
                .storage
                .end_user_sessions(user_id, None, end_reason::USER_DISABLED, now_ms())
                .await?;
            for id in ended {
                let _ = self.session_ended.send(id);
            }
        }
        tracing::warn!(user_id, disabled, by = %who.label(), "user access changed");
        Ok(())
    }

    /// Changes the caller's password after checking the old one, and ends every other session
    /// of theirs (the one making the change stays signed in).
    #[instrument(skip_all)]
    pub async fn change_password(
        &self,
        token: &str,
        old_password: &str,
        new_password: &str,
    ) -> Result<()> {
        let (who, session_id) = self.authenticate_session(token).await?;
        let Principal::User { user_id, .. } = &who else {
            return Err(Error::Forbidden("not a user"));
        };
        if new_password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(Error::BadRequest(
                "password must have at least 8 characters".into(),
            ));
        }
        let user = self
            .storage
            .user(user_id)
            .await?
            .ok_or(Error::Unauthorized("session ended"))?;
        // The old password is a password check like a login's: limited per account.
        let key = format!("account:{}", user.email);
        let window = self.config.login_window_secs * 1000;
        let n = self
            .storage
            .count_login_attempt(&key, now_ms(), window)
            .await?;
        if n > i64::from(self.config.login_max_failures_per_account) {
            return Err(Error::RateLimited);
        }
        if !self
            .check_password(old_password, &user.password_hash)
            .await?
        {
            return Err(Error::Forbidden("the old password is wrong"));
        }
        self.storage.refund_login_attempt(&key).await?;
        let hash = self.hash_password(new_password).await?;
        self.storage.set_password_hash(user_id, &hash).await?;
        let ended = self
            .storage
            .end_user_sessions(
                user_id,
                Some(&session_id),
                end_reason::PASSWORD_CHANGED,
                now_ms(),
            )
            .await?;
        tracing::warn!(user_id, ended = ended.len(), "password changed");
        for id in ended {
            let _ = self.session_ended.send(id);
        }
        Ok(())
    }
}
