//! Catalog use-cases: products, variants, barcodes and categories; search as the cashier
//! types; barcode lookup including weighed-item codes.

use rusqlite::{OptionalExtension, params};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use shared_model::barcode::{Barcode, WeighedValue, decode_weighed};
use shared_model::cart::{Cart, ProductSnapshot};
use shared_model::catalog::{Category, Product, Unit, Variant};
use shared_model::codec::Timestamp;
use shared_model::ids::{CategoryId, LineId, ProductId, VariantId};
use shared_model::money::{Money, Quantity};
use shared_model::settings::StoreSettings;
use tracing::instrument;

use crate::docs::{get_entry, put_entry};
use crate::error::{CoreError, CoreResult};
use crate::projection;
use crate::terminal::Terminal;

/// A search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductHit {
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub price: Money,
    pub unit: Unit,
    pub active: bool,
}

/// What a scanned code resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanMatch {
    pub product: Product,
    pub variant_id: Option<VariantId>,
    /// The quantity the code carries (weighed items), else one piece.
    pub quantity: Quantity,
    /// Whether the code was a weighed-item code decoded with the store's rules.
    pub weighed: bool,
}

/// A barcode or SKU held by more than one product (possible after two tills edited the
/// catalog offline): flagged, never dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateCode {
    pub field: String,
    pub code: String,
    pub product_ids: Vec<ProductId>,
}

/// Turns what the cashier typed into an FTS5 query: every word must match as a prefix.
/// Public for the benchmark, which runs the same query against another index.
pub fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{}\"*", w.replace('"', "")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

impl Terminal {
    fn catalog_doc_id(&self) -> CoreResult<String> {
        Ok(self.identity()?.catalog_doc.clone())
    }

    /// Checks a product against the store's rules and the codes of other products.
    fn check_product(&self, p: &Product, settings: &StoreSettings) -> CoreResult<()> {
        p.validate(&settings.currency())?;
        settings.tax_rule(&p.tax_class)?;
        check_unique_codes(&self.conn, p)?;
        if let Some(c) = p.category_id {
            let known: Option<i64> = self
                .conn
                .query_row(
                    "SELECT 1 FROM categories WHERE category_id = ?1",
                    [c.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if known.is_none() {
                return Err(CoreError::NotFound {
                    what: "category",
                    id: c.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Adds a product to the catalog.
    #[instrument(skip_all, fields(sku = %product.sku))]
    pub fn create_product(&mut self, mut product: Product) -> CoreResult<Product> {
        let settings = self.settings()?;
        if self.product(product.id)?.is_some() {
            return Err(CoreError::Duplicate {
                field: "product id",
                value: product.id.to_string(),
                other: product.id.to_string(),
            });
        }
        product.updated_at = Timestamp::now();
        self.check_product(&product, &settings)?;
        self.save_product(&product)?;
        Ok(product)
    }

    /// Replaces a product's fields (name, price, barcodes, variants, …).
    #[instrument(skip_all, fields(product = %product.id))]
    pub fn update_product(&mut self, mut product: Product) -> CoreResult<Product> {
        let settings = self.settings()?;
        if self.product(product.id)?.is_none() {
            return Err(CoreError::NotFound {
                what: "product",
                id: product.id.to_string(),
            });
        }
        product.updated_at = Timestamp::now();
        self.check_product(&product, &settings)?;
        self.save_product(&product)?;
        Ok(product)
    }

    /// Deactivates (or reactivates) a product; products are never deleted, sales refer to them.
    pub fn set_product_active(&mut self, id: ProductId, active: bool) -> CoreResult<Product> {
        let mut p = self.require_product(id)?;
        p.active = active;
        self.update_product(p)
    }

    /// Adds a variant to a product.
    pub fn add_variant(&mut self, id: ProductId, variant: Variant) -> CoreResult<Product> {
        let mut p = self.require_product(id)?;
        p.variants.push(variant);
        self.update_product(p)
    }

    /// Adds a barcode to a product or one of its variants.
    pub fn add_barcode(
        &mut self,
        id: ProductId,
        variant: Option<VariantId>,
        code: &str,
    ) -> CoreResult<Product> {
        let code = Barcode::parse(code)?;
        let mut p = self.require_product(id)?;
        match variant {
            None => p.barcodes.push(code),
            Some(v) => p
                .variants
                .iter_mut()
                .find(|x| x.id == v)
                .ok_or_else(|| CoreError::NotFound {
                    what: "variant",
                    id: v.to_string(),
                })?
                .barcodes
                .push(code),
        }
        self.update_product(p)
    }

    fn save_product(&mut self, p: &Product) -> CoreResult<()> {
        let doc_id = self.catalog_doc_id()?;
        self.write(|tx, d| {
            let doc = d.get_mut(tx, &doc_id)?;
            put_entry(doc, "products", &p.id.to_string(), p)?;
            projection::upsert_product(tx, p)
        })
    }

    /// Adds or renames a category.
    #[instrument(skip_all)]
    pub fn save_category(&mut self, category: Category) -> CoreResult<Category> {
        category.validate()?;
        if let Some(parent) = category.parent
            && (parent == category.id || self.category(parent)?.is_none())
        {
            return Err(CoreError::NotFound {
                what: "parent category",
                id: parent.to_string(),
            });
        }
        let doc_id = self.catalog_doc_id()?;
        self.write(|tx, d| {
            let doc = d.get_mut(tx, &doc_id)?;
            put_entry(doc, "categories", &category.id.to_string(), &category)?;
            projection::upsert_category(tx, &category)
        })?;
        Ok(category)
    }

    pub fn category(&self, id: CategoryId) -> CoreResult<Option<Category>> {
        Ok(self
            .conn
            .query_row(
                "SELECT category_id, name, parent_id FROM categories WHERE category_id = ?1",
                [id.to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                },
            )
            .optional()?
            .map(|(_, name, parent)| Category {
                id,
                name,
                parent: parent.and_then(|p| p.parse().ok()),
            }))
    }

    pub fn categories(&self) -> CoreResult<Vec<Category>> {
        let mut stmt = self
            .conn
            .prepare("SELECT category_id, name, parent_id FROM categories ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, parent) = row?;
            out.push(Category {
                id: id.parse()?,
                name,
                parent: parent.map(|p| p.parse()).transpose()?,
            });
        }
        Ok(out)
    }

    /// A product from the query tables.
    pub fn product(&self, id: ProductId) -> CoreResult<Option<Product>> {
        let data: Option<String> = self
            .conn
            .prepare_cached("SELECT data FROM products WHERE product_id = ?1")?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?;
        data.map(|d| serde_json::from_str(&d).map_err(CoreError::from))
            .transpose()
    }

    fn require_product(&self, id: ProductId) -> CoreResult<Product> {
        self.product(id)?.ok_or_else(|| CoreError::NotFound {
            what: "product",
            id: id.to_string(),
        })
    }

    /// The product as the catalog document holds it (the query tables are built from this).
    pub fn product_from_document(&mut self, id: ProductId) -> CoreResult<Option<Product>> {
        let doc_id = self.catalog_doc_id()?;
        let doc = self.docs.get(&self.conn, &doc_id)?;
        get_entry(doc, "products", &id.to_string())
    }

    pub fn product_by_sku(&self, sku: &str) -> CoreResult<Option<Product>> {
        let data: Option<String> = self
            .conn
            .prepare_cached("SELECT data FROM products WHERE sku = ?1 ORDER BY product_id LIMIT 1")?
            .query_row([sku.trim()], |r| r.get(0))
            .optional()?;
        data.map(|d| serde_json::from_str(&d).map_err(CoreError::from))
            .transpose()
    }

    /// Search as the cashier types: every word is a prefix of a word of the name, SKU or a
    /// barcode, case- and accent-insensitive; an exact barcode or SKU comes first. Inactive
    /// products are left out unless `include_inactive`.
    #[instrument(skip(self), level = "debug")]
    pub fn search(
        &self,
        query: &str,
        limit: usize,
        include_inactive: bool,
    ) -> CoreResult<Vec<ProductHit>> {
        let limit = limit.clamp(1, 200);
        let mut out: Vec<ProductHit> = Vec::new();
        let q = query.trim();
        if q.is_empty() {
            return Ok(out);
        }
        let hit = |r: &rusqlite::Row<'_>| HitRow::try_from(r);
        for sql in [
            "SELECT product_id, sku, name, price, unit, active FROM products WHERE sku = ?1",
            "SELECT p.product_id, p.sku, p.name, p.price, p.unit, p.active
             FROM barcodes b JOIN products p ON p.product_id = b.product_id WHERE b.code = ?1",
        ] {
            let mut exact = self.conn.prepare_cached(sql)?;
            for row in exact.query_map([q], hit)? {
                push_hit(&mut out, row?, include_inactive)?;
            }
        }
        let Some(fts) = fts_query(q) else {
            return Ok(out);
        };
        // No bm25 ranking: for a one-letter prefix it would score most of the catalog on every
        // keystroke. Matches come in catalog order and the few kept are ordered below.
        let exact_hits = out.len();
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.product_id, p.sku, p.name, p.price, p.unit, p.active
             FROM products_fts JOIN products p ON p.rowid = products_fts.rowid
             WHERE products_fts MATCH ?1 AND (?2 OR p.active)
             LIMIT ?3",
        )?;
        for row in stmt.query_map(params![fts, include_inactive, (limit * 4) as i64], hit)? {
            push_hit(&mut out, row?, include_inactive)?;
        }
        let needle = q.to_lowercase();
        out[exact_hits..].sort_by_cached_key(|h| {
            let name = h.name.to_lowercase();
            (!name.starts_with(&needle), name.len(), name)
        });
        out.truncate(limit);
        Ok(out)
    }

    /// Exact lookup of a scanned code: a product or variant barcode first, then a weighed-item
    /// EAN-13 decoded with the store's rules (its item code is the product's SKU or one of its
    /// barcodes; a price-embedded code is turned into a quantity at the shelf price).
    #[instrument(skip(self), level = "debug")]
    pub fn lookup_barcode(&mut self, code: &str) -> CoreResult<ScanMatch> {
        let code = code.trim();
        let found: Option<(String, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT product_id, variant_id FROM barcodes WHERE code = ?1
                 ORDER BY product_id LIMIT 1",
            )?
            .query_row([code], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((pid, vid)) = found {
            let product = self.require_product(pid.parse()?)?;
            return Ok(ScanMatch {
                product,
                variant_id: vid.map(|v| v.parse()).transpose()?,
                quantity: Quantity::ONE,
                weighed: false,
            });
        }
        let rules = self.settings()?.weighed_barcodes;
        let Some(w) = decode_weighed(code, &rules) else {
            return Err(CoreError::UnknownBarcode(code.to_string()));
        };
        let trimmed = w.item_code.trim_start_matches('0');
        let mut product = None;
        for candidate in [w.item_code.as_str(), trimmed] {
            if candidate.is_empty() {
                continue;
            }
            if let Some(p) = self.product_by_sku(candidate)? {
                product = Some(p);
                break;
            }
            let pid: Option<String> = self
                .conn
                .prepare_cached("SELECT product_id FROM barcodes WHERE code = ?1 LIMIT 1")?
                .query_row([candidate], |r| r.get(0))
                .optional()?;
            if let Some(pid) = pid {
                product = Some(self.require_product(pid.parse()?)?);
                break;
            }
        }
        let product = product.ok_or_else(|| CoreError::UnknownBarcode(code.to_string()))?;
        let quantity = match w.value {
            WeighedValue::Weight { kilograms } => match product.unit {
                Unit::Kilogram => kilograms,
                Unit::Gram => Quantity(kilograms.0 * Decimal::from(1000)),
                Unit::Piece => {
                    return Err(CoreError::Invalid(format!(
                        "{code} is a weighed-item code but {} is sold by the piece",
                        product.sku
                    )));
                }
            },
            WeighedValue::Price(price) => {
                if product.price.is_zero() {
                    return Err(CoreError::Invalid(format!(
                        "{} has no price to turn {price} into a quantity",
                        product.sku
                    )));
                }
                let q = (price.0 / product.price.0).round_dp_with_strategy(
                    product.unit.max_decimals(),
                    RoundingStrategy::MidpointAwayFromZero,
                );
                Quantity(q)
            }
        };
        Ok(ScanMatch {
            product,
            variant_id: None,
            quantity,
            weighed: true,
        })
    }

    /// Freezes a product (or variant) for a cart line with its tax rule.
    pub fn snapshot(
        &mut self,
        product: &Product,
        variant: Option<VariantId>,
    ) -> CoreResult<ProductSnapshot> {
        if !product.active {
            return Err(CoreError::InactiveProduct(product.sku.clone()));
        }
        if let Some(v) = variant.and_then(|v| product.variant(v))
            && !v.active
        {
            return Err(CoreError::InactiveProduct(v.sku.clone()));
        }
        let settings = self.settings()?;
        let rule = settings.tax_rule(&product.tax_class)?.clone();
        Ok(ProductSnapshot::of(product, variant, rule)?)
    }

    /// Adds a product by id to a cart.
    pub fn cart_add_product(
        &mut self,
        cart: &mut Cart,
        id: ProductId,
        variant: Option<VariantId>,
        quantity: Quantity,
    ) -> CoreResult<LineId> {
        let p = self.require_product(id)?;
        let snap = self.snapshot(&p, variant)?;
        Ok(cart.add(snap, quantity)?)
    }

    /// Adds whatever a scanned code resolves to (with its weight for weighed items).
    pub fn cart_add_scan(&mut self, cart: &mut Cart, code: &str) -> CoreResult<LineId> {
        let m = self.lookup_barcode(code)?;
        let snap = self.snapshot(&m.product, m.variant_id)?;
        Ok(cart.add(snap, m.quantity)?)
    }

    /// Barcodes and SKUs held by more than one product.
    pub fn duplicate_codes(&self) -> CoreResult<Vec<DuplicateCode>> {
        let mut out = Vec::new();
        for (field, sql) in [
            (
                "barcode",
                "SELECT code, group_concat(product_id) FROM barcodes GROUP BY code
                 HAVING count(DISTINCT product_id) > 1",
            ),
            (
                "sku",
                "SELECT sku, group_concat(product_id) FROM products GROUP BY sku
                 HAVING count(*) > 1",
            ),
        ] {
            let mut stmt = self.conn.prepare(sql)?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (code, ids) = row?;
                let mut product_ids = ids
                    .split(',')
                    .map(|s| s.parse())
                    .collect::<Result<Vec<ProductId>, _>>()?;
                product_ids.sort();
                out.push(DuplicateCode {
                    field: field.into(),
                    code,
                    product_ids,
                });
            }
        }
        Ok(out)
    }

    /// The active products of a category, by name (the category buttons of the selling
    /// screen).
    pub fn category_products(
        &self,
        category: CategoryId,
        limit: usize,
    ) -> CoreResult<Vec<ProductHit>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT product_id, sku, name, price, unit, active FROM products
             WHERE category_id = ?1 AND active ORDER BY name, sku LIMIT ?2",
        )?;
        let mut out = Vec::new();
        for row in stmt.query_map(
            params![category.to_string(), limit.clamp(1, 500) as i64],
            |r| HitRow::try_from(r),
        )? {
            push_hit(&mut out, row?, false)?;
        }
        Ok(out)
    }

    /// Products in the query tables.
    pub fn product_count(&self) -> CoreResult<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM products", [], |r| r.get::<_, i64>(0))?
            as u64)
    }
}

type HitRow = (String, String, String, String, String, bool);

fn push_hit(out: &mut Vec<ProductHit>, row: HitRow, include_inactive: bool) -> CoreResult<()> {
    let (id, sku, name, price, unit, active) = row;
    if !include_inactive && !active {
        return Ok(());
    }
    let product_id: ProductId = id.parse()?;
    if out.iter().any(|h| h.product_id == product_id) {
        return Ok(());
    }
    out.push(ProductHit {
        product_id,
        sku,
        name,
        price: price.parse()?,
        unit: Unit::parse(&unit)?,
        active,
    });
    Ok(())
}

/// Refuses a SKU or barcode another product already uses.
pub(crate) fn check_unique_codes(conn: &rusqlite::Connection, p: &Product) -> CoreResult<()> {
    let pid = p.id.to_string();
    let mut skus = vec![p.sku.as_str()];
    skus.extend(p.variants.iter().map(|v| v.sku.as_str()));
    for (i, s) in skus.iter().enumerate() {
        if skus[..i].contains(s) {
            return Err(CoreError::Duplicate {
                field: "SKU",
                value: s.to_string(),
                other: p.sku.clone(),
            });
        }
        let other: Option<String> = conn
            .prepare_cached("SELECT sku FROM products WHERE sku = ?1 AND product_id <> ?2 LIMIT 1")?
            .query_row(params![s, pid], |r| r.get(0))
            .optional()?;
        if let Some(other) = other {
            return Err(CoreError::Duplicate {
                field: "SKU",
                value: s.to_string(),
                other,
            });
        }
    }
    let codes: Vec<&Barcode> = p.all_barcodes().collect();
    for (i, b) in codes.iter().enumerate() {
        if codes[..i].contains(b) {
            return Err(CoreError::Duplicate {
                field: "barcode",
                value: b.to_string(),
                other: p.sku.clone(),
            });
        }
        let other: Option<String> = conn
            .prepare_cached(
                "SELECT p.sku FROM barcodes b JOIN products p ON p.product_id = b.product_id
                 WHERE b.code = ?1 AND b.product_id <> ?2 LIMIT 1",
            )?
            .query_row(params![b.as_str(), pid], |r| r.get(0))
            .optional()?;
        if let Some(other) = other {
            return Err(CoreError::Duplicate {
                field: "barcode",
                value: b.to_string(),
                other,
            });
        }
    }
    Ok(())
}
