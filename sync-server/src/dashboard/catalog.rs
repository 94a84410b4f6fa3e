//! The catalog pages of a store: the product list with search (the projected rows), the
//! categories, the product form (product, variants, barcodes, category, price, tax class) and
//! the import and export of [`super::catalog_import`]. Every read and change is a
//! [`crate::catalog`] use-case, the same the JSON API calls, so the same checks apply
//! ([`crate::access::manage_store`], the model's validation, unique codes).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::page::{Page, PageResult, StoreAccess, render};
use crate::catalog::{
    self, CategoryView, NewCategory, ProductPage, ProductQuery, ProductView, VariantView,
};
use crate::error::Error;
use crate::state::AppState;

/// Products per page of the list.
const PER_PAGE: i64 = 50;
/// Empty variant rows the form offers beyond the product's variants.
const NEW_VARIANT_ROWS: usize = 2;

/// The routes of this page area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stores/{store_id}/catalog", get(list))
        .route("/stores/{store_id}/catalog/categories", post(add_category))
        .route(
            "/stores/{store_id}/catalog/products/new",
            get(new_product).post(create_product),
        )
        .route(
            "/stores/{store_id}/catalog/products/{product_id}",
            get(edit_product).post(update_product),
        )
        .merge(super::catalog_import::routes())
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    q: Option<String>,
    offset: Option<i64>,
    /// Set after a save: the SKU saved.
    saved: Option<String>,
    /// Set after a category was added.
    category: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/catalog.html")]
struct ListPage {
    page: Page,
    q: String,
    list: ProductPage,
    categories: Vec<CategoryView>,
    category_names: HashMap<String, String>,
    prev_url: Option<String>,
    next_url: Option<String>,
    saved: bool,
    category_added: bool,
    category_error: Option<String>,
    category_value: String,
    import_url: String,
    export_url: String,
}

impl ListPage {
    fn category_of(&self, id: &Option<String>) -> &str {
        id.as_ref()
            .and_then(|c| self.category_names.get(c))
            .map(String::as_str)
            .unwrap_or("")
    }
}

fn page_url(page: &Page, q: &str, offset: i64) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", q)
        .append_pair("offset", &offset.to_string())
        .finish();
    format!("{}?{query}", page.store_url("catalog"))
}

async fn list_page(
    app: &AppState,
    access: StoreAccess,
    q: ListQuery,
    category_error: Option<(String, String)>,
) -> PageResult<Response> {
    let StoreAccess {
        principal, page, ..
    } = access;
    let store_id = page
        .store
        .as_ref()
        .map(|s| s.id.clone())
        .unwrap_or_default();
    let query = ProductQuery {
        q: q.q.clone(),
        offset: Some(q.offset.unwrap_or(0).max(0)),
        limit: Some(PER_PAGE),
    };
    let (list, categories) = catalog::overview(app, &principal, &store_id, &query).await?;
    let page = page.titled("catalog.title");
    let text = q.q.unwrap_or_default();
    let offset = list.offset;
    let prev_url = (offset > 0).then(|| page_url(&page, &text, (offset - PER_PAGE).max(0)));
    let next_url =
        (offset + PER_PAGE < list.total).then(|| page_url(&page, &text, offset + PER_PAGE));
    let category_names = categories
        .iter()
        .map(|c| (c.id.clone(), c.name.clone()))
        .collect();
    let status = if category_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (category_value, category_error) = match category_error {
        Some((v, e)) => (v, Some(e)),
        None => (String::new(), None),
    };
    let import_url = format!("{}?_csrf={}", page.store_url("catalog/import"), page.csrf);
    let export_url = page.store_url("catalog/export.csv");
    let html = render(&ListPage {
        q: text,
        list,
        categories,
        category_names,
        prev_url,
        next_url,
        saved: q.saved.is_some(),
        category_added: q.category.is_some(),
        category_error,
        category_value,
        import_url,
        export_url,
        page,
    })?;
    Ok((status, html).into_response())
}

/// `GET /stores/{store_id}/catalog`.
async fn list(
    State(app): State<AppState>,
    access: StoreAccess,
    Query(q): Query<ListQuery>,
) -> PageResult<Response> {
    list_page(&app, access, q, None).await
}

#[derive(Debug, Deserialize)]
struct CategoryForm {
    name: String,
}

/// `POST /stores/{store_id}/catalog/categories`.
async fn add_category(
    State(app): State<AppState>,
    access: StoreAccess,
    axum::Form(f): axum::Form<CategoryForm>,
) -> PageResult<Response> {
    let store_id = access.store.id.clone();
    let lang = access.page.lang;
    match catalog::add_category(
        &app,
        &access.principal,
        &store_id,
        NewCategory {
            name: f.name.clone(),
        },
    )
    .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/stores/{store_id}/catalog?category=1#categories"))
                .into_response(),
        ),
        Err(Error::Invalid { en, id, .. }) => {
            let msg = if lang.code() == "id" { id } else { en };
            list_page(&app, access, ListQuery::default(), Some((f.name, msg))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// One variant row of the form.
#[derive(Debug, Default)]
struct VariantRow {
    id: String,
    name: String,
    sku: String,
    price: String,
    barcodes: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "dashboard/catalog_product.html")]
struct ProductForm {
    page: Page,
    action: String,
    p: ProductView,
    barcodes: String,
    variants: Vec<VariantRow>,
    categories: Vec<CategoryView>,
    tax_classes: Vec<String>,
    /// The field refused and the message, in the page's language.
    error_field: String,
    error: Option<String>,
}

impl ProductForm {
    fn unit_is(&self, u: &str) -> bool {
        self.p.unit.as_deref().unwrap_or("pcs") == u
    }
    fn tax_is(&self, t: &str) -> bool {
        self.p.tax_class.as_deref() == Some(t)
    }
    fn category_is(&self, c: &str) -> bool {
        self.p.category_id.as_deref() == Some(c)
    }
    fn err(&self, field: &str) -> bool {
        self.error.is_some() && self.error_field == field
    }
}

fn form_page(
    page: Page,
    product_id: Option<&str>,
    p: ProductView,
    categories: Vec<CategoryView>,
    tax_classes: Vec<String>,
    error: Option<(&'static str, String)>,
) -> PageResult<Response> {
    let is_new = product_id.is_none();
    let action = match product_id {
        Some(id) => page.store_url(&format!("catalog/products/{id}")),
        None => page.store_url("catalog/products/new"),
    };
    let page = page.titled(if is_new {
        "catalog.new_title"
    } else {
        "catalog.edit_title"
    });
    let mut variants: Vec<VariantRow> = p
        .variants
        .iter()
        .map(|v| VariantRow {
            id: v.id.clone().unwrap_or_default(),
            name: v.name.clone(),
            sku: v.sku.clone(),
            price: v.price.clone().unwrap_or_default(),
            barcodes: v.barcodes.join("|"),
            active: v.active,
        })
        .collect();
    for _ in 0..NEW_VARIANT_ROWS {
        variants.push(VariantRow {
            active: true,
            ..VariantRow::default()
        });
    }
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (error_field, error) = match error {
        Some((f, e)) => (f.to_string(), Some(e)),
        None => (String::new(), None),
    };
    let html = render(&ProductForm {
        page,
        action,
        barcodes: p.barcodes.join("\n"),
        p,
        variants,
        categories,
        tax_classes,
        error_field,
        error,
    })?;
    Ok((status, html).into_response())
}

/// `GET /stores/{store_id}/catalog/products/new`.
async fn new_product(State(app): State<AppState>, access: StoreAccess) -> PageResult<Response> {
    let f = catalog::product_form(&app, &access.principal, &access.store.id, None).await?;
    form_page(
        access.page,
        None,
        f.product,
        f.categories,
        f.tax_classes,
        None,
    )
}

/// `GET /stores/{store_id}/catalog/products/{product_id}`.
async fn edit_product(
    State(app): State<AppState>,
    access: StoreAccess,
    Path((_, product_id)): Path<(String, String)>,
) -> PageResult<Response> {
    let f =
        catalog::product_form(&app, &access.principal, &access.store.id, Some(&product_id)).await?;
    form_page(
        access.page,
        Some(&product_id),
        f.product,
        f.categories,
        f.tax_classes,
        None,
    )
}

/// The form's fields as the API's [`ProductView`]: barcodes one per line (or separated by
/// `|`, `,` or `;`), variant rows `variant_<field>_<n>`, empty rows left out.
fn from_form(fields: &[(String, String)]) -> ProductView {
    let one = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let opt = |k: &str| Some(one(k)).filter(|v| !v.trim().is_empty());
    let codes = |s: &str| -> Vec<String> {
        s.split(['\n', '|', ',', ';'])
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    };
    let mut variants = Vec::new();
    for n in 0.. {
        let key = |f: &str| format!("variant_{f}_{n}");
        if !fields.iter().any(|(k, _)| *k == key("sku")) {
            break;
        }
        let (name, sku) = (one(&key("name")), one(&key("sku")));
        if name.trim().is_empty() && sku.trim().is_empty() {
            continue;
        }
        variants.push(VariantView {
            id: opt(&key("id")),
            name,
            sku,
            price: opt(&key("price")),
            barcodes: codes(&one(&key("barcodes"))),
            active: fields.iter().any(|(k, _)| *k == key("active")),
        });
    }
    ProductView {
        id: None,
        sku: one("sku"),
        name: one("name"),
        price: one("price"),
        category_id: opt("category_id"),
        unit: opt("unit"),
        tax_class: opt("tax_class"),
        active: fields.iter().any(|(k, _)| k == "active"),
        barcodes: codes(&one("barcodes")),
        variants,
        cost: opt("cost"),
        low_stock_threshold: opt("low_stock_threshold"),
    }
}

async fn save_form(
    app: &AppState,
    access: StoreAccess,
    product_id: Option<String>,
    fields: Vec<(String, String)>,
) -> PageResult<Response> {
    let input = from_form(&fields);
    let store_id = access.store.id.clone();
    match catalog::save(
        app,
        &access.principal,
        &store_id,
        product_id.as_deref(),
        input.clone(),
    )
    .await
    {
        Ok(saved) => {
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("saved", &saved.sku)
                .append_pair("q", &saved.sku)
                .finish();
            Ok(Redirect::to(&format!("/stores/{store_id}/catalog?{q}")).into_response())
        }
        Err(Error::Invalid { field, en, id }) => {
            let msg = if access.page.lang.code() == "id" {
                id
            } else {
                en
            };
            let f = catalog::product_form(app, &access.principal, &store_id, None).await?;
            let mut shown = input;
            shown.id = product_id.clone();
            form_page(
                access.page,
                product_id.as_deref(),
                shown,
                f.categories,
                f.tax_classes,
                Some((form_field(field), msg)),
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// The form field an [`Error::Invalid`] field names.
fn form_field(field: &'static str) -> &'static str {
    match field {
        "product name" | "name" => "name",
        "SKU" | "sku" => "sku",
        "price" => "price",
        "cost" => "cost",
        "low-stock threshold" | "low_stock_threshold" => "low_stock_threshold",
        "category" => "category_id",
        "unit" => "unit",
        "tax_class" | "tax class" => "tax_class",
        "barcodes" | "barcode" => "barcodes",
        _ => "variants",
    }
}

/// `POST /stores/{store_id}/catalog/products/new`.
async fn create_product(
    State(app): State<AppState>,
    access: StoreAccess,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    save_form(&app, access, None, fields).await
}

/// `POST /stores/{store_id}/catalog/products/{product_id}`.
async fn update_product(
    State(app): State<AppState>,
    access: StoreAccess,
    Path((_, product_id)): Path<(String, String)>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    save_form(&app, access, Some(product_id), fields).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_barcodes_and_variant_rows() {
        let f = |k: &str, v: &str| (k.to_string(), v.to_string());
        let v = from_form(&[
            f("sku", "K-1"),
            f("name", "Kopi"),
            f("price", "12500"),
            f("barcodes", "8998866200301\r\n 8998866200318 "),
            f("active", "on"),
            f("variant_id_0", ""),
            f("variant_name_0", "Besar"),
            f("variant_sku_0", "K-1-L"),
            f("variant_price_0", "15000"),
            f("variant_barcodes_0", ""),
            f("variant_active_0", "on"),
            f("variant_id_1", ""),
            f("variant_name_1", ""),
            f("variant_sku_1", ""),
            f("variant_price_1", ""),
            f("variant_barcodes_1", ""),
        ]);
        assert_eq!(v.barcodes, ["8998866200301", "8998866200318"]);
        assert!(v.active);
        assert_eq!(v.variants.len(), 1);
        assert_eq!(v.variants[0].price.as_deref(), Some("15000"));
        assert!(v.variants[0].active);
        assert_eq!(v.category_id, None);
    }
}
