//! Opening the terminal's SQLite file: pragmas, migrations, and the backup taken before them.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use tracing::info;

use crate::error::{CoreError, CoreResult};

/// One schema migration: its version (1, 2, …) and SQL.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub sql: &'static str,
}

/// A [`Migration`] from its version and its file in `migrations/terminal/`.
macro_rules! migration {
    ($version:literal, $file:literal) => {
        Migration {
            version: $version,
            sql: include_str!(concat!("../../../migrations/terminal/", $file)),
        }
    };
}

/// The terminal schema, from `migrations/terminal/`.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_init.sql"),
    migration!(2, "0002_promotions.sql"),
    migration!(3, "0003_print_queue.sql"),
    migration!(4, "0004_sync.sql"),
    migration!(5, "0005_baseline_included.sql"),
    migration!(6, "0006_legacy_print_jobs.sql"),
    migration!(7, "0007_app.sql"),
    migration!(8, "0008_gateway_payments.sql"),
    migration!(9, "0009_receipt_sends.sql"),
    migration!(11, "0011_search_prefixes.sql"),
    migration!(12, "0012_outbox_holds_unprojected_sales.sql"),
];

/// How long a writer waits for another connection's lock before giving up.
pub const BUSY_TIMEOUT_MS: u64 = 5_000;

/// Opens the file with WAL, `synchronous=FULL` (every transaction on this connection records
/// money or stock, or may) and a busy timeout. The file is created private, or tightened when it
/// is not ([`crate::private_files`]).
pub fn connect(path: &Path) -> CoreResult<Connection> {
    crate::private_files::prepare_database(path)?;
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(CoreError::Invalid(format!(
            "{} cannot use WAL (journal mode {mode})",
            path.display()
        )));
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    Ok(conn)
}

pub fn schema_version(conn: &Connection) -> CoreResult<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// The backup file name for a migration from `from` to `to`.
pub fn backup_path(path: &Path, from: u32, to: u32) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "terminal.db".into());
    path.with_file_name(format!("{name}.v{from}-to-v{to}.{stamp}.bak"))
}

/// Applies the pending migrations, each in its own transaction. When the file already holds a
/// schema, a consistent copy of it (`VACUUM INTO`) is written next to it first; the path of
/// that copy is returned.
pub fn migrate(
    conn: &mut Connection,
    path: &Path,
    migrations: &[Migration],
) -> CoreResult<Option<PathBuf>> {
    let current = schema_version(conn)?;
    let latest = migrations.iter().map(|m| m.version).max().unwrap_or(0);
    if current > latest {
        return Err(CoreError::SchemaTooNew {
            found: current,
            known: latest,
        });
    }
    if current == latest {
        return Ok(None);
    }
    let backup = if current > 0 {
        let to = backup_path(path, current, latest);
        // The copy holds the same secrets: created private, then filled by SQLite.
        crate::private_files::create_private(&to)?;
        conn.execute("VACUUM INTO ?1", [to.to_string_lossy().as_ref()])?;
        info!(from = current, to = latest, backup = %to.display(), "backed up before migrating");
        Some(to)
    } else {
        None
    };
    for m in migrations.iter().filter(|m| m.version > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(m.sql).map_err(|e| CoreError::Migration {
            version: m.version,
            reason: e.to_string(),
        })?;
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
        info!(version = m.version, "migrated terminal store");
    }
    Ok(backup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_an_existing_file_backs_it_up_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = connect(&path).unwrap();
        assert_eq!(migrate(&mut conn, &path, MIGRATIONS).unwrap(), None);
        conn.execute(
            "INSERT INTO receipt_sequences (business_date, last_sequence) VALUES ('2026-01-01', 7)",
            [],
        )
        .unwrap();
        // A migration after the last real one.
        let known = MIGRATIONS.iter().map(|m| m.version).max().unwrap();
        let next = known + 1;
        let mut with_next = MIGRATIONS.to_vec();
        with_next.push(Migration {
            version: next,
            sql: "ALTER TABLE receipt_sequences ADD COLUMN note TEXT;",
        });
        let backup = migrate(&mut conn, &path, &with_next).unwrap().unwrap();
        assert!(backup.exists());
        assert_eq!(schema_version(&conn).unwrap(), next);
        let old = Connection::open(&backup).unwrap();
        assert_eq!(schema_version(&old).unwrap(), known);
        let seq: i64 = old
            .query_row("SELECT last_sequence FROM receipt_sequences", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(seq, 7);
        // Opening again with the same migrations changes nothing and takes no backup.
        assert_eq!(migrate(&mut conn, &path, &with_next).unwrap(), None);
        // A file from a newer build is refused, not downgraded.
        let err = migrate(&mut conn, &path, MIGRATIONS).unwrap_err();
        assert!(matches!(
            err,
            CoreError::SchemaTooNew { found, known: k } if found == next && k == known
        ));
    }

    #[test]
    fn a_version_1_file_is_upgraded_with_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = connect(&path).unwrap();
        migrate(&mut conn, &path, &MIGRATIONS[..1]).unwrap();
        drop(conn);
        let t = crate::Terminal::open(&path).unwrap();
        let backup = t.backup_taken().unwrap().to_path_buf();
        assert!(backup.to_string_lossy().contains(".v1-to-v"));
        assert_eq!(
            schema_version(&Connection::open(&backup).unwrap()).unwrap(),
            1
        );
        drop(t);
        let t = crate::Terminal::open(&path).unwrap();
        assert!(t.backup_taken().is_none());
    }

    #[test]
    fn a_failing_migration_leaves_the_old_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = connect(&path).unwrap();
        migrate(&mut conn, &path, MIGRATIONS).unwrap();
        let known = MIGRATIONS.iter().map(|m| m.version).max().unwrap();
        let mut bad = MIGRATIONS.to_vec();
        bad.push(Migration {
            version: known + 1,
            sql: "CREATE TABLE x (a); THIS IS NOT SQL;",
        });
        let err = migrate(&mut conn, &path, &bad).unwrap_err();
        assert!(matches!(err, CoreError::Migration { version, .. } if version == known + 1));
        assert_eq!(schema_version(&conn).unwrap(), known);
        let has_x: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'x'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(has_x, 0);
    }
}
