//! Plugin `sync`: the status bar's view of server and LAN sync, and "sync now".

use tauri::plugin::{Builder, TauriPlugin};
use tauri::{AppHandle, Runtime, State};

use crate::error::AppResult;
use crate::services::sync_view;
use crate::state::App;
use crate::views::SyncView;

pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("sync")
        .invoke_handler(tauri::generate_handler![status, sync_now])
        .build()
}

#[tauri::command]
fn status(app: State<'_, App>) -> AppResult<SyncView> {
    Ok(sync_view(&app.0))
}

#[tauri::command]
async fn sync_now<R: Runtime>(handle: AppHandle<R>, app: State<'_, App>) -> AppResult<()> {
    crate::services::sync_now(&app, &handle).await
}
