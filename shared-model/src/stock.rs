//! Stock is never a stored number that terminals overwrite: it is the sum of movements.

use std::collections::HashMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::codec::Timestamp;
use crate::error::{ModelError, ModelResult};
use crate::ids::{MovementId, ProductId, UserId};
use crate::money::Quantity;
use crate::refund::Refund;
use crate::sale::Sale;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub enum MovementKind {
    Sale,
    Refund,
    /// A correction (damage, loss, found).
    Adjustment,
    /// Goods received from a supplier.
    Receipt,
    TransferIn,
    TransferOut,
    /// The delta of a stock count (opname) against what the counter's terminal knew.
    Count,
}

impl MovementKind {
    /// The kind's name in the terminal's query tables and the server's projected rows
    /// (`transfer_in`, ...): both write it from here, so they cannot disagree.
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Sale => "sale",
            MovementKind::Refund => "refund",
            MovementKind::Adjustment => "adjustment",
            MovementKind::Receipt => "receipt",
            MovementKind::TransferIn => "transfer_in",
            MovementKind::TransferOut => "transfer_out",
            MovementKind::Count => "count",
        }
    }
}

/// A signed change of stock on hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct StockMovement {
    pub id: MovementId,
    pub product_id: ProductId,
    pub kind: MovementKind,
    /// Positive adds stock, negative removes it.
    pub quantity: Quantity,
    /// The sale, refund, delivery note or count it comes from.
    pub reference: Option<String>,
    pub at: Timestamp,
    pub by: Option<UserId>,
    pub note: Option<String>,
}

impl StockMovement {
    /// A manual movement; the sign must fit the kind (a receipt adds, a transfer out removes).
    pub fn manual(
        product_id: ProductId,
        kind: MovementKind,
        quantity: Quantity,
        reference: Option<String>,
        by: UserId,
        at: Timestamp,
    ) -> ModelResult<Self> {
        let ok = match kind {
            MovementKind::Receipt | MovementKind::TransferIn => quantity.is_positive(),
            MovementKind::TransferOut => quantity.0.is_sign_negative() && !quantity.0.is_zero(),
            MovementKind::Adjustment | MovementKind::Count => !quantity.0.is_zero(),
            MovementKind::Sale | MovementKind::Refund => false,
        };
        if !ok {
            return Err(ModelError::Invalid {
                field: "stock movement",
                reason: format!("{kind:?} of {quantity}"),
            });
        }
        Ok(StockMovement {
            id: MovementId::new(),
            product_id,
            kind,
            quantity,
            reference,
            at,
            by: Some(by),
            note: None,
        })
    }

    /// One movement per line of a sale: stock leaves the shelf.
    pub fn from_sale(sale: &Sale) -> Vec<StockMovement> {
        sale.lines
            .iter()
            .map(|l| StockMovement {
                id: derived_id(sale.id.0, l.line_id.0),
                product_id: l.item.product_id,
                kind: MovementKind::Sale,
                quantity: -l.quantity,
                reference: Some(sale.receipt_no.to_string()),
                at: sale.created_at,
                by: Some(sale.cashier_id),
                note: None,
            })
            .collect()
    }

    /// One movement per refunded line: stock returns to the shelf.
    pub fn from_refund(refund: &Refund) -> Vec<StockMovement> {
        refund
            .lines
            .iter()
            .map(|l| StockMovement {
                id: derived_id(refund.id.0, l.sale_line_id.0),
                product_id: l.product_id,
                kind: MovementKind::Refund,
                quantity: l.quantity,
                reference: Some(refund.receipt_no.to_string()),
                at: refund.created_at,
                by: Some(refund.cashier_id),
                note: None,
            })
            .collect()
    }
}

/// A stable movement id from a record id and a line id, so that re-deriving the movements of a
/// sale gives the same ids (idempotent projection).
fn derived_id(record: uuid::Uuid, line: uuid::Uuid) -> MovementId {
    let mut bytes = *record.as_bytes();
    for (b, l) in bytes.iter_mut().zip(line.as_bytes()) {
        *b ^= l;
    }
    // Keep the version/variant bits of a v8 (custom) UUID.
    MovementId(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// A stock count (opname): the counted quantity and what the counting terminal believed was on
/// hand, with the document heads that belief was based on. Its delta is `counted − seen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct StockCount {
    pub id: MovementId,
    pub product_id: ProductId,
    pub counted: Quantity,
    pub seen_on_hand: Quantity,
    /// Heads (hex change hashes) of the journals and adjustments the terminal had merged.
    pub seen_heads: Vec<String>,
    pub at: Timestamp,
    pub by: UserId,
}

impl StockCount {
    pub fn delta(&self) -> ModelResult<Quantity> {
        self.counted.checked_sub(self.seen_on_hand)
    }

    pub fn movement(&self) -> ModelResult<StockMovement> {
        Ok(StockMovement {
            id: self.id,
            product_id: self.product_id,
            kind: MovementKind::Count,
            quantity: self.delta()?,
            reference: Some(format!("count {}", self.id)),
            at: self.at,
            by: Some(self.by),
            note: None,
        })
    }
}

/// Stock on hand: a baseline plus movements.
pub fn stock_on_hand<'a>(
    baseline: &HashMap<ProductId, Quantity>,
    movements: impl IntoIterator<Item = &'a StockMovement>,
) -> ModelResult<HashMap<ProductId, Quantity>> {
    let mut on_hand = baseline.clone();
    for m in movements {
        let q = on_hand.entry(m.product_id).or_default();
        *q = q.checked_add(m.quantity)?;
    }
    Ok(on_hand)
}
