//! Staff API: owners and managers manage a store's cashiers and supervisors in its users
//! document (the one terminals read when a cashier logs in with a PIN).
//!
//! ```text
//! GET   /api/v1/stores/{store_id}/staff
//! POST  /api/v1/stores/{store_id}/staff              {"name", "role", "pin"}
//! PATCH /api/v1/stores/{store_id}/staff/{user_id}    {"name"?, "role"?, "active"?, "pin"?}
//! ```
//!
//! The users document is made by the store's first terminal; until a terminal has synced the
//! store root the answer is 409 `store_has_no_terminal`. PINs are checked with
//! `shared_model::users::check_pin` and hashed by `shared_model::users::hash_pin`, the function
//! pos-core hashes with (argon2id default parameters, 16 random salt bytes, keyed with the
//! store's PIN pepper, PHC string with `keyid=`); neither the PIN nor its hash is ever answered
//! or logged. Changes go through [`DocWriter`], so connected terminals receive them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shared_model::documents::{self, UsersDoc};
use shared_model::ids::UserId;
use shared_model::users::{Role, StoreUser, check_pin};
use tracing::instrument;

use crate::access;
use crate::auth::Principal;
use crate::documents_writer::DocWriter;
use crate::error::{Error, ErrorBody, Result};
use crate::extract::{StaffJson, UserAuth};
use crate::openapi::{NO_STORE, NOT_MANAGER, StaffPath, StorePath};
use crate::state::AppState;

/// 409 of the staff operations.
const NO_TERMINAL: &str = "`store_has_no_terminal`: no terminal synced the store yet";
/// 400 of the staff operations that take a body.
const BAD_STAFF: &str = "`bad_request`: not JSON of this shape, or an invalid name, role or PIN";

/// Roles the staff API manages (managers log in with a password on the server instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Cashier,
    Supervisor,
    /// A manager known to the terminals (made on a terminal); listed, not managed here.
    Manager,
}

impl From<Role> for StaffRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Cashier => StaffRole::Cashier,
            Role::Supervisor => StaffRole::Supervisor,
            Role::Manager => StaffRole::Manager,
        }
    }
}

impl StaffRole {
    fn managed(self) -> Result<Role> {
        match self {
            StaffRole::Cashier => Ok(Role::Cashier),
            StaffRole::Supervisor => Ok(Role::Supervisor),
            StaffRole::Manager => Err(Error::BadRequest(
                "only cashiers and supervisors are managed here".into(),
            )),
        }
    }
}

/// A cashier or supervisor as the API shows it (never the PIN hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StaffMember {
    pub id: String,
    pub name: String,
    pub role: StaffRole,
    pub active: bool,
}

impl From<&StoreUser> for StaffMember {
    fn from(u: &StoreUser) -> Self {
        StaffMember {
            id: u.id.to_string(),
            name: u.name.clone(),
            role: u.role.into(),
            active: u.active,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewStaffMember {
    /// 1–100 characters once trimmed, no control characters.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*\S[^\x00-\x1F\x7F-\x9F]*$",
        max_length = 100
    )]
    pub name: String,
    /// `cashier` or `supervisor`.
    #[schema(value_type = crate::openapi::ManagedStaffRole)]
    pub role: StaffRole,
    /// 4–8 digits.
    #[schema(pattern = "^[0-9]{4,8}$")]
    pub pin: String,
}

impl std::fmt::Debug for NewStaffMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewStaffMember")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Fields to change; absent fields stay.
#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct StaffChange {
    /// 1–100 characters once trimmed, no control characters.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*\S[^\x00-\x1F\x7F-\x9F]*$",
        max_length = 100
    )]
    pub name: Option<String>,
    /// `cashier` or `supervisor`.
    #[schema(value_type = Option<crate::openapi::ManagedStaffRole>)]
    pub role: Option<StaffRole>,
    /// `false` deactivates (the user can no longer log in on the terminals).
    pub active: Option<bool>,
    /// A new PIN (4–8 digits).
    #[schema(pattern = "^[0-9]{4,8}$")]
    pub pin: Option<String>,
}

impl std::fmt::Debug for StaffChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffChange")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("active", &self.active)
            .field("pin", &self.pin.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// Checks and hashes a PIN with shared-model's [`shared_model::users::hash_pin`], the one the
/// terminal uses too, keyed with the store's PIN pepper, on a blocking thread.
async fn hash_pin(app: &AppState, store_id: &str, pin: String) -> Result<String> {
    check_pin(&pin).map_err(|e| Error::BadRequest(e.to_string()))?;
    let pepper = app.services.pin_pepper(store_id).await?;
    tokio::task::spawn_blocking(move || {
        shared_model::users::hash_pin(&pin, Some(&pepper))
            .map_err(|e| Error::Internal(e.to_string()))
    })
    .await
    .map_err(|e| Error::Internal(format!("PIN hash task: {e}")))?
}

/// The users document of a store the caller may manage; 409 while no terminal synced the root.
async fn users_doc(app: &AppState, who: &Principal, store_id: &str) -> Result<String> {
    app.services.store_for(who, store_id).await?;
    let root = app
        .services
        .storage
        .store_root(store_id)
        .await?
        .ok_or(Error::NoTerminalYet)?;
    Ok(root.users_doc_id)
}

fn bad(e: shared_model::ModelError) -> Error {
    Error::BadRequest(e.to_string())
}

/// Every user of the store's users document, by name.
#[instrument(skip_all, fields(store_id))]
pub async fn list(app: &AppState, who: &Principal, store_id: &str) -> Result<Vec<StaffMember>> {
    let doc_id = users_doc(app, who, store_id).await?;
    let users: UsersDoc = DocWriter::new(app)
        .read(&doc_id)
        .await?
        .ok_or(Error::NoTerminalYet)?;
    let mut out: Vec<StaffMember> = users.users.values().map(StaffMember::from).collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// Adds a cashier or supervisor.
#[instrument(skip_all, fields(store_id))]
pub async fn add(
    app: &AppState,
    who: &Principal,
    store_id: &str,
    new: NewStaffMember,
) -> Result<StaffMember> {
    let role = new.role.managed()?;
    let doc_id = users_doc(app, who, store_id).await?;
    let user = StoreUser {
        id: UserId::new(),
        name: new.name.trim().to_string(),
        role,
        pin_hash: hash_pin(app, store_id, new.pin).await?,
        active: true,
    };
    user.validate().map_err(bad)?;
    let shown = StaffMember::from(&user);
    let store = store_id.to_string();
    DocWriter::new(app)
        .change(&doc_id, move |doc| {
            let mut users: UsersDoc =
                documents::read(doc).map_err(|e| Error::Internal(e.to_string()))?;
            if users.store_id != store {
                return Err(Error::Internal("users document of another store".into()));
            }
            users.users.insert(user.id.to_string(), user);
            documents::write(doc, &users).map_err(|e| Error::Internal(e.to_string()))
        })
        .await
        .map_err(not_found_is_no_terminal)?;
    tracing::info!(user_id = %shown.id, role = ?shown.role, by = %who.label(), "staff member added");
    Ok(shown)
}

/// Renames, changes the role, (de)activates or sets a new PIN of a cashier or supervisor.
#[instrument(skip_all, fields(store_id, user_id))]
pub async fn update(
    app: &AppState,
    who: &Principal,
    store_id: &str,
    user_id: &str,
    change: StaffChange,
) -> Result<StaffMember> {
    let id: UserId = user_id
        .parse()
        .map_err(|_| Error::NotFound("staff member not found"))?;
    let role = change.role.map(StaffRole::managed).transpose()?;
    let doc_id = users_doc(app, who, store_id).await?;
    let pin_hash = match change.pin {
        Some(pin) => Some(hash_pin(app, store_id, pin).await?),
        None => None,
    };
    let name = change.name.map(|n| n.trim().to_string());
    let active = change.active;
    let (shown, _) = DocWriter::new(app)
        .change(&doc_id, move |doc| {
            let mut users: UsersDoc =
                documents::read(doc).map_err(|e| Error::Internal(e.to_string()))?;
            let user = users
                .users
                .get_mut(&id.to_string())
                .ok_or(Error::NotFound("staff member not found"))?;
            access::change_staff_member(user.role)?;
            if let Some(n) = name {
                user.name = n;
            }
            if let Some(r) = role {
                user.role = r;
            }
            if let Some(a) = active {
                user.active = a;
            }
            if let Some(h) = pin_hash {
                user.pin_hash = h;
            }
            user.validate().map_err(bad)?;
            let shown = StaffMember::from(&*user);
            documents::write(doc, &users).map_err(|e| Error::Internal(e.to_string()))?;
            Ok(shown)
        })
        .await
        .map_err(not_found_is_no_terminal)?;
    tracing::info!(user_id, by = %who.label(), "staff member changed");
    Ok(shown)
}

/// The users document itself missing on the server means no terminal synced it yet.
fn not_found_is_no_terminal(e: Error) -> Error {
    match e {
        Error::NotFound("document not on the server") => Error::NoTerminalYet,
        e => e,
    }
}

#[utoipa::path(get, path = "/api/v1/stores/{store_id}/staff", params(StorePath), security(("bearer" = [])),
    responses((status = 200, description = "the store's users, by name", body = Vec<StaffMember>),
        (status = 403, description = NOT_MANAGER, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody),
        (status = 409, description = NO_TERMINAL, body = ErrorBody)))]
pub async fn list_staff(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
) -> Result<Json<Vec<StaffMember>>> {
    Ok(Json(list(&app, &who, &store_id).await?))
}

#[utoipa::path(post, path = "/api/v1/stores/{store_id}/staff", request_body = NewStaffMember,
    params(StorePath), security(("bearer" = [])),
    responses((status = 201, description = "added", body = StaffMember), (status = 400, description = BAD_STAFF, body = ErrorBody),
        (status = 403, description = NOT_MANAGER, body = ErrorBody), (status = 404, description = NO_STORE, body = ErrorBody),
        (status = 409, description = NO_TERMINAL, body = ErrorBody)))]
pub async fn add_staff(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path(store_id): Path<String>,
    StaffJson(req): StaffJson<NewStaffMember>,
) -> Result<(StatusCode, Json<StaffMember>)> {
    Ok((
        StatusCode::CREATED,
        Json(add(&app, &who, &store_id, req).await?),
    ))
}

#[utoipa::path(patch, path = "/api/v1/stores/{store_id}/staff/{user_id}", request_body = StaffChange,
    params(StaffPath), security(("bearer" = [])),
    responses((status = 200, description = "changed", body = StaffMember), (status = 400, description = BAD_STAFF, body = ErrorBody),
        (status = 403, description = "`forbidden`: the user may not manage the store, or the staff member is a manager", body = ErrorBody),
        (status = 404, description = "`not_found`: no such store or staff member, or not the caller's", body = ErrorBody),
        (status = 409, description = NO_TERMINAL, body = ErrorBody)))]
pub async fn update_staff(
    State(app): State<AppState>,
    UserAuth(who): UserAuth,
    Path((store_id, user_id)): Path<(String, String)>,
    StaffJson(req): StaffJson<StaffChange>,
) -> Result<Json<StaffMember>> {
    Ok(Json(update(&app, &who, &store_id, &user_id, req).await?))
}

/// Routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stores/{store_id}/staff", get(list_staff).post(add_staff))
        .route("/stores/{store_id}/staff/{user_id}", patch(update_staff))
}
