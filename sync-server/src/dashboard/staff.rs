//! The staff page (`/stores/{store_id}/staff`): the cashiers and supervisors of the store's
//! users document (name, role, active, a new PIN), through the staff API's functions
//! ([`crate::staff`]), so a change reaches the tills as a document change; and the store's
//! managers (who sign in here with a password): owners add, disable and re-enable them through
//! the services the JSON API uses. Bad input is answered with the page and a message in words,
//! and changes nothing.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::page::{Page, PageError, PageResult, StoreAccess, render};
use crate::error::Error;
use crate::service::ManagerView;
use crate::staff::{self, NewStaffMember, StaffChange, StaffMember, StaffRole};
use crate::state::AppState;

/// A cashier or supervisor as the table shows it.
#[derive(Debug)]
struct StaffRow {
    id: String,
    name: String,
    /// `cashier`, `supervisor` or `manager` (the form's value).
    role_code: &'static str,
    role_words: &'static str,
    active: bool,
    active_words: &'static str,
    /// The edit page; `None` for managers made on the tills (not managed here).
    edit_url: Option<String>,
}

impl StaffRow {
    fn new(m: StaffMember, page: &Page) -> StaffRow {
        StaffRow {
            role_words: role_words(m.role, page),
            active_words: page.t(if m.active {
                "staff.active_yes"
            } else {
                "staff.active_no"
            }),
            edit_url: (m.role != StaffRole::Manager)
                .then(|| page.store_url(&format!("staff/{}", m.id))),
            id: m.id,
            name: m.name,
            role_code: match m.role {
                StaffRole::Cashier => "cashier",
                StaffRole::Supervisor => "supervisor",
                StaffRole::Manager => "manager",
            },
            active: m.active,
        }
    }
}

fn role_words(r: StaffRole, page: &Page) -> &'static str {
    page.t(match r {
        StaffRole::Cashier => "staff.role_cashier",
        StaffRole::Supervisor => "staff.role_supervisor",
        StaffRole::Manager => "staff.role_manager",
    })
}

/// A manager as the table shows it.
#[derive(Debug)]
struct ManagerRow {
    id: String,
    email: String,
    since: String,
    disabled: bool,
    state_words: &'static str,
}

impl ManagerRow {
    fn new(m: ManagerView, page: &Page) -> ManagerRow {
        ManagerRow {
            since: page.date_time(&m.created_at),
            state_words: page.t(if m.disabled {
                "staff.manager_disabled"
            } else {
                "staff.manager_enabled"
            }),
            disabled: m.disabled,
            id: m.id,
            email: m.email,
        }
    }
}

/// What the add forms held, kept after an error (never the PIN or password).
#[derive(Debug, Default)]
struct Typed {
    name: String,
    role: String,
    email: String,
}

#[derive(Template)]
#[template(path = "dashboard/staff.html")]
struct StaffPage {
    page: Page,
    /// `None` while no till has synced the store's users document.
    staff: Option<Vec<StaffRow>>,
    managers: Vec<ManagerRow>,
    notice: Option<String>,
    /// An error of the staff form, in words.
    staff_error: Option<String>,
    /// An error of the managers form, in words.
    manager_error: Option<String>,
    typed: Typed,
}

#[derive(Template)]
#[template(path = "dashboard/staff_edit.html")]
struct EditPage {
    page: Page,
    member: StaffRow,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Done {
    done: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AddForm {
    name: String,
    role: String,
    pin: String,
}

#[derive(Debug, Deserialize)]
struct EditForm {
    name: String,
    role: String,
    /// A checkbox: present (`on`) when ticked.
    active: Option<String>,
    /// Empty: keep the PIN.
    #[serde(default)]
    pin: String,
}

#[derive(Debug, Deserialize)]
struct ManagerForm {
    email: String,
    password: String,
}

fn parse_role(s: &str) -> Option<StaffRole> {
    match s {
        "cashier" => Some(StaffRole::Cashier),
        "supervisor" => Some(StaffRole::Supervisor),
        _ => None,
    }
}

/// The message for a refused staff change: which field, by the model's own checks.
fn staff_error(name: &str, pin: Option<&str>, page: &Page) -> String {
    let pin_bad = pin.is_some_and(|p| shared_model::users::check_pin(p).is_err());
    page.t(if pin_bad {
        "staff.bad_pin"
    } else if name.trim().is_empty() || name.trim().chars().count() > 100 {
        "staff.bad_name"
    } else {
        "staff.bad_input"
    })
    .to_string()
}

/// The page with its lists, `status` and the messages given.
async fn page_with(
    app: &AppState,
    s: StoreAccess,
    status: StatusCode,
    notice: Option<String>,
    staff_error: Option<String>,
    manager_error: Option<String>,
    typed: Typed,
) -> PageResult<Response> {
    let staff = match staff::list(app, &s.principal, &s.store.id).await {
        Ok(list) => Some(
            list.into_iter()
                .map(|m| StaffRow::new(m, &s.page))
                .collect(),
        ),
        Err(Error::NoTerminalYet) => None,
        Err(e) => return Err(e.into()),
    };
    let managers = app
        .services
        .list_managers(&s.principal, &s.store.id)
        .await?
        .into_iter()
        .map(|m| ManagerRow::new(m, &s.page))
        .collect();
    let html = render(&StaffPage {
        page: s.page.titled("staff.title"),
        staff,
        managers,
        notice,
        staff_error,
        manager_error,
        typed,
    })?;
    Ok((status, html).into_response())
}

/// `GET /stores/{store_id}/staff`.
async fn list(
    State(app): State<AppState>,
    s: StoreAccess,
    Query(q): Query<Done>,
) -> PageResult<Response> {
    let notice = match q.done.as_deref() {
        Some(d @ ("added" | "changed" | "manager_added" | "disabled" | "enabled")) => {
            Some(s.page.t(&format!("staff.done_{d}")).to_string())
        }
        _ => None,
    };
    let typed = Typed {
        role: "cashier".into(),
        ..Typed::default()
    };
    page_with(&app, s, StatusCode::OK, notice, None, None, typed).await
}

fn done(s: &StoreAccess, what: &str) -> Redirect {
    Redirect::to(&format!("/stores/{}/staff?done={what}", s.store.id))
}

/// `POST /stores/{store_id}/staff`: adds a cashier or supervisor with a PIN.
async fn add(
    State(app): State<AppState>,
    s: StoreAccess,
    Form(f): Form<AddForm>,
) -> PageResult<Response> {
    let refused = |s: &StoreAccess, f: &AddForm| {
        let e = match parse_role(&f.role) {
            None => s.page.t("staff.bad_role").to_string(),
            Some(_) => staff_error(&f.name, Some(&f.pin), &s.page),
        };
        let typed = Typed {
            name: f.name.clone(),
            role: f.role.clone(),
            email: String::new(),
        };
        (e, typed)
    };
    let Some(role) = parse_role(&f.role) else {
        let (e, typed) = refused(&s, &f);
        return page_with(&app, s, StatusCode::BAD_REQUEST, None, Some(e), None, typed).await;
    };
    let new = NewStaffMember {
        name: f.name.clone(),
        role,
        pin: f.pin.clone(),
    };
    match staff::add(&app, &s.principal, &s.store.id, new).await {
        Ok(_) => Ok(done(&s, "added").into_response()),
        Err(Error::BadRequest(_)) => {
            let (e, typed) = refused(&s, &f);
            page_with(&app, s, StatusCode::BAD_REQUEST, None, Some(e), None, typed).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The staff member `user_id` of the page's store, or 404.
async fn member(app: &AppState, s: &StoreAccess, user_id: &str) -> Result<StaffRow, PageError> {
    staff::list(app, &s.principal, &s.store.id)
        .await?
        .into_iter()
        .find(|m| m.id == user_id)
        .map(|m| StaffRow::new(m, &s.page))
        .ok_or_else(PageError::not_found)
}

/// `GET /stores/{store_id}/staff/{user_id}`: the edit form.
async fn edit_form(
    State(app): State<AppState>,
    Path((_, user_id)): Path<(String, String)>,
    s: StoreAccess,
) -> PageResult {
    let member = member(&app, &s, &user_id).await?;
    if member.edit_url.is_none() {
        return Err(PageError::status(StatusCode::FORBIDDEN));
    }
    render(&EditPage {
        page: s.page.titled("staff.edit_title"),
        member,
        error: None,
    })
}

/// `POST /stores/{store_id}/staff/{user_id}`: renames, changes the role, (de)activates, or
/// sets a new PIN (an empty PIN field keeps the PIN).
async fn edit(
    State(app): State<AppState>,
    Path((_, user_id)): Path<(String, String)>,
    s: StoreAccess,
    Form(f): Form<EditForm>,
) -> PageResult<Response> {
    let pin = Some(f.pin.trim()).filter(|p| !p.is_empty());
    let change = parse_role(&f.role).map(|role| StaffChange {
        name: Some(f.name.clone()),
        role: Some(role),
        active: Some(f.active.is_some()),
        pin: pin.map(str::to_string),
    });
    let outcome = match change {
        Some(c) => staff::update(&app, &s.principal, &s.store.id, &user_id, c).await,
        None => Err(Error::BadRequest("role".into())),
    };
    match outcome {
        Ok(_) => Ok(done(&s, "changed").into_response()),
        Err(Error::BadRequest(_)) => {
            let error = Some(if parse_role(&f.role).is_none() {
                s.page.t("staff.bad_role").to_string()
            } else {
                staff_error(&f.name, pin, &s.page)
            });
            let mut member = member(&app, &s, &user_id).await?;
            member.name = f.name;
            let html = render(&EditPage {
                page: s.page.titled("staff.edit_title"),
                member,
                error,
            })?;
            Ok((StatusCode::BAD_REQUEST, html).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /stores/{store_id}/staff/managers`: an owner adds a manager of the store.
async fn add_manager(
    State(app): State<AppState>,
    s: StoreAccess,
    Form(f): Form<ManagerForm>,
) -> PageResult<Response> {
    match app
        .services
        .create_manager(&s.principal, &s.store.id, &f.email, &f.password)
        .await
    {
        Ok(_) => Ok(done(&s, "manager_added").into_response()),
        Err(Error::BadRequest(_)) => {
            let e = s.page.t("staff.bad_manager").to_string();
            let typed = Typed {
                email: f.email,
                role: "cashier".into(),
                ..Typed::default()
            };
            page_with(&app, s, StatusCode::BAD_REQUEST, None, None, Some(e), typed).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /stores/{store_id}/staff/managers/{user_id}/{action}`: an owner disables or
/// re-enables a manager of this store (another store's manager is 404 here).
async fn manager_access(
    State(app): State<AppState>,
    Path((_, user_id, action)): Path<(String, String, String)>,
    s: StoreAccess,
) -> PageResult<Redirect> {
    let disable = match action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(PageError::not_found()),
    };
    let ours = app
        .services
        .list_managers(&s.principal, &s.store.id)
        .await?
        .iter()
        .any(|m| m.id == user_id);
    if !ours {
        return Err(PageError::not_found());
    }
    app.services
        .set_user_disabled(&s.principal, &user_id, disable)
        .await?;
    Ok(done(&s, if disable { "disabled" } else { "enabled" }))
}

/// The routes of the staff page.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/stores/{store_id}/staff", get(list).post(add))
        .route("/stores/{store_id}/staff/managers", post(add_manager))
        .route(
            "/stores/{store_id}/staff/managers/{user_id}/{action}",
            post(manager_access),
        )
        .route(
            "/stores/{store_id}/staff/{user_id}",
            get(edit_form).post(edit),
        )
}
