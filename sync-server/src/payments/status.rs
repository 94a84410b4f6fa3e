//! A QRIS charge's life, as pure rules: which word of a gateway moves a charge where. A charge
//! starts `pending`; it ends `paid`, `expired`, `cancelled`, `denied` or `failed`; a paid charge
//! may then be refunded, in part or whole. Gateways repeat and reorder their notifications, so
//! a word that would move a charge backwards (a late "pending" after "paid") or sideways from an
//! end (an "expire" after "paid") changes nothing, and a repeated word changes nothing either.
//! Money that arrived is never forgotten: "paid" wins over an earlier "expired" or "cancelled"
//! (the customer paid after the till gave up: a late payment, shown to the cashier).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    Pending,
    Paid,
    Expired,
    Cancelled,
    Denied,
    Failed,
    PartiallyRefunded,
    Refunded,
}

impl ChargeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeStatus::Pending => "pending",
            ChargeStatus::Paid => "paid",
            ChargeStatus::Expired => "expired",
            ChargeStatus::Cancelled => "cancelled",
            ChargeStatus::Denied => "denied",
            ChargeStatus::Failed => "failed",
            ChargeStatus::PartiallyRefunded => "partially_refunded",
            ChargeStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<ChargeStatus> {
        Some(match s {
            "pending" => ChargeStatus::Pending,
            "paid" => ChargeStatus::Paid,
            "expired" => ChargeStatus::Expired,
            "cancelled" => ChargeStatus::Cancelled,
            "denied" => ChargeStatus::Denied,
            "failed" => ChargeStatus::Failed,
            "partially_refunded" => ChargeStatus::PartiallyRefunded,
            "refunded" => ChargeStatus::Refunded,
            _ => return None,
        })
    }

    /// The customer's money arrived (whatever was refunded since).
    pub fn money_arrived(self) -> bool {
        matches!(
            self,
            ChargeStatus::Paid | ChargeStatus::PartiallyRefunded | ChargeStatus::Refunded
        )
    }

    /// Nothing more will happen to it unless money arrives late.
    pub fn is_final(self) -> bool {
        self != ChargeStatus::Pending
    }

    /// Where `self` goes on the gateway's word `next`; `None`: it stays.
    pub fn after(self, next: ChargeStatus) -> Option<ChargeStatus> {
        use ChargeStatus::*;
        let rank = |s: ChargeStatus| match s {
            Pending => 0,
            Expired | Cancelled | Denied | Failed => 1,
            Paid => 2,
            PartiallyRefunded => 3,
            Refunded => 4,
        };
        let moves = match (self, next) {
            (a, b) if a == b => false,
            // A failure after money arrived is a gateway's retry of an old word.
            (a, Expired | Cancelled | Denied | Failed) if a.money_arrived() => false,
            // One end does not become another end; only money changes an end.
            (Expired | Cancelled | Denied | Failed, Expired | Cancelled | Denied | Failed) => false,
            (a, b) => rank(b) > rank(a),
        };
        moves.then_some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::ChargeStatus::*;

    #[test]
    fn a_charge_only_moves_forward_and_money_always_counts() {
        assert_eq!(Pending.after(Paid), Some(Paid));
        assert_eq!(Pending.after(Expired), Some(Expired));
        // Duplicates and out-of-order words change nothing.
        assert_eq!(Paid.after(Paid), None);
        assert_eq!(Paid.after(Pending), None);
        assert_eq!(Paid.after(Expired), None);
        assert_eq!(Refunded.after(Paid), None);
        assert_eq!(Expired.after(Cancelled), None);
        assert_eq!(Expired.after(Pending), None);
        // The customer paid after the till gave up: the money counts.
        assert_eq!(Expired.after(Paid), Some(Paid));
        assert_eq!(Cancelled.after(Paid), Some(Paid));
        assert_eq!(Paid.after(PartiallyRefunded), Some(PartiallyRefunded));
        assert_eq!(PartiallyRefunded.after(Refunded), Some(Refunded));
        assert_eq!(Refunded.after(PartiallyRefunded), None);
    }

    #[test]
    fn every_status_reads_back_from_its_name() {
        for s in [
            Pending,
            Paid,
            Expired,
            Cancelled,
            Denied,
            Failed,
            PartiallyRefunded,
            Refunded,
        ] {
            assert_eq!(super::ChargeStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(super::ChargeStatus::parse("settlement"), None);
    }
}
