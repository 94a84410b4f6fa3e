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
    /// Writes this till's whole store into a new folder inside `into` and returns its path.
    /// Consistent while the till sells: the database copy is one SQLite snapshot and each
    /// document is saved whole. The folder appears complete or not at all (written under a
    /// temporary name, then renamed).
    pub fn export_store(&mut self, into: &Path) -> CoreResult<PathBuf> {
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
        for (id, kind, _) in self.documents()? {
            let bytes = self.export_document(&id)?;
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
        let manifest = Manifest {
            format: FORMAT.into(),
            version: 1,
            identity,
            created_at: chrono::Utc::now().to_rfc3339(),
            documents,
        };
        std::fs::write(
            partial.join("manifest.json"),
            serde_json::to_vec_pretty(&manifest).map_err(|e| CoreError::Invalid(e.to_string()))?,
        )?;
        std::fs::rename(&partial, &target)?;
        Ok(target)
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
