//! Enrolling terminals: owners and managers (or the operator) make one-time codes, a
//! terminal redeems one for its device credential; attempts are limited per address.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use shared_model::lan_roster::SignedLanRoster;
use tracing::instrument;

use super::{Services, new_id};
use crate::auth::{self, Principal};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::storage::{EnrollmentCodeRow, StoreRow, TerminalRow};

/// What a terminal receives when it enrols.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Enrollment {
    pub terminal_id: String,
    pub tenant_id: String,
    pub store_id: String,
    pub store_code: String,
    /// The store's name as the server has it (the till names a store it creates after it).
    pub store_name: String,
    /// The terminal's code within the store (`T1`, `T2`, … in enrolment order): the second half
    /// of its sync peer id `STORE-TERMINAL` and of its receipt numbers.
    pub terminal_code: String,
    /// The store root document's id once a till created the store's documents and the server
    /// stored them; `None` for a fresh store, whose first till creates them.
    pub root_document_id: Option<String>,
    /// Secret device credential: the token for the sync endpoint. Shown once.
    pub device_credential: String,
    /// Secret shared by the store's terminals for LAN sync (rotated when a till is revoked;
    /// `GET /api/v1/terminal/lan` gives the one in force).
    pub store_key: String,
    /// Path of the WebSocket sync endpoint on this server.
    pub sync_path: String,
    /// The version of `store_key`.
    pub store_key_version: u32,
    /// The store's Ed25519 roster-signing public key (64 hex digits): tills trust a LAN roster
    /// only when it is signed by this key.
    pub store_signing_key: String,
    /// The store's LAN roster, signed, including this till.
    pub lan_roster: SignedLanRoster,
    /// Secret: the store's PIN pepper (64 hex digits), the argon2 secret of PIN hashes.
    pub pin_pepper: String,
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

    /// Enrols a terminal with a one-time code; attempts are limited per address. `lan_key` is
    /// the till's Ed25519 LAN public key (hex), checked before the code is spent; the roster's
    /// version grows either way (the store has a new till).
    #[instrument(skip_all, fields(addr = %addr))]
    pub async fn enroll(
        &self,
        code: &str,
        lan_key: Option<&str>,
        addr: IpAddr,
    ) -> Result<Enrollment> {
        let lan_key = lan_key.map(super::lan::check_lan_key).transpose()?;
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
            return Err(self.enroll_failed(&addr_key, window, now));
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
            return Err(self.enroll_failed(&addr_key, window, now));
        }
        let store = self
            .storage
            .store(&terminal.store_id)
            .await?
            .ok_or(Error::NotFound("store not found"))?;
        let terminal_code = self.terminal_code(&terminal).await?;
        let root_document_id = self
            .storage
            .store_root(&store.id)
            .await?
            .map(|r| r.root_doc_id);
        self.record_lan_key(&terminal.id, &store.id, lan_key)
            .await?;
        let lan = self.lan_info(&store.id).await?;
        tracing::info!(terminal_id = %terminal.id, store_id = %store.id, %terminal_code, "terminal enrolled");
        Ok(Enrollment {
            terminal_id: terminal.id,
            tenant_id: store.tenant_id,
            store_id: store.id,
            store_code: store.code,
            store_name: store.name,
            terminal_code,
            root_document_id,
            device_credential: credential,
            store_key: lan.store_key,
            sync_path: "/sync".into(),
            store_key_version: lan.store_key_version,
            store_signing_key: lan.store_signing_key,
            lan_roster: lan.roster,
            pin_pepper: lan.pin_pepper,
        })
    }

    /// The code of an enrolled terminal: `T<n>`, its place among the store's terminals in
    /// enrolment order (creation time, then id). Terminal rows are never deleted (a revoked one
    /// keeps its row and its code) and no column holds the code, so no migration of either
    /// backend is needed. Known limit: two enrolments into one store racing within the same
    /// few milliseconds (one inserted before the other's earlier timestamp) can be handed the
    /// same code; a `UNIQUE (store_id, code)` column would close that.
    async fn terminal_code(&self, terminal: &TerminalRow) -> Result<String> {
        let all = self.storage.terminals_of_store(&terminal.store_id).await?;
        in_enrolment_order(all)
            .into_iter()
            .find(|(_, t)| t.id == terminal.id)
            .map(|(code, _)| code)
            .ok_or(Error::NotFound("terminal not found"))
    }

    /// Counts a failed enrollment from `addr_key` and the error to answer it with.
    fn enroll_failed(&self, addr_key: &str, window: i64, now: i64) -> Error {
        self.limiter
            .addresses
            .lock()
            .expect("limiter lock")
            .fail(addr_key, window, now);
        Error::Unauthorized("invalid or expired enrollment code")
    }

    async fn peek_code(&self, code_hash: &str) -> Result<Option<EnrollmentCodeRow>> {
        // Reading through a redeem would consume it; codes are looked up by
        // hash in the same table, so a tiny helper query is enough.
        self.storage.enrollment_code(code_hash).await
    }
}

/// A store's terminals in enrolment order (creation time, then id), each with its code `T<n>`
/// (see `Services::terminal_code`; the LAN roster lists them the same way).
pub(super) fn in_enrolment_order(mut all: Vec<TerminalRow>) -> Vec<(String, TerminalRow)> {
    all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    all.into_iter()
        .enumerate()
        .map(|(i, t)| (code_at(i), t))
        .collect()
}

/// The code of the terminal at `index` (from 0) in its store's enrolment order.
pub(super) fn code_at(index: usize) -> String {
    format!("T{}", index + 1)
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
}
