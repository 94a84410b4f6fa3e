//! Plugin `printing`: the receipt preview, printing and reprinting a sale's receipt, the cash
//! drawer, the till's printers, and the receipt by email (queued on the till, sent through the
//! server).

use base64::Engine;
use pos_core::CoreError;
use pos_core::print_queue::{JobState, NewPrinter, PrintQueue, Printer, QueuedJob};
use pos_core::receipt_mail::ReceiptSend;
use pos_core::shared_model::ids::SaleId;
use receipt_printer::PrinterProfile;
use receipt_printer::driver::{Target, Timeouts, connect};
use serde::Deserialize;
use serde_json::Value;
use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Runtime, State};

use super::from_json;
use crate::error::{AppError, AppResult};
use crate::state::{App, guard};
use crate::views::LANGUAGE_KEY;

pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("printing")
        .invoke_handler(tauri::generate_handler![
            receipt_preview,
            print,
            open_drawer,
            printers,
            add_printer,
            email_receipt,
            receipt_sends
        ])
        .build()
}

/// The original receipt job of a sale (the first job that is not a copy), if any.
fn original_job(q: &PrintQueue, sale_id: &str) -> AppResult<Option<QueuedJob>> {
    let jobs = q.jobs_for(sale_id)?;
    Ok(jobs
        .iter()
        .find(|j| !j.copy)
        .or_else(|| jobs.first())
        .cloned())
}

/// A PNG picture of the sale's receipt (base64), as the default printer would print it.
#[tauri::command]
async fn receipt_preview(app: State<'_, App>, sale_id: String) -> AppResult<String> {
    app.blocking(move |s| {
        s.project_sales(&mut guard(&s.terminal))?;
        let q = guard(&s.print);
        let job = original_job(&q, &sale_id)?.ok_or_else(|| CoreError::NotFound {
            what: "receipt",
            id: sale_id.clone(),
        })?;
        let png = q.job_preview_png(job.job_id, None)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(png))
    })
    .await
}

/// Prints the sale's receipt: the original again if it never printed (a failed, held or
/// waiting job is tried now), otherwise a copy marked as such.
#[tauri::command]
async fn print(app: State<'_, App>, sale_id: String) -> AppResult<QueuedJob> {
    app.blocking(move |s| {
        // A sale just paid may not have its original job yet: a reprint would be a copy.
        s.project_sales(&mut guard(&s.terminal))?;
        let mut q = guard(&s.print);
        let job = match original_job(&q, &sale_id)? {
            Some(job) => match job.state {
                JobState::Printed => q.reprint(&sale_id)?,
                JobState::Printing => job,
                JobState::Waiting
                | JobState::Retrying
                | JobState::Held
                | JobState::Failed
                | JobState::Cancelled => q.retry(job.job_id)?,
            },
            None => q.reprint(&sale_id)?,
        };
        drop(q);
        s.print_jobs_changed();
        Ok(job)
    })
    .await
}

/// Opens the cash drawer on the default printer (its drawer kick pulse).
#[tauri::command]
async fn open_drawer(app: State<'_, App>) -> AppResult<()> {
    app.blocking(|s| {
        let printer = guard(&s.print)
            .printers()?
            .into_iter()
            .find(|p| p.is_default && p.enabled)
            .ok_or_else(|| CoreError::NotFound {
                what: "default printer",
                id: String::new(),
            })?;
        let target: Target = printer.target.parse().map_err(CoreError::Printer)?;
        let bytes = receipt_printer::encode_drawer_kick(&printer.profile);
        let mut conn = connect(&target, Timeouts::default()).map_err(CoreError::Printer)?;
        conn.write_all(&bytes).map_err(CoreError::Printer)?;
        Ok(())
    })
    .await
}

#[tauri::command]
async fn printers(app: State<'_, App>) -> AppResult<Vec<Printer>> {
    app.blocking(|s| Ok(guard(&s.print).printers()?)).await
}

/// A printer profile as the UI names it: a built-in name (`generic-80`, `custom:42:512`) or a
/// whole profile.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ProfileArg {
    Name(String),
    Profile(Box<PrinterProfile>),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewPrinterArg {
    name: String,
    target: String,
    profile: ProfileArg,
    #[serde(default, alias = "is_default")]
    is_default: bool,
}

#[tauri::command]
async fn add_printer(app: State<'_, App>, printer: Value) -> AppResult<Printer> {
    let arg: NewPrinterArg = from_json("printer", printer)?;
    let profile = match arg.profile {
        ProfileArg::Name(name) => {
            PrinterProfile::by_name(&name).map_err(|e| AppError::invalid("printer.profile", e))?
        }
        ProfileArg::Profile(p) => *p,
    };
    let new = NewPrinter {
        name: arg.name,
        target: arg.target,
        profile,
        is_default: arg.is_default,
    };
    app.blocking(move |s| Ok(guard(&s.print).add_printer(new)?))
        .await
}

/// Queues the sale's receipt to be emailed to `email` (sent by the server when the till is
/// online), in `lang` or else the till's language; answers the sale's sends.
#[tauri::command]
async fn email_receipt(
    app: State<'_, App>,
    sale_id: String,
    email: String,
    lang: Option<String>,
) -> AppResult<Vec<ReceiptSend>> {
    let sale_id: SaleId = super::parse("saleId", &sale_id)?;
    app.with_terminal(move |t, _| {
        let lang = match lang {
            Some(l) => l,
            None => t.app_setting(LANGUAGE_KEY)?.unwrap_or_else(|| "id".into()),
        };
        t.queue_receipt_email(sale_id, &email, &lang)?;
        Ok(t.receipt_sends(sale_id)?)
    })
    .await
}

/// The email sends of a sale, with where each stands.
#[tauri::command]
async fn receipt_sends(app: State<'_, App>, sale_id: String) -> AppResult<Vec<ReceiptSend>> {
    let sale_id: SaleId = super::parse("saleId", &sale_id)?;
    app.with_terminal(move |t, _| Ok(t.receipt_sends(sale_id)?))
        .await
}
