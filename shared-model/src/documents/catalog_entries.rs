//! Products written and read with plain automerge calls, in exactly the shape autosurgeon's
//! derives give them (the tests below check both directions), for the catalog's bulk paths.
//!
//! Written by hand because autosurgeon's `reconcile` reads every field before it writes it
//! and its `hydrate` looks every field up on its own: on a catalog of 100,000 products that is
//! ~300 µs per product either way. A new product has nothing to read, so it is written as one
//! batch of values; a product is read from one `hydrate` of its map (one pass over its ops).
//! Edits of an existing product still go through autosurgeon, which keeps concurrent edits of
//! different fields merging field by field.

use std::collections::HashMap;
use std::str::FromStr;

use automerge::hydrate::{Map, Value};
use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ReadDoc, ScalarValue};

use super::{CatalogDoc, DocumentKind, SCHEMA_VERSION};
use crate::barcode::Barcode;
use crate::catalog::{Product, Unit, Variant};
use crate::error::{ModelError, ModelResult};

fn invalid(reason: impl Into<String>) -> ModelError {
    ModelError::Invalid {
        field: "catalog product",
        reason: reason.into(),
    }
}

fn am(e: automerge::AutomergeError) -> ModelError {
    invalid(e.to_string())
}

/// The name autosurgeon's derive stores a unit-only enum variant under.
fn unit_name(u: Unit) -> &'static str {
    match u {
        Unit::Piece => "Piece",
        Unit::Kilogram => "Kilogram",
        Unit::Gram => "Gram",
    }
}

fn unit_from_name(s: &str) -> ModelResult<Unit> {
    match s {
        "Piece" => Ok(Unit::Piece),
        "Kilogram" => Ok(Unit::Kilogram),
        "Gram" => Ok(Unit::Gram),
        other => Err(invalid(format!("unknown unit {other:?}"))),
    }
}

fn opt_str<T: ToString>(v: &Option<T>) -> ScalarValue {
    match v {
        Some(v) => ScalarValue::Str(v.to_string().into()),
        None => ScalarValue::Null,
    }
}

fn barcodes_value(codes: &[Barcode]) -> Value {
    Value::from(
        codes
            .iter()
            .map(|b| Value::scalar(b.as_str()))
            .collect::<Vec<_>>(),
    )
}

fn map_value(fields: Vec<(&str, Value)>) -> Value {
    Value::Map(Map::from(fields.into_iter().collect::<HashMap<_, _>>()))
}

fn variant_value(v: &Variant) -> Value {
    map_value(vec![
        ("id", Value::scalar(v.id.to_string())),
        ("name", Value::scalar(v.name.as_str())),
        ("sku", Value::scalar(v.sku.as_str())),
        ("price", Value::Scalar(opt_str(&v.price))),
        ("barcodes", barcodes_value(&v.barcodes)),
        ("active", Value::scalar(v.active)),
    ])
}

/// A product as the tree of values autosurgeon's derive would write.
fn product_value(p: &Product) -> Value {
    map_value(vec![
        ("id", Value::scalar(p.id.to_string())),
        ("sku", Value::scalar(p.sku.as_str())),
        ("name", Value::scalar(p.name.as_str())),
        ("category_id", Value::Scalar(opt_str(&p.category_id))),
        ("unit", Value::scalar(unit_name(p.unit))),
        ("price", Value::scalar(p.price.to_string())),
        ("cost", Value::Scalar(opt_str(&p.cost))),
        ("tax_class", Value::scalar(p.tax_class.as_str())),
        ("active", Value::scalar(p.active)),
        ("barcodes", barcodes_value(&p.barcodes)),
        (
            "variants",
            Value::from(p.variants.iter().map(variant_value).collect::<Vec<_>>()),
        ),
        (
            "low_stock_threshold",
            Value::Scalar(opt_str(&p.low_stock_threshold)),
        ),
        ("updated_at", Value::scalar(p.updated_at.to_string())),
    ])
}

/// Writes a product that `products` does not hold yet under its id, as one batch: automerge
/// places the whole tree with two splices of its op set instead of one per field (a CSV
/// import of 100,000 products spent most of its time in those splices).
pub fn put_new_product<T: Transactable>(
    doc: &mut T,
    products: &ObjId,
    p: &Product,
) -> ModelResult<()> {
    doc.batch_create_object(products, p.id.to_string(), &product_value(p), false)
        .map_err(am)?;
    Ok(())
}

fn field<'a>(m: &'a Map, key: &str) -> ModelResult<&'a Value> {
    m.get(key).ok_or_else(|| invalid(format!("has no {key}")))
}

fn string<'a>(m: &'a Map, key: &str) -> ModelResult<&'a str> {
    match field(m, key)? {
        Value::Scalar(ScalarValue::Str(s)) => Ok(s.as_str()),
        other => Err(invalid(format!("{key} is not a string: {other:?}"))),
    }
}

fn parsed<T: FromStr<Err = ModelError>>(m: &Map, key: &str) -> ModelResult<T> {
    string(m, key)?.parse()
}

fn optional<T: FromStr<Err = ModelError>>(m: &Map, key: &str) -> ModelResult<Option<T>> {
    match m.get(key) {
        None | Some(Value::Scalar(ScalarValue::Null)) => Ok(None),
        Some(_) => parsed(m, key).map(Some),
    }
}

fn boolean(m: &Map, key: &str) -> ModelResult<bool> {
    match field(m, key)? {
        Value::Scalar(ScalarValue::Boolean(b)) => Ok(*b),
        other => Err(invalid(format!("{key} is not a boolean: {other:?}"))),
    }
}

fn list<'a>(m: &'a Map, key: &str) -> ModelResult<Vec<&'a Value>> {
    match field(m, key)? {
        Value::List(l) => Ok(l.iter().map(|v| &v.value).collect()),
        other => Err(invalid(format!("{key} is not a list: {other:?}"))),
    }
}

fn barcodes(m: &Map) -> ModelResult<Vec<Barcode>> {
    list(m, "barcodes")?
        .into_iter()
        .map(|v| match v {
            Value::Scalar(ScalarValue::Str(s)) => s.parse(),
            other => Err(invalid(format!("a barcode is not a string: {other:?}"))),
        })
        .collect()
}

fn as_map(v: &Value) -> ModelResult<&Map> {
    match v {
        Value::Map(m) => Ok(m),
        other => Err(invalid(format!("is not a map: {other:?}"))),
    }
}

fn variant_from(m: &Map) -> ModelResult<Variant> {
    Ok(Variant {
        id: parsed(m, "id")?,
        name: string(m, "name")?.to_string(),
        sku: string(m, "sku")?.to_string(),
        price: optional(m, "price")?,
        barcodes: barcodes(m)?,
        active: boolean(m, "active")?,
    })
}

/// A product from the hydrated value of its map.
pub fn product_from_value(v: &Value) -> ModelResult<Product> {
    let m = as_map(v)?;
    Ok(Product {
        id: parsed(m, "id")?,
        sku: string(m, "sku")?.to_string(),
        name: string(m, "name")?.to_string(),
        category_id: optional(m, "category_id")?,
        unit: unit_from_name(string(m, "unit")?)?,
        price: parsed(m, "price")?,
        cost: optional(m, "cost")?,
        tax_class: string(m, "tax_class")?.to_string(),
        active: boolean(m, "active")?,
        barcodes: barcodes(m)?,
        variants: list(m, "variants")?
            .into_iter()
            .map(|v| as_map(v).and_then(variant_from))
            .collect::<ModelResult<_>>()?,
        low_stock_threshold: optional(m, "low_stock_threshold")?,
        updated_at: parsed(m, "updated_at")?,
    })
}

/// The product at `key` of the map `products`, `None` when absent.
pub fn read_product(
    doc: &impl ReadDoc,
    products: &ObjId,
    key: &str,
) -> ModelResult<Option<Product>> {
    match doc.get(products, key).map_err(am)? {
        Some((automerge::Value::Object(ObjType::Map), obj)) => {
            product_from_value(&doc.hydrate(&obj, None).map_err(am)?).map(Some)
        }
        Some(_) => Err(invalid(format!("{key} is not a map"))),
        None => Ok(None),
    }
}

/// Every product of the map `products` with its key, in one pass over the map.
pub fn read_all_products(
    doc: &impl ReadDoc,
    products: &ObjId,
) -> ModelResult<Vec<(String, Product)>> {
    match doc.hydrate(products, None).map_err(am)? {
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| Ok((k.clone(), product_from_value(&v.value)?)))
            .collect(),
        other => Err(invalid(format!("products is not a map: {other:?}"))),
    }
}

/// The whole catalog document, as [`super::read`] gives it, with its products read in one
/// pass (`read` hydrates them field by field: ~30 s for 100,000 products).
pub fn read_catalog(doc: &(impl ReadDoc + autosurgeon::ReadDoc)) -> ModelResult<CatalogDoc> {
    let found = DocumentKind::of(doc);
    if found != Some(DocumentKind::Catalog) {
        return Err(ModelError::Invalid {
            field: "document",
            reason: format!(
                "expected a catalog document, found {:?}",
                found.map(DocumentKind::as_str)
            ),
        });
    }
    let hydrate_err = |e: autosurgeon::HydrateError| ModelError::Invalid {
        field: "document",
        reason: e.to_string(),
    };
    let schema_version: u64 =
        autosurgeon::hydrate_prop(doc, automerge::ROOT, "schema_version").map_err(hydrate_err)?;
    if schema_version > SCHEMA_VERSION {
        return Err(ModelError::Invalid {
            field: "document",
            reason: format!(
                "schema version {schema_version} is newer than this build ({SCHEMA_VERSION}): upgrade"
            ),
        });
    }
    let products = match ReadDoc::get(doc, automerge::ROOT, "products").map_err(am)? {
        Some((automerge::Value::Object(ObjType::Map), obj)) => read_all_products(doc, &obj)?,
        _ => return Err(invalid("the catalog has no products map")),
    };
    Ok(CatalogDoc {
        kind: DocumentKind::Catalog.as_str().to_string(),
        schema_version,
        store_id: autosurgeon::hydrate_prop(doc, automerge::ROOT, "store_id")
            .map_err(hydrate_err)?,
        products: products.into_iter().collect(),
        categories: autosurgeon::hydrate_prop(doc, automerge::ROOT, "categories")
            .map_err(hydrate_err)?,
        promotions: autosurgeon::hydrate_prop(doc, automerge::ROOT, "promotions")
            .map_err(hydrate_err)?,
    })
}

#[cfg(test)]
mod tests {
    use automerge::{AutoCommit, ROOT};
    use rust_decimal_macros::dec;

    use super::*;
    use crate::ids::{CategoryId, VariantId};
    use crate::money::{Money, Quantity};

    fn sample() -> Product {
        let mut p = Product::new("SKU-1", "Kopi Susu", Money(dec!(12500)), "standard");
        p.category_id = Some(CategoryId::new());
        p.unit = Unit::Kilogram;
        p.cost = Some(Money(dec!(9000.5)));
        p.barcodes = vec!["8998866200301".parse().unwrap()];
        p.low_stock_threshold = Some(Quantity(dec!(2.5)));
        p.variants = vec![
            Variant {
                id: VariantId::new(),
                name: "Besar".into(),
                sku: "SKU-1-L".into(),
                price: Some(Money(dec!(15000))),
                barcodes: vec!["8991002101104".parse().unwrap()],
                active: true,
            },
            Variant {
                id: VariantId::new(),
                name: "Kecil".into(),
                sku: "SKU-1-S".into(),
                price: None,
                barcodes: Vec::new(),
                active: false,
            },
        ];
        p
    }

    fn doc_with_products_map() -> (AutoCommit, ObjId) {
        let mut doc = AutoCommit::new();
        let products = doc.put_object(ROOT, "products", ObjType::Map).unwrap();
        (doc, products)
    }

    #[test]
    fn a_product_put_directly_hydrates_with_autosurgeon() {
        for p in [
            sample(),
            Product::new("B", "Bare", Money(dec!(1)), "standard"),
        ] {
            let (mut doc, products) = doc_with_products_map();
            put_new_product(&mut doc, &products, &p).unwrap();
            let back: Product =
                autosurgeon::hydrate_prop(&doc, &products, p.id.to_string().as_str()).unwrap();
            assert_eq!(back, p);
            // The very values (types included) autosurgeon's reconcile writes.
            let (mut reconciled, theirs) = doc_with_products_map();
            autosurgeon::reconcile_prop(&mut reconciled, &theirs, p.id.to_string().as_str(), &p)
                .unwrap();
            assert_eq!(
                doc.hydrate(&products, None).unwrap(),
                reconciled.hydrate(&theirs, None).unwrap()
            );
        }
    }

    #[test]
    fn a_product_reconciled_by_autosurgeon_reads_directly() {
        for p in [
            sample(),
            Product::new("B", "Bare", Money(dec!(1)), "standard"),
        ] {
            let (mut doc, products) = doc_with_products_map();
            autosurgeon::reconcile_prop(&mut doc, &products, p.id.to_string().as_str(), &p)
                .unwrap();
            let key = p.id.to_string();
            assert_eq!(
                read_product(&doc, &products, &key).unwrap(),
                Some(p.clone())
            );
            assert_eq!(read_all_products(&doc, &products).unwrap(), vec![(key, p)]);
            assert_eq!(read_product(&doc, &products, "absent").unwrap(), None);
        }
    }

    #[test]
    fn the_catalog_reads_as_autosurgeon_reads_it() {
        let mut catalog = CatalogDoc::new("store-1");
        for p in [
            sample(),
            Product::new("B", "Bare", Money(dec!(1)), "standard"),
        ] {
            catalog.products.insert(p.id.to_string(), p);
        }
        let c = crate::catalog::Category {
            id: CategoryId::new(),
            name: "Mie".into(),
            parent: None,
        };
        catalog.categories.insert(c.id.to_string(), c);
        let doc = crate::documents::create(&catalog).unwrap();
        assert_eq!(read_catalog(&doc).unwrap(), catalog);
        let other = crate::documents::create(&crate::documents::UsersDoc::new("store-1")).unwrap();
        assert!(read_catalog(&other).is_err());
    }

    #[test]
    fn a_malformed_product_is_an_error() {
        let (mut doc, products) = doc_with_products_map();
        let p = sample();
        put_new_product(&mut doc, &products, &p).unwrap();
        let key = p.id.to_string();
        let (_, obj) = doc.get(&products, key.as_str()).unwrap().unwrap();
        doc.put(&obj, "price", "twelve").unwrap();
        assert!(read_product(&doc, &products, &key).is_err());
        doc.put(&obj, "price", "1").unwrap();
        doc.put(&obj, "unit", "Litre").unwrap();
        assert!(read_product(&doc, &products, &key).is_err());
    }
}
