//! Reads of a store's projected catalog (the `products` rows its catalog document projects
//! to) for the catalog API and pages: a page of products, searched by name or SKU.

use futures::future::BoxFuture;

use crate::error::Result;
use crate::storage::CatalogListRow;

/// Catalog reads.
pub trait CatalogStorage: Send + Sync {
    /// Up to `limit` products of the store from `offset`, by name then id, whose name or SKU
    /// contains `query` (case-insensitive for ASCII; every product when empty), and how many
    /// match in all.
    fn catalog_products<'a>(
        &'a self,
        store_id: &'a str,
        query: &'a str,
        limit: i64,
        offset: i64,
    ) -> BoxFuture<'a, Result<(Vec<CatalogListRow>, i64)>>;
}
