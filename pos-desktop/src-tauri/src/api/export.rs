//! Plugin `export`: the till's whole store written to a USB stick or a folder, to set up a new
//! till from it or keep it aside (pos-core's `store_export`). A supervisor approves: the export
//! holds the store's catalog, users and sales.

use std::path::PathBuf;

use pos_core::store_export::{ExportDestination, ExportSummary, export_destinations};
use serde_json::Value;
use tauri::plugin::{Builder, TauriPlugin};
use tauri::{AppHandle, Manager, Runtime, State};

use crate::error::{AppError, AppResult};
use crate::state::App;

pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("export")
        .invoke_handler(tauri::generate_handler![destinations, run])
        .build()
}

/// The removable drives mounted now, then the user's documents folder.
#[tauri::command]
async fn destinations<R: Runtime>(handle: AppHandle<R>) -> AppResult<Vec<ExportDestination>> {
    let paths = handle.path();
    let fallback = paths.document_dir().or_else(|_| paths.home_dir()).ok();
    Ok(export_destinations(fallback))
}

/// Exports the store into a new folder inside `dir`, once a supervisor approves.
#[tauri::command]
async fn run(app: State<'_, App>, dir: String, approval: Value) -> AppResult<ExportSummary> {
    let approval = super::approval(approval)?;
    let dir = PathBuf::from(dir.trim());
    if dir.as_os_str().is_empty() {
        return Err(AppError::invalid("dir", "choose a folder"));
    }
    app.with_terminal(move |t, _| {
        t.authorize(&approval, "export the store")?;
        Ok(t.export_store(&dir)?)
    })
    .await
}
