//! Plugin `enrolment`: the first run, either a local demo store or enrolment into a store on a
//! sync server (then server and LAN sync start).

use pos_core::print_queue::NewPrinter;
use receipt_printer::PrinterProfile;
use tauri::plugin::{Builder, TauriPlugin};
use tauri::{AppHandle, Runtime, State};

use crate::error::{AppError, AppResult};
use crate::services::start_services;
use crate::state::{App, Inner, guard};
use crate::views::{AppStatus, app_status};

pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("enrolment")
        .invoke_handler(tauri::generate_handler![start_demo, enrol])
        .build()
}

/// The printer a new till gets when it has none: receipts are written to a file in the data
/// directory, so the receipt preview, printing and reprints work from the first sale and the
/// owner adds the real printer later (which then takes over as the default).
pub const RECEIPT_FILE: &str = "receipt.escpos";

fn ensure_a_printer(s: &Inner) -> AppResult<()> {
    let mut q = guard(&s.print);
    if !q.printers()?.is_empty() {
        return Ok(());
    }
    let profile =
        PrinterProfile::by_name("generic-80").map_err(|e| AppError::Internal(e.to_string()))?;
    q.add_printer(NewPrinter {
        name: "Receipt file".into(),
        target: format!("file:{}", s.data_dir.join(RECEIPT_FILE).display()),
        profile,
        is_default: true,
    })?;
    Ok(())
}

#[tauri::command]
async fn start_demo(app: State<'_, App>) -> AppResult<AppStatus> {
    app.with_terminal(|t, s| {
        t.create_demo_store()?;
        ensure_a_printer(s)?;
        app_status(t, &guard(&s.session))
    })
    .await
}

#[tauri::command]
async fn enrol<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
    server_url: String,
    code: String,
) -> AppResult<AppStatus> {
    let url = server_url.trim().trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(AppError::invalid(
            "serverUrl",
            "expected an http:// or https:// address",
        ));
    }
    pos_core::enrolment::enrol(&app.0.terminal, &url, code.trim(), false)
        .await
        .map_err(AppError::enrolment)?;
    app.blocking(ensure_a_printer).await?;
    start_services(&app, &handle).await?;
    app.with_terminal(|t, s| app_status(t, &guard(&s.session)))
        .await
}
