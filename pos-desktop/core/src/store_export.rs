//! A till's whole store written to a folder (a USB stick, a shared drive) while the app runs,
//! and read back to set up a new till of the same store ([`crate::enrolment::enrol_from_export`]).
//!
//! The export is a folder `snapkasir-<store>-<till>-<time>/` holding `terminal.db` (a
//! consistent copy of the SQLite file, SQLite's `VACUUM INTO`, for the record and for support),
//! `documents/<id>.automerge` (every document of the store, saved whole) and `manifest.json`
//! (the store's identity and each document's kind and SHA-256). A new till takes the documents,
//! not the SQLite file: its own journal, outbox and credentials must start empty.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};
use crate::terminal::{Identity, Terminal};

const FORMAT: &str = "snapkasir-store-export";

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    identity: Identity,
    created_at: String,
    documents: Vec<ManifestDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ManifestDoc {
    id: String,
    kind: String,
    sha256: String,
}

/// What [`Terminal::export_store`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    /// The export's folder.
    pub path: PathBuf,
    /// How many documents it holds.
    pub documents: usize,
    /// Its size on disk, database copy included.
    pub bytes: u64,
}

/// A folder an export can go to: a removable drive the system mounted, or the user's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportDestination {
    pub path: PathBuf,
    /// The drive's or folder's name as the cashier knows it.
    pub label: String,
    pub removable: bool,
}

/// Where an export can go: the removable drives mounted under `/media` or `/run/media` (how
/// Linux desktops mount USB sticks; read from `/proc/mounts`), then `fallback` (the user's
/// documents folder). Elsewhere, or with no drive in, only `fallback`.
pub fn export_destinations(fallback: Option<PathBuf>) -> Vec<ExportDestination> {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let mut out: Vec<ExportDestination> = removable_mounts(&mounts)
        .into_iter()
        .filter(|p| p.is_dir())
        .map(|path| ExportDestination {
            label: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
            path,
            removable: true,
        })
        .collect();
    if let Some(path) = fallback {
        out.push(ExportDestination {
            label: path.display().to_string(),
            path,
            removable: false,
        });
    }
    out
}

/// The mount points of `mounts` (the text of `/proc/mounts`) under `/media/` or `/run/media/`,
/// with the kernel's octal escapes (`\040` for a space) undone.
fn removable_mounts(mounts: &str) -> Vec<PathBuf> {
    let unescape = |field: &str| {
        let mut out = String::new();
        let mut rest = field;
        while let Some(i) = rest.find('\\') {
            out.push_str(&rest[..i]);
            let code = rest
                .get(i + 1..i + 4)
                .and_then(|c| u8::from_str_radix(c, 8).ok());
            match code {
                Some(b) => {
                    out.push(b as char);
                    rest = &rest[i + 4..];
                }
                None => {
                    out.push('\\');
                    rest = &rest[i + 1..];
                }
            }
        }
        out.push_str(rest);
        out
    };
    mounts
        .lines()
        .filter_map(|line| line.split(' ').nth(1))
        .map(unescape)
        .filter(|p| p.starts_with("/media/") || p.starts_with("/run/media/"))
        .map(PathBuf::from)
        .collect()
}

/// A store export, read and checked.
#[derive(Debug, Clone)]
pub struct StoreExport {
    /// The identity of the till that made it (its store-wide document ids are the store's).
    pub identity: Identity,
    /// Every document: (id, bytes).
    pub documents: Vec<(String, Vec<u8>)>,
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn bad(dir: &Path, why: impl std::fmt::Display) -> CoreError {
    CoreError::Invalid(format!(
        "{} is not a usable store export: {why}",
        dir.display()
    ))
}

impl Terminal {
    /// Writes this till's whole store into a new folder inside `into` and says what it wrote.
    /// Consistent while the till sells: the database copy is one SQLite snapshot and each
    /// document is saved whole. The folder appears complete or not at all (written under a
    /// temporary name, then renamed).
    pub fn export_store(&mut self, into: &Path) -> CoreResult<ExportSummary> {
        if !into.is_dir() {
            return Err(CoreError::Invalid(format!(
                "{} is not a folder this till can reach",
                into.display()
            )));
        }
        let identity = self.identity()?.clone();
        let name = format!(
            "snapkasir-{}-{}-{}",
            identity.store_code,
            identity.terminal_code,
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        );
        let target = into.join(&name);
        let partial = into.join(format!(".{name}.partial"));
        if target.exists() {
            return Err(CoreError::Invalid(format!(
                "{} exists already",
                target.display()
            )));
        }
        crate::private_files::create_dir(&partial.join("documents"))?;
        let db = partial.join("terminal.db");
        // Created private and empty, then filled by SQLite (as `db::migrate`'s copy).
        crate::private_files::create_private(&db)?;
        self.conn
            .execute("VACUUM INTO ?1", [db.to_string_lossy().as_ref()])?;
        let mut documents = Vec::new();
        let mut bytes_written = std::fs::metadata(&db)?.len();
        for (id, kind, _) in self.documents()? {
            let bytes = self.export_document(&id)?;
            bytes_written += bytes.len() as u64;
            crate::chunks::ChunkKey::new(&[id.as_str()])?;
            std::fs::write(
                partial.join("documents").join(format!("{id}.automerge")),
                &bytes,
            )?;
            documents.push(ManifestDoc {
                sha256: hex_sha256(&bytes),
                id,
                kind,
            });
        }
        let documents_written = documents.len();
        let manifest = Manifest {
            format: FORMAT.into(),
            version: 1,
            identity,
            created_at: chrono::Utc::now().to_rfc3339(),
            documents,
        };
        let manifest =
            serde_json::to_vec_pretty(&manifest).map_err(|e| CoreError::Invalid(e.to_string()))?;
        bytes_written += manifest.len() as u64;
        std::fs::write(partial.join("manifest.json"), manifest)?;
        std::fs::rename(&partial, &target)?;
        Ok(ExportSummary {
            path: target,
            documents: documents_written,
            bytes: bytes_written,
        })
    }
}

/// Reads the export in `dir`, checking its manifest and every document's SHA-256.
pub fn read_store_export(dir: &Path) -> CoreResult<StoreExport> {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).map_err(|e| bad(dir, e))?)
            .map_err(|e| bad(dir, format!("its manifest does not read: {e}")))?;
    if manifest.format != FORMAT || manifest.version != 1 {
        return Err(bad(dir, "an unknown format"));
    }
    let mut documents = Vec::with_capacity(manifest.documents.len());
    for d in &manifest.documents {
        crate::chunks::ChunkKey::new(&[d.id.as_str()]).map_err(|e| bad(dir, e))?;
        let path = dir.join("documents").join(format!("{}.automerge", d.id));
        let bytes = std::fs::read(&path).map_err(|e| bad(dir, format!("{}: {e}", d.id)))?;
        if hex_sha256(&bytes) != d.sha256 {
            return Err(bad(
                dir,
                format!("document {} was changed or damaged", d.id),
            ));
        }
        documents.push((d.id.clone(), bytes));
    }
    Ok(StoreExport {
        identity: manifest.identity,
        documents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removable_drives_are_the_mounts_under_media_with_spaces_unescaped() {
        let mounts = "/dev/vda1 / ext4 rw,relatime 0 0\n\
            /dev/sdb1 /media/kasir/FLASH\\040DISK vfat rw,nosuid 0 0\n\
            /dev/sdc1 /run/media/siti/USB vfat rw 0 0\n\
            tmpfs /run/user/1000 tmpfs rw 0 0\n\
            /dev/sdd1 /mediabox ext4 rw 0 0\n";
        assert_eq!(
            removable_mounts(mounts),
            vec![
                PathBuf::from("/media/kasir/FLASH DISK"),
                PathBuf::from("/run/media/siti/USB")
            ]
        );
    }
}
