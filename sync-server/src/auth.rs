//! Credentials: argon2 password hashes, HS256 JWT access tokens, random
//! opaque tokens (refresh tokens, device credentials, app credentials, enrollment codes)
//! stored as SHA-256 digests. Pure functions, no IO.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Who is on the other end of a request or connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An owner or manager, authenticated with a JWT access token.
    User {
        user_id: String,
        tenant_id: String,
        /// `None` for owners (tenant-wide), the store for managers.
        store_id: Option<String>,
        role: Role,
    },
    /// An enrolled terminal, authenticated with its device credential.
    Terminal {
        terminal_id: String,
        tenant_id: String,
        store_id: String,
    },
    /// Another web product of the tenant, authenticated with an app credential an owner made
    /// (`ska_…`): tenant-wide, and never a store's ([`crate::access::may_reach`]).
    App { app_id: String, tenant_id: String },
    /// Another server instance on the same database (cluster credential).
    Instance { instance_id: String },
}

impl Principal {
    /// Tenant of the principal.
    pub fn tenant_id(&self) -> &str {
        match self {
            Principal::User { tenant_id, .. }
            | Principal::Terminal { tenant_id, .. }
            | Principal::App { tenant_id, .. } => tenant_id,
            Principal::Instance { .. } => "",
        }
    }
    /// Store the principal is bound to (`None`: the whole tenant).
    pub fn store_id(&self) -> Option<&str> {
        match self {
            Principal::User { store_id, .. } => store_id.as_deref(),
            Principal::Terminal { store_id, .. } => Some(store_id),
            Principal::App { .. } | Principal::Instance { .. } => None,
        }
    }
    /// Stable label for logs and doc claims, e.g. `terminal:<id>`.
    pub fn label(&self) -> String {
        match self {
            Principal::User { user_id, .. } => format!("user:{user_id}"),
            Principal::Terminal { terminal_id, .. } => format!("terminal:{terminal_id}"),
            Principal::App { app_id, .. } => format!("app:{app_id}"),
            Principal::Instance { instance_id } => format!("instance:{instance_id}"),
        }
    }
}

/// Role of a password user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Manager,
}

impl Role {
    /// Database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
        }
    }
    /// Parses the database spelling.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "owner" => Ok(Role::Owner),
            "manager" => Ok(Role::Manager),
            _ => Err(Error::Internal(format!("unknown role {s:?}"))),
        }
    }
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| Error::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("argon2: {e}")))
}

/// Verifies a password against an argon2 PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash that costs as much to verify as a real one, for unknown accounts.
pub fn dummy_password_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default())
}

/// `n` random bytes, base64url without padding.
pub fn random_token(n: usize) -> String {
    let bytes: Vec<u8> = (0..n).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256, the stored form of high-entropy opaque tokens.
pub fn sha256_hex(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    /// Store id for store-bound users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Role.
    pub role: Role,
    /// Session id: every request checks that the session is live (sign-out, disabled user,
    /// password change end it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ses: Option<String>,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Expires at, unix seconds.
    pub exp: i64,
}

/// HS256 JWT signer and verifier.
#[derive(Clone)]
pub struct JwtKey(Vec<u8>);

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKey(<hidden>)")
    }
}

const JWT_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

impl JwtKey {
    /// A key from secret bytes.
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("hmac accepts any key length")
    }

    /// Signs claims into a compact JWT.
    pub fn sign(&self, claims: &Claims) -> Result<String> {
        let payload = serde_json::to_vec(claims).map_err(|e| Error::Internal(e.to_string()))?;
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(JWT_HEADER),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        Ok(format!("{signing_input}.{sig}"))
    }

    /// HMAC-SHA256 of `msg` under this key.
    pub(crate) fn raw_tag(&self, msg: &str) -> Vec<u8> {
        let mut mac = self.mac();
        mac.update(msg.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Verifies signature, algorithm and expiry (`now` in unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims> {
        let bad = || Error::Unauthorized("invalid token");
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let header = URL_SAFE_NO_PAD.decode(h).map_err(|_| bad())?;
        let header: serde_json::Value = serde_json::from_slice(&header).map_err(|_| bad())?;
        if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
            return Err(bad());
        }
        let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let mut mac = self.mac();
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        mac.verify_slice(&sig).map_err(|_| bad())?;
        let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| bad())?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| bad())?;
        if claims.exp <= now {
            return Err(Error::Unauthorized("token expired"));
        }
        Ok(claims)
    }
}

/// Prefix of instance-to-instance credentials.
pub const CLUSTER_CREDENTIAL_PREFIX: &str = "skc_";

/// Lifetime of a cluster credential, seconds: an instance mints a fresh one for every dial
/// ([`cluster_credential`]), so a captured one is worth little for long.
pub const CLUSTER_CREDENTIAL_TTL_SECS: i64 = 120;

/// Instance `instance_id`'s credential for dialing its peers, valid until `exp` (unix seconds):
/// `skc_<instance>.<exp>.<base64url HMAC-SHA256 of "cluster:<instance>:<exp>">` under the
/// deployment's key, which every instance reads from the shared database.
pub fn cluster_credential(key: &JwtKey, instance_id: &str, exp: i64) -> String {
    let tag = URL_SAFE_NO_PAD.encode(key.raw_tag(&format!("cluster:{instance_id}:{exp}")));
    format!("{CLUSTER_CREDENTIAL_PREFIX}{instance_id}.{exp}.{tag}")
}

/// The instance id of a valid, unexpired cluster credential (`now` in unix seconds). The tag
/// is compared in constant time; an expiry further ahead than a fresh credential's is refused.
pub fn verify_cluster_credential(key: &JwtKey, token: &str, now: i64) -> Result<String> {
    use subtle::ConstantTimeEq;
    let bad = || Error::Unauthorized("invalid cluster credential");
    let rest = token
        .strip_prefix(CLUSTER_CREDENTIAL_PREFIX)
        .ok_or_else(bad)?;
    let mut parts = rest.split('.');
    let (Some(id), Some(exp), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let exp: i64 = exp.parse().map_err(|_| bad())?;
    let given = URL_SAFE_NO_PAD.decode(tag).map_err(|_| bad())?;
    let expected = key.raw_tag(&format!("cluster:{id}:{exp}"));
    if !bool::from(expected.as_slice().ct_eq(given.as_slice())) {
        return Err(bad());
    }
    // Clocks of instances sharing a database agree within a minute.
    if exp <= now || exp > now + CLUSTER_CREDENTIAL_TTL_SECS + 60 {
        return Err(Error::Unauthorized("cluster credential expired"));
    }
    Ok(id.to_string())
}

/// Peer ids of server instances; clients may not use this prefix.
pub const INSTANCE_PEER_PREFIX: &str = "snapkasir-instance-";

/// Peer id of `instance_id`'s repo for `tenant_id`: instance peering opens one connection per
/// tenant, and each needs its own peer id (the registry lets one peer id hold one connection).
pub fn instance_peer_id(instance_id: &str, tenant_id: &str) -> String {
    format!("{INSTANCE_PEER_PREFIX}{instance_id}.{tenant_id}")
}

/// Prefix of terminal device credentials, so the kind of a token is visible.
pub const DEVICE_CREDENTIAL_PREFIX: &str = "skd_";

/// Prefix of app credentials (another web product of a tenant).
pub const APP_CREDENTIAL_PREFIX: &str = "ska_";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_credentials_expire_and_bind_their_instance() {
        let key = JwtKey::new(b"k");
        let now = 1_000_000;
        let t = cluster_credential(&key, "i1", now + CLUSTER_CREDENTIAL_TTL_SECS);
        assert_eq!(verify_cluster_credential(&key, &t, now).unwrap(), "i1");
        // Expired, from another key, another instance or a changed expiry: refused.
        assert!(verify_cluster_credential(&key, &t, now + CLUSTER_CREDENTIAL_TTL_SECS).is_err());
        assert!(verify_cluster_credential(&JwtKey::new(b"other"), &t, now).is_err());
        let forged = t.replacen("i1", "i2", 1);
        assert!(verify_cluster_credential(&key, &forged, now).is_err());
        let later = t.replacen(
            &format!(".{}.", now + 120),
            &format!(".{}.", now + 9_999),
            1,
        );
        assert!(verify_cluster_credential(&key, &later, now).is_err());
        // Minted with an expiry far ahead: refused even with a valid tag.
        let long = cluster_credential(&key, "i1", now + 24 * 3600);
        assert!(verify_cluster_credential(&key, &long, now).is_err());
        for junk in ["skc_", "skc_i1", "skc_i1.x.y", "skc_i1.1.!!", "i1.1.a"] {
            assert!(
                verify_cluster_credential(&key, junk, now).is_err(),
                "{junk}"
            );
        }
    }

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "u".into(),
            tid: "t".into(),
            sid: None,
            role: Role::Owner,
            ses: Some("s".into()),
            iat: 0,
            exp,
        }
    }

    #[test]
    fn jwt_round_trip_and_rejections() {
        let key = JwtKey::new(b"k1");
        let tok = key.sign(&claims(100)).unwrap();
        assert_eq!(key.verify(&tok, 50).unwrap(), claims(100));
        assert!(matches!(
            key.verify(&tok, 100),
            Err(Error::Unauthorized("token expired"))
        ));
        assert!(
            JwtKey::new(b"k2").verify(&tok, 50).is_err(),
            "forged with another key"
        );
        // tampered payload
        let mut parts: Vec<&str> = tok.split('.').collect();
        let evil = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(1_000_000)).unwrap());
        parts[1] = &evil;
        assert!(key.verify(&parts.join("."), 50).is_err());
        // alg none
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(100)).unwrap())
        );
        assert!(key.verify(&none, 50).is_err());
        assert!(key.verify("garbage", 50).is_err());
    }

    #[test]
    fn passwords_and_tokens() {
        let h = hash_password("rahasia").unwrap();
        assert!(verify_password("rahasia", &h));
        assert!(!verify_password("salah", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert_ne!(sha256_hex("a"), sha256_hex("b"));
        assert_eq!(random_token(32).len(), 43);
    }
}
