//! The catalog page's CSV import and export. The import is one request: the page's script
//! sends the file as the body (with the CSRF token) and reads the answer as it streams, one
//! JSON object per line: `{"total": rows}` first, then `{"progress": {...}}` as rows are
//! checked and written, then `{"done": "<html>"}` (the report, rendered and escaped here in the
//! reader's language) or `{"failed": "<message>"}`. Nothing is kept between requests, so any
//! server instance can answer, and the import runs to its end even if the reader leaves.

use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use shared_model::catalog_csv::{ImportProgress, ImportReport};

use super::i18n::Lang;
use super::page::{PageResult, StoreAccess};
use crate::catalog;
use crate::catalog_api::MAX_IMPORT_BYTES;
use crate::error::Error;
use crate::state::AppState;

/// The routes of the import and export.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stores/{store_id}/catalog/export.csv", get(export))
        .route(
            "/stores/{store_id}/catalog/import",
            post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
}

/// `GET /stores/{store_id}/catalog/export.csv`: the same file as the API's export.
async fn export(State(app): State<AppState>, access: StoreAccess) -> PageResult<Response> {
    let body = catalog::export_csv(&app, &access.principal, &access.store.id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"catalog.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// One bad row as the report shows it.
#[derive(Debug)]
struct Row {
    line: u64,
    sku: String,
    column: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "dashboard/catalog_import_report.html")]
struct ReportHtml {
    summary: String,
    categories_created: u64,
    categories_line: String,
    t_bad_rows: &'static str,
    t_line: &'static str,
    t_sku: &'static str,
    t_column: &'static str,
    t_reason: &'static str,
    rows: Vec<Row>,
}

fn report_html(lang: Lang, r: &ImportReport) -> String {
    let n = |v: u64| v.to_string();
    let html = ReportHtml {
        summary: lang.tf(
            "catalog.import_done",
            &[
                ("created", &n(r.created)),
                ("updated", &n(r.updated)),
                ("rejected", &n(r.rejected.len() as u64)),
            ],
        ),
        categories_created: r.categories_created,
        categories_line: lang.tf(
            "catalog.import_categories",
            &[("n", &n(r.categories_created))],
        ),
        t_bad_rows: lang.t("catalog.bad_rows"),
        t_line: lang.t("catalog.line"),
        t_sku: lang.t("catalog.sku"),
        t_column: lang.t("catalog.column"),
        t_reason: lang.t("catalog.reason"),
        rows: r
            .rejected
            .iter()
            .map(|e| Row {
                line: e.line,
                sku: e.sku.clone().unwrap_or_default(),
                column: e.column.clone().unwrap_or_default(),
                reason: if lang.code() == "id" {
                    e.reason_id.clone()
                } else {
                    e.reason.clone()
                },
            })
            .collect(),
    };
    html.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "import report template failed");
        String::new()
    })
}

fn line(v: serde_json::Value) -> Bytes {
    let mut s = v.to_string();
    s.push('\n');
    Bytes::from(s)
}

/// `POST /stores/{store_id}/catalog/import` (CSRF-checked by the dashboard layer): the CSV
/// as the body, answered as a stream of progress lines.
async fn import(
    State(app): State<AppState>,
    access: StoreAccess,
    body: Bytes,
) -> PageResult<Response> {
    let lang = access.page.lang;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    // Data lines after the header (a quoted cell may hold a line break: the count is what the
    // progress bar aims at, the report has the real lines).
    let total = body
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        .saturating_sub(1);
    let _ = tx.send(line(serde_json::json!({ "total": total })));
    let progress_tx = tx.clone();
    let progress = move |p: ImportProgress| {
        let _ = progress_tx.send(line(serde_json::json!({ "progress": p })));
    };
    let who = access.principal.clone();
    let store_id = access.store.id.clone();
    tokio::spawn(async move {
        let result = catalog::import_csv(&app, &who, &store_id, body.to_vec(), progress).await;
        let last = match result {
            Ok(report) => serde_json::json!({ "done": report_html(lang, &report) }),
            Err(Error::Invalid { en, id, .. }) => {
                let reason = if lang.code() == "id" { id } else { en };
                serde_json::json!({ "failed": lang.tf("catalog.import_file_error", &[("reason", &reason)]) })
            }
            Err(e) => {
                let key = match e {
                    Error::NoTerminalYet => "errors.no_terminal_yet",
                    _ => "catalog.import_failed",
                };
                tracing::warn!(error = %e, "catalog import failed");
                serde_json::json!({ "failed": lang.t(key) })
            }
        };
        let _ = tx.send(line(last));
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8")],
        Body::from_stream(stream),
    )
        .into_response())
}
