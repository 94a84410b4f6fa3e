//! HTTP API of app credentials (under `/api/v1/apps`): an owner lists, makes and revokes the
//! credentials with which the tenant's other web products sync their own documents. Thin
//! handlers over `service/apps.rs`; who may do what is in [`crate::access`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::error::{ErrorBody, Result};
use crate::extract::{ApiJson, UserAuth};
use crate::service::{AppCredentialView, NewAppCredential};
use crate::state::AppState;

/// 403 of every operation here.
const NOT_OWNER: &str = "`forbidden`: only owners manage app credentials";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateAppRequest {
    /// Name of the web product, e.g. "Online order form": at most 64 characters, not blank,
    /// no control characters; stored trimmed.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$",
        max_length = 64
    )]
    pub name: String,
}

/// `{app_id}`: an app credential's id.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AppPath {
    /// The credential's id (a UUID); one of another tenant is answered 404.
    #[param(format = Uuid)]
    pub app_id: String,
}

#[utoipa::path(get, path = "/api/v1/apps", security(("bearer" = [])),
    description = "The app credentials of the caller's tenant, revoked ones included (never their secrets).",
    responses((status = 200, description = "the credentials, oldest first", body = Vec<AppCredentialView>),
        (status = 403, description = NOT_OWNER, body = ErrorBody)))]
pub(crate) async fn list_apps(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
) -> Result<Json<Vec<AppCredentialView>>> {
    Ok(Json(app.services.list_app_credentials(&who).await?))
}

#[utoipa::path(post, path = "/api/v1/apps", request_body = CreateAppRequest, security(("bearer" = [])),
    description = "Makes an app credential for the caller's tenant. The answer holds its secret, the only time \
        it is told. The app passes it to `/sync` (as `token`); the documents it creates are claimed by the \
        tenant, and it never reaches a store's documents.",
    responses((status = 201, description = "made; `secret` is shown this once", body = NewAppCredential),
        (status = 400, description = "`bad_request`: an empty, long or unprintable name", body = ErrorBody),
        (status = 403, description = NOT_OWNER, body = ErrorBody)))]
pub(crate) async fn create_app(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    ApiJson(req): ApiJson<CreateAppRequest>,
) -> Result<(StatusCode, Json<NewAppCredential>)> {
    let made = app.services.create_app_credential(&who, &req.name).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[utoipa::path(post, path = "/api/v1/apps/{app_id}/revoke", params(AppPath), security(("bearer" = [])),
    description = "Revokes an app credential: it is refused from now on and its sync connections close \
        (within a second on every instance). Revoking again changes nothing.",
    responses((status = 200, description = "revoked", body = AppCredentialView),
        (status = 403, description = NOT_OWNER, body = ErrorBody),
        (status = 404, description = "`not_found`: no such credential in the caller's tenant", body = ErrorBody)))]
pub(crate) async fn revoke_app(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(app_id): Path<String>,
) -> Result<Json<AppCredentialView>> {
    Ok(Json(
        app.services.revoke_app_credential(&who, &app_id).await?,
    ))
}

/// The routes of this module, merged into `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/apps", get(list_apps).post(create_app))
        .route("/apps/{app_id}/revoke", post(revoke_app))
}
