//! What the owner dashboard's cookie session needs from the session service, on top of what the
//! API uses: the session id behind an access token (for the CSRF token bound to it, also once
//! the token has expired), and the keyed tags of CSRF tokens under the deployment's key (shared
//! by every instance through the database, like the JWT key it is).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::Services;
use crate::auth::Principal;
use crate::error::Result;

impl Services {
    /// The principal and session of an owner's or manager's access token, the session checked
    /// live (one indexed lookup), as for every API request.
    pub async fn web_session(&self, access_token: &str) -> Result<(Principal, String)> {
        self.authenticate_session(access_token).await
    }

    /// The session id named by a correctly signed access token, expired or not: what a CSRF
    /// token is bound to. Says nothing about whether the session is live.
    pub fn web_session_id(&self, access_token: &str) -> Option<String> {
        self.jwt.verify(access_token, i64::MIN).ok()?.ses
    }

    /// `base64url(HMAC-SHA256(key, "<purpose>:<value>"))` under the deployment's key.
    pub fn web_tag(&self, purpose: &str, value: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.jwt.raw_tag(&format!("{purpose}:{value}")))
    }
}
