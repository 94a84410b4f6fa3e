//! Shifts: open with a float, cash in/out with a reason, close with the counted cash.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::catalog::check_text;
use crate::codec::{BusinessDate, Timestamp};
use crate::error::{ModelError, ModelResult};
use crate::ids::{CashMovementId, ShiftId, UserId};
use crate::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub enum CashDirection {
    In,
    Out,
}

impl CashDirection {
    /// The direction's name in the terminal's query tables and the server's projected rows
    /// (`in`, `out`): both write it from here, so they cannot disagree.
    pub fn as_str(self) -> &'static str {
        match self {
            CashDirection::In => "in",
            CashDirection::Out => "out",
        }
    }
}

/// Cash put into or taken out of the drawer outside a sale (change float top-up, paying a
/// supplier, a bank deposit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct CashMovement {
    pub id: CashMovementId,
    pub shift_id: ShiftId,
    pub direction: CashDirection,
    pub amount: Money,
    pub reason: String,
    pub at: Timestamp,
    pub by: UserId,
}

impl CashMovement {
    pub fn new(
        shift_id: ShiftId,
        direction: CashDirection,
        amount: Money,
        reason: &str,
        by: UserId,
        at: Timestamp,
    ) -> ModelResult<Self> {
        if amount.is_zero() || amount.is_negative() {
            return Err(ModelError::Invalid {
                field: "cash movement",
                reason: format!("{amount} must be more than zero"),
            });
        }
        check_text("reason", reason, 200)?;
        Ok(CashMovement {
            id: CashMovementId::new(),
            shift_id,
            direction,
            amount,
            reason: reason.trim().into(),
            at,
            by,
        })
    }

    /// Signed effect on the drawer.
    pub fn signed(&self) -> Money {
        match self.direction {
            CashDirection::In => self.amount,
            CashDirection::Out => -self.amount,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct ShiftClose {
    pub closed_at: Timestamp,
    pub closed_by: UserId,
    pub expected_cash: Money,
    pub counted_cash: Money,
    /// counted − expected: negative when cash is missing.
    pub difference: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Shift {
    pub id: ShiftId,
    pub terminal_code: String,
    pub cashier_id: UserId,
    /// The business day the shift started in; a shift past midnight stays in it.
    pub business_date: BusinessDate,
    pub opened_at: Timestamp,
    pub opening_float: Money,
    pub close: Option<ShiftClose>,
}

impl Shift {
    pub fn open(
        terminal_code: &str,
        cashier_id: UserId,
        business_date: BusinessDate,
        opened_at: Timestamp,
        opening_float: Money,
    ) -> ModelResult<Shift> {
        opening_float.non_negative("opening float")?;
        Ok(Shift {
            id: ShiftId::new(),
            terminal_code: terminal_code.into(),
            cashier_id,
            business_date,
            opened_at,
            opening_float,
            close: None,
        })
    }

    pub fn is_open(&self) -> bool {
        self.close.is_none()
    }

    /// Closes with the counted cash; `expected_cash` comes from the shift's Z report.
    pub fn close(
        &mut self,
        counted_cash: Money,
        expected_cash: Money,
        by: UserId,
        at: Timestamp,
    ) -> ModelResult<&ShiftClose> {
        if self.close.is_some() {
            return Err(ModelError::ShiftClosed);
        }
        counted_cash.non_negative("counted cash")?;
        let difference = counted_cash.checked_sub(expected_cash)?;
        Ok(self.close.insert(ShiftClose {
            closed_at: at,
            closed_by: by,
            expected_cash,
            counted_cash,
            difference,
        }))
    }
}
