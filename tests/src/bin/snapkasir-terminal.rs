//! A headless terminal for the cross-process tests: `pos-core` with its sync client, driven by
//! JSON commands on standard input, one reply line of JSON on standard output per command.
//! Not for shops: the cashier app is the real front end.
//!
//! Usage: `snapkasir-terminal <store file>`; commands (one JSON object per line):
//! - `{"cmd":"create_store","store_id":…,"store_code":…,"terminal_code":…,"products":[[sku,price,stock]…]}`
//! - `{"cmd":"export","path":…}`: the store's identity and documents for tills that join
//! - `{"cmd":"join","path":…,"terminal_code":…}`
//! - `{"cmd":"enrol","server":URL,"code":CODE,"demo":bool}`: `pos_core::enrolment::enrol` (the
//!   first till of a store creates its documents, with the demo catalog and users when `demo`;
//!   later ones join them); the cashier is the store's first cashier (or manager)
//! - `{"cmd":"start_shift"}`, `{"cmd":"sync","server":…,"credential":…}`; `{"cmd":"sync"}`
//!   without them uses the stored enrolment
//! - `{"cmd":"sell","sku":…,"qty":…}`: replies only after the sale is committed (paid)
//! - `{"cmd":"status"}`: sync status, stock per SKU, own sales, document heads
//! - `{"cmd":"has_sale","id":…}`: whether this store holds the sale (own or a peer's)
//! - `{"cmd":"wait_sale","id":…,"timeout_ms":…}`: replies once this store holds the sale
//!   (checked every millisecond) or the timeout passes: `{"found":…}`
//! - `{"cmd":"journal_size"}`: bytes of this terminal's journal of today (saved document)
//! - `sync` takes `"intervals":"shop"` to keep `SyncConfig::new`'s intervals (checkout itself
//!   wakes the sync client, so a sale leaves at once whatever the poll interval)
//! - LAN sync (docs/lan-sync.md): `{"cmd":"store_key","key":…}`, `{"cmd":"lan_key"}` (this
//!   till's LAN public key, hex; made on first use), `{"cmd":"lan_refresh","server":…,
//!   "credential":…}` (fetches the roster and store key: `refresh_lan_info`),
//!   `{"cmd":"lan_info","info":LanInfo}` (applies LanInfo given by the test),
//!   `{"cmd":"lan","listen":"127.0.0.1:0"|null,"peers":[…],"discovery":false,"server":…,
//!   "credential":…}` (replies with the listening address; with a server the roster is refreshed
//!   from it), `{"cmd":"lan_status"}`, `{"cmd":"sales_of","terminal":…}` (sale ids of
//!   a terminal this store holds), `{"cmd":"set_price","sku":…,"price":…}`,
//!   `{"cmd":"park","sku":…,"label":…}`, `{"cmd":"parked"}` (labels of parked carts)
//! - for the LAN attacks: `{"cmd":"price","sku":…}` (the price this till holds, or null),
//!   `{"cmd":"add_product","sku":…,"name":…,"price":…}`,
//!   `{"cmd":"add_user","name":…,"role":"cashier"|"supervisor"|"manager","pin":…}`
//! - `{"cmd":"settings"}`: the store settings this till holds (its settings document)
//! - `{"cmd":"exit"}`
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow};
use base64::Engine;
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::catalog::Product;
use pos_core::shared_model::ids::{SaleId, UserId};
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::Tender;
use pos_core::shared_model::settings::StoreSettings;
use pos_core::shared_model::stock::MovementKind;
use pos_core::shared_model::users::Role;
use pos_core::sync::client::{DeviceCredential, SyncClient, SyncConfig};
use pos_core::{Identity, JoinStore, NewStore, Terminal};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize)]
struct Export {
    identity: Identity,
    cashier: String,
    documents: Vec<(String, String)>,
}

struct State {
    terminal: Arc<Mutex<Terminal>>,
    cashier: Option<UserId>,
    sync: Option<SyncClient>,
    lan: Option<pos_core::sync::lan::LanSync>,
}

fn main() -> Result<()> {
    let path = std::env::args()
        .nth(1)
        .context("usage: snapkasir-terminal <store file>")?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SNAPKASIR_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let _guard = runtime.enter();
    let terminal = Terminal::open(&path)?;
    let cashier = std::fs::read_to_string(format!("{path}.cashier"))
        .ok()
        .and_then(|s| s.trim().parse().ok());
    let mut state = State {
        terminal: Arc::new(Mutex::new(terminal)),
        cashier,
        sync: None,
        lan: None,
    };
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let cmd: Value = serde_json::from_str(&line)?;
        if cmd["cmd"] == "exit" {
            break;
        }
        let reply = match handle(&mut state, &cmd, &path) {
            Ok(v) => json!({"ok": true, "result": v}),
            Err(e) => json!({"ok": false, "error": format!("{e:#}")}),
        };
        writeln!(out, "{reply}")?;
        out.flush()?;
    }
    if let Some(sync) = state.sync.take() {
        runtime.block_on(sync.stop());
    }
    Ok(())
}

fn lock(t: &Arc<Mutex<Terminal>>) -> std::sync::MutexGuard<'_, Terminal> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

fn str_arg<'a>(cmd: &'a Value, key: &str) -> Result<&'a str> {
    cmd[key].as_str().ok_or_else(|| anyhow!("missing {key}"))
}

fn handle(state: &mut State, cmd: &Value, path: &str) -> Result<Value> {
    match cmd["cmd"].as_str().unwrap_or("") {
        "create_store" => {
            let mut t = lock(&state.terminal);
            let mut settings = StoreSettings::indonesia("Toko Uji", "Jl. Uji 1");
            settings.cash_rounding_unit = Money::ZERO;
            let ident = t.create_store(NewStore {
                store_id: str_arg(cmd, "store_id")?.into(),
                store_code: str_arg(cmd, "store_code")?.into(),
                terminal_code: str_arg(cmd, "terminal_code")?.into(),
                settings,
            })?;
            let cashier = t.add_user("Kasir Uji", Role::Manager, "1234")?;
            std::fs::write(format!("{path}.cashier"), cashier.id.to_string())?;
            state.cashier = Some(cashier.id);
            for p in cmd["products"].as_array().cloned().unwrap_or_default() {
                let sku = p[0].as_str().ok_or_else(|| anyhow!("sku"))?;
                let price = p[1].as_i64().ok_or_else(|| anyhow!("price"))?;
                let stock = p[2].as_i64().ok_or_else(|| anyhow!("stock"))?;
                let product = t.create_product(Product::new(
                    sku,
                    &format!("Produk {sku}"),
                    Money::from_i64(price),
                    "standard",
                ))?;
                if stock > 0 {
                    t.adjust_stock(
                        product.id,
                        MovementKind::Receipt,
                        Quantity::from_i64(stock),
                        None,
                        cashier.id,
                    )?;
                }
            }
            Ok(serde_json::to_value(ident)?)
        }
        "export" => {
            let mut t = lock(&state.terminal);
            let identity = t.identity()?.clone();
            let mut documents = Vec::new();
            for (id, kind, _) in t.documents()? {
                if matches!(
                    kind.as_str(),
                    "store-root"
                        | "catalog"
                        | "settings"
                        | "users"
                        | "parked-carts"
                        | "stock-adjustments"
                        | "period-index"
                ) {
                    let bytes = t.export_document(&id)?;
                    documents.push((id, base64::engine::general_purpose::STANDARD.encode(bytes)));
                }
            }
            let cashier = state
                .cashier
                .ok_or_else(|| anyhow!("no cashier"))?
                .to_string();
            std::fs::write(
                str_arg(cmd, "path")?,
                serde_json::to_vec(&Export {
                    identity,
                    cashier,
                    documents,
                })?,
            )?;
            Ok(json!(null))
        }
        "join" => {
            let export: Export = serde_json::from_slice(&std::fs::read(str_arg(cmd, "path")?)?)?;
            let mut identity = export.identity;
            identity.terminal_code = str_arg(cmd, "terminal_code")?.into();
            let documents = export
                .documents
                .into_iter()
                .map(|(id, b)| Ok((id, base64::engine::general_purpose::STANDARD.decode(b)?)))
                .collect::<Result<Vec<_>>>()?;
            let ident = lock(&state.terminal).join_store(JoinStore {
                identity,
                documents,
            })?;
            std::fs::write(format!("{path}.cashier"), &export.cashier)?;
            state.cashier = Some(export.cashier.parse()?);
            Ok(serde_json::to_value(ident)?)
        }
        "export_store" => {
            let summary =
                lock(&state.terminal).export_store(std::path::Path::new(str_arg(cmd, "dir")?))?;
            Ok(serde_json::to_value(summary)?)
        }
        "enrol" => {
            let (server, code) = (str_arg(cmd, "server")?, str_arg(cmd, "code")?);
            let rt = tokio::runtime::Handle::current();
            let enrolment = match cmd["export"].as_str() {
                Some(dir) => {
                    let export =
                        pos_core::store_export::read_store_export(std::path::Path::new(dir))?;
                    rt.block_on(pos_core::enrolment::enrol_from_export(
                        &state.terminal,
                        server,
                        code,
                        &export,
                    ))?
                }
                None => rt.block_on(pos_core::enrolment::enrol(
                    &state.terminal,
                    server,
                    code,
                    cmd["demo"] == true,
                ))?,
            };
            let mut t = lock(&state.terminal);
            let users = t.users()?;
            let cashier = match users
                .iter()
                .find(|u| u.role == Role::Cashier)
                .or_else(|| users.iter().find(|u| u.role == Role::Manager))
            {
                Some(u) => u.id,
                None => t.add_user("Kasir Uji", Role::Manager, "1234")?.id,
            };
            std::fs::write(format!("{path}.cashier"), cashier.to_string())?;
            state.cashier = Some(cashier);
            Ok(serde_json::to_value(enrolment)?)
        }
        "start_shift" => {
            let cashier = state.cashier.ok_or_else(|| anyhow!("no cashier"))?;
            let mut t = lock(&state.terminal);
            if t.open_shift()?.is_none() {
                t.start_shift(cashier, Money::from_i64(100_000))?;
            }
            Ok(json!(null))
        }
        "sync" => {
            let mut config = match (cmd["server"].as_str(), cmd["credential"].as_str()) {
                (Some(server), Some(credential)) => {
                    SyncConfig::new(server, DeviceCredential(credential.into()))
                }
                _ => {
                    let (enrolment, credential) =
                        lock(&state.terminal).enrolment()?.ok_or_else(|| {
                            anyhow!("not enrolled: enrol first or pass server and credential")
                        })?;
                    SyncConfig::new(&enrolment.server_url, credential)
                }
            };
            if cmd["intervals"] != "shop" {
                config.max_backoff = std::time::Duration::from_secs(1);
                config.idle_timeout = std::time::Duration::from_secs(3);
                config.heartbeat_interval = std::time::Duration::from_millis(300);
                config.poll_interval = std::time::Duration::from_millis(100);
                config.resync_interval = std::time::Duration::from_secs(2);
            }
            state.sync = Some(SyncClient::start(state.terminal.clone(), config));
            Ok(json!(null))
        }
        "sell" => {
            let cashier = state.cashier.ok_or_else(|| anyhow!("no cashier"))?;
            let qty = cmd["qty"].as_i64().unwrap_or(1);
            let sale = {
                let mut t = lock(&state.terminal);
                let product = t
                    .product_by_sku(str_arg(cmd, "sku")?)?
                    .ok_or_else(|| anyhow!("no such sku"))?;
                let mut cart = Cart::new();
                t.cart_add_product(&mut cart, product.id, None, Quantity::from_i64(qty))?;
                let total = t.price(&cart)?.total();
                t.checkout(&cart, &[Tender::cash(total)], cashier, None)?
            };
            Ok(
                json!({"sale_id": sale.id.to_string(), "receipt_no": sale.receipt_no.to_string(), "total": sale.total().to_string()}),
            )
        }
        "status" => {
            let status = state
                .sync
                .as_ref()
                .map(SyncClient::status)
                .unwrap_or_default();
            let mut t = lock(&state.terminal);
            let mut stock = BTreeMap::new();
            for p in t.catalog_document()?.products.values() {
                stock.insert(p.sku.clone(), t.stock_on_hand(p.id)?.to_string());
            }
            let mut heads = BTreeMap::new();
            for (id, _, _) in t.documents()? {
                if let Ok(h) = t.document_heads(&id) {
                    heads.insert(id, h);
                }
            }
            let own = t.identity()?.terminal_code.clone();
            let sales = t.sales_of_terminal(&own)?;
            let acked: Vec<String> = sales
                .iter()
                .filter(|(id, _, _)| t.on_server_since(id).ok().flatten().is_some())
                .map(|(id, _, _)| id.clone())
                .collect();
            Ok(
                json!({"sync": status, "stock": stock, "heads": heads, "sales": sales, "acknowledged": acked}),
            )
        }
        "has_sale" => {
            let id: SaleId = str_arg(cmd, "id")?.parse()?;
            Ok(json!(lock(&state.terminal).sale(id).is_ok()))
        }
        "wait_sale" => {
            let id: SaleId = str_arg(cmd, "id")?.parse()?;
            let timeout =
                std::time::Duration::from_millis(cmd["timeout_ms"].as_u64().unwrap_or(10_000));
            let start = std::time::Instant::now();
            loop {
                if lock(&state.terminal).sale(id).is_ok() {
                    return Ok(json!({"found": true}));
                }
                if start.elapsed() > timeout {
                    return Ok(json!({"found": false}));
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        "journal_size" => {
            let mut t = lock(&state.terminal);
            let own = t.identity()?.terminal_code.clone();
            let date = t.business_date_at(pos_core::shared_model::codec::Timestamp::now())?;
            let id = t
                .journal_id(&own, date)?
                .ok_or_else(|| anyhow!("no journal today"))?;
            let bytes = t.export_document(&id)?;
            Ok(json!({"doc_id": id, "bytes": bytes.len()}))
        }
        "store_key" => {
            let key = pos_core::sync::lan::StoreKey::new(str_arg(cmd, "key")?)?;
            lock(&state.terminal).set_store_key(&key)?;
            Ok(json!(null))
        }
        "lan_refresh" => {
            let version = tokio::runtime::Handle::current().block_on(
                pos_core::sync::lan::refresh_lan_info(
                    &state.terminal,
                    str_arg(cmd, "server")?,
                    &DeviceCredential(str_arg(cmd, "credential")?.into()),
                    None,
                ),
            )?;
            Ok(json!({"roster_version": version}))
        }
        "lan_info" => {
            let info: pos_core::shared_model::lan_roster::LanInfo =
                serde_json::from_value(cmd["info"].clone())?;
            lock(&state.terminal).apply_lan_info(&info)?;
            Ok(json!(null))
        }
        "lan_key" => Ok(json!(
            lock(&state.terminal).lan_identity()?.public_key_hex()
        )),
        "lan" => {
            use pos_core::sync::lan::{LanConfig, LanSync};
            let config = LanConfig {
                listen: match cmd["listen"].as_str() {
                    Some(a) => Some(a.parse()?),
                    None => None,
                },
                peers: cmd["peers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| p.as_str().map(String::from))
                    .collect(),
                discovery: cmd["discovery"] == true,
                poll_interval: std::time::Duration::from_millis(50),
                max_backoff: std::time::Duration::from_secs(1),
                idle_timeout: std::time::Duration::from_secs(3),
                resync_interval: std::time::Duration::from_secs(2),
                server: match (cmd["server"].as_str(), cmd["credential"].as_str()) {
                    (Some(url), Some(credential)) => Some(pos_core::sync::lan::LanServer {
                        url: url.into(),
                        credential: DeviceCredential(credential.into()),
                        ca_file: None,
                    }),
                    _ => None,
                },
                refresh_interval: std::time::Duration::from_secs(2),
                ..LanConfig::default()
            };
            let lan = tokio::runtime::Handle::current()
                .block_on(LanSync::start(state.terminal.clone(), config))?;
            let addr = lan.local_addr().map(|a| a.to_string());
            state.lan = Some(lan);
            Ok(json!({"addr": addr}))
        }
        "lan_status" => Ok(serde_json::to_value(
            state.lan.as_ref().map(|l| l.status()).unwrap_or_default(),
        )?),
        "sales_of" => {
            let t = lock(&state.terminal);
            let ids: Vec<String> = t
                .sales_of_terminal(str_arg(cmd, "terminal")?)?
                .into_iter()
                .map(|(id, _, _)| id)
                .collect();
            Ok(json!(ids))
        }
        "set_price" => {
            let mut t = lock(&state.terminal);
            let mut p = t
                .product_by_sku(str_arg(cmd, "sku")?)?
                .ok_or_else(|| anyhow!("no such sku"))?;
            p.price = Money::from_i64(cmd["price"].as_i64().ok_or_else(|| anyhow!("price"))?);
            t.update_product(p)?;
            Ok(json!(null))
        }
        "park" => {
            let cashier = state.cashier.ok_or_else(|| anyhow!("no cashier"))?;
            let mut t = lock(&state.terminal);
            let p = t
                .product_by_sku(str_arg(cmd, "sku")?)?
                .ok_or_else(|| anyhow!("no such sku"))?;
            let mut cart = Cart::new();
            t.cart_add_product(&mut cart, p.id, None, Quantity::from_i64(1))?;
            t.park_cart(&cart, Some(str_arg(cmd, "label")?), cashier)?;
            Ok(json!(null))
        }
        "price" => {
            let t = lock(&state.terminal);
            Ok(json!(
                t.product_by_sku(str_arg(cmd, "sku")?)?
                    .map(|p| p.price.to_string())
            ))
        }
        "settings" => Ok(serde_json::to_value(lock(&state.terminal).settings()?)?),
        "add_product" => {
            let mut t = lock(&state.terminal);
            let p = t.create_product(Product::new(
                str_arg(cmd, "sku")?,
                str_arg(cmd, "name")?,
                Money::from_i64(cmd["price"].as_i64().ok_or_else(|| anyhow!("price"))?),
                "standard",
            ))?;
            Ok(json!(p.id.to_string()))
        }
        "add_user" => {
            let role = match str_arg(cmd, "role")? {
                "cashier" => Role::Cashier,
                "supervisor" => Role::Supervisor,
                "manager" => Role::Manager,
                other => return Err(anyhow!("unknown role {other:?}")),
            };
            let u = lock(&state.terminal).add_user(
                str_arg(cmd, "name")?,
                role,
                str_arg(cmd, "pin")?,
            )?;
            Ok(json!(u.id.to_string()))
        }
        "parked" => {
            let labels: Vec<Option<String>> = lock(&state.terminal)
                .parked_carts()?
                .into_iter()
                .map(|c| c.label)
                .collect();
            Ok(json!(labels))
        }
        other => Err(anyhow!("unknown command {other:?}")),
    }
}
