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
            let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, sku, name, category_id, price_e4, active FROM products \
                 WHERE {MATCHES} ORDER BY LOWER(name), id LIMIT $3 OFFSET $4"
            )))
            .bind(store_id)
            .bind(&pattern)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
            let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM products WHERE {MATCHES}"
            )))
            .bind(store_id)
            .bind(&pattern)
            .fetch_one(&self.pool)
            .await?;
            Ok((rows, total))
        })
    }
}
