//! Wiring: storage selection, the router, serving (plain or TLS, see [`tls`]) with the
//! background tasks and graceful shutdown. The state it wires lives in [`crate::state`]; only
//! `main.rs` (and tests) import this module.

pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::config::Config;
use crate::error::Result;
use crate::state::AppState;
use crate::storage::{DynStorage, PgStorage, SqliteStorage};
use crate::sync;

/// Opens the configured backend: PostgreSQL when a URL is set, else SQLite in the data dir.
pub async fn open_storage(config: &Config) -> Result<DynStorage> {
    Ok(match &config.database_url {
        Some(url) => {
            tracing::info!("storage: postgresql");
            Arc::new(PgStorage::connect(url.expose(), config.database_max_connections).await?)
        }
        None => {
            tracing::info!(data_dir = %config.data_dir.display(), "storage: embedded sqlite");
            Arc::new(SqliteStorage::open(&config.data_dir).await?)
        }
    })
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/sync", get(sync::sync_handler))
        .route(
            "/api/v1/terminals/me/heartbeat",
            axum::routing::post(crate::terminal_report::heartbeat),
        )
        .merge(crate::payments_api::webhooks())
        .nest("/api/v1", crate::api::routes())
        .merge(crate::dashboard::routes(state.clone()))
        .layer(axum::middleware::from_fn(trace))
        .with_state(state)
}

async fn trace(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let span = tracing::info_span!("http", method = %req.method(), path = %req.uri().path());
    tracing::Instrument::instrument(
        async move {
            let resp = next.run(req).await;
            tracing::debug!(status = resp.status().as_u16(), "response");
            resp
        },
        span,
    )
    .await
}

#[utoipa::path(get, path = "/healthz",
    responses((status = 200, description = "the process is up", content_type = "text/plain", body = String)))]
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(get, path = "/readyz",
    responses((status = 200, description = "storage reachable and no storage operation failing (a second line tells a failed scheduled backup)", content_type = "text/plain", body = String),
        (status = 503, description = "storage unreachable or its operations failing", content_type = "text/plain", body = String)))]
pub(crate) async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    let (status, text) = match app.services.storage.ping().await {
        Ok(()) if app.sync.health.healthy() => (StatusCode::OK, "ready"),
        Ok(()) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "storage operations failing",
        ),
        Err(e) => {
            tracing::error!(error = %e, "readiness: storage unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "storage unreachable")
        }
    };
    // A failed scheduled backup is told, on a second line, without taking the server out of
    // service: it still serves the tills.
    match app.services.backups.failure() {
        Some(why) => (status, format!("{text}\n{why}")),
        None => (status, text.to_string()),
    }
}

#[utoipa::path(get, path = "/metrics", security(("bearer" = [])),
    description = "Served only when `metrics_token` is set, to requests bearing it.",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, description = "`unauthorized`: the bearer token is not the metrics token", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: no `metrics_token` is configured", body = crate::error::ErrorBody)))]
pub(crate) async fn metrics(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let Some(expected) = &app.services.config.metrics_token else {
        return crate::error::Error::NotFound("metrics are off: no metrics_token is set")
            .into_response();
    };
    // Compared as SHA-256 digests, so the time taken says nothing about the token.
    let given = crate::extract::bearer_token(&headers).unwrap_or_default();
    if crate::auth::sha256_hex(&given) != crate::auth::sha256_hex(expected.expose()) {
        return crate::error::Error::Unauthorized("metrics token required").into_response();
    }
    let m = &app.sync.metrics;
    let pw = &app.services.password_checks;
    let h = &app.sync.health;
    let reports = &app.services.terminal_reports.counters;
    let body = format!(
        "# TYPE snapkasir_sync_connections gauge\nsnapkasir_sync_connections {}\n\
         # TYPE snapkasir_sync_connections_total counter\nsnapkasir_sync_connections_total {}\n\
         # TYPE snapkasir_sync_frames_in_total counter\nsnapkasir_sync_frames_in_total {}\n\
         # TYPE snapkasir_sync_connections_rejected_total counter\nsnapkasir_sync_connections_rejected_total {}\n\
         # TYPE snapkasir_sync_access_denied_total counter\nsnapkasir_sync_access_denied_total {}\n\
         # TYPE snapkasir_sync_throttled_frames_total counter\nsnapkasir_sync_throttled_frames_total {}\n\
         # TYPE snapkasir_storage_failing gauge\nsnapkasir_storage_failing {}\n\
         # TYPE snapkasir_storage_errors_total counter\nsnapkasir_storage_errors_total {}\n\
         # TYPE snapkasir_storage_chunk_puts_total counter\nsnapkasir_storage_chunk_puts_total {}\n\
         # TYPE snapkasir_storage_chunk_put_bytes_total counter\nsnapkasir_storage_chunk_put_bytes_total {}\n\
         # TYPE snapkasir_terminal_reports_total counter\nsnapkasir_terminal_reports_total {}\n\
         # TYPE snapkasir_terminal_report_writes_total counter\nsnapkasir_terminal_report_writes_total {}\n\
         # TYPE snapkasir_sync_tenant_repos gauge\nsnapkasir_sync_tenant_repos {}\n\
         # TYPE snapkasir_password_checks_total counter\nsnapkasir_password_checks_total {}\n\
         # TYPE snapkasir_login_limited_total counter\nsnapkasir_login_limited_total {}\n\
         # TYPE snapkasir_login_busy_total counter\nsnapkasir_login_busy_total {}\n",
        app.services.connections.len(),
        m.connections_total.load(Ordering::Relaxed),
        m.frames_in.load(Ordering::Relaxed),
        m.frames_rejected.load(Ordering::Relaxed),
        m.denied.load(Ordering::Relaxed),
        m.throttled.load(Ordering::Relaxed),
        h.failing.load(Ordering::Relaxed),
        h.errors_total.load(Ordering::Relaxed),
        h.puts_total.load(Ordering::Relaxed),
        h.put_bytes_total.load(Ordering::Relaxed),
        reports.reports.load(Ordering::Relaxed),
        reports.writes.load(Ordering::Relaxed),
        app.sync.repos.open_count(),
        pw.total.load(Ordering::Relaxed),
        pw.limited.load(Ordering::Relaxed),
        pw.busy.load(Ordering::Relaxed),
    ) + &app.services.backups.metrics()
        + &app.services.reports.metrics()
        + &format!(
            "# TYPE snapkasir_payment_notifications_forged_total counter\n\
             snapkasir_payment_notifications_forged_total {}\n",
            app.services
                .payments
                .forged_notifications
                .load(Ordering::Relaxed)
        );
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        body,
    )
        .into_response()
}

/// What every accepted connection's socket is set to, plain or TLS.
///
/// `TCP_NODELAY`: the server writes many small frames, such as a sync reply per change and
/// each repo's answer to a reader. With Nagle's algorithm on, a small frame written while the one
/// before it was unacknowledged waited for the peer's delayed ACK, up to 40 ms on Linux. An
/// owner reading two stores got the second store's document about 40 ms after the first
/// (BENCHMARKS.md, "Nagle's algorithm on the server's sockets").
pub(crate) fn tune_accepted(tcp: &tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY on an accepted connection");
    }
}

/// `listener` with each accepted socket tuned ([`tune_accepted`]). A named type, not `impl
/// Listener`: axum gives `ConnectInfo<SocketAddr>` for its `TapIo` only.
fn plain_listener(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    listener.tap_io(|tcp| tune_accepted(tcp))
}

/// Serves on `listener` until `shutdown` resolves, then closes connections
/// and flushes pending document writes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve_with_tls(listener, None, state, shutdown).await
}

/// [`serve`], speaking TLS on `listener` when given an acceptor ([`tls::acceptor`]).
pub async fn serve_with_tls(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    tokio::spawn(state.services.clone().watch_revocations());
    tokio::spawn(state.services.clone().watch_presence());
    tokio::spawn(state.services.reports.clone().run());
    crate::store_tasks::spawn(&state);
    tokio::spawn(
        state
            .sync
            .projector
            .clone()
            .run(state.services.storage.clone()),
    );
    if let Some(url) = state.services.config.advertise_url.clone() {
        tokio::spawn(crate::sync::cluster::run(state.clone(), url));
    }
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let st = state.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down");
        // Close WebSockets first so graceful shutdown does not wait on them.
        st.services.connections.close_all("server shutting down");
        let _ = stop_tx.send(());
    });
    let graceful = async move {
        let _ = stop_rx.await;
    };
    match tls {
        None => {
            axum::serve(plain_listener(listener), app)
                .with_graceful_shutdown(graceful)
                .await?
        }
        Some(acceptor) => {
            use axum::serve::ListenerExt;
            // `tap_io` only for axum's `ConnectInfo<SocketAddr>`, which it provides for a
            // tapped listener of any kind but untapped only for a plain `TcpListener`.
            let listener = tls::TlsListener::new(listener, acceptor).tap_io(|_| {});
            axum::serve(listener, app)
                .with_graceful_shutdown(graceful)
                .await?
        }
    }
    state.sync.repos.stop_all().await;
    if let Err(e) = state.sync.projector.flush(&state.services.storage).await {
        tracing::error!(error = %e, "final projection failed; run `admin reproject`");
    }
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener;

    #[tokio::test]
    async fn accepted_connections_send_small_frames_without_waiting_for_acks() {
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let mut listener = super::plain_listener(tcp);
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (accepted, from) = listener.accept().await;
        assert_eq!(from, client.local_addr().unwrap());
        assert!(
            accepted.nodelay().unwrap(),
            "Nagle's algorithm is on for an accepted connection"
        );
    }
}
