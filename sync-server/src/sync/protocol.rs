//! Decoding and encoding of automerge-repo wire frames (CBOR maps), and
//! validation of the automerge bytes they carry. No IO: bytes in, values
//! or bytes out, so it is tested (and fuzzed) without sockets.

use minicbor::data::Type;
use minicbor::{Decoder, Encoder};

/// The protocol version this server speaks.
pub const PROTOCOL_VERSION: &str = "1";

/// Longest peer id accepted.
pub const MAX_PEER_ID_LEN: usize = 256;

/// Message types of the automerge-repo protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Join,
    Peer,
    Leave,
    Request,
    Sync,
    DocUnavailable,
    Ephemeral,
    Error,
    RemoteSubscriptionChange,
    RemoteHeadsChanged,
}

impl Kind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "join" => Kind::Join,
            "peer" => Kind::Peer,
            "leave" => Kind::Leave,
            "request" => Kind::Request,
            "sync" => Kind::Sync,
            "doc-unavailable" => Kind::DocUnavailable,
            "ephemeral" => Kind::Ephemeral,
            "error" => Kind::Error,
            "remote-subscription-change" => Kind::RemoteSubscriptionChange,
            "remote-heads-changed" => Kind::RemoteHeadsChanged,
            _ => return None,
        })
    }
}

/// The fields of a frame the server inspects; everything else passes through untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: Kind,
    pub sender_id: Option<String>,
    pub target_id: Option<String>,
    /// Normalised to the bs58check string form.
    pub document_id: Option<String>,
    pub data: Option<Vec<u8>>,
    pub supported_protocol_versions: Vec<String>,
    pub message: Option<String>,
}

/// Why a frame was rejected. The message is sent to the peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FrameError(pub String);

fn err(msg: impl Into<String>) -> FrameError {
    FrameError(msg.into())
}

fn cbor_err(e: minicbor::decode::Error) -> FrameError {
    err(format!("malformed CBOR: {e}"))
}

/// Parses a document id in string form (bs58check of 16 bytes).
pub fn parse_document_id(s: &str) -> Result<String, FrameError> {
    let bytes = bs58::decode(s)
        .with_check(None)
        .into_vec()
        .map_err(|_| err("invalid document id"))?;
    if bytes.len() != 16 {
        return Err(err("invalid document id"));
    }
    Ok(s.to_string())
}

fn document_id_from_bytes(b: &[u8]) -> Result<String, FrameError> {
    if b.len() != 16 {
        return Err(err("invalid document id"));
    }
    Ok(bs58::encode(b).with_check().into_string())
}

/// Decodes one frame. Unknown types, wrong field types, missing required
/// fields, indefinite-length maps and malformed CBOR are errors.
pub fn decode(bytes: &[u8]) -> Result<Frame, FrameError> {
    let mut d = Decoder::new(bytes);
    let len = d
        .map()
        .map_err(cbor_err)?
        .ok_or_else(|| err("indefinite-length maps are not supported"))?;
    if len > 64 {
        return Err(err("too many fields"));
    }
    let mut kind = None;
    let mut frame = Frame {
        kind: Kind::Error,
        sender_id: None,
        target_id: None,
        document_id: None,
        data: None,
        supported_protocol_versions: Vec::new(),
        message: None,
    };
    for _ in 0..len {
        if d.datatype().map_err(cbor_err)? != Type::String {
            return Err(err("map keys must be strings"));
        }
        let key = d.str().map_err(cbor_err)?;
        match key {
            "type" => {
                let t = d.str().map_err(cbor_err)?;
                kind =
                    Some(Kind::parse(t).ok_or_else(|| err(format!("unknown message type {t:?}")))?);
            }
            "senderId" => frame.sender_id = Some(d.str().map_err(cbor_err)?.to_string()),
            "targetId" => frame.target_id = Some(d.str().map_err(cbor_err)?.to_string()),
            "message" => frame.message = Some(d.str().map_err(cbor_err)?.to_string()),
            "documentId" => {
                frame.document_id = Some(match d.datatype().map_err(cbor_err)? {
                    Type::String => parse_document_id(d.str().map_err(cbor_err)?)?,
                    Type::Bytes => document_id_from_bytes(d.bytes().map_err(cbor_err)?)?,
                    _ => return Err(err("documentId must be a string")),
                })
            }
            "data" => frame.data = Some(d.bytes().map_err(cbor_err)?.to_vec()),
            "supportedProtocolVersions" => {
                let n = d
                    .array()
                    .map_err(cbor_err)?
                    .ok_or_else(|| err("indefinite-length arrays are not supported"))?;
                if n > 16 {
                    return Err(err("too many protocol versions"));
                }
                for _ in 0..n {
                    frame
                        .supported_protocol_versions
                        .push(d.str().map_err(cbor_err)?.to_string());
                }
            }
            _ => d.skip().map_err(cbor_err)?,
        }
    }
    frame.kind = kind.ok_or_else(|| err("missing message type"))?;
    for id in [&frame.sender_id, &frame.target_id].into_iter().flatten() {
        if id.is_empty() || id.len() > MAX_PEER_ID_LEN {
            return Err(err("invalid peer id"));
        }
    }
    let needs_doc = matches!(
        frame.kind,
        Kind::Request
            | Kind::Sync
            | Kind::DocUnavailable
            | Kind::Ephemeral
            | Kind::RemoteHeadsChanged
    );
    if needs_doc && frame.document_id.is_none() {
        return Err(err("missing documentId"));
    }
    if matches!(frame.kind, Kind::Request | Kind::Sync | Kind::Ephemeral) && frame.data.is_none() {
        return Err(err("missing data"));
    }
    if frame.kind != Kind::Error && frame.sender_id.is_none() {
        return Err(err("missing senderId"));
    }
    Ok(frame)
}

/// Checks that `data` of a `request`/`sync` frame is a well-formed automerge
/// sync message whose change chunks load. CPU-bound: the caller runs large
/// payloads off the async threads, and catches panics inside automerge.
pub fn validate_sync_data(data: &[u8]) -> Result<(), FrameError> {
    let msg = automerge::sync::Message::decode(data)
        .map_err(|e| err(format!("invalid sync message: {e}")))?;
    for chunk in msg.changes.iter() {
        let mut scratch = automerge::Automerge::new();
        scratch
            .load_incremental(chunk)
            .map_err(|e| err(format!("invalid automerge data: {e}")))?;
    }
    Ok(())
}

fn finish(e: Encoder<Vec<u8>>) -> Vec<u8> {
    e.into_writer()
}

macro_rules! enc {
    ($e:expr) => {
        // Writing to a Vec cannot fail.
        $e.expect("encoding to a Vec is infallible")
    };
}

/// Encodes a `doc-unavailable` frame.
pub fn encode_doc_unavailable(sender: &str, target: &str, document_id: &str) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    enc!(e.map(4));
    enc!(e.str("type").and_then(|e| e.str("doc-unavailable")));
    enc!(e.str("senderId").and_then(|e| e.str(sender)));
    enc!(e.str("targetId").and_then(|e| e.str(target)));
    enc!(e.str("documentId").and_then(|e| e.str(document_id)));
    finish(e)
}

/// Encodes an `error` frame.
pub fn encode_error(message: &str) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    enc!(e.map(2));
    enc!(e.str("type").and_then(|e| e.str("error")));
    enc!(e.str("message").and_then(|e| e.str(message)));
    finish(e)
}

/// Encodes a `join` frame (clients and tests).
pub fn encode_join(sender: &str, versions: &[&str]) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    enc!(e.map(3));
    enc!(e.str("type").and_then(|e| e.str("join")));
    enc!(e.str("senderId").and_then(|e| e.str(sender)));
    enc!(
        e.str("supportedProtocolVersions")
            .and_then(|e| e.array(versions.len() as u64))
    );
    for v in versions {
        enc!(e.str(v));
    }
    finish(e)
}

/// Encodes a `request` or `sync` frame (clients and tests).
pub fn encode_doc_message(
    kind: &str,
    sender: &str,
    target: &str,
    document_id: &str,
    data: &[u8],
) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    enc!(e.map(5));
    enc!(e.str("type").and_then(|e| e.str(kind)));
    enc!(e.str("documentId").and_then(|e| e.str(document_id)));
    enc!(e.str("senderId").and_then(|e| e.str(sender)));
    enc!(e.str("targetId").and_then(|e| e.str(target)));
    enc!(e.str("data").and_then(|e| e.bytes(data)));
    finish(e)
}

/// A fresh random document id in string form.
pub fn new_document_id() -> String {
    bs58::encode(rand::random::<[u8; 16]>())
        .with_check()
        .into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let doc = new_document_id();
        let f = decode(&encode_doc_message("sync", "a", "b", &doc, &[1, 2])).unwrap();
        assert_eq!(f.kind, Kind::Sync);
        assert_eq!(f.document_id.as_deref(), Some(doc.as_str()));
        assert_eq!(f.data.as_deref(), Some(&[1u8, 2][..]));
        let j = decode(&encode_join("peer-1", &["1"])).unwrap();
        assert_eq!(j.kind, Kind::Join);
        assert_eq!(j.supported_protocol_versions, ["1"]);
        let e = decode(&encode_error("boom")).unwrap();
        assert_eq!(e.message.as_deref(), Some("boom"));
        let u = decode(&encode_doc_unavailable("s", "t", &doc)).unwrap();
        assert_eq!(u.kind, Kind::DocUnavailable);
    }

    #[test]
    fn rejects_bad_frames() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[0xff, 0x00]).is_err());
        assert!(decode(&encode_doc_message("sync", "a", "b", "not-a-doc-id", &[])).is_err());
        assert!(
            decode(&encode_doc_message(
                "bogus",
                "a",
                "b",
                &new_document_id(),
                &[]
            ))
            .is_err()
        );
        // a CBOR array, not a map
        assert!(decode(&[0x82, 0x01, 0x02]).is_err());
        // map with a truncated string
        assert!(decode(&[0xa1, 0x64, b't', b'y']).is_err());
    }

    #[test]
    fn validates_automerge_payloads() {
        use automerge::sync::SyncDoc;
        use automerge::transaction::Transactable;
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "k", 1).unwrap();
        let mut state = automerge::sync::State::new();
        let msg = doc.sync().generate_sync_message(&mut state).unwrap();
        assert!(validate_sync_data(&msg.encode()).is_ok());
        assert!(validate_sync_data(b"garbage").is_err());
    }
}
