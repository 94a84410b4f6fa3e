//! Property tests: random and mutated frames never panic the decoder or the
//! automerge validator; every mutation either decodes to a well-formed frame
//! or is rejected with an error.

use proptest::prelude::*;
use sync_server::sync::protocol;

fn valid_frames() -> Vec<Vec<u8>> {
    let doc = "2YzyxZyW8TC8NRoUCnQ46NikzZh6";
    vec![
        protocol::encode_join("peer-a", &["1"]),
        protocol::encode_doc_message("sync", "a", "b", doc, &[0x42, 0x01, 0x02]),
        protocol::encode_doc_message("request", "a", "b", doc, &[]),
        protocol::encode_doc_unavailable("a", "b", doc),
        protocol::encode_error("bye"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = protocol::decode(&bytes);
        let _ = protocol::validate_sync_data(&bytes);
    }

    #[test]
    fn mutated_frames_never_panic(
        which in 0usize..5,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut f = valid_frames()[which].clone();
        for (i, b) in flips {
            let i = i.index(f.len());
            f[i] ^= b;
        }
        if truncate {
            f.truncate(cut.index(f.len() + 1));
        }
        if let Ok(frame) = protocol::decode(&f) {
            // Whatever decodes satisfies the invariants the server relies on.
            if matches!(frame.kind, protocol::Kind::Sync | protocol::Kind::Request) {
                prop_assert!(frame.document_id.is_some());
                prop_assert!(frame.data.is_some());
            }
            if frame.kind != protocol::Kind::Error {
                prop_assert!(frame.sender_id.is_some());
            }
            if let Some(d) = &frame.data {
                let _ = protocol::validate_sync_data(d);
            }
        }
    }
}
