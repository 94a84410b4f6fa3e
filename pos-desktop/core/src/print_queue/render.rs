//! What a job prints: the frozen document, and rendering a sale or refund receipt from the
//! records when a job has none yet.

use receipt_printer::{
    LayoutOptions, PrinterProfile, Receipt, ZReport, encode_receipt, encode_z_report,
};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use shared_model::documents::{SettingsDoc, UsersDoc};
use shared_model::refund::Refund;
use shared_model::sale::Sale;

use crate::docs::{self, Docs};
use crate::error::{CoreError, CoreResult};
use crate::receipt::{self, ReceiptContext};

use super::*;

/// What a job prints, frozen in its row as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum PrintDocument {
    Receipt(Receipt),
    ZReport(ZReport),
}

impl PrintDocument {
    /// The number printed on it (receipt or report number).
    pub fn number(&self) -> &str {
        match self {
            PrintDocument::Receipt(r) => &r.number,
            PrintDocument::ZReport(z) => &z.number,
        }
    }

    pub(super) fn as_copy(&self) -> PrintDocument {
        let mut doc = self.clone();
        match &mut doc {
            PrintDocument::Receipt(r) => r.is_copy = true,
            PrintDocument::ZReport(z) => z.is_copy = true,
        }
        doc
    }

    /// ESC/POS bytes for `profile`.
    pub fn encode(&self, profile: &PrinterProfile, open_drawer: bool) -> CoreResult<Vec<u8>> {
        let options = LayoutOptions {
            open_drawer,
            ..LayoutOptions::default()
        };
        Ok(match self {
            PrintDocument::Receipt(r) => encode_receipt(r, profile, &options)?,
            PrintDocument::ZReport(z) => encode_z_report(z, profile, &options)?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Jobs as the worker sees them.

#[derive(Debug, Clone)]
pub(super) struct Job {
    pub(super) job_id: i64,
    pub(super) record_id: String,
    pub(super) kind: String,
    pub(super) status: String,
    pub(super) copy: bool,
    pub(super) printer_id: Option<i64>,
    pub(super) document: Option<String>,
    pub(super) open_drawer: bool,
    pub(super) attempts: u32,
    pub(super) next_attempt_ms: i64,
    pub(super) last_error: Option<String>,
}

pub(super) const WORKER_JOB_COLUMNS: &str =
    "job_id, record_id, kind, status, copy, printer_id, document,
    open_drawer, attempts, next_attempt_ms, last_error";

pub(super) fn worker_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        job_id: r.get(0)?,
        record_id: r.get(1)?,
        kind: r.get(2)?,
        status: r.get(3)?,
        copy: r.get(4)?,
        printer_id: r.get(5)?,
        document: r.get(6)?,
        open_drawer: r.get(7)?,
        attempts: r.get(8)?,
        next_attempt_ms: r.get(9)?,
        last_error: r.get(10)?,
    })
}

pub(super) fn load_job(conn: &Connection, job_id: i64) -> CoreResult<Job> {
    conn.prepare_cached(&format!(
        "SELECT {WORKER_JOB_COLUMNS} FROM print_jobs WHERE job_id = ?1"
    ))?
    .query_row([job_id], worker_job)
    .optional()?
    .ok_or_else(|| CoreError::NotFound {
        what: "print job",
        id: job_id.to_string(),
    })
}

/// Renders a sale or refund job from the records, the store's settings and users documents
/// and the terminal's identity. Returns the document and whether it opens the drawer (an
/// original receipt that moved cash).
pub(super) fn render_record(
    conn: &Connection,
    job: &Job,
    config: &QueueConfig,
) -> CoreResult<(PrintDocument, bool)> {
    let (terminal_code, settings_doc, users_doc): (String, String, String) = conn
        .query_row(
            "SELECT terminal_code, settings_doc, users_doc FROM terminal_identity",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or(CoreError::NotInitialized)?;
    let mut docs = Docs::new();
    let settings = docs::read::<SettingsDoc>(docs.get(conn, &settings_doc)?)?.settings;
    let users = docs::read::<UsersDoc>(docs.get(conn, &users_doc)?)?.users;
    let name_of = |id: shared_model::ids::UserId| -> String {
        users
            .get(&id.to_string())
            .map(|u| u.name.clone())
            .unwrap_or_else(|| id.to_string().chars().take(8).collect())
    };
    let record = |sql: &str| -> CoreResult<String> {
        conn.query_row(sql, [&job.record_id], |r| r.get::<_, String>(0))
            .optional()?
            .ok_or_else(|| CoreError::NotFound {
                what: "sale or refund to print",
                id: job.record_id.clone(),
            })
    };
    // The configured link base, else the public receipt page of the server this till is
    // enrolled with (a demo till, never enrolled, prints no link).
    let enrolled_base = receipt::enrolled_receipt_base(conn)?;
    let base = config
        .digital_receipt_base_url
        .as_deref()
        .or(enrolled_base.as_deref());
    // Every field but the cashier, who is named by the record.
    let context = ReceiptContext {
        settings: &settings,
        cashier: "",
        terminal_code: &terminal_code,
        digital_receipt_base_url: base,
        is_copy: job.copy,
    };
    match job.kind.as_str() {
        "receipt" => {
            let sale: Sale =
                serde_json::from_str(&record("SELECT data FROM sales WHERE sale_id = ?1")?)?;
            let cashier = name_of(sale.cashier_id);
            let ctx = ReceiptContext {
                cashier: &cashier,
                ..context
            };
            let drawer = !job.copy && receipt::moves_cash(&sale.settlement);
            Ok((
                PrintDocument::Receipt(receipt::sale_receipt(&sale, &ctx)?),
                drawer,
            ))
        }
        "refund" => {
            let refund: Refund =
                serde_json::from_str(&record("SELECT data FROM refunds WHERE refund_id = ?1")?)?;
            let sale: Option<Sale> = conn
                .query_row(
                    "SELECT data FROM sales WHERE sale_id = ?1",
                    [refund.sale_id.to_string()],
                    |r| r.get::<_, String>(0),
                )
                .optional()?
                .map(|d| serde_json::from_str(&d))
                .transpose()?;
            let cashier = name_of(refund.cashier_id);
            let ctx = ReceiptContext {
                cashier: &cashier,
                ..context
            };
            let drawer = !job.copy && receipt::moves_cash(&refund.payout);
            Ok((
                PrintDocument::Receipt(receipt::refund_receipt(&refund, sale.as_ref(), &ctx)?),
                drawer,
            ))
        }
        other => Err(CoreError::Invalid(format!(
            "print job {} of kind {other:?} has nothing to print",
            job.job_id
        ))),
    }
}
