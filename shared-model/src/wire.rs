//! The automerge-repo wire protocol (version "1"): CBOR maps exchanged over a WebSocket as
//! binary frames. Bytes in, values out and back: no IO, so terminals, tests and servers share
//! one codec and test it without sockets.

use minicbor::data::Type;
use minicbor::{Decoder, Encoder};

/// The protocol version spoken.
pub const PROTOCOL_VERSION: &str = "1";

/// Longest peer id accepted.
pub const MAX_PEER_ID_LEN: usize = 256;

/// One frame of the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Client → server (or dialer → acceptor): who I am and which versions I speak.
    Join {
        sender_id: String,
        supported_protocol_versions: Vec<String>,
    },
    /// Server → client: the handshake's answer.
    Peer {
        sender_id: String,
        target_id: String,
        selected_protocol_version: String,
    },
    /// A first sync message for a document the sender does not have yet.
    Request {
        sender_id: String,
        target_id: String,
        document_id: String,
        data: Vec<u8>,
    },
    /// An automerge sync message for a document.
    Sync {
        sender_id: String,
        target_id: String,
        document_id: String,
        data: Vec<u8>,
    },
    /// The sender has no such document (or may not share it).
    DocUnavailable {
        sender_id: String,
        target_id: String,
        document_id: String,
    },
    /// Application messages that are not stored (presence and the like).
    Ephemeral {
        sender_id: String,
        target_id: String,
        document_id: String,
        data: Vec<u8>,
    },
    /// The sender is closing the connection because of `message`.
    Error { message: String },
    /// A frame type this codec does not interpret (`remote-heads-changed`, `leave`, …).
    Other { kind: String },
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed frame: {0}")]
pub struct WireError(pub String);

fn bad(msg: impl Into<String>) -> WireError {
    WireError(msg.into())
}

fn cbor(e: minicbor::decode::Error) -> WireError {
    bad(format!("CBOR: {e}"))
}

/// Checks a document id in string form: bs58check of 16 bytes.
pub fn check_document_id(id: &str) -> Result<(), WireError> {
    match bs58::decode(id).with_check(None).into_vec() {
        Ok(b) if b.len() == 16 => Ok(()),
        _ => Err(bad(format!("invalid document id {id:?}"))),
    }
}

/// The document id for 16 raw bytes (what `automerge:` URLs carry).
pub fn document_id_from_bytes(bytes: &[u8; 16]) -> String {
    bs58::encode(bytes).with_check().into_string()
}

#[derive(Default)]
struct Fields {
    kind: Option<String>,
    sender_id: Option<String>,
    target_id: Option<String>,
    document_id: Option<String>,
    data: Option<Vec<u8>>,
    versions: Vec<String>,
    selected: Option<String>,
    message: Option<String>,
}

impl Fields {
    fn req(v: Option<String>, name: &str) -> Result<String, WireError> {
        v.ok_or_else(|| bad(format!("missing {name}")))
    }
}

/// Decodes one frame. Unknown fields are skipped; malformed CBOR, missing fields, bad ids and
/// oversized peer ids are errors.
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    let mut d = Decoder::new(bytes);
    let len = d
        .map()
        .map_err(cbor)?
        .ok_or_else(|| bad("indefinite-length map"))?;
    if len > 64 {
        return Err(bad("too many fields"));
    }
    let mut f = Fields::default();
    for _ in 0..len {
        if d.datatype().map_err(cbor)? != Type::String {
            return Err(bad("map keys must be strings"));
        }
        match d.str().map_err(cbor)? {
            "type" => f.kind = Some(d.str().map_err(cbor)?.to_string()),
            "senderId" => f.sender_id = Some(d.str().map_err(cbor)?.to_string()),
            "targetId" => f.target_id = Some(d.str().map_err(cbor)?.to_string()),
            "message" => f.message = Some(d.str().map_err(cbor)?.to_string()),
            "selectedProtocolVersion" => f.selected = Some(d.str().map_err(cbor)?.to_string()),
            "documentId" => {
                let id = match d.datatype().map_err(cbor)? {
                    Type::String => d.str().map_err(cbor)?.to_string(),
                    Type::Bytes => {
                        let b: [u8; 16] = d
                            .bytes()
                            .map_err(cbor)?
                            .try_into()
                            .map_err(|_| bad("document id must be 16 bytes"))?;
                        document_id_from_bytes(&b)
                    }
                    _ => return Err(bad("documentId must be a string")),
                };
                check_document_id(&id)?;
                f.document_id = Some(id);
            }
            "data" => f.data = Some(d.bytes().map_err(cbor)?.to_vec()),
            "supportedProtocolVersions" => {
                let n = d
                    .array()
                    .map_err(cbor)?
                    .ok_or_else(|| bad("indefinite-length array"))?;
                if n > 16 {
                    return Err(bad("too many protocol versions"));
                }
                for _ in 0..n {
                    f.versions.push(d.str().map_err(cbor)?.to_string());
                }
            }
            _ => d.skip().map_err(cbor)?,
        }
    }
    for id in [&f.sender_id, &f.target_id].into_iter().flatten() {
        if id.is_empty() || id.len() > MAX_PEER_ID_LEN {
            return Err(bad("invalid peer id"));
        }
    }
    let kind = Fields::req(f.kind.take(), "type")?;
    Ok(match kind.as_str() {
        "join" => Message::Join {
            sender_id: Fields::req(f.sender_id, "senderId")?,
            supported_protocol_versions: f.versions,
        },
        "peer" => Message::Peer {
            sender_id: Fields::req(f.sender_id, "senderId")?,
            target_id: Fields::req(f.target_id, "targetId")?,
            selected_protocol_version: f.selected.unwrap_or_else(|| PROTOCOL_VERSION.to_string()),
        },
        "request" | "sync" | "ephemeral" => {
            let sender_id = Fields::req(f.sender_id, "senderId")?;
            let target_id = Fields::req(f.target_id, "targetId")?;
            let document_id = Fields::req(f.document_id, "documentId")?;
            let data = f.data.ok_or_else(|| bad("missing data"))?;
            match kind.as_str() {
                "request" => Message::Request {
                    sender_id,
                    target_id,
                    document_id,
                    data,
                },
                "sync" => Message::Sync {
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
        }
        "doc-unavailable" => Message::DocUnavailable {
            sender_id: Fields::req(f.sender_id, "senderId")?,
            target_id: Fields::req(f.target_id, "targetId")?,
            document_id: Fields::req(f.document_id, "documentId")?,
        },
        "error" => Message::Error {
            message: f.message.unwrap_or_default(),
        },
        _ => Message::Other { kind },
    })
}

/// Encodes a frame.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    // Writing into a Vec cannot fail; the results are ignored for that reason.
    let _ = write(&mut e, message);
    e.into_writer()
}

fn write(
    e: &mut Encoder<Vec<u8>>,
    m: &Message,
) -> Result<(), minicbor::encode::Error<std::convert::Infallible>> {
    match m {
        Message::Join {
            sender_id,
            supported_protocol_versions,
        } => {
            e.map(3)?
                .str("type")?
                .str("join")?
                .str("senderId")?
                .str(sender_id)?;
            e.str("supportedProtocolVersions")?
                .array(supported_protocol_versions.len() as u64)?;
            for v in supported_protocol_versions {
                e.str(v)?;
            }
        }
        Message::Peer {
            sender_id,
            target_id,
            selected_protocol_version,
        } => {
            e.map(4)?
                .str("type")?
                .str("peer")?
                .str("senderId")?
                .str(sender_id)?;
            e.str("targetId")?
                .str(target_id)?
                .str("selectedProtocolVersion")?
                .str(selected_protocol_version)?;
        }
        Message::Request {
            sender_id,
            target_id,
            document_id,
            data,
        }
        | Message::Sync {
            sender_id,
            target_id,
            document_id,
            data,
        }
        | Message::Ephemeral {
            sender_id,
            target_id,
            document_id,
            data,
        } => {
            let kind = match m {
                Message::Request { .. } => "request",
                Message::Sync { .. } => "sync",
                _ => "ephemeral",
            };
            e.map(5)?
                .str("type")?
                .str(kind)?
                .str("senderId")?
                .str(sender_id)?
                .str("targetId")?
                .str(target_id)?;
            e.str("documentId")?
                .str(document_id)?
                .str("data")?
                .bytes(data)?;
        }
        Message::DocUnavailable {
            sender_id,
            target_id,
            document_id,
        } => {
            e.map(4)?
                .str("type")?
                .str("doc-unavailable")?
                .str("senderId")?
                .str(sender_id)?;
            e.str("targetId")?
                .str(target_id)?
                .str("documentId")?
                .str(document_id)?;
        }
        Message::Error { message } => {
            e.map(2)?
                .str("type")?
                .str("error")?
                .str("message")?
                .str(message)?;
        }
        Message::Other { kind } => {
            e.map(1)?.str("type")?.str(kind)?;
        }
    }
    Ok(())
}
