//! The background services and the events they raise for the UI (contract.md: the UI never
//! polls):
//!
//! - `sync://status` ([`SyncView`]) whenever the server client's or the LAN sync's status moves
//!   (their `subscribe` watch channels);
//! - `sales://changed` when the server acknowledged sales (fewer waiting) or a sync round
//!   completed (documents merged), when LAN peers come or go, and when the day's sales list
//!   changed while a LAN peer is connected (LAN merges raise no status change, so while a
//!   peer is connected the list's fingerprint is read every 2 s);
//! - `print://job` ([`QueuedJob`]) whenever a print job changes state.
//!
//! pos-core's print queue has no subscription (its wake-up signal is private to it), so a
//! watcher thread reads the newest jobs: every 250 ms while one is still open, otherwise only
//! when a command queued or touched a job (a channel from [`Inner::print_jobs_changed`]) or
//! every 5 s as a safety net. One indexed query of at most 50 rows; nothing runs in the UI.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use pos_core::print_queue::{JobFilter, JobState, QueuedJob};
use pos_core::sync::SyncStatus;
use pos_core::sync::client::{SyncClient, SyncConfig};
use pos_core::sync::lan::{LanConfig, LanServer, LanStatus, LanSync};
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::error::AppResult;
use crate::state::{App, Inner, guard};
use crate::views::SyncView;

pub const SYNC_STATUS_EVENT: &str = "sync://status";
pub const PRINT_JOB_EVENT: &str = "print://job";
pub const SALES_CHANGED_EVENT: &str = "sales://changed";

/// Where this till listens for its store's other tills (`off` for not at all).
pub const LAN_LISTEN_ENV: &str = "SNAPKASIR_LAN_LISTEN";
/// Peer tills to dial, `host:port,host:port`.
pub const LAN_PEERS_ENV: &str = "SNAPKASIR_LAN_PEERS";
/// `1` to advertise and discover tills by mDNS (off unless asked: it sends multicast).
pub const LAN_DISCOVERY_ENV: &str = "SNAPKASIR_LAN_DISCOVERY";
const DEFAULT_LAN_LISTEN: &str = "0.0.0.0:47470";

pub fn sync_view(inner: &Inner) -> SyncView {
    let services = guard(&inner.services);
    SyncView {
        server: services.sync.as_ref().map(SyncClient::status),
        lan: services.lan.as_ref().map(LanSync::status),
        enrolled: services.sync.is_some(),
    }
}

fn emit<R: Runtime, S: serde::Serialize + Clone>(handle: &AppHandle<R>, event: &str, payload: S) {
    if let Err(e) = handle.emit(event, payload) {
        warn!(event, error = %e, "cannot emit an event");
    }
}

/// Starts server sync when the terminal is enrolled and LAN sync when it holds a store key
/// (replacing any running ones), with their watchers. Called at start-up and after enrolment.
pub async fn start_services<R: Runtime>(app: &App, handle: &AppHandle<R>) -> AppResult<()> {
    let has_store_key = app
        .with_terminal(|t, _| Ok(t.store_key()?.is_some()))
        .await?;
    start_server_sync(app, handle).await?;
    if has_store_key {
        // The roster and store key come from the server that enrolled the till.
        let server = app
            .with_terminal(|t, _| Ok(t.enrolment()?))
            .await?
            .map(|(e, credential)| LanServer {
                url: e.server_url,
                credential,
                ca_file: None,
            });
        let config = LanConfig {
            server,
            ..lan_config()
        };
        match LanSync::start(app.0.terminal.clone(), config).await {
            Ok(lan) => {
                info!(listening = ?lan.local_addr(), "LAN sync started");
                let rx = lan.subscribe();
                let old = guard(&app.0.services).lan.replace(lan);
                if let Some(old) = old {
                    old.stop().await;
                }
                tauri::async_runtime::spawn(watch_lan(handle.clone(), app.clone(), rx.clone()));
                tauri::async_runtime::spawn(watch_lan_sales(handle.clone(), app.clone(), rx));
            }
            Err(e) => warn!(error = %e, "LAN sync not started"),
        }
    }
    emit(handle, SYNC_STATUS_EVENT, sync_view(&app.0));
    Ok(())
}

/// (Re)starts the server sync client from the stored enrolment, if there is one. A fresh
/// client connects at once (a running one may be waiting out its reconnection backoff).
pub async fn start_server_sync<R: Runtime>(app: &App, handle: &AppHandle<R>) -> AppResult<()> {
    let Some((enrolment, credential)) = app.with_terminal(|t, _| Ok(t.enrolment()?)).await? else {
        return Ok(());
    };
    info!(server = %enrolment.server_url, "starting server sync");
    let client = SyncClient::start(
        app.0.terminal.clone(),
        SyncConfig::new(&enrolment.server_url, credential),
    );
    let rx = client.subscribe();
    let old = guard(&app.0.services).sync.replace(client);
    if let Some(old) = old {
        old.stop().await;
    }
    tauri::async_runtime::spawn(watch_server(handle.clone(), app.clone(), rx));
    Ok(())
}

/// "Sync now": offers local changes to the server and the LAN peers at once; a server client
/// that is offline is restarted so that it tries to connect now rather than after its backoff.
pub async fn sync_now<R: Runtime>(app: &App, handle: &AppHandle<R>) -> AppResult<()> {
    let offline = guard(&app.0.services)
        .sync
        .as_ref()
        .is_some_and(|s| !s.status().online);
    if offline {
        start_server_sync(app, handle).await?;
    }
    app.0.nudge_sync();
    Ok(())
}

fn lan_config() -> LanConfig {
    let listen = std::env::var(LAN_LISTEN_ENV).unwrap_or_else(|_| DEFAULT_LAN_LISTEN.into());
    let listen = if listen == "off" {
        None
    } else {
        match listen.parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(e) => {
                warn!(%listen, error = %e, "{LAN_LISTEN_ENV} is not an address; not listening");
                None
            }
        }
    };
    let peers = std::env::var(LAN_PEERS_ENV)
        .map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let discovery =
        listen.is_some() && std::env::var(LAN_DISCOVERY_ENV).is_ok_and(|v| v == "1" || v == "true");
    LanConfig {
        listen,
        peers,
        discovery,
        ..LanConfig::default()
    }
}

/// Whether the server's news may change the day's sales list: acknowledgements arrived (fewer
/// sales waiting) or a complete sync round merged what the server had.
pub fn sales_may_have_changed(before: &SyncStatus, after: &SyncStatus) -> bool {
    after.waiting_sales < before.waiting_sales || after.last_sync != before.last_sync
}

async fn watch_server<R: Runtime>(
    handle: AppHandle<R>,
    app: App,
    mut rx: watch::Receiver<SyncStatus>,
) {
    let mut last = rx.borrow_and_update().clone();
    while rx.changed().await.is_ok() {
        let now = rx.borrow_and_update().clone();
        emit(&handle, SYNC_STATUS_EVENT, sync_view(&app.0));
        if sales_may_have_changed(&last, &now) {
            emit(&handle, SALES_CHANGED_EVENT, ());
        }
        last = now;
    }
}

async fn watch_lan<R: Runtime>(handle: AppHandle<R>, app: App, mut rx: watch::Receiver<LanStatus>) {
    let mut last = rx.borrow_and_update().clone();
    while rx.changed().await.is_ok() {
        let now = rx.borrow_and_update().clone();
        emit(&handle, SYNC_STATUS_EVENT, sync_view(&app.0));
        if now.peers != last.peers {
            emit(&handle, SALES_CHANGED_EVENT, ());
        }
        last = now;
    }
}

const LAN_SALES_POLL: Duration = Duration::from_secs(2);

/// What changes in the day's sales list when a sale arrives or reaches the server.
type SalesFingerprint = (usize, usize, Option<String>);

fn sales_fingerprint(t: &mut pos_core::Terminal) -> AppResult<SalesFingerprint> {
    let date = t.business_date_at(pos_core::shared_model::codec::Timestamp::now())?;
    let sales = t.day_sales(date)?;
    let on_server = sales.iter().filter(|s| s.on_server).count();
    Ok((
        sales.len(),
        on_server,
        sales.first().map(|s| s.sale_id.clone()),
    ))
}

/// While a LAN peer is connected, `sales://changed` whenever the day's sales list changes
/// (a peer's sale merged). Ends with the LAN sync (its status channel closes).
async fn watch_lan_sales<R: Runtime>(
    handle: AppHandle<R>,
    app: App,
    rx: watch::Receiver<LanStatus>,
) {
    let mut last: Option<SalesFingerprint> = None;
    while rx.has_changed().is_ok() {
        tokio::time::sleep(LAN_SALES_POLL).await;
        if rx.borrow().peers.is_empty() {
            last = None;
            continue;
        }
        match app.with_terminal(|t, _| sales_fingerprint(t)).await {
            Ok(now) => {
                if last.as_ref().is_some_and(|l| *l != now) {
                    emit(&handle, SALES_CHANGED_EVENT, ());
                }
                last = Some(now);
            }
            Err(e) => warn!(error = %e, "cannot read the day's sales"),
        }
    }
}

const ACTIVE_POLL: Duration = Duration::from_millis(250);
const IDLE_POLL: Duration = Duration::from_secs(5);
const WATCHED_JOBS: usize = 50;

fn is_open(state: JobState) -> bool {
    !matches!(
        state,
        JobState::Printed | JobState::Failed | JobState::Cancelled
    )
}

/// The jobs of `now` that are new or differ from `seen`; `seen` becomes `now`.
pub fn changed_jobs(seen: &mut HashMap<i64, QueuedJob>, now: Vec<QueuedJob>) -> Vec<QueuedJob> {
    let mut changed = Vec::new();
    let mut next = HashMap::with_capacity(now.len());
    for job in now {
        if seen.get(&job.job_id) != Some(&job) {
            changed.push(job.clone());
        }
        next.insert(job.job_id, job);
    }
    *seen = next;
    changed.sort_by_key(|j| j.job_id);
    changed
}

/// Starts the print-job watcher thread (see the module's documentation).
pub fn watch_print_jobs<R: Runtime>(handle: AppHandle<R>, app: App, wake: mpsc::Receiver<()>) {
    let spawned = std::thread::Builder::new()
        .name("print-job-watch".into())
        .spawn(move || {
            let mut seen = HashMap::new();
            let mut first = true;
            loop {
                let jobs = guard(&app.0.print).jobs(JobFilter::All, WATCHED_JOBS);
                let active = match jobs {
                    Ok(jobs) => {
                        let active = jobs.iter().any(|j| is_open(j.state));
                        let changed = changed_jobs(&mut seen, jobs);
                        if !first {
                            for job in changed {
                                emit(&handle, PRINT_JOB_EVENT, job);
                            }
                        }
                        first = false;
                        active
                    }
                    Err(e) => {
                        warn!(error = %e, "cannot read the print jobs");
                        false
                    }
                };
                match wake.recv_timeout(if active { ACTIVE_POLL } else { IDLE_POLL }) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => while wake.try_recv().is_ok() {},
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        });
    if let Err(e) = spawned {
        warn!(error = %e, "cannot start the print-job watcher");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: i64, state: JobState) -> QueuedJob {
        QueuedJob {
            job_id: id,
            kind: "receipt".into(),
            record_id: format!("sale-{id}"),
            number: None,
            copy: false,
            copy_of: None,
            printer_id: None,
            printer: None,
            state,
            description: format!("{state:?}"),
            last_error: None,
            attempts: 0,
            next_attempt_at: None,
            created_at: "2026-12-02T10:00:00Z".into(),
            updated_at: "2026-12-02T10:00:00Z".into(),
            written_at: None,
        }
    }

    #[test]
    fn only_new_or_changed_jobs_are_announced() {
        let mut seen = HashMap::new();
        let first = changed_jobs(
            &mut seen,
            vec![job(2, JobState::Waiting), job(1, JobState::Printed)],
        );
        assert_eq!(
            first.iter().map(|j| j.job_id).collect::<Vec<_>>(),
            vec![1, 2]
        );
        let same = changed_jobs(
            &mut seen,
            vec![job(2, JobState::Waiting), job(1, JobState::Printed)],
        );
        assert!(same.is_empty());
        let next = changed_jobs(
            &mut seen,
            vec![
                job(3, JobState::Waiting),
                job(2, JobState::Printed),
                job(1, JobState::Printed),
            ],
        );
        assert_eq!(
            next.iter().map(|j| (j.job_id, j.state)).collect::<Vec<_>>(),
            vec![(2, JobState::Printed), (3, JobState::Waiting)]
        );
        assert!(is_open(JobState::Held) && !is_open(JobState::Cancelled));
    }

    #[test]
    fn acknowledgements_and_completed_rounds_change_the_sales_list() {
        let before = SyncStatus {
            online: true,
            waiting_sales: 3,
            ..SyncStatus::default()
        };
        let mut after = before.clone();
        after.waiting_documents = 2;
        assert!(
            !sales_may_have_changed(&before, &after),
            "only documents waiting"
        );
        after.waiting_sales = 1;
        assert!(
            sales_may_have_changed(&before, &after),
            "two sales acknowledged"
        );
        let mut synced = before.clone();
        synced.last_sync = Some("2026-12-02T10:00:00Z".parse().expect("timestamp"));
        assert!(
            sales_may_have_changed(&before, &synced),
            "a round completed"
        );
        let mut more = before.clone();
        more.waiting_sales = 4;
        assert!(
            !sales_may_have_changed(&before, &more),
            "a new sale of this till"
        );
    }
}
