//! The one place the automerge-repo codec (`shared_model::wire`) is tested, for the terminal
//! and the server alike: worked examples, then properties: every message kind survives
//! encode → decode, and no bytes (random, or a valid frame mutated) make the decoder panic;
//! whatever decodes re-encodes to a frame that decodes to the same message.
//! (Failure cases proptest finds go to `wire.proptest-regressions`, committed.)

use proptest::prelude::*;
use shared_model::wire::{self, Message};

#[test]
fn wire_frames_round_trip_and_bad_frames_are_errors() {
    let doc = wire::document_id_from_bytes(&[7u8; 16]);
    let frames = [
        Message::Join {
            sender_id: "t1".into(),
            supported_protocol_versions: vec!["1".into()],
        },
        Message::Peer {
            sender_id: "srv".into(),
            target_id: "t1".into(),
            selected_protocol_version: "1".into(),
        },
        Message::Request {
            sender_id: "t1".into(),
            target_id: "srv".into(),
            document_id: doc.clone(),
            data: vec![1, 2],
        },
        Message::Sync {
            sender_id: "t1".into(),
            target_id: "srv".into(),
            document_id: doc.clone(),
            data: vec![3],
        },
        Message::DocUnavailable {
            sender_id: "srv".into(),
            target_id: "t1".into(),
            document_id: doc.clone(),
        },
        Message::Ephemeral {
            sender_id: "t1".into(),
            target_id: "srv".into(),
            document_id: doc.clone(),
            data: vec![],
        },
        Message::Error {
            message: "nope".into(),
        },
    ];
    for f in frames {
        assert_eq!(wire::decode(&wire::encode(&f)).unwrap(), f);
    }
    assert!(wire::decode(b"").is_err());
    assert!(wire::decode(&[0xa1, 0x01, 0x02]).is_err());
    let bad_doc = Message::Sync {
        sender_id: "a".into(),
        target_id: "b".into(),
        document_id: "not-a-doc".into(),
        data: vec![],
    };
    assert!(wire::decode(&wire::encode(&bad_doc)).is_err());
    assert!(wire::check_document_id(&doc).is_ok());
}

#[test]
fn frames_from_other_peers_decode_and_bad_ones_are_errors() {
    // A document id may come as 16 raw bytes; it is normalised to the string form.
    let raw = [9u8; 16];
    let mut e = minicbor::Encoder::new(Vec::new());
    e.map(5).unwrap();
    e.str("type").unwrap().str("remote-heads-changed").unwrap();
    e.str("senderId").unwrap().str("a").unwrap();
    e.str("targetId").unwrap().str("b").unwrap();
    e.str("documentId").unwrap().bytes(&raw).unwrap();
    e.str("newHeads").unwrap().map(0).unwrap();
    let m = wire::decode(&e.into_writer()).unwrap();
    assert_eq!(m.kind(), "remote-heads-changed");
    assert_eq!(
        m.document_id(),
        Some(wire::document_id_from_bytes(&raw).as_str())
    );
    // An unknown type is the caller's to judge; a missing one is an error.
    let other = wire::encode(&Message::Other {
        kind: "bogus".into(),
    });
    assert_eq!(
        wire::decode(&other).unwrap(),
        Message::Other {
            kind: "bogus".into()
        }
    );
    assert!(wire::decode(&[0xa0]).is_err());
    // a CBOR array, not a map
    assert!(wire::decode(&[0x82, 0x01, 0x02]).is_err());
    // map with a truncated string
    assert!(wire::decode(&[0xa1, 0x64, b't', b'y']).is_err());
    assert!(wire::decode(&[0xff, 0x00]).is_err());
    // Required fields: a sync frame needs a targetId, a join a senderId.
    let mut e = minicbor::Encoder::new(Vec::new());
    e.map(4).unwrap();
    e.str("type").unwrap().str("sync").unwrap();
    e.str("senderId").unwrap().str("a").unwrap();
    e.str("documentId")
        .unwrap()
        .str(&wire::new_document_id())
        .unwrap();
    e.str("data").unwrap().bytes(&[]).unwrap();
    assert!(wire::decode(&e.into_writer()).is_err());
    let mut e = minicbor::Encoder::new(Vec::new());
    e.map(1).unwrap().str("type").unwrap().str("join").unwrap();
    assert!(wire::decode(&e.into_writer()).is_err());
    // Peer ids are bounded.
    let long = Message::Leave {
        sender_id: "x".repeat(wire::MAX_PEER_ID_LEN + 1),
    };
    assert!(wire::decode(&wire::encode(&long)).is_err());
    assert_eq!(
        wire::id_of(&wire::url("2YzyxZyW8TC8NRoUCnQ46NikzZh6")),
        "2YzyxZyW8TC8NRoUCnQ46NikzZh6"
    );
}

fn peer_id() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-]{1,40}"
}

fn document_id() -> impl Strategy<Value = String> {
    any::<[u8; 16]>().prop_map(|b| wire::document_id_from_bytes(&b))
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..64)
}

/// Every kind of message the codec knows, with arbitrary (valid) fields.
fn message() -> impl Strategy<Value = Message> {
    let doc = || (peer_id(), peer_id(), document_id());
    prop_oneof![
        (peer_id(), proptest::collection::vec("[0-9]{1,3}", 0..4)).prop_map(|(s, v)| {
            Message::Join {
                sender_id: s,
                supported_protocol_versions: v,
            }
        }),
        (peer_id(), peer_id(), "[0-9]{1,3}").prop_map(|(s, t, v)| Message::Peer {
            sender_id: s,
            target_id: t,
            selected_protocol_version: v,
        }),
        peer_id().prop_map(|s| Message::Leave { sender_id: s }),
        (doc(), data(), 0..3u8).prop_map(|((sender_id, target_id, document_id), data, k)| {
            match k {
                0 => Message::Request {
                    sender_id,
                    target_id,
                    document_id,
                    data,
                },
                1 => Message::Sync {
                    sender_id,
                    target_id,
                    document_id,
                    data,
                },
                _ => Message::Ephemeral {
                    sender_id,
                    target_id,
                    document_id,
                    data,
                },
            }
        }),
        (doc(), any::<bool>()).prop_map(|((sender_id, target_id, document_id), heads)| {
            if heads {
                Message::RemoteHeadsChanged {
                    sender_id,
                    target_id,
                    document_id,
                }
            } else {
                Message::DocUnavailable {
                    sender_id,
                    target_id,
                    document_id,
                }
            }
        }),
        (peer_id(), peer_id()).prop_map(|(s, t)| Message::RemoteSubscriptionChange {
            sender_id: s,
            target_id: t,
        }),
        ".{0,40}".prop_map(|m| Message::Error { message: m }),
        "[a-z]{1,12}-x".prop_map(|k| Message::Other { kind: k }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_message_kind_round_trips(m in message()) {
        prop_assert_eq!(wire::decode(&wire::encode(&m)).unwrap(), m);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(m) = wire::decode(&bytes) {
            prop_assert_eq!(wire::decode(&wire::encode(&m)).unwrap(), m);
        }
    }

    #[test]
    fn mutated_frames_never_panic(
        m in message(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut f = wire::encode(&m);
        for (i, b) in flips {
            let i = i.index(f.len());
            f[i] ^= b;
        }
        if truncate {
            f.truncate(cut.index(f.len() + 1));
        }
        if let Ok(m) = wire::decode(&f) {
            // Whatever decodes satisfies the invariants peers rely on, and re-encodes faithfully.
            if matches!(m, Message::Sync { .. } | Message::Request { .. }) {
                prop_assert!(m.document_id().is_some());
            }
            if !matches!(m, Message::Error { .. } | Message::Other { .. }) {
                prop_assert!(m.sender_id().is_some());
            }
            if let Some(doc) = m.document_id() {
                prop_assert!(wire::check_document_id(doc).is_ok());
            }
            prop_assert_eq!(wire::decode(&wire::encode(&m)).unwrap(), m);
        }
    }
}
