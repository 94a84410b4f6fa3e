//! Dynamic QRIS from the till, through the server the till enrolled with (which holds the
//! store's gateway keys; the till never sees them).
//!
//! [`start_charge`] makes the payment id (a UUIDv7: the gateway's order id, so a retry never
//! charges twice), records it here first, then asks the server for the QR code. The shell waits
//! with [`GatewayLink::wait`], a long poll the server answers as soon as the gateway's
//! notification arrives. A paid charge becomes the sale's tender with the gateway's reference
//! ([`Terminal::gateway_tender`]); checkout links it ([`Terminal::link_gateway_payment`]). A
//! charge the cashier gave up on stays listed here and is asked about again
//! ([`check_open_charges`]): money that arrived late is shown to the cashier, never lost.
//! Refunds of a dynamic QRIS payment go back through the gateway where it can
//! ([`GatewayLink::refund`]); where it refuses, the shell records a cash refund with a note.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared_model::money::Money;
use shared_model::payment::{PaymentMethod, QrisMode, Tender};
use tracing::{info, warn};

use crate::error::{CoreError, CoreResult};
use crate::sync::DeviceCredential;
use crate::terminal::Terminal;

/// How long after its creation a charge the cashier gave up on is still asked about.
const WATCH_OPEN_MS: i64 = 48 * 3600 * 1000;

/// A dynamic QRIS charge as the till knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayCharge {
    pub payment_id: String,
    pub amount: Money,
    pub provider: String,
    /// `creating` (asked, no answer yet), then the server's: `pending`, `paid`, `expired`,
    /// `cancelled`, `denied`, `failed`, `partially_refunded`, `refunded`.
    pub status: String,
    pub qr_string: String,
    /// Milliseconds since the epoch.
    pub expires_at: i64,
    /// The paid payment's reference at the gateway.
    pub reference: Option<String>,
    /// The cashier gave up on it before the money arrived.
    pub abandoned: bool,
    /// The sale that used it.
    pub sale_id: Option<String>,
    /// How the cashier settled it when no sale took it: `refunded` or `dismissed`.
    pub resolution: Option<String>,
}

impl GatewayCharge {
    pub fn is_paid(&self) -> bool {
        matches!(
            self.status.as_str(),
            "paid" | "partially_refunded" | "refunded"
        )
    }

    /// Paid, but no sale took it (the cashier had given up on it, or left the payment screen
    /// or the app before the sale was made): show it until the cashier settles it.
    pub fn is_late(&self) -> bool {
        self.is_paid() && self.sale_id.is_none() && self.resolution.is_none()
    }
}

/// The server's answer about a charge (sync-server's `ChargeView`).
#[derive(Debug, Deserialize)]
struct ChargeReply {
    payment_id: String,
    provider: String,
    amount: Decimal,
    status: String,
    qr_string: String,
    expires_at: i64,
    reference: Option<String>,
}

/// The server's answer about a refund (sync-server's `GatewayRefundView`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayRefund {
    pub refund_id: String,
    /// `refunded`, `pending` or `refused`.
    pub status: String,
    pub reference: Option<String>,
    /// Why the gateway refused, in its words.
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ErrorReply {
    code: String,
    message: String,
}

/// The till's way to the server's payment endpoints.
#[derive(Debug, Clone)]
pub struct GatewayLink {
    base: String,
    credential: DeviceCredential,
    client: reqwest::Client,
}

impl GatewayLink {
    /// The link of an enrolled till; `None` for a till that is not enrolled (static QRIS only).
    pub fn of(terminal: &Terminal, ca_file: Option<&Path>) -> CoreResult<Option<GatewayLink>> {
        let Some((enrolment, credential)) = terminal.enrolment()? else {
            return Ok(None);
        };
        // Long enough for the server's long poll (at most 30 s) and a slow gateway.
        let client = crate::sync::tls::http_client(ca_file, Duration::from_secs(40))?;
        Ok(Some(GatewayLink {
            base: enrolment.server_url.trim_end_matches('/').to_string(),
            credential,
            client,
        }))
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> CoreResult<T> {
        let response = request
            .bearer_auth(&self.credential.0)
            .send()
            .await
            .map_err(|e| CoreError::ServerUnreachable(crate::sync::tls::describe("payment", &e)))?;
        let status = response.status();
        if status.is_success() {
            return response
                .json()
                .await
                .map_err(|e| CoreError::Sync(format!("payment answer: {e}")));
        }
        let reply = response.json::<ErrorReply>().await.ok();
        let (code, message) = reply
            .map(|r| (r.code, r.message))
            .unwrap_or_else(|| ("".into(), format!("the server answered {status}")));
        Err(match code.as_str() {
            "no_gateway" | "payments_not_configured" => CoreError::NoGateway,
            _ if status.is_server_error() && code != "gateway_failed" => {
                CoreError::ServerUnreachable(message)
            }
            _ => CoreError::Gateway(message),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/terminal/payments{path}", self.base)
    }

    async fn create(&self, payment_id: &str, amount: Money) -> CoreResult<ChargeReply> {
        let body =
            serde_json::json!({ "payment_id": payment_id, "amount": amount.amount().to_string() });
        self.send(self.client.post(self.url("/qris")).json(&body))
            .await
    }

    /// The charge once its status is no longer `since`, or after `wait` (at most 30 s).
    async fn wait(&self, payment_id: &str, since: &str, wait: Duration) -> CoreResult<ChargeReply> {
        let path = format!("/{payment_id}?since={since}&wait_ms={}", wait.as_millis());
        self.send(self.client.get(self.url(&path))).await
    }

    async fn check(&self, payment_id: &str) -> CoreResult<ChargeReply> {
        self.send(self.client.get(self.url(&format!("/{payment_id}"))))
            .await
    }

    async fn cancel(&self, payment_id: &str) -> CoreResult<ChargeReply> {
        self.send(self.client.post(self.url(&format!("/{payment_id}/cancel"))))
            .await
    }

    /// Refunds `amount` of the QRIS payment with `reference` through the gateway, once per
    /// `refund_id`.
    pub async fn refund(
        &self,
        refund_id: &str,
        reference: &str,
        amount: Money,
        reason: &str,
    ) -> CoreResult<GatewayRefund> {
        let body = serde_json::json!({
            "refund_id": refund_id,
            "reference": reference,
            "amount": amount.amount().to_string(),
            "reason": reason,
        });
        self.send(self.client.post(self.url("/refunds")).json(&body))
            .await
    }
}

fn lock(terminal: &Arc<Mutex<Terminal>>) -> std::sync::MutexGuard<'_, Terminal> {
    terminal.lock().unwrap_or_else(|p| p.into_inner())
}

/// Asks the server for a dynamic QRIS charge of `amount`, recorded on the till first.
pub async fn start_charge(
    terminal: &Arc<Mutex<Terminal>>,
    link: &GatewayLink,
    amount: Money,
) -> CoreResult<GatewayCharge> {
    if amount.amount() <= Decimal::ZERO || amount.amount().fract() != Decimal::ZERO {
        return Err(CoreError::Invalid(format!(
            "a QRIS payment is a whole amount above zero, not {}",
            amount.amount()
        )));
    }
    let payment_id = uuid::Uuid::now_v7().to_string();
    lock(terminal).insert_gateway_charge(&payment_id, amount)?;
    let reply = link.create(&payment_id, amount).await?;
    let charge = lock(terminal).apply_gateway_reply(&reply)?;
    info!(payment_id, amount = %amount.amount(), "dynamic QRIS charge shown");
    Ok(charge)
}

/// Waits (at most `wait`) for the charge to leave `since`, and records what the server says.
pub async fn wait_charge(
    terminal: &Arc<Mutex<Terminal>>,
    link: &GatewayLink,
    payment_id: &str,
    since: &str,
    wait: Duration,
) -> CoreResult<GatewayCharge> {
    let reply = link.wait(payment_id, since, wait).await?;
    lock(terminal).apply_gateway_reply(&reply)
}

/// The cashier gives up on a charge (or it expired on screen). Offline, it is marked here and
/// told to the server later by [`check_open_charges`]. Money that arrived anyway shows in the
/// answer (`is_late`).
pub async fn cancel_charge(
    terminal: &Arc<Mutex<Terminal>>,
    link: &GatewayLink,
    payment_id: &str,
) -> CoreResult<GatewayCharge> {
    lock(terminal).abandon_gateway_charge(payment_id)?;
    match link.cancel(payment_id).await {
        Ok(reply) => lock(terminal).apply_gateway_reply(&reply),
        Err(e) => {
            warn!(payment_id, error = %e, "the server was not told of a cancelled QRIS charge");
            lock(terminal)
                .gateway_charge(payment_id)?
                .ok_or_else(|| CoreError::NotFound {
                    what: "QRIS payment",
                    id: payment_id.to_string(),
                })
        }
    }
}

/// Asks the server about every charge of the last two days that no sale used and the cashier
/// did not settle: returns the late payments (paid after the cashier gave up). Charges the till
/// gave up on offline are cancelled at the server now.
pub async fn check_open_charges(
    terminal: &Arc<Mutex<Terminal>>,
    link: &GatewayLink,
) -> CoreResult<Vec<GatewayCharge>> {
    let open = lock(terminal).open_gateway_charges()?;
    let now = shared_model::codec::now_ms();
    for charge in open {
        // A code still pending a minute past its expiry was left behind (the app closed with
        // it on screen): given up on, like one the cashier cancelled.
        let left_behind = charge.status == "pending" && now > charge.expires_at + 60_000;
        let reply = if charge.status == "pending" && (charge.abandoned || left_behind) {
            lock(terminal).abandon_gateway_charge(&charge.payment_id)?;
            link.cancel(&charge.payment_id).await
        } else if charge.abandoned || charge.status != "pending" {
            link.check(&charge.payment_id).await
        } else {
            // On screen now: the shell's wait follows it.
            continue;
        };
        match reply {
            Ok(reply) => {
                lock(terminal).apply_gateway_reply(&reply)?;
            }
            Err(CoreError::ServerUnreachable(why)) => {
                return Err(CoreError::ServerUnreachable(why));
            }
            Err(e) => {
                warn!(payment_id = %charge.payment_id, error = %e, "cannot check a QRIS charge")
            }
        }
    }
    lock(terminal).late_gateway_payments()
}

/// Refunds (part of) a sale like [`Terminal::refund`], paying the refund back the way the sale
/// was paid where it can: the share of a dynamic QRIS payment goes back through the gateway
/// (once per refund, never beyond what is left of the payment); the rest, and all of it when
/// the gateway refuses or cannot be reached, is paid in cash, and the refund's reason says why
/// (the tenders of `req` are ignored). Answers the refund and, when the gateway did not take
/// the QRIS share, its words.
pub async fn refund_sale(
    terminal: &Arc<Mutex<Terminal>>,
    link: Option<&GatewayLink>,
    mut req: crate::sales::RefundRequest,
) -> CoreResult<(shared_model::refund::Refund, Option<String>)> {
    let (total, qris) = {
        let t = lock(terminal);
        let total = t.refund_total(req.sale_id, &req.lines)?;
        let sale = t.sale(req.sale_id)?;
        let qris = sale.settlement.payments.iter().find_map(|p| {
            let dynamic = p.method
                == PaymentMethod::Qris {
                    mode: QrisMode::Dynamic,
                };
            dynamic
                .then(|| p.reference.clone().map(|r| (r, p.amount)))
                .flatten()
        });
        (total, qris)
    };
    let mut tenders = Vec::new();
    let mut refused = None;
    let mut back = Money::ZERO;
    if let Some((reference, paid)) = qris {
        let part = if paid.amount() < total.amount() {
            paid
        } else {
            total
        };
        let outcome = match link {
            Some(link) => {
                let refund_id = uuid::Uuid::now_v7().to_string();
                link.refund(&refund_id, &reference, part, &req.reason)
                    .await
                    .map(|done| (refund_id, done))
            }
            None => Err(CoreError::NoGateway),
        };
        match outcome {
            Ok((refund_id, done)) if done.status != "refused" => {
                back = part;
                tenders.push(Tender {
                    method: PaymentMethod::Qris {
                        mode: QrisMode::Dynamic,
                    },
                    amount: part,
                    reference: done.reference.or(Some(refund_id)),
                });
            }
            Ok((_, done)) => refused = Some(done.message.unwrap_or_else(|| "refused".into())),
            Err(e) => refused = Some(e.to_string()),
        }
    }
    let cash = total.checked_sub(back)?;
    if cash.amount() > Decimal::ZERO {
        tenders.push(Tender::cash(cash));
    }
    if let Some(why) = &refused {
        let note = format!(" (QRIS refunded in cash: {why})");
        req.reason = format!("{}{note}", req.reason.trim())
            .chars()
            .take(200)
            .collect();
    }
    req.tenders = tenders;
    let refund = lock(terminal).refund(req)?;
    Ok((refund, refused))
}

/// How the cashier settles a late payment.
#[derive(Debug)]
pub enum LateAction {
    /// Back to the customer through the gateway.
    Refund(GatewayLink),
    /// Handled by hand (given back in cash, or added to a sale by a manager): only marked.
    Dismiss,
}

/// Settles a late payment ([`GatewayCharge::is_late`]); anything else is refused.
pub async fn settle_late_payment(
    terminal: &Arc<Mutex<Terminal>>,
    payment_id: &str,
    action: LateAction,
) -> CoreResult<GatewayCharge> {
    let charge = lock(terminal)
        .gateway_charge(payment_id)?
        .filter(GatewayCharge::is_late)
        .ok_or_else(|| CoreError::Invalid(format!("{payment_id} is not a late QRIS payment")))?;
    let resolution = match action {
        LateAction::Refund(link) => {
            let refund_id = uuid::Uuid::now_v7().to_string();
            let reference = charge.reference.clone().unwrap_or_default();
            let done = link
                .refund(
                    &refund_id,
                    &reference,
                    charge.amount,
                    "paid after the till gave up",
                )
                .await?;
            if done.status == "refused" {
                return Err(CoreError::Gateway(
                    done.message
                        .unwrap_or_else(|| "the gateway refused the refund".into()),
                ));
            }
            "refunded"
        }
        LateAction::Dismiss => "dismissed",
    };
    let t = lock(terminal);
    t.resolve_gateway_payment(payment_id, resolution)?;
    info!(payment_id, resolution, "late QRIS payment settled");
    t.gateway_charge(payment_id)?
        .ok_or_else(|| CoreError::NotFound {
            what: "QRIS payment",
            id: payment_id.to_string(),
        })
}

fn charge_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<(GatewayChargeRow, ())> {
    Ok((
        GatewayChargeRow {
            payment_id: r.get(0)?,
            amount: r.get(1)?,
            provider: r.get(2)?,
            qr_string: r.get(3)?,
            expires_at: r.get(4)?,
            status: r.get(5)?,
            reference: r.get(6)?,
            abandoned: r.get::<_, Option<i64>>(7)?.is_some(),
            sale_id: r.get(8)?,
            resolution: r.get(9)?,
        },
        (),
    ))
}

struct GatewayChargeRow {
    payment_id: String,
    amount: String,
    provider: String,
    qr_string: String,
    expires_at: i64,
    status: String,
    reference: Option<String>,
    abandoned: bool,
    sale_id: Option<String>,
    resolution: Option<String>,
}

impl GatewayChargeRow {
    fn charge(self) -> CoreResult<GatewayCharge> {
        let amount: Decimal = self
            .amount
            .parse()
            .map_err(|_| CoreError::Corrupt(format!("QRIS amount {:?}", self.amount)))?;
        Ok(GatewayCharge {
            payment_id: self.payment_id,
            amount: Money::new(amount),
            provider: self.provider,
            status: self.status,
            qr_string: self.qr_string,
            expires_at: self.expires_at,
            reference: self.reference,
            abandoned: self.abandoned,
            sale_id: self.sale_id,
            resolution: self.resolution,
        })
    }
}

const COLUMNS: &str = "payment_id, amount, provider, qr_string, expires_at, status, reference, \
                       abandoned_at, sale_id, resolution";

impl Terminal {
    fn insert_gateway_charge(&self, payment_id: &str, amount: Money) -> CoreResult<()> {
        self.conn.execute(
            "INSERT INTO gateway_payments (payment_id, amount, status, created_at) \
             VALUES (?1, ?2, 'creating', ?3)",
            params![
                payment_id,
                amount.amount().to_string(),
                shared_model::codec::now_ms()
            ],
        )?;
        Ok(())
    }

    fn apply_gateway_reply(&self, reply: &ChargeReply) -> CoreResult<GatewayCharge> {
        let known = self.gateway_charge(&reply.payment_id)?;
        let Some(known) = known else {
            return Err(CoreError::NotFound {
                what: "QRIS payment",
                id: reply.payment_id.clone(),
            });
        };
        if known.amount.amount() != reply.amount {
            return Err(CoreError::Gateway(format!(
                "the server's charge is {} where the till asked for {}",
                reply.amount,
                known.amount.amount()
            )));
        }
        self.conn.execute(
            "UPDATE gateway_payments SET provider = ?1, qr_string = ?2, expires_at = ?3, \
             status = ?4, reference = COALESCE(?5, reference) WHERE payment_id = ?6",
            params![
                reply.provider,
                reply.qr_string,
                reply.expires_at,
                reply.status,
                reply.reference,
                reply.payment_id
            ],
        )?;
        self.gateway_charge(&reply.payment_id)?
            .ok_or_else(|| CoreError::NotFound {
                what: "QRIS payment",
                id: reply.payment_id.clone(),
            })
    }

    fn abandon_gateway_charge(&self, payment_id: &str) -> CoreResult<()> {
        self.conn.execute(
            "UPDATE gateway_payments SET abandoned_at = COALESCE(abandoned_at, ?1) \
             WHERE payment_id = ?2 AND sale_id IS NULL",
            params![shared_model::codec::now_ms(), payment_id],
        )?;
        Ok(())
    }

    pub fn gateway_charge(&self, payment_id: &str) -> CoreResult<Option<GatewayCharge>> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM gateway_payments WHERE payment_id = ?1"),
                [payment_id],
                charge_of,
            )
            .optional()?;
        row.map(|(r, ())| r.charge()).transpose()
    }

    fn gateway_charges_where(&self, condition: &str) -> CoreResult<Vec<GatewayCharge>> {
        let since = shared_model::codec::now_ms() - WATCH_OPEN_MS;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM gateway_payments WHERE sale_id IS NULL AND resolved_at IS NULL \
             AND created_at >= ?1 AND {condition} ORDER BY created_at"
        ))?;
        let rows = stmt.query_map([since], charge_of)?;
        rows.map(|r| r.map_err(CoreError::from).and_then(|(r, ())| r.charge()))
            .collect()
    }

    /// Charges of the last two days that no sale used and the cashier did not settle.
    pub fn open_gateway_charges(&self) -> CoreResult<Vec<GatewayCharge>> {
        self.gateway_charges_where("status NOT IN ('creating', 'failed')")
    }

    /// Money that arrived for a charge no sale took ([`GatewayCharge::is_late`]), not yet
    /// settled.
    pub fn late_gateway_payments(&self) -> CoreResult<Vec<GatewayCharge>> {
        self.gateway_charges_where("status IN ('paid', 'partially_refunded')")
    }

    /// The tender of a paid dynamic QRIS charge: its amount and the gateway's reference, as the
    /// server said (never as the screen says).
    pub fn gateway_tender(&self, payment_id: &str) -> CoreResult<Tender> {
        let charge = self
            .gateway_charge(payment_id)?
            .ok_or_else(|| CoreError::NotFound {
                what: "QRIS payment",
                id: payment_id.to_string(),
            })?;
        if !charge.is_paid() || charge.sale_id.is_some() {
            return Err(CoreError::Invalid(format!(
                "the QRIS payment is {} and cannot pay a sale",
                if charge.sale_id.is_some() {
                    "used by another sale"
                } else {
                    "not paid"
                }
            )));
        }
        Ok(Tender {
            method: PaymentMethod::Qris {
                mode: QrisMode::Dynamic,
            },
            amount: charge.amount,
            reference: charge.reference.or(Some(charge.payment_id)),
        })
    }

    /// Records that `sale_id` took the charge's money.
    pub fn link_gateway_payment(&self, payment_id: &str, sale_id: &str) -> CoreResult<()> {
        self.conn.execute(
            "UPDATE gateway_payments SET sale_id = ?1 WHERE payment_id = ?2",
            params![sale_id, payment_id],
        )?;
        Ok(())
    }

    /// The cashier settled a late payment another way (`refunded` through the gateway, or
    /// `dismissed` after handling it by hand).
    pub fn resolve_gateway_payment(&self, payment_id: &str, resolution: &str) -> CoreResult<()> {
        self.conn.execute(
            "UPDATE gateway_payments SET resolved_at = ?1, resolution = ?2 \
             WHERE payment_id = ?3 AND sale_id IS NULL",
            params![shared_model::codec::now_ms(), resolution, payment_id],
        )?;
        Ok(())
    }
}
