//! The terminal's sync client: keeps every document of the store in sync with the sync server
//! in the background, resumes after any cut, and tells the cashier where things stand.
//!
//! - [`adapter`]: the terminal's documents as a sync store (shared-model's sans-IO
//!   [`Session`](shared_model::sync_session::Session) does the protocol).
//! - [`client`]: the connection loop (WebSocket, reconnect with jittered exponential backoff,
//!   heartbeat with acknowledgements and clock check).
//! - [`tls`]: rustls (ring) for `https://` servers: the system's roots plus the store's own CA.
//! - this module: the status the cashier sees and the acknowledgements the server sends.
//!
//! See `docs/terminal-sync.md`.

pub mod adapter;
pub mod client;
pub mod lan;
pub mod tls;

pub use client::DeviceCredential;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use shared_model::codec::Timestamp;

use crate::error::CoreResult;
use crate::terminal::Terminal;

/// A warning the cashier must see: a stuck queue is never silent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SyncWarning {
    /// No successful sync for longer than the configured time (default 24 h).
    OfflineTooLong { since: Timestamp },
    /// More sales waiting than the configured threshold.
    QueueTooLong { waiting_sales: u64 },
    /// The terminal's clock differs from the server's by more than 5 minutes.
    ClockSkew { skew_ms: i64 },
    /// The server refused this till's version: `outdated` says whether the till's app or the
    /// server must be updated ([`shared_model::compat`]). Nothing syncs until then.
    UpdateRequired {
        outdated: shared_model::compat::Outdated,
    },
}

/// What the cashier's screen shows about sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub online: bool,
    /// The last time every document was known to be on the server.
    pub last_sync: Option<Timestamp>,
    /// Documents with changes the server is not yet known to have.
    pub waiting_documents: u64,
    /// Sales and refunds not yet reported by the server as stored and projected.
    pub waiting_sales: u64,
    pub clock_skew_ms: Option<i64>,
    pub warnings: Vec<SyncWarning>,
    pub last_error: Option<String>,
}

/// Clock differences beyond this are warned about.
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// The warnings a status carries. `since` is the last complete sync (or, before the first one,
/// when the client first started).
pub fn warnings(
    now: Timestamp,
    since: Option<Timestamp>,
    offline_warning_after: std::time::Duration,
    waiting_sales: u64,
    waiting_threshold: u64,
    clock_skew_ms: Option<i64>,
) -> Vec<SyncWarning> {
    let mut out = Vec::new();
    if let Some(since) = since
        && (now.0 - since.0).to_std().unwrap_or_default() > offline_warning_after
    {
        out.push(SyncWarning::OfflineTooLong { since });
    }
    if waiting_sales > waiting_threshold {
        out.push(SyncWarning::QueueTooLong { waiting_sales });
    }
    if let Some(skew_ms) = clock_skew_ms.filter(|s| s.abs() > MAX_CLOCK_SKEW_MS) {
        out.push(SyncWarning::ClockSkew { skew_ms });
    }
    out
}

impl Terminal {
    /// This terminal's sales and refunds the server has not acknowledged, oldest first.
    pub fn unacknowledged_records(&self, limit: usize) -> CoreResult<Vec<String>> {
        let (terminal, prefix) = self.own_record_filter()?;
        let mut stmt = self.conn.prepare(
            "SELECT id FROM (
                 SELECT sale_id AS id, receipt_no FROM sales WHERE terminal_code = ?1
                 UNION ALL SELECT refund_id, receipt_no FROM refunds WHERE receipt_no LIKE ?2
             ) WHERE id NOT IN (SELECT record_id FROM server_acks)
             ORDER BY receipt_no LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![terminal, prefix, limit as i64], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many of this terminal's sales and refunds wait for the server's acknowledgement.
    pub fn waiting_records(&self) -> CoreResult<u64> {
        let (terminal, prefix) = self.own_record_filter()?;
        let n: i64 = self.conn.query_row(
            "SELECT (SELECT count(*) FROM sales WHERE terminal_code = ?1
                        AND sale_id NOT IN (SELECT record_id FROM server_acks))
                  + (SELECT count(*) FROM refunds WHERE receipt_no LIKE ?2
                        AND refund_id NOT IN (SELECT record_id FROM server_acks))",
            params![terminal, prefix],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    fn own_record_filter(&self) -> CoreResult<(String, String)> {
        let ident = self.identity()?;
        Ok((
            ident.terminal_code.clone(),
            format!("{}-{}-%", ident.store_code, ident.terminal_code),
        ))
    }

    /// Records the server's acknowledgement of sales or refunds (stored and projected).
    pub fn record_acknowledgements(
        &mut self,
        ids: &[String],
        server_time: Timestamp,
    ) -> CoreResult<()> {
        let tx = self.conn.transaction()?;
        for id in ids {
            tx.execute(
                "INSERT INTO server_acks (record_id, server_received_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![id, server_time.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// When the server acknowledged a sale ("on server"), if it has.
    pub fn on_server_since(&self, record_id: &str) -> CoreResult<Option<Timestamp>> {
        let t: Option<String> = self
            .conn
            .query_row(
                "SELECT server_received_at FROM server_acks WHERE record_id = ?1",
                [record_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(t.and_then(|t| t.parse().ok()))
    }

    /// A document's heads as hex change hashes (to compare replicas).
    pub fn document_heads(&mut self, doc_id: &str) -> CoreResult<Vec<String>> {
        let mut heads: Vec<String> = self
            .docs
            .heads(&self.conn, doc_id)?
            .iter()
            .map(|h| h.to_string())
            .collect();
        heads.sort();
        Ok(heads)
    }

    /// `(sale id, receipt number, total)` of every sale a terminal made that this store holds.
    pub fn sales_of_terminal(
        &self,
        terminal_code: &str,
    ) -> CoreResult<Vec<(String, String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT sale_id, receipt_no, total FROM sales WHERE terminal_code = ?1 ORDER BY receipt_no")?;
        let rows = stmt.query_map([terminal_code], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(crate) fn sync_meta(&self, key: &str) -> CoreResult<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM sync_meta WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub(crate) fn set_sync_meta(&self, key: &str, value: Option<&str>) -> CoreResult<()> {
        match value {
            Some(v) => self.conn.execute(
                "INSERT INTO sync_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, v],
            )?,
            None => self.conn.execute("DELETE FROM sync_meta WHERE key = ?1", [key])?,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn a_stuck_queue_is_never_silent() {
        let now = at("2026-11-26T10:00:00Z");
        let day = Duration::from_secs(24 * 3600);
        assert!(
            warnings(
                now,
                Some(at("2026-11-26T09:00:00Z")),
                day,
                3,
                500,
                Some(1_000)
            )
            .is_empty()
        );
        let w = warnings(
            now,
            Some(at("2026-11-25T09:59:00Z")),
            day,
            501,
            500,
            Some(-301_000),
        );
        assert_eq!(
            w,
            vec![
                SyncWarning::OfflineTooLong {
                    since: at("2026-11-25T09:59:00Z")
                },
                SyncWarning::QueueTooLong { waiting_sales: 501 },
                SyncWarning::ClockSkew { skew_ms: -301_000 },
            ]
        );
    }
}
