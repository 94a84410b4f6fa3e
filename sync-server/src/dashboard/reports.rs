//! The reports pages of a store: sales by product, category, cashier and payment method,
//! refunds and voids, shifts (expected against counted cash, the difference in words) over a
//! date range, and the Z report of one business day; each with a CSV download that is the
//! API's export ([`crate::report_csv`]), byte for byte.
//!
//! The range tabs share one template: each handler calls its report's service and turns the
//! rows into a [`Table`] of already formatted cells.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::page::{Page, PageResult, StoreAccess, render};
use crate::auth::Principal;
use crate::report_csv::{CsvExport, CsvFile};
use crate::reports::DateRange;
use crate::service::Services;
use crate::state::AppState;
use crate::zreport::{BusinessDay, DayZReport};

/// The tabs of the reports area: (slug, label key).
const TABS: [(&str, &str); 7] = [
    ("products", "reports.tab_products"),
    ("categories", "reports.tab_categories"),
    ("cashiers", "reports.tab_cashiers"),
    ("payments", "reports.tab_payments"),
    ("refunds", "reports.tab_refunds"),
    ("shifts", "reports.tab_shifts"),
    ("z", "reports.tab_z"),
];

/// The routes of this page area.
pub fn routes() -> Router<AppState> {
    let r = |p: &str| format!("/stores/{{store_id}}/reports{p}");
    // Each range tab: its report service and the tables it is shown as (see `range_tab`).
    macro_rules! tab {
        ($slug:literal, $read:path, $show:path) => {
            get(|s: State<AppState>, a: StoreAccess, q: Query<RangeQuery>| {
                range_tab(s, a, q, $slug, $read, $show)
            })
        };
    }
    let products = tab!("products", Services::sales_by_product, products_tables);
    Router::new()
        .route(&r(""), products.clone())
        .route(&r("/products"), products)
        .route(
            &r("/categories"),
            tab!("categories", Services::sales_by_category, categories_tables),
        )
        .route(
            &r("/cashiers"),
            tab!("cashiers", Services::sales_by_cashier, cashiers_tables),
        )
        .route(
            &r("/payments"),
            tab!(
                "payments",
                Services::sales_by_payment_method,
                payments_tables
            ),
        )
        .route(
            &r("/refunds"),
            tab!("refunds", Services::refunds_and_voids, refunds_tables),
        )
        .route(
            &r("/shifts"),
            tab!("shifts", Services::shifts, shifts_tables),
        )
        .route(&r("/z"), get(z_report))
        .route(&r("/products.csv"), get(csv::<0>))
        .route(&r("/categories.csv"), get(csv::<1>))
        .route(&r("/cashiers.csv"), get(csv::<2>))
        .route(&r("/payments.csv"), get(csv::<3>))
        .route(&r("/refunds.csv"), get(csv::<4>))
        .route(&r("/shifts.csv"), get(csv::<5>))
        .route(&r("/z.csv"), get(csv::<6>))
}

#[derive(Debug, Deserialize)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
    date: Option<String>,
}

/// A tab link.
#[derive(Debug)]
pub struct Tab {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
    pub slug: &'static str,
}

/// The tab bar of an area: `tabs` are (slug, label key); the first tab's URL is the area's.
pub fn tabs(
    page: &Page,
    base: &str,
    all: &[(&'static str, &str)],
    current: &str,
    query: &str,
) -> Vec<Tab> {
    all.iter()
        .map(|&(slug, key)| Tab {
            label: page.t(key),
            href: page.store_url(&format!("{base}/{slug}{query}")),
            current: slug == current,
            slug,
        })
        .collect()
}

/// One cell of a report table, formatted.
#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    /// Right-aligned figures.
    pub num: bool,
    /// Extra CSS class (`down` for a shortfall, `up` for a surplus, `prose` for sentences that
    /// wrap), or empty.
    pub class: &'static str,
    /// A link, when the cell leads somewhere (a product's movements).
    pub href: Option<String>,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell {
            text: s.into(),
            num: false,
            class: "",
            href: None,
        }
    }

    pub fn num(s: impl Into<String>) -> Cell {
        Cell {
            num: true,
            ..Cell::text(s)
        }
    }

    pub fn classed(mut self, class: &'static str) -> Cell {
        self.class = class;
        self
    }

    pub fn link(mut self, href: String) -> Cell {
        self.href = Some(href);
        self
    }
}

/// A report table: headers (label, right-aligned) and rows of cells.
#[derive(Debug, Default)]
pub struct Table {
    pub id: &'static str,
    pub caption: String,
    pub headers: Vec<(&'static str, bool)>,
    pub rows: Vec<Vec<Cell>>,
    pub empty: &'static str,
}

#[derive(Template)]
#[template(path = "dashboard/reports.html")]
struct ReportPage {
    page: Page,
    tabs: Vec<Tab>,
    tab: &'static str,
    from: String,
    to: String,
    csv_url: String,
    tables: Vec<Table>,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "dashboard/reports_z.html")]
struct ZPage {
    page: Page,
    tabs: Vec<Tab>,
    date: String,
    csv_url: String,
    z: DayZReport,
    error: Option<&'static str>,
}

/// The range of the query, else today; a range the service refuses is shown as today with
/// the reason (status 400).
fn range_of(page: &Page, q: &RangeQuery) -> DateRange {
    let today = page.today().to_string();
    DateRange {
        from: q
            .from
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| today.clone()),
        to: q.to.clone().filter(|s| !s.is_empty()).unwrap_or(today),
    }
}

/// A range tab: the report `read` over the query's range, shown as the tables `show` makes of
/// it. A range the service refuses falls back to today, with the reason (status 400).
async fn range_tab<T>(
    State(app): State<AppState>,
    a: StoreAccess,
    Query(q): Query<RangeQuery>,
    tab: &'static str,
    read: impl AsyncFn(&Services, &Principal, &str, &DateRange) -> crate::Result<T>,
    show: impl FnOnce(&Page, T) -> Vec<Table>,
) -> PageResult<Response> {
    let page = a.page.titled("reports.title");
    let mut r = range_of(&page, &q);
    let (rows, error) = match read(&app.services, &a.principal, &a.store.id, &r).await {
        Ok(v) => (v, None),
        Err(crate::Error::BadRequest(_)) => {
            let today = page.today().to_string();
            r = DateRange {
                from: today.clone(),
                to: today,
            };
            let v = read(&app.services, &a.principal, &a.store.id, &r).await?;
            (v, Some("reports.error_range"))
        }
        Err(e) => return Err(e.into()),
    };
    let tables = show(&page, rows);
    range_page(page, tab, r, tables, error)
}

/// Renders a range tab.
fn range_page(
    mut page: Page,
    tab: &'static str,
    r: DateRange,
    tables: Vec<Table>,
    error: Option<&'static str>,
) -> PageResult<Response> {
    let query = format!("?from={}&to={}", r.from, r.to);
    page.path = page.store_url(&format!("reports/{tab}{query}"));
    let html = render(&ReportPage {
        tabs: tabs(&page, "reports", &TABS, tab, &query),
        csv_url: page.store_url(&format!("reports/{tab}.csv{query}")),
        tab,
        from: r.from,
        to: r.to,
        tables,
        error,
        page,
    })?;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, html).into_response())
}

fn products_tables(page: &Page, rows: Vec<crate::reports::ProductSales>) -> Vec<Table> {
    let table = Table {
        id: "report-products",
        caption: page.t("reports.tab_products").into(),
        headers: vec![
            (page.t("reports.product"), false),
            (page.t("reports.quantity"), true),
            (page.t("reports.amount"), true),
        ],
        rows: rows
            .iter()
            .map(|p| {
                vec![
                    Cell::text(&p.name),
                    Cell::num(page.qty(&p.quantity)),
                    Cell::num(page.money(&p.amount)),
                ]
            })
            .collect(),
        empty: page.t("reports.no_sales"),
    };
    vec![table]
}

/// Category and cashier tabs: `key` (an id) and count and amount.
fn key_table(
    page: &Page,
    id: &'static str,
    tab: &str,
    key: &str,
    count: &str,
    rows: &[crate::reports::KeySales],
    none: &str,
) -> Table {
    Table {
        id,
        caption: page.t(tab).into(),
        headers: vec![
            (page.t(key), false),
            (page.t(count), true),
            (page.t("reports.amount"), true),
        ],
        rows: rows
            .iter()
            .map(|k| {
                // The name the catalog or the users document gives; the id only when none does.
                let name = match (&k.name, k.key.is_empty()) {
                    (_, true) => page.t(none).to_string(),
                    (Some(n), false) if !n.is_empty() => n.clone(),
                    _ => k.key.clone(),
                };
                vec![
                    Cell::text(name),
                    Cell::num(page.count(&k.count)),
                    Cell::num(page.money(&k.amount)),
                ]
            })
            .collect(),
        empty: page.t("reports.no_sales"),
    }
}

fn categories_tables(page: &Page, rows: Vec<crate::reports::KeySales>) -> Vec<Table> {
    let t = key_table(
        page,
        "report-categories",
        "reports.tab_categories",
        "reports.category",
        "reports.lines",
        &rows,
        "reports.no_category",
    );
    vec![t]
}

fn cashiers_tables(page: &Page, rows: Vec<crate::reports::KeySales>) -> Vec<Table> {
    let t = key_table(
        page,
        "report-cashiers",
        "reports.tab_cashiers",
        "reports.cashier",
        "reports.transactions",
        &rows,
        "reports.no_cashier",
    );
    vec![t]
}

fn payments_tables(page: &Page, rows: Vec<crate::reports::MethodSales>) -> Vec<Table> {
    let table = Table {
        id: "report-payments",
        caption: page.t("reports.tab_payments").into(),
        headers: vec![
            (page.t("reports.method"), false),
            (page.t("reports.payments"), true),
            (page.t("reports.amount"), true),
        ],
        rows: rows
            .iter()
            .map(|m| {
                vec![
                    Cell::text(method_name(page, &m.method)),
                    Cell::num(page.count(&m.payments)),
                    Cell::num(page.money(&m.amount)),
                ]
            })
            .collect(),
        empty: page.t("reports.no_sales"),
    };
    vec![table]
}

/// A payment method key (`cash`, `qris`, `ewallet:ovo`, …) in words.
pub fn method_name(page: &Page, key: &str) -> String {
    match key.split_once(':') {
        Some(("ewallet", p)) => page.tf("reports.method_ewallet", &[("name", &p.to_uppercase())]),
        Some(("other", n)) => page.tf("reports.method_other", &[("name", n)]),
        _ => match key {
            "cash" => page.t("reports.method_cash").into(),
            "qris" => page.t("reports.method_qris").into(),
            "qris_dynamic" => page.t("reports.method_qris_dynamic").into(),
            "card" => page.t("reports.method_card").into(),
            other => other.into(),
        },
    }
}

fn refunds_tables(page: &Page, both: crate::reports::RefundsAndVoids) -> Vec<Table> {
    let dash = || "–".to_string();
    let refunds = Table {
        id: "report-refunds",
        caption: page.t("reports.refunds").into(),
        headers: vec![
            (page.t("reports.when"), false),
            (page.t("reports.receipt"), false),
            (page.t("reports.of_sale"), false),
            (page.t("reports.till"), false),
            (page.t("reports.amount"), true),
        ],
        rows: both
            .refunds
            .iter()
            .map(|x| {
                vec![
                    Cell::text(page.date_time(&x.created_at)),
                    Cell::text(x.receipt_no.clone().unwrap_or_else(dash)),
                    Cell::text(x.sale_receipt_no.clone().unwrap_or_else(dash)),
                    Cell::text(&x.terminal_code),
                    Cell::num(page.money(&x.total)),
                ]
            })
            .collect(),
        empty: page.t("reports.no_refunds"),
    };
    let voids = Table {
        id: "report-voids",
        caption: page.t("reports.voids").into(),
        headers: vec![
            (page.t("reports.when"), false),
            (page.t("reports.receipt"), false),
            (page.t("reports.till"), false),
            (page.t("reports.reason"), false),
            (page.t("reports.amount"), true),
        ],
        rows: both
            .voids
            .iter()
            .map(|x| {
                vec![
                    Cell::text(page.date_time(&x.voided_at.unwrap_or(x.created_at))),
                    Cell::text(&x.receipt_no),
                    Cell::text(&x.terminal_code),
                    Cell::text(x.reason.clone().unwrap_or_else(dash)),
                    Cell::num(page.money(&x.total)),
                ]
            })
            .collect(),
        empty: page.t("reports.no_voids"),
    };
    vec![refunds, voids]
}

/// A cash difference in words: short, over, exact, or the shift still open.
fn difference(page: &Page, d: Option<&str>) -> Cell {
    let Some(d) = d else {
        return Cell::text(page.t("reports.shift_open"));
    };
    let v = d.parse::<rust_decimal::Decimal>().unwrap_or_default();
    if v.is_sign_negative() && !v.is_zero() {
        Cell::num(page.tf(
            "reports.cash_short",
            &[("amount", &page.money(&(-v).to_string()))],
        ))
        .classed("down")
    } else if v.is_zero() {
        Cell::num(page.t("reports.cash_exact"))
    } else {
        Cell::num(page.tf("reports.cash_over", &[("amount", &page.money(d))])).classed("up")
    }
}

fn shifts_tables(page: &Page, rows: Vec<crate::reports::ShiftItem>) -> Vec<Table> {
    let dash = || "–".to_string();
    let table = Table {
        id: "report-shifts",
        caption: page.t("reports.tab_shifts").into(),
        headers: vec![
            (page.t("reports.till"), false),
            (page.t("reports.opened"), false),
            (page.t("reports.closed"), false),
            (page.t("reports.float"), true),
            (page.t("reports.expected"), true),
            (page.t("reports.counted"), true),
            (page.t("reports.difference"), true),
        ],
        rows: rows
            .iter()
            .map(|x| {
                vec![
                    Cell::text(&x.terminal_code),
                    Cell::text(page.date_time(&x.opened_at)),
                    Cell::text(x.closed_at.map(|c| page.date_time(&c)).unwrap_or_else(dash)),
                    Cell::num(page.money(&x.opening_float)),
                    Cell::num(
                        x.expected_cash
                            .as_deref()
                            .map(|m| page.money(m))
                            .unwrap_or_else(dash),
                    ),
                    Cell::num(
                        x.counted_cash
                            .as_deref()
                            .map(|m| page.money(m))
                            .unwrap_or_else(dash),
                    ),
                    difference(page, x.difference.as_deref()),
                ]
            })
            .collect(),
        empty: page.t("reports.no_shifts"),
    };
    vec![table]
}

async fn z_report(
    State(app): State<AppState>,
    a: StoreAccess,
    Query(q): Query<RangeQuery>,
) -> PageResult<Response> {
    let mut page = a.page.titled("reports.title");
    let today = page.today().to_string();
    let date = q
        .date
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| today.clone());
    let (date, z, error) = match app
        .services
        .z_report(
            &a.principal,
            &a.store.id,
            &BusinessDay { date: date.clone() },
        )
        .await
    {
        Ok(z) => (date, z, None),
        Err(crate::Error::BadRequest(_)) => {
            let z = app
                .services
                .z_report(
                    &a.principal,
                    &a.store.id,
                    &BusinessDay {
                        date: today.clone(),
                    },
                )
                .await?;
            (today, z, Some("reports.error_date"))
        }
        Err(e) => return Err(e.into()),
    };
    let query = format!("?date={date}");
    page.path = page.store_url(&format!("reports/z{query}"));
    let html = render(&ZPage {
        tabs: tabs(&page, "reports", &TABS, "z", &query),
        csv_url: page.store_url(&format!("reports/z.csv{query}")),
        date,
        z,
        error,
        page,
    })?;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, html).into_response())
}

impl ZPage {
    fn method(&self, key: &str) -> String {
        method_name(&self.page, key)
    }

    fn difference(&self, d: &Option<String>) -> Cell {
        difference(&self.page, d.as_deref())
    }
}

/// The CSV download of tab `N` of [`TABS`]: [`crate::service::Services::export_csv`], the API's
/// bytes.
async fn csv<const N: usize>(
    State(app): State<AppState>,
    a: StoreAccess,
    Query(q): Query<RangeQuery>,
) -> PageResult<CsvFile> {
    let r = range_of(&a.page, &q);
    let export = match TABS[N].0 {
        "products" => CsvExport::Products(r),
        "categories" => CsvExport::Categories(r),
        "cashiers" => CsvExport::Cashiers(r),
        "payments" => CsvExport::PaymentMethods(r),
        "refunds" => CsvExport::RefundsVoids(r),
        "shifts" => CsvExport::Shifts(r),
        _ => CsvExport::ZReport(BusinessDay {
            date: q.date.unwrap_or_else(|| a.page.today().to_string()),
        }),
    };
    download(&app, &a.principal, &a.store.id, &export).await
}

/// A CSV download of the dashboard: the API's export for the signed-in user.
pub async fn download(
    app: &AppState,
    who: &Principal,
    store_id: &str,
    export: &CsvExport,
) -> PageResult<CsvFile> {
    Ok(app.services.export_csv(who, store_id, export).await?)
}
