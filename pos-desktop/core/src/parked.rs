//! Parked carts in the store's parked-carts document: park on one till, resume (claim) on any
//! till of the store once synced. A cart claimed by two tills is refused where this till knows
//! of the other claim, and listed as a conflict once a merge reveals it.

use serde::{Deserialize, Serialize};
use shared_model::cart::Cart;
use shared_model::codec::Timestamp;
use shared_model::documents::{CartClaim, ParkedCart, ParkedCartsDoc};
use shared_model::ids::{CartId, UserId};
use tracing::instrument;

use crate::docs::{self, get_entry, put_entry};
use crate::error::{CoreError, CoreResult};
use crate::terminal::Terminal;

/// A parked cart waiting to be resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedSummary {
    pub cart_id: CartId,
    pub label: Option<String>,
    pub parked_at: Timestamp,
    pub parked_by: String,
    pub terminal_code: String,
    pub lines: usize,
}

/// A parked cart resumed on more than one till.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoubleClaim {
    pub cart_id: CartId,
    pub terminals: Vec<String>,
}

impl Terminal {
    fn parked_doc_id(&self) -> CoreResult<String> {
        Ok(self.identity()?.parked_doc.clone())
    }

    /// Parks a cart so that any till of the store can resume it.
    #[instrument(skip_all, fields(cart = %cart.id))]
    pub fn park_cart(&mut self, cart: &Cart, label: Option<&str>, by: UserId) -> CoreResult<()> {
        if cart.is_empty() {
            return Err(shared_model::ModelError::EmptyCart.into());
        }
        let label = label.map(str::trim).filter(|l| !l.is_empty());
        if let Some(l) = label
            && (l.chars().count() > 100 || l.chars().any(char::is_control))
        {
            return Err(CoreError::Invalid(
                "a parked cart's label is at most 100 characters".into(),
            ));
        }
        self.active_user(by)?;
        let terminal = self.identity()?.terminal_code.clone();
        let doc_id = self.parked_doc_id()?;
        let key = cart.id.to_string();
        let entry = ParkedCart {
            cart: Some(cart.clone()),
            parked_at: Timestamp::now(),
            parked_by: by.to_string(),
            terminal_code: terminal,
            label: label.map(str::to_string),
            claims: Default::default(),
        };
        self.write(|tx, d| {
            let doc = d.get_mut(tx, &doc_id)?;
            if let Some(existing) = get_entry::<ParkedCart>(doc, "carts", &key)?
                && existing.cart.is_some()
            {
                return Err(CoreError::Duplicate {
                    field: "parked cart",
                    value: key.clone(),
                    other: existing.terminal_code,
                });
            }
            put_entry(doc, "carts", &key, &entry)
        })
    }

    /// Carts waiting to be resumed (not yet claimed by any till this one knows of).
    pub fn parked_carts(&mut self) -> CoreResult<Vec<ParkedSummary>> {
        let doc_id = self.parked_doc_id()?;
        let doc: ParkedCartsDoc = docs::read(self.docs.get(&self.conn, &doc_id)?)?;
        let mut out: Vec<ParkedSummary> = doc
            .carts
            .into_values()
            .filter(|p| p.claims.is_empty())
            .filter_map(|p| {
                let cart = p.cart?;
                Some(ParkedSummary {
                    cart_id: cart.id,
                    label: p.label,
                    parked_at: p.parked_at,
                    parked_by: p.parked_by,
                    terminal_code: p.terminal_code,
                    lines: cart.lines.len(),
                })
            })
            .collect();
        out.sort_by_key(|p| p.parked_at);
        Ok(out)
    }

    /// Resumes a parked cart on this till: claims it and takes it out of the list. Refused when
    /// another till's claim is already known here.
    #[instrument(skip_all, fields(cart = %cart_id))]
    pub fn resume_cart(&mut self, cart_id: CartId) -> CoreResult<Cart> {
        let terminal = self.identity()?.terminal_code.clone();
        let doc_id = self.parked_doc_id()?;
        let key = cart_id.to_string();
        self.write(|tx, d| {
            let doc = d.get_mut(tx, &doc_id)?;
            let mut entry: ParkedCart =
                get_entry(doc, "carts", &key)?.ok_or_else(|| CoreError::NotFound {
                    what: "parked cart",
                    id: key.clone(),
                })?;
            if let Some(other) = entry.claims.keys().next() {
                return Err(CoreError::CartAlreadyClaimed {
                    cart: key.clone(),
                    terminal: other.clone(),
                });
            }
            let cart = entry.cart.take().ok_or_else(|| CoreError::NotFound {
                what: "parked cart",
                id: key.clone(),
            })?;
            entry.claims.insert(
                terminal.clone(),
                CartClaim {
                    terminal_code: terminal.clone(),
                    at: Timestamp::now(),
                },
            );
            put_entry(doc, "carts", &key, &entry)?;
            Ok(cart)
        })
    }

    /// Parked carts claimed by more than one till (revealed by a merge): the conflict to show
    /// before (or after) payment.
    pub fn double_claimed_carts(&mut self) -> CoreResult<Vec<DoubleClaim>> {
        let doc_id = self.parked_doc_id()?;
        let doc: ParkedCartsDoc = docs::read(self.docs.get(&self.conn, &doc_id)?)?;
        let mut out: Vec<DoubleClaim> = doc
            .carts
            .iter()
            .filter(|(_, p)| p.is_double_claimed())
            .filter_map(|(k, p)| {
                let mut terminals: Vec<String> = p.claims.keys().cloned().collect();
                terminals.sort();
                Some(DoubleClaim {
                    cart_id: k.parse().ok()?,
                    terminals,
                })
            })
            .collect();
        out.sort_by_key(|d| d.cart_id);
        Ok(out)
    }

    /// Whether the cart this till resumed has since been claimed by another till too (check
    /// before payment after a sync).
    pub fn cart_conflict(&mut self, cart_id: CartId) -> CoreResult<Option<DoubleClaim>> {
        Ok(self
            .double_claimed_carts()?
            .into_iter()
            .find(|d| d.cart_id == cart_id))
    }
}
