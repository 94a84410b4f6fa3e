//! HTTP API under `/api/v1/`: thin handlers that extract, call one service
//! function and map the error. OpenAPI at `/api/v1/openapi.json`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use crate::auth::{Principal, Role};
use crate::error::{Error, ErrorBody, Result};
use crate::extract::{AnyAuth, ApiJson, ApiQuery, ClientAddr, UserAuth};
use crate::reports::{
    ConflictItem, DateRange, DaySales, HourSales, KeySales, LowStockItem, MethodSales,
    ProductSales, RefundItem, ShiftItem, StockOnHand,
};
use crate::service::{Enrollment, NewEnrollmentCode, StoreView, TerminalView, TokenPair};
use crate::service::{Persisted, PersistedRequest};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshRequest(<hidden>)")
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateStoreRequest {
    pub code: String,
    pub name: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateManagerRequest {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for CreateManagerRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateManagerRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Created {
    pub id: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EnrollmentCodeRequest {
    /// Name shown for the terminal, e.g. "Kasir 1".
    pub terminal_name: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EnrollRequest {
    /// The one-time code made by an owner or manager.
    pub code: String,
}

impl std::fmt::Debug for EnrollRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrollRequest(<hidden>)")
    }
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    pub user_id: String,
    pub tenant_id: String,
    pub store_id: Option<String>,
    pub role: Role,
}

#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(app): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<TokenPair>> {
    Ok(Json(
        app.services.login(&req.email, &req.password, addr).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody)))]
async fn refresh(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>> {
    Ok(Json(app.services.refresh(&req.refresh_token).await?))
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(UserAuth(who): UserAuth) -> Result<Json<Me>> {
    match who {
        Principal::User {
            user_id,
            tenant_id,
            store_id,
            role,
        } => Ok(Json(Me {
            user_id,
            tenant_id,
            store_id,
            role,
        })),
        Principal::Terminal { .. } | Principal::Instance { .. } => {
            Err(Error::Forbidden("not a user"))
        }
    }
}

#[utoipa::path(get, path = "/api/v1/stores", responses((status = 200, body = Vec<StoreView>), (status = 401, body = ErrorBody)))]
async fn list_stores(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
) -> Result<Json<Vec<StoreView>>> {
    Ok(Json(app.services.list_stores(&who).await?))
}

#[utoipa::path(post, path = "/api/v1/stores", request_body = CreateStoreRequest,
    responses((status = 201, body = StoreView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_store(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    ApiJson(req): ApiJson<CreateStoreRequest>,
) -> Result<(StatusCode, Json<StoreView>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            app.services
                .create_store(&who, &req.code, &req.name)
                .await?,
        ),
    ))
}

#[utoipa::path(post, path = "/api/v1/stores/{store_id}/managers", request_body = CreateManagerRequest,
    params(("store_id" = String, Path)),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_manager(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiJson(req): ApiJson<CreateManagerRequest>,
) -> Result<(StatusCode, Json<Created>)> {
    let id = app
        .services
        .create_manager(&who, &store_id, &req.email, &req.password)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/terminals", params(("store_id" = String, Path)),
    description = "The store's terminals with their last sync (`last_seen_at`), open connection and last heartbeat report (`last_report`, null when never reported).",
    responses((status = 200, body = Vec<TerminalView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_terminals(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
) -> Result<Json<Vec<TerminalView>>> {
    Ok(Json(app.services.list_terminals(&who, &store_id).await?))
}

#[utoipa::path(post, path = "/api/v1/stores/{store_id}/enrollment-codes", request_body = EnrollmentCodeRequest,
    params(("store_id" = String, Path)),
    responses((status = 201, body = NewEnrollmentCode), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_enrollment_code(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiJson(req): ApiJson<EnrollmentCodeRequest>,
) -> Result<(StatusCode, Json<NewEnrollmentCode>)> {
    let code = app
        .services
        .create_enrollment_code(&who, &store_id, &req.terminal_name)
        .await?;
    Ok((StatusCode::CREATED, Json(code)))
}

#[utoipa::path(post, path = "/api/v1/terminals/enroll", request_body = EnrollRequest,
    responses((status = 200, body = Enrollment), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn enroll(
    State(app): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<Json<Enrollment>> {
    Ok(Json(app.services.enroll(&req.code, addr).await?))
}

#[utoipa::path(post, path = "/api/v1/terminals/{terminal_id}/revoke", params(("terminal_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_terminal(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(terminal_id): Path<String>,
) -> Result<StatusCode> {
    app.services
        .revoke_terminal(Some(&who), &terminal_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/sales-by-day", params(("store_id" = String, Path), DateRange),
    responses((status = 200, body = Vec<DaySales>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn sales_by_day(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(r): ApiQuery<DateRange>,
) -> Result<Json<Vec<DaySales>>> {
    Ok(Json(app.services.sales_by_day(&who, &store_id, &r).await?))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/sales-by-hour", params(("store_id" = String, Path), DateRange),
    description = "Non-voided sales of the business dates `from`..=`to` per hour of the day (0–23) of their \
        `created_at`, in the store's time zone (its settings document's business day; Asia/Jakarta, UTC+07:00, \
        until one arrives). Always 24 rows.",
    responses((status = 200, body = Vec<HourSales>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn sales_by_hour(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(r): ApiQuery<DateRange>,
) -> Result<Json<Vec<HourSales>>> {
    Ok(Json(app.services.sales_by_hour(&who, &store_id, &r).await?))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/low-stock", params(("store_id" = String, Path)),
    description = "Active products with a low-stock threshold whose stock on hand (as in stock-on-hand) is at or below it.",
    responses((status = 200, body = Vec<LowStockItem>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn low_stock(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
) -> Result<Json<Vec<LowStockItem>>> {
    Ok(Json(app.services.low_stock(&who, &store_id).await?))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/sales-by-payment-method", params(("store_id" = String, Path), DateRange),
    responses((status = 200, body = Vec<MethodSales>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn sales_by_payment_method(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(r): ApiQuery<DateRange>,
) -> Result<Json<Vec<MethodSales>>> {
    Ok(Json(
        app.services
            .sales_by_payment_method(&who, &store_id, &r)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/sales-by-product", params(("store_id" = String, Path), DateRange),
    responses((status = 200, body = Vec<ProductSales>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn sales_by_product(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(r): ApiQuery<DateRange>,
) -> Result<Json<Vec<ProductSales>>> {
    Ok(Json(
        app.services.sales_by_product(&who, &store_id, &r).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/stock-on-hand", params(("store_id" = String, Path)),
    responses((status = 200, body = Vec<StockOnHand>), (status = 404, body = ErrorBody)))]
async fn stock_on_hand(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
) -> Result<Json<Vec<StockOnHand>>> {
    Ok(Json(app.services.stock_on_hand(&who, &store_id).await?))
}

#[utoipa::path(post, path = "/api/v1/documents/{document_id}/persisted", request_body = PersistedRequest,
    params(("document_id" = String, Path)),
    responses((status = 200, body = Persisted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn persisted(
    State(app): State<AppState>,
    AnyAuth(who): AnyAuth,
    Path(document_id): Path<String>,
    ApiJson(req): ApiJson<PersistedRequest>,
) -> Result<Json<Persisted>> {
    Ok(Json(
        app.services
            .persisted(&who, &document_id, &req.heads)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/sales-by-category", params(("store_id" = String, Path), DateRange),
    responses((status = 200, body = Vec<KeySales>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn sales_by_category(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(r): ApiQuery<DateRange>,
) -> Result<Json<Vec<KeySales>>> {
    Ok(Json(
        app.services.sales_by_category(&who, &store_id, &r).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/sales-by-cashier", params(("store_id" = String, Path), DateRange),
    responses((status = 200, body = Vec<KeySales>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn sales_by_cashier(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(r): ApiQuery<DateRange>,
) -> Result<Json<Vec<KeySales>>> {
    Ok(Json(
        app.services.sales_by_cashier(&who, &store_id, &r).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/refunds", params(("store_id" = String, Path), DateRange),
    responses((status = 200, body = Vec<RefundItem>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn refunds(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(r): ApiQuery<DateRange>,
) -> Result<Json<Vec<RefundItem>>> {
    Ok(Json(app.services.refunds(&who, &store_id, &r).await?))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/shifts", params(("store_id" = String, Path), DateRange),
    responses((status = 200, body = Vec<ShiftItem>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn shifts(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(r): ApiQuery<DateRange>,
) -> Result<Json<Vec<ShiftItem>>> {
    Ok(Json(app.services.shifts(&who, &store_id, &r).await?))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/exports/sales.csv", params(("store_id" = String, Path), DateRange),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn sales_csv(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    ApiQuery(r): ApiQuery<DateRange>,
) -> Result<([(axum::http::HeaderName, &'static str); 2], String)> {
    let body = app.services.sales_csv(&who, &store_id, &r).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"sales.csv\"",
            ),
        ],
        body,
    ))
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/conflicts", params(("store_id" = String, Path)),
    responses((status = 200, body = Vec<ConflictItem>), (status = 404, body = ErrorBody)))]
async fn conflicts(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
) -> Result<Json<Vec<ConflictItem>>> {
    Ok(Json(app.services.conflicts(&who, &store_id).await?))
}

/// The OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "SnapKasir sync server",
        description = "Tenancy, auth and terminal enrolment. The sync endpoint is the automerge-repo WebSocket protocol at /sync."
    ),
    paths(
        login,
        refresh,
        me,
        list_stores,
        create_store,
        create_manager,
        list_terminals,
        create_enrollment_code,
        enroll,
        revoke_terminal,
        sales_by_day,
        sales_by_hour,
        low_stock,
        stock_on_hand
    )
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::staff::StaffApi::openapi());
    Json(doc)
}

async fn not_found() -> Error {
    Error::NotFound("no such endpoint")
}

/// Routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/me", get(me))
        .route("/stores", get(list_stores).post(create_store))
        .route("/stores/{store_id}/managers", post(create_manager))
        .route("/stores/{store_id}/terminals", get(list_terminals))
        .route(
            "/stores/{store_id}/enrollment-codes",
            post(create_enrollment_code),
        )
        .route("/terminals/enroll", post(enroll))
        .route("/terminals/{terminal_id}/revoke", post(revoke_terminal))
        .route("/stores/{store_id}/reports/sales-by-day", get(sales_by_day))
        .route(
            "/stores/{store_id}/reports/sales-by-hour",
            get(sales_by_hour),
        )
        .route("/stores/{store_id}/reports/low-stock", get(low_stock))
        .route(
            "/stores/{store_id}/reports/sales-by-payment-method",
            get(sales_by_payment_method),
        )
        .route(
            "/stores/{store_id}/reports/sales-by-product",
            get(sales_by_product),
        )
        .route(
            "/stores/{store_id}/reports/stock-on-hand",
            get(stock_on_hand),
        )
        .route("/documents/{document_id}/persisted", post(persisted))
        .route(
            "/stores/{store_id}/reports/sales-by-category",
            get(sales_by_category),
        )
        .route(
            "/stores/{store_id}/reports/sales-by-cashier",
            get(sales_by_cashier),
        )
        .route("/stores/{store_id}/reports/refunds", get(refunds))
        .route("/stores/{store_id}/reports/shifts", get(shifts))
        .route("/stores/{store_id}/exports/sales.csv", get(sales_csv))
        .route("/stores/{store_id}/reports/conflicts", get(conflicts))
        .merge(crate::staff::routes())
        .fallback(not_found)
}
