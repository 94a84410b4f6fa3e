//! Whole-database reads and writes for backups ([`BackupStorage`]): the listed tables read in
//! one consistent snapshot while the server runs, and rows written back into an empty database
//! in one transaction. The file format is `crate::backup`'s; this only moves rows.

use futures::future::BoxFuture;

use crate::error::Result;

/// A column's value. The schema uses four SQL types on both backends (`BIGINT`, `BOOLEAN`,
/// `TEXT`, `BYTEA`/`BLOB`); a null keeps its column's type so it binds on PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Int(Option<i64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

impl Cell {
    /// The name of this cell's type: `int`, `bool`, `text` or `bytes`.
    pub fn kind(&self) -> &'static str {
        match self {
            Cell::Int(_) => "int",
            Cell::Bool(_) => "bool",
            Cell::Text(_) => "text",
            Cell::Bytes(_) => "bytes",
        }
    }

    /// A null of the type named `kind` (see [`Cell::kind`]).
    pub fn null(kind: &str) -> Option<Cell> {
        Some(match kind {
            "int" => Cell::Int(None),
            "bool" => Cell::Bool(None),
            "text" => Cell::Text(None),
            "bytes" => Cell::Bytes(None),
            _ => return None,
        })
    }
}

/// What a snapshot read hands to its sink, in order: each table's header (its columns and
/// their types, see [`Cell::kind`]), then its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupItem {
    Table {
        name: String,
        columns: Vec<String>,
        kinds: Vec<&'static str>,
    },
    Row(Vec<Cell>),
}

/// Reads every row of tables, then writes rows back.
pub trait BackupStorage: Send + Sync {
    /// Reads `tables` in this order, every row, in one snapshot (PostgreSQL: a repeatable-read,
    /// read-only transaction; SQLite: one read transaction), handing each table's header and
    /// rows to `sink` as they come. A sink error stops the read and is returned.
    fn read_snapshot<'a>(
        &'a self,
        tables: &'a [&'a str],
        sink: &'a mut (dyn FnMut(BackupItem) -> Result<()> + Send),
    ) -> BoxFuture<'a, Result<()>>;

    /// Rows in `tables` (how many each has), to tell an empty database.
    fn row_counts<'a>(&'a self, tables: &'a [&'a str]) -> BoxFuture<'a, Result<Vec<i64>>>;

    /// Writes the items `next` yields (a table header, then its rows; `None` ends) in one
    /// transaction: all or nothing. `replace` tables are emptied first; a header naming a table
    /// not in `allowed` is refused. Answers the rows written per table, in order.
    fn write_rows<'a>(
        &'a self,
        allowed: &'a [&'a str],
        replace: &'a [&'a str],
        next: &'a mut (dyn FnMut() -> Result<Option<BackupItem>> + Send),
    ) -> BoxFuture<'a, Result<Vec<(String, u64)>>>;

    /// The highest migration applied (the schema version).
    fn schema_version(&self) -> BoxFuture<'_, Result<i64>>;
}
