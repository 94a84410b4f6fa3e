//! The conflicts page of a store: what merging the tills' documents revealed (a sale refunded
//! more than it sold, a parked cart resumed on two tills, two products sharing a barcode or a
//! SKU), each with what happened and what to do, in words
//! ([`crate::conflict_report`]).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use super::page::{Page, PageResult, StoreAccess, render};
use crate::conflict_report::ConflictDetail;
use crate::state::AppState;

/// The routes of this page area.
pub fn routes() -> Router<AppState> {
    Router::new().route("/stores/{store_id}/conflicts", get(conflicts))
}

/// One conflict as the page tells it.
#[derive(Debug)]
struct Told {
    kind: String,
    title: &'static str,
    happened: String,
    todo: String,
}

#[derive(Template)]
#[template(path = "dashboard/conflicts.html")]
struct ConflictsPage {
    page: Page,
    items: Vec<Told>,
}

fn products(page: &Page, c: &ConflictDetail) -> String {
    c.products
        .iter()
        .map(|p| {
            if p.name.is_empty() {
                page.t("conflicts.unknown_product").to_string()
            } else {
                format!("{} ({})", p.name, p.sku)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn tell(page: &Page, c: &ConflictDetail) -> Told {
    let dash = "–".to_string();
    let (title, happened, todo) = match c.kind.as_str() {
        "over_refund" => {
            let product = c
                .product
                .as_ref()
                .map(|p| p.name.clone())
                .unwrap_or_default();
            let refunds = c
                .refunds
                .iter()
                .map(|r| {
                    page.tf(
                        "conflicts.refund_item",
                        &[
                            ("receipt", r.receipt_no.as_deref().unwrap_or("–")),
                            ("till", &r.terminal_code),
                            ("qty", &page.qty(&r.quantity)),
                            ("when", &page.date_time(&r.at)),
                        ],
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            let happened = page.tf(
                "conflicts.over_refund_happened",
                &[
                    ("receipt", c.sale_receipt_no.as_deref().unwrap_or("–")),
                    ("product", &product),
                    ("sold", &page.qty(c.sold.as_deref().unwrap_or("0"))),
                    ("refunded", &page.qty(c.refunded.as_deref().unwrap_or("0"))),
                    ("refunds", &refunds),
                ],
            );
            let todo = page.tf(
                "conflicts.over_refund_todo",
                &[
                    ("tills", &c.terminals.join(", ")),
                    (
                        "amount",
                        &page.money(c.excess_amount.as_deref().unwrap_or("0")),
                    ),
                    (
                        "qty",
                        &page.qty(c.excess_quantity.as_deref().unwrap_or("0")),
                    ),
                ],
            );
            ("conflicts.over_refund", happened, todo)
        }
        "double_resumed_cart" => (
            "conflicts.double_cart",
            page.tf(
                "conflicts.double_cart_happened",
                &[("tills", &c.terminals.join(", "))],
            ),
            page.tf(
                "conflicts.double_cart_todo",
                &[("tills", &c.terminals.join(", "))],
            ),
        ),
        "duplicate_barcode" => (
            "conflicts.duplicate_barcode",
            page.tf(
                "conflicts.duplicate_barcode_happened",
                &[
                    ("code", c.code.as_ref().unwrap_or(&dash)),
                    ("products", &products(page, c)),
                ],
            ),
            page.t("conflicts.duplicate_barcode_todo").to_string(),
        ),
        "duplicate_sku" => (
            "conflicts.duplicate_sku",
            page.tf(
                "conflicts.duplicate_sku_happened",
                &[
                    ("code", c.code.as_ref().unwrap_or(&dash)),
                    ("products", &products(page, c)),
                ],
            ),
            page.t("conflicts.duplicate_sku_todo").to_string(),
        ),
        _ => (
            "conflicts.other",
            c.key.clone(),
            page.t("conflicts.other_todo").to_string(),
        ),
    };
    Told {
        kind: c.kind.clone(),
        title: page.t(title),
        happened,
        todo,
    }
}

async fn conflicts(State(app): State<AppState>, a: StoreAccess) -> PageResult<Html<String>> {
    let mut page = a.page.titled("conflicts.title");
    let list = app
        .services
        .conflict_details(&a.principal, &a.store.id)
        .await?;
    page.path = page.store_url("conflicts");
    let items = list.iter().map(|c| tell(&page, c)).collect();
    render(&ConflictsPage { page, items })
}
