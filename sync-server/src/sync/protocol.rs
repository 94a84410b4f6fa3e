//! What the sync endpoint checks beyond shared-model's codec ([`shared_model::wire`], the one
//! decoder and encoder of the automerge-repo protocol): only known frame types pass, and the
//! automerge bytes a `request` or `sync` carries must load. No IO: bytes in, verdicts out, so
//! it is tested (and fuzzed, `sync-server/fuzz/`) without sockets.

use shared_model::wire::{self, Message};

/// Why a frame was rejected. The message is sent to the peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FrameError(pub String);

/// Decodes a frame a peer sent with the shared codec, and refuses types the codec does not
/// know (they would reach samod unchecked).
pub fn decode(bytes: &[u8]) -> Result<Message, FrameError> {
    match wire::decode(bytes) {
        Ok(Message::Other { kind }) => Err(FrameError(format!("unknown message type {kind:?}"))),
        Ok(m) => Ok(m),
        Err(e) => Err(FrameError(e.to_string())),
    }
}

/// The automerge payload the server validates before samod sees it: the data of `request` and
/// `sync` frames (ephemeral data is not automerge and is not stored).
pub fn sync_data(frame: &Message) -> Option<&[u8]> {
    match frame {
        Message::Request { data, .. } | Message::Sync { data, .. } => Some(data),
        _ => None,
    }
}

/// Checks that `data` of a `request`/`sync` frame is a well-formed automerge
/// sync message whose change chunks load. CPU-bound: the caller runs large
/// payloads off the async threads, and catches panics inside automerge.
pub fn validate_sync_data(data: &[u8]) -> Result<(), FrameError> {
    let msg = automerge::sync::Message::decode(data)
        .map_err(|e| FrameError(format!("invalid sync message: {e}")))?;
    for chunk in msg.changes.iter() {
        let mut scratch = automerge::Automerge::new();
        scratch
            .load_incremental(chunk)
            .map_err(|e| FrameError(format!("invalid automerge data: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync(kind: &str) -> Vec<u8> {
        let mut f = wire::encode(&Message::Sync {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: wire::new_document_id(),
            data: vec![1, 2],
        });
        let pos = f.windows(4).position(|w| w == b"sync").unwrap();
        f[pos..pos + 4].copy_from_slice(kind.as_bytes());
        f
    }

    #[test]
    fn refuses_unknown_types_and_malformed_frames() {
        let frame = decode(&sync("sync")).unwrap();
        assert_eq!(sync_data(&frame), Some(&[1u8, 2][..]));
        let err = decode(&sync("xync")).unwrap_err();
        assert!(err.0.contains("unknown message type"), "{err}");
        assert!(decode(&[]).is_err());
        assert!(decode(&[0x82, 0x01, 0x02]).is_err());
    }

    #[test]
    fn validates_automerge_payloads() {
        use automerge::sync::SyncDoc;
        use automerge::transaction::Transactable;
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "k", 1).unwrap();
        let mut state = automerge::sync::State::new();
        let msg = doc.sync().generate_sync_message(&mut state).unwrap();
        let good = msg.encode();
        assert!(validate_sync_data(&good).is_ok());
        assert!(validate_sync_data(b"garbage").is_err());
        // Cut or damaged anywhere, a payload is an answer, never a panic (fuzzed further by
        // `sync-server/fuzz`).
        for i in 0..good.len() {
            let _ = validate_sync_data(&good[..i]);
            let mut flipped = good.clone();
            flipped[i] ^= 0x5a;
            let _ = validate_sync_data(&flipped);
        }
    }
}
