//! Email receipts from the till (issue 17): the cashier types the customer's address on the
//! paid screen ([`Terminal::queue_receipt_email`]); the send waits in the durable
//! `receipt_sends` table (terminal migration 9) and [`run`], started with the sync client,
//! hands it to the sync server (`POST /api/v1/terminal/receipts/email`, device credential),
//! which emails it through its SMTP server. Offline, or before the sale has reached the server
//! (409 `not_synced`), the send stays queued and is tried again with backoff; the server sends
//! once per `send_id`, so a retry after a lost answer sends nothing more. A refusal in words
//! (400, 404) ends the send as failed, with the reason for the cashier.
//!
//! The customer's address is kept only for the store's `contact_retention_days` after the
//! send (0: blanked as soon as it is sent); it is never synced nor shown in reports.

use std::sync::{Arc, Mutex};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use shared_model::ids::SaleId;
use tokio::sync::watch;
use tracing::{Instrument, debug, info, warn};

use crate::error::{CoreError, CoreResult};
use crate::sync::client::{SyncConfig, lock};
use crate::terminal::Terminal;

/// The till's id of one send: the server sends once per id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SendId(pub String);

impl std::fmt::Display for SendId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a send stands, for the paid screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SendState {
    /// Queued: offline, the sale not on the server yet, or the SMTP server failed (tried again).
    Waiting,
    Sent,
    /// Refused for good (a bad address, another store's receipt); `last_error` says why.
    Failed,
}

/// One email send of a sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptSend {
    pub send_id: SendId,
    pub sale_id: String,
    /// `None` once the store's retention has passed.
    pub email: Option<String>,
    pub lang: String,
    pub state: SendState,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms at which the server's SMTP server accepted it.
    pub sent_at: Option<i64>,
    pub attempts: u32,
    /// The last failure in words (the server's, or the connection's).
    pub last_error: Option<String>,
}

/// The longest address accepted (RFC 5321's path limit).
const MAX_EMAIL_LEN: usize = 254;

/// The first retry waits this long; each next one twice as long, up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 2_000;
const MAX_BACKOFF_MS: i64 = 10 * 60 * 1000;

/// Sends handed to the server per pass.
const BATCH: i64 = 20;

/// `typed` as an address, or a refusal in words: `name@domain.tld`, no spaces.
pub fn check_email(typed: &str) -> CoreResult<String> {
    let t = typed.trim();
    let refuse = || {
        CoreError::Invalid(format!(
            "{t:?} is not an email address (like name@example.com)"
        ))
    };
    if t.is_empty()
        || t.len() > MAX_EMAIL_LEN
        || t.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(refuse());
    }
    let (local, domain) = t.rsplit_once('@').ok_or_else(refuse)?;
    if local.is_empty()
        || local.contains('@')
        || domain.len() < 3
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
        || !domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
    {
        return Err(refuse());
    }
    Ok(t.to_string())
}

fn now_ms() -> i64 {
    shared_model::codec::now_ms()
}

fn backoff_ms(attempts: u32) -> i64 {
    let shift = attempts.saturating_sub(1).min(20);
    (FIRST_BACKOFF_MS << shift).min(MAX_BACKOFF_MS)
}

/// A due send, as the worker hands it over.
#[derive(Debug, Clone)]
struct Due {
    send_id: String,
    receipt_token: String,
    email: String,
    lang: String,
    attempts: u32,
}

impl Terminal {
    /// Queues the receipt of `sale_id` to be emailed to `email` in `lang` (`id` or `en`); it
    /// goes out when the till is online and the sale has reached the server. Refuses a bad
    /// address in words, and a sale without a receipt token (made before tokens existed).
    pub fn queue_receipt_email(
        &mut self,
        sale_id: SaleId,
        email: &str,
        lang: &str,
    ) -> CoreResult<SendId> {
        let email = check_email(email)?;
        let lang = if lang == "en" { "en" } else { "id" };
        self.project_committed_sales()?;
        let sale = self.sale(sale_id)?;
        let token = sale.receipt_token.ok_or_else(|| {
            CoreError::Invalid("this sale has no receipt link, so it cannot be emailed".into())
        })?;
        let send_id = SendId(uuid::Uuid::now_v7().to_string());
        let now = now_ms();
        self.conn.execute(
            "INSERT INTO receipt_sends (send_id, sale_id, receipt_token, email, lang, created_at, \
             attempts, next_try_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?6)",
            params![send_id.0, sale_id.to_string(), token, email, lang, now],
        )?;
        info!(send_id = %send_id, sale_id = %sale_id, "email receipt queued");
        Ok(send_id)
    }

    /// The email sends of a sale, oldest first.
    pub fn receipt_sends(&self, sale_id: SaleId) -> CoreResult<Vec<ReceiptSend>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT send_id, sale_id, email, lang, created_at, sent_at, attempts, last_error, \
             next_try_at FROM receipt_sends WHERE sale_id = ?1 ORDER BY created_at, send_id",
        )?;
        let rows = stmt.query_map([sale_id.to_string()], |r| {
            let sent_at: Option<i64> = r.get(5)?;
            let next: Option<i64> = r.get(8)?;
            Ok(ReceiptSend {
                send_id: SendId(r.get(0)?),
                sale_id: r.get(1)?,
                email: r.get(2)?,
                lang: r.get(3)?,
                created_at: r.get(4)?,
                sent_at,
                attempts: r.get(6)?,
                last_error: r.get(7)?,
                state: match (sent_at, next) {
                    (Some(_), _) => SendState::Sent,
                    (None, Some(_)) => SendState::Waiting,
                    (None, None) => SendState::Failed,
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One send by id (tests and support).
    pub fn receipt_send(&self, send_id: &SendId) -> CoreResult<Option<ReceiptSend>> {
        let sale: Option<String> = self
            .conn
            .query_row(
                "SELECT sale_id FROM receipt_sends WHERE send_id = ?1",
                [&send_id.0],
                |r| r.get(0),
            )
            .optional()?;
        let Some(sale) = sale else { return Ok(None) };
        let sale: SaleId = sale
            .parse()
            .map_err(|_| CoreError::Corrupt(format!("receipt send {send_id}: bad sale id")))?;
        Ok(self
            .receipt_sends(sale)?
            .into_iter()
            .find(|s| &s.send_id == send_id))
    }

    /// Sends whose time has come.
    fn due_receipt_sends(&self, now: i64) -> CoreResult<Vec<Due>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT send_id, receipt_token, email, lang, attempts FROM receipt_sends \
             WHERE next_try_at IS NOT NULL AND next_try_at <= ?1 AND email IS NOT NULL \
             ORDER BY next_try_at LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now, BATCH], |r| {
            Ok(Due {
                send_id: r.get(0)?,
                receipt_token: r.get(1)?,
                email: r.get(2)?,
                lang: r.get(3)?,
                attempts: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The store's retention of customers' contacts, days (the default when the settings
    /// cannot be read).
    fn contact_retention_days(&mut self) -> u32 {
        self.settings()
            .map(|s| s.contact_retention_days)
            .unwrap_or(shared_model::settings::DEFAULT_CONTACT_RETENTION_DAYS)
    }

    fn receipt_send_sent(&mut self, send_id: &str, sent_at: i64) -> CoreResult<()> {
        let forget = self.contact_retention_days() == 0;
        self.conn.execute(
            "UPDATE receipt_sends SET sent_at = ?2, next_try_at = NULL, last_error = NULL, \
             attempts = attempts + 1, email = CASE WHEN ?3 THEN NULL ELSE email END \
             WHERE send_id = ?1",
            params![send_id, sent_at, forget],
        )?;
        Ok(())
    }

    fn receipt_send_retry(&self, send_id: &str, attempts: u32, error: &str) -> CoreResult<()> {
        let next = now_ms() + backoff_ms(attempts + 1);
        self.conn.execute(
            "UPDATE receipt_sends SET attempts = attempts + 1, last_error = ?2, next_try_at = ?3 \
             WHERE send_id = ?1 AND sent_at IS NULL",
            params![send_id, error, next],
        )?;
        Ok(())
    }

    fn receipt_send_failed(&self, send_id: &str, error: &str) -> CoreResult<()> {
        self.conn.execute(
            "UPDATE receipt_sends SET attempts = attempts + 1, last_error = ?2, next_try_at = NULL \
             WHERE send_id = ?1 AND sent_at IS NULL",
            params![send_id, error],
        )?;
        Ok(())
    }

    /// Blanks the addresses of sends done (sent, or failed for good) before the store's
    /// retention, as of `now` (Unix ms); returns how many.
    pub fn purge_receipt_contacts(&mut self, now: i64) -> CoreResult<usize> {
        let days = i64::from(self.contact_retention_days());
        let before = now - days * 24 * 3600 * 1000;
        Ok(self.conn.execute(
            "UPDATE receipt_sends SET email = NULL WHERE email IS NOT NULL \
             AND next_try_at IS NULL AND COALESCE(sent_at, created_at) <= ?1",
            [before],
        )?)
    }
}

/// What the server made of one send.
enum Outcome {
    Sent(i64),
    /// Try again later (offline, not synced yet, the SMTP server failed); why in words.
    Later(String),
    /// Refused for good; why in words.
    Refused(String),
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    message: String,
}

#[derive(serde::Deserialize)]
struct SentBody {
    sent_at: Option<i64>,
}

async fn hand_over(http: &reqwest::Client, config: &SyncConfig, due: &Due) -> Outcome {
    let url = format!("{}/api/v1/terminal/receipts/email", config.http_url());
    let body = serde_json::json!({
        "send_id": due.send_id,
        "receipt_token": due.receipt_token,
        "email": due.email,
        "lang": due.lang,
    });
    let response = match http
        .post(url)
        .bearer_auth(&config.credential.0)
        .json(&body)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return Outcome::Later(crate::sync::tls::describe("email receipt", &e)),
    };
    let status = response.status();
    if status.is_success() {
        let sent_at = response
            .json::<SentBody>()
            .await
            .ok()
            .and_then(|b| b.sent_at)
            .unwrap_or_else(now_ms);
        return Outcome::Sent(sent_at);
    }
    let words = response
        .json::<ErrorBody>()
        .await
        .map(|e| e.message)
        .unwrap_or_else(|_| format!("the server answered {status}"));
    // 409 `not_synced` (the sale is not on the server yet), 401/403, 5xx (the SMTP server
    // failed, no SMTP configured): later. A refusal of this send itself: for good.
    if matches!(status.as_u16(), 400 | 404) {
        Outcome::Refused(words)
    } else {
        Outcome::Later(words)
    }
}

/// Hands every due send to the server once; returns how many were sent.
pub(crate) async fn send_due(
    terminal: &Arc<Mutex<Terminal>>,
    http: &reqwest::Client,
    config: &SyncConfig,
) -> CoreResult<usize> {
    let due = {
        let mut t = lock(terminal);
        t.purge_receipt_contacts(now_ms())?;
        t.due_receipt_sends(now_ms())?
    };
    let mut sent = 0;
    for d in due {
        let span = tracing::info_span!("email_receipt", send_id = %d.send_id);
        let outcome = hand_over(http, config, &d).instrument(span.clone()).await;
        let _enter = span.enter();
        let mut t = lock(terminal);
        match outcome {
            Outcome::Sent(at) => {
                t.receipt_send_sent(&d.send_id, at)?;
                info!("email receipt sent");
                sent += 1;
            }
            Outcome::Later(why) => {
                debug!(error = %why, "email receipt waits");
                t.receipt_send_retry(&d.send_id, d.attempts, &why)?;
            }
            Outcome::Refused(why) => {
                warn!(error = %why, "email receipt refused");
                t.receipt_send_failed(&d.send_id, &why)?;
            }
        }
    }
    Ok(sent)
}

/// Hands due sends to the server every `config.email_interval` until `stop` turns true.
pub(crate) async fn run(
    terminal: Arc<Mutex<Terminal>>,
    config: SyncConfig,
    mut stop: watch::Receiver<bool>,
) {
    let http =
        match crate::sync::tls::http_client(config.ca_file.as_deref(), config.connect_timeout) {
            Ok(h) => h,
            Err(e) => {
                warn!(error = %e, "email receipts cannot be sent: no HTTP client");
                return;
            }
        };
    let mut tick = tokio::time::interval(config.email_interval);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = send_due(&terminal, &http, &config).await {
                    warn!(error = %e, "email receipts: the queue failed");
                }
            }
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_in_words() {
        assert_eq!(
            check_email(" budi@example.co.id ").unwrap(),
            "budi@example.co.id"
        );
        for bad in [
            "",
            "budi",
            "budi@",
            "@example.com",
            "budi@localhost",
            "bu di@example.com",
            "a@b@c.com",
            "a@.com",
            "a@b..com",
        ] {
            let e = check_email(bad).unwrap_err();
            assert!(e.to_string().contains("not an email address"), "{bad}: {e}");
        }
    }

    #[test]
    fn backoff_grows_to_its_cap() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(2), 4_000);
        assert_eq!(backoff_ms(30), MAX_BACKOFF_MS);
    }
}
