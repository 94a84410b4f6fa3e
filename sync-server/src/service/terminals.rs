//! Enrolled terminals: listing them with their connection and last report, revoking them
//! (closing their connections on every instance).

use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::Services;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::now_ms;

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

impl Services {
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
    /// The store key is rotated and the LAN roster marks the till revoked (both versions grow),
    /// so the till is cut off from the other tills too once they have the new roster.
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
        // After the revocation is stored, so that the roster of the new version marks the till.
        // Every call rotates (a second revocation too): a rotation that failed after the
        // revocation was stored is made by retrying, and one rotation too many costs nothing.
        let lan = self.rotate_store_key(&term.store_id).await?;
        tracing::info!(
            store_id = %term.store_id,
            roster_version = lan.roster_version,
            store_key_version = lan.store_key_version,
            "store key rotated"
        );
        let closed = self
            .connections
            .close_terminal(terminal_id, "terminal revoked");
        tracing::warn!(terminal_id, closed, "terminal revoked");
        Ok(())
    }

    /// Polls storage for revocations made by any instance (terminals revoked, user sessions
    /// ended) and closes the affected connections; now and then forgets old login attempt
    /// counters. Runs until the process ends.
    pub async fn watch_revocations(self) {
        let every = std::time::Duration::from_millis(self.config.revocation_poll_ms.max(50));
        let mut since = now_ms() - 60_000;
        let mut sessions_since = since;
        let mut pruned_at = 0;
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
            match self.storage.sessions_ended_since(sessions_since).await {
                Ok(ids) => {
                    for id in ids {
                        let _ = self.session_ended.send(id);
                    }
                    sessions_since = started - 5_000;
                }
                Err(e) => tracing::error!(error = %e, "session poll failed"),
            }
            let window = self.config.login_window_secs * 1000;
            if started - pruned_at > 60_000 {
                pruned_at = started;
                if let Err(e) = self.storage.prune_login_attempts(started - window).await {
                    tracing::error!(error = %e, "pruning login attempts failed");
                }
            }
        }
    }
}
