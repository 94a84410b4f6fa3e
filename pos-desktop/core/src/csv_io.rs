//! Catalog import and export as CSV, in the one format of [`shared_model::catalog_csv`] (the
//! server imports and exports the same files with the same row errors).
//!
//! Bad rows are reported with their line numbers, columns and reasons while the good rows
//! import; the good rows are written in one transaction, so a failure or a cancel writes
//! nothing. What the import asks of the catalog (a SKU's product, who holds a code, a
//! category by name) is answered from the query tables.

use std::collections::HashMap;
use std::io::{Read, Write};

use rusqlite::{OptionalExtension, params};
use shared_model::catalog::{Category, Product};
use shared_model::catalog_csv::{self, CatalogLookup, Exporter, FileError};
use shared_model::documents::catalog_entries;
use shared_model::ids::{CategoryId, ProductId};
use tracing::{info, instrument};

use crate::docs::{put_entries, root_map};
use crate::error::{CoreError, CoreResult};
use crate::projection;
use crate::terminal::Terminal;

pub use shared_model::catalog_csv::{ImportProgress, ImportReport, PROGRESS_EVERY, RowError};

/// The query tables as the import's [`CatalogLookup`].
struct TillCatalog<'a>(&'a Terminal);

impl CatalogLookup for TillCatalog<'_> {
    fn product_by_sku(&self, sku: &str) -> Result<Option<Product>, String> {
        self.0.product_by_sku(sku).map_err(|e| e.to_string())
    }

    fn sku_holder(&self, sku: &str, except: ProductId) -> Result<Option<String>, String> {
        self.0
            .conn
            .prepare_cached("SELECT sku FROM products WHERE sku = ?1 AND product_id <> ?2 LIMIT 1")
            .and_then(|mut s| {
                s.query_row(params![sku, except.to_string()], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| e.to_string())
    }

    fn barcode_holder(&self, code: &str, except: ProductId) -> Result<Option<String>, String> {
        self.0
            .conn
            .prepare_cached(
                "SELECT p.sku FROM barcodes b JOIN products p ON p.product_id = b.product_id
                 WHERE b.code = ?1 AND b.product_id <> ?2 LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![code, except.to_string()], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| e.to_string())
    }

    fn category_named(&self, lowercase_name: &str) -> Result<Option<CategoryId>, String> {
        Ok(self
            .0
            .categories()
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|c| c.name.to_lowercase() == lowercase_name)
            .map(|c| c.id))
    }
}

fn file_error(e: FileError) -> CoreError {
    match e {
        FileError::Cancelled | FileError::NoTaxRules => CoreError::Invalid(e.to_string()),
        FileError::NoHeader | FileError::MissingColumn(_) => CoreError::Csv(e.to_string()),
    }
}

/// Writes the imported products into the catalog document, in the one change of the import:
/// a new product (its id is fresh, so the document cannot hold it) with puts only, an updated
/// one through autosurgeon so that its unchanged fields stay as they are and merge.
fn write_imported_products(
    doc: &mut automerge::AutoCommit,
    rows: &[(Product, bool)],
) -> CoreResult<()> {
    let updated: Vec<(String, &Product)> = rows
        .iter()
        .filter(|(_, update)| *update)
        .map(|(p, _)| (p.id.to_string(), p))
        .collect();
    put_entries(doc, "products", &updated)?;
    let products = root_map(doc, "products")?;
    for (p, _) in rows.iter().filter(|(_, update)| !*update) {
        catalog_entries::put_new_product(doc, &products, p)?;
    }
    Ok(())
}

impl Terminal {
    /// Imports products from CSV. `progress` is called as rows are read and written; returning
    /// `false` from it cancels the import (nothing is written).
    #[instrument(skip_all)]
    pub fn import_catalog_csv<R: Read>(
        &mut self,
        mut input: R,
        mut progress: impl FnMut(&ImportProgress) -> bool,
    ) -> CoreResult<ImportReport> {
        let settings = self.settings()?;
        let mut bytes = Vec::new();
        input
            .read_to_end(&mut bytes)
            .map_err(|e| CoreError::Csv(e.to_string()))?;
        let plan = catalog_csv::plan_import(&bytes, &settings, &TillCatalog(self), &mut progress)
            .map_err(file_error)?;
        let doc_id = self.identity()?.catalog_doc.clone();
        let mut p2 = plan.progress;
        let rows = &plan.products;
        let new_categories = &plan.new_categories;
        self.write(|tx, d| {
            let doc = d.get_mut(tx, &doc_id)?;
            let cats: Vec<(String, &Category)> = new_categories
                .iter()
                .map(|c| (c.id.to_string(), c))
                .collect();
            put_entries(doc, "categories", &cats)?;
            for c in new_categories {
                projection::upsert_category(tx, c)?;
            }
            write_imported_products(doc, rows)?;
            projection::upsert_products(tx, rows.iter().map(|(product, _)| product), || {
                p2.rows_written += 1;
                if p2.rows_written.is_multiple_of(PROGRESS_EVERY) && !progress(&p2) {
                    return Err(CoreError::Invalid("import cancelled".into()));
                }
                Ok(())
            })
        })?;
        progress(&p2);
        let report = plan.report;
        info!(
            created = report.created,
            updated = report.updated,
            rejected = report.rejected.len(),
            "catalog imported"
        );
        Ok(report)
    }

    /// Writes the catalog as CSV (the import's columns), ordered by SKU. Returns the rows
    /// written.
    #[instrument(skip_all)]
    pub fn export_catalog_csv<W: Write>(&self, mut out: W) -> CoreResult<u64> {
        let names: HashMap<CategoryId, String> = self
            .categories()?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let mut e = Exporter::new();
        let mut stmt = self
            .conn
            .prepare("SELECT data FROM products ORDER BY sku")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for d in rows {
            let p: Product = serde_json::from_str(&d?)?;
            let category = p
                .category_id
                .and_then(|c| names.get(&c))
                .map(String::as_str)
                .unwrap_or("");
            e.push(&p, category);
        }
        let n = e.rows();
        out.write_all(&e.finish())
            .and_then(|()| out.flush())
            .map_err(|e| CoreError::Csv(e.to_string()))?;
        Ok(n)
    }
}
