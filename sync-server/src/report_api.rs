//! The report endpoints added for the owner dashboard (issue 13): voids, the Z report of a
//! business day, stock by product with names, a product's movements, oversells, and the CSV
//! export of every report. Thin handlers over [`crate::service::Services`]; the CSV bodies come
//! from [`Services::export_csv`](crate::service::Services::export_csv), the function the
//! dashboard's download links call too.
//!
//! ```text
//! GET /api/v1/stores/{store_id}/reports/voids?from&to
//! GET /api/v1/stores/{store_id}/reports/z-report?date
//! GET /api/v1/stores/{store_id}/reports/stock?search
//! GET /api/v1/stores/{store_id}/reports/stock-movements?product_id[&from&to]
//! GET /api/v1/stores/{store_id}/reports/oversells
//! GET /api/v1/stores/{store_id}/reports/conflict-details
//! GET /api/v1/stores/{store_id}/exports/<report>.csv?…
//! ```

use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::conflict_report::ConflictDetail;
use crate::error::{ErrorBody, Result};
use crate::extract::{ApiQuery, UserAuth};
use crate::openapi::{BAD_RANGE, NO_STORE, StorePath};
use crate::report_csv::{CsvExport, CsvFile};
use crate::reports::{DateRange, VoidItem};
use crate::state::AppState;
use crate::stock_reports::{MovementsQuery, OversellItem, ProductMovements, StockListItem};
use crate::zreport::{BusinessDay, DayZReport};

/// 400 of the Z report.
const BAD_DAY: &str = "`bad_request`: `date` is missing or not a date";
/// 400 of a product's movements.
const BAD_MOVEMENTS: &str = "`bad_request`: `product_id` is missing, or `from`/`to` is not a date, only one of them is given, or `from` is after `to`";
/// 404 of a product's movements.
const NO_PRODUCT: &str =
    "`not_found`: no such store, or not the caller's, or a product the store never had";

/// `?search=…` of the stock list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockSearch {
    /// Keeps products whose SKU or name contains it (case-insensitive).
    pub search: Option<String>,
}

/// A CSV file as an attachment.
impl IntoResponse for CsvFile {
    fn into_response(self) -> Response {
        let disposition =
            HeaderValue::from_str(&format!("attachment; filename=\"{}\"", self.filename))
                .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (HeaderName::from_static("content-disposition"), disposition),
            ],
            self.body,
        )
            .into_response()
    }
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/voids", params(StorePath, DateRange), security(("bearer" = [])),
    description = "Voided sales of the business dates `from`..=`to` with when, why and who approved each void. They count in no other report's totals.",
    responses((status = 200, description = "the voided sales, oldest first", body = Vec<VoidItem>),
        (status = 400, description = BAD_RANGE, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody)))]
pub(crate) async fn voids(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(r): ApiQuery<DateRange>,
) -> Result<Json<Vec<VoidItem>>> {
    Ok(Json(app.services.voids(&who, &store_id, &r).await?))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/z-report", params(StorePath, BusinessDay), security(("bearer" = [])),
    description = "The Z report of one business day computed from the tills' journals of that day, the way each till computes its own: \
        per till and for the store, per payment method, refunds, voids and the cash that should be in the drawers.",
    responses((status = 200, description = "each till's and the store's Z report", body = DayZReport),
        (status = 400, description = BAD_DAY, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody)))]
pub(crate) async fn z_report(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(q): ApiQuery<BusinessDay>,
) -> Result<Json<DayZReport>> {
    Ok(Json(app.services.z_report(&who, &store_id, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/stock", params(StorePath, StockSearch), security(("bearer" = [])),
    description = "Stock on hand of every product of the catalog (and of any product with movements), with SKU and name, by SKU.",
    responses((status = 200, description = "one row per product", body = Vec<StockListItem>),
        (status = 404, description = NO_STORE, body = ErrorBody)))]
pub(crate) async fn stock_list(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(q): ApiQuery<StockSearch>,
) -> Result<Json<Vec<StockListItem>>> {
    Ok(Json(
        app.services
            .stock_list(&who, &store_id, q.search.as_deref())
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/stock-movements", params(StorePath, MovementsQuery), security(("bearer" = [])),
    description = "A product's stock movements (of the business dates `from`..=`to`, or all), oldest first, each with the stock on hand after it.",
    responses((status = 200, description = "the product and its movements", body = ProductMovements),
        (status = 400, description = BAD_MOVEMENTS, body = ErrorBody), (status = 404, description = NO_PRODUCT, body = ErrorBody)))]
pub(crate) async fn stock_movements(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(q): ApiQuery<MovementsQuery>,
) -> Result<Json<ProductMovements>> {
    Ok(Json(
        app.services.stock_movements(&who, &store_id, &q).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/oversells", params(StorePath), security(("bearer" = [])),
    description = "Products whose stock on hand sales took below zero (typically two tills offline selling the same last units), \
        among products whose stock is kept (with a receipt, count, transfer or adjustment).",
    responses((status = 200, description = "the oversold products, by SKU", body = Vec<OversellItem>),
        (status = 404, description = NO_STORE, body = ErrorBody)))]
pub(crate) async fn oversells(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
) -> Result<Json<Vec<OversellItem>>> {
    Ok(Json(app.services.oversells(&who, &store_id).await?))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/conflict-details", params(StorePath), security(("bearer" = [])),
    description = "The conflicts of reports/conflicts with what acting on them needs: receipts, tills, products, quantities and amounts.",
    responses((status = 200, description = "the conflicts, explained", body = Vec<ConflictDetail>),
        (status = 404, description = NO_STORE, body = ErrorBody)))]
pub(crate) async fn conflict_details(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
) -> Result<Json<Vec<ConflictDetail>>> {
    Ok(Json(app.services.conflict_details(&who, &store_id).await?))
}

/// A `GET` handler of one CSV export: `name(Query) => variant, "path", "description", "400"`.
macro_rules! csv_export {
    ($($name:ident($query:ty) => $make:expr, $path:literal, $desc:literal, $bad:expr;)*) => {
        $(
            #[utoipa::path(get, path = $path, params(StorePath, $query), security(("bearer" = [])),
                description = $desc,
                responses((status = 200, description = "CSV with a header row (an attachment)", content_type = "text/csv", body = String),
                    (status = 400, description = $bad, body = ErrorBody),
                    (status = 404, description = NO_STORE, body = ErrorBody)))]
            pub(crate) async fn $name(
                State(app): State<AppState>,
                UserAuth(who): UserAuth,
                Path(store_id): Path<String>,
                ApiQuery(q): ApiQuery<$query>,
            ) -> Result<CsvFile> {
                let make: fn($query) -> CsvExport = $make;
                app.services.export_csv(&who, &store_id, &make(q)).await
            }
        )*
    };
}

/// No query parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoQuery {}

/// 400 of the exports without parameters: only a malformed query string.
const BAD_QUERY: &str = "`bad_request`: a malformed query string";

csv_export! {
    products_csv(DateRange) => CsvExport::Products, "/api/v1/stores/{store_id}/exports/products.csv",
        "Sales per product of `from`..=`to` (as reports/sales-by-product).", BAD_RANGE;
    categories_csv(DateRange) => CsvExport::Categories, "/api/v1/stores/{store_id}/exports/categories.csv",
        "Sales per category of `from`..=`to` (as reports/sales-by-category).", BAD_RANGE;
    cashiers_csv(DateRange) => CsvExport::Cashiers, "/api/v1/stores/{store_id}/exports/cashiers.csv",
        "Sales per cashier of `from`..=`to` (as reports/sales-by-cashier).", BAD_RANGE;
    payment_methods_csv(DateRange) => CsvExport::PaymentMethods, "/api/v1/stores/{store_id}/exports/payment-methods.csv",
        "Payments per method of `from`..=`to` (as reports/sales-by-payment-method).", BAD_RANGE;
    refunds_voids_csv(DateRange) => CsvExport::RefundsVoids, "/api/v1/stores/{store_id}/exports/refunds-voids.csv",
        "Refunds and voided sales of `from`..=`to`, told apart by the `kind` column.", BAD_RANGE;
    shifts_csv(DateRange) => CsvExport::Shifts, "/api/v1/stores/{store_id}/exports/shifts.csv",
        "Shifts of `from`..=`to` with expected and counted cash and the difference.", BAD_RANGE;
    z_report_csv(BusinessDay) => CsvExport::ZReport, "/api/v1/stores/{store_id}/exports/z-report.csv",
        "The Z report of business day `date`, one row per figure (`scope` is `store` or a terminal code).", BAD_DAY;
    stock_on_hand_csv(NoQuery) => |_| CsvExport::StockOnHand, "/api/v1/stores/{store_id}/exports/stock-on-hand.csv",
        "Stock on hand of every product (as reports/stock).", BAD_QUERY;
    low_stock_csv(NoQuery) => |_| CsvExport::LowStock, "/api/v1/stores/{store_id}/exports/low-stock.csv",
        "Products at or below their low-stock threshold (as reports/low-stock).", BAD_QUERY;
    movements_csv(MovementsQuery) => CsvExport::Movements, "/api/v1/stores/{store_id}/exports/stock-movements.csv",
        "A product's stock movements with the stock after each (as reports/stock-movements).", BAD_MOVEMENTS;
    oversells_csv(NoQuery) => |_| CsvExport::Oversells, "/api/v1/stores/{store_id}/exports/oversells.csv",
        "Oversold products (as reports/oversells).", BAD_QUERY;
}

/// Routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    let store = |p: &str| format!("/stores/{{store_id}}/{p}");
    Router::new()
        .route(&store("reports/voids"), get(voids))
        .route(&store("reports/z-report"), get(z_report))
        .route(&store("reports/stock"), get(stock_list))
        .route(&store("reports/stock-movements"), get(stock_movements))
        .route(&store("reports/oversells"), get(oversells))
        .route(&store("reports/conflict-details"), get(conflict_details))
        .route(&store("exports/products.csv"), get(products_csv))
        .route(&store("exports/categories.csv"), get(categories_csv))
        .route(&store("exports/cashiers.csv"), get(cashiers_csv))
        .route(
            &store("exports/payment-methods.csv"),
            get(payment_methods_csv),
        )
        .route(&store("exports/refunds-voids.csv"), get(refunds_voids_csv))
        .route(&store("exports/shifts.csv"), get(shifts_csv))
        .route(&store("exports/z-report.csv"), get(z_report_csv))
        .route(&store("exports/stock-on-hand.csv"), get(stock_on_hand_csv))
        .route(&store("exports/low-stock.csv"), get(low_stock_csv))
        .route(&store("exports/stock-movements.csv"), get(movements_csv))
        .route(&store("exports/oversells.csv"), get(oversells_csv))
}
