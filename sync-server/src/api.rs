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
use crate::openapi::{
    ApiDoc, BAD_RANGE, DocumentPath, NO_STORE, NOT_MANAGER, StorePath, TerminalPath,
};
use crate::reports::{
    ConflictItem, DateRange, DaySales, HourSales, KeySales, LowStockItem, MethodSales,
    ProductSales, RefundItem, ShiftItem, StockOnHand,
};
use crate::service::{
    Enrollment, ManagerView, NewEnrollmentCode, StoreView, TerminalView, TokenPair,
};
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
    /// 1–16 letters or digits (surrounding spaces are trimmed; stored upper-case).
    #[schema(pattern = r"^\s*[A-Za-z0-9]{1,16}\s*$")]
    pub code: String,
    pub name: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateManagerRequest {
    /// Any text with an `@` (trimmed and lower-cased).
    #[schema(pattern = "@")]
    pub email: String,
    /// At least 8 characters.
    #[schema(min_length = 8)]
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
    /// Name shown for the terminal, e.g. "Kasir 1": 1–64 characters once trimmed.
    #[schema(pattern = r"\S", max_length = 64)]
    pub terminal_name: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EnrollRequest {
    /// The one-time code made by an owner or manager.
    pub code: String,
    /// The till's Ed25519 LAN public key, 64 hex digits (optional: it can be set later with
    /// `PUT /api/v1/terminal/lan-key`).
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    #[serde(default)]
    pub lan_key: Option<String>,
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
    responses((status = 200, description = "signed in", body = TokenPair),
        (status = 401, description = "`unauthorized`: wrong email or password", body = ErrorBody),
        (status = 403, description = "`forbidden`: the password is right but the account is disabled", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failures for the account or address; see `Retry-After`", body = ErrorBody),
        (status = 503, description = "`busy`: too many password checks at once; see `Retry-After`", body = ErrorBody)))]
pub(crate) async fn login(
    State(app): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<TokenPair>> {
    Ok(Json(
        app.services.login(&req.email, &req.password, addr).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", request_body = RefreshRequest,
    responses((status = 200, description = "a new pair; the old refresh token is spent", body = TokenPair),
        (status = 401, description = "`unauthorized`: unknown, spent or expired refresh token, or its session ended; \
            a token spent before ends its whole session (reuse detection)", body = ErrorBody)))]
pub(crate) async fn refresh(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>> {
    Ok(Json(app.services.refresh(&req.refresh_token).await?))
}

#[utoipa::path(get, path = "/api/v1/me", security(("bearer" = [])),
    responses((status = 200, description = "the signed-in user", body = Me),
        (status = 403, description = "`forbidden`: the token is not a user's", body = ErrorBody)))]
pub(crate) async fn me(UserAuth(who): UserAuth) -> Result<Json<Me>> {
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
        Principal::Terminal { .. } | Principal::App { .. } | Principal::Instance { .. } => {
            Err(Error::Forbidden("not a user"))
        }
    }
}

#[utoipa::path(get, path = "/api/v1/stores", security(("bearer" = [])),
    responses((status = 200, description = "the stores the user may see", body = Vec<StoreView>)))]
pub(crate) async fn list_stores(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
) -> Result<Json<Vec<StoreView>>> {
    Ok(Json(app.services.list_stores(&who).await?))
}

#[utoipa::path(post, path = "/api/v1/stores", request_body = CreateStoreRequest, security(("bearer" = [])),
    responses((status = 201, description = "created", body = StoreView),
        (status = 400, description = "`bad_request`: not JSON of this shape, or an invalid code", body = ErrorBody),
        (status = 403, description = "`forbidden`: only owners create stores", body = ErrorBody),
        (status = 409, description = "`conflict`: the tenant has a store with this code", body = ErrorBody)))]
pub(crate) async fn create_store(
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
    params(StorePath), security(("bearer" = [])),
    description = "Adds a manager of the store. The answer is the same whether or not the email is already \
        used (in this tenant or another): emails cannot be probed. An email in use is not taken, and its \
        manager cannot sign in with the new password: choose another email.",
    responses((status = 201, description = "created (or, for an email in use, answered as created)", body = Created),
        (status = 400, description = "`bad_request`: not JSON of this shape, an invalid email or a short password", body = ErrorBody),
        (status = 403, description = "`forbidden`: only owners add managers", body = ErrorBody),
        (status = 404, description = NO_STORE, body = ErrorBody)))]
pub(crate) async fn create_manager(
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

/// A `GET` handler of a store's rows (reports, terminals): the [`crate::service::Services`]
/// method of the same name for the caller, over the query's business-date range when marked
/// `(range)`; its rows as JSON. The `#[utoipa::path]` attribute goes before the name.
macro_rules! store_rows_handler {
    ($(#[$attr:meta])* $name:ident(range) -> $item:ty) => {
        $(#[$attr])*
        pub(crate) async fn $name(
            State(app): State<AppState>,
            UserAuth(who): UserAuth,
            Path(store_id): Path<String>,
            ApiQuery(r): ApiQuery<DateRange>,
        ) -> Result<Json<Vec<$item>>> {
            Ok(Json(app.services.$name(&who, &store_id, &r).await?))
        }
    };
    ($(#[$attr:meta])* $name:ident -> $item:ty) => {
        $(#[$attr])*
        pub(crate) async fn $name(
            State(app): State<AppState>,
            UserAuth(who): UserAuth,
            Path(store_id): Path<String>,
        ) -> Result<Json<Vec<$item>>> {
            Ok(Json(app.services.$name(&who, &store_id).await?))
        }
    };
}

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/managers", params(StorePath), security(("bearer" = [])),
        description = "The store's managers (disabled ones too), by email.",
        responses((status = 200, description = "the store's managers", body = Vec<ManagerView>),
            (status = 403, description = NOT_MANAGER, body = ErrorBody),
            (status = 404, description = NO_STORE, body = ErrorBody)))]
    list_managers -> ManagerView
}

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/terminals", params(StorePath), security(("bearer" = [])),
        description = "The store's terminals with their last sync (`last_seen_at`), open connection and last heartbeat report (`last_report`, null when never reported).",
        responses((status = 200, description = "the store's terminals", body = Vec<TerminalView>),
            (status = 403, description = NOT_MANAGER, body = ErrorBody),
            (status = 404, description = NO_STORE, body = ErrorBody)))]
    list_terminals -> TerminalView
}

#[utoipa::path(post, path = "/api/v1/stores/{store_id}/enrollment-codes", request_body = EnrollmentCodeRequest,
    params(StorePath), security(("bearer" = [])),
    responses((status = 201, description = "a one-time code", body = NewEnrollmentCode),
        (status = 400, description = "`bad_request`: not JSON of this shape, or an empty or long terminal name", body = ErrorBody),
        (status = 403, description = NOT_MANAGER, body = ErrorBody),
        (status = 404, description = NO_STORE, body = ErrorBody)))]
pub(crate) async fn create_enrollment_code(
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
    responses((status = 200, description = "enrolled; the credential is shown once", body = Enrollment),
        (status = 400, description = "`bad_request`: not JSON of this shape, or a `lan_key` that is no Ed25519 public key", body = ErrorBody),
        (status = 401, description = "`unauthorized`: unknown, used or expired code", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failures from this address; see `Retry-After`", body = ErrorBody)))]
pub(crate) async fn enroll(
    State(app): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<Json<Enrollment>> {
    Ok(Json(
        app.services
            .enroll(&req.code, req.lan_key.as_deref(), addr)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/terminals/{terminal_id}/revoke", params(TerminalPath), security(("bearer" = [])),
    responses((status = 204, description = "revoked; its connections are closed"),
        (status = 403, description = NOT_MANAGER, body = ErrorBody),
        (status = 404, description = "`not_found`: no such terminal, or not the caller's", body = ErrorBody)))]
pub(crate) async fn revoke_terminal(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(terminal_id): Path<String>,
) -> Result<StatusCode> {
    app.services
        .revoke_terminal(Some(&who), &terminal_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/sales-by-day", params(StorePath, DateRange), security(("bearer" = [])),
        description = "Non-voided sales per business date of `from`..=`to`.",
        responses((status = 200, description = "one row per business date with sales", body = Vec<DaySales>),
            (status = 400, description = BAD_RANGE, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody)))]
    sales_by_day(range) -> DaySales
}

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/sales-by-hour", params(StorePath, DateRange), security(("bearer" = [])),
        description = "Non-voided sales of the business dates `from`..=`to` per hour of the day (0–23) of their \
            `created_at`, in the store's time zone (its settings document's business day; Asia/Jakarta, UTC+07:00, \
            until one arrives). Always 24 rows.",
        responses((status = 200, description = "24 rows, hour 0 to 23", body = Vec<HourSales>),
            (status = 400, description = BAD_RANGE, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody)))]
    sales_by_hour(range) -> HourSales
}

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/low-stock", params(StorePath), security(("bearer" = [])),
        description = "Active products with a low-stock threshold whose stock on hand (as in stock-on-hand) is at or below it.",
        responses((status = 200, description = "the products low on stock", body = Vec<LowStockItem>),
            (status = 404, description = NO_STORE, body = ErrorBody)))]
    low_stock -> LowStockItem
}

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/sales-by-payment-method", params(StorePath, DateRange), security(("bearer" = [])),
        description = "Payments of non-voided sales of `from`..=`to` per method.",
        responses((status = 200, description = "one row per method", body = Vec<MethodSales>),
            (status = 400, description = BAD_RANGE, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody)))]
    sales_by_payment_method(range) -> MethodSales
}

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/sales-by-product", params(StorePath, DateRange), security(("bearer" = [])),
        description = "Lines of non-voided sales of `from`..=`to` per product.",
        responses((status = 200, description = "one row per product sold", body = Vec<ProductSales>),
            (status = 400, description = BAD_RANGE, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody)))]
    sales_by_product(range) -> ProductSales
}

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/stock-on-hand", params(StorePath), security(("bearer" = [])),
        description = "Stock on hand per product: the sum of its stock movements.",
        responses((status = 200, description = "one row per product with movements", body = Vec<StockOnHand>),
            (status = 404, description = NO_STORE, body = ErrorBody)))]
    stock_on_hand -> StockOnHand
}

#[utoipa::path(post, path = "/api/v1/documents/{document_id}/persisted", request_body = PersistedRequest,
    params(DocumentPath), security(("bearer" = [])),
    description = "Which of `heads` the server has in durable storage. Takes a user's token or a device credential.",
    responses((status = 200, description = "the stored and missing heads", body = Persisted),
        (status = 400, description = "`bad_request`: not JSON of this shape, too many heads or a head that is no change hash", body = ErrorBody),
        (status = 404, description = "`not_found`: no such document, or not the caller's", body = ErrorBody)))]
pub(crate) async fn persisted(
    State(app): State<AppState>,
    AnyAuth(who): AnyAuth,
    Path(document_id): Path<String>,
    ApiJson(req): ApiJson<PersistedRequest>,
) -> Result<Json<Persisted>> {
    // A path that is no document id names no document: 404, like an id of another tenant's.
    shared_model::wire::check_document_id(&document_id)
        .map_err(|_| Error::NotFound("document not found"))?;
    Ok(Json(
        app.services
            .persisted(&who, &document_id, &req.heads)
            .await?,
    ))
}

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/sales-by-category", params(StorePath, DateRange), security(("bearer" = [])),
        description = "Lines of non-voided sales of `from`..=`to` per category (`key` is the category id, `\"\"` for none).",
        responses((status = 200, description = "one row per category", body = Vec<KeySales>),
            (status = 400, description = BAD_RANGE, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody)))]
    sales_by_category(range) -> KeySales
}

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/sales-by-cashier", params(StorePath, DateRange), security(("bearer" = [])),
        description = "Non-voided sales of `from`..=`to` per cashier (`key` is the cashier id).",
        responses((status = 200, description = "one row per cashier", body = Vec<KeySales>),
            (status = 400, description = BAD_RANGE, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody)))]
    sales_by_cashier(range) -> KeySales
}

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/refunds", params(StorePath, DateRange), security(("bearer" = [])),
        description = "Refunds of the business dates `from`..=`to`.",
        responses((status = 200, description = "the refunds", body = Vec<RefundItem>),
            (status = 400, description = BAD_RANGE, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody)))]
    refunds(range) -> RefundItem
}

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/shifts", params(StorePath, DateRange), security(("bearer" = [])),
        description = "Shifts of the business dates `from`..=`to`, open or closed, with their cash count.",
        responses((status = 200, description = "the shifts", body = Vec<ShiftItem>),
            (status = 400, description = BAD_RANGE, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody)))]
    shifts(range) -> ShiftItem
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/exports/sales.csv", params(StorePath, DateRange), security(("bearer" = [])),
    description = "The sales of `from`..=`to` as CSV (an attachment `sales.csv`); every field quoted, formulas neutralised.",
    responses((status = 200, description = "CSV with a header row", content_type = "text/csv", body = String),
        (status = 400, description = BAD_RANGE, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody)))]
pub(crate) async fn sales_csv(
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

store_rows_handler! {
    #[utoipa::path(get, path = "/api/v1/stores/{store_id}/reports/conflicts", params(StorePath), security(("bearer" = [])),
        description = "Conflicts merging revealed in the store's documents (over-refunds, a cart resumed twice, duplicate barcodes or SKUs).",
        responses((status = 200, description = "the conflicts", body = Vec<ConflictItem>),
            (status = 404, description = NO_STORE, body = ErrorBody)))]
    conflicts -> ConflictItem
}

#[utoipa::path(get, path = "/api/v1/openapi.json",
    responses((status = 200, description = "this document (OpenAPI 3.1)", content_type = "application/json", body = Object)))]
pub(crate) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
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
        .route(
            "/stores/{store_id}/managers",
            get(list_managers).post(create_manager),
        )
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
        .merge(crate::report_api::routes())
        .merge(crate::catalog_api::routes())
        .merge(crate::store_settings::routes())
        .merge(crate::lan_api::routes())
        .merge(crate::payments_api::routes())
        .merge(crate::receipt_mail_api::routes())
        .merge(crate::session_api::routes())
        .merge(crate::apps_api::routes())
        .fallback(not_found)
}
