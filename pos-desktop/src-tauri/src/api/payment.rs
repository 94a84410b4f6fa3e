//! Plugin `payment`: what is due (with cash rounding and quick amounts) and paying.

use std::time::Instant;

use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::payment::{Tender, round_to_unit};
use serde_json::Value;
use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Runtime, State};

use super::from_json;
use crate::error::AppResult;
use crate::state::{App, guard, require_user};
use crate::views::{Due, Paid, quick_amounts};

pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("payment")
        .invoke_handler(tauri::generate_handler![due, pay])
        .build()
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
/// then the till starts an empty cart and the receipt prints.
#[tauri::command]
async fn pay(app: State<'_, App>, tenders: Value, approval: Option<Value>) -> AppResult<Paid> {
    let tenders: Vec<Tender> = from_json("tenders", tenders)?;
    let approval = approval.map(super::approval).transpose()?;
    app.with_terminal(move |t, s| {
        let mut session = guard(&s.session);
        let user = require_user(&session)?;
        let started = Instant::now();
        let sale = t.checkout(&session.cart, &tenders, user.id, approval.as_ref())?;
        let paid_ms = started.elapsed().as_secs_f64() * 1000.0;
        session.cart = Cart::new();
        session.resumed = false;
        drop(session);
        s.print_jobs_changed();
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
