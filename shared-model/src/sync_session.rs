//! One sync session with one peer over the automerge-repo protocol, without IO: frames in,
//! frames out. A terminal runs one against the server and one per LAN peer; tests run two
//! against each other in memory.
//!
//! The session keeps an automerge `sync::State` per document. Only its shared heads are
//! persisted (through [`SyncStore::save_state`]), so after any cut a new session resumes from
//! what both sides are known to have, and nothing the peer already has is sent again.

use std::collections::{BTreeSet, HashMap};

use automerge::ChangeHash;
use automerge::sync::{Message as SyncMessage, State};

use crate::wire::{Message, PROTOCOL_VERSION};

/// The documents a session syncs, and where their states are kept.
pub trait SyncStore {
    type Error: std::fmt::Display;

    /// Documents to keep in sync with the peer (those we have and those we want).
    fn sync_doc_ids(&mut self) -> Result<Vec<String>, Self::Error>;
    /// Whether we hold the document (otherwise our first message is a `request`).
    fn has_doc(&mut self, doc_id: &str) -> Result<bool, Self::Error>;
    /// Whether to accept a document the peer offers that we neither have nor asked for.
    fn accepts_new_doc(&mut self, doc_id: &str) -> bool;
    /// Our current heads of a document (empty when we do not have it).
    fn heads(&mut self, doc_id: &str) -> Result<Vec<ChangeHash>, Self::Error>;
    fn generate(
        &mut self,
        doc_id: &str,
        state: &mut State,
    ) -> Result<Option<SyncMessage>, Self::Error>;
    /// Applies a message; returns whether the document changed. A document we did not have is
    /// created.
    fn receive(
        &mut self,
        doc_id: &str,
        state: &mut State,
        message: SyncMessage,
    ) -> Result<bool, Self::Error>;
    fn load_state(&mut self, peer: &str, doc_id: &str) -> Result<Option<Vec<u8>>, Self::Error>;
    fn save_state(&mut self, peer: &str, doc_id: &str, state: &[u8]) -> Result<(), Self::Error>;
}

/// What happened in a step, for the caller's status and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed with this peer.
    Connected { peer: String },
    /// A document changed because of the peer.
    Changed { doc_id: String },
    /// The peer has no such document, or will not share it.
    Unavailable { doc_id: String },
}

/// Why a session must end. The connection is closed; a new session may follow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the peer sent an error: {0}")]
    Remote(String),
    #[error("protocol violation: {0}")]
    Protocol(String),
    #[error("store: {0}")]
    Store(String),
}

/// The frames to send and the events of one step.
#[derive(Debug, Default)]
pub struct Step {
    pub send: Vec<Message>,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Dialer,
    Acceptor,
}

#[derive(Debug)]
pub struct Session {
    local: String,
    remote: Option<String>,
    role: Role,
    states: HashMap<String, State>,
    unavailable: BTreeSet<String>,
}

fn store_err<E: std::fmt::Display>(e: E) -> SessionError {
    SessionError::Store(e.to_string())
}

impl Session {
    /// A session we open; send the returned `join` first.
    pub fn dial(local_peer: &str) -> (Session, Message) {
        let join = Message::Join {
            sender_id: local_peer.into(),
            supported_protocol_versions: vec![PROTOCOL_VERSION.into()],
        };
        (Session::new(local_peer, Role::Dialer), join)
    }

    /// A session a peer opened with us; it starts at their `join`.
    pub fn accept(local_peer: &str) -> Session {
        Session::new(local_peer, Role::Acceptor)
    }

    fn new(local: &str, role: Role) -> Session {
        Session {
            local: local.into(),
            remote: None,
            role,
            states: HashMap::new(),
            unavailable: BTreeSet::new(),
        }
    }

    pub fn remote(&self) -> Option<&str> {
        self.remote.as_deref()
    }

    pub fn is_connected(&self) -> bool {
        self.remote.is_some()
    }

    /// Handles one frame from the peer.
    pub fn handle<S: SyncStore>(
        &mut self,
        frame: Message,
        store: &mut S,
    ) -> Result<Step, SessionError> {
        let mut step = Step::default();
        match frame {
            Message::Join {
                sender_id,
                supported_protocol_versions,
            } => {
                if self.role != Role::Acceptor || self.remote.is_some() {
                    return Err(SessionError::Protocol("unexpected join".into()));
                }
                if !supported_protocol_versions
                    .iter()
                    .any(|v| v == PROTOCOL_VERSION)
                {
                    return Err(SessionError::Protocol(format!(
                        "no common protocol version in {supported_protocol_versions:?}"
                    )));
                }
                step.send.push(Message::Peer {
                    sender_id: self.local.clone(),
                    target_id: sender_id.clone(),
                    selected_protocol_version: PROTOCOL_VERSION.into(),
                });
                self.connected(sender_id, store, &mut step)?;
            }
            Message::Peer {
                sender_id,
                selected_protocol_version,
                ..
            } => {
                if self.role != Role::Dialer || self.remote.is_some() {
                    return Err(SessionError::Protocol("unexpected peer".into()));
                }
                if selected_protocol_version != PROTOCOL_VERSION {
                    return Err(SessionError::Protocol(format!(
                        "peer chose protocol {selected_protocol_version:?}"
                    )));
                }
                self.connected(sender_id, store, &mut step)?;
            }
            Message::Request {
                sender_id,
                document_id,
                data,
                ..
            }
            | Message::Sync {
                sender_id,
                document_id,
                data,
                ..
            } => {
                self.check_sender(&sender_id)?;
                let known = self.states.contains_key(&document_id)
                    || store.has_doc(&document_id).map_err(store_err)?;
                if !known && !store.accepts_new_doc(&document_id) {
                    step.send.push(Message::DocUnavailable {
                        sender_id: self.local.clone(),
                        target_id: sender_id,
                        document_id,
                    });
                    return Ok(step);
                }
                let message = SyncMessage::decode(&data).map_err(|e| {
                    SessionError::Protocol(format!("bad sync message for {document_id}: {e}"))
                })?;
                let peer = sender_id.clone();
                let mut state = self.take_state(&peer, &document_id, store)?;
                let changed = store
                    .receive(&document_id, &mut state, message)
                    .map_err(store_err)?;
                self.unavailable.remove(&document_id);
                if changed {
                    step.events.push(Event::Changed {
                        doc_id: document_id.clone(),
                    });
                }
                self.reply(&document_id, state, store, &mut step)?;
            }
            Message::DocUnavailable {
                sender_id,
                document_id,
                ..
            } => {
                self.check_sender(&sender_id)?;
                self.unavailable.insert(document_id.clone());
                step.events.push(Event::Unavailable {
                    doc_id: document_id,
                });
            }
            Message::Error { message } => return Err(SessionError::Remote(message)),
            Message::Ephemeral { .. }
            | Message::Leave { .. }
            | Message::RemoteSubscriptionChange { .. }
            | Message::RemoteHeadsChanged { .. }
            | Message::Other { .. } => {}
        }
        Ok(step)
    }

    /// Sends what changed locally since the last step (call after local writes, and now and
    /// then: it sends nothing when the peer is up to date).
    pub fn poll<S: SyncStore>(&mut self, store: &mut S) -> Result<Step, SessionError> {
        let mut step = Step::default();
        let Some(peer) = self.remote.clone() else {
            return Ok(step);
        };
        for doc_id in store.sync_doc_ids().map_err(store_err)? {
            if self.unavailable.contains(&doc_id) {
                continue;
            }
            let state = self.take_state(&peer, &doc_id, store)?;
            self.reply(&doc_id, state, store, &mut step)?;
        }
        Ok(step)
    }

    /// Starts a new round with the same peer: every document is offered again from the shared
    /// heads both sides are known to have, and documents the peer lacked are asked for again.
    /// Call it now and then: it costs one small message per document, and it makes the session
    /// converge even if the peer stopped pushing changes to us for any reason.
    pub fn resync(&mut self) {
        self.states.clear();
        self.unavailable.clear();
    }

    /// Documents whose local changes the peer is not yet known to have.
    pub fn waiting<S: SyncStore>(&mut self, store: &mut S) -> Result<Vec<String>, SessionError> {
        let mut out = Vec::new();
        for doc_id in store.sync_doc_ids().map_err(store_err)? {
            let ours = store.heads(&doc_id).map_err(store_err)?;
            let theirs = self
                .states
                .get(&doc_id)
                .and_then(|s| s.their_heads.clone())
                .unwrap_or_default();
            let shared = self
                .states
                .get(&doc_id)
                .map(|s| s.shared_heads.clone())
                .unwrap_or_default();
            if !ours
                .iter()
                .all(|h| theirs.contains(h) || shared.contains(h))
            {
                out.push(doc_id);
            }
        }
        Ok(out)
    }

    /// Documents the peer said it does not have or will not share.
    pub fn unavailable(&self) -> impl Iterator<Item = &str> {
        self.unavailable.iter().map(String::as_str)
    }

    fn connected<S: SyncStore>(
        &mut self,
        peer: String,
        store: &mut S,
        step: &mut Step,
    ) -> Result<(), SessionError> {
        self.remote = Some(peer.clone());
        step.events.push(Event::Connected { peer });
        let more = self.poll(store)?;
        step.send.extend(more.send);
        Ok(())
    }

    fn check_sender(&self, sender: &str) -> Result<(), SessionError> {
        match &self.remote {
            Some(r) if r == sender => Ok(()),
            Some(r) => Err(SessionError::Protocol(format!(
                "frame from {sender:?} on the session of {r:?}"
            ))),
            None => Err(SessionError::Protocol("frame before the handshake".into())),
        }
    }

    fn take_state<S: SyncStore>(
        &mut self,
        peer: &str,
        doc_id: &str,
        store: &mut S,
    ) -> Result<State, SessionError> {
        if let Some(s) = self.states.remove(doc_id) {
            return Ok(s);
        }
        Ok(match store.load_state(peer, doc_id).map_err(store_err)? {
            Some(bytes) => State::decode(&bytes).unwrap_or_else(|_| State::new()),
            None => State::new(),
        })
    }

    fn reply<S: SyncStore>(
        &mut self,
        doc_id: &str,
        mut state: State,
        store: &mut S,
        step: &mut Step,
    ) -> Result<(), SessionError> {
        let Some(peer) = self.remote.clone() else {
            return Ok(());
        };
        let message = store.generate(doc_id, &mut state).map_err(store_err)?;
        if let Some(message) = message {
            let have = store.has_doc(doc_id).map_err(store_err)?;
            let data = message.encode();
            let (sender_id, target_id, document_id) =
                (self.local.clone(), peer.clone(), doc_id.to_string());
            step.send.push(if have {
                Message::Sync {
                    sender_id,
                    target_id,
                    document_id,
                    data,
                }
            } else {
                Message::Request {
                    sender_id,
                    target_id,
                    document_id,
                    data,
                }
            });
        }
        store
            .save_state(&peer, doc_id, &state.encode())
            .map_err(store_err)?;
        self.states.insert(doc_id.to_string(), state);
        Ok(())
    }
}
