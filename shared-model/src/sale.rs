//! A paid sale: immutable once recorded, written by one terminal, idempotent by its id.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::cart::Discount;
use crate::codec::{BusinessDate, Timestamp};
use crate::error::{ModelError, ModelResult};
use crate::ids::{SaleId, ShiftId, UserId, VoidId};
use crate::money::{Currency, Money};
use crate::payment::{Settlement, Tender, settle};
use crate::pricing::{CartTotals, PricedCart, PricedLine};
use crate::receipt_number::ReceiptNumber;
use crate::tax::PriceMode;

/// Who, where and when: the parts of a sale that do not come from the cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleContext {
    pub id: SaleId,
    pub receipt_no: ReceiptNumber,
    pub created_at: Timestamp,
    pub cashier_id: UserId,
    pub shift_id: Option<ShiftId>,
    pub currency: Currency,
    pub price_mode: PriceMode,
    pub cash_unit: Option<Money>,
}

/// A paid sale. In its journal it is one string, its JSON ([`Sale`]'s `Reconcile` and
/// `Hydrate` below): a sale is immutable and written by one till, so a map of its fields bought
/// no merging, and cost some ninety automerge operations a sale that every load, read and sync
/// of the journal walked again. Journals of schema 1 hold sales as maps ([`SaleFields`]), and
/// both forms read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    pub id: SaleId,
    pub receipt_no: ReceiptNumber,
    pub business_date: BusinessDate,
    /// The terminal's clock at checkout; the server records its own receipt time beside it.
    pub created_at: Timestamp,
    pub cashier_id: UserId,
    pub shift_id: Option<ShiftId>,
    pub currency_code: String,
    pub currency_minor_units: u32,
    pub price_mode: PriceMode,
    pub lines: Vec<PricedLine>,
    pub cart_discount: Option<Discount>,
    pub totals: CartTotals,
    pub settlement: Settlement,
    pub note: Option<String>,
    /// The unguessable part of the sale's public receipt link (`<server>/r/<token>`): 128
    /// random bits made at checkout ([`new_receipt_token`]), so that the link shows this sale
    /// to whoever holds the receipt and nothing can be reached by guessing. Sales of tills
    /// that predate it have none (and no link).
    pub receipt_token: Option<String>,
}

/// A fresh receipt token: 32 lower-case hex digits of 16 random bytes.
pub fn new_receipt_token() -> String {
    rand::random::<[u8; 16]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `token` has the shape of a receipt token (what a link may carry).
pub fn is_receipt_token(token: &str) -> bool {
    token.len() == 32
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Sale {
    /// Pays a priced cart. Fails unless the tenders cover the total.
    pub fn checkout(
        cart: PricedCart,
        tenders: &[Tender],
        ctx: SaleContext,
        note: Option<String>,
    ) -> ModelResult<Sale> {
        let settlement = settle(cart.total(), tenders, ctx.cash_unit, &ctx.currency)?;
        let sale = Sale {
            id: ctx.id,
            business_date: ctx.receipt_no.business_date,
            receipt_no: ctx.receipt_no,
            created_at: ctx.created_at,
            cashier_id: ctx.cashier_id,
            shift_id: ctx.shift_id,
            currency_code: ctx.currency.code.clone(),
            currency_minor_units: ctx.currency.minor_units,
            price_mode: ctx.price_mode,
            lines: cart.lines,
            cart_discount: cart.cart_discount,
            totals: cart.totals,
            settlement,
            note,
            receipt_token: Some(new_receipt_token()),
        };
        sale.check()?;
        Ok(sale)
    }

    pub fn total(&self) -> Money {
        self.totals.total()
    }

    pub fn currency(&self) -> Currency {
        Currency {
            code: self.currency_code.clone(),
            minor_units: self.currency_minor_units,
        }
    }

    /// Verifies that every total is reproducible from the lines and that payments cover the
    /// total. Run on every sale that arrives from elsewhere (documents, API).
    pub fn check(&self) -> ModelResult<()> {
        if self.lines.is_empty() {
            return Err(ModelError::EmptyCart);
        }
        for line in &self.lines {
            line.check()?;
            line.item.unit.check_sale_quantity(line.quantity)?;
        }
        if CartTotals::from_lines(&self.lines)? != self.totals {
            return Err(ModelError::Invalid {
                field: "sale totals",
                reason: "do not equal the sum of the lines".into(),
            });
        }
        if self
            .receipt_token
            .as_deref()
            .is_some_and(|t| !is_receipt_token(t))
        {
            return Err(ModelError::Invalid {
                field: "receipt token",
                reason: "is not 32 lower-case hex digits".into(),
            });
        }
        if self.business_date != self.receipt_no.business_date {
            return Err(ModelError::Invalid {
                field: "business date",
                reason: "differs from the receipt number's".into(),
            });
        }
        self.settlement.check(self.total())
    }
}

/// A sale as a till of schema 1 wrote it into its journal: a map of its fields. Such sales
/// still read ([`Sale`]'s `Hydrate`); `Reconcile` writes this layout for the tests that stand
/// for an older till.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct SaleFields {
    pub id: SaleId,
    pub receipt_no: ReceiptNumber,
    pub business_date: BusinessDate,
    pub created_at: Timestamp,
    pub cashier_id: UserId,
    pub shift_id: Option<ShiftId>,
    pub currency_code: String,
    pub currency_minor_units: u32,
    pub price_mode: PriceMode,
    pub lines: Vec<PricedLine>,
    pub cart_discount: Option<Discount>,
    pub totals: CartTotals,
    pub settlement: Settlement,
    pub note: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub receipt_token: Option<String>,
}

impl From<SaleFields> for Sale {
    fn from(f: SaleFields) -> Self {
        Sale {
            id: f.id,
            receipt_no: f.receipt_no,
            business_date: f.business_date,
            created_at: f.created_at,
            cashier_id: f.cashier_id,
            shift_id: f.shift_id,
            currency_code: f.currency_code,
            currency_minor_units: f.currency_minor_units,
            price_mode: f.price_mode,
            lines: f.lines,
            cart_discount: f.cart_discount,
            totals: f.totals,
            settlement: f.settlement,
            note: f.note,
            receipt_token: f.receipt_token,
        }
    }
}

impl From<Sale> for SaleFields {
    fn from(s: Sale) -> Self {
        SaleFields {
            id: s.id,
            receipt_no: s.receipt_no,
            business_date: s.business_date,
            created_at: s.created_at,
            cashier_id: s.cashier_id,
            shift_id: s.shift_id,
            currency_code: s.currency_code,
            currency_minor_units: s.currency_minor_units,
            price_mode: s.price_mode,
            lines: s.lines,
            cart_discount: s.cart_discount,
            totals: s.totals,
            settlement: s.settlement,
            note: s.note,
            receipt_token: s.receipt_token,
        }
    }
}

impl Reconcile for Sale {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: autosurgeon::Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        // Serialising a sale cannot fail: every field is a string, a number or a map of them.
        let json = serde_json::to_string(self).expect("a sale serialises to JSON");
        reconciler.str(json)
    }
}

impl Hydrate for Sale {
    fn hydrate_string(json: &str) -> Result<Self, autosurgeon::HydrateError> {
        serde_json::from_str(json)
            .map_err(|e| autosurgeon::HydrateError::unexpected("a sale's JSON", e.to_string()))
    }

    fn hydrate_map<D: autosurgeon::ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
    ) -> Result<Self, autosurgeon::HydrateError> {
        SaleFields::hydrate_map(doc, obj).map(Sale::from)
    }
}

/// A void: cancels a sale of the current shift as a whole (supervisor-approved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Void {
    pub id: VoidId,
    pub sale_id: SaleId,
    pub receipt_no: ReceiptNumber,
    pub at: Timestamp,
    pub by: UserId,
    pub authorized_by: UserId,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_tokens_are_fresh_128_bit_hex_and_nothing_else_passes() {
        let (a, b) = (new_receipt_token(), new_receipt_token());
        assert!(is_receipt_token(&a) && is_receipt_token(&b));
        assert_ne!(a, b);
        for bad in [
            "",
            "ABCDEF0123456789abcdef0123456789",
            "0123",
            &format!("{a}0"),
            "g".repeat(32).as_str(),
        ] {
            assert!(!is_receipt_token(bad), "{bad:?}");
        }
    }
}
