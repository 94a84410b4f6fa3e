//! Catalog use-cases for owners and managers (the JSON API in [`crate::catalog_api`] and the
//! dashboard's catalog page call these): a page of products from the projected `products`
//! rows, one product or the categories from the store's catalog document, creating and editing
//! a product, adding a category, and the catalog as CSV both ways in the till's format
//! ([`shared_model::catalog_csv`]).
//!
//! Every change goes through [`DocWriter`] into the catalog document the store's first
//! terminal made, so connected tills receive it as a document change. Only the edited entries
//! are written ([`documents::put_entries`]); the checks (the model's, the store's tax classes,
//! SKUs and barcodes unique among the products the server holds) run on the document inside
//! the change, so they see what the server has at that moment. Codes two offline tills give
//! two products can still meet when they sync: the conflicts report shows those.

use std::collections::HashMap;

use automerge::AutoCommit;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared_model::barcode::Barcode;
use shared_model::catalog::{Category, Product, Unit, Variant};
use shared_model::catalog_csv::{
    self, Exporter, ImportProgress, ImportReport, MemoryCatalog, PROGRESS_EVERY,
};
use shared_model::codec::Timestamp;
use shared_model::documents::{self, CatalogDoc, SettingsDoc};
use shared_model::ids::{CategoryId, ProductId, VariantId};
use shared_model::money::{Money, Quantity};
use shared_model::settings::StoreSettings;
use tracing::instrument;

use crate::auth::Principal;
use crate::documents_writer::DocWriter;
use crate::error::{Error, Result};
use crate::projection::from_e4;
use crate::state::AppState;

/// Most products one page lists.
pub const MAX_PAGE: i64 = 200;

/// A product of a catalog page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductSummary {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub category_id: Option<String>,
    /// Decimal as a string, e.g. `"12500"`.
    #[schema(value_type = String)]
    pub price: Decimal,
    pub active: bool,
}

/// A page of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductPage {
    /// Products matching the search in all.
    pub total: i64,
    pub offset: i64,
    pub products: Vec<ProductSummary>,
}

/// What to list.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Part of a name or SKU (case-insensitive); every product when absent.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Products to skip (0 when absent).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Products to list, 1–200 (50 when absent).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// A variant as the API shows and takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VariantView {
    /// Absent for a new variant.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub sku: String,
    /// Overrides the product's price when set (a decimal as a string).
    #[serde(default)]
    pub price: Option<String>,
    #[serde(default)]
    pub barcodes: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A product as the API shows it, and as it takes it to create or replace one (`id` is then
/// ignored). Amounts and quantities are decimals as strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductView {
    #[serde(default)]
    pub id: Option<String>,
    pub sku: String,
    pub name: String,
    /// The price per unit, in the store's price mode (tax included or not).
    pub price: String,
    #[serde(default)]
    pub category_id: Option<String>,
    /// `pcs`, `kg` or `g` (`pcs` when absent).
    #[serde(default)]
    pub unit: Option<String>,
    /// One of the store's tax classes (its first when absent).
    #[serde(default)]
    pub tax_class: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub barcodes: Vec<String>,
    #[serde(default)]
    pub variants: Vec<VariantView>,
    #[serde(default)]
    pub cost: Option<String>,
    #[serde(default)]
    pub low_stock_threshold: Option<String>,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        ProductView {
            id: Some(p.id.to_string()),
            sku: p.sku.clone(),
            name: p.name.clone(),
            price: p.price.0.normalize().to_string(),
            category_id: p.category_id.map(|c| c.to_string()),
            unit: Some(p.unit.symbol().to_string()),
            tax_class: Some(p.tax_class.clone()),
            active: p.active,
            barcodes: p.barcodes.iter().map(|b| b.to_string()).collect(),
            variants: p
                .variants
                .iter()
                .map(|v| VariantView {
                    id: Some(v.id.to_string()),
                    name: v.name.clone(),
                    sku: v.sku.clone(),
                    price: v.price.map(|m| m.0.normalize().to_string()),
                    barcodes: v.barcodes.iter().map(|b| b.to_string()).collect(),
                    active: v.active,
                })
                .collect(),
            cost: p.cost.map(|m| m.0.normalize().to_string()),
            low_stock_threshold: p.low_stock_threshold.map(|q| q.0.normalize().to_string()),
        }
    }
}

/// A category as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CategoryView {
    pub id: String,
    pub name: String,
}

/// A new category.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewCategory {
    /// 1–100 characters, no control characters.
    #[schema(max_length = 100)]
    pub name: String,
}

/// The ids of the store's catalog and settings documents, once the caller may manage it.
pub(crate) async fn store_docs(
    app: &AppState,
    who: &Principal,
    store_id: &str,
) -> Result<(String, String)> {
    app.services.store_for(who, store_id).await?;
    let root = app
        .services
        .storage
        .store_root(store_id)
        .await?
        .ok_or(Error::NoTerminalYet)?;
    Ok((root.catalog_doc_id, root.settings_doc_id))
}

/// The document missing on the server means no terminal synced it yet.
pub(crate) fn not_found_is_no_terminal(e: Error) -> Error {
    match e {
        Error::NotFound("document not on the server") => Error::NoTerminalYet,
        e => e,
    }
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

/// The store's settings (currency, tax classes) as its settings document holds them.
pub(crate) async fn settings_of(app: &AppState, settings_doc: &str) -> Result<StoreSettings> {
    Ok(DocWriter::new(app)
        .read::<SettingsDoc>(settings_doc)
        .await?
        .ok_or(Error::NoTerminalYet)?
        .settings)
}

fn decimal(field: &'static str, s: &str) -> Result<Decimal> {
    let t = s.trim();
    Decimal::from_str_exact(t).map_err(|_| Error::Invalid {
        field,
        en: format!("{field}: {t:?} is not a number"),
        id: format!("{field}: {t:?} bukan angka"),
    })
}

fn optional_decimal(field: &'static str, s: Option<&str>) -> Result<Option<Decimal>> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => decimal(field, t).map(Some),
    }
}

fn barcodes(field: &'static str, codes: &[String]) -> Result<Vec<Barcode>> {
    let mut out: Vec<Barcode> = Vec::new();
    for c in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let b = Barcode::parse(c).map_err(|e| Error::model(field, &e))?;
        if !out.contains(&b) {
            out.push(b);
        }
    }
    Ok(out)
}

fn parse_id<T: std::str::FromStr>(s: &str, what: &'static str) -> Result<T> {
    s.parse().map_err(|_| Error::NotFound(what))
}

/// `input` applied onto `base` (a new product when `None`) and checked against the store's
/// settings; the catalog-wide checks follow in [`check_in_catalog`].
fn build_product(
    base: Option<Product>,
    input: &ProductView,
    settings: &StoreSettings,
) -> Result<Product> {
    let price = Money(decimal("price", &input.price)?);
    let default_tax = settings
        .tax_rules
        .first()
        .map(|t| t.class.clone())
        .unwrap_or_default();
    let mut p = base.unwrap_or_else(|| Product::new(&input.sku, &input.name, price, &default_tax));
    p.sku = input.sku.trim().to_string();
    p.name = input.name.trim().to_string();
    p.price = price;
    p.category_id = match input.category_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => Some(c.parse::<CategoryId>().map_err(|_| Error::Invalid {
            field: "category",
            en: "no such category".into(),
            id: "kategori tidak ada".into(),
        })?),
    };
    if let Some(u) = input.unit.as_deref() {
        p.unit = Unit::parse(u).map_err(|e| Error::model("unit", &e))?;
    }
    if let Some(t) = input.tax_class.as_deref().map(str::trim)
        && !t.is_empty()
    {
        p.tax_class = t.to_string();
    }
    settings
        .tax_rule(&p.tax_class)
        .map_err(|e| Error::model("tax_class", &e))?;
    p.active = input.active;
    p.barcodes = barcodes("barcodes", &input.barcodes)?;
    p.cost = optional_decimal("cost", input.cost.as_deref())?.map(Money);
    p.low_stock_threshold =
        optional_decimal("low_stock_threshold", input.low_stock_threshold.as_deref())?
            .map(Quantity);
    let mut variants = Vec::with_capacity(input.variants.len());
    for v in &input.variants {
        let id = match v.id.as_deref().map(str::trim) {
            None | Some("") => VariantId::new(),
            Some(id) => parse_id(id, "variant not found")?,
        };
        variants.push(Variant {
            id,
            name: v.name.trim().to_string(),
            sku: v.sku.trim().to_string(),
            price: optional_decimal("variant price", v.price.as_deref())?.map(Money),
            barcodes: barcodes("variant barcodes", &v.barcodes)?,
            active: v.active,
        });
    }
    p.variants = variants;
    p.updated_at = Timestamp::now();
    p.validate(&settings.currency()).map_err(|e| {
        let field = match &e {
            shared_model::ModelError::Empty { field }
            | shared_model::ModelError::TooLong { field, .. }
            | shared_model::ModelError::Negative { field, .. }
            | shared_model::ModelError::Invalid { field, .. } => *field,
            _ => "price",
        };
        Error::model(field, &e)
    })?;
    Ok(p)
}

/// The catalog-wide checks of `p` in the document: its category exists, its SKUs and barcodes
/// are held by no other product.
fn check_in_catalog(doc: &AutoCommit, p: &Product) -> Result<()> {
    let catalog: CatalogDoc = documents::read(doc).map_err(internal)?;
    if let Some(c) = p.category_id
        && !catalog.categories.contains_key(&c.to_string())
    {
        return Err(Error::Invalid {
            field: "category",
            en: "no such category".into(),
            id: "kategori tidak ada".into(),
        });
    }
    let lookup = MemoryCatalog::new(catalog.products.values(), catalog.categories.values());
    catalog_csv::check_unique_codes(p, &lookup).map_err(|problem| {
        let field = match problem.column() {
            Some("sku") => "sku",
            _ => "barcodes",
        };
        Error::Invalid {
            field,
            en: problem.english(),
            id: problem.indonesian(),
        }
    })
}

/// A page of the store's products (the projected rows, so a change shows once projected).
#[instrument(skip_all, fields(store_id))]
pub async fn list(
    app: &AppState,
    who: &Principal,
    store_id: &str,
    q: &ProductQuery,
) -> Result<ProductPage> {
    app.services.store_for(who, store_id).await?;
    let query = q.q.as_deref().unwrap_or("").trim();
    if query.chars().count() > 100 {
        return Err(Error::BadRequest("q: at most 100 characters".into()));
    }
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(50);
    if offset < 0 || !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::BadRequest(
            "offset must be 0 or more and limit 1–200".into(),
        ));
    }
    let (rows, total) = app
        .services
        .storage
        .catalog_products(store_id, query, limit, offset)
        .await?;
    Ok(ProductPage {
        total,
        offset,
        products: rows
            .into_iter()
            .map(|r| ProductSummary {
                id: r.id,
                sku: r.sku,
                name: r.name,
                category_id: r.category_id,
                price: from_e4(r.price_e4),
                active: r.active,
            })
            .collect(),
    })
}

/// One product as the catalog document holds it.
#[instrument(skip_all, fields(store_id, product_id))]
pub async fn get(
    app: &AppState,
    who: &Principal,
    store_id: &str,
    product_id: &str,
) -> Result<ProductView> {
    let id: ProductId = parse_id(product_id, "product not found")?;
    let (catalog_doc, _) = store_docs(app, who, store_id).await?;
    let product: Option<Product> = DocWriter::new(app)
        .read_with(&catalog_doc, move |doc| {
            documents::get_entry(doc, "products", &id.to_string()).map_err(internal)
        })
        .await?
        .ok_or(Error::NoTerminalYet)?;
    product
        .as_ref()
        .map(ProductView::from)
        .ok_or(Error::NotFound("product not found"))
}

/// Creates a product (`product_id` `None`) or replaces the editable fields of one.
#[instrument(skip_all, fields(store_id, product_id))]
pub async fn save(
    app: &AppState,
    who: &Principal,
    store_id: &str,
    product_id: Option<&str>,
    input: ProductView,
) -> Result<ProductView> {
    let id: Option<ProductId> = product_id
        .map(|p| parse_id(p, "product not found"))
        .transpose()?;
    let (catalog_doc, settings_doc) = store_docs(app, who, store_id).await?;
    let settings = settings_of(app, &settings_doc).await?;
    // Checked before the document is touched, so a bad value is answered quickly and the
    // same way whether or not the product exists.
    build_product(None, &input, &settings)?;
    let store = store_id.to_string();
    let (saved, _) = DocWriter::new(app)
        .change(&catalog_doc, move |doc| {
            let owner = documents::root_str(doc, "store_id").unwrap_or_default();
            if owner != store {
                return Err(Error::Internal("catalog document of another store".into()));
            }
            let base: Option<Product> = match id {
                Some(id) => Some(
                    documents::get_entry(doc, "products", &id.to_string())
                        .map_err(internal)?
                        .ok_or(Error::NotFound("product not found"))?,
                ),
                None => None,
            };
            let product = build_product(base, &input, &settings)?;
            check_in_catalog(doc, &product)?;
            documents::put_entries(doc, "products", &[(product.id.to_string(), &product)])
                .map_err(internal)?;
            Ok(ProductView::from(&product))
        })
        .await
        .map_err(not_found_is_no_terminal)?;
    tracing::info!(product_id = ?saved.id, by = %who.label(), "product saved");
    Ok(saved)
}

/// The store's categories, by name.
#[instrument(skip_all, fields(store_id))]
pub async fn categories(
    app: &AppState,
    who: &Principal,
    store_id: &str,
) -> Result<Vec<CategoryView>> {
    let (catalog_doc, _) = store_docs(app, who, store_id).await?;
    let cats: HashMap<String, Category> = DocWriter::new(app)
        .read_with(&catalog_doc, |doc| {
            Ok(autosurgeon::hydrate_prop(doc, automerge::ROOT, "categories").unwrap_or_default())
        })
        .await?
        .ok_or(Error::NoTerminalYet)?;
    let mut out: Vec<CategoryView> = cats
        .values()
        .map(|c| CategoryView {
            id: c.id.to_string(),
            name: c.name.clone(),
        })
        .collect();
    out.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
    Ok(out)
}

/// Adds a category; a name the store already has (ignoring case) is refused.
#[instrument(skip_all, fields(store_id))]
pub async fn add_category(
    app: &AppState,
    who: &Principal,
    store_id: &str,
    new: NewCategory,
) -> Result<CategoryView> {
    let (catalog_doc, _) = store_docs(app, who, store_id).await?;
    let category = Category {
        id: CategoryId::new(),
        name: new.name.trim().to_string(),
        parent: None,
    };
    category
        .validate()
        .map_err(|e| Error::model("category name", &e))?;
    let (view, _) = DocWriter::new(app)
        .change(&catalog_doc, move |doc| {
            let cats: HashMap<String, Category> =
                autosurgeon::hydrate_prop(doc, automerge::ROOT, "categories").unwrap_or_default();
            let lower = category.name.to_lowercase();
            if cats.values().any(|c| c.name.to_lowercase() == lower) {
                return Err(Error::Invalid {
                    field: "category name",
                    en: format!("a category named {:?} exists already", category.name),
                    id: format!("kategori bernama {:?} sudah ada", category.name),
                });
            }
            documents::put_entries(doc, "categories", &[(category.id.to_string(), &category)])
                .map_err(internal)?;
            Ok(CategoryView {
                id: category.id.to_string(),
                name: category.name.clone(),
            })
        })
        .await
        .map_err(not_found_is_no_terminal)?;
    Ok(view)
}

/// The catalog as CSV in the till's format, by SKU: it imports back unchanged.
#[instrument(skip_all, fields(store_id))]
pub async fn export_csv(app: &AppState, who: &Principal, store_id: &str) -> Result<Vec<u8>> {
    let (catalog_doc, _) = store_docs(app, who, store_id).await?;
    DocWriter::new(app)
        .read_with(&catalog_doc, |doc| {
            let catalog: CatalogDoc = documents::read(doc).map_err(internal)?;
            let mut products: Vec<&Product> = catalog.products.values().collect();
            products.sort_by(|a, b| a.sku.cmp(&b.sku).then(a.id.cmp(&b.id)));
            let mut e = Exporter::new();
            for p in products {
                let cat = p
                    .category_id
                    .and_then(|c| catalog.categories.get(&c.to_string()))
                    .map(|c| c.name.as_str())
                    .unwrap_or("");
                e.push(p, cat);
            }
            Ok(e.finish())
        })
        .await?
        .ok_or(Error::NoTerminalYet)
}

/// Imports products from CSV bytes: every row is read and checked against the catalog the
/// server holds ([`catalog_csv::plan_import`]), then the good rows are written to the catalog
/// document in batches of [`PROGRESS_EVERY`] (one document change each; a row is in exactly
/// one batch, so no row is ever written in part). `progress` hears how far it got.
#[instrument(skip_all, fields(store_id, bytes = csv.len()))]
pub async fn import_csv(
    app: &AppState,
    who: &Principal,
    store_id: &str,
    csv: Vec<u8>,
    progress: impl Fn(ImportProgress) + Send + Sync + Clone + 'static,
) -> Result<ImportReport> {
    let (catalog_doc, settings_doc) = store_docs(app, who, store_id).await?;
    let settings = settings_of(app, &settings_doc).await?;
    let writer = DocWriter::new(app);
    let read_progress = progress.clone();
    let plan = writer
        .read_with(&catalog_doc, move |doc| {
            let catalog: CatalogDoc = documents::read(doc).map_err(internal)?;
            let lookup = MemoryCatalog::new(catalog.products.values(), catalog.categories.values());
            catalog_csv::plan_import(&csv, &settings, &lookup, |p| {
                read_progress(*p);
                true
            })
            .map_err(|e| Error::Invalid {
                field: "file",
                en: e.to_string(),
                id: e.indonesian(),
            })
        })
        .await?
        .ok_or(Error::NoTerminalYet)?;
    let mut done = plan.progress;
    let mut categories = Some(plan.new_categories);
    for chunk in plan.products.chunks(PROGRESS_EVERY as usize) {
        let entries: Vec<(String, Product)> = chunk
            .iter()
            .map(|(p, _)| (p.id.to_string(), p.clone()))
            .collect();
        let cats = categories.take().unwrap_or_default();
        writer
            .change(&catalog_doc, move |doc| {
                let cats: Vec<(String, &Category)> =
                    cats.iter().map(|c| (c.id.to_string(), c)).collect();
                if !cats.is_empty() {
                    documents::put_entries(doc, "categories", &cats).map_err(internal)?;
                }
                let refs: Vec<(String, &Product)> =
                    entries.iter().map(|(k, p)| (k.clone(), p)).collect();
                documents::put_entries(doc, "products", &refs).map_err(internal)
            })
            .await
            .map_err(not_found_is_no_terminal)?;
        done.rows_written += chunk.len() as u64;
        progress(done);
    }
    progress(done);
    let report = plan.report;
    tracing::info!(
        created = report.created,
        updated = report.updated,
        rejected = report.rejected.len(),
        by = %who.label(),
        "catalog imported"
    );
    Ok(report)
}

/// A page of products with the store's categories (the dashboard's catalog page).
#[instrument(skip_all, fields(store_id))]
pub async fn overview(
    app: &AppState,
    who: &Principal,
    store_id: &str,
    q: &ProductQuery,
) -> Result<(ProductPage, Vec<CategoryView>)> {
    let page = list(app, who, store_id, q).await?;
    Ok((page, categories(app, who, store_id).await?))
}

/// What the product form needs: the product (an empty one for a new product), the
/// categories and the store's tax classes.
#[derive(Debug, Clone)]
pub struct ProductFormData {
    pub product: ProductView,
    pub categories: Vec<CategoryView>,
    pub tax_classes: Vec<String>,
}

/// The product form's data for product `product_id`, or for a new product.
#[instrument(skip_all, fields(store_id, product_id))]
pub async fn product_form(
    app: &AppState,
    who: &Principal,
    store_id: &str,
    product_id: Option<&str>,
) -> Result<ProductFormData> {
    let (_, settings_doc) = store_docs(app, who, store_id).await?;
    let settings = settings_of(app, &settings_doc).await?;
    let tax_classes: Vec<String> = settings.tax_rules.iter().map(|t| t.class.clone()).collect();
    let product = match product_id {
        Some(id) => get(app, who, store_id, id).await?,
        None => ProductView {
            id: None,
            sku: String::new(),
            name: String::new(),
            price: String::new(),
            category_id: None,
            unit: Some(Unit::Piece.symbol().into()),
            tax_class: tax_classes.first().cloned(),
            active: true,
            barcodes: Vec::new(),
            variants: Vec::new(),
            cost: None,
            low_stock_threshold: None,
        },
    };
    Ok(ProductFormData {
        product,
        categories: categories(app, who, store_id).await?,
        tax_classes,
    })
}
