//! Signing in and out, changing the password, choosing the language, and `/`. Sign-in uses the
//! API's login service (its limits per account and address, the bounded argon2 queue, the
//! sessions table); only owners and managers have passwords, so tills and app credentials
//! cannot sign in here. Sign-out ends the session on the server.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::csrf;
use super::i18n::{LANG_COOKIE, Lang};
use super::page::{Page, PageError, PageResult, SignedIn, render};
use super::session::{self, SetCookies, safe_next};
use crate::error::Error;
use crate::extract::ClientAddr;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "dashboard/signin.html")]
struct SignInPage {
    page: Page,
    email: String,
    next: String,
    /// A notice (why the browser is here) or an error (why sign-in failed), already in words.
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct SignInQuery {
    next: Option<String>,
    why: Option<String>,
}

/// `GET /signin`: the form; a browser already signed in goes on.
pub(super) async fn signin_form(
    State(app): State<AppState>,
    headers: HeaderMap,
    Extension(jar): Extension<SetCookies>,
    Query(q): Query<SignInQuery>,
) -> PageResult<Response> {
    let lang = Lang::of(&headers);
    if let Some(t) = session::cookie(&headers, session::ACCESS_COOKIE)
        && app.services.web_session(&t).await.is_ok()
    {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    let notice = match q.why.as_deref() {
        Some("expired") => Some(lang.t("auth.why_expired").to_string()),
        Some("ended") => Some(lang.t("auth.why_ended").to_string()),
        Some("signed_out") => Some(lang.t("auth.why_signed_out").to_string()),
        Some("password_changed") => Some(lang.t("auth.why_password_changed").to_string()),
        _ => None,
    };
    let token = csrf::pre_session_token(&app, &headers, &jar);
    let page = Page::anonymous(lang, token, "/signin".into()).titled("auth.signin_title");
    Ok(render(&SignInPage {
        page,
        email: String::new(),
        next: safe_next(q.next.as_deref()),
        notice,
        error: None,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// `POST /signin`.
pub(super) async fn signin(
    State(app): State<AppState>,
    headers: HeaderMap,
    Extension(jar): Extension<SetCookies>,
    ClientAddr(addr): ClientAddr,
    Form(f): Form<SignInForm>,
) -> PageResult<Response> {
    let lang = Lang::of(&headers);
    let next = safe_next(f.next.as_deref());
    let (status, error) = if f.email.trim().is_empty() || f.password.is_empty() {
        (
            StatusCode::BAD_REQUEST,
            lang.t("auth.error_missing").to_string(),
        )
    } else {
        match app.services.login(&f.email, &f.password, addr).await {
            Ok(pair) => {
                jar.session(&app, &pair.access_token, &pair.refresh_token);
                return Ok(Redirect::to(&next).into_response());
            }
            Err(Error::Unauthorized(_)) => (
                StatusCode::UNAUTHORIZED,
                lang.t("auth.error_wrong").to_string(),
            ),
            Err(Error::Forbidden(_)) => (
                StatusCode::FORBIDDEN,
                lang.t("auth.error_disabled").to_string(),
            ),
            Err(Error::RateLimited) => {
                let minutes = (app.services.config.login_window_secs + 59) / 60;
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    lang.tf("auth.error_locked", &[("minutes", &minutes.to_string())]),
                )
            }
            Err(Error::Busy) => (
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t("auth.error_busy").to_string(),
            ),
            Err(e) => return Err(e.into()),
        }
    };
    let token = csrf::pre_session_token(&app, &headers, &jar);
    let page = Page::anonymous(lang, token, "/signin".into()).titled("auth.signin_title");
    let html = render(&SignInPage {
        page,
        email: f.email,
        next,
        notice: None,
        error: Some(error),
    })?;
    Ok((status, html).into_response())
}

/// `POST /signout`: ends the session on the server and removes the cookies.
pub(super) async fn signout(
    State(app): State<AppState>,
    Extension(jar): Extension<SetCookies>,
    user: SignedIn,
) -> PageResult<Response> {
    app.services.logout(&user.access_token).await?;
    jar.end_session(&app);
    Ok(Redirect::to("/signin?why=signed_out").into_response())
}

#[derive(Template)]
#[template(path = "dashboard/password.html")]
struct PasswordPage {
    page: Page,
    error: Option<String>,
    done: bool,
}

/// `GET /account/password`.
pub(super) async fn password_form(user: SignedIn) -> PageResult {
    let mut page = user.page.titled("auth.password_title");
    page.area = "account";
    render(&PasswordPage {
        page,
        error: None,
        done: false,
    })
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    old_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// `POST /account/password`: the API's password change (the old password checked within the
/// login limits; every other session of the user ends).
pub(super) async fn change_password(
    State(app): State<AppState>,
    user: SignedIn,
    Form(f): Form<PasswordForm>,
) -> PageResult<Response> {
    let lang = user.page.lang;
    let outcome = if f.new_password != f.confirm_password {
        Err((
            StatusCode::BAD_REQUEST,
            lang.t("auth.error_confirm").to_string(),
        ))
    } else {
        match app
            .services
            .change_password(&user.access_token, &f.old_password, &f.new_password)
            .await
        {
            Ok(()) => Ok(()),
            Err(Error::BadRequest(_)) => Err((
                StatusCode::BAD_REQUEST,
                lang.t("auth.error_short").to_string(),
            )),
            Err(Error::Forbidden(_)) => Err((
                StatusCode::FORBIDDEN,
                lang.t("auth.error_old_wrong").to_string(),
            )),
            Err(Error::RateLimited) => {
                let minutes = (app.services.config.login_window_secs + 59) / 60;
                Err((
                    StatusCode::TOO_MANY_REQUESTS,
                    lang.tf("auth.error_locked", &[("minutes", &minutes.to_string())]),
                ))
            }
            Err(Error::Busy) => Err((
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t("auth.error_busy").to_string(),
            )),
            Err(e) => return Err(e.into()),
        }
    };
    let mut page = user.page.titled("auth.password_title");
    page.area = "account";
    let (status, error, done) = match outcome {
        Ok(()) => (StatusCode::OK, None, true),
        Err((s, e)) => (s, Some(e), false),
    };
    Ok((status, render(&PasswordPage { page, error, done })?).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct LangForm {
    lang: String,
    next: Option<String>,
}

/// `POST /lang`: keeps the chosen language in a cookie for a year and goes back.
pub(super) async fn set_lang(
    State(app): State<AppState>,
    Extension(jar): Extension<SetCookies>,
    Form(f): Form<LangForm>,
) -> PageResult<Response> {
    let lang = Lang::parse(&f.lang).ok_or(PageError::status(StatusCode::BAD_REQUEST))?;
    jar.set(
        LANG_COOKIE,
        lang.code(),
        std::time::Duration::from_secs(365 * 24 * 3600),
        session::secure(&app),
    );
    Ok(Redirect::to(&safe_next(f.next.as_deref())).into_response())
}

#[derive(Template)]
#[template(path = "dashboard/no_store.html")]
struct NoStorePage {
    page: Page,
}

/// `GET /`: the first store's overview, or `/signin`.
pub(super) async fn home(user: SignedIn) -> PageResult<Response> {
    match user.page.stores.first() {
        Some(s) => Ok(Redirect::to(&format!("/stores/{}/overview", s.id)).into_response()),
        None => {
            let page = user.page.titled("common.no_store_title");
            Ok(render(&NoStorePage { page })?.into_response())
        }
    }
}
