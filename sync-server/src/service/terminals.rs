//! Enrolled terminals: listing them with their connection and last report, revoking them
//! (closing their connections on every instance), and telling the other instances which
//! terminals are connected here ([`Services::watch_presence`]).
//!
//! "Online now" must hold across instances behind one load balancer, and the registry of open
//! connections is per instance. So each instance vouches in storage for the terminals connected
//! to it: `connected_until` is set to a lease ([`PRESENCE_LEASE_MS`]) ahead when a connection
//! opens and renewed while it lasts, and set to the closing time when it closes (checked every
//! [`PRESENCE_CHECK_MS`]). A crashed instance's vouching runs out with its lease. Known limit: a
//! till that moves from instance A to B within one check may show offline on other instances
//! until B's next check.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::Services;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::now_ms;
use crate::storage::TerminalReport;

/// A terminal as shown to owners and managers.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TerminalView {
    pub id: String,
    pub store_id: String,
    pub name: String,
    /// The terminal's code within the store (`T1`, `T2`, … in enrolment order), as on its
    /// receipt numbers.
    pub code: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    /// Whether the terminal has an open sync connection to this instance.
    pub connected: bool,
    /// Whether the terminal has an open sync connection to any instance (this one, or another
    /// one vouching for it in storage); never for a revoked terminal.
    pub online: bool,
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
    /// The till's app version, `null` for tills that do not report it.
    pub app_version: Option<String>,
}

/// How far ahead an instance vouches for a terminal connected to it.
pub const PRESENCE_LEASE_MS: i64 = 30_000;
/// How often an instance looks for terminals that connected or disconnected.
pub const PRESENCE_CHECK_MS: u64 = 500;
/// How often an instance renews its vouching for the terminals still connected.
const PRESENCE_RENEW_MS: i64 = 10_000;

impl Services {
    /// Terminals of a store.
    pub async fn list_terminals(
        &self,
        who: &Principal,
        store_id: &str,
    ) -> Result<Vec<TerminalView>> {
        self.store_for(who, store_id).await?;
        let rows = self.storage.terminal_statuses_of_store(store_id).await?;
        let now = now_ms();
        // Storage lists them in enrolment order (creation time, then id), the order of the codes.
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let t = s.terminal;
                let connected = self.connections.terminal_connected(&t.id);
                TerminalView {
                    online: t.revoked_at.is_none()
                        && (connected || s.connected_until.is_some_and(|u| u > now)),
                    connected,
                    id: t.id,
                    store_id: t.store_id,
                    name: t.name,
                    code: super::enrollment::code_at(i),
                    created_at: t.created_at,
                    revoked_at: t.revoked_at,
                    last_seen_at: t.last_seen_at,
                    last_report: s.last_report_at.map(|at| TerminalReportView {
                        at,
                        waiting_documents: s.waiting_documents,
                        waiting_sales: s.waiting_sales,
                        // Written by the same update as `last_report_at`.
                        clock_skew_ms: s.clock_skew_ms.unwrap_or_default(),
                        app_version: s.app_version,
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
        self.device_credentials.forget_terminal(terminal_id);
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

    /// Records a terminal's heartbeat report (with the reports of other terminals that arrive
    /// meanwhile, [`super::terminal_reports`]); returns once it is stored.
    pub async fn record_terminal_report(&self, report: TerminalReport) -> Result<()> {
        let (terminal_id, at) = (report.terminal_id.clone(), report.at);
        self.terminal_reports.record(report).await?;
        self.device_credentials.seen(&terminal_id, at);
        Ok(())
    }

    /// Vouches in storage for the terminals connected to this instance (see the module's
    /// header). Runs until the process ends.
    pub async fn watch_presence(self) {
        let mut vouched: HashSet<String> = HashSet::new();
        let mut renewed_at = 0;
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(PRESENCE_CHECK_MS)).await;
            let now = now_ms();
            let here = self.connections.connected_terminals();
            let renew = now - renewed_at >= PRESENCE_RENEW_MS;
            let opened: Vec<String> = if renew {
                here.iter().cloned().collect()
            } else {
                here.difference(&vouched).cloned().collect()
            };
            let closed: Vec<String> = vouched.difference(&here).cloned().collect();
            let mut ok = true;
            if !opened.is_empty()
                && let Err(e) = self
                    .storage
                    .set_terminals_connected_until(&opened, now + PRESENCE_LEASE_MS)
                    .await
            {
                tracing::error!(error = %e, "recording connected terminals failed");
                ok = false;
            }
            if !closed.is_empty()
                && let Err(e) = self
                    .storage
                    .set_terminals_connected_until(&closed, now)
                    .await
            {
                tracing::error!(error = %e, "recording disconnected terminals failed");
                ok = false;
            }
            // On failure everything is tried again at the next check.
            if ok {
                vouched = here;
                if renew {
                    renewed_at = now;
                }
            }
        }
    }

    /// Polls storage for revocations made by any instance (terminals and app credentials
    /// revoked, user sessions ended) and closes the affected connections; now and then forgets
    /// old login attempt counters. Runs until the process ends.
    pub async fn watch_revocations(self) {
        let every = std::time::Duration::from_millis(self.config.revocation_poll_ms.max(50));
        let mut since = now_ms() - 60_000;
        let mut sessions_since = since;
        let mut apps_since = since;
        let mut pruned_at = 0;
        loop {
            tokio::time::sleep(every).await;
            let started = now_ms();
            match self.storage.terminals_revoked_since(since).await {
                Ok(ids) => {
                    for id in ids {
                        self.device_credentials.forget_terminal(&id);
                        self.connections.close_terminal(&id, "terminal revoked");
                    }
                    since = started - 5_000;
                }
                Err(e) => tracing::error!(error = %e, "revocation poll failed"),
            }
            match self.storage.app_credentials_revoked_since(apps_since).await {
                Ok(ids) => {
                    for id in ids {
                        self.connections.close_app(&id, super::apps::REVOKED);
                    }
                    apps_since = started - 5_000;
                }
                Err(e) => tracing::error!(error = %e, "app revocation poll failed"),
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
