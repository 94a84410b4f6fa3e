//! The till's SQLite file holds secrets: the device credential, the store key, the cashiers' PIN
//! hashes and every document of the store. With the default permissions (0644 under the usual
//! umask) any other account on the machine could copy them, so the file and its `-wal`, `-shm`
//! and `-journal` companions are made readable by their owner only (0600), a data directory the
//! till creates is 0700, and a file left with wider permissions by an older version is tightened
//! when it is opened.
//!
//! SQLite creates `-wal`, `-shm` and `-journal` with the permissions of the database file, so
//! creating the database file 0600 before SQLite opens it covers them; they are tightened on
//! open too, in case they outlived an older version. Unix only: on Windows the files inherit the
//! ACL of the user's profile directory, which is already private.
//!
//! The sync server's embedded store does the same for its file (`sync-server`'s
//! `storage::private_files`): the server never depends on terminal code, and these few lines of
//! `std` are not worth a crate of their own.

use std::path::{Path, PathBuf};

/// The companions SQLite keeps next to a database file.
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// Creates `dir` and its missing parents, each readable by its owner only (0700 on Unix).
/// Directories that already exist are left as they are.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Makes the database file `path` private before SQLite opens it: creates it empty with 0600
/// when missing, otherwise tightens it and any companion (`-wal`, `-shm`, `-journal`) to 0600.
pub fn prepare_database(path: &Path) -> std::io::Result<()> {
    create_private(path)?;
    for companion in COMPANIONS.map(|suffix| with_suffix(path, suffix)) {
        if companion.exists() {
            tighten(&companion)?;
        }
    }
    Ok(())
}

/// Creates `path` empty and private (0600) unless it exists, in which case it is tightened.
/// For files SQLite is about to write, such as the target of `VACUUM INTO`.
pub fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    tighten(path)
}

/// Removes every permission of the group and of others from `path` (Unix).
fn tighten(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_and_directories_are_private_and_old_ones_are_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&tmp.path().join("a")), 0o700);

        let db = dir.join("terminal.db");
        prepare_database(&db).unwrap();
        assert_eq!(mode(&db), 0o600);

        let wal = with_suffix(&db, "-wal");
        std::fs::write(&wal, b"").unwrap();
        for p in [&db, &wal] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        prepare_database(&db).unwrap();
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
    }
}
