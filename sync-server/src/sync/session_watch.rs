//! A sync connection opened with a user's access token lives no longer than the token and its
//! session: it closes when the token expires, and within a second when the session ends
//! (sign-out, password change, refresh-token reuse) or the user is disabled, on this instance
//! at once ([`crate::service::Services::session_events`]) and on the others through their
//! poll of ended sessions. Terminals and instances have no session and are not watched here
//! (terminals are revoked through [`super::ConnectionRegistry::close_terminal`]).

use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use super::ConnId;
use crate::now_ms;
use crate::service::SessionLease;
use crate::state::AppState;

/// Stops the watch when dropped (the connection ended first).
#[derive(Debug)]
pub struct Watch(Option<tokio::task::JoinHandle<()>>);

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// Watches connection `conn`, opened with the token of `lease` (none: nothing to watch).
pub fn start(app: &AppState, conn: ConnId, lease: Option<SessionLease>) -> Watch {
    let Some(lease) = lease else {
        return Watch(None);
    };
    let app = app.clone();
    let mut events = app.services.session_events();
    Watch(Some(tokio::spawn(async move {
        let left =
            Duration::from_millis(u64::try_from(lease.expires_at_ms - now_ms()).unwrap_or(0));
        let expiry = tokio::time::sleep(left);
        tokio::pin!(expiry);
        let reason = loop {
            tokio::select! {
                () = &mut expiry => break "access token expired",
                ev = events.recv() => match ev {
                    Ok(ended) if ended == lease.session_id => break "session ended",
                    Ok(_) => {}
                    // Missed some: ask the database about this session.
                    Err(RecvError::Lagged(_)) => match app.services.session_live(&lease).await {
                        Ok(true) => {}
                        Ok(false) => break "session ended",
                        Err(e) => tracing::error!(error = %e, "session re-check failed"),
                    },
                    Err(RecvError::Closed) => return,
                },
            }
        };
        tracing::info!(conn, reason, "closing a user's sync connection");
        app.services.connections.close(conn, reason);
    })))
}
