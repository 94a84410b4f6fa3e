//! Plugin `session`: the PIN screen, shifts, locking, the language, and the first-paint signal.

use std::io::Write;

use pos_core::shared_model::ids::UserId;
use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Runtime, State};

use super::{money, parse};
use crate::error::{AppError, AppResult};
use crate::state::{App, guard, require_user};
use crate::views::{AppStatus, LANGUAGE_KEY, LANGUAGES, UserView, app_status};

pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("session")
        .invoke_handler(tauri::generate_handler![
            status,
            users,
            login,
            start_shift,
            lock,
            set_language,
            ui_ready
        ])
        .build()
}

#[tauri::command]
async fn status(app: State<'_, App>) -> AppResult<AppStatus> {
    app.with_terminal(|t, s| app_status(t, &guard(&s.session)))
        .await
}

#[tauri::command]
async fn users(app: State<'_, App>) -> AppResult<Vec<UserView>> {
    app.with_terminal(|t, _| {
        Ok(t.users()?
            .iter()
            .filter(|u| u.active)
            .map(UserView::from)
            .collect())
    })
    .await
}

#[tauri::command]
async fn login(app: State<'_, App>, user_id: String, pin: String) -> AppResult<AppStatus> {
    let id: UserId = parse("userId", &user_id)?;
    app.with_terminal(move |t, s| {
        let user = t.verify_pin(id, &pin)?;
        let mut session = guard(&s.session);
        session.user = Some(user);
        app_status(t, &session)
    })
    .await
}

#[tauri::command]
async fn start_shift(app: State<'_, App>, opening_float: String) -> AppResult<AppStatus> {
    let float = money("openingFloat", &opening_float)?;
    app.with_terminal(move |t, s| {
        let session = guard(&s.session);
        let user = require_user(&session)?;
        t.start_shift(user.id, float)?;
        app_status(t, &session)
    })
    .await
}

#[tauri::command]
async fn lock(app: State<'_, App>) -> AppResult<AppStatus> {
    app.with_terminal(|t, s| {
        let mut session = guard(&s.session);
        session.user = None;
        app_status(t, &session)
    })
    .await
}

#[tauri::command]
async fn set_language(app: State<'_, App>, language: String) -> AppResult<AppStatus> {
    if !LANGUAGES.contains(&language.as_str()) {
        return Err(AppError::invalid("language", "expected \"id\" or \"en\""));
    }
    app.with_terminal(move |t, s| {
        t.set_app_setting(LANGUAGE_KEY, &language)?;
        app_status(t, &guard(&s.session))
    })
    .await
}

/// Called once by the UI when its first screen is painted: prints `snapkasir-ready` on stdout
/// (once per process), so a benchmark can time start-up to a usable screen.
#[tauri::command]
fn ui_ready(app: State<'_, App>) -> AppResult<()> {
    if app.first_ready() {
        let mut out = std::io::stdout().lock();
        writeln!(out, "snapkasir-ready")
            .and_then(|()| out.flush())
            .map_err(|e| AppError::Internal(format!("stdout: {e}")))?;
    }
    Ok(())
}
