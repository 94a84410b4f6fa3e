//! Plugin `payment`: what is due (with cash rounding and quick amounts), paying, and dynamic
//! QRIS through the store's gateway: `qris_start` shows a charge and follows it (the
//! `payment://qris` event carries every change, pushed by the server's long poll, so the screen
//! turns "paid" within a second of the gateway's notification), `qris_cancel` gives up on it,
//! `late_payments` lists money that arrived after the cashier gave up, `resolve_late` refunds
//! or dismisses one.

use std::time::{Duration, Instant};

use pos_core::CoreError;
use pos_core::gateway_payments::{self as gateway, GatewayCharge, GatewayLink};
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::payment::{Tender, round_to_unit};
use serde_json::Value;
use tauri::plugin::{Builder, TauriPlugin};
use tauri::{AppHandle, Emitter, Runtime, State};

use super::{from_json, money};
use crate::error::{AppError, AppResult};
use crate::state::{App, guard, require_user};
use crate::views::{Due, Paid, quick_amounts};

/// Every change of a dynamic QRIS charge on screen ([`GatewayCharge`]).
pub const QRIS_EVENT: &str = "payment://qris";

pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("payment")
        .invoke_handler(tauri::generate_handler![
            due,
            pay,
            qris_start,
            qris_cancel,
            late_payments,
            resolve_late
        ])
        .build()
}

/// The link to the server's payment endpoints; `no_gateway` on a till that is not enrolled.
async fn link(app: &App) -> AppResult<GatewayLink> {
    app.with_terminal(|t, _| Ok(GatewayLink::of(t, None)?))
        .await?
        .ok_or(AppError::Core(CoreError::NoGateway))
}

/// Asks for a dynamic QRIS charge of `amount` and follows it until it ends, raising
/// [`QRIS_EVENT`] at each change. `no_gateway` or `server_unreachable`: the UI shows the
/// static QRIS.
#[tauri::command]
async fn qris_start<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
    amount: String,
) -> AppResult<GatewayCharge> {
    let amount = money("amount", &amount)?;
    let link = link(&app).await?;
    let terminal = app.0.terminal.clone();
    let charge = gateway::start_charge(&terminal, &link, amount).await?;
    tauri::async_runtime::spawn(follow(handle, app.inner().clone(), link, charge.clone()));
    Ok(charge)
}

/// Follows a charge with the server's long poll until it ends (or a while after its expiry,
/// when the server cannot be reached).
async fn follow<R: Runtime>(
    handle: AppHandle<R>,
    app: App,
    link: GatewayLink,
    mut charge: GatewayCharge,
) {
    let terminal = app.0.terminal.clone();
    let give_up = charge.expires_at + 60_000;
    while charge.status == "pending" && pos_core::shared_model::codec::now_ms() < give_up {
        match gateway::wait_charge(
            &terminal,
            &link,
            &charge.payment_id,
            "pending",
            Duration::from_secs(25),
        )
        .await
        {
            Ok(now) => {
                if now.status != charge.status
                    && let Err(e) = handle.emit(QRIS_EVENT, &now)
                {
                    tracing::warn!(error = %e, "cannot emit the QRIS status");
                }
                charge = now;
            }
            Err(e) => {
                tracing::warn!(payment_id = %charge.payment_id, error = %e, "waiting for a QRIS payment");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The cashier gives up on a charge (or it expired on screen); money that arrived anyway is in
/// the answer (`status` paid).
#[tauri::command]
async fn qris_cancel(app: State<'_, App>, payment_id: String) -> AppResult<GatewayCharge> {
    let link = link(&app).await?;
    Ok(gateway::cancel_charge(&app.0.terminal, &link, payment_id.trim()).await?)
}

/// Money that arrived after the cashier gave up on its charge. Asked of the server when it can
/// be reached; otherwise what the till knows.
#[tauri::command]
async fn late_payments(app: State<'_, App>) -> AppResult<Vec<GatewayCharge>> {
    let Ok(link) = link(&app).await else {
        return Ok(Vec::new());
    };
    match gateway::check_open_charges(&app.0.terminal, &link).await {
        Ok(late) => Ok(late),
        Err(CoreError::ServerUnreachable(_)) => {
            app.with_terminal(|t, _| Ok(t.late_gateway_payments()?))
                .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Settles a late payment: `refund` sends the money back through the gateway; `dismiss`
/// records that the cashier handled it by hand (it stays in the server's records).
#[tauri::command]
async fn resolve_late(
    app: State<'_, App>,
    payment_id: String,
    action: String,
) -> AppResult<GatewayCharge> {
    let action = match action.as_str() {
        "refund" => gateway::LateAction::Refund(link(&app).await?),
        "dismiss" => gateway::LateAction::Dismiss,
        other => {
            return Err(AppError::invalid(
                "action",
                format!("{other:?} is not refund or dismiss"),
            ));
        }
    };
    Ok(gateway::settle_late_payment(&app.0.terminal, payment_id.trim(), action).await?)
}

#[tauri::command]
async fn due(app: State<'_, App>) -> AppResult<Due> {
    app.with_terminal(|t, s| {
        let session = guard(&s.session);
        let priced = t.price(&session.cart)?;
        let settings = t.settings()?;
        let total = priced.total();
        let cash_total = settings
            .cash_unit()
            .map_or(total, |unit| round_to_unit(total, unit));
        Ok(Due {
            total,
            cash_total,
            quick_amounts: quick_amounts(cash_total),
            qris_payload: settings.qris_static_payload.clone(),
        })
    })
    .await
}

/// Pays the till's cart: pos-core's checkout commits the sale durably (measured as `paid_ms`),
/// then the till starts an empty cart, and the sale is projected and its receipt printed just
/// after (`App::drain_journal_soon`).
///
/// `gateway_payment` names a paid dynamic QRIS charge: its tender (amount and the gateway's
/// reference, as the server said) joins `tenders`, and the sale takes that payment.
#[tauri::command]
async fn pay(
    app: State<'_, App>,
    tenders: Value,
    approval: Option<Value>,
    gateway_payment: Option<String>,
) -> AppResult<Paid> {
    let mut tenders: Vec<Tender> = from_json("tenders", tenders)?;
    let approval = approval.map(super::approval).transpose()?;
    app.with_terminal(move |t, s| {
        if let Some(id) = &gateway_payment {
            tenders.push(t.gateway_tender(id.trim())?);
        }
        let mut session = guard(&s.session);
        let user = require_user(&session)?;
        let started = Instant::now();
        let sale = t.checkout(&session.cart, &tenders, user.id, approval.as_ref())?;
        if let Some(id) = &gateway_payment {
            t.link_gateway_payment(id.trim(), &sale.id.to_string())?;
        }
        let paid_ms = started.elapsed().as_secs_f64() * 1000.0;
        session.cart = Cart::new();
        session.resumed = false;
        drop(session);
        // The receipt's print job is queued when the sale is projected, off this wait
        // (`App::drain_journal_soon`), which tells the print-job watcher.
        s.nudge_sync();
        Ok(Paid {
            sale_id: sale.id,
            receipt_no: sale.receipt_no.to_string(),
            total: sale.total(),
            change: sale.settlement.change,
            paid_ms,
            receipt_link: t.receipt_link(&sale)?,
        })
    })
    .await
    .inspect(|_| app.drain_journal_soon())
}
