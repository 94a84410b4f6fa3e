//! HTTP API of revocable access (under `/api/v1`): sign-out, password change, and disabling
//! or re-enabling a user. Thin handlers over [`crate::service::Services`]; the session logic is
//! in `service/sessions.rs` and `service/users.rs`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde::Deserialize;

use crate::error::{Error, ErrorBody, Result};
use crate::extract::{ApiJson, UserAuth, bearer_token};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ChangePasswordRequest {
    /// The current password.
    pub old_password: String,
    /// At least 8 characters.
    #[schema(min_length = 8)]
    pub new_password: String,
}

impl std::fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePasswordRequest(<hidden>)")
    }
}

/// `{user_id}`: a user of the caller's tenant.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The user's id (as returned when the manager was created).
    pub user_id: String,
}

fn token(headers: &HeaderMap) -> Result<String> {
    bearer_token(headers).ok_or(Error::Unauthorized("missing bearer token"))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", security(("bearer" = [])),
    description = "Ends the session of the access token: its access and refresh tokens stop working at once, \
        and sync connections opened with them close.",
    responses((status = 204, description = "signed out")))]
pub(crate) async fn logout(State(app): State<AppState>, headers: HeaderMap) -> Result<StatusCode> {
    app.services.logout(&token(&headers)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/me/password", request_body = ChangePasswordRequest, security(("bearer" = [])),
    description = "Changes the caller's password and ends every other session of theirs (this one stays).",
    responses((status = 204, description = "changed"),
        (status = 400, description = "`bad_request`: a short new password", body = ErrorBody),
        (status = 403, description = "`forbidden`: the old password is wrong", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many wrong passwords for the account", body = ErrorBody),
        (status = 503, description = "`busy`: too many password checks at once; see `Retry-After`", body = ErrorBody)))]
pub(crate) async fn change_password(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode> {
    app.services
        .change_password(&token(&headers)?, &req.old_password, &req.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{user_id}/disable", params(UserPath), security(("bearer" = [])),
    description = "Disables a user of the caller's tenant (owners only, not themselves): they cannot sign in, \
        their sessions end and their sync connections close.",
    responses((status = 204, description = "disabled"),
        (status = 403, description = "`forbidden`: not an owner, or the owner themselves", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user in the caller's tenant", body = ErrorBody)))]
pub(crate) async fn disable_user(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(user_id): Path<String>,
) -> Result<StatusCode> {
    app.services.set_user_disabled(&who, &user_id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{user_id}/enable", params(UserPath), security(("bearer" = [])),
    description = "Lets a disabled user sign in again (owners only).",
    responses((status = 204, description = "enabled"),
        (status = 403, description = "`forbidden`: not an owner, or the owner themselves", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user in the caller's tenant", body = ErrorBody)))]
pub(crate) async fn enable_user(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(user_id): Path<String>,
) -> Result<StatusCode> {
    app.services
        .set_user_disabled(&who, &user_id, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The routes of this module, merged into `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/logout", post(logout))
        .route("/me/password", post(change_password))
        .route("/users/{user_id}/disable", post(disable_user))
        .route("/users/{user_id}/enable", post(enable_user))
}
