//! SnapKasir's cashier app: the Tauri 2 shell over pos-core.
//!
//! One inlined plugin per area ([`api`]), each command a thin call into pos-core through the
//! one app state ([`state::App`]); the background services and the events the UI listens to
//! are in [`services`]. The UI (pos-desktop/ui) is embedded from `../ui/dist`.
//!
//! `SNAPKASIR_DATA_DIR` chooses the directory of `terminal.db` (else the OS app data
//! directory); `SNAPKASIR_LAN_*` configure LAN sync (see [`services`]). See
//! docs/cashier-app.md.

pub mod api;
pub mod error;
mod plugin_commands;
pub mod services;
pub mod state;
pub mod views;

use std::path::PathBuf;

use tauri::{Manager, Runtime};
use tracing::error;

pub use plugin_commands::PLUGIN_COMMANDS;

use crate::state::{App, DATA_DIR_ENV};

/// Runs the app until its window closes. On Android and iOS this is the app's entry point
/// (docs/cashier-app.md, "Other platforms").
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    init_tracing();
    let data_dir = std::env::var_os(DATA_DIR_ENV).map(PathBuf::from);
    let app = configure(tauri::Builder::default(), data_dir).run(tauri::generate_context!());
    if let Err(e) = app {
        error!(error = %e, "the app stopped with an error");
        std::process::exit(1);
    }
}

/// Wires the plugins and the state into `builder`: the store in `data_dir` (else the OS app
/// data directory), the print-job watcher and the sync services. The tests build the same app
/// on tauri's mock runtime.
pub fn configure<R: Runtime>(
    builder: tauri::Builder<R>,
    data_dir: Option<PathBuf>,
) -> tauri::Builder<R> {
    builder
        .plugin(api::session::init())
        .plugin(api::enrolment::init())
        .plugin(api::selling::init())
        .plugin(api::payment::init())
        .plugin(api::printing::init())
        .plugin(api::sync::init())
        .plugin(api::settings::init())
        .plugin(api::export::init())
        .setup(move |app| {
            let dir = match data_dir {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            let (state, print_wake) = App::open(&dir)?;
            app.manage(state.clone());
            // The window (`create: false` in tauri.conf.json) opens only now that the state is
            // managed: a page that loads fast must not call a command before it exists.
            for window in &app.config().app.windows {
                tauri::WebviewWindowBuilder::from_config(app.handle(), window)?.build()?;
            }
            let handle = app.handle().clone();
            services::watch_print_jobs(handle.clone(), state.clone(), print_wake);
            tauri::async_runtime::spawn(async move {
                if let Err(e) = services::start_services(&state, &handle).await {
                    error!(error = %e, "sync services not started");
                }
            });
            Ok(())
        })
}

/// Logs go to stderr (stdout carries the `snapkasir-ready` line); `RUST_LOG` filters them.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file or a test's capture gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
