//! Enrolling a till with a sync server: redeem a one-time code for the device credential, keep
//! it with the server's address and the store key, and join the store's documents, fetched from
//! the server over the sync endpoint, or create them when the server's store has none yet.
//!
//! The documents are fetched with shared-model's sans-IO sync [`Session`] (the same protocol
//! and the same `wire` codec as the sync client) over a [`FetchStore`] that holds them in
//! memory: the terminal has no identity yet, so the terminal's own sync store cannot take them.
//! Only once the store root and the four documents it links are complete is anything written,
//! in one transaction ([`Terminal::join_store`]). A code is consumed by the server at step one:
//! when a later step fails (server gone mid-way), the till stays unenrolled and needs a new code.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::sync::{Message as SyncMessage, State, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use futures::StreamExt;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use shared_model::codec::Timestamp;
use shared_model::documents::{self, DocumentKind, StoreRootDoc};
use shared_model::sync_session::{Event, Session, SyncStore};
use shared_model::wire;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tracing::{info, instrument, warn};

use crate::docs::id_of;
use crate::error::{CoreError, CoreResult};
use crate::sync::DeviceCredential;
use crate::sync::client::{lock, send};
use crate::sync::lan::StoreKey;
use crate::terminal::{Identity, JoinStore, NewStore, Terminal};

/// Where and as whom this till is enrolled.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolment {
    pub server_url: String,
    pub terminal_id: String,
    pub store_id: String,
    pub store_code: String,
    pub terminal_code: String,
    pub store_name: String,
}

/// How long each network step of enrolment may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// The server's answer to `POST /api/v1/terminals/enroll` (sync-server's `Enrollment`).
#[derive(Deserialize)]
struct EnrollResponse {
    terminal_id: String,
    store_id: String,
    store_code: String,
    store_name: String,
    terminal_code: String,
    root_document_id: Option<String>,
    device_credential: String,
    store_key: String,
    /// The store's PIN pepper (hex); absent from servers older than the LAN roster.
    #[serde(default)]
    pin_pepper: Option<String>,
    /// The LAN roster fields (absent from servers older than the LAN roster).
    #[serde(default)]
    store_key_version: Option<u32>,
    #[serde(default)]
    store_signing_key: Option<String>,
    #[serde(default)]
    lan_roster: Option<shared_model::lan_roster::SignedLanRoster>,
}

impl Terminal {
    /// The stored enrolment with its device credential (None before enrolment).
    pub fn enrolment(&self) -> CoreResult<Option<(Enrolment, DeviceCredential)>> {
        let row: Option<(String, String, String, String)> = self
            .conn
            .query_row(
                "SELECT server_url, terminal_id, store_name, credential FROM enrolment WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((server_url, terminal_id, store_name, credential)) = row else {
            return Ok(None);
        };
        let ident = self.identity()?;
        Ok(Some((
            Enrolment {
                server_url,
                terminal_id,
                store_id: ident.store_id.clone(),
                store_code: ident.store_code.clone(),
                terminal_code: ident.terminal_code.clone(),
                store_name,
            },
            DeviceCredential(credential),
        )))
    }

    fn save_enrolment(&mut self, e: &Enrolment, credential: &str) -> CoreResult<()> {
        self.conn.execute(
            "INSERT INTO enrolment (id, server_url, terminal_id, store_name, credential, enrolled_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5)",
            params![
                e.server_url,
                e.terminal_id,
                e.store_name,
                credential,
                Timestamp::now().to_string()
            ],
        )?;
        Ok(())
    }
}

/// The HTTP base of a server URL (`ws(s)://` taken too), without a trailing slash.
fn http_base(server_url: &str) -> CoreResult<String> {
    let url = server_url.trim().trim_end_matches('/');
    let base = if let Some(rest) = url.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = url.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        url.to_string()
    };
    if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() < 10 {
        return Err(CoreError::Invalid(format!(
            "server address {server_url:?} must start with http:// or https://"
        )));
    }
    Ok(base)
}

/// Redeems an enrolment code at `server_url` (http or https), stores credential, store key and
/// server address in the terminal, and joins the store's documents (fetched from the server
/// over the sync endpoint) or, when the server's store has none yet, creates them
/// (`StoreSettings::indonesia` with the store's name; with `seed_demo_catalog` the demo catalog
/// and users of [`crate::demo`] are added). Blocking SQLite work runs on `spawn_blocking`; no
/// lock is held across an `.await`.
#[instrument(skip_all, fields(server = server_url))]
pub async fn enrol(
    terminal: &Arc<Mutex<Terminal>>,
    server_url: &str,
    code: &str,
    seed_demo_catalog: bool,
) -> CoreResult<Enrolment> {
    enrol_with(terminal, server_url, code, seed_demo_catalog, None).await
}

/// [`enrol`] for a new till of a store another till exported
/// ([`crate::store_export`]): the store's documents come from the export instead of over the
/// network (a large catalog is then there at once); sync brings whatever changed since. An
/// export of another store than the code's is refused before the till writes anything (the
/// code is spent then: the owner makes a new one).
#[instrument(skip_all, fields(server = server_url))]
pub async fn enrol_from_export(
    terminal: &Arc<Mutex<Terminal>>,
    server_url: &str,
    code: &str,
    export: &crate::store_export::StoreExport,
) -> CoreResult<Enrolment> {
    enrol_with(terminal, server_url, code, false, Some(export)).await
}

async fn enrol_with(
    terminal: &Arc<Mutex<Terminal>>,
    server_url: &str,
    code: &str,
    seed_demo_catalog: bool,
    export: Option<&crate::store_export::StoreExport>,
) -> CoreResult<Enrolment> {
    let base = http_base(server_url)?;
    if lock(terminal).identity().is_ok() {
        return Err(CoreError::AlreadyInitialized);
    }
    if code.trim().is_empty() {
        return Err(CoreError::EnrolmentCodeInvalid);
    }
    // The till's own LAN key, made now so the server lists it in the store's roster at once.
    let lan_key = lock(terminal).lan_identity()?.public_key_hex();
    let http = crate::sync::tls::http_client(None, STEP_TIMEOUT)?;
    let resp = http
        .post(format!("{base}/api/v1/terminals/enroll"))
        .json(&serde_json::json!({ "code": code.trim(), "lan_key": lan_key }))
        .send()
        .await
        .map_err(|e| unreachable_or_tls(&e))?;
    let status = resp.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::BAD_REQUEST {
        return Err(CoreError::EnrolmentCodeInvalid);
    }
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(CoreError::EnrolmentRateLimited);
    }
    if !status.is_success() {
        return Err(CoreError::Sync(format!("enrolment answered {status}")));
    }
    let e: EnrollResponse = resp
        .json()
        .await
        .map_err(|e| CoreError::Sync(format!("enrolment reply: {e}")))?;
    let enrolment = Enrolment {
        server_url: base.clone(),
        terminal_id: e.terminal_id.clone(),
        store_id: e.store_id.clone(),
        store_code: e.store_code.clone(),
        terminal_code: e.terminal_code.clone(),
        store_name: e.store_name.clone(),
    };
    let store_key = StoreKey::new(e.store_key.clone())?;
    let lan_info = match (&e.store_signing_key, &e.lan_roster, &e.pin_pepper) {
        (Some(signing), Some(roster), Some(pepper)) => Some(shared_model::lan_roster::LanInfo {
            store_signing_key: signing.clone(),
            roster: roster.clone(),
            store_key: e.store_key.clone(),
            store_key_version: e.store_key_version.unwrap_or(0),
            pin_pepper: pepper.clone(),
        }),
        _ => None,
    };
    let pin_pepper = e
        .pin_pepper
        .as_deref()
        .map(shared_model::users::PinPepper::from_hex)
        .transpose()?;
    let credential = DeviceCredential(e.device_credential.clone());
    let documents = match (&e.root_document_id, export) {
        (Some(root), Some(x))
            if *root == x.identity.root_doc && e.store_id == x.identity.store_id =>
        {
            let i = &x.identity;
            let ids = [
                &i.root_doc,
                &i.catalog_doc,
                &i.settings_doc,
                &i.users_doc,
                &i.parked_doc,
            ];
            Some((ids.map(|d| d.clone()), x.documents.clone()))
        }
        (_, Some(_)) => {
            return Err(CoreError::Invalid(
                "this export is of another store than the enrolment code's".into(),
            ));
        }
        (Some(root), None) => {
            let peer = format!("{}-{}", e.store_code, e.terminal_code);
            Some(fetch_store_documents(&base, &credential, &peer, root).await?)
        }
        (None, None) => None,
    };
    let t = terminal.clone();
    let saved = enrolment.clone();
    tokio::task::spawn_blocking(move || -> CoreResult<()> {
        let mut t = lock(&t);
        // Before any user is made (the demo users below), so that their PINs are peppered.
        if let Some(pepper) = &pin_pepper {
            t.set_pin_pepper(pepper)?;
        }
        match documents {
            Some((identity_docs, documents)) => {
                let identity = Identity {
                    store_id: e.store_id,
                    store_code: e.store_code,
                    terminal_code: e.terminal_code,
                    root_doc: identity_docs[0].clone(),
                    catalog_doc: identity_docs[1].clone(),
                    settings_doc: identity_docs[2].clone(),
                    users_doc: identity_docs[3].clone(),
                    parked_doc: identity_docs[4].clone(),
                };
                t.join_store(JoinStore {
                    identity,
                    documents,
                })?;
            }
            None => {
                let settings = if seed_demo_catalog {
                    crate::demo::demo_settings(&e.store_name)
                } else {
                    shared_model::settings::StoreSettings::indonesia(&e.store_name, "")
                };
                t.create_store(NewStore {
                    store_id: e.store_id,
                    store_code: e.store_code,
                    terminal_code: e.terminal_code,
                    settings,
                })?;
                if seed_demo_catalog {
                    t.seed_demo()?;
                }
            }
        }
        t.set_store_key(&store_key)?;
        if let Some(info) = &lan_info {
            t.apply_lan_info(info)?;
        }
        t.save_enrolment(&saved, &credential.0)?;
        Ok(())
    })
    .await
    .map_err(|e| CoreError::Sync(format!("enrolment task: {e}")))??;
    info!(store = %enrolment.store_code, terminal = %enrolment.terminal_code, "enrolled");
    Ok(enrolment)
}

/// A failed request: a certificate problem is `tls`, anything else of the connection is
/// `server_unreachable`.
fn unreachable_or_tls(e: &reqwest::Error) -> CoreError {
    let detail = crate::sync::tls::describe("enrol", e);
    if detail.contains("certificate") || detail.to_ascii_lowercase().contains("tls") {
        CoreError::Tls(detail)
    } else {
        warn!(error = %detail, "sync server unreachable");
        CoreError::ServerUnreachable(detail)
    }
}

/// The store's documents in memory while they arrive.
struct FetchStore {
    wanted: Vec<String>,
    docs: HashMap<String, AutoCommit>,
    /// Documents holding every change the server said it has.
    complete: HashSet<String>,
}

impl FetchStore {
    fn has(&self, doc_id: &str) -> bool {
        self.docs
            .get(doc_id)
            .is_some_and(|d| DocumentKind::of(d).is_some())
    }
}

impl SyncStore for FetchStore {
    type Error = CoreError;

    fn sync_doc_ids(&mut self) -> CoreResult<Vec<String>> {
        Ok(self.wanted.clone())
    }

    fn has_doc(&mut self, doc_id: &str) -> CoreResult<bool> {
        Ok(self.has(doc_id))
    }

    fn accepts_new_doc(&mut self, doc_id: &str) -> bool {
        self.wanted.iter().any(|w| w == doc_id)
    }

    fn heads(&mut self, doc_id: &str) -> CoreResult<Vec<ChangeHash>> {
        Ok(self
            .docs
            .get_mut(doc_id)
            .map(|d| d.get_heads())
            .unwrap_or_default())
    }

    fn generate(&mut self, doc_id: &str, state: &mut State) -> CoreResult<Option<SyncMessage>> {
        Ok(self
            .docs
            .entry(doc_id.to_string())
            .or_default()
            .sync()
            .generate_sync_message(state))
    }

    fn receive(
        &mut self,
        doc_id: &str,
        state: &mut State,
        message: SyncMessage,
    ) -> CoreResult<bool> {
        crate::chunks::ChunkKey::new(&[doc_id])?;
        let doc = self.docs.entry(doc_id.to_string()).or_default();
        let before = doc.get_heads();
        crate::docs::receive_sync(doc, doc_id, state, message)?;
        let theirs = state.their_heads.clone().unwrap_or_default();
        if !theirs.is_empty()
            && documents::has_changes(doc.document(), &theirs)
            && DocumentKind::of(doc).is_some()
        {
            self.complete.insert(doc_id.to_string());
        }
        Ok(doc.get_heads() != before)
    }

    fn load_state(&mut self, _peer: &str, _doc_id: &str) -> CoreResult<Option<Vec<u8>>> {
        Ok(None)
    }

    fn save_state(&mut self, _peer: &str, _doc_id: &str, _state: &[u8]) -> CoreResult<()> {
        Ok(())
    }
}

/// The store root and the documents it links, as `([root, catalog, settings, users, parked]
/// ids, every document's bytes)`, fetched over the sync endpoint as peer `peer`.
async fn fetch_store_documents(
    base: &str,
    credential: &DeviceCredential,
    peer: &str,
    root: &str,
) -> CoreResult<([String; 5], Vec<(String, Vec<u8>)>)> {
    crate::chunks::ChunkKey::new(&[root])?;
    let ws_url = match base.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}/sync"),
        None => format!("ws://{}/sync", base.trim_start_matches("http://")),
    };
    let request = ws_url
        .into_client_request()
        .map_err(|e| CoreError::Invalid(format!("server address: {e}")))?;
    let mut ws = crate::sync::tls::connect_sync_socket(
        request,
        &credential.0,
        shared_model::documents::SCHEMA_VERSION,
        None,
        STEP_TIMEOUT,
    )
    .await?
    .map_err(|detail| {
        if detail.contains("certificate") {
            CoreError::Tls(detail)
        } else {
            CoreError::ServerUnreachable(detail)
        }
    })?;
    let mut store = FetchStore {
        wanted: vec![root.to_string()],
        docs: HashMap::new(),
        complete: HashSet::new(),
    };
    let (mut session, join) = Session::dial(peer);
    send(&mut ws, vec![join]).await?;
    let mut links: Option<[String; 5]> = None;
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT * 2;
    loop {
        if let Some(ids) = &links
            && ids.iter().all(|id| store.complete.contains(id))
        {
            break;
        }
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| CoreError::Sync("the store's documents did not arrive in time".into()))?;
        let bytes = match frame {
            None => return Err(CoreError::ServerUnreachable("server closed".into())),
            Some(Err(e)) => return Err(CoreError::ServerUnreachable(format!("connection: {e}"))),
            Some(Ok(WsMessage::Binary(b))) => b,
            Some(Ok(WsMessage::Close(_))) => {
                return Err(CoreError::ServerUnreachable("server closed".into()));
            }
            Some(Ok(_)) => continue,
        };
        let message = wire::decode(&bytes).map_err(|e| CoreError::Sync(e.to_string()))?;
        let step = session
            .handle(message, &mut store)
            .map_err(|e| CoreError::Sync(e.to_string()))?;
        send(&mut ws, step.send).await?;
        for ev in &step.events {
            if let Event::Unavailable { doc_id } = ev {
                return Err(CoreError::NotFound {
                    what: "store document",
                    id: doc_id.clone(),
                });
            }
        }
        if links.is_none() && store.complete.contains(root) {
            let r: StoreRootDoc = documents::read(&store.docs[root])?;
            let ids = [
                root.to_string(),
                id_of(&r.catalog).to_string(),
                id_of(&r.settings).to_string(),
                id_of(&r.users).to_string(),
                id_of(&r.parked_carts).to_string(),
            ];
            store.wanted = ids.to_vec();
            links = Some(ids);
            let step = session
                .poll(&mut store)
                .map_err(|e| CoreError::Sync(e.to_string()))?;
            send(&mut ws, step.send).await?;
        }
    }
    let _ = ws.close(None).await;
    let ids = links.unwrap_or_else(|| unreachable!("the loop ends once the links are known"));
    let documents = ids
        .iter()
        .map(|id| {
            (
                id.clone(),
                store.docs.get_mut(id).map(|d| d.save()).unwrap_or_default(),
            )
        })
        .collect();
    Ok((ids, documents))
}
