//! What the LAN attacks (`tests/tests/attacks/lan.rs`) are made of: a tap that sits between two
//! real tills on the shop network (records every byte, injects bytes, flips one), an
//! eavesdropper that turns a capture into whatever documents it can read, and a forger that
//! makes the automerge-repo frame an attacker would inject (a new price for a product).
//!
//! Written here rather than taken from a crate: the tap must splice bytes into a live TCP
//! stream at a chunk boundary, which no maintained proxy crate offers, and the decoding is a few
//! lines over the crates the tills use themselves (shared-model's wire codec, automerge).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::processes::{ServerProcess, TerminalProcess, TestDatabase, create_tenant_args};

/// The bytes of one connection through the tap, as each side sent them.
#[derive(Debug, Default, Clone)]
pub struct Capture {
    /// What the dialing till sent.
    pub client: Vec<u8>,
    /// What the accepting till answered.
    pub server: Vec<u8>,
}

#[derive(Debug)]
struct Conn {
    capture: Mutex<Capture>,
    inject: mpsc::UnboundedSender<Vec<u8>>,
}

#[derive(Debug)]
struct TapShared {
    upstream: SocketAddr,
    conns: Mutex<Vec<Arc<Conn>>>,
    flip_next: AtomicBool,
}

/// A man in the middle between a dialing till and the till it dials: forwards both ways,
/// records everything, and on request writes extra bytes into the dialer's stream or flips a
/// byte of it.
#[derive(Debug)]
pub struct Tap {
    pub addr: SocketAddr,
    shared: Arc<TapShared>,
    task: tokio::task::JoinHandle<()>,
}

impl Tap {
    pub fn start(rt: &tokio::runtime::Runtime, upstream: SocketAddr) -> Tap {
        let listener = rt
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind the tap");
        let addr = listener.local_addr().expect("tap address");
        let shared = Arc::new(TapShared {
            upstream,
            conns: Mutex::new(Vec::new()),
            flip_next: AtomicBool::new(false),
        });
        let s = shared.clone();
        let task = rt.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(s.upstream).await else {
                        return;
                    };
                    let (tx, rx) = mpsc::unbounded_channel();
                    let conn = Arc::new(Conn {
                        capture: Mutex::new(Capture::default()),
                        inject: tx,
                    });
                    s.conns.lock().expect("tap").push(conn.clone());
                    relay(s, conn, client, server, rx).await;
                });
            }
        });
        Tap { addr, shared, task }
    }

    /// Every connection so far, in order.
    pub fn captures(&self) -> Vec<Capture> {
        self.shared
            .conns
            .lock()
            .expect("tap")
            .iter()
            .map(|c| c.capture.lock().expect("capture").clone())
            .collect()
    }

    /// Writes `bytes` into the newest connection's dialer-to-acceptor stream, between two
    /// chunks of the real dialer's.
    pub fn inject_from_client(&self, bytes: Vec<u8>) {
        let conns = self.shared.conns.lock().expect("tap");
        let conn = conns.last().expect("a connection through the tap");
        conn.inject.send(bytes).expect("the connection is open");
    }

    /// Flips the last byte of the next chunk the dialer sends.
    pub fn flip_next_client_byte(&self) {
        self.shared.flip_next.store(true, Ordering::SeqCst);
    }

    pub fn flip_pending(&self) -> bool {
        self.shared.flip_next.load(Ordering::SeqCst)
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(
    shared: Arc<TapShared>,
    conn: Arc<Conn>,
    client: TcpStream,
    server: TcpStream,
    mut inject: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let c = conn.clone();
    let up = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            tokio::select! {
                n = cr.read(&mut buf) => {
                    let n = match n { Ok(0) | Err(_) => break, Ok(n) => n };
                    let mut chunk = buf[..n].to_vec();
                    if shared.flip_next.swap(false, Ordering::SeqCst) {
                        let last = chunk.len() - 1;
                        chunk[last] ^= 0x01;
                    }
                    c.capture.lock().expect("capture").client.extend_from_slice(&chunk);
                    if sw.write_all(&chunk).await.is_err() { break; }
                }
                Some(bytes) = inject.recv() => {
                    if sw.write_all(&bytes).await.is_err() { break; }
                }
            }
        }
        let _ = sw.shutdown().await;
    };
    let down = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            conn.capture
                .lock()
                .expect("capture")
                .server
                .extend_from_slice(&buf[..n]);
            if cw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = cw.shutdown().await;
    };
    tokio::join!(up, down);
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The binary WebSocket messages an eavesdropper reads out of one direction of a capture (after
/// the HTTP upgrade). A stream that is not a plain WebSocket (TLS records) yields nothing.
pub fn websocket_payloads(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if !(stream.starts_with(b"GET ") || stream.starts_with(b"HTTP/")) {
        return out;
    }
    let Some(end) = stream.windows(4).position(|w| w == b"\r\n\r\n") else {
        return out;
    };
    let mut s = &stream[end + 4..];
    while s.len() >= 2 {
        let opcode = s[0] & 0x0f;
        let masked = s[1] & 0x80 != 0;
        let mut len = (s[1] & 0x7f) as usize;
        let mut off = 2;
        if len == 126 {
            if s.len() < 4 {
                break;
            }
            len = u16::from_be_bytes([s[2], s[3]]) as usize;
            off = 4;
        } else if len == 127 {
            if s.len() < 10 {
                break;
            }
            len = u64::from_be_bytes(s[2..10].try_into().expect("8 bytes")) as usize;
            off = 10;
        }
        let mask = if masked {
            if s.len() < off + 4 {
                break;
            }
            let m = [s[off], s[off + 1], s[off + 2], s[off + 3]];
            off += 4;
            Some(m)
        } else {
            None
        };
        if s.len() < off + len {
            break;
        }
        let mut payload = s[off..off + len].to_vec();
        if let Some(m) = mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= m[i % 4];
            }
        }
        if opcode == 2 {
            out.push(payload);
        }
        s = &s[off + len..];
    }
    out
}

/// Everything an eavesdropper can read from a capture: the peer ids in the frames and every
/// document rebuilt from the automerge changes they carry, as JSON text.
pub fn readable(capture: &Capture) -> String {
    let mut docs: BTreeMap<String, automerge::Automerge> = BTreeMap::new();
    let mut text = String::new();
    for payload in websocket_payloads(&capture.client)
        .into_iter()
        .chain(websocket_payloads(&capture.server))
    {
        let Ok(message) = shared_model::wire::decode(&payload) else {
            continue;
        };
        use shared_model::wire::Message as M;
        match message {
            M::Join { sender_id, .. } | M::Peer { sender_id, .. } => {
                text.push_str(&sender_id);
                text.push('\n');
            }
            M::Sync {
                document_id, data, ..
            }
            | M::Request {
                document_id, data, ..
            } => {
                let Ok(m) = automerge::sync::Message::decode(&data) else {
                    continue;
                };
                let doc = docs.entry(document_id).or_default();
                for chunk in m.changes.iter() {
                    let _ = doc.load_incremental(chunk);
                }
            }
            _ => {}
        }
    }
    for (id, doc) in &docs {
        text.push_str(id);
        text.push(' ');
        text.push_str(&serde_json::to_string(&automerge::AutoSerde::from(doc)).unwrap_or_default());
        text.push('\n');
    }
    text
}

/// A binary WebSocket frame as a client sends it (masked).
pub fn client_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x82];
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n <= u16::MAX as usize => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let mask: [u8; 4] = rand::random();
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}

/// The frame an attacker on the shop network injects into a dialer's stream: an automerge-repo
/// `sync` message, as from `sender` to `target`, carrying one change to the store's catalog
/// that sets `sku`'s price to `price`. Made with pos-core from the store's documents (what an
/// eavesdropper reads off a plain LAN): a till of the attacker's joins the store, edits the
/// price, and the change is cut out of its catalog.
pub fn forged_price_frame(
    export: &Path,
    dir: &Path,
    sender: &str,
    target: &str,
    sku: &str,
    price: i64,
) -> Vec<u8> {
    let exported: Value = serde_json::from_slice(&std::fs::read(export).expect("export")).unwrap();
    let mut identity: pos_core::Identity =
        serde_json::from_value(exported["identity"].clone()).expect("identity");
    identity.terminal_code = "X9".into();
    let documents: Vec<(String, Vec<u8>)> = exported["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| {
            (
                d[0].as_str().expect("id").to_string(),
                base64::engine::general_purpose::STANDARD
                    .decode(d[1].as_str().expect("bytes"))
                    .expect("base64"),
            )
        })
        .collect();
    let mut t = pos_core::Terminal::open(dir.join("forger.db")).expect("forger's till");
    t.join_store(pos_core::JoinStore {
        identity,
        documents: documents.clone(),
    })
    .expect("join");
    let catalog = t
        .documents()
        .expect("documents")
        .into_iter()
        .find(|(_, kind, _)| kind == "catalog")
        .expect("a catalog")
        .0;
    let before = documents
        .iter()
        .find(|(id, _)| *id == catalog)
        .map(|(_, b)| automerge::Automerge::load(b).expect("catalog"))
        .expect("exported catalog");
    let mut p = t
        .product_by_sku(sku)
        .expect("product")
        .expect("the product");
    p.price = pos_core::shared_model::money::Money::from_i64(price);
    t.update_product(p).expect("edit the price");
    let after = automerge::Automerge::load(&t.export_document(&catalog).expect("catalog"))
        .expect("catalog");
    let changes: Vec<Vec<u8>> = after
        .get_changes(&before.get_heads())
        .into_iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    assert!(!changes.is_empty(), "the forged edit made no change");
    let message = automerge::sync::Message {
        heads: after.get_heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: changes.into(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    };
    client_frame(&shared_model::wire::encode(
        &shared_model::wire::Message::Sync {
            sender_id: sender.into(),
            target_id: target.into(),
            document_id: catalog,
            data: message.encode(),
        },
    ))
}

/// Sends a command that must succeed.
pub fn ok(t: &mut TerminalProcess, cmd: Value) -> Value {
    let what = cmd.to_string();
    t.cmd(cmd)
        .unwrap_or_else(|e| panic!("{} on {}: {e}", what, t.code))
}

/// Polls `f` every 50 ms until it holds; fails with `what` after `deadline`.
pub fn wait_until(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether till `t` holds the sale `id` (its own or a peer's).
pub fn holds_sale(t: &mut TerminalProcess, id: &str) -> bool {
    ok(t, json!({"cmd": "has_sale", "id": id})) == json!(true)
}

/// Sells `qty` of `sku` on `t`; the sale's id.
pub fn sell(t: &mut TerminalProcess, sku: &str, qty: i64) -> String {
    ok(t, json!({"cmd": "sell", "sku": sku, "qty": qty}))["sale_id"]
        .as_str()
        .expect("sale id")
        .to_string()
}

/// A store of real headless tills (processes) on real SQLite files, enrolled with the real sync
/// server (PostgreSQL) with their LAN keys: the first creates the store (products AQUA and TEH
/// at Rp 5.000, a manager with PIN 1234), the others join it from its export; each has a shift
/// open, the store's roster (listing every till) and the store key from the server.
#[derive(Debug)]
pub struct LanStore {
    pub dir: PathBuf,
    pub export: PathBuf,
    pub store_code: String,
    pub tills: Vec<TerminalProcess>,
    /// Each till's device credential and terminal id.
    pub credentials: Vec<String>,
    pub terminal_ids: Vec<String>,
    pub server: ServerProcess,
    _db: TestDatabase,
}

impl LanStore {
    /// `codes` must be `T1`, `T2`, … in order: the server names tills by enrolment order.
    pub fn new(rt: &tokio::runtime::Runtime, codes: &[&str]) -> LanStore {
        let dir = std::env::temp_dir().join(format!(
            "snapkasir-lan-attack-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = TestDatabase::create("snapkasir_lan_attack");
        let server = ServerProcess::start(&db.url, "127.0.0.1:0", &dir.join("server.log"));
        let made = server.admin(&create_tenant_args(
            "LanAttack",
            "LAN1",
            "Toko LAN",
            "owner-lan-attack@example.com",
        ));
        let store_id = made["store_id"].as_str().expect("store id").to_string();
        let export = dir.join("store.json");
        let mut tills = Vec::new();
        let mut credentials = Vec::new();
        let mut terminal_ids = Vec::new();
        for (i, code) in codes.iter().enumerate() {
            let mut t = TerminalProcess::spawn(&dir.join(format!("{code}.db")), code);
            if i == 0 {
                ok(
                    &mut t,
                    json!({"cmd": "create_store", "store_id": store_id, "store_code": "LAN1", "terminal_code": code,
                           "products": [["AQUA", 5000, 100], ["TEH", 5000, 100]]}),
                );
                ok(&mut t, json!({"cmd": "export", "path": export}));
            } else {
                ok(
                    &mut t,
                    json!({"cmd": "join", "path": export, "terminal_code": code}),
                );
            }
            ok(&mut t, json!({"cmd": "start_shift"}));
            let key = ok(&mut t, json!({"cmd": "lan_key"}));
            let reply = server.enroll_with_lan_key(rt, &store_id, code, key.as_str());
            assert_eq!(reply["terminal_code"], json!(code), "enrolment order");
            credentials.push(
                reply["device_credential"]
                    .as_str()
                    .expect("credential")
                    .to_string(),
            );
            terminal_ids.push(reply["terminal_id"].as_str().expect("id").to_string());
            tills.push(t);
        }
        let url = server.url();
        for (t, c) in tills.iter_mut().zip(&credentials) {
            ok(
                t,
                json!({"cmd": "lan_refresh", "server": url, "credential": c}),
            );
        }
        LanStore {
            dir,
            export,
            store_code: "LAN1".into(),
            tills,
            credentials,
            terminal_ids,
            server,
            _db: db,
        }
    }

    /// Starts LAN sync on till `i`: listening on loopback when `listen`, dialing `peers`.
    /// Returns the listening address.
    /// The till keeps asking the server for the roster (every 2 s, and at once when the roster
    /// names a newer store key).
    pub fn lan(&mut self, i: usize, listen: bool, peers: &[SocketAddr]) -> Option<SocketAddr> {
        let peers: Vec<String> = peers.iter().map(|p| p.to_string()).collect();
        let listen = if listen {
            json!("127.0.0.1:0")
        } else {
            json!(null)
        };
        let url = self.server.url();
        let credential = self.credentials[i].clone();
        ok(
            &mut self.tills[i],
            json!({"cmd": "lan", "listen": listen, "peers": peers, "server": url, "credential": credential}),
        )["addr"]
            .as_str()
            .map(|a| a.parse().expect("address"))
    }

    /// The LAN status of till `i`.
    pub fn lan_status(&mut self, i: usize) -> Value {
        ok(&mut self.tills[i], json!({"cmd": "lan_status"}))
    }

    /// The terminal codes till `i` is connected to now.
    pub fn peers_of(&mut self, i: usize) -> Vec<String> {
        self.lan_status(i)["peers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p["terminal_code"].as_str().map(String::from))
            .collect()
    }

    pub fn refused(&mut self, i: usize) -> u64 {
        self.lan_status(i)["refused"].as_u64().unwrap_or(0)
    }

    pub fn price(&mut self, i: usize, sku: &str) -> Value {
        ok(&mut self.tills[i], json!({"cmd": "price", "sku": sku}))
    }
}

impl Drop for LanStore {
    fn drop(&mut self) {
        self.tills.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
