//! SQL of [`BackupStorage`].
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).
//! Table and column names come from the caller's list or a backup file: each is checked to be
//! a plain identifier before it goes into SQL.

use futures::TryStreamExt;
use futures::future::BoxFuture;
use sqlx::{Column, Row, TypeInfo};

use super::{Backend, Db, SNAPSHOT_SQL};
use crate::error::{Error, Result};
use crate::storage::{BackupItem, BackupStorage, Cell};

type DbRow = <Db as sqlx::Database>::Row;

/// `name` if it is a lower-case SQL identifier (`[a-z_][a-z0-9_]*`), else an error.
fn identifier(name: &str) -> Result<&str> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(name)
    } else {
        Err(Error::Backup(format!(
            "{name:?} is not a table or column name"
        )))
    }
}

/// Column `i` of `row` by its declared type.
fn cell(row: &DbRow, i: usize) -> Result<Cell> {
    let ty = row.columns()[i].type_info().name().to_ascii_uppercase();
    Ok(if ty.contains("INT") {
        Cell::Int(row.try_get(i)?)
    } else if ty.contains("BOOL") {
        Cell::Bool(row.try_get(i)?)
    } else if ty == "BYTEA" || ty == "BLOB" {
        Cell::Bytes(row.try_get(i)?)
    } else {
        Cell::Text(row.try_get(i)?)
    })
}

/// A backup made before schema 18 (19 for `automerge_chunks`) has no `tenant_id` in the tables
/// that gained it (every tenant-owned table leads its key with it since): the row's tenant is
/// its store's, terminal's, charge's or document claim's, whose table the restore has already
/// written (parents come first). A chunk of no claimed document (samod's storage id) goes to
/// the empty tenant, which no repo reads: each tenant's repos then make their own. `None` when
/// the row has its tenant or belongs to no tenant.
fn tenant_of_older_row(columns: &[String]) -> Option<String> {
    if columns.iter().any(|c| c == "tenant_id") {
        return None;
    }
    let at = |name: &str| columns.iter().position(|c| c == name).map(|i| i + 1);
    if let Some(i) = at("store_id") {
        Some(format!("(SELECT tenant_id FROM stores WHERE id = ${i})"))
    } else if let Some(i) = at("terminal_id") {
        Some(format!("(SELECT tenant_id FROM terminals WHERE id = ${i})"))
    } else if let Some(i) = at("payment_id") {
        Some(format!(
            "(SELECT tenant_id FROM gateway_charges WHERE payment_id = ${i})"
        ))
    } else {
        at("doc_id").map(|i| {
            format!("COALESCE((SELECT tenant_id FROM doc_claims WHERE doc_id = ${i}), '')")
        })
    }
}

impl BackupStorage for Backend {
    fn read_snapshot<'a>(
        &'a self,
        tables: &'a [&'a str],
        sink: &'a mut (dyn FnMut(BackupItem) -> Result<()> + Send),
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            if let Some(sql) = SNAPSHOT_SQL {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
            for table in tables {
                let table = identifier(table)?;
                let sql = format!("SELECT * FROM {table}");
                let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *tx);
                let mut header = false;
                while let Some(row) = rows.try_next().await? {
                    let cells = (0..row.columns().len())
                        .map(|i| cell(&row, i))
                        .collect::<Result<Vec<_>>>()?;
                    if !header {
                        let columns = row.columns().iter().map(|c| c.name().to_string());
                        sink(BackupItem::Table {
                            name: table.to_string(),
                            columns: columns.collect(),
                            kinds: cells.iter().map(Cell::kind).collect(),
                        })?;
                        header = true;
                    }
                    sink(BackupItem::Row(cells))?;
                }
                if !header {
                    // An empty table still has its header, so a restore knows it was read.
                    sink(BackupItem::Table {
                        name: table.to_string(),
                        columns: Vec::new(),
                        kinds: Vec::new(),
                    })?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn row_counts<'a>(&'a self, tables: &'a [&'a str]) -> BoxFuture<'a, Result<Vec<i64>>> {
        Box::pin(async move {
            let mut counts = Vec::with_capacity(tables.len());
            for table in tables {
                let sql = format!("SELECT COUNT(*) FROM {}", identifier(table)?);
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&self.pool)
                    .await?;
                counts.push(n);
            }
            Ok(counts)
        })
    }

    fn write_rows<'a>(
        &'a self,
        allowed: &'a [&'a str],
        replace: &'a [&'a str],
        next: &'a mut (dyn FnMut() -> Result<Option<BackupItem>> + Send),
    ) -> BoxFuture<'a, Result<Vec<(String, u64)>>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            for table in replace {
                let sql = format!("DELETE FROM {}", identifier(table)?);
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *tx)
                    .await?;
            }
            let mut written: Vec<(String, u64)> = Vec::new();
            let mut insert: Option<String> = None;
            while let Some(item) = next()? {
                match item {
                    BackupItem::Table { name, columns, .. } => {
                        if !allowed.contains(&name.as_str()) {
                            return Err(Error::Backup(format!(
                                "the file holds a table this server does not restore: {name:?}"
                            )));
                        }
                        let names = columns
                            .iter()
                            .map(|c| identifier(c).map(|c| format!("\"{c}\"")))
                            .collect::<Result<Vec<_>>>()?;
                        let mut names = names;
                        let mut marks = (1..=names.len())
                            .map(|i| format!("${i}"))
                            .collect::<Vec<_>>();
                        if let Some(tenant) = tenant_of_older_row(&columns) {
                            names.insert(0, "\"tenant_id\"".into());
                            marks.insert(0, tenant);
                        }
                        insert = Some(format!(
                            "INSERT INTO {} ({}) VALUES ({})",
                            identifier(&name)?,
                            names.join(", "),
                            marks.join(", ")
                        ));
                        written.push((name, 0));
                    }
                    BackupItem::Row(cells) => {
                        let (Some(sql), Some((_, n))) = (&insert, written.last_mut()) else {
                            return Err(Error::Backup("a row before any table".into()));
                        };
                        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                        for c in cells {
                            q = match c {
                                Cell::Int(v) => q.bind(v),
                                Cell::Bool(v) => q.bind(v),
                                Cell::Text(v) => q.bind(v),
                                Cell::Bytes(v) => q.bind(v),
                            };
                        }
                        q.execute(&mut *tx).await?;
                        *n += 1;
                    }
                }
            }
            tx.commit().await?;
            Ok(written)
        })
    }

    fn schema_version(&self) -> BoxFuture<'_, Result<i64>> {
        Box::pin(async move {
            let v: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                    .fetch_one(&self.pool)
                    .await?;
            Ok(v.unwrap_or(0))
        })
    }
}
