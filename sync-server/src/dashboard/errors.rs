//! The error page: a status in words, in the request's language, with a way back. Rendered by
//! the dashboard layer from the [`ErrorPage`] a handler's [`super::page::PageError`] left in
//! the response.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};

use super::i18n::Lang;
use super::page::{ErrorPage, Page};

#[derive(Template)]
#[template(path = "dashboard/error.html")]
struct ErrorTemplate {
    page: Page,
    message: &'static str,
    status: u16,
}

/// The page of `err` in `lang`.
pub fn error_page(lang: Lang, err: &ErrorPage) -> Response {
    let page = Page::anonymous(lang, String::new(), "/".into()).titled("errors.title");
    let t = ErrorTemplate {
        message: lang.t(err.key),
        status: err.status.as_u16(),
        page,
    };
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            err.status.into_response()
        }
    }
}
