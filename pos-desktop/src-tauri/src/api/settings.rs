//! Plugin `settings`: the store's settings as the till knows them.

use pos_core::shared_model::settings::StoreSettings;
use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Runtime, State};

use crate::error::AppResult;
use crate::state::App;

pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("settings")
        .invoke_handler(tauri::generate_handler![store])
        .build()
}

#[tauri::command]
async fn store(app: State<'_, App>) -> AppResult<StoreSettings> {
    app.with_terminal(|t, _| Ok(t.settings()?)).await
}
