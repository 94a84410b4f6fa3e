//! The printers of a terminal: adding, changing and listing them, and their errors in words.

use receipt_printer::driver::Target;
use receipt_printer::{LayoutOptions, PrinterError, PrinterProfile};
use rusqlite::{Connection, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use shared_model::codec::Timestamp;
use tracing::info;

use crate::error::{CoreError, CoreResult};

use super::*;

/// A printer of this terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Printer {
    pub id: i64,
    pub name: String,
    /// `tcp://HOST:PORT`, `usb:VID:PID`, `serial:PATH@BAUD` or `file:PATH`.
    pub target: String,
    pub profile: PrinterProfile,
    pub enabled: bool,
    /// Takes the jobs that name no printer (receipts from checkout).
    pub is_default: bool,
    /// What the printer last said about itself, in words ("online, paper OK", "offline: paper
    /// out", "cannot be reached …").
    pub last_status: Option<String>,
}

/// A printer to add.
#[derive(Debug, Clone)]
pub struct NewPrinter {
    pub name: String,
    pub target: String,
    pub profile: PrinterProfile,
    /// The first printer added becomes the default whatever this says.
    pub is_default: bool,
}

/// Changes to a printer; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PrinterChange {
    pub name: Option<String>,
    pub target: Option<String>,
    pub profile: Option<PrinterProfile>,
    pub enabled: Option<bool>,
    /// `Some(true)` makes it the default (the others stop being default).
    pub is_default: Option<bool>,
}

/// An error in words for the cashier.
pub fn describe_printer_error(e: &PrinterError) -> String {
    match e {
        PrinterError::Connect { target, source } => {
            format!("printer at {target} cannot be reached ({source})")
        }
        PrinterError::Write {
            written: 0, source, ..
        } => format!("the printer did not take the job ({source})"),
        PrinterError::Write {
            written,
            total,
            source,
        } => format!(
            "the job was cut off after {written} of {total} bytes ({source}); it prints again in full"
        ),
        PrinterError::ReadTimeout(_) => "the printer did not answer".into(),
        PrinterError::NotReady(status) => format!("printer not ready: {status}"),
        other => other.to_string(),
    }
}

pub(super) fn load_printers(conn: &Connection, id: Option<i64>) -> CoreResult<Vec<Printer>> {
    let mut stmt = conn.prepare_cached(
        "SELECT printer_id, name, target, profile, enabled, is_default, last_status
         FROM printers WHERE (?1 IS NULL OR printer_id = ?1) ORDER BY printer_id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, bool>(4)?,
            r.get::<_, bool>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, target, profile, enabled, is_default, last_status) = row?;
        out.push(Printer {
            id,
            name,
            target,
            profile: serde_json::from_str(&profile)?,
            enabled,
            is_default,
            last_status,
        });
    }
    Ok(out)
}

pub(super) fn check_printer(name: &str, target: &str, profile: &PrinterProfile) -> CoreResult<()> {
    if name.trim().is_empty() {
        return Err(CoreError::Invalid("a printer needs a name".into()));
    }
    target.parse::<Target>()?;
    // A profile that cannot lay out a receipt is refused now, not at the first sale.
    receipt_printer::encode_receipt(
        &receipt_printer::sample::sample_receipt(),
        profile,
        &LayoutOptions::default(),
    )?;
    Ok(())
}

impl PrintQueue {
    /// Adds a printer and starts its worker.
    pub fn add_printer(&mut self, new: NewPrinter) -> CoreResult<Printer> {
        check_printer(&new.name, &new.target, &new.profile)?;
        let now = Timestamp::now().to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let has_default: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM printers WHERE is_default = 1)",
            [],
            |r| r.get(0),
        )?;
        let is_default = new.is_default || !has_default;
        if is_default {
            tx.execute("UPDATE printers SET is_default = 0", [])?;
        }
        let id: i64 = tx
            .query_row(
                "INSERT INTO printers (name, target, profile, enabled, is_default, created_at,
                    updated_at)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5) RETURNING printer_id",
                params![
                    new.name.trim(),
                    new.target.trim(),
                    serde_json::to_string(&new.profile)?,
                    is_default,
                    now
                ],
                |r| r.get(0),
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    CoreError::Duplicate {
                        field: "printer name",
                        value: new.name.trim().to_string(),
                        other: "another printer".into(),
                    }
                }
                other => CoreError::Db(other),
            })?;
        tx.commit()?;
        info!(printer = %new.name, target = %new.target, "printer added");
        self.sync_workers()?;
        self.printer(id)
    }

    /// Changes a printer; its worker picks the change up at its next job.
    pub fn update_printer(&mut self, id: i64, change: PrinterChange) -> CoreResult<Printer> {
        let current = self.printer(id)?;
        let name = change.name.unwrap_or(current.name);
        let target = change.target.unwrap_or(current.target);
        let profile = change.profile.unwrap_or(current.profile);
        check_printer(&name, &target, &profile)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if change.is_default == Some(true) {
            tx.execute("UPDATE printers SET is_default = 0", [])?;
        }
        tx.execute(
            "UPDATE printers SET name = ?2, target = ?3, profile = ?4, enabled = ?5,
                is_default = ?6, updated_at = ?7 WHERE printer_id = ?1",
            params![
                id,
                name.trim(),
                target.trim(),
                serde_json::to_string(&profile)?,
                change.enabled.unwrap_or(current.enabled),
                change.is_default.unwrap_or(current.is_default),
                Timestamp::now().to_string()
            ],
        )?;
        tx.commit()?;
        self.sync_workers()?;
        self.signal.notify();
        self.printer(id)
    }

    pub fn printer(&self, id: i64) -> CoreResult<Printer> {
        load_printers(&self.conn, Some(id))?
            .pop()
            .ok_or_else(|| CoreError::NotFound {
                what: "printer",
                id: id.to_string(),
            })
    }

    pub fn printers(&self) -> CoreResult<Vec<Printer>> {
        load_printers(&self.conn, None)
    }

    pub(super) fn printer_for(&self, id: Option<i64>) -> CoreResult<Printer> {
        match id {
            Some(id) => self.printer(id),
            None => self
                .printers()?
                .into_iter()
                .find(|p| p.is_default)
                .ok_or_else(|| CoreError::NotFound {
                    what: "default printer",
                    id: String::new(),
                }),
        }
    }
}
