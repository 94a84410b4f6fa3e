//! The day's sales list of the till: this till's and its peers' sales of one business day,
//! newest first, each with whether the server has it.
//!
//! "On server" means: for this till's own sales, the server acknowledged the sale as stored
//! and projected (`server_acks`, from the heartbeat); for a peer's sale (which only the peer
//! asks the server about), the journal holding it was exchanged with the server (a saved sync
//! state with a server peer with shared heads), which is as much as this till can know.

use std::collections::HashMap;

use rusqlite::params;
use serde::{Deserialize, Serialize};
use shared_model::codec::{BusinessDate, Timestamp};
use shared_model::money::Money;

use crate::error::CoreResult;
use crate::terminal::Terminal;

/// One row of the day's sales list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SaleSummary {
    pub sale_id: String,
    pub receipt_no: String,
    pub created_at: Timestamp,
    pub total: Money,
    pub cashier_name: String,
    /// Payment method keys in payment order, without repeats: `cash`, `qris`, `card`,
    /// `ewallet:gopay`, …
    pub payment_methods: Vec<String>,
    pub on_server: bool,
}

/// The peer-id prefix of sync-server instances (`sync-server`'s `auth::INSTANCE_PEER_PREFIX`).
const SERVER_PEER_PREFIX: &str = "snapkasir-instance-";

impl Terminal {
    /// This till's and its peers' sales of `date`, newest first (voided sales included: the
    /// receipt exists).
    pub fn day_sales(&mut self, date: BusinessDate) -> CoreResult<Vec<SaleSummary>> {
        let own = self.identity()?.terminal_code.clone();
        let names: HashMap<String, String> = self
            .users()?
            .into_iter()
            .map(|u| (u.id.to_string(), u.name))
            .collect();
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.sale_id, s.receipt_no, s.created_at, s.total, s.cashier_id,
                    s.terminal_code = ?2,
                    EXISTS (SELECT 1 FROM server_acks a WHERE a.record_id = s.sale_id),
                    EXISTS (SELECT 1 FROM sync_states st WHERE st.doc_id = s.journal_doc
                            AND st.peer LIKE ?3 || '%' AND length(st.state) > 2),
                    (SELECT group_concat(method, ' ') FROM
                        (SELECT method FROM payments p WHERE p.sale_id = s.sale_id ORDER BY seq))
             FROM sales s WHERE s.business_date = ?1
             ORDER BY s.created_at DESC, s.receipt_no DESC",
        )?;
        let rows = stmt.query_map(params![date.to_string(), own, SERVER_PEER_PREFIX], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, bool>(6)?,
                r.get::<_, bool>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (sale_id, receipt_no, created_at, total, cashier, is_own, acked, shared, methods) =
                row?;
            let mut payment_methods: Vec<String> = Vec::new();
            for m in methods
                .unwrap_or_default()
                .split(' ')
                .filter(|m| !m.is_empty())
            {
                if !payment_methods.iter().any(|p| p == m) {
                    payment_methods.push(m.to_string());
                }
            }
            out.push(SaleSummary {
                sale_id,
                receipt_no,
                created_at: created_at.parse()?,
                total: total.parse()?,
                cashier_name: names.get(&cashier).cloned().unwrap_or(cashier),
                payment_methods,
                on_server: if is_own { acked } else { acked || shared },
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use shared_model::cart::Cart;
    use shared_model::payment::{PaymentMethod, Tender};

    use super::*;

    #[test]
    fn the_days_sales_come_newest_first_and_flip_to_on_server_after_the_ack() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Terminal::open(dir.path().join("t.db")).unwrap();
        let demo = t.create_demo_store().unwrap();
        let cashier = t
            .users()
            .unwrap()
            .into_iter()
            .find(|u| u.name == demo.cashier_name)
            .unwrap();
        t.start_shift(cashier.id, Money::from_i64(0)).unwrap();
        let hits = t.search("Aqua", 1, false).unwrap();
        let mut cart = Cart::new();
        t.cart_add_product(&mut cart, hits[0].product_id, None, "1".parse().unwrap())
            .unwrap();
        let first = t
            .checkout(
                &cart,
                &[Tender::cash(Money::from_i64(5_000))],
                cashier.id,
                None,
            )
            .unwrap();
        let qris = Tender {
            method: PaymentMethod::Qris {
                mode: shared_model::payment::QrisMode::Static,
            },
            ..Tender::cash(Money::from_i64(1_000))
        };
        let second = t
            .checkout(
                &cart,
                &[qris, Tender::cash(Money::from_i64(5_000))],
                cashier.id,
                None,
            )
            .unwrap();
        let today = t.business_date_at(first.created_at).unwrap();
        let list = t.day_sales(today).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].sale_id, second.id.to_string());
        assert_eq!(list[0].payment_methods, vec!["qris", "cash"]);
        assert_eq!(list[1].payment_methods, vec!["cash"]);
        assert_eq!(list[1].cashier_name, "Sari");
        assert_eq!(list[1].total, first.total());
        assert_eq!(list[1].receipt_no, first.receipt_no.to_string());
        assert!(list.iter().all(|s| !s.on_server));
        t.record_acknowledgements(&[first.id.to_string()], Timestamp::now())
            .unwrap();
        let list = t.day_sales(today).unwrap();
        assert!(!list[0].on_server);
        assert!(list[1].on_server);
        // Another day has none.
        let other: BusinessDate = "2001-01-01".parse().unwrap();
        assert!(t.day_sales(other).unwrap().is_empty());
    }
}
