//! What every page has: the signed-in principal ([`SignedIn`]), the store of the path with its
//! access check ([`StoreAccess`]), the common page context that the layout reads ([`Page`]),
//! rendering ([`render`]) and errors as pages ([`PageError`]).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use chrono_tz::Tz;
use shared_model::business_day::BusinessDayConfig;

use super::format;
use super::i18n::Lang;
use super::session::{self, ACCESS_COOKIE, REFRESH_COOKIE, SetCookies};
use crate::access;
use crate::auth::{Principal, Role};
use crate::error::Error;
use crate::service::StoreView;
use crate::state::AppState;
use crate::storage::StoreRow;

/// The page areas of the navigation, in order: (area, label key, owners only).
pub const AREAS: [(&str, &str, bool); 9] = [
    ("overview", "common.nav_overview", false),
    ("reports", "common.nav_reports", false),
    ("stock", "common.nav_stock", false),
    ("tills", "common.nav_tills", false),
    ("staff", "common.nav_staff", false),
    ("catalog", "common.nav_catalog", false),
    ("settings", "common.nav_settings", false),
    ("conflicts", "common.nav_conflicts", false),
    ("apps", "common.nav_apps", true),
];

/// The areas whose pages read the reports (through [`crate::report_replica::ReportReads`]):
/// they tell the owner while those are behind.
const REPORT_AREAS: [&str; 4] = ["overview", "reports", "stock", "conflicts"];

/// "Reports are about N s behind" while the report replica lags a second or more; seconds up
/// to two minutes, then minutes.
fn behind_in_words(page: &Page, source: crate::report_replica::ReportSource) -> Option<String> {
    match source.behind_secs() {
        0 => None,
        s if s < 120 => Some(page.tf1("common.reports_behind_secs", "n", &s.to_string())),
        s => Some(page.tf1(
            "common.reports_behind_mins",
            "n",
            &s.div_ceil(60).to_string(),
        )),
    }
}

/// One link of the navigation.
#[derive(Debug)]
pub struct NavItem {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

/// The context every page template gets as its field `page`; `layout.html` reads it for the
/// header, the navigation, the language switch and the sign-out form.
#[derive(Debug)]
pub struct Page {
    pub lang: Lang,
    /// The CSRF token of the session: every form carries it as `_csrf`
    /// (`<input type="hidden" name="_csrf" value="{{ page.csrf }}">`), every `fetch` that
    /// changes something as the `X-CSRF-Token` header (dashboard.js reads it from
    /// `<meta name="csrf-token">`).
    pub csrf: String,
    /// The signed-in user's email; empty on pages before sign-in.
    pub email: String,
    pub is_owner: bool,
    /// Stores the user sees (the store picker lists them when more than one).
    pub stores: Vec<StoreView>,
    /// The store of the page, if it is a store's page.
    pub store: Option<StoreView>,
    /// The area of the navigation the page belongs to (`overview`, `reports`, …, `apps`,
    /// `account`).
    pub area: &'static str,
    /// Path and query of the request (where the language switch comes back to).
    pub path: String,
    /// The store's time zone (else Asia/Jakarta).
    pub tz: Tz,
    /// The store's business day (time zone and cut-off hour).
    pub day: BusinessDayConfig,
    /// Set by the page: the `<title>` and the heading.
    pub title: String,
    /// On the report areas while the report replica is behind: how far, in words.
    pub reports_behind: Option<String>,
}

impl Page {
    /// A page context before sign-in (sign-in, errors).
    pub fn anonymous(lang: Lang, csrf: String, path: String) -> Page {
        let day = BusinessDayConfig::default();
        Page {
            lang,
            csrf,
            email: String::new(),
            is_owner: false,
            stores: Vec::new(),
            store: None,
            area: "",
            path,
            tz: chrono_tz::Asia::Jakarta,
            day,
            title: String::new(),
            reports_behind: None,
        }
    }

    /// Sets the title from catalogue key `key`.
    pub fn titled(mut self, key: &str) -> Page {
        self.title = self.lang.t(key).to_string();
        self
    }

    /// Text of catalogue key `key` in the page's language.
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    /// A tax class in words: the classes every store starts with are translated, a class the
    /// store made itself keeps its own name.
    pub fn tax_class(&self, class: &str) -> String {
        match class {
            "standard" => self.t("common.tax_standard").into(),
            "luxury" => self.t("common.tax_luxury").into(),
            "exempt" => self.t("common.tax_exempt").into(),
            other => other.into(),
        }
    }

    /// [`Page::t`] with `{name}` placeholders filled.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.lang.tf(key, args)
    }

    /// [`Page::tf`] with one placeholder, for templates: `page.tf1("key", "n", x)`.
    pub fn tf1(&self, key: &str, name: &str, value: &str) -> String {
        self.lang.tf(key, &[(name, value)])
    }

    /// The stylesheet's URL.
    pub fn css_url(&self) -> &'static str {
        super::assets::css_url()
    }

    /// The script's URL.
    pub fn js_url(&self) -> &'static str {
        super::assets::js_url()
    }

    /// An amount (decimal string from a service) as `Rp 12.500`.
    pub fn money(&self, amount: &str) -> String {
        format::money(amount)
    }

    /// A whole count in the page's language.
    pub fn count(&self, n: &i64) -> String {
        format::count(*n, self.lang)
    }

    /// A quantity (decimal string) in the page's language.
    pub fn qty(&self, q: &str) -> String {
        format::quantity(q, self.lang)
    }

    /// A business date `YYYY-MM-DD` as `3 Des 2026`.
    pub fn date(&self, business_date: &str) -> String {
        format::date_str(business_date, self.lang)
    }

    /// An instant (unix ms) as date and time in the store's time zone.
    pub fn date_time(&self, ms: &i64) -> String {
        format::date_time(*ms, &self.tz, self.lang)
    }

    /// The time of day of an instant (unix ms) in the store's time zone.
    pub fn time(&self, ms: &i64) -> String {
        format::time(*ms, &self.tz)
    }

    /// Today's business date of the store.
    pub fn today(&self) -> NaiveDate {
        today(&self.day)
    }

    /// A URL under the page's store: `store_url("reports/product")` →
    /// `/stores/<id>/reports/product`.
    pub fn store_url(&self, rest: &str) -> String {
        match &self.store {
            Some(s) => format!("/stores/{}/{rest}", s.id),
            None => "/".to_string(),
        }
    }

    /// The navigation: the store's areas (when the page has a store) and, for owners, Apps.
    pub fn nav(&self) -> Vec<NavItem> {
        AREAS
            .iter()
            .filter(|(_, _, owners)| !owners || self.is_owner)
            .filter_map(|&(area, label, _)| {
                let href = if area == "apps" {
                    "/apps".to_string()
                } else {
                    // Off a store's pages (the apps page), the store areas lead to the
                    // first store the user has.
                    let store = self.store.as_ref().or(self.stores.first())?;
                    format!("/stores/{}/{area}", store.id)
                };
                Some(NavItem {
                    href,
                    label: self.lang.t(label),
                    current: self.area == area,
                })
            })
            .collect()
    }

    /// The same page in another store (the store picker): the area's first page.
    pub fn store_switch_url(&self, store_id: &str) -> String {
        let area = if self.area.is_empty() || self.area == "apps" || self.area == "account" {
            "overview"
        } else {
            self.area
        };
        format!("/stores/{store_id}/{area}")
    }
}

/// Today's business date for `day` (its cut-off hour and time zone).
pub fn today(day: &BusinessDayConfig) -> NaiveDate {
    let now = shared_model::codec::Timestamp(chrono::Utc::now());
    day.business_date(now)
        .map(|d| d.0)
        .unwrap_or_else(|_| chrono::Utc::now().date_naive())
}

/// Renders a template into a page (HTML), or the error page if rendering fails.
pub fn render(t: &impl Template) -> Result<Html<String>, PageError> {
    t.render().map(Html).map_err(|e| {
        tracing::error!(error = %e, "dashboard template failed");
        PageError::status(StatusCode::INTERNAL_SERVER_ERROR)
    })
}

/// What a page handler returns.
pub type PageResult<T = Html<String>> = Result<T, PageError>;

/// A request a page cannot answer with itself: to `/signin` (no or ended session) or an error
/// page in the request's language (rendered by the dashboard layer, which knows the language).
#[derive(Debug)]
pub enum PageError {
    /// No live session: back to `/signin` with `why` (`expired`, `ended`) and `next`.
    SignIn { next: String, why: &'static str },
    /// An error page: the status and, optionally, a catalogue key saying more than the
    /// status's standard text.
    Status {
        status: StatusCode,
        key: Option<&'static str>,
    },
}

/// Put in the extensions of an error response for the dashboard layer to render.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub status: StatusCode,
    pub key: &'static str,
}

impl PageError {
    /// An error page with the standard text of `status`.
    pub fn status(status: StatusCode) -> PageError {
        PageError::Status { status, key: None }
    }

    /// The 404 page (also for other stores' and tenants' pages: nothing leaks).
    pub fn not_found() -> PageError {
        PageError::status(StatusCode::NOT_FOUND)
    }
}

/// The catalogue key of a status's standard text.
fn status_key(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "errors.bad_request",
        403 => "errors.forbidden",
        404 => "errors.not_found",
        409 => "errors.conflict",
        413 => "errors.too_large",
        429 => "errors.rate_limited",
        503 => "errors.busy",
        _ => "errors.internal",
    }
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        match e {
            Error::Unauthorized(why) => PageError::SignIn {
                next: "/".into(),
                why: if why.contains("expired") {
                    "expired"
                } else {
                    "ended"
                },
            },
            Error::NoTerminalYet => PageError::Status {
                status: StatusCode::CONFLICT,
                key: Some("errors.no_terminal_yet"),
            },
            e => {
                let (_, status) = e.code_and_status();
                if status.is_server_error() {
                    tracing::error!(error = %e, "dashboard request failed");
                } else {
                    tracing::info!(error = %e, "dashboard request refused");
                }
                PageError::status(status)
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { next, why } => {
                let q = form_urlencoded::Serializer::new(String::new())
                    .append_pair("why", why)
                    .append_pair("next", &next)
                    .finish();
                Redirect::to(&format!("/signin?{q}")).into_response()
            }
            PageError::Status { status, key } => {
                let mut resp = status.into_response();
                resp.extensions_mut().insert(ErrorPage {
                    status,
                    key: key.unwrap_or_else(|| status_key(status)),
                });
                resp
            }
        }
    }
}

/// An owner or manager with a live session, for pages that are not a store's (account,
/// apps). Refreshes an expired access token transparently.
#[derive(Debug)]
pub struct SignedIn {
    pub principal: Principal,
    pub session_id: String,
    /// The (possibly just refreshed) access token of the session.
    pub access_token: String,
    pub page: Page,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, PageError> {
        let path = parts
            .uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.to_string());
        let sign_in = |why| PageError::SignIn {
            next: path.clone(),
            why,
        };
        let access = session::cookie(&parts.headers, ACCESS_COOKIE);
        let refresh = session::cookie(&parts.headers, REFRESH_COOKIE);
        if access.is_none() && refresh.is_none() {
            return Err(sign_in("none"));
        }
        let mut outcome = match &access {
            Some(t) => app
                .services
                .web_session(t)
                .await
                .map(|(p, s)| (p, s, t.clone())),
            None => Err(Error::Unauthorized("no session")),
        };
        let unauthorized = matches!(outcome, Err(Error::Unauthorized(_)));
        if unauthorized
            && let Some(refresh) = &refresh
            && let Some((a, r)) = session::refresh_once(app, refresh).await
        {
            if let Some(jar) = parts.extensions.get::<SetCookies>() {
                jar.session(app, &a, &r);
            }
            outcome = app.services.web_session(&a).await.map(|(p, s)| (p, s, a));
        }
        let (principal, session_id, access_token) = match outcome {
            Ok(x) => x,
            Err(Error::Unauthorized(why)) => {
                if let Some(jar) = parts.extensions.get::<SetCookies>() {
                    jar.end_session(app);
                }
                return Err(sign_in(if why.contains("expired") {
                    "expired"
                } else {
                    "ended"
                }));
            }
            Err(e) => return Err(e.into()),
        };
        let Principal::User { user_id, role, .. } = &principal else {
            return Err(sign_in("ended"));
        };
        let email = app
            .services
            .storage
            .user(user_id)
            .await
            .map_err(PageError::from)?
            .map(|u| u.email)
            .unwrap_or_default();
        let stores = app
            .services
            .list_stores(&principal)
            .await
            .map_err(PageError::from)?;
        let lang = Lang::of(&parts.headers);
        let mut page = Page::anonymous(
            lang,
            app.services
                .web_tag(super::csrf::SESSION_PURPOSE, &session_id),
            path,
        );
        page.email = email;
        page.is_owner = *role == Role::Owner;
        page.stores = stores;
        Ok(SignedIn {
            principal,
            session_id,
            access_token,
            page,
        })
    }
}

/// A page of the store in the path (`/stores/{store_id}/…`): signed in, and allowed to read
/// the store's reports ([`access::read_reports`], as the API): another store's or tenant's
/// page is 404, like the API. `page.store`, `page.tz`, `page.day` and `page.area` are set.
#[derive(Debug)]
pub struct StoreAccess {
    pub principal: Principal,
    pub session_id: String,
    pub store: StoreRow,
    pub page: Page,
}

impl FromRequestParts<AppState> for StoreAccess {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, PageError> {
        let SignedIn {
            principal,
            session_id,
            mut page,
            ..
        } = SignedIn::from_request_parts(parts, app).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, app)
            .await
            .map_err(|_| PageError::not_found())?;
        let store_id = params.get("store_id").ok_or_else(PageError::not_found)?;
        let store = app
            .services
            .storage
            .store(store_id)
            .await
            .map_err(PageError::from)?
            .ok_or_else(PageError::not_found)?;
        access::read_reports(&principal, &store).map_err(|_| PageError::not_found())?;
        let mut day = BusinessDayConfig::default();
        if let Some(s) = app
            .services
            .storage
            .store_settings(&store.id)
            .await
            .map_err(PageError::from)?
        {
            day.time_zone = s.time_zone;
            day.cutoff_hour = u8::try_from(s.cutoff_hour).unwrap_or(day.cutoff_hour);
        }
        match day.validate() {
            Ok(tz) => page.tz = tz,
            Err(e) => {
                tracing::warn!(store_id, error = %e, "store business day unusable; using the default");
                day = BusinessDayConfig::default();
            }
        }
        page.day = day;
        page.area = AREAS
            .iter()
            .map(|(a, ..)| *a)
            .find(|a| parts.uri.path().split('/').nth(3) == Some(*a))
            .unwrap_or("");
        page.store = Some(StoreView::from(store.clone()));
        if REPORT_AREAS.contains(&page.area) {
            page.reports_behind = behind_in_words(&page, app.services.reports.source());
        }
        Ok(StoreAccess {
            principal,
            session_id,
            store,
            page,
        })
    }
}
