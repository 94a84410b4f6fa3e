//! Backups: one file of everything the server cannot rebuild, and its restore into an empty
//! database (`sync-server admin backup --to PATH`, `admin restore --from PATH`).
//!
//! What goes in is [`TABLES`]: the documents' chunks and the accounts around them (tenants,
//! stores, users, tills' credentials, app credentials, claims, the server's own secrets, the
//! stores' document index and LAN keys). The projections (sales, stock, catalog rows…) are
//! left out: a restore rebuilds them from the documents, as `admin reproject` does. Sessions
//! and login counters are left out too: after a restore, owners sign in again.
//!
//! # The file
//!
//! `SKBACKUP`, a format byte (1), a mode byte (0 plain, 1 encrypted), then for an encrypted
//! file a 16-byte salt and a 19-byte nonce prefix. The body is gzip of JSON lines: a header
//! (`format`, `version`, `schema_version`, `backend`, `created_at`), then each table's header
//! (`{"table": …, "columns": […]}`) followed by its rows as arrays (bytes as
//! `{"b64": …}`), then `{"end": {table: rows, …}}`. A file without its end line (cut short) is
//! refused whole. Encrypted, the gzip bytes go in 64 KiB chunks through XChaCha20-Poly1305 in
//! the STREAM construction (each chunk authenticated, the last one marked, so a chunk that is
//! changed, dropped, moved or cut off is refused), with the key derived from the passphrase or
//! key file by Argon2id over the salt. Written by hand over well-kept crates (flate2,
//! chacha20poly1305, argon2) because no crate writes a database-neutral, streaming, encrypted
//! dump of selected tables of both backends.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::storage::{BackupItem, Cell, DynStorage};

pub mod s3;

/// The tables a backup holds, parents before children (the order a restore writes them).
pub const TABLES: [&str; 18] = [
    "tenants",
    "stores",
    "users",
    "terminals",
    "enrollment_codes",
    "server_settings",
    "doc_claims",
    "store_roots",
    "store_journals",
    "store_adjustments",
    "stock_baselines",
    "store_lan",
    "terminal_lan_keys",
    "app_credentials",
    "automerge_chunks",
    "payment_gateways",
    "gateway_charges",
    "gateway_refunds",
];

/// Written by the server on its first start (its signing and PIN secrets): a restore replaces
/// them with the backup's, so that tokens and PINs made before stay valid.
const REPLACED: [&str; 1] = ["server_settings"];

const MAGIC: &[u8; 8] = b"SKBACKUP";
const FORMAT: u8 = 1;
const PLAIN: u8 = 0;
const ENCRYPTED: u8 = 1;
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const NONCE_PREFIX: usize = 19;

/// The secret of an encrypted backup: a passphrase, or the bytes of a key file.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// The first line of the file at `path` (a passphrase file), or its whole content (a key
    /// file, at least 32 bytes).
    pub fn from_file(path: &Path, key_file: bool) -> Result<Secret> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Backup(format!("cannot read {}: {e}", path.display())))?;
        let secret = if key_file {
            if bytes.len() < 32 {
                return Err(Error::Backup(format!(
                    "the key file {} holds {} bytes; a key file needs at least 32 (make one with \
                     `head -c 32 /dev/urandom > FILE`)",
                    path.display(),
                    bytes.len()
                )));
            }
            bytes
        } else {
            let text = String::from_utf8_lossy(&bytes);
            let line = text.lines().next().unwrap_or("").to_string();
            if line.chars().count() < 8 {
                return Err(Error::Backup(
                    "the passphrase must have at least 8 characters".into(),
                ));
            }
            line.into_bytes()
        };
        Ok(Secret(secret))
    }

    /// The secret given by a passphrase file or a key file, if either (the passphrase wins).
    pub fn chosen(
        passphrase_file: Option<&Path>,
        key_file: Option<&Path>,
    ) -> Result<Option<Secret>> {
        match (passphrase_file, key_file) {
            (Some(p), _) => Secret::from_file(p, false).map(Some),
            (None, Some(k)) => Secret::from_file(k, true).map(Some),
            (None, None) => Ok(None),
        }
    }

    fn key(&self, salt: &[u8]) -> Result<chacha20poly1305::Key> {
        let mut key = [0u8; 32];
        argon2::Argon2::default()
            .hash_password_into(&self.0, salt, &mut key)
            .map_err(|e| Error::Backup(format!("deriving the key: {e}")))?;
        Ok(key.into())
    }
}

/// The first line of a backup's body.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    schema_version: i64,
    backend: String,
    created_at: i64,
}

/// What a backup or a restore did.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub file: PathBuf,
    pub bytes: u64,
    pub encrypted: bool,
    pub schema_version: i64,
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
    /// Documents projected again (restore only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reprojected: Option<usize>,
}

fn io(what: &str, path: &Path) -> impl Fn(std::io::Error) -> Error {
    let msg = format!("{what} {}", path.display());
    move |e| Error::Backup(format!("{msg}: {e}"))
}

/// Writes a backup of `storage` to `to` (a file; a directory gets a file named by the time),
/// encrypted when `secret` is given. The file appears whole or not at all.
pub async fn backup(storage: &DynStorage, to: &Path, secret: Option<&Secret>) -> Result<Summary> {
    let file = if to.is_dir() {
        to.join(format!(
            "snapkasir-{}.skb",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ))
    } else {
        to.to_path_buf()
    };
    let partial = file.with_extension("partial");
    let out = File::create(&partial).map_err(io("cannot create", &partial))?;
    let result = write_body(storage, out, secret).await;
    let (schema_version, tables) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    // On disk before it takes its name: a crash leaves a `.partial` file, never a short backup.
    File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(io("cannot sync", &partial))?;
    std::fs::rename(&partial, &file).map_err(io("cannot rename into", &file))?;
    let bytes = std::fs::metadata(&file)
        .map_err(io("cannot read", &file))?
        .len();
    Ok(Summary {
        file,
        bytes,
        encrypted: secret.is_some(),
        schema_version,
        tables,
        reprojected: None,
    })
}

async fn write_body(
    storage: &DynStorage,
    mut out: File,
    secret: Option<&Secret>,
) -> Result<(i64, BTreeMap<String, u64>)> {
    let fail = |e: std::io::Error| Error::Backup(format!("writing the backup: {e}"));
    out.write_all(MAGIC).map_err(fail)?;
    let sink: Box<dyn Write + Send> = match secret {
        None => {
            out.write_all(&[FORMAT, PLAIN]).map_err(fail)?;
            Box::new(BufWriter::new(out))
        }
        Some(s) => {
            let salt: [u8; 16] = rand::random();
            let prefix: [u8; NONCE_PREFIX] = rand::random();
            out.write_all(&[FORMAT, ENCRYPTED]).map_err(fail)?;
            out.write_all(&salt).map_err(fail)?;
            out.write_all(&prefix).map_err(fail)?;
            let cipher = XChaCha20Poly1305::new(&s.key(&salt)?);
            Box::new(Sealer {
                out: BufWriter::new(out),
                stream: Some(EncryptorBE32::from_aead(cipher, &prefix.into())),
                buf: Vec::with_capacity(CHUNK),
            })
        }
    };
    let mut gz = flate2::write::GzEncoder::new(sink, flate2::Compression::default());
    let schema_version = storage.schema_version().await?;
    let header = Header {
        format: "snapkasir-backup".into(),
        version: 1,
        schema_version,
        backend: storage.backend().into(),
        created_at: chrono::Utc::now().timestamp_millis(),
    };
    line(&mut gz, &serde_json::to_value(&header).map_err(json_err)?)?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut current = String::new();
    {
        let mut sink = |item: BackupItem| -> Result<()> {
            match item {
                BackupItem::Table {
                    name,
                    columns,
                    kinds,
                } => {
                    counts.insert(name.clone(), 0);
                    let header = json!({"table": name, "columns": columns, "types": kinds});
                    line(&mut gz, &header)?;
                    current = name;
                }
                BackupItem::Row(cells) => {
                    let row: Vec<Value> = cells.iter().map(cell_json).collect();
                    line(&mut gz, &Value::Array(row))?;
                    *counts.entry(current.clone()).or_default() += 1;
                }
            }
            Ok(())
        };
        storage.read_snapshot(&TABLES, &mut sink).await?;
    }
    line(&mut gz, &json!({ "end": counts }))?;
    let mut sink = gz.finish().map_err(fail)?;
    sink.flush().map_err(fail)?;
    drop(sink);
    Ok((schema_version, counts))
}

/// Restores the backup at `from` into `storage`, which must hold no tenant, account or
/// document yet (a new data directory or PostgreSQL database, migrated), then projects every
/// document again. All rows are written in one transaction: a damaged file changes nothing.
pub async fn restore(
    storage: &DynStorage,
    from: &Path,
    secret: Option<&Secret>,
) -> Result<Summary> {
    let checked: Vec<&str> = TABLES
        .iter()
        .copied()
        .filter(|t| !REPLACED.contains(t))
        .collect();
    let counts = storage.row_counts(&checked).await?;
    let full: Vec<String> = checked
        .iter()
        .zip(&counts)
        .filter(|(_, n)| **n > 0)
        .map(|(t, n)| format!("{t} ({n} rows)"))
        .collect();
    if !full.is_empty() {
        return Err(Error::Backup(format!(
            "the database is not empty: {}. Restore into a new data directory or a new \
             PostgreSQL database; nothing was changed",
            full.join(", ")
        )));
    }
    let file = File::open(from).map_err(io("cannot open", from))?;
    let bytes = file.metadata().map_err(io("cannot read", from))?.len();
    let (mut reader, encrypted) = open_body(file, secret)?;
    let header: Header = serde_json::from_value(
        next_line(&mut reader)?
            .ok_or_else(|| Error::Backup("the file is empty after its header".into()))?,
    )
    .map_err(|_| Error::Backup("this is not a SnapKasir backup (no header line)".into()))?;
    if header.format != "snapkasir-backup" || header.version != 1 {
        return Err(Error::Backup(format!(
            "unknown backup format {} {}",
            header.format, header.version
        )));
    }
    let ours = storage.schema_version().await?;
    if header.schema_version > ours {
        return Err(Error::Backup(format!(
            "the backup was made by a newer server (schema {}; this one has {ours}): upgrade \
             this server first",
            header.schema_version
        )));
    }
    let mut ended = false;
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut current = String::new();
    let mut kinds: Vec<&'static str> = Vec::new();
    let written = {
        let mut next = || -> Result<Option<BackupItem>> {
            let Some(v) = next_line(&mut reader)? else {
                return Err(Error::Backup(
                    "the file ends before its last line: it is cut short; nothing was restored"
                        .into(),
                ));
            };
            match v {
                Value::Object(o) if o.contains_key("end") => {
                    let end: BTreeMap<String, u64> = serde_json::from_value(o["end"].clone())
                        .map_err(|_| Error::Backup("a damaged end line".into()))?;
                    // Read to the end of the gzip stream, so that its checksum is checked
                    // before anything is committed, and nothing may follow the end line.
                    let mut rest = Vec::new();
                    reader.read_to_end(&mut rest).map_err(read_err)?;
                    if !rest.is_empty() {
                        return Err(Error::Backup("data after the end line".into()));
                    }
                    if end != seen {
                        return Err(Error::Backup(format!(
                            "the file's end line does not match its rows (end {end:?}, rows \
                             {seen:?}); nothing was restored"
                        )));
                    }
                    ended = true;
                    Ok(None)
                }
                Value::Object(o) => {
                    let name = o.get("table").and_then(Value::as_str).unwrap_or_default();
                    let damaged = || Error::Backup(format!("a damaged header of {name:?}"));
                    let columns: Vec<String> = o
                        .get("columns")
                        .and_then(|c| serde_json::from_value(c.clone()).ok())
                        .ok_or_else(damaged)?;
                    let named: Vec<String> = o
                        .get("types")
                        .and_then(|c| serde_json::from_value(c.clone()).ok())
                        .ok_or_else(damaged)?;
                    kinds = named
                        .iter()
                        .map(|k| Cell::null(k).map(|c| c.kind()))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(damaged)?;
                    if kinds.len() != columns.len() {
                        return Err(damaged());
                    }
                    current = name.to_string();
                    seen.insert(current.clone(), 0);
                    Ok(Some(BackupItem::Table {
                        name: current.clone(),
                        columns,
                        kinds: kinds.clone(),
                    }))
                }
                Value::Array(cells) => {
                    if cells.len() != kinds.len() {
                        return Err(Error::Backup(format!(
                            "the backup is damaged: a row of {current} has {} values for {} \
                             columns",
                            cells.len(),
                            kinds.len()
                        )));
                    }
                    *seen.entry(current.clone()).or_default() += 1;
                    let row = cells
                        .iter()
                        .zip(&kinds)
                        .map(|(v, k)| json_cell(v, k))
                        .collect::<Result<_>>()?;
                    Ok(Some(BackupItem::Row(row)))
                }
                _ => Err(Error::Backup(
                    "a line that is neither a table nor a row".into(),
                )),
            }
        };
        storage.write_rows(&TABLES, &REPLACED, &mut next).await
    };
    // Every row is written in one transaction, which any error rolls back: whatever went wrong
    // (a damaged row, a value the database refuses), nothing was restored, and the message
    // says so.
    let written = written.map_err(|e| {
        let why = match e {
            Error::Backup(m) => m,
            e => e.to_string(),
        };
        if why.ends_with("nothing was restored") {
            Error::Backup(why)
        } else {
            Error::Backup(format!("{why}; nothing was restored"))
        }
    })?;
    debug_assert!(ended, "write_rows ends on the end line");
    let reprojected = crate::projection::reproject_all(storage).await?;
    Ok(Summary {
        file: from.to_path_buf(),
        bytes,
        encrypted,
        schema_version: header.schema_version,
        tables: written.into_iter().collect(),
        reprojected: Some(reprojected),
    })
}

/// How the scheduled backups went: the last success, the last failure and its reason.
#[derive(Debug, Default)]
pub struct BackupStatus {
    inner: std::sync::Mutex<StatusInner>,
}

#[derive(Debug, Default, Clone)]
struct StatusInner {
    /// Unix seconds and bytes of the last backup written.
    last_success: Option<(i64, u64)>,
    /// Unix seconds and reason of the last attempt, when it failed.
    last_failure: Option<(i64, String)>,
    failures_total: u64,
    /// Unix seconds of the last copy to S3 that went through.
    last_upload: Option<i64>,
    /// Unix seconds and reason of the last copy to S3, when it failed.
    upload_failure: Option<(i64, String)>,
    upload_failures_total: u64,
}

impl BackupStatus {
    fn get(&self) -> StatusInner {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, f: impl FnOnce(&mut StatusInner)) {
        f(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// For `/readyz`: the last scheduled backup failed, or the last copy to S3, when and why
    /// (one line each; none while the last attempts succeeded). A failed backup does not make
    /// the server unready: it still serves.
    pub fn failure(&self) -> Option<String> {
        let s = self.get();
        let when = |at: i64| {
            chrono::DateTime::from_timestamp(at, 0)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
        };
        let lines: Vec<String> = [
            s.last_failure.map(|(at, why)| {
                format!("the last scheduled backup failed at {}: {why}", when(at))
            }),
            s.upload_failure
                .map(|(at, why)| format!("the last copy to S3 failed at {}: {why}", when(at))),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    /// Prometheus lines of the scheduled backups.
    pub fn metrics(&self) -> String {
        let s = self.get();
        let (at, bytes) = s.last_success.unwrap_or((0, 0));
        format!(
            "# TYPE snapkasir_backup_last_success_timestamp_seconds gauge\n\
             snapkasir_backup_last_success_timestamp_seconds {at}\n\
             # TYPE snapkasir_backup_last_bytes gauge\nsnapkasir_backup_last_bytes {bytes}\n\
             # TYPE snapkasir_backup_failing gauge\nsnapkasir_backup_failing {}\n\
             # TYPE snapkasir_backup_failures_total counter\nsnapkasir_backup_failures_total {}\n\
             # TYPE snapkasir_backup_last_upload_timestamp_seconds gauge\n\
             snapkasir_backup_last_upload_timestamp_seconds {}\n\
             # TYPE snapkasir_backup_upload_failing gauge\nsnapkasir_backup_upload_failing {}\n\
             # TYPE snapkasir_backup_upload_failures_total counter\n\
             snapkasir_backup_upload_failures_total {}\n",
            u8::from(s.last_failure.is_some()),
            s.failures_total,
            s.last_upload.unwrap_or(0),
            u8::from(s.upload_failure.is_some()),
            s.upload_failures_total,
        )
    }
}

/// The scheduled backups, while the process runs: one into `backup_dir` every
/// `backup_interval_secs` (the first when the newest file there is that old, or at once),
/// then the folder trimmed to `backup_keep_daily` days and `backup_keep_monthly` months, then,
/// with `backup_s3_url`, the bucket brought in line with the folder ([`s3`]). A failed copy
/// keeps the local backup and is tried again on the next schedule.
pub async fn run_scheduled(services: crate::service::Services) {
    let config = services.config.clone();
    let Some(dir) = config.backup_dir.clone() else {
        return;
    };
    let interval = std::time::Duration::from_secs(config.backup_interval_secs.max(1));
    let newest = newest_backup_age(&dir);
    let mut wait = newest.map_or(std::time::Duration::ZERO, |age| {
        interval.saturating_sub(age)
    });
    loop {
        tokio::time::sleep(wait).await;
        wait = interval;
        let now = chrono::Utc::now().timestamp();
        match scheduled_once(&services, &dir).await {
            Ok(summary) => {
                tracing::info!(file = %summary.file.display(), bytes = summary.bytes, "backup written");
                services.backups.set(|s| {
                    s.last_success = Some((now, summary.bytes));
                    s.last_failure = None;
                });
                if config.backup_s3_url.is_some() {
                    copy_once(&services, &dir).await;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, dir = %dir.display(), "scheduled backup failed");
                services.backups.set(|s| {
                    s.last_failure = Some((now, e.to_string()));
                    s.failures_total += 1;
                });
            }
        }
    }
}

async fn scheduled_once(services: &crate::service::Services, dir: &Path) -> Result<Summary> {
    let config = &services.config;
    let secret = Secret::chosen(
        config.backup_passphrase_file.as_deref(),
        config.backup_key_file.as_deref(),
    )?;
    std::fs::create_dir_all(dir).map_err(io("cannot create the backup folder", dir))?;
    let summary = backup(&services.storage, dir, secret.as_ref()).await?;
    prune(dir, config.backup_keep_daily, config.backup_keep_monthly)?;
    Ok(summary)
}

/// One round of the copy to S3, told in [`BackupStatus`] and the log.
async fn copy_once(services: &crate::service::Services, dir: &Path) {
    let config = &services.config;
    let (daily, monthly) = (config.backup_keep_daily, config.backup_keep_monthly);
    let result = async {
        let Some(copy) = s3::Copy::new(config)? else {
            return Ok((0, 0));
        };
        let local = scheduled_files(dir)?;
        copy.sync(dir, &local, |all| kept(all, daily, monthly))
            .await
    }
    .await;
    let now = chrono::Utc::now().timestamp();
    match result {
        Ok((uploaded, deleted)) => {
            tracing::debug!(uploaded, deleted, "backups copied to S3");
            services.backups.set(|s| {
                s.last_upload = Some(now);
                s.upload_failure = None;
            });
        }
        Err(e) => {
            tracing::error!(error = %e, "copying the backups to S3 failed; the local backup is kept, the copy is tried again on the next schedule");
            services.backups.set(|s| {
                s.upload_failure = Some((now, e.to_string()));
                s.upload_failures_total += 1;
            });
        }
    }
}

/// `snapkasir-<stamp>.skb`, the name of a scheduled backup.
fn file_name(stamp: &str) -> String {
    format!("snapkasir-{stamp}.skb")
}

/// The time stamp of a scheduled backup's file name, if `name` is one.
fn stamp_of(name: &str) -> Option<String> {
    let stamp = name.strip_prefix("snapkasir-")?.strip_suffix(".skb")?;
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .is_ok()
        .then(|| stamp.to_string())
}

/// How long ago the newest scheduled backup in `dir` was written, if there is one.
fn newest_backup_age(dir: &Path) -> Option<std::time::Duration> {
    let newest = scheduled_files(dir).ok()?.into_iter().max()?;
    let written = chrono::NaiveDateTime::parse_from_str(&newest, "%Y%m%dT%H%M%SZ").ok()?;
    let age = chrono::Utc::now().naive_utc() - written;
    age.to_std().ok()
}

/// The time stamps (`YYYYMMDDTHHMMSSZ`) of the scheduled backups in `dir`.
fn scheduled_files(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(io("cannot read the backup folder", dir))?;
    Ok(entries
        .filter_map(|e| e.ok())
        .filter_map(|e| stamp_of(&e.file_name().into_string().ok()?))
        .collect())
}

/// Deletes the scheduled backups of `dir` that [`kept`] does not keep; only files named as
/// scheduled backups are looked at. Answers how many were deleted.
fn prune(dir: &Path, keep_daily: usize, keep_monthly: usize) -> Result<usize> {
    let stamps = scheduled_files(dir)?;
    let keep = kept(&stamps, keep_daily, keep_monthly);
    let mut deleted = 0;
    for stamp in stamps.iter().filter(|s| !keep.contains(*s)) {
        let path = dir.join(file_name(stamp));
        std::fs::remove_file(&path).map_err(io("cannot delete", &path))?;
        deleted += 1;
    }
    Ok(deleted)
}

/// Of the time stamps `YYYYMMDDTHHMMSSZ`, those kept: the newest of each of the newest
/// `daily` days and of each of the newest `monthly` months. The newest backup is always kept.
fn kept(stamps: &[String], daily: usize, monthly: usize) -> std::collections::BTreeSet<String> {
    let mut sorted: Vec<&String> = stamps.iter().collect();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut keep = std::collections::BTreeSet::new();
    let mut pick = |prefix: usize, n: usize| {
        let mut seen = std::collections::BTreeSet::new();
        for s in &sorted {
            if seen.len() == n {
                break;
            }
            if seen.insert(&s[..prefix]) {
                keep.insert((*s).clone());
            }
        }
    };
    pick(8, daily.max(1));
    pick(6, monthly);
    keep
}

fn json_err(e: serde_json::Error) -> Error {
    Error::Backup(format!("a line of the backup: {e}"))
}

fn line(w: &mut impl Write, v: &Value) -> Result<()> {
    serde_json::to_writer(&mut *w, v).map_err(json_err)?;
    w.write_all(b"\n")
        .map_err(|e| Error::Backup(format!("writing the backup: {e}")))
}

fn next_line(r: &mut impl BufRead) -> Result<Option<Value>> {
    let mut s = String::new();
    let n = r.read_line(&mut s).map_err(read_err)?;
    if n == 0 {
        return Ok(None);
    }
    serde_json::from_str(&s).map(Some).map_err(|e| {
        Error::Backup(format!(
            "the backup is damaged (a line does not read: {e}); nothing was restored"
        ))
    })
}

fn read_err(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::InvalidData && e.to_string().contains("passphrase") {
        return Error::Backup(e.to_string());
    }
    Error::Backup(format!(
        "the backup cannot be read (damaged or cut short): {e}; nothing was restored"
    ))
}

fn cell_json(c: &Cell) -> Value {
    match c {
        Cell::Int(v) => json!(v),
        Cell::Bool(v) => json!(v),
        Cell::Text(v) => json!(v),
        Cell::Bytes(None) => json!({ "b64": null }),
        Cell::Bytes(Some(b)) => {
            json!({ "b64": base64::engine::general_purpose::STANDARD.encode(b) })
        }
    }
}

/// A row's value in a column of type `kind` (see [`Cell::kind`]).
fn json_cell(v: &Value, kind: &str) -> Result<Cell> {
    let cell = match v {
        Value::Null => Cell::null(kind).ok_or_else(|| Error::Backup(format!("type {kind}")))?,
        Value::Bool(b) => Cell::Bool(Some(*b)),
        Value::Number(n) => {
            Cell::Int(Some(n.as_i64().ok_or_else(|| {
                Error::Backup(format!("{n} is not a whole number"))
            })?))
        }
        Value::String(s) => Cell::Text(Some(s.clone())),
        Value::Object(o) => match o.get("b64") {
            Some(Value::Null) => Cell::Bytes(None),
            Some(Value::String(s)) => Cell::Bytes(Some(
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| Error::Backup(format!("damaged bytes: {e}")))?,
            )),
            _ => return Err(Error::Backup("an unknown value in a row".into())),
        },
        Value::Array(_) => return Err(Error::Backup("an unknown value in a row".into())),
    };
    if cell.kind() != kind {
        return Err(Error::Backup(format!(
            "a {} value in a {kind} column",
            cell.kind()
        )));
    }
    Ok(cell)
}

/// The body of a backup file, read: checks the magic and mode and undoes the encryption.
fn open_body(mut file: File, secret: Option<&Secret>) -> Result<(Box<dyn BufRead + Send>, bool)> {
    let mut head = [0u8; 10];
    file.read_exact(&mut head)
        .map_err(|_| Error::Backup("this is not a SnapKasir backup (too short)".into()))?;
    if &head[..8] != MAGIC {
        return Err(Error::Backup("this is not a SnapKasir backup".into()));
    }
    if head[8] != FORMAT {
        return Err(Error::Backup(format!(
            "backup file format {} is not known to this server",
            head[8]
        )));
    }
    let body: Box<dyn Read + Send> = match (head[9], secret) {
        (PLAIN, _) => Box::new(BufReader::new(file)),
        (ENCRYPTED, None) => {
            return Err(Error::Backup(
                "this backup is encrypted: give its passphrase (--passphrase-file) or key file \
                 (--key-file)"
                    .into(),
            ));
        }
        (ENCRYPTED, Some(s)) => {
            let mut salt = [0u8; 16];
            let mut prefix = [0u8; NONCE_PREFIX];
            file.read_exact(&mut salt)
                .and_then(|_| file.read_exact(&mut prefix))
                .map_err(|_| Error::Backup("the backup is cut short".into()))?;
            let cipher = XChaCha20Poly1305::new(&s.key(&salt)?);
            Box::new(Opener {
                input: BufReader::new(file),
                stream: Some(DecryptorBE32::from_aead(cipher, &prefix.into())),
                plain: Vec::new(),
                at: 0,
                first: true,
            })
        }
        (m, _) => return Err(Error::Backup(format!("unknown backup mode {m}"))),
    };
    let gz = flate2::read::GzDecoder::new(body);
    Ok((Box::new(BufReader::new(gz)), head[9] == ENCRYPTED))
}

/// Encrypts what is written in [`CHUNK`]-byte chunks: each as a `last` byte, its length
/// (u32, big-endian) and its sealed bytes.
struct Sealer<W: Write> {
    out: W,
    stream: Option<EncryptorBE32<XChaCha20Poly1305>>,
    buf: Vec<u8>,
}

impl<W: Write> Sealer<W> {
    fn seal(&mut self, last: bool) -> std::io::Result<()> {
        let bad = |_| std::io::Error::other("encryption failed");
        let sealed = if last {
            let stream = self
                .stream
                .take()
                .ok_or_else(|| std::io::Error::other("sealed"))?;
            stream.encrypt_last(self.buf.as_slice()).map_err(bad)?
        } else {
            let stream = self
                .stream
                .as_mut()
                .ok_or_else(|| std::io::Error::other("sealed"))?;
            stream.encrypt_next(self.buf.as_slice()).map_err(bad)?
        };
        self.out.write_all(&[u8::from(last)])?;
        self.out.write_all(&(sealed.len() as u32).to_be_bytes())?;
        self.out.write_all(&sealed)?;
        self.buf.clear();
        Ok(())
    }
}

impl<W: Write> Write for Sealer<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.seal(false)?;
        }
        Ok(n)
    }

    /// Flushing ends the stream: the rest is sealed as the last chunk.
    fn flush(&mut self) -> std::io::Result<()> {
        if self.stream.is_some() {
            self.seal(true)?;
        }
        self.out.flush()
    }
}

/// Reads what [`Sealer`] wrote, refusing any chunk that fails its check.
struct Opener<R: Read> {
    input: R,
    stream: Option<DecryptorBE32<XChaCha20Poly1305>>,
    plain: Vec<u8>,
    at: usize,
    first: bool,
}

impl<R: Read> Opener<R> {
    fn refill(&mut self) -> std::io::Result<bool> {
        if self.stream.is_none() {
            return Ok(false);
        }
        let mut head = [0u8; 5];
        self.input.read_exact(&mut head).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "the backup is cut short")
        })?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if len > CHUNK + TAG {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a damaged chunk",
            ));
        }
        let mut sealed = vec![0u8; len];
        self.input.read_exact(&mut sealed).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "the backup is cut short")
        })?;
        let wrong = if self.first {
            "the passphrase or key file does not open this backup (or its first bytes are damaged)"
        } else {
            "a damaged chunk: the backup was changed or cut"
        };
        let opened = if head[0] == 1 {
            let stream = self.stream.take().expect("checked");
            stream.decrypt_last(sealed.as_slice())
        } else {
            let stream = self.stream.as_mut().expect("checked");
            stream.decrypt_next(sealed.as_slice())
        };
        self.plain =
            opened.map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, wrong))?;
        self.at = 0;
        self.first = false;
        Ok(true)
    }
}

impl<R: Read> Read for Opener<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.plain.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = out.len().min(self.plain.len() - self.at);
        out[..n].copy_from_slice(&self.plain[self.at..n + self.at]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(data: &[u8], secret: &Secret) -> Vec<u8> {
        let salt = [7u8; 16];
        let prefix = [3u8; NONCE_PREFIX];
        let cipher = XChaCha20Poly1305::new(&secret.key(&salt).unwrap());
        let mut s = Sealer {
            out: Vec::new(),
            stream: Some(EncryptorBE32::from_aead(cipher, &prefix.into())),
            buf: Vec::new(),
        };
        s.write_all(data).unwrap();
        s.flush().unwrap();
        s.out
    }

    fn opened(sealed: &[u8], secret: &Secret) -> std::io::Result<Vec<u8>> {
        let cipher = XChaCha20Poly1305::new(&secret.key(&[7u8; 16]).unwrap());
        let mut o = Opener {
            input: sealed,
            stream: Some(DecryptorBE32::from_aead(
                cipher,
                &[3u8; NONCE_PREFIX].into(),
            )),
            plain: Vec::new(),
            at: 0,
            first: true,
        };
        let mut out = Vec::new();
        o.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn sealed_chunks_open_only_whole_and_with_the_right_secret() {
        let secret = Secret(b"kata sandi panjang".to_vec());
        let data: Vec<u8> = (0..CHUNK * 2 + 100).map(|i| (i % 251) as u8).collect();
        let s = sealed(&data, &secret);
        assert_eq!(opened(&s, &secret).unwrap(), data);
        // Wrong secret, a flipped byte, a chunk cut off, the last chunk dropped: all refused.
        assert!(opened(&s, &Secret(b"kata sandi salah".to_vec())).is_err());
        let mut flipped = s.clone();
        flipped[CHUNK + 40] ^= 1;
        assert!(opened(&flipped, &secret).is_err());
        assert!(opened(&s[..s.len() - 10], &secret).is_err());
        let first_two = 2 * (5 + CHUNK + TAG);
        assert!(opened(&s[..first_two], &secret).is_err());
    }

    #[test]
    fn retention_keeps_the_newest_of_each_day_and_month() {
        let stamps: Vec<String> = [
            "20261203T020000Z",
            "20261203T010000Z",
            "20261202T020000Z",
            "20261201T020000Z",
            "20261130T020000Z",
            "20261015T020000Z",
            "20260901T020000Z",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let keep = kept(&stamps, 2, 3);
        let keep: Vec<&str> = keep.iter().map(String::as_str).collect();
        // Days: Dec 3 (its newest) and Dec 2; months: Dec, Nov, Oct.
        assert_eq!(
            keep,
            [
                "20261015T020000Z",
                "20261130T020000Z",
                "20261202T020000Z",
                "20261203T020000Z"
            ]
        );
        // Nothing kept is never an answer: the newest stays.
        assert_eq!(kept(&stamps, 0, 0).len(), 1);
    }

    /// A backup of an empty store with `edit` applied to its lines, gzipped again.
    async fn edited_backup(dir: &Path, edit: impl Fn(Vec<String>) -> Vec<String>) -> PathBuf {
        use std::sync::Arc;
        let storage: DynStorage = Arc::new(
            crate::storage::SqliteStorage::open(&dir.join("source"))
                .await
                .unwrap(),
        );
        storage.migrate().await.unwrap();
        let file = dir.join("made.skb");
        backup(&storage, &file, None).await.unwrap();
        // A plain file: the 10-byte head (magic, format, mode), then the gzip body.
        let bytes = std::fs::read(&file).unwrap();
        let (head, body) = bytes.split_at(10);
        let mut text = String::new();
        flate2::read::GzDecoder::new(body)
            .read_to_string(&mut text)
            .unwrap();
        let lines = edit(text.lines().map(String::from).collect());
        let edited = dir.join("edited.skb");
        let mut out = File::create(&edited).unwrap();
        out.write_all(head).unwrap();
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        gz.write_all((lines.join("\n") + "\n").as_bytes()).unwrap();
        gz.finish().unwrap();
        edited
    }

    #[tokio::test]
    async fn a_damaged_row_restores_nothing_and_says_so() {
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        // After the tenants' table header, a row with one value: a file damaged so that it
        // still reads as lines (as a flipped byte can leave it).
        let damaged = edited_backup(dir.path(), |mut lines| {
            let at = lines
                .iter()
                .position(|l| l.contains("\"table\":\"tenants\""))
                .expect("the tenants' header");
            lines.insert(at + 1, "[\"t1\"]".into());
            lines
        })
        .await;
        let target: DynStorage = Arc::new(
            crate::storage::SqliteStorage::open(&dir.path().join("target"))
                .await
                .unwrap(),
        );
        target.migrate().await.unwrap();
        let err = restore(&target, &damaged, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("damaged"), "{err}");
        assert!(err.ends_with("nothing was restored"), "{err}");
        assert_eq!(target.row_counts(&["tenants"]).await.unwrap(), [0]);
    }

    #[test]
    fn cells_round_trip_through_json() {
        for c in [
            Cell::Int(Some(-5)),
            Cell::Bool(Some(true)),
            Cell::Text(Some("a\"b".into())),
            Cell::Bytes(Some(vec![0, 255, 10])),
            Cell::Bytes(None),
        ] {
            assert_eq!(json_cell(&cell_json(&c), c.kind()).unwrap(), c);
        }
        // A null keeps its column's type; a value of another type is refused.
        assert_eq!(json_cell(&Value::Null, "int").unwrap(), Cell::Int(None));
        assert!(json_cell(&json!("5"), "int").is_err());
    }
}
