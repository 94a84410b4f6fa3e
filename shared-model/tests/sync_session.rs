//! Two sync sessions against each other in memory: convergence, requests for missing
//! documents, refusal of unknown ones, and resumption without resending.

use std::collections::HashMap;

use automerge::sync::{Message as SyncMessage, State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash, ReadDoc};
use shared_model::sync_session::{Event, Session, SyncStore};
use shared_model::wire::{self, Message};

#[derive(Default)]
struct MemStore {
    docs: HashMap<String, AutoCommit>,
    wanted: Vec<String>,
    accept_new: bool,
    states: HashMap<(String, String), Vec<u8>>,
    /// Bytes of changes received, to see what was (re)sent.
    received_change_bytes: usize,
}

impl SyncStore for MemStore {
    type Error = String;
    fn sync_doc_ids(&mut self) -> Result<Vec<String>, String> {
        let mut ids: Vec<String> = self
            .docs
            .keys()
            .cloned()
            .chain(self.wanted.iter().cloned())
            .collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }
    fn has_doc(&mut self, doc_id: &str) -> Result<bool, String> {
        Ok(self.docs.contains_key(doc_id))
    }
    fn accepts_new_doc(&mut self, _doc_id: &str) -> bool {
        self.accept_new
    }
    fn heads(&mut self, doc_id: &str) -> Result<Vec<ChangeHash>, String> {
        Ok(self
            .docs
            .get_mut(doc_id)
            .map(|d| d.get_heads())
            .unwrap_or_default())
    }
    fn generate(&mut self, doc_id: &str, state: &mut State) -> Result<Option<SyncMessage>, String> {
        let mut empty = AutoCommit::new();
        let doc = self.docs.get_mut(doc_id).unwrap_or(&mut empty);
        Ok(doc.sync().generate_sync_message(state))
    }
    fn receive(
        &mut self,
        doc_id: &str,
        state: &mut State,
        message: SyncMessage,
    ) -> Result<bool, String> {
        self.received_change_bytes += message.changes.iter().map(|c| c.len()).sum::<usize>();
        let doc = self.docs.entry(doc_id.to_string()).or_default();
        let before = doc.get_heads();
        doc.sync()
            .receive_sync_message(state, message)
            .map_err(|e| e.to_string())?;
        Ok(doc.get_heads() != before)
    }
    fn load_state(&mut self, peer: &str, doc_id: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self
            .states
            .get(&(peer.to_string(), doc_id.to_string()))
            .cloned())
    }
    fn save_state(&mut self, peer: &str, doc_id: &str, state: &[u8]) -> Result<(), String> {
        self.states
            .insert((peer.to_string(), doc_id.to_string()), state.to_vec());
        Ok(())
    }
}

fn doc_id(n: u8) -> String {
    wire::document_id_from_bytes(&[n; 16])
}

fn doc_with(key: &str, value: &str) -> AutoCommit {
    let mut d = AutoCommit::new();
    d.put(automerge::ROOT, key, value).unwrap();
    d
}

/// Runs both sessions until neither has anything to send. Frames go through the codec.
fn pump(
    a: &mut Session,
    sa: &mut MemStore,
    b: &mut Session,
    sb: &mut MemStore,
    first: Vec<Message>,
) -> Vec<Event> {
    let mut to_b: Vec<Message> = first;
    let mut to_a: Vec<Message> = Vec::new();
    let mut events = Vec::new();
    for _ in 0..100 {
        if to_a.is_empty() && to_b.is_empty() {
            let pa = a.poll(sa).unwrap();
            let pb = b.poll(sb).unwrap();
            to_b.extend(pa.send);
            to_a.extend(pb.send);
            if to_a.is_empty() && to_b.is_empty() {
                return events;
            }
        }
        for f in std::mem::take(&mut to_b) {
            let step = b
                .handle(wire::decode(&wire::encode(&f)).unwrap(), sb)
                .unwrap();
            to_a.extend(step.send);
            events.extend(step.events);
        }
        for f in std::mem::take(&mut to_a) {
            let step = a
                .handle(wire::decode(&wire::encode(&f)).unwrap(), sa)
                .unwrap();
            to_b.extend(step.send);
            events.extend(step.events);
        }
    }
    panic!("sessions did not settle");
}

#[test]
fn documents_converge_both_ways_and_missing_ones_are_requested() {
    let mut terminal = MemStore::default();
    let mut server = MemStore {
        accept_new: true,
        ..MemStore::default()
    };
    terminal.docs.insert(doc_id(1), doc_with("sale", "A-0001"));
    server.docs.insert(doc_id(2), doc_with("catalog", "v1"));
    terminal.wanted.push(doc_id(2));

    let (mut t, join) = Session::dial("terminal-1");
    let mut s = Session::accept("server");
    let events = pump(&mut t, &mut terminal, &mut s, &mut server, vec![join]);
    assert!(events.contains(&Event::Connected {
        peer: "server".into()
    }));
    assert!(events.contains(&Event::Connected {
        peer: "terminal-1".into()
    }));
    assert_eq!(
        server.docs[&doc_id(1)]
            .get(automerge::ROOT, "sale")
            .unwrap()
            .unwrap()
            .0
            .to_string(),
        "\"A-0001\""
    );
    assert!(terminal.docs.contains_key(&doc_id(2)));
    assert!(t.waiting(&mut terminal).unwrap().is_empty());

    // A later local change is sent by poll and reported as waiting until the server has it.
    terminal
        .docs
        .get_mut(&doc_id(1))
        .unwrap()
        .put(automerge::ROOT, "sale2", "A-0002")
        .unwrap();
    assert_eq!(t.waiting(&mut terminal).unwrap(), vec![doc_id(1)]);
    pump(&mut t, &mut terminal, &mut s, &mut server, Vec::new());
    assert!(
        server.docs[&doc_id(1)]
            .get(automerge::ROOT, "sale2")
            .unwrap()
            .is_some()
    );
    assert!(t.waiting(&mut terminal).unwrap().is_empty());
}

#[test]
fn a_peer_that_does_not_accept_a_new_document_answers_unavailable() {
    let mut a = MemStore::default();
    let mut b = MemStore::default();
    a.wanted.push(doc_id(9));
    let (mut sa, join) = Session::dial("a");
    let mut sb = Session::accept("b");
    let events = pump(&mut sa, &mut a, &mut sb, &mut b, vec![join]);
    assert!(events.contains(&Event::Unavailable { doc_id: doc_id(9) }));
    assert!(!b.docs.contains_key(&doc_id(9)));
}

#[test]
fn a_new_session_resumes_without_resending_what_the_peer_has() {
    let mut terminal = MemStore::default();
    let mut server = MemStore {
        accept_new: true,
        ..MemStore::default()
    };
    let mut big = AutoCommit::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for i in 0..500 {
        // Incompressible values, so that the byte counts show what was sent.
        let value: String = (0..40)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(b'a' + (seed % 26) as u8)
            })
            .collect();
        big.put(automerge::ROOT, format!("sale-{i}"), value)
            .unwrap();
        big.commit();
    }
    terminal.docs.insert(doc_id(3), big);
    let (mut t, join) = Session::dial("t");
    let mut s = Session::accept("server");
    pump(&mut t, &mut terminal, &mut s, &mut server, vec![join]);
    let first = server.received_change_bytes;
    assert!(first > 10_000, "{first}");

    // The connection is cut; one more sale; a new session on both sides (states from storage).
    terminal
        .docs
        .get_mut(&doc_id(3))
        .unwrap()
        .put(automerge::ROOT, "sale-500", "y")
        .unwrap();
    let (mut t2, join) = Session::dial("t");
    let mut s2 = Session::accept("server");
    pump(&mut t2, &mut terminal, &mut s2, &mut server, vec![join]);
    let resent = server.received_change_bytes - first;
    assert!(resent < 1_000, "resent {resent} bytes after resuming");
    assert!(
        server.docs[&doc_id(3)]
            .get(automerge::ROOT, "sale-500")
            .unwrap()
            .is_some()
    );
}

#[test]
fn frames_before_the_handshake_or_from_strangers_end_the_session() {
    let mut store = MemStore::default();
    let mut s = Session::accept("server");
    let frame = Message::Sync {
        sender_id: "x".into(),
        target_id: "server".into(),
        document_id: doc_id(1),
        data: vec![],
    };
    assert!(s.handle(frame, &mut store).is_err());
    let join = Message::Join {
        sender_id: "t".into(),
        supported_protocol_versions: vec!["0".into()],
    };
    assert!(s.handle(join, &mut store).is_err());
    let mut s = Session::accept("server");
    s.handle(
        Message::Join {
            sender_id: "t".into(),
            supported_protocol_versions: vec!["1".into()],
        },
        &mut store,
    )
    .unwrap();
    let stranger = Message::Sync {
        sender_id: "other".into(),
        target_id: "server".into(),
        document_id: doc_id(1),
        data: vec![],
    };
    assert!(s.handle(stranger, &mut store).is_err());
    let garbage = Message::Sync {
        sender_id: "t".into(),
        target_id: "server".into(),
        document_id: doc_id(1),
        data: vec![9, 9, 9],
    };
    store.accept_new = true;
    assert!(s.handle(garbage, &mut store).is_err());
}

#[test]
fn a_resync_round_catches_up_what_the_peer_did_not_push() {
    let mut terminal = MemStore::default();
    let mut server = MemStore {
        accept_new: true,
        ..MemStore::default()
    };
    terminal.docs.insert(doc_id(1), doc_with("a", "1"));
    let (mut t, join) = Session::dial("t");
    let mut s = Session::accept("server");
    pump(&mut t, &mut terminal, &mut s, &mut server, vec![join]);
    // The server's copy changes behind the session's back (another instance, a restore) and
    // it never pushes: only a new round brings the change over.
    server
        .docs
        .get_mut(&doc_id(1))
        .unwrap()
        .put(automerge::ROOT, "b", "2")
        .unwrap();
    let quiet = t.poll(&mut terminal).unwrap();
    assert!(quiet.send.is_empty());
    t.resync();
    // Only the terminal acts: it offers its document again and takes the server's answers.
    let mut to_server = t.poll(&mut terminal).unwrap().send;
    assert!(
        !to_server.is_empty(),
        "a resync offers every document again"
    );
    for _ in 0..10 {
        let mut to_terminal = Vec::new();
        for f in to_server.drain(..) {
            to_terminal.extend(s.handle(f, &mut server).unwrap().send);
        }
        for f in to_terminal {
            to_server.extend(t.handle(f, &mut terminal).unwrap().send);
        }
    }
    assert!(
        terminal.docs[&doc_id(1)]
            .get(automerge::ROOT, "b")
            .unwrap()
            .is_some()
    );
}
