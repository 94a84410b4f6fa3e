//! SQL of [`CatalogStorage`].
//!
//! Compiled once per backend, with `super::Backend` the backend's storage type (see `mod.rs`).

use futures::future::BoxFuture;

use super::Backend;
use crate::error::Result;
use crate::storage::{CatalogListRow, CatalogStorage};

/// `query` as a `LIKE` pattern matching it anywhere, its wildcards escaped with `\`.
fn contains_pattern(query: &str) -> String {
    let mut p = String::with_capacity(query.len() + 2);
    p.push('%');
    for c in query.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

const MATCHES: &str =
    "store_id = $1 AND (LOWER(name) LIKE $2 ESCAPE '\\' OR LOWER(sku) LIKE $2 ESCAPE '\\')";

/// A catalog row with the number of rows matching in all.
#[derive(sqlx::FromRow)]
struct CountedRow {
    #[sqlx(flatten)]
    row: CatalogListRow,
    total: i64,
}

impl CatalogStorage for Backend {
    fn catalog_products<'a>(
        &'a self,
        store_id: &'a str,
        query: &'a str,
        limit: i64,
        offset: i64,
    ) -> BoxFuture<'a, Result<(Vec<CatalogListRow>, i64)>> {
        Box::pin(async move {
            let pattern = contains_pattern(query.trim());
            // The page and its total come from one statement, so one snapshot: a projection
            // committing between two reads would otherwise pair a total with another page.
            let rows: Vec<CountedRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, sku, name, category_id, price_e4, active, COUNT(*) OVER () AS total \
                 FROM products WHERE {MATCHES} ORDER BY LOWER(name), id LIMIT $3 OFFSET $4"
            )))
            .bind(store_id)
            .bind(&pattern)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
            let total = match rows.first() {
                Some(r) => r.total,
                // An empty first page is itself the answer; past the end, count apart.
                None if offset == 0 => 0,
                None => {
                    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT COUNT(*) FROM products WHERE {MATCHES}"
                    )))
                    .bind(store_id)
                    .bind(&pattern)
                    .fetch_one(&self.pool)
                    .await?
                }
            };
            Ok((rows.into_iter().map(|r| r.row).collect(), total))
        })
    }
}
