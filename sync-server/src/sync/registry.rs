//! Open sync connections: who is behind each, which peer id each bound,
//! which documents each touched; used to close connections on revocation
//! and on storage failure.
//!
//! Peer ids are chosen by clients (a till uses `STORE-TERMINAL`, printed on its receipts), so
//! they are scoped to the tenant: each tenant has its own samod repos ([`super::Repos`]),
//! and a peer id is bound and looked up within the tenant of the connection only. Another
//! tenant's client announcing the same peer id binds it in its own tenant and never displaces
//! or impersonates this one.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Mutex;

use tokio::sync::mpsc;

use crate::auth::Principal;

/// Id of a connection in the registry.
pub type ConnId = u64;

#[derive(Debug)]
struct Conn {
    principal: Principal,
    /// The tenant whose repo the connection is for, and the client's address (caps).
    tenant: String,
    addr: Option<IpAddr>,
    /// The bound peer id, as `(tenant, peer id)`.
    peer_id: Option<(String, String)>,
    docs: HashSet<String>,
    close: mpsc::UnboundedSender<String>,
}

#[derive(Debug, Default)]
struct Inner {
    next: ConnId,
    conns: HashMap<ConnId, Conn>,
    /// Bound peer ids by `(tenant, peer id)`.
    peers: HashMap<(String, String), ConnId>,
}

/// Caps on open connections ([`ConnectionRegistry::admit`]); 0 means no cap.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectionCaps {
    pub per_principal: usize,
    pub per_tenant: usize,
    pub per_address: usize,
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
        let tenant = principal.tenant_id().to_string();
        Self::insert(&mut self.lock(), principal, tenant, None)
    }

    /// Registers a connection of `principal` from `addr` to `tenant`'s repo unless that would
    /// exceed one of `caps` (instances are not capped); the error says which cap.
    pub fn admit(
        &self,
        principal: Principal,
        tenant: &str,
        addr: IpAddr,
        caps: ConnectionCaps,
    ) -> Result<(ConnId, mpsc::UnboundedReceiver<String>), &'static str> {
        let mut inner = self.lock();
        if !matches!(principal, Principal::Instance { .. }) {
            let (mut mine, mut tenants, mut here) = (0, 0, 0);
            for c in inner.conns.values() {
                mine += usize::from(c.principal == principal);
                tenants += usize::from(c.tenant == tenant);
                here += usize::from(c.addr == Some(addr));
            }
            let over = |n: usize, cap: usize| cap > 0 && n >= cap;
            if over(mine, caps.per_principal) {
                return Err("too many sync connections for this credential");
            }
            if over(tenants, caps.per_tenant) {
                return Err("too many sync connections for this tenant");
            }
            if over(here, caps.per_address) {
                return Err("too many sync connections from this address");
            }
        }
        Ok(Self::insert(
            &mut inner,
            principal,
            tenant.to_string(),
            Some(addr),
        ))
    }

    fn insert(
        inner: &mut Inner,
        principal: Principal,
        tenant: String,
        addr: Option<IpAddr>,
    ) -> (ConnId, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        inner.next += 1;
        let id = inner.next;
        inner.conns.insert(
            id,
            Conn {
                principal,
                tenant,
                addr,
                peer_id: None,
                docs: HashSet::new(),
                close: tx,
            },
        );
        (id, rx)
    }

    /// Binds the peer id a connection to `tenant`'s repo announced in its `join`. A peer id
    /// held in that tenant by another principal's open connection is refused; one held by the
    /// same principal (a reconnect) is taken over and the old connection closed. Other tenants'
    /// peer ids never interfere.
    pub fn bind_peer(&self, conn: ConnId, tenant: &str, peer_id: &str) -> Result<(), &'static str> {
        let key = (tenant.to_string(), peer_id.to_string());
        let mut inner = self.lock();
        let principal = inner
            .conns
            .get(&conn)
            .ok_or("connection gone")?
            .principal
            .clone();
        if let Some(&other) = inner.peers.get(&key)
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
        inner.peers.insert(key.clone(), conn);
        if let Some(c) = inner.conns.get_mut(&conn) {
            c.peer_id = Some(key);
        }
        Ok(())
    }

    /// Principal behind a peer id bound in `tenant`.
    pub fn principal_of_peer(&self, tenant: &str, peer_id: &str) -> Option<Principal> {
        let inner = self.lock();
        let conn = inner
            .peers
            .get(&(tenant.to_string(), peer_id.to_string()))?;
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

    /// Asks every connection opened with app credential `app_id` to close; returns how many.
    pub fn close_app(&self, app_id: &str, reason: &str) -> usize {
        let inner = self.lock();
        inner
            .conns
            .values()
            .filter(|c| matches!(&c.principal, Principal::App { app_id: a, .. } if a == app_id))
            .filter(|c| c.close.send(reason.to_string()).is_ok())
            .count()
    }

    /// Open connections of app credential `app_id` here.
    pub fn app_connections(&self, app_id: &str) -> usize {
        self.lock()
            .conns
            .values()
            .filter(|c| matches!(&c.principal, Principal::App { app_id: a, .. } if a == app_id))
            .count()
    }

    /// Asks one connection to close; returns whether it was open.
    pub fn close(&self, conn: ConnId, reason: &str) -> bool {
        self.lock()
            .conns
            .get(&conn)
            .is_some_and(|c| c.close.send(reason.to_string()).is_ok())
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

    /// Ids of the terminals with an open connection here.
    pub fn connected_terminals(&self) -> HashSet<String> {
        self.lock()
            .conns
            .values()
            .filter_map(|c| match &c.principal {
                Principal::Terminal { terminal_id, .. } => Some(terminal_id.clone()),
                Principal::User { .. } | Principal::App { .. } | Principal::Instance { .. } => None,
            })
            .collect()
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
