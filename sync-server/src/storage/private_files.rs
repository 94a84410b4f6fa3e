//! The embedded store's SQLite file holds secrets: the JWT signing key, hashed credentials, the
//! stores' LAN keys and every document. With the default permissions (0644 under the usual
//! umask) any other account on the machine could copy them, so the data directory is created
//! 0700, the database file is created 0600 before SQLite opens it (SQLite gives its `-wal` and
//! `-shm` the permissions of the database file), and files left wider by an older version are
//! tightened on open. Unix only; elsewhere the directory's ACL decides.
//!
//! pos-core does the same for the till's file (`pos_core::private_files`): the server never
//! depends on terminal code, and these few lines of `std` are not worth a crate of their own.

use std::path::{Path, PathBuf};

/// Creates `dir` and its missing parents 0700; an existing directory is left as it is (the
/// operator may have chosen its group on purpose).
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the database file `path` empty and 0600 when missing; otherwise tightens it and its
/// `-wal`, `-shm` and `-journal` to 0600.
pub fn prepare_database(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    for file in ["", "-wal", "-shm", "-journal"].map(|suffix| with_suffix(path, suffix)) {
        if file.exists() {
            tighten(&file)?;
        }
    }
    Ok(())
}

/// Removes every permission of the group and of others (Unix).
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
