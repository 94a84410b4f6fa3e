//! Open sync connections: who is behind each, which peer id each bound,
//! which documents each touched; used to close connections on revocation
//! and on storage failure.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use tokio::sync::mpsc;

use crate::auth::Principal;

/// Id of a connection in the registry.
pub type ConnId = u64;

#[derive(Debug)]
struct Conn {
    principal: Principal,
    peer_id: Option<String>,
    docs: HashSet<String>,
    close: mpsc::UnboundedSender<String>,
}

#[derive(Debug, Default)]
struct Inner {
    next: ConnId,
    conns: HashMap<ConnId, Conn>,
    peers: HashMap<String, ConnId>,
}

/// Registry of open sync connections of this instance.
#[derive(Debug, Default)]
pub struct ConnectionRegistry {
    inner: Mutex<Inner>,
}

impl ConnectionRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("registry lock")
    }

    /// Registers a new authenticated connection. The receiver yields a
    /// reason when the connection must be closed.
    pub fn register(&self, principal: Principal) -> (ConnId, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut inner = self.lock();
        inner.next += 1;
        let id = inner.next;
        inner.conns.insert(
            id,
            Conn {
                principal,
                peer_id: None,
                docs: HashSet::new(),
                close: tx,
            },
        );
        (id, rx)
    }

    /// Binds the peer id a connection announced in its `join`. A peer id held
    /// by another principal's open connection is refused; one held by the
    /// same principal (a reconnect) is taken over and the old connection closed.
    pub fn bind_peer(&self, conn: ConnId, peer_id: &str) -> Result<(), &'static str> {
        let mut inner = self.lock();
        let principal = inner
            .conns
            .get(&conn)
            .ok_or("connection gone")?
            .principal
            .clone();
        if let Some(&other) = inner.peers.get(peer_id)
            && other != conn
            && let Some(old) = inner.conns.get(&other)
        {
            if old.principal != principal {
                return Err("peer id in use by another client");
            }
            let _ = old
                .close
                .send("replaced by a new connection with the same peer id".into());
        }
        inner.peers.insert(peer_id.to_string(), conn);
        if let Some(c) = inner.conns.get_mut(&conn) {
            c.peer_id = Some(peer_id.to_string());
        }
        Ok(())
    }

    /// Principal behind a bound peer id.
    pub fn principal_of_peer(&self, peer_id: &str) -> Option<Principal> {
        let inner = self.lock();
        let conn = inner.peers.get(peer_id)?;
        inner.conns.get(conn).map(|c| c.principal.clone())
    }

    /// Records that a connection exchanged a document.
    pub fn touch_doc(&self, conn: ConnId, doc_id: &str) {
        if let Some(c) = self.lock().conns.get_mut(&conn)
            && !c.docs.contains(doc_id)
        {
            c.docs.insert(doc_id.to_string());
        }
    }

    /// Asks every connection that touched `doc_id` to close; returns how many.
    pub fn close_doc(&self, doc_id: &str, reason: &str) -> usize {
        let inner = self.lock();
        inner
            .conns
            .values()
            .filter(|c| c.docs.contains(doc_id))
            .filter(|c| c.close.send(reason.to_string()).is_ok())
            .count()
    }

    /// Asks every connection of a terminal to close; returns how many.
    pub fn close_terminal(&self, terminal_id: &str, reason: &str) -> usize {
        let inner = self.lock();
        inner
            .conns
            .values()
            .filter(|c| matches!(&c.principal, Principal::Terminal { terminal_id: t, .. } if t == terminal_id))
            .filter(|c| c.close.send(reason.to_string()).is_ok())
            .count()
    }

    /// Asks every connection to close (shutdown).
    pub fn close_all(&self, reason: &str) {
        for c in self.lock().conns.values() {
            let _ = c.close.send(reason.to_string());
        }
    }

    /// Whether a terminal has an open connection here.
    pub fn terminal_connected(&self, terminal_id: &str) -> bool {
        self.lock()
            .conns
            .values()
            .any(|c| matches!(&c.principal, Principal::Terminal { terminal_id: t, .. } if t == terminal_id))
    }

    /// Removes a finished connection.
    pub fn unregister(&self, conn: ConnId) {
        let mut inner = self.lock();
        if let Some(c) = inner.conns.remove(&conn)
            && let Some(peer) = c.peer_id
            && inner.peers.get(&peer) == Some(&conn)
        {
            inner.peers.remove(&peer);
        }
    }

    /// Number of open connections.
    pub fn len(&self) -> usize {
        self.lock().conns.len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
