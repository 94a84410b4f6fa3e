//! Catalog import and export as CSV.
//!
//! Columns (header required, order free, names case-insensitive): `sku`, `name`, `price`
//! (required) and `unit` (pcs/kg/g), `tax_class`, `category` (by name, created when new),
//! `barcodes` (separated by `|` or `;`), `cost`, `low_stock_threshold`, `active` (1/0,
//! yes/no, true/false). A row whose SKU exists updates that product (its variants are kept).
//! Bad rows are reported with their line numbers and reasons while the good rows import; the
//! good rows are written in one transaction, so a failure or a cancel writes nothing.
//!
//! Text cells are written through [`csv_cell::neutralise`] (a product named `=HYPERLINK(…)` must
//! not run as a formula in the owner's spreadsheet) and every cell read goes through
//! [`csv_cell::restore`], so an export imports back unchanged; numbers are written as numbers.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared_model::barcode::Barcode;
use shared_model::catalog::{Category, Product, Unit};
use shared_model::codec::Timestamp;
use shared_model::csv_cell;
use shared_model::ids::CategoryId;
use shared_model::money::{Money, Quantity};
use tracing::{info, instrument};

use crate::catalog::check_unique_codes;
use crate::docs::put_entries;
use crate::error::{CoreError, CoreResult};
use crate::projection;
use crate::terminal::Terminal;

/// Progress of an import, reported every [`PROGRESS_EVERY`] rows and at the end of each phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProgress {
    pub rows_read: u64,
    pub rows_written: u64,
    pub rejected: u64,
}

pub const PROGRESS_EVERY: u64 = 1_000;

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    pub sku: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub categories_created: u64,
    pub rejected: Vec<RowError>,
}

const COLUMNS: [&str; 10] = [
    "sku",
    "name",
    "price",
    "unit",
    "tax_class",
    "category",
    "barcodes",
    "cost",
    "low_stock_threshold",
    "active",
];

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "1" | "yes" | "y" | "true" | "ya" => Ok(true),
        "0" | "no" | "n" | "false" | "tidak" => Ok(false),
        other => Err(format!("active: {other:?} is not yes/no")),
    }
}

fn parse_decimal(field: &str, s: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(s.trim()).map_err(|_| format!("{field}: {s:?} is not a number"))
}

impl Terminal {
    /// Imports products from CSV. `progress` is called as rows are read and written; returning
    /// `false` from it cancels the import (nothing is written).
    #[instrument(skip_all)]
    pub fn import_catalog_csv<R: Read>(
        &mut self,
        input: R,
        mut progress: impl FnMut(&ImportProgress) -> bool,
    ) -> CoreResult<ImportReport> {
        let settings = self.settings()?;
        let currency = settings.currency();
        let default_tax = settings
            .tax_rules
            .first()
            .map(|t| t.class.clone())
            .ok_or_else(|| CoreError::Invalid("the store has no tax rules".into()))?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(input);
        let headers = reader.headers()?.clone();
        let mut col: HashMap<&str, usize> = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let h = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
            if let Some(c) = COLUMNS.iter().find(|c| **c == h) {
                col.insert(c, i);
            }
        }
        for required in ["sku", "name", "price"] {
            if !col.contains_key(required) {
                return Err(CoreError::Csv(format!(
                    "the header has no {required:?} column"
                )));
            }
        }
        let mut categories: HashMap<String, CategoryId> = self
            .categories()?
            .into_iter()
            .map(|c| (c.name.to_lowercase(), c.id))
            .collect();
        let mut new_categories: Vec<Category> = Vec::new();
        let mut report = ImportReport::default();
        let mut p = ImportProgress::default();
        let mut rows: Vec<(Product, bool)> = Vec::new();
        let mut seen_skus: HashSet<String> = HashSet::new();
        let mut seen_codes: HashSet<String> = HashSet::new();
        let mut record = csv::StringRecord::new();
        loop {
            let line_hint = reader.position().line();
            let more = match reader.read_record(&mut record) {
                Ok(m) => m,
                Err(e) => {
                    // A malformed record (e.g. bad UTF-8): report it and go on.
                    let line = e.position().map(|p| p.line()).unwrap_or(line_hint);
                    report.rejected.push(RowError {
                        line,
                        sku: None,
                        reason: e.to_string(),
                    });
                    p.rows_read += 1;
                    p.rejected += 1;
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        return Err(e.into());
                    }
                    continue;
                }
            };
            if !more {
                break;
            }
            p.rows_read += 1;
            let line = record.position().map(|p| p.line()).unwrap_or(line_hint);
            let get =
                |c: &str| csv_cell::restore(col.get(c).and_then(|i| record.get(*i)).unwrap_or(""));
            if record.iter().all(|f| f.is_empty()) {
                continue;
            }
            let sku = get("sku").to_string();
            let result = (|| -> Result<(Product, bool), String> {
                if !seen_skus.insert(sku.clone()) {
                    return Err(format!("SKU {sku:?} appears earlier in the file"));
                }
                let existing = self.product_by_sku(&sku).map_err(|e| e.to_string())?;
                let is_update = existing.is_some();
                let price = Money(parse_decimal("price", get("price"))?);
                let mut product = existing
                    .unwrap_or_else(|| Product::new(&sku, get("name"), price, &default_tax));
                product.name = get("name").to_string();
                product.price = price;
                if col.contains_key("unit") {
                    product.unit = Unit::parse(get("unit")).map_err(|e| e.to_string())?;
                }
                if col.contains_key("tax_class") && !get("tax_class").is_empty() {
                    product.tax_class = get("tax_class").to_string();
                }
                settings
                    .tax_rule(&product.tax_class)
                    .map_err(|e| e.to_string())?;
                if col.contains_key("cost") {
                    product.cost = match get("cost") {
                        "" => None,
                        s => Some(Money(parse_decimal("cost", s)?)),
                    };
                }
                if col.contains_key("low_stock_threshold") {
                    product.low_stock_threshold = match get("low_stock_threshold") {
                        "" => None,
                        s => Some(Quantity(parse_decimal("low_stock_threshold", s)?)),
                    };
                }
                if col.contains_key("active") {
                    product.active = parse_bool(get("active"))?;
                }
                if col.contains_key("barcodes") {
                    let mut codes = Vec::new();
                    for c in get("barcodes").split(['|', ';']).map(str::trim) {
                        if c.is_empty() {
                            continue;
                        }
                        let b = Barcode::parse(c).map_err(|e| e.to_string())?;
                        if codes.contains(&b) {
                            continue;
                        }
                        codes.push(b);
                    }
                    product.barcodes = codes;
                }
                product.validate(&currency).map_err(|e| e.to_string())?;
                check_unique_codes(&self.conn, &product).map_err(|e| e.to_string())?;
                for b in product.all_barcodes() {
                    if seen_codes.contains(b.as_str()) {
                        return Err(format!("barcode {b} appears earlier in the file"));
                    }
                }
                for b in product.all_barcodes() {
                    seen_codes.insert(b.to_string());
                }
                let cat = get("category");
                product.category_id = if cat.is_empty() {
                    if col.contains_key("category") {
                        None
                    } else {
                        product.category_id
                    }
                } else {
                    let key = cat.to_lowercase();
                    Some(match categories.get(&key) {
                        Some(id) => *id,
                        None => {
                            let c = Category {
                                id: CategoryId::new(),
                                name: cat.to_string(),
                                parent: None,
                            };
                            c.validate().map_err(|e| e.to_string())?;
                            categories.insert(key, c.id);
                            let id = c.id;
                            new_categories.push(c);
                            id
                        }
                    })
                };
                product.updated_at = Timestamp::now();
                Ok((product, is_update))
            })();
            match result {
                Ok(r) => rows.push(r),
                Err(reason) => {
                    p.rejected += 1;
                    report.rejected.push(RowError {
                        line,
                        sku: (!sku.is_empty()).then_some(sku),
                        reason,
                    });
                }
            }
            if p.rows_read.is_multiple_of(PROGRESS_EVERY) && !progress(&p) {
                return Err(CoreError::Invalid("import cancelled".into()));
            }
        }
        if !progress(&p) {
            return Err(CoreError::Invalid("import cancelled".into()));
        }
        let doc_id = self.identity()?.catalog_doc.clone();
        let mut p2 = p;
        self.write(|tx, d| {
            let doc = d.get_mut(tx, &doc_id)?;
            let cats: Vec<(String, &Category)> = new_categories
                .iter()
                .map(|c| (c.id.to_string(), c))
                .collect();
            put_entries(doc, "categories", &cats)?;
            for c in &new_categories {
                projection::upsert_category(tx, c)?;
            }
            for chunk in rows.chunks(PROGRESS_EVERY as usize) {
                let entries: Vec<(String, &Product)> =
                    chunk.iter().map(|(p, _)| (p.id.to_string(), p)).collect();
                put_entries(doc, "products", &entries)?;
            }
            for (product, _) in &rows {
                projection::upsert_product(tx, product)?;
                p2.rows_written += 1;
                if p2.rows_written.is_multiple_of(PROGRESS_EVERY) && !progress(&p2) {
                    return Err(CoreError::Invalid("import cancelled".into()));
                }
            }
            Ok(())
        })?;
        progress(&p2);
        report.categories_created = new_categories.len() as u64;
        for (_, updated) in &rows {
            if *updated {
                report.updated += 1;
            } else {
                report.created += 1;
            }
        }
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
    pub fn export_catalog_csv<W: Write>(&self, out: W) -> CoreResult<u64> {
        let names: HashMap<CategoryId, String> = self
            .categories()?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let mut w = csv::Writer::from_writer(out);
        w.write_record(COLUMNS)?;
        let mut stmt = self
            .conn
            .prepare("SELECT data FROM products ORDER BY sku")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut n = 0;
        for d in rows {
            let p: Product = serde_json::from_str(&d?)?;
            let barcodes = p
                .barcodes
                .iter()
                .map(|b| b.as_str())
                .collect::<Vec<_>>()
                .join("|");
            let text = csv_cell::neutralise;
            let cells: [std::borrow::Cow<'_, str>; 10] = [
                text(&p.sku),
                text(&p.name),
                p.price.to_string().into(),
                text(p.unit.symbol()),
                text(&p.tax_class),
                text(
                    p.category_id
                        .and_then(|c| names.get(&c))
                        .map(String::as_str)
                        .unwrap_or(""),
                ),
                text(&barcodes),
                p.cost.map(|c| c.to_string()).unwrap_or_default().into(),
                p.low_stock_threshold
                    .map(|q| q.to_string())
                    .unwrap_or_default()
                    .into(),
                if p.active { "1" } else { "0" }.into(),
            ];
            w.write_record(cells.iter().map(|c| c.as_bytes()))?;
            n += 1;
        }
        w.flush()?;
        Ok(n)
    }
}
