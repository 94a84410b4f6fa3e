//! Dynamic QRIS through the store's payment gateway (Midtrans or Xendit).
//!
//! A till asks for a charge of an amount under a payment id it made (a UUIDv7, the gateway's
//! order or reference id: a retry never charges twice); the server calls the gateway with the
//! store's keys (sealed at rest, [`secrets`]) and answers the QR string. The gateway's
//! notification comes to `/webhooks/midtrans` or `/webhooks/xendit`, is checked (signature or
//! callback token, amount) and moves the charge by the rules of [`status`]: repeated and
//! reordered notifications count once. The till waits on `GET …/payments/{id}?since=pending`,
//! which answers as soon as the charge moves (a notification on this instance wakes it at once;
//! one on another instance is seen within [`RECHECK`]), so the cashier sees "paid" within a
//! second of the notification. A charge past its expiry is asked of the gateway (Xendit sends
//! no expiry callback), and a charge the till gave up on is still asked about when the till
//! checks it, so a customer who paid late is found and shown, never lost.

pub mod gateway;
pub mod midtrans;
pub mod secrets;
pub mod status;
pub mod xendit;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use shared_model::codec::now_ms;
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::storage::DynStorage;
use crate::storage::payments::{ChargeRow, ChargeUpdate, GatewayRefundRow, GatewayRow};
use gateway::{Account, Environment, GatewayError, Observed, Provider, RefundOutcome, Secrets};
use secrets::Sealer;
use status::ChargeStatus;

/// How often a waiting till's charge is read again from the database (a notification that
/// reached another instance).
pub const RECHECK: Duration = Duration::from_millis(250);
/// A pending charge past its expiry, or one the till gave up on, is asked of the gateway at
/// most this often.
const GATEWAY_RECHECK_MS: i64 = 3_000;
/// The largest QRIS payment (Bank Indonesia's limit per QRIS transaction).
pub const MAX_QRIS_AMOUNT: i64 = 10_000_000;

/// What an owner sets for the store's gateway. The keys are write-only: they are never
/// answered back.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct GatewaySettings {
    pub provider: Provider,
    /// `production` (default) or `sandbox` (Midtrans's sandbox API; Xendit tells test keys by
    /// their prefix).
    #[serde(default = "production")]
    pub environment: Environment,
    /// Midtrans: the server key (Settings → Access Keys).
    pub server_key: Option<String>,
    /// Xendit: the secret API key with Money-In write permission.
    pub secret_key: Option<String>,
    /// Xendit: the callback verification token (Settings → Callbacks).
    pub callback_token: Option<String>,
}

fn production() -> Environment {
    Environment::Production
}

impl std::fmt::Debug for GatewaySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewaySettings")
            .field("provider", &self.provider)
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

/// The store's gateway as shown back: which, where, and the key's last four characters.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GatewayView {
    pub provider: Provider,
    pub environment: Environment,
    /// `…` and the last four characters of the key.
    pub key_hint: String,
    /// Where the gateway must send its notifications (path on this server).
    pub webhook_path: String,
    pub updated_at: i64,
}

/// A till's request for a dynamic QRIS charge.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewCharge {
    /// The till's payment id, a UUID (v7): the gateway's order id.
    pub payment_id: String,
    /// Whole rupiah, 1 to 10,000,000.
    #[schema(value_type = String, example = "25000")]
    pub amount: Decimal,
}

/// A charge as the till sees it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChargeView {
    pub payment_id: String,
    pub provider: Provider,
    #[schema(value_type = String, example = "25000")]
    pub amount: Decimal,
    pub status: ChargeStatus,
    /// The QRIS payload to show as a QR code.
    pub qr_string: String,
    /// Milliseconds since the epoch.
    pub expires_at: i64,
    /// The paid payment's reference at the gateway.
    pub reference: Option<String>,
    pub paid_at: Option<i64>,
    /// Paid after the till gave up on it: the cashier must see it.
    pub late: bool,
}

/// A till's refund of (part of) a QRIS payment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GatewayRefundRequest {
    /// The till's id for this refund (a UUID): a retry refunds once.
    pub refund_id: String,
    /// The paid payment's reference, as recorded on the sale.
    pub reference: String,
    #[schema(value_type = String, example = "25000")]
    pub amount: Decimal,
    pub reason: String,
}

/// How a refund went.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GatewayRefundView {
    pub refund_id: String,
    /// `refunded`, `pending` (the gateway finishes it later) or `refused` (record it as a cash
    /// refund instead).
    pub status: String,
    /// The gateway's refund id.
    pub reference: Option<String>,
    /// Why it was refused, in the gateway's words.
    pub message: Option<String>,
}

/// The payment service: gateway accounts, charges, notifications, refunds.
#[derive(Debug)]
pub struct Payments {
    storage: DynStorage,
    config: Arc<Config>,
    http: reqwest::Client,
    sealer: OnceLock<Sealer>,
    waiters: Mutex<HashMap<String, Arc<Notify>>>,
    /// When each charge was last asked of the gateway (ms).
    asked: Mutex<HashMap<String, i64>>,
    /// Notifications refused for a wrong signature or token, for `/metrics`.
    pub forged_notifications: AtomicU64,
}

fn payment_error(code: &'static str, status: StatusCode, message: impl Into<String>) -> Error {
    Error::Payment {
        code,
        status,
        message: message.into(),
    }
}

fn from_gateway(e: GatewayError) -> Error {
    let status = if e.transient {
        StatusCode::BAD_GATEWAY
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    payment_error("gateway_failed", status, e.message)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whole rupiah of an amount a till or owner typed, within QRIS's limits.
fn whole_amount(amount: Decimal) -> Result<i64> {
    let whole = (amount.fract() == Decimal::ZERO)
        .then(|| amount.to_i64())
        .flatten()
        .filter(|a| (1..=MAX_QRIS_AMOUNT).contains(a));
    whole.ok_or_else(|| Error::Invalid {
        field: "amount",
        en: format!("a QRIS payment is whole rupiah from 1 to {MAX_QRIS_AMOUNT}, not {amount}"),
        id: format!(
            "pembayaran QRIS harus rupiah bulat dari 1 sampai {MAX_QRIS_AMOUNT}, bukan {amount}"
        ),
    })
}

fn view(row: &ChargeRow) -> ChargeView {
    let status = ChargeStatus::parse(&row.status).unwrap_or(ChargeStatus::Failed);
    ChargeView {
        payment_id: row.payment_id.clone(),
        provider: Provider::parse(&row.provider).unwrap_or(Provider::Midtrans),
        amount: Decimal::from(row.amount),
        status,
        qr_string: row.qr_string.clone(),
        expires_at: row.expires_at,
        reference: row.reference.clone(),
        paid_at: row.paid_at,
        late: row.abandoned_at.is_some() && status.money_arrived(),
    }
}

fn key_hint(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

fn required(value: &Option<String>, field: &'static str, en: &str, id: &str) -> Result<String> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() && v.len() <= 512 => Ok(v.to_string()),
        _ => Err(Error::Invalid {
            field,
            en: en.into(),
            id: id.into(),
        }),
    }
}

impl Payments {
    pub fn new(storage: DynStorage, config: Arc<Config>) -> Result<Payments> {
        let http = crate::http_client::client(Duration::from_secs(10), Duration::from_secs(20))?;
        let payments = Payments {
            storage,
            config,
            http,
            sealer: OnceLock::new(),
            waiters: Mutex::new(HashMap::new()),
            asked: Mutex::new(HashMap::new()),
            forged_notifications: AtomicU64::new(0),
        };
        // A configured key file that cannot be read stops the server at start, not at the
        // first payment.
        if payments.config.payment_key_file.is_some() {
            payments.sealer()?;
        }
        Ok(payments)
    }

    fn sealer(&self) -> Result<&Sealer> {
        if let Some(s) = self.sealer.get() {
            return Ok(s);
        }
        let (path, create) = secrets::key_path(&self.config).ok_or_else(|| {
            payment_error(
                "payments_not_configured",
                StatusCode::SERVICE_UNAVAILABLE,
                "this server has no payment key: its operator sets payment_key_file (see docs/payments.md)",
            )
        })?;
        let sealer = Sealer::load(&path, create)?;
        Ok(self.sealer.get_or_init(|| sealer))
    }

    fn base_url(&self, provider: Provider, environment: Environment) -> String {
        match provider {
            Provider::Midtrans => self.config.midtrans_api_url.clone().unwrap_or_else(|| {
                match environment {
                    Environment::Production => midtrans::PRODUCTION_URL,
                    Environment::Sandbox => midtrans::SANDBOX_URL,
                }
                .to_string()
            }),
            Provider::Xendit => self
                .config
                .xendit_api_url
                .clone()
                .unwrap_or_else(|| xendit::PRODUCTION_URL.to_string()),
        }
    }

    // ------------------------------------------------------------------ the store's account

    /// Sets the store's gateway (owner only; the caller checked).
    pub async fn save_gateway(
        &self,
        tenant_id: &str,
        store_id: &str,
        user_id: &str,
        settings: GatewaySettings,
    ) -> Result<GatewayView> {
        let (secrets, hint) = match settings.provider {
            Provider::Midtrans => {
                let key = required(
                    &settings.server_key,
                    "server_key",
                    "the Midtrans server key is needed (Settings → Access Keys)",
                    "server key Midtrans wajib diisi (Settings → Access Keys)",
                )?;
                let hint = key_hint(&key);
                (
                    Secrets {
                        server_key: Some(key),
                        ..Secrets::default()
                    },
                    hint,
                )
            }
            Provider::Xendit => {
                let key = required(
                    &settings.secret_key,
                    "secret_key",
                    "the Xendit secret key is needed (Settings → API Keys)",
                    "secret key Xendit wajib diisi (Settings → API Keys)",
                )?;
                let token = required(
                    &settings.callback_token,
                    "callback_token",
                    "the Xendit callback verification token is needed (Settings → Callbacks)",
                    "token verifikasi callback Xendit wajib diisi (Settings → Callbacks)",
                )?;
                let hint = key_hint(&key);
                (
                    Secrets {
                        secret_key: Some(key),
                        callback_token: Some(token),
                        ..Secrets::default()
                    },
                    hint,
                )
            }
        };
        let plain = serde_json::to_vec(&secrets).map_err(|e| Error::Internal(e.to_string()))?;
        let row = GatewayRow {
            store_id: store_id.to_string(),
            tenant_id: tenant_id.to_string(),
            provider: settings.provider.as_str().to_string(),
            environment: settings.environment.as_str().to_string(),
            sealed_secrets: self.sealer()?.seal(store_id, &plain)?,
            key_hint: hint,
            updated_by: user_id.to_string(),
            updated_at: now_ms(),
        };
        self.storage.put_gateway(&row).await?;
        info!(store_id, provider = %row.provider, "payment gateway set");
        Ok(gateway_view(&row))
    }

    pub async fn gateway(&self, store_id: &str) -> Result<Option<GatewayView>> {
        Ok(self
            .storage
            .gateway(store_id)
            .await?
            .map(|r| gateway_view(&r)))
    }

    pub async fn remove_gateway(&self, store_id: &str) -> Result<()> {
        if !self.storage.delete_gateway(store_id).await? {
            return Err(Error::NotFound("the store has no payment gateway"));
        }
        info!(store_id, "payment gateway removed");
        Ok(())
    }

    /// The store's account, opened.
    async fn account(&self, store_id: &str) -> Result<Account> {
        let row = self.storage.gateway(store_id).await?.ok_or_else(|| {
            payment_error(
                "no_gateway",
                StatusCode::CONFLICT,
                "the store has no payment gateway: use the static QRIS",
            )
        })?;
        let provider = Provider::parse(&row.provider)
            .ok_or_else(|| Error::Internal(format!("unknown provider {}", row.provider)))?;
        let environment = Environment::parse(&row.environment).unwrap_or(Environment::Production);
        let plain = self.sealer()?.open(store_id, &row.sealed_secrets)?;
        let secrets: Secrets =
            serde_json::from_slice(&plain).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Account {
            provider,
            base_url: self.base_url(provider, environment),
            secrets,
        })
    }

    // ------------------------------------------------------------------ charges

    /// A charge of the till's store, or not found (another store's charge is not told apart
    /// from a missing one).
    async fn own_charge(&self, store_id: &str, payment_id: &str) -> Result<ChargeRow> {
        self.storage
            .charge(payment_id)
            .await?
            .filter(|c| c.store_id == store_id)
            .ok_or(Error::NotFound("no such payment"))
    }

    /// Creates (or, for a retry of the same payment id, answers again) a dynamic QRIS charge.
    pub async fn create_charge(
        &self,
        tenant_id: &str,
        store_id: &str,
        terminal_id: &str,
        new: NewCharge,
    ) -> Result<ChargeView> {
        let payment_id = uuid::Uuid::parse_str(new.payment_id.trim())
            .map_err(|_| Error::BadRequest("payment_id must be a UUID".into()))?
            .to_string();
        let amount = whole_amount(new.amount)?;
        let account = self.account(store_id).await?;
        let now = now_ms();
        let expiry_secs = self.config.qris_expiry_secs.max(10);
        let row = ChargeRow {
            payment_id: payment_id.clone(),
            tenant_id: tenant_id.to_string(),
            store_id: store_id.to_string(),
            terminal_id: terminal_id.to_string(),
            provider: account.provider.as_str().to_string(),
            amount,
            status: ChargeStatus::Pending.as_str().to_string(),
            qr_string: String::new(),
            gateway_id: None,
            reference: None,
            expires_at: now + expiry_secs as i64 * 1000,
            abandoned_at: None,
            paid_at: None,
            refunded_amount: 0,
            created_at: now,
            updated_at: now,
        };
        if !self.storage.insert_charge(&row).await? {
            let existing = self.own_charge(store_id, &payment_id).await?;
            if existing.terminal_id != terminal_id || existing.amount != amount {
                return Err(Error::Conflict(
                    "this payment id was used for another charge: make a new one",
                ));
            }
            if !existing.qr_string.is_empty() {
                return Ok(view(&existing));
            }
        }
        let expires_at = DateTime::<Utc>::from_timestamp_millis(row.expires_at).unwrap_or_default();
        let made = match account.provider {
            Provider::Midtrans => {
                let notify = self
                    .config
                    .public_url
                    .as_deref()
                    .map(|u| format!("{}/webhooks/midtrans", u.trim_end_matches('/')));
                midtrans::create(
                    &self.http,
                    &account,
                    &payment_id,
                    amount,
                    expiry_secs,
                    notify.as_deref(),
                )
                .await
            }
            Provider::Xendit => {
                xendit::create(&self.http, &account, &payment_id, amount, expires_at).await
            }
        };
        let created = match made {
            Ok(c) => c,
            Err(e) => {
                warn!(payment_id, error = %e.message, "the gateway did not make the QRIS charge");
                if !e.transient {
                    let failed = ChargeUpdate {
                        status: ChargeStatus::Failed.as_str().into(),
                        gateway_id: None,
                        reference: None,
                        paid_at: None,
                        refunded_amount: 0,
                    };
                    self.storage
                        .update_charge(&payment_id, "pending", &failed, now_ms())
                        .await?;
                }
                return Err(from_gateway(e));
            }
        };
        self.storage
            .set_charge_qr(
                &payment_id,
                &created.qr_string,
                &created.gateway_id,
                now_ms(),
            )
            .await?;
        info!(
            payment_id,
            amount,
            provider = account.provider.as_str(),
            "QRIS charge made"
        );
        Ok(view(&self.own_charge(store_id, &payment_id).await?))
    }

    /// The charge, once its status differs from `since` or `wait` has passed (at most 30 s).
    pub async fn wait(
        &self,
        store_id: &str,
        payment_id: &str,
        since: Option<ChargeStatus>,
        wait: Duration,
    ) -> Result<ChargeView> {
        let deadline = tokio::time::Instant::now() + wait.min(Duration::from_secs(30));
        let notify = {
            let mut waiters = lock(&self.waiters);
            waiters
                .entry(payment_id.to_string())
                .or_insert_with(|| Arc::new(Notify::new()))
                .clone()
        };
        let answer = loop {
            let notified = notify.notified();
            let mut row = self.own_charge(store_id, payment_id).await?;
            if row.status == "pending" && now_ms() > row.expires_at {
                row = self.ask_gateway(row).await?;
            }
            let moved = since.is_none_or(|s| s.as_str() != row.status);
            let now = tokio::time::Instant::now();
            if moved || now >= deadline {
                break view(&row);
            }
            let _ = tokio::time::timeout(RECHECK.min(deadline - now), notified).await;
        };
        drop(notify);
        let mut waiters = lock(&self.waiters);
        if waiters
            .get(payment_id)
            .is_some_and(|n| Arc::strong_count(n) == 1)
        {
            waiters.remove(payment_id);
        }
        Ok(answer)
    }

    /// The charge as the gateway sees it now: for a till checking a charge it gave up on
    /// (a late payment) or one it lost track of.
    pub async fn check(&self, store_id: &str, payment_id: &str) -> Result<ChargeView> {
        let row = self.own_charge(store_id, payment_id).await?;
        let status = ChargeStatus::parse(&row.status).unwrap_or(ChargeStatus::Failed);
        let row = if status.money_arrived() || row.qr_string.is_empty() {
            row
        } else {
            self.ask_gateway(row).await?
        };
        Ok(view(&row))
    }

    /// The till gave up on the charge (the cashier cancelled, or it expired on screen): the
    /// gateway is told where it can be; money that arrived anyway shows in the answer.
    pub async fn abandon(&self, store_id: &str, payment_id: &str) -> Result<ChargeView> {
        let row = self.own_charge(store_id, payment_id).await?;
        self.storage.abandon_charge(payment_id, now_ms()).await?;
        if row.status != "pending" || row.qr_string.is_empty() {
            return Ok(view(&self.own_charge(store_id, payment_id).await?));
        }
        let account = self.account(store_id).await?;
        let seen = match account.provider {
            Provider::Midtrans => midtrans::cancel(&self.http, &account, payment_id).await,
            // Xendit has no call to end a code early: it stays payable until it expires, and
            // the till's later checks find a payment made meanwhile.
            Provider::Xendit => {
                self.xendit_status(&account, &row)
                    .await
                    .map(|seen| match seen.status {
                        ChargeStatus::Pending => Observed {
                            status: ChargeStatus::Cancelled,
                            ..seen
                        },
                        _ => seen,
                    })
            }
        }
        .map_err(from_gateway)?;
        let row = self.apply(row, seen).await?;
        Ok(view(&row))
    }

    async fn xendit_status(
        &self,
        account: &Account,
        row: &ChargeRow,
    ) -> std::result::Result<Observed, GatewayError> {
        let expires = DateTime::<Utc>::from_timestamp_millis(row.expires_at).unwrap_or_default();
        xendit::status(
            &self.http,
            account,
            row.gateway_id.as_deref().unwrap_or_default(),
            expires,
        )
        .await
    }

    /// Asks the gateway about a charge (at most every [`GATEWAY_RECHECK_MS`]) and applies the
    /// answer. A gateway that cannot be reached leaves the charge as it was.
    async fn ask_gateway(&self, row: ChargeRow) -> Result<ChargeRow> {
        let now = now_ms();
        {
            let mut asked = lock(&self.asked);
            if asked
                .get(&row.payment_id)
                .is_some_and(|at| now - at < GATEWAY_RECHECK_MS)
            {
                return Ok(row);
            }
            asked.retain(|_, at| now - *at < 60_000);
            asked.insert(row.payment_id.clone(), now);
        }
        let account = self.account(&row.store_id).await?;
        let seen = match account.provider {
            Provider::Midtrans => midtrans::status(&self.http, &account, &row.payment_id).await,
            Provider::Xendit => self.xendit_status(&account, &row).await,
        };
        match seen {
            Ok(seen) => self.apply(row, seen).await,
            Err(e) => {
                warn!(payment_id = %row.payment_id, error = %e.message, "cannot ask the gateway about a charge");
                Ok(row)
            }
        }
    }

    /// Moves a charge on the gateway's word, once, and wakes the till waiting on it. Money of
    /// another amount than charged is refused (logged, the charge unchanged).
    async fn apply(&self, mut row: ChargeRow, seen: Observed) -> Result<ChargeRow> {
        if seen.status.money_arrived()
            && let Some(amount) = seen.amount
            && amount != row.amount
        {
            warn!(payment_id = %row.payment_id, charged = row.amount, paid = amount, "a gateway named another amount than charged; not counted");
            return Err(Error::BadRequest(format!(
                "the amount {amount} does not match the charge of {}",
                row.amount
            )));
        }
        for _ in 0..3 {
            let current = ChargeStatus::parse(&row.status).unwrap_or(ChargeStatus::Failed);
            let Some(next) = current.after(seen.status) else {
                return Ok(row);
            };
            let now = now_ms();
            let update = ChargeUpdate {
                status: next.as_str().to_string(),
                gateway_id: seen.gateway_id.clone(),
                reference: seen.reference.clone(),
                paid_at: next.money_arrived().then_some(now),
                refunded_amount: row.refunded_amount,
            };
            let written = self
                .storage
                .update_charge(&row.payment_id, &row.status, &update, now)
                .await?;
            row = self
                .storage
                .charge(&row.payment_id)
                .await?
                .ok_or(Error::NotFound("no such payment"))?;
            if written {
                info!(payment_id = %row.payment_id, status = %row.status, late = row.abandoned_at.is_some(), "QRIS charge moved");
                if let Some(n) = lock(&self.waiters).get(&row.payment_id) {
                    n.notify_waiters();
                }
                return Ok(row);
            }
        }
        Ok(row)
    }

    // ------------------------------------------------------------------ notifications

    /// A Midtrans HTTP notification. Unknown orders are 404, a wrong signature 401 (counted and
    /// logged), another amount 400; a repeat or an old word is acknowledged and changes nothing.
    pub async fn midtrans_notification(&self, body: &serde_json::Value) -> Result<()> {
        let order_id = midtrans::notification_order_id(body)
            .ok_or_else(|| Error::BadRequest("the notification has no order_id".into()))?;
        let row = self
            .storage
            .charge(order_id)
            .await?
            .filter(|c| c.provider == "midtrans")
            .ok_or(Error::NotFound("no such order"))?;
        let account = self.account(&row.store_id).await?;
        let key = account.secrets.server_key.as_deref().unwrap_or_default();
        let seen =
            midtrans::verify_notification(body, key).map_err(|e| self.forged(order_id, e))?;
        self.apply(row, seen).await.map(|_| ())
    }

    /// A Xendit callback, checked like [`Payments::midtrans_notification`]. Events other than a
    /// QR payment (a refund's completion) change nothing here and are acknowledged, so that
    /// Xendit does not retry them.
    pub async fn xendit_callback(
        &self,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> Result<()> {
        if body.get("event").and_then(|e| e.as_str()) != Some("qr.payment") {
            return Ok(());
        }
        let reference_id = xendit::callback_reference_id(body)
            .ok_or_else(|| Error::BadRequest("the callback has no data.reference_id".into()))?;
        let row = self
            .storage
            .charge(reference_id)
            .await?
            .filter(|c| c.provider == "xendit")
            .ok_or(Error::NotFound("no such reference_id"))?;
        let account = self.account(&row.store_id).await?;
        let expected = account
            .secrets
            .callback_token
            .as_deref()
            .unwrap_or_default();
        match xendit::verify_callback(body, token, expected)
            .map_err(|e| self.forged(reference_id, e))?
        {
            Some(seen) => self.apply(row, seen).await.map(|_| ()),
            None => Ok(()),
        }
    }

    fn forged(&self, id: &str, e: GatewayError) -> Error {
        self.forged_notifications.fetch_add(1, Ordering::Relaxed);
        warn!(id, why = %e.message, "a payment notification was refused as forged");
        Error::Unauthorized("the notification's signature does not verify")
    }

    // ------------------------------------------------------------------ refunds

    /// Refunds (part of) a paid QRIS payment of the till's store through its gateway, once per
    /// refund id. A refusal is an answer (`refused` with the gateway's words), so that the till
    /// records a cash refund instead.
    pub async fn refund(
        &self,
        store_id: &str,
        request: GatewayRefundRequest,
    ) -> Result<GatewayRefundView> {
        let refund_id = uuid::Uuid::parse_str(request.refund_id.trim())
            .map_err(|_| Error::BadRequest("refund_id must be a UUID".into()))?
            .to_string();
        let amount = whole_amount(request.amount)?;
        let reason: String = request.reason.trim().chars().take(200).collect();
        if let Some(done) = self.storage.refund(&refund_id).await?
            && done.status != "failed"
        {
            let charge = self.storage.charge(&done.payment_id).await?;
            if charge.is_some_and(|c| c.store_id == store_id) {
                return Ok(refund_view(&done, None));
            }
            return Err(Error::NotFound("no such payment"));
        }
        let row = self
            .storage
            .charge_by_reference(store_id, request.reference.trim())
            .await?
            .ok_or(Error::NotFound(
                "no QRIS payment of this store has that reference",
            ))?;
        let status = ChargeStatus::parse(&row.status).unwrap_or(ChargeStatus::Failed);
        let left = row.amount - row.refunded_amount;
        if !matches!(status, ChargeStatus::Paid | ChargeStatus::PartiallyRefunded) || amount > left
        {
            let message = format!(
                "only {left} of this payment can be refunded through the gateway ({})",
                row.status
            );
            return Ok(GatewayRefundView {
                refund_id,
                status: "refused".into(),
                reference: None,
                message: Some(message),
            });
        }
        let record = GatewayRefundRow {
            refund_id: refund_id.clone(),
            payment_id: row.payment_id.clone(),
            amount,
            status: "failed".into(),
            reference: None,
            reason: reason.clone(),
            created_at: now_ms(),
        };
        self.storage.insert_refund(&record).await?;
        let account = self.account(store_id).await?;
        let reference = row.reference.clone().unwrap_or_default();
        let outcome = match account.provider {
            Provider::Midtrans => {
                midtrans::refund(
                    &self.http,
                    &account,
                    &row.payment_id,
                    &refund_id,
                    amount,
                    &reason,
                )
                .await
            }
            Provider::Xendit => {
                xendit::refund(
                    &self.http, &account, &reference, &refund_id, amount, &reason,
                )
                .await
            }
        }
        .map_err(from_gateway)?;
        let (status, gateway_ref, message) = match outcome {
            RefundOutcome::Done(r) => ("refunded", r, None),
            RefundOutcome::Pending(r) => ("pending", r, None),
            RefundOutcome::Refused(why) => ("refused", None, Some(why)),
        };
        self.storage
            .finish_refund(&refund_id, status, gateway_ref.as_deref())
            .await?;
        if status != "refused" {
            let refunded = row.refunded_amount + amount;
            let next = if refunded >= row.amount {
                ChargeStatus::Refunded
            } else {
                ChargeStatus::PartiallyRefunded
            };
            let update = ChargeUpdate {
                status: next.as_str().into(),
                gateway_id: None,
                reference: None,
                paid_at: None,
                refunded_amount: refunded,
            };
            self.storage
                .update_charge(&row.payment_id, &row.status, &update, now_ms())
                .await?;
        }
        info!(refund_id, payment_id = %row.payment_id, amount, status, "QRIS refund");
        let done = self
            .storage
            .refund(&refund_id)
            .await?
            .ok_or(Error::NotFound("no such refund"))?;
        Ok(refund_view(&done, message))
    }
}

fn refund_view(row: &GatewayRefundRow, message: Option<String>) -> GatewayRefundView {
    GatewayRefundView {
        refund_id: row.refund_id.clone(),
        status: row.status.clone(),
        reference: row.reference.clone(),
        message,
    }
}

fn gateway_view(row: &GatewayRow) -> GatewayView {
    let provider = Provider::parse(&row.provider).unwrap_or(Provider::Midtrans);
    GatewayView {
        provider,
        environment: Environment::parse(&row.environment).unwrap_or(Environment::Production),
        key_hint: row.key_hint.clone(),
        webhook_path: format!("/webhooks/{}", provider.as_str()),
        updated_at: row.updated_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_whole_rupiah_within_the_qris_limit() {
        assert_eq!(whole_amount(Decimal::from(25_000)).unwrap(), 25_000);
        assert!(whole_amount(Decimal::new(2_500_050, 2)).is_err());
        assert!(whole_amount(Decimal::ZERO).is_err());
        assert!(whole_amount(Decimal::from(-5)).is_err());
        assert!(whole_amount(Decimal::from(MAX_QRIS_AMOUNT + 1)).is_err());
        assert!(whole_amount(Decimal::MAX).is_err());
    }

    #[test]
    fn only_the_last_four_characters_of_a_key_are_shown() {
        assert_eq!(key_hint("SB-Mid-server-abcd1234"), "…1234");
        assert_eq!(key_hint("ab"), "…ab");
    }
}
