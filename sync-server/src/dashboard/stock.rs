//! The stock pages of a store: stock on hand (searchable), products low on stock, the
//! movements of one product with the stock after each, and oversells merging revealed; each
//! with the API's CSV ([`crate::report_csv`]).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::page::{Page, PageResult, StoreAccess, render};
use super::reports::{Cell, Tab, Table, download, tabs};
use crate::report_csv::{CsvExport, CsvFile};
use crate::state::AppState;
use crate::stock_reports::MovementsQuery;

/// The tabs of the stock area: (slug, label key).
const TABS: [(&str, &str); 3] = [
    ("on-hand", "stock.tab_on_hand"),
    ("low", "stock.tab_low"),
    ("oversells", "stock.tab_oversells"),
];

/// The routes of this page area.
pub fn routes() -> Router<AppState> {
    let r = |p: &str| format!("/stores/{{store_id}}/stock{p}");
    Router::new()
        .route(&r(""), get(on_hand))
        .route(&r("/on-hand"), get(on_hand))
        .route(&r("/low"), get(low))
        .route(&r("/oversells"), get(oversells))
        .route(&r("/movements"), get(movements))
        .route(&r("/on-hand.csv"), get(on_hand_csv))
        .route(&r("/low.csv"), get(low_csv))
        .route(&r("/oversells.csv"), get(oversells_csv))
        .route(&r("/movements.csv"), get(movements_csv))
}

#[derive(Debug, Deserialize)]
struct StockQuery {
    search: Option<String>,
    product_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/stock.html")]
struct StockPage {
    page: Page,
    tabs: Vec<Tab>,
    /// Set on the on-hand tab: the search box's value.
    search: Option<String>,
    /// Set on a product's movements: its name and stock now.
    product: Option<(String, String)>,
    /// The movements' range form (product id, from, to).
    range: Option<(String, String, String)>,
    csv_url: String,
    intro: Option<&'static str>,
    tables: Vec<Table>,
    error: Option<&'static str>,
}

impl StockPage {
    fn new(page: Page, current: &str, csv_url: String, tables: Vec<Table>) -> StockPage {
        StockPage {
            tabs: tabs(&page, "stock", &TABS, current, ""),
            page,
            search: None,
            product: None,
            range: None,
            csv_url,
            intro: None,
            tables,
            error: None,
        }
    }
}

fn ok(p: StockPage) -> PageResult<Response> {
    let status = if p.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, render(&p)?).into_response())
}

fn movements_href(page: &Page, product_id: &str) -> String {
    page.store_url(&format!("stock/movements?product_id={product_id}"))
}

/// A quantity cell; below zero is marked (with a minus sign, never colour alone).
fn qty_cell(page: &Page, q: &str) -> Cell {
    let c = Cell::num(page.qty(q));
    if q.starts_with('-') {
        c.classed("down")
    } else {
        c
    }
}

async fn on_hand(
    State(app): State<AppState>,
    a: StoreAccess,
    Query(q): Query<StockQuery>,
) -> PageResult<Response> {
    let mut page = a.page.titled("stock.title");
    let search = q.search.unwrap_or_default();
    let rows = app
        .services
        .stock_list(&a.principal, &a.store.id, Some(&search))
        .await?;
    page.path = page.store_url("stock");
    let table = Table {
        id: "stock-on-hand",
        caption: page.t("stock.tab_on_hand").into(),
        headers: vec![
            (page.t("stock.sku"), false),
            (page.t("stock.product"), false),
            (page.t("stock.on_hand"), true),
        ],
        rows: rows
            .iter()
            .map(|p| {
                let name = if p.name.is_empty() {
                    page.t("stock.unknown_product").to_string()
                } else {
                    p.name.clone()
                };
                vec![
                    Cell::text(&p.sku),
                    Cell::text(name).link(movements_href(&page, &p.product_id)),
                    qty_cell(&page, &p.on_hand),
                ]
            })
            .collect(),
        empty: if search.trim().is_empty() {
            page.t("stock.no_products")
        } else {
            page.t("stock.no_match")
        },
    };
    let csv = page.store_url("stock/on-hand.csv");
    let mut p = StockPage::new(page, "on-hand", csv, vec![table]);
    p.search = Some(search);
    p.intro = Some("stock.on_hand_intro");
    ok(p)
}

async fn low(State(app): State<AppState>, a: StoreAccess) -> PageResult<Response> {
    let mut page = a.page.titled("stock.title");
    let rows = app.services.low_stock(&a.principal, &a.store.id).await?;
    page.path = page.store_url("stock/low");
    let table = Table {
        id: "stock-low",
        caption: page.t("stock.tab_low").into(),
        headers: vec![
            (page.t("stock.sku"), false),
            (page.t("stock.product"), false),
            (page.t("stock.on_hand"), true),
            (page.t("stock.threshold"), true),
        ],
        rows: rows
            .iter()
            .map(|p| {
                vec![
                    Cell::text(&p.sku),
                    Cell::text(&p.name).link(movements_href(&page, &p.product_id)),
                    qty_cell(&page, &p.on_hand),
                    Cell::num(page.qty(&p.threshold)),
                ]
            })
            .collect(),
        empty: page.t("stock.no_low"),
    };
    let csv = page.store_url("stock/low.csv");
    let mut p = StockPage::new(page, "low", csv, vec![table]);
    p.intro = Some("stock.low_intro");
    ok(p)
}

async fn oversells(State(app): State<AppState>, a: StoreAccess) -> PageResult<Response> {
    let mut page = a.page.titled("stock.title");
    let rows = app.services.oversells(&a.principal, &a.store.id).await?;
    page.path = page.store_url("stock/oversells");
    let table = Table {
        id: "stock-oversells",
        caption: page.t("stock.tab_oversells").into(),
        headers: vec![
            (page.t("stock.product"), false),
            (page.t("stock.what_happened"), false),
            (page.t("stock.what_to_do"), false),
            (page.t("stock.on_hand"), true),
        ],
        rows: rows
            .iter()
            .map(|o| {
                let name = if o.name.is_empty() {
                    o.product_id.clone()
                } else {
                    format!("{} ({})", o.name, o.sku)
                };
                let short = o.lowest.trim_start_matches('-');
                let happened = page.tf(
                    "stock.oversell_happened",
                    &[
                        ("tills", &o.terminals.join(", ")),
                        ("qty", &page.qty(short)),
                        ("when", &page.date_time(&o.first_below_zero_at)),
                        ("receipts", &o.receipts.join(", ")),
                    ],
                );
                vec![
                    Cell::text(name).link(movements_href(&page, &o.product_id)),
                    Cell::text(happened).classed("prose"),
                    Cell::text(page.t("stock.oversell_todo")).classed("prose"),
                    qty_cell(&page, &o.on_hand),
                ]
            })
            .collect(),
        empty: page.t("stock.no_oversells"),
    };
    let csv = page.store_url("stock/oversells.csv");
    let mut p = StockPage::new(page, "oversells", csv, vec![table]);
    p.intro = Some("stock.oversells_intro");
    ok(p)
}

/// The movements query of the page: both dates or neither (empty fields are none).
fn movements_query(q: &StockQuery) -> MovementsQuery {
    let f = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    MovementsQuery {
        product_id: q.product_id.clone().unwrap_or_default(),
        from: f(&q.from),
        to: f(&q.to),
    }
}

async fn movements(
    State(app): State<AppState>,
    a: StoreAccess,
    Query(q): Query<StockQuery>,
) -> PageResult<Response> {
    let mut page = a.page.titled("stock.movements_title");
    let mut mq = movements_query(&q);
    let mut error = None;
    let m = match app
        .services
        .stock_movements(&a.principal, &a.store.id, &mq)
        .await
    {
        Ok(m) => m,
        Err(crate::Error::BadRequest(_)) if !mq.product_id.is_empty() => {
            error = Some("stock.error_range");
            mq.from = None;
            mq.to = None;
            app.services
                .stock_movements(&a.principal, &a.store.id, &mq)
                .await?
        }
        Err(e) => return Err(e.into()),
    };
    let mut query = format!("?product_id={}", m.product_id);
    if let (Some(f), Some(t)) = (&mq.from, &mq.to) {
        query.push_str(&format!("&from={f}&to={t}"));
    }
    page.path = page.store_url(&format!("stock/movements{query}"));
    let dash = || "–".to_string();
    let table = Table {
        id: "stock-movements",
        caption: page.t("stock.movements").into(),
        headers: vec![
            (page.t("stock.when"), false),
            (page.t("stock.kind"), false),
            (page.t("stock.reference"), false),
            (page.t("stock.till"), false),
            (page.t("stock.change"), true),
            (page.t("stock.after"), true),
        ],
        rows: m
            .movements
            .iter()
            .rev()
            .map(|x| {
                vec![
                    Cell::text(page.date_time(&x.at)),
                    Cell::text(
                        kind_key(&x.kind).map_or_else(|| x.kind.clone(), |k| page.t(k).to_string()),
                    ),
                    Cell::text(x.reference.clone().unwrap_or_else(dash)),
                    Cell::text(
                        x.terminal_code
                            .clone()
                            .unwrap_or_else(|| page.t("stock.office").to_string()),
                    ),
                    qty_cell(&page, &x.quantity),
                    qty_cell(&page, &x.balance),
                ]
            })
            .collect(),
        empty: page.t("stock.no_movements"),
    };
    let name = if m.name.is_empty() {
        m.product_id.clone()
    } else {
        format!("{} ({})", m.name, m.sku)
    };
    let csv = page.store_url(&format!("stock/movements.csv{query}"));
    let mut p = StockPage::new(page, "", csv, vec![table]);
    p.product = Some((name, m.on_hand.clone()));
    p.range = Some((
        m.product_id.clone(),
        mq.from.unwrap_or_default(),
        mq.to.unwrap_or_default(),
    ));
    p.error = error;
    ok(p)
}

/// The catalogue key of a movement kind.
fn kind_key(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "sale" => "stock.kind_sale",
        "refund" => "stock.kind_refund",
        "adjustment" => "stock.kind_adjustment",
        "receipt" => "stock.kind_receipt",
        "transfer_in" => "stock.kind_transfer_in",
        "transfer_out" => "stock.kind_transfer_out",
        "count" => "stock.kind_count",
        _ => return None,
    })
}

async fn on_hand_csv(State(app): State<AppState>, a: StoreAccess) -> PageResult<CsvFile> {
    download(&app, &a.principal, &a.store.id, &CsvExport::StockOnHand).await
}

async fn low_csv(State(app): State<AppState>, a: StoreAccess) -> PageResult<CsvFile> {
    download(&app, &a.principal, &a.store.id, &CsvExport::LowStock).await
}

async fn oversells_csv(State(app): State<AppState>, a: StoreAccess) -> PageResult<CsvFile> {
    download(&app, &a.principal, &a.store.id, &CsvExport::Oversells).await
}

async fn movements_csv(
    State(app): State<AppState>,
    a: StoreAccess,
    Query(q): Query<StockQuery>,
) -> PageResult<CsvFile> {
    let export = CsvExport::Movements(movements_query(&q));
    download(&app, &a.principal, &a.store.id, &export).await
}
