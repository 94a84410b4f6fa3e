//! Catalog API: thin handlers over [`crate::catalog`].
//!
//! ```text
//! GET  /api/v1/stores/{store_id}/catalog/products?q=&offset=&limit=
//! POST /api/v1/stores/{store_id}/catalog/products                  ProductView
//! GET  /api/v1/stores/{store_id}/catalog/products/{product_id}
//! PUT  /api/v1/stores/{store_id}/catalog/products/{product_id}     ProductView
//! GET  /api/v1/stores/{store_id}/catalog/categories
//! POST /api/v1/stores/{store_id}/catalog/categories                {"name"}
//! GET  /api/v1/stores/{store_id}/catalog/export.csv
//! POST /api/v1/stores/{store_id}/catalog/import                    text/csv body
//! ```

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use shared_model::catalog_csv::ImportReport;

use crate::catalog::{self, CategoryView, NewCategory, ProductPage, ProductQuery, ProductView};
use crate::error::{ErrorBody, Result};
use crate::extract::{ApiJson, ApiQuery, UserAuth};
use crate::openapi::{NO_STORE, NOT_MANAGER, StorePath};
use crate::state::AppState;

/// 409 of the catalog operations.
const NO_TERMINAL: &str = "`store_has_no_terminal`: no terminal synced the store yet";
/// 400 of the operations that take a product.
const BAD_PRODUCT: &str = "`bad_request`: a value is refused (the message names it): a negative or too large price, \
    an unknown tax class or category, a bad barcode, or a SKU or barcode another product holds";

/// Largest CSV file an import takes (100k products is about 10 MiB).
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// `{store_id}` and `{product_id}`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProductPath {
    /// The store's id (a UUID).
    #[param(format = Uuid)]
    pub store_id: String,
    /// The product's id (a UUID).
    #[param(format = Uuid)]
    pub product_id: String,
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/catalog/products", params(StorePath, ProductQuery), security(("bearer" = [])),
    responses((status = 200, description = "a page of products by name, as projected from the catalog document", body = ProductPage),
        (status = 400, description = "`bad_request`: `offset` below 0, `limit` outside 1–200 or `q` too long", body = ErrorBody),
        (status = 403, description = NOT_MANAGER, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody)))]
pub async fn list_products(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(q): ApiQuery<ProductQuery>,
) -> Result<Json<ProductPage>> {
    Ok(Json(catalog::list(&app, &who, &store_id, &q).await?))
}

#[utoipa::path(post, path = "/api/v1/stores/{store_id}/catalog/products", request_body = ProductView,
    params(StorePath), security(("bearer" = [])),
    responses((status = 201, description = "created; the tills receive it by sync", body = ProductView),
        (status = 400, description = BAD_PRODUCT, body = ErrorBody),
        (status = 403, description = NOT_MANAGER, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody),
        (status = 409, description = NO_TERMINAL, body = ErrorBody)))]
pub async fn create_product(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiJson(input): ApiJson<ProductView>,
) -> Result<(StatusCode, Json<ProductView>)> {
    let saved = catalog::save(&app, &who, &store_id, None, input).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/catalog/products/{product_id}", params(ProductPath), security(("bearer" = [])),
    responses((status = 200, description = "the product as the catalog document holds it", body = ProductView),
        (status = 403, description = NOT_MANAGER, body = ErrorBody),
        (status = 404, description = "`not_found`: no such store or product, or not the caller's", body = ErrorBody),
        (status = 409, description = NO_TERMINAL, body = ErrorBody)))]
pub async fn get_product(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path((store_id, product_id)): Path<(String, String)>,
) -> Result<Json<ProductView>> {
    Ok(Json(
        catalog::get(&app, &who, &store_id, &product_id).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/stores/{store_id}/catalog/products/{product_id}", request_body = ProductView,
    params(ProductPath), security(("bearer" = [])),
    responses((status = 200, description = "replaced; the tills receive it by sync", body = ProductView),
        (status = 400, description = BAD_PRODUCT, body = ErrorBody),
        (status = 403, description = NOT_MANAGER, body = ErrorBody),
        (status = 404, description = "`not_found`: no such store or product, or not the caller's", body = ErrorBody),
        (status = 409, description = NO_TERMINAL, body = ErrorBody)))]
pub async fn update_product(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path((store_id, product_id)): Path<(String, String)>,
    ApiJson(input): ApiJson<ProductView>,
) -> Result<Json<ProductView>> {
    Ok(Json(
        catalog::save(&app, &who, &store_id, Some(&product_id), input).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/catalog/categories", params(StorePath), security(("bearer" = [])),
    responses((status = 200, description = "the store's categories by name", body = Vec<CategoryView>),
        (status = 403, description = NOT_MANAGER, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody),
        (status = 409, description = NO_TERMINAL, body = ErrorBody)))]
pub async fn list_categories(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
) -> Result<Json<Vec<CategoryView>>> {
    Ok(Json(catalog::categories(&app, &who, &store_id).await?))
}

#[utoipa::path(post, path = "/api/v1/stores/{store_id}/catalog/categories", request_body = NewCategory,
    params(StorePath), security(("bearer" = [])),
    responses((status = 201, description = "added", body = CategoryView),
        (status = 400, description = "`bad_request`: an empty, too long or already used name", body = ErrorBody),
        (status = 403, description = NOT_MANAGER, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody),
        (status = 409, description = NO_TERMINAL, body = ErrorBody)))]
pub async fn create_category(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiJson(new): ApiJson<NewCategory>,
) -> Result<(StatusCode, Json<CategoryView>)> {
    let c = catalog::add_category(&app, &who, &store_id, new).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/catalog/export.csv", params(StorePath), security(("bearer" = [])),
    description = "The catalog as CSV (an attachment `catalog.csv`) in the format the import and the tills read; formulas neutralised.",
    responses((status = 200, description = "CSV with a header row, by SKU", content_type = "text/csv", body = String),
        (status = 403, description = NOT_MANAGER, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody),
        (status = 409, description = NO_TERMINAL, body = ErrorBody)))]
pub async fn export_csv(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
) -> Result<([(header::HeaderName, &'static str); 2], Vec<u8>)> {
    let body = catalog::export_csv(&app, &who, &store_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"catalog.csv\"",
            ),
        ],
        body,
    ))
}

#[utoipa::path(post, path = "/api/v1/stores/{store_id}/catalog/import", params(StorePath), security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv",
        description = "CSV with a header row naming at least `sku`, `name` and `price` (the export's columns); at most 32 MiB."),
    description = "Good rows are written to the catalog (a row whose SKU exists updates that product); bad rows are \
        reported by line, column and reason (English and Bahasa Indonesia) and change nothing.",
    responses((status = 200, description = "what was imported and the rows refused", body = ImportReport),
        (status = 400, description = "`bad_request`: the header lacks a required column", body = ErrorBody),
        (status = 403, description = NOT_MANAGER, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody),
        (status = 409, description = NO_TERMINAL, body = ErrorBody),
        (status = 413, description = "the file is larger than 32 MiB", content_type = "text/plain", body = String)))]
pub async fn import_csv(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    body: Bytes,
) -> Result<Json<ImportReport>> {
    Ok(Json(
        catalog::import_csv(&app, &who, &store_id, body.to_vec(), |_| {}).await?,
    ))
}

/// Routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/stores/{store_id}/catalog/products",
            get(list_products).post(create_product),
        )
        .route(
            "/stores/{store_id}/catalog/products/{product_id}",
            get(get_product).put(update_product),
        )
        .route(
            "/stores/{store_id}/catalog/categories",
            get(list_categories).post(create_category),
        )
        .route("/stores/{store_id}/catalog/export.csv", get(export_csv))
        .route(
            "/stores/{store_id}/catalog/import",
            post(import_csv).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
}
