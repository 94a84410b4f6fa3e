//! Stock on hand (latest baseline + movements not in it), the low-stock list, and stock
//! adjustments (receipts of goods, transfers, corrections, counts) in the period's adjustment
//! document.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared_model::codec::Timestamp;
use shared_model::documents::{DocumentKind, StockAdjustmentsDoc};
use shared_model::ids::{MovementId, ProductId, UserId};
use shared_model::money::Quantity;
use shared_model::stock::{MovementKind, StockCount, StockMovement};
use tracing::instrument;

use crate::docs::{self, Docs, put_entry, register_doc};
use crate::error::{CoreError, CoreResult};
use crate::projection;
use crate::terminal::Terminal;

/// A product at or below its low-stock threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LowStock {
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub on_hand: Quantity,
    pub threshold: Quantity,
}

fn parse_q(s: &str) -> CoreResult<Decimal> {
    Decimal::from_str_exact(s).map_err(|e| CoreError::Corrupt(format!("quantity {s:?}: {e}")))
}

/// On hand per product: baseline plus every movement not included in it.
pub(crate) fn on_hand_all(conn: &Connection) -> CoreResult<HashMap<String, Decimal>> {
    let mut out: HashMap<String, Decimal> = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT product_id, quantity FROM stock_baseline")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (p, q) = row?;
        *out.entry(p).or_default() += parse_q(&q)?;
    }
    let mut stmt = conn
        .prepare_cached("SELECT product_id, quantity FROM stock_movements WHERE in_baseline = 0")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (p, q) = row?;
        *out.entry(p).or_default() += parse_q(&q)?;
    }
    Ok(out)
}

fn on_hand_one(conn: &Connection, product: ProductId) -> CoreResult<Quantity> {
    let key = product.to_string();
    let mut total = Decimal::ZERO;
    let base: Option<String> = conn
        .prepare_cached("SELECT quantity FROM stock_baseline WHERE product_id = ?1")?
        .query_row([&key], |r| r.get(0))
        .optional()?;
    if let Some(b) = base {
        total += parse_q(&b)?;
    }
    let mut stmt = conn.prepare_cached(
        "SELECT quantity FROM stock_movements WHERE product_id = ?1 AND in_baseline = 0",
    )?;
    for q in stmt.query_map([&key], |r| r.get::<_, String>(0))? {
        total = total
            .checked_add(parse_q(&q?)?)
            .ok_or(shared_model::ModelError::Overflow)?;
    }
    Ok(Quantity(total))
}

/// This terminal's adjustment document for a period, created on first use.
fn own_adjustments(
    conn: &Connection,
    d: &mut Docs,
    store_id: &str,
    period: &str,
) -> CoreResult<String> {
    let id: Option<String> = conn
        .query_row(
            "SELECT doc_id FROM documents WHERE kind = 'stock-adjustments' AND scope = ?1
             AND own = 1",
            [period],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = id {
        return Ok(id);
    }
    let id = docs::new_document_id();
    register_doc(conn, &id, DocumentKind::StockAdjustments, period)?;
    conn.execute("UPDATE documents SET own = 1 WHERE doc_id = ?1", [&id])?;
    d.create(&id, &StockAdjustmentsDoc::new(store_id, period))?;
    Ok(id)
}

impl Terminal {
    /// Stock on hand of a product: the latest baseline plus every movement (this terminal's at
    /// once, peers' as their documents arrive) not yet included in it.
    pub fn stock_on_hand(&self, product: ProductId) -> CoreResult<Quantity> {
        on_hand_one(&self.conn, product)
    }

    /// Every active product whose stock on hand is at or below its low-stock threshold (the same
    /// rule as the server's low-stock report).
    pub fn low_stock(&self) -> CoreResult<Vec<LowStock>> {
        let on_hand = on_hand_all(&self.conn)?;
        let mut stmt = self.conn.prepare(
            "SELECT product_id, sku, name, low_stock_threshold FROM products
             WHERE active AND low_stock_threshold IS NOT NULL ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sku, name, t) = row?;
            let threshold = parse_q(&t)?;
            let q = on_hand.get(&id).copied().unwrap_or_default();
            if q <= threshold {
                out.push(LowStock {
                    product_id: id.parse()?,
                    sku,
                    name,
                    on_hand: Quantity(q),
                    threshold: Quantity(threshold),
                });
            }
        }
        Ok(out)
    }

    /// Records a receipt of goods, a transfer or a correction as a movement in this terminal's
    /// adjustment document of the current period (and the query tables, in one transaction).
    #[instrument(skip_all, fields(product = %product, kind = ?kind))]
    pub fn adjust_stock(
        &mut self,
        product: ProductId,
        kind: MovementKind,
        quantity: Quantity,
        reference: Option<String>,
        by: UserId,
    ) -> CoreResult<StockMovement> {
        self.require_product_for_stock(product)?;
        self.active_user(by)?;
        let now = Timestamp::now();
        let m = StockMovement::manual(product, kind, quantity, reference, by, now)?;
        let store_id = self.identity()?.store_id.clone();
        let period = self.business_date_at(now)?.0.format("%Y-%m").to_string();
        self.write(|tx, d| {
            let doc_id = own_adjustments(tx, d, &store_id, &period)?;
            let key = m.id.to_string();
            put_entry(d.get_mut(tx, &doc_id)?, "movements", &key, &m)?;
            projection::insert_movement(tx, &m, &doc_id, "movements", &key)
        })?;
        Ok(m)
    }

    /// Records a stock count: the counted quantity, what this terminal believed was on hand
    /// and the heads of the journals and adjustment documents that belief came from. Its delta
    /// (counted − seen) becomes a movement.
    #[instrument(skip_all, fields(product = %product))]
    pub fn count_stock(
        &mut self,
        product: ProductId,
        counted: Quantity,
        by: UserId,
    ) -> CoreResult<StockCount> {
        let p = self.require_product_for_stock(product)?;
        self.active_user(by)?;
        if counted.0.is_sign_negative() && !counted.0.is_zero() {
            return Err(shared_model::ModelError::Negative {
                field: "counted quantity",
                value: counted.0,
            }
            .into());
        }
        if counted.0.normalize().scale() > p.unit.max_decimals() {
            return Err(CoreError::Invalid(format!(
                "{counted} has too many decimals for {}",
                p.unit.symbol()
            )));
        }
        self.drain_outbox()?;
        let seen_on_hand = self.stock_on_hand(product)?;
        let seen_heads = self.stock_heads()?;
        let now = Timestamp::now();
        let count = StockCount {
            id: MovementId::new(),
            product_id: product,
            counted,
            seen_on_hand,
            seen_heads,
            at: now,
            by,
        };
        let movement = count.movement()?;
        let store_id = self.identity()?.store_id.clone();
        let period = self.business_date_at(now)?.0.format("%Y-%m").to_string();
        self.write(|tx, d| {
            let doc_id = own_adjustments(tx, d, &store_id, &period)?;
            let key = count.id.to_string();
            put_entry(d.get_mut(tx, &doc_id)?, "counts", &key, &count)?;
            projection::insert_movement(tx, &movement, &doc_id, "counts", &key)
        })?;
        Ok(count)
    }

    /// Heads (`<doc id>:<hash>`) of every journal and adjustment document held.
    fn stock_heads(&mut self) -> CoreResult<Vec<String>> {
        let ids: Vec<String> = {
            let mut stmt = self.conn.prepare(
                "SELECT doc_id FROM documents WHERE kind IN ('journal', 'stock-adjustments')
                 ORDER BY doc_id",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for id in ids {
            if !self.docs.exists(&self.conn, &id)? {
                continue;
            }
            for h in self.docs.heads(&self.conn, &id)? {
                out.push(format!("{id}:{h}"));
            }
        }
        Ok(out)
    }

    fn require_product_for_stock(
        &self,
        id: ProductId,
    ) -> CoreResult<shared_model::catalog::Product> {
        self.product(id)?.ok_or_else(|| CoreError::NotFound {
            what: "product",
            id: id.to_string(),
        })
    }

    /// Stock movements of a product known to this terminal, newest first (kind, quantity, at).
    pub fn stock_movements(
        &self,
        product: ProductId,
    ) -> CoreResult<Vec<(String, Quantity, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, quantity, at FROM stock_movements WHERE product_id = ?1
             ORDER BY at DESC, movement_id",
        )?;
        let rows = stmt.query_map(params![product.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (k, q, at) = row?;
            out.push((k, Quantity(parse_q(&q)?), at));
        }
        Ok(out)
    }
}
