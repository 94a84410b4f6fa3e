//! The background tasks that write store documents as the server: the period indexer
//! ([`crate::period_index`]), the LAN roster writer ([`crate::lan_publish`]) and the stock
//! baseline writer ([`crate::baselines`], every
//! `baseline_interval_secs`, 0 = off), and the scheduled backups ([`crate::backup`], when
//! `backup_dir` is set); and the purge of customers' email addresses past their store's
//! retention ([`crate::receipt_mail::run_purge`]), which writes no document but runs alongside.

use std::time::Duration;

use crate::state::AppState;

/// Spawns the tasks; they run until the process ends.
pub fn spawn(state: &AppState) {
    tokio::spawn(crate::period_index::run(state.clone()));
    tokio::spawn(crate::lan_publish::run(state.clone()));
    let secs = state.services.config.baseline_interval_secs;
    if secs > 0 {
        tokio::spawn(crate::baselines::run(
            state.clone(),
            Duration::from_secs(secs),
        ));
    }
    tokio::spawn(crate::receipt_mail::run_purge(state.clone()));
    if state.services.config.backup_dir.is_some() {
        tokio::spawn(crate::backup::run_scheduled(state.services.clone()));
    }
}
