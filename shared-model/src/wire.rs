//! The automerge-repo wire protocol (version "1"): CBOR maps exchanged over a WebSocket as
//! binary frames. Bytes in, values out and back: no IO, so terminals, tests and the server
//! share this one codec, with the same size limits and required fields, and test it without
//! sockets. (The server adds only what is its own: see `sync-server/src/sync/protocol.rs`.)

use minicbor::data::Type;
use minicbor::{Decoder, Encoder};

/// The protocol version spoken.
pub const PROTOCOL_VERSION: &str = "1";

/// Longest peer id accepted.
pub const MAX_PEER_ID_LEN: usize = 256;

/// Most fields a frame may have.
pub const MAX_FIELDS: u64 = 64;

/// Most entries of `supportedProtocolVersions`.
pub const MAX_PROTOCOL_VERSIONS: u64 = 16;

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
    /// The sender is going away.
    Leave { sender_id: String },
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
    /// Which storage ids' heads the sender wants to hear about (the lists are not kept).
    RemoteSubscriptionChange {
        sender_id: String,
        target_id: String,
    },
    /// Heads of a document at another storage (the heads are not kept).
    RemoteHeadsChanged {
        sender_id: String,
        target_id: String,
        document_id: String,
    },
    /// The sender is closing the connection because of `message`.
    Error { message: String },
    /// A frame type this codec does not know.
    Other { kind: String },
}

impl Message {
    /// A `join` offering [`PROTOCOL_VERSION`].
    pub fn join(sender_id: impl Into<String>) -> Message {
        Message::Join {
            sender_id: sender_id.into(),
            supported_protocol_versions: vec![PROTOCOL_VERSION.to_string()],
        }
    }

    /// The frame's `type` as written on the wire.
    pub fn kind(&self) -> &str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Leave { .. } => "leave",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
            Message::Error { .. } => "error",
            Message::Other { kind } => kind,
        }
    }

    /// Who sent the frame (`error` and unknown frames carry none).
    pub fn sender_id(&self) -> Option<&str> {
        match self {
            Message::Join { sender_id, .. }
            | Message::Peer { sender_id, .. }
            | Message::Leave { sender_id }
            | Message::Request { sender_id, .. }
            | Message::Sync { sender_id, .. }
            | Message::DocUnavailable { sender_id, .. }
            | Message::Ephemeral { sender_id, .. }
            | Message::RemoteSubscriptionChange { sender_id, .. }
            | Message::RemoteHeadsChanged { sender_id, .. } => Some(sender_id),
            Message::Error { .. } | Message::Other { .. } => None,
        }
    }

    /// The document the frame is about, if any.
    pub fn document_id(&self) -> Option<&str> {
        match self {
            Message::Request { document_id, .. }
            | Message::Sync { document_id, .. }
            | Message::DocUnavailable { document_id, .. }
            | Message::Ephemeral { document_id, .. }
            | Message::RemoteHeadsChanged { document_id, .. } => Some(document_id),
            _ => None,
        }
    }
}

/// Why a frame could not be decoded. The message is what a peer is told.
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

/// A new automerge-repo document id: bs58check of 16 random bytes.
pub fn new_document_id() -> String {
    document_id_from_bytes(&rand::random())
}

/// `automerge:<id>`.
pub fn url(document_id: &str) -> String {
    format!("automerge:{document_id}")
}

/// The id of an `automerge:` URL (or the id itself).
pub fn id_of(url: &str) -> &str {
    url.strip_prefix("automerge:").unwrap_or(url)
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

fn req<T>(v: Option<T>, name: &str) -> Result<T, WireError> {
    v.ok_or_else(|| bad(format!("missing {name}")))
}

impl Fields {
    fn read(bytes: &[u8]) -> Result<Fields, WireError> {
        let mut d = Decoder::new(bytes);
        let len = d
            .map()
            .map_err(cbor)?
            .ok_or_else(|| bad("indefinite-length map"))?;
        if len > MAX_FIELDS {
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
                "documentId" => f.document_id = Some(read_document_id(&mut d)?),
                "data" => f.data = Some(d.bytes().map_err(cbor)?.to_vec()),
                "supportedProtocolVersions" => {
                    let n = d
                        .array()
                        .map_err(cbor)?
                        .ok_or_else(|| bad("indefinite-length array"))?;
                    if n > MAX_PROTOCOL_VERSIONS {
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
        Ok(f)
    }

    fn sender(&mut self) -> Result<String, WireError> {
        req(self.sender_id.take(), "senderId")
    }

    fn target(&mut self) -> Result<String, WireError> {
        req(self.target_id.take(), "targetId")
    }

    fn document(&mut self) -> Result<String, WireError> {
        req(self.document_id.take(), "documentId")
    }

    fn data(&mut self) -> Result<Vec<u8>, WireError> {
        req(self.data.take(), "data")
    }
}

/// A `documentId`, as a string or as 16 raw bytes; normalised to the string form.
fn read_document_id(d: &mut Decoder<'_>) -> Result<String, WireError> {
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
    Ok(id)
}

/// Decodes one frame. Unknown fields are skipped and unknown types come back as
/// [`Message::Other`]; malformed CBOR, indefinite lengths, too many fields or versions, missing
/// required fields, bad document ids and empty or oversized peer ids are errors.
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    let mut f = Fields::read(bytes)?;
    let kind = req(f.kind.take(), "type")?;
    Ok(match kind.as_str() {
        "join" => Message::Join {
            sender_id: f.sender()?,
            supported_protocol_versions: std::mem::take(&mut f.versions),
        },
        "peer" => Message::Peer {
            sender_id: f.sender()?,
            target_id: f.target()?,
            selected_protocol_version: f.selected.unwrap_or_else(|| PROTOCOL_VERSION.to_string()),
        },
        "leave" => Message::Leave {
            sender_id: f.sender()?,
        },
        "request" => Message::Request {
            sender_id: f.sender()?,
            target_id: f.target()?,
            document_id: f.document()?,
            data: f.data()?,
        },
        "sync" => Message::Sync {
            sender_id: f.sender()?,
            target_id: f.target()?,
            document_id: f.document()?,
            data: f.data()?,
        },
        "ephemeral" => Message::Ephemeral {
            sender_id: f.sender()?,
            target_id: f.target()?,
            document_id: f.document()?,
            data: f.data()?,
        },
        "doc-unavailable" => Message::DocUnavailable {
            sender_id: f.sender()?,
            target_id: f.target()?,
            document_id: f.document()?,
        },
        "remote-subscription-change" => Message::RemoteSubscriptionChange {
            sender_id: f.sender()?,
            target_id: f.target()?,
        },
        "remote-heads-changed" => Message::RemoteHeadsChanged {
            sender_id: f.sender()?,
            target_id: f.target()?,
            document_id: f.document()?,
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
    // Writing into a Vec cannot fail; the result is ignored for that reason.
    let _ = write(&mut e, message);
    e.into_writer()
}

type Written = Result<(), minicbor::encode::Error<std::convert::Infallible>>;

fn write(e: &mut Encoder<Vec<u8>>, m: &Message) -> Written {
    let mut fields: Vec<(&str, &str)> = Vec::with_capacity(4);
    if let Some(sender) = m.sender_id() {
        fields.push(("senderId", sender));
    }
    match m {
        Message::Peer { target_id, .. }
        | Message::Request { target_id, .. }
        | Message::Sync { target_id, .. }
        | Message::DocUnavailable { target_id, .. }
        | Message::Ephemeral { target_id, .. }
        | Message::RemoteSubscriptionChange { target_id, .. }
        | Message::RemoteHeadsChanged { target_id, .. } => fields.push(("targetId", target_id)),
        _ => {}
    }
    if let Some(doc) = m.document_id() {
        fields.push(("documentId", doc));
    }
    match m {
        Message::Peer {
            selected_protocol_version,
            ..
        } => fields.push(("selectedProtocolVersion", selected_protocol_version)),
        Message::Error { message } => fields.push(("message", message)),
        _ => {}
    }
    let (data, versions) = match m {
        Message::Request { data, .. }
        | Message::Sync { data, .. }
        | Message::Ephemeral { data, .. } => (Some(data), None),
        Message::Join {
            supported_protocol_versions,
            ..
        } => (None, Some(supported_protocol_versions)),
        _ => (None, None),
    };
    let len = 1 + fields.len() + usize::from(data.is_some()) + usize::from(versions.is_some());
    e.map(len as u64)?.str("type")?.str(m.kind())?;
    for (key, value) in fields {
        e.str(key)?.str(value)?;
    }
    if let Some(data) = data {
        e.str("data")?.bytes(data)?;
    }
    if let Some(versions) = versions {
        e.str("supportedProtocolVersions")?
            .array(versions.len() as u64)?;
        for v in versions {
            e.str(v)?;
        }
    }
    Ok(())
}
