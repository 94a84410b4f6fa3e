//! The catalog's CSV format, one for the till and the server: the columns, how a row is read
//! and checked, the row errors (in English and Bahasa Indonesia) and how a product is written.
//! No IO: the import reads from bytes, the export writes into memory, and what the catalog
//! already holds is asked of the caller through [`CatalogLookup`] (SQL on the till, the
//! catalog document on the server).
//!
//! Columns (header required, order free, names case-insensitive): `sku`, `name`, `price`
//! (required) and `unit` (pcs/kg/g), `tax_class`, `category` (by name, created when new),
//! `barcodes` (separated by `|` or `;`), `cost`, `low_stock_threshold`, `active` (1/0,
//! yes/no, true/false). A row whose SKU exists updates that product (its variants are kept).
//! A bad row is reported with its line number, column and reason and never applied in part.
//!
//! Text cells are written through [`csv_cell::neutralise`] and every cell read goes through
//! [`csv_cell::restore`], so an export imports back unchanged; numbers are written as numbers.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::barcode::Barcode;
use crate::catalog::{Category, Product, Unit};
use crate::codec::Timestamp;
use crate::csv_cell;
use crate::error::ModelError;
use crate::ids::{CategoryId, ProductId};
use crate::money::{Money, Quantity};
use crate::settings::StoreSettings;

/// The columns, in the order the export writes them.
pub const COLUMNS: [&str; 10] = [
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

/// Progress is reported every this many rows (and at the end of each phase).
pub const PROGRESS_EVERY: u64 = 1_000;

/// Progress of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportProgress {
    pub rows_read: u64,
    pub rows_written: u64,
    pub rejected: u64,
}

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    pub sku: Option<String>,
    /// The column at fault, when one is (one of [`COLUMNS`]).
    #[serde(default)]
    pub column: Option<String>,
    /// Why, in English.
    pub reason: String,
    /// Why, in Bahasa Indonesia.
    #[serde(default)]
    pub reason_id: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub categories_created: u64,
    /// The rows not imported, by line.
    pub rejected: Vec<RowError>,
}

/// Why a whole file is refused (nothing imported).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file has no header line")]
    NoHeader,
    #[error("the header has no {0:?} column")]
    MissingColumn(&'static str),
    #[error("the store has no tax rules")]
    NoTaxRules,
    #[error("import cancelled")]
    Cancelled,
}

impl FileError {
    /// The reason in Bahasa Indonesia.
    pub fn indonesian(&self) -> String {
        match self {
            FileError::NoHeader => "berkas tidak punya baris judul kolom".into(),
            FileError::MissingColumn(c) => format!("baris judul tidak punya kolom {c:?}"),
            FileError::NoTaxRules => "toko belum punya aturan pajak".into(),
            FileError::Cancelled => "impor dibatalkan".into(),
        }
    }
}

/// What is wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    /// The CSV record itself is broken (e.g. not UTF-8).
    Malformed(String),
    NotANumber {
        column: &'static str,
        value: String,
    },
    NotYesNo(String),
    SkuEarlierInFile(String),
    BarcodeEarlierInFile(String),
    SkuTaken {
        sku: String,
        other: String,
    },
    BarcodeTaken {
        code: String,
        other: String,
    },
    /// The model refused a value.
    Model {
        column: Option<&'static str>,
        error: ModelError,
    },
    /// Looking up what the catalog holds failed.
    Lookup(String),
}

impl RowProblem {
    fn model(column: &'static str) -> impl FnOnce(ModelError) -> RowProblem {
        move |error| RowProblem::Model {
            column: Some(column),
            error,
        }
    }

    /// The column at fault.
    pub fn column(&self) -> Option<&'static str> {
        match self {
            RowProblem::NotANumber { column, .. } => Some(*column),
            RowProblem::NotYesNo(_) => Some("active"),
            RowProblem::SkuEarlierInFile(_) | RowProblem::SkuTaken { .. } => Some("sku"),
            RowProblem::BarcodeEarlierInFile(_) | RowProblem::BarcodeTaken { .. } => {
                Some("barcodes")
            }
            RowProblem::Model { column, error } => column.or_else(|| column_of(error)),
            RowProblem::Malformed(_) | RowProblem::Lookup(_) => None,
        }
    }

    pub fn english(&self) -> String {
        match self {
            RowProblem::Malformed(e) => format!("unreadable row: {e}"),
            RowProblem::NotANumber { column, value } => {
                format!("{column}: {value:?} is not a number")
            }
            RowProblem::NotYesNo(v) => format!("active: {v:?} is not yes/no"),
            RowProblem::SkuEarlierInFile(s) => format!("SKU {s:?} appears earlier in the file"),
            RowProblem::BarcodeEarlierInFile(b) => {
                format!("barcode {b} appears earlier in the file")
            }
            RowProblem::SkuTaken { sku, other } => {
                format!("SKU {sku:?} is already used by product {other:?}")
            }
            RowProblem::BarcodeTaken { code, other } => {
                format!("barcode {code} is already used by product {other:?}")
            }
            RowProblem::Model { error, .. } => error.to_string(),
            RowProblem::Lookup(e) => format!("could not check the catalog: {e}"),
        }
    }

    pub fn indonesian(&self) -> String {
        match self {
            RowProblem::Malformed(e) => format!("baris tidak terbaca: {e}"),
            RowProblem::NotANumber { column, value } => {
                format!("{column}: {value:?} bukan angka")
            }
            RowProblem::NotYesNo(v) => format!("active: {v:?} bukan ya/tidak"),
            RowProblem::SkuEarlierInFile(s) => {
                format!("SKU {s:?} sudah muncul di baris sebelumnya")
            }
            RowProblem::BarcodeEarlierInFile(b) => {
                format!("barcode {b} sudah muncul di baris sebelumnya")
            }
            RowProblem::SkuTaken { sku, other } => {
                format!("SKU {sku:?} sudah dipakai produk {other:?}")
            }
            RowProblem::BarcodeTaken { code, other } => {
                format!("barcode {code} sudah dipakai produk {other:?}")
            }
            RowProblem::Model { error, .. } => error.indonesian(),
            RowProblem::Lookup(e) => format!("katalog tidak dapat diperiksa: {e}"),
        }
    }

    /// The row error of this problem at `line`.
    pub fn at(&self, line: u64, sku: Option<String>) -> RowError {
        RowError {
            line,
            sku,
            column: self.column().map(str::to_string),
            reason: self.english(),
            reason_id: self.indonesian(),
        }
    }
}

/// The CSV column a model field comes from.
fn column_of(e: &ModelError) -> Option<&'static str> {
    let field = match e {
        ModelError::Negative { field, .. }
        | ModelError::Empty { field }
        | ModelError::TooLong { field, .. }
        | ModelError::Invalid { field, .. } => *field,
        ModelError::BadCheckDigit { .. } => "barcode",
        ModelError::UnknownTaxClass(_) => "tax class",
        ModelError::TooManyDecimals { .. } | ModelError::Overflow => "price",
        _ => return None,
    };
    Some(match field {
        "product name" => "name",
        "SKU" => "sku",
        "price" => "price",
        "cost" => "cost",
        "tax class" => "tax_class",
        "low-stock threshold" => "low_stock_threshold",
        "unit" => "unit",
        "barcode" => "barcodes",
        "category name" => "category",
        _ => return None,
    })
}

/// What the catalog already holds, as an import needs it. Errors become row errors.
pub trait CatalogLookup {
    /// The product whose own SKU is `sku`.
    fn product_by_sku(&self, sku: &str) -> Result<Option<Product>, String>;
    /// The SKU of a product other than `except` that holds `sku`.
    fn sku_holder(&self, sku: &str, except: ProductId) -> Result<Option<String>, String>;
    /// The SKU of a product other than `except` that holds barcode `code`.
    fn barcode_holder(&self, code: &str, except: ProductId) -> Result<Option<String>, String>;
    /// The category named `name` (compared lower-cased).
    fn category_named(&self, lowercase_name: &str) -> Result<Option<CategoryId>, String>;
}

/// Checks that `p`'s SKUs and barcodes are unique within it and in the catalog.
pub fn check_unique_codes(p: &Product, lookup: &impl CatalogLookup) -> Result<(), RowProblem> {
    let mut skus = vec![p.sku.as_str()];
    skus.extend(p.variants.iter().map(|v| v.sku.as_str()));
    for (i, s) in skus.iter().enumerate() {
        if skus[..i].contains(s) {
            return Err(RowProblem::SkuTaken {
                sku: s.to_string(),
                other: p.sku.clone(),
            });
        }
        if let Some(other) = lookup.sku_holder(s, p.id).map_err(RowProblem::Lookup)? {
            return Err(RowProblem::SkuTaken {
                sku: s.to_string(),
                other,
            });
        }
    }
    let codes: Vec<&Barcode> = p.all_barcodes().collect();
    for (i, b) in codes.iter().enumerate() {
        if codes[..i].contains(b) {
            return Err(RowProblem::BarcodeTaken {
                code: b.to_string(),
                other: p.sku.clone(),
            });
        }
        if let Some(other) = lookup
            .barcode_holder(b.as_str(), p.id)
            .map_err(RowProblem::Lookup)?
        {
            return Err(RowProblem::BarcodeTaken {
                code: b.to_string(),
                other,
            });
        }
    }
    Ok(())
}

/// The rows an import will write, checked, and what it refused.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    /// Each product to write and whether it updates an existing one.
    pub products: Vec<(Product, bool)>,
    pub new_categories: Vec<Category>,
    /// `created`/`updated`/`categories_created` filled from the plan; `rejected` by line.
    pub report: ImportReport,
    pub progress: ImportProgress,
}

fn parse_bool(s: &str) -> Result<bool, RowProblem> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "1" | "yes" | "y" | "true" | "ya" => Ok(true),
        "0" | "no" | "n" | "false" | "tidak" => Ok(false),
        other => Err(RowProblem::NotYesNo(other.to_string())),
    }
}

fn parse_decimal(column: &'static str, s: &str) -> Result<Decimal, RowProblem> {
    Decimal::from_str_exact(s.trim()).map_err(|_| RowProblem::NotANumber {
        column,
        value: s.to_string(),
    })
}

/// Reads and checks every row of `input`. `progress` is called every [`PROGRESS_EVERY`] rows
/// and at the end; returning `false` cancels ([`FileError::Cancelled`]).
pub fn plan_import(
    input: &[u8],
    settings: &StoreSettings,
    lookup: &impl CatalogLookup,
    mut progress: impl FnMut(&ImportProgress) -> bool,
) -> Result<ImportPlan, FileError> {
    let currency = settings.currency();
    let default_tax = settings
        .tax_rules
        .first()
        .map(|t| t.class.clone())
        .ok_or(FileError::NoTaxRules)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader.headers().map_err(|_| FileError::NoHeader)?.clone();
    if headers.iter().all(str::is_empty) {
        return Err(FileError::NoHeader);
    }
    let mut col: HashMap<&str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
        if let Some(c) = COLUMNS.iter().find(|c| **c == h) {
            col.entry(*c).or_insert(i);
        }
    }
    for required in ["sku", "name", "price"] {
        if !col.contains_key(required) {
            return Err(FileError::MissingColumn(required));
        }
    }
    let mut categories: HashMap<String, CategoryId> = HashMap::new();
    let mut plan = ImportPlan::default();
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
                let problem = RowProblem::Malformed(e.to_string());
                plan.report.rejected.push(problem.at(line, None));
                plan.progress.rows_read += 1;
                plan.progress.rejected += 1;
                continue;
            }
        };
        if !more {
            break;
        }
        plan.progress.rows_read += 1;
        let line = record.position().map(|p| p.line()).unwrap_or(line_hint);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let get =
            |c: &str| csv_cell::restore(col.get(c).and_then(|i| record.get(*i)).unwrap_or(""));
        let has = |c: &str| col.contains_key(c);
        let sku = get("sku").to_string();
        let result = (|| -> Result<(Product, bool, Option<Category>), RowProblem> {
            if !seen_skus.insert(sku.clone()) {
                return Err(RowProblem::SkuEarlierInFile(sku.clone()));
            }
            let existing = lookup.product_by_sku(&sku).map_err(RowProblem::Lookup)?;
            let is_update = existing.is_some();
            let price = Money(parse_decimal("price", get("price"))?);
            let mut product =
                existing.unwrap_or_else(|| Product::new(&sku, get("name"), price, &default_tax));
            product.name = get("name").to_string();
            product.price = price;
            if has("unit") {
                product.unit = Unit::parse(get("unit")).map_err(RowProblem::model("unit"))?;
            }
            if has("tax_class") && !get("tax_class").is_empty() {
                product.tax_class = get("tax_class").to_string();
            }
            settings
                .tax_rule(&product.tax_class)
                .map_err(RowProblem::model("tax_class"))?;
            if has("cost") {
                product.cost = match get("cost") {
                    "" => None,
                    s => Some(Money(parse_decimal("cost", s)?)),
                };
            }
            if has("low_stock_threshold") {
                product.low_stock_threshold = match get("low_stock_threshold") {
                    "" => None,
                    s => Some(Quantity(parse_decimal("low_stock_threshold", s)?)),
                };
            }
            if has("active") {
                product.active = parse_bool(get("active"))?;
            }
            if has("barcodes") {
                let mut codes = Vec::new();
                for c in get("barcodes").split(['|', ';']).map(str::trim) {
                    if c.is_empty() {
                        continue;
                    }
                    let b = Barcode::parse(c).map_err(RowProblem::model("barcodes"))?;
                    if !codes.contains(&b) {
                        codes.push(b);
                    }
                }
                product.barcodes = codes;
            }
            product
                .validate(&currency)
                .map_err(|error| RowProblem::Model {
                    column: None,
                    error,
                })?;
            check_unique_codes(&product, lookup)?;
            for b in product.all_barcodes() {
                if seen_codes.contains(b.as_str()) {
                    return Err(RowProblem::BarcodeEarlierInFile(b.to_string()));
                }
            }
            let cat = get("category");
            let mut new_category = None;
            product.category_id = if cat.is_empty() {
                if has("category") {
                    None
                } else {
                    product.category_id
                }
            } else {
                let key = cat.to_lowercase();
                match categories.get(&key) {
                    Some(id) => Some(*id),
                    None => match lookup.category_named(&key).map_err(RowProblem::Lookup)? {
                        Some(id) => Some(id),
                        None => {
                            let c = Category {
                                id: CategoryId::new(),
                                name: cat.to_string(),
                                parent: None,
                            };
                            c.validate().map_err(RowProblem::model("category"))?;
                            let id = c.id;
                            new_category = Some(c);
                            Some(id)
                        }
                    },
                }
            };
            product.updated_at = Timestamp::now();
            Ok((product, is_update, new_category))
        })();
        match result {
            Ok((product, is_update, new_category)) => {
                for b in product.all_barcodes() {
                    seen_codes.insert(b.to_string());
                }
                if let Some(c) = new_category {
                    categories.insert(c.name.to_lowercase(), c.id);
                    plan.new_categories.push(c);
                }
                let cat = get("category");
                if let (false, Some(id)) = (cat.is_empty(), product.category_id) {
                    categories.entry(cat.to_lowercase()).or_insert(id);
                }
                plan.products.push((product, is_update));
            }
            Err(problem) => {
                plan.progress.rejected += 1;
                let sku = (!sku.is_empty()).then_some(sku);
                plan.report.rejected.push(problem.at(line, sku));
            }
        }
        if plan.progress.rows_read.is_multiple_of(PROGRESS_EVERY) && !progress(&plan.progress) {
            return Err(FileError::Cancelled);
        }
    }
    if !progress(&plan.progress) {
        return Err(FileError::Cancelled);
    }
    plan.report.categories_created = plan.new_categories.len() as u64;
    for (_, updated) in &plan.products {
        if *updated {
            plan.report.updated += 1;
        } else {
            plan.report.created += 1;
        }
    }
    Ok(plan)
}

/// Writes products as CSV in [`COLUMNS`] order, cells neutralised.
#[derive(Debug)]
pub struct Exporter {
    w: csv::Writer<Vec<u8>>,
    rows: u64,
}

impl Default for Exporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Exporter {
    /// An export with its header line written.
    pub fn new() -> Exporter {
        let mut w = csv::Writer::from_writer(Vec::new());
        // Writing into memory cannot fail.
        let _ = w.write_record(COLUMNS);
        Exporter { w, rows: 0 }
    }

    /// Adds one product; `category` is its category's name (empty when none).
    pub fn push(&mut self, p: &Product, category: &str) {
        let barcodes = p
            .barcodes
            .iter()
            .map(|b| b.as_str())
            .collect::<Vec<_>>()
            .join("|");
        let text = csv_cell::neutralise;
        let cells: [Cow<'_, str>; 10] = [
            text(&p.sku),
            text(&p.name),
            p.price.to_string().into(),
            text(p.unit.symbol()),
            text(&p.tax_class),
            text(category),
            text(&barcodes),
            p.cost.map(|c| c.to_string()).unwrap_or_default().into(),
            p.low_stock_threshold
                .map(|q| q.to_string())
                .unwrap_or_default()
                .into(),
            if p.active { "1" } else { "0" }.into(),
        ];
        let _ = self.w.write_record(cells.iter().map(|c| c.as_bytes()));
        self.rows += 1;
    }

    /// Rows pushed so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The CSV bytes.
    pub fn finish(self) -> Vec<u8> {
        self.w.into_inner().unwrap_or_default()
    }
}

/// A [`CatalogLookup`] over products and categories in memory (the server's catalog document).
#[derive(Debug, Default)]
pub struct MemoryCatalog {
    by_sku: HashMap<String, Product>,
    skus: HashMap<String, (ProductId, String)>,
    barcodes: HashMap<String, (ProductId, String)>,
    categories: HashMap<String, CategoryId>,
}

impl MemoryCatalog {
    pub fn new<'a>(
        products: impl IntoIterator<Item = &'a Product>,
        categories: impl IntoIterator<Item = &'a Category>,
    ) -> MemoryCatalog {
        let mut m = MemoryCatalog::default();
        for p in products {
            m.skus.insert(p.sku.clone(), (p.id, p.sku.clone()));
            for v in &p.variants {
                m.skus.entry(v.sku.clone()).or_insert((p.id, p.sku.clone()));
            }
            for b in p.all_barcodes() {
                m.barcodes
                    .entry(b.to_string())
                    .or_insert((p.id, p.sku.clone()));
            }
            m.by_sku.entry(p.sku.clone()).or_insert_with(|| p.clone());
        }
        for c in categories {
            m.categories.entry(c.name.to_lowercase()).or_insert(c.id);
        }
        m
    }
}

impl CatalogLookup for MemoryCatalog {
    fn product_by_sku(&self, sku: &str) -> Result<Option<Product>, String> {
        Ok(self.by_sku.get(sku).cloned())
    }

    fn sku_holder(&self, sku: &str, except: ProductId) -> Result<Option<String>, String> {
        Ok(self
            .skus
            .get(sku)
            .filter(|(id, _)| *id != except)
            .map(|(_, s)| s.clone()))
    }

    fn barcode_holder(&self, code: &str, except: ProductId) -> Result<Option<String>, String> {
        Ok(self
            .barcodes
            .get(code)
            .filter(|(id, _)| *id != except)
            .map(|(_, s)| s.clone()))
    }

    fn category_named(&self, lowercase_name: &str) -> Result<Option<CategoryId>, String> {
        Ok(self.categories.get(lowercase_name).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> StoreSettings {
        StoreSettings::indonesia("Toko", "Jl. 1")
    }

    #[test]
    fn good_rows_plan_and_bad_rows_say_line_column_and_reason_in_both_languages() {
        let csv = "sku,name,price,barcodes,category\n\
                   A-1,Kopi,12500,,Minuman\n\
                   A-2,Teh,abc,,\n\
                   A-3,Gula,-5,,\n\
                   A-1,Lagi,1000,,\n\
                   A-4,,1000,,\n\
                   A-5,Susu,99999999999999999,,Minuman\n";
        let lookup = MemoryCatalog::default();
        let plan = plan_import(csv.as_bytes(), &settings(), &lookup, |_| true).unwrap();
        assert_eq!(plan.products.len(), 1);
        assert_eq!(plan.new_categories.len(), 1);
        let got: Vec<(u64, Option<&str>)> = plan
            .report
            .rejected
            .iter()
            .map(|r| (r.line, r.column.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (3, Some("price")),
                (4, Some("price")),
                (5, Some("sku")),
                (6, Some("name")),
                (7, Some("price")),
            ],
            "{:#?}",
            plan.report.rejected
        );
        let r = &plan.report.rejected[0];
        assert!(r.reason.contains("not a number"), "{}", r.reason);
        assert!(r.reason_id.contains("bukan angka"), "{}", r.reason_id);
        let neg = &plan.report.rejected[1];
        assert!(neg.reason_id.contains("negatif"), "{}", neg.reason_id);
    }

    #[test]
    fn codes_held_by_other_products_are_refused() {
        let mut existing = Product::new("X-1", "Lama", Money::from_i64(1000), "standard");
        existing.barcodes = vec![Barcode::parse("8998866200301").unwrap()];
        let lookup = MemoryCatalog::new([&existing], std::iter::empty::<&Category>());
        let csv = "sku,name,price,barcodes\nX-2,Baru,1000,8998866200301\nX-1,Ganti,2000,\n";
        let plan = plan_import(csv.as_bytes(), &settings(), &lookup, |_| true).unwrap();
        assert_eq!(plan.report.rejected.len(), 1, "{:#?}", plan.report.rejected);
        assert!(plan.report.rejected[0].reason.contains("X-1"));
        assert_eq!(plan.products.len(), 1);
        assert!(plan.products[0].1, "X-1 is an update");
        assert_eq!(plan.products[0].0.id, existing.id);
    }

    #[test]
    fn an_export_imports_back_unchanged() {
        let mut p = Product::new("-5", "=HYPERLINK(\"x\")", Money::from_i64(1500), "standard");
        p.barcodes = vec![Barcode::parse("8998866200301").unwrap()];
        let mut e = Exporter::new();
        e.push(&p, "Minuman");
        let bytes = e.finish();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("'=HYPERLINK"), "{text}");
        let plan = plan_import(&bytes, &settings(), &MemoryCatalog::default(), |_| true).unwrap();
        assert!(
            plan.report.rejected.is_empty(),
            "{:?}",
            plan.report.rejected
        );
        let back = &plan.products[0].0;
        assert_eq!(
            (back.sku.as_str(), back.name.as_str()),
            ("-5", p.name.as_str())
        );
        assert_eq!(back.barcodes, p.barcodes);
    }

    #[test]
    fn a_file_without_the_required_columns_is_refused() {
        let err = plan_import(
            b"sku,name\nA,B\n",
            &settings(),
            &MemoryCatalog::default(),
            |_| true,
        )
        .unwrap_err();
        assert_eq!(err, FileError::MissingColumn("price"));
        assert!(err.indonesian().contains("price"));
    }
}
