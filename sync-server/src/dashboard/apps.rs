//! The Apps page (`/apps`, owners only): the credentials with which the tenant's other web
//! products sync their own documents (`examples/web-client/`). It lists them, makes one (its
//! secret shown this once, with a copy button and a warning) and revokes one after a
//! confirmation page, through the same service functions and access checks as `/api/v1/apps`
//! ([`crate::access::manage_apps`]): a manager gets the 403 page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::page::{Page, PageResult, SignedIn, render};
use crate::error::Error;
use crate::service::{AppCredentialView, MAX_APP_NAME_CHARS, NewAppCredential};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "dashboard/apps.html")]
struct AppsPage {
    page: Page,
    apps: Vec<AppCredentialView>,
    /// The credential just made, with its secret: shown once.
    made: Option<NewAppCredential>,
    /// The name typed (kept when it was refused).
    name: String,
    max_name: usize,
    error: Option<String>,
    /// A revocation just done.
    revoked: bool,
}

impl AppsPage {
    fn new(page: Page, apps: Vec<AppCredentialView>) -> AppsPage {
        AppsPage {
            page: page.titled("apps.title"),
            apps,
            made: None,
            name: String::new(),
            max_name: MAX_APP_NAME_CHARS,
            error: None,
            revoked: false,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    done: Option<String>,
}

/// `GET /apps`.
async fn list(
    State(app): State<AppState>,
    SignedIn {
        principal, page, ..
    }: SignedIn,
    Query(q): Query<ListQuery>,
) -> PageResult<Response> {
    let apps = app.services.list_app_credentials(&principal).await?;
    let mut p = AppsPage::new(area(page), apps);
    p.revoked = q.done.as_deref() == Some("revoked");
    Ok(render(&p)?.into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct CreateForm {
    #[serde(default)]
    name: String,
}

/// `POST /apps`: makes a credential and shows its secret on the page it answers with (never
/// in a URL, never again); a refused name shows the form again with why (400), nothing made.
async fn create(
    State(app): State<AppState>,
    SignedIn {
        principal, page, ..
    }: SignedIn,
    Form(f): Form<CreateForm>,
) -> PageResult<Response> {
    let made = app
        .services
        .create_app_credential(&principal, &f.name)
        .await;
    let (status, made, error) = match made {
        Ok(m) => (StatusCode::CREATED, Some(m), None),
        Err(Error::BadRequest(_)) => (
            StatusCode::BAD_REQUEST,
            None,
            Some(
                page.tf1("apps.error_name", "max", &MAX_APP_NAME_CHARS.to_string())
                    .to_string(),
            ),
        ),
        Err(e) => return Err(e.into()),
    };
    let apps = app.services.list_app_credentials(&principal).await?;
    let mut p = AppsPage::new(area(page), apps);
    if made.is_none() {
        p.name = f.name;
    }
    p.made = made;
    p.error = error;
    Ok((status, render(&p)?).into_response())
}

#[derive(Template)]
#[template(path = "dashboard/app_revoke.html")]
struct RevokePage {
    page: Page,
    app: AppCredentialView,
}

/// `GET /apps/{app_id}/revoke`: asks before revoking.
async fn revoke_form(
    State(app): State<AppState>,
    SignedIn {
        principal, page, ..
    }: SignedIn,
    Path(app_id): Path<String>,
) -> PageResult<Response> {
    let found = app
        .services
        .list_app_credentials(&principal)
        .await?
        .into_iter()
        .find(|a| a.id == app_id && a.revoked_at.is_none())
        .ok_or_else(super::page::PageError::not_found)?;
    let page = area(page).titled("apps.revoke_title");
    Ok(render(&RevokePage { page, app: found })?.into_response())
}

/// `POST /apps/{app_id}/revoke`, then back to the list.
async fn revoke(
    State(app): State<AppState>,
    SignedIn { principal, .. }: SignedIn,
    Path(app_id): Path<String>,
) -> PageResult<Response> {
    app.services
        .revoke_app_credential(&principal, &app_id)
        .await?;
    Ok(Redirect::to("/apps?done=revoked").into_response())
}

fn area(mut page: Page) -> Page {
    page.area = "apps";
    page
}

/// The routes of the Apps page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/apps", get(list).post(create))
        .route("/apps/{app_id}/revoke", get(revoke_form).post(revoke))
}
