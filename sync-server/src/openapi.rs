//! The OpenAPI document served at `/api/v1/openapi.json`. It lists every route the router
//! serves (`tests/openapi.rs` fails when one is missing) and is what the schema-driven fuzzer
//! (`tests/api-fuzz/run`) checks the running server against, so a status code, a limit or a
//! format written here is a promise the handlers keep.
//!
//! Answers every authenticated or storage-backed operation shares are added by [`Common`]
//! rather than repeated on each handler: 401 where a bearer token is required, 400 where a JSON
//! body is read, 500 where storage is touched.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Doc, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoParams, Modify, OpenApi};

use crate::error::ErrorBody;

/// Name of the bearer security scheme (`security(("bearer" = []))` on an operation).
pub const BEARER: &str = "bearer";

/// 404 of the store-scoped operations.
pub const NO_STORE: &str = "`not_found`: no such store, or not the caller's";
/// 403 of the operations a user who may see a store but not manage it may not do.
pub const NOT_MANAGER: &str = "`forbidden`: the user may see the store but not manage it";
/// 400 of the reports over a date range.
pub const BAD_RANGE: &str =
    "`bad_request`: `from` or `to` is missing or not a date, or `from` is after `to`";

/// The roles the staff API adds or changes to (it lists managers too, see `StaffRole`).
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ManagedStaffRole {
    Cashier,
    Supervisor,
}

/// An automerge change hash as the API spells it.
#[derive(Debug, utoipa::ToSchema)]
#[schema(pattern = "^[0-9a-fA-F]{64}$")]
pub struct ChangeHashHex(pub String);

/// `{store_id}`: a store's id.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StorePath {
    /// The store's id (a UUID); an id the caller may not read is answered 404.
    #[param(format = Uuid)]
    pub store_id: String,
}

/// `{terminal_id}`: a terminal's id.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TerminalPath {
    /// The terminal's id (a UUID).
    #[param(format = Uuid)]
    pub terminal_id: String,
}

/// `{store_id}` and `{user_id}` of a staff member.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StaffPath {
    /// The store's id (a UUID).
    #[param(format = Uuid)]
    pub store_id: String,
    /// The staff member's id (a UUID).
    #[param(format = Uuid)]
    pub user_id: String,
}

/// `{document_id}`: an automerge-repo document id.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DocumentPath {
    /// The document id as automerge-repo writes it: base58check of 16 bytes. An id that is not
    /// one, or names no document the caller may read, is answered 404.
    pub document_id: String,
}

/// The OpenAPI document of the whole HTTP surface.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "SnapKasir sync server",
        description = "Tenancy, auth, terminal enrolment, staff and reports. `/sync` is the \
            automerge-repo WebSocket protocol; only its upgrade request is described here. \
            Every error is an `ErrorBody` with a stable `code`, except the text answers of \
            `/sync` to a request that is not a WebSocket upgrade."
    ),
    paths(
        crate::app::healthz,
        crate::app::readyz,
        crate::app::metrics,
        crate::sync::ws::sync_handler,
        crate::terminal_report::heartbeat,
        crate::api::openapi,
        crate::api::login,
        crate::api::refresh,
        crate::api::me,
        crate::api::list_stores,
        crate::api::create_store,
        crate::api::create_manager,
        crate::api::list_managers,
        crate::api::list_terminals,
        crate::api::create_enrollment_code,
        crate::api::enroll,
        crate::api::revoke_terminal,
        crate::api::sales_by_day,
        crate::api::sales_by_hour,
        crate::api::low_stock,
        crate::api::sales_by_payment_method,
        crate::api::sales_by_product,
        crate::api::stock_on_hand,
        crate::api::persisted,
        crate::api::sales_by_category,
        crate::api::sales_by_cashier,
        crate::api::refunds,
        crate::api::shifts,
        crate::api::sales_csv,
        crate::api::conflicts,
        crate::report_api::voids,
        crate::report_api::z_report,
        crate::report_api::stock_list,
        crate::report_api::stock_movements,
        crate::report_api::oversells,
        crate::report_api::conflict_details,
        crate::report_api::products_csv,
        crate::report_api::categories_csv,
        crate::report_api::cashiers_csv,
        crate::report_api::payment_methods_csv,
        crate::report_api::refunds_voids_csv,
        crate::report_api::shifts_csv,
        crate::report_api::z_report_csv,
        crate::report_api::stock_on_hand_csv,
        crate::report_api::low_stock_csv,
        crate::report_api::movements_csv,
        crate::report_api::oversells_csv,
        crate::staff::list_staff,
        crate::staff::add_staff,
        crate::staff::update_staff,
        crate::catalog_api::list_products,
        crate::catalog_api::create_product,
        crate::catalog_api::get_product,
        crate::catalog_api::update_product,
        crate::catalog_api::list_categories,
        crate::catalog_api::create_category,
        crate::catalog_api::export_csv,
        crate::catalog_api::import_csv,
        crate::store_settings::get_settings,
        crate::store_settings::update_settings,
        crate::lan_api::lan_info,
        crate::lan_api::set_lan_key,
        crate::payments_api::put_gateway,
        crate::payments_api::get_gateway,
        crate::payments_api::delete_gateway,
        crate::payments_api::create_charge,
        crate::payments_api::charge,
        crate::payments_api::cancel_charge,
        crate::payments_api::refund,
        crate::payments_api::midtrans_webhook,
        crate::payments_api::xendit_webhook,
        crate::receipt_mail_api::email_receipt,
        crate::session_api::logout,
        crate::session_api::change_password,
        crate::session_api::disable_user,
        crate::session_api::enable_user,
        crate::apps_api::list_apps,
        crate::apps_api::create_app,
        crate::apps_api::revoke_app,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Common)
)]
pub struct ApiDoc;

/// Adds the bearer scheme and the answers many operations share (see the module comment).
#[derive(Debug)]
pub struct Common;

impl Modify for Common {
    fn modify(&self, doc: &mut Doc) {
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                BEARER,
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        for (path, item) in doc.paths.paths.iter_mut() {
            let api = path.starts_with("/api/v1/") && path != "/api/v1/openapi.json";
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let responses = &mut op.responses.responses;
                if op.security.is_some() {
                    responses.entry("401".into()).or_insert_with(|| {
                        error("`unauthorized`: the bearer token is missing, malformed or expired")
                    });
                }
                if op.request_body.is_some() {
                    responses.entry("400".into()).or_insert_with(|| {
                        error("`bad_request`: the body is not JSON of the documented shape")
                    });
                }
                if api {
                    responses.entry("500".into()).or_insert_with(|| {
                        error("`internal`: storage failed; details are only logged")
                    });
                }
            }
        }
    }
}

/// An `ErrorBody` answer described by `description`.
fn error(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}
