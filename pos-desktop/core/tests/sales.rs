//! Checkout, the outbox, receipt numbers, refunds, voids, PINs and print jobs.

mod common;

use std::time::Duration;

use common::*;
use pos_core::print_queue::{JobFilter, JobState, PrintQueue, QueueConfig, QueuedJob};
use pos_core::shared_model::cart::{Cart, Discount};
use pos_core::shared_model::codec::Timestamp;
use pos_core::shared_model::ids::UserId;
use pos_core::shared_model::money::{Money, Percent, Quantity};
use pos_core::shared_model::payment::{PaymentMethod, QrisMode, Tender};
use pos_core::shared_model::users::Role;
use pos_core::{Approval, CoreError, RefundRequest};
use rust_decimal_macros::dec;

fn cash(n: i64) -> Vec<Tender> {
    vec![Tender::cash(Money::from_i64(n))]
}

fn indomie_cart(s: &mut Shop, n: i64) -> Cart {
    let mut cart = Cart::new();
    s.t.cart_add_product(&mut cart, s.indomie.id, None, Quantity::from_i64(n))
        .unwrap();
    cart
}

#[test]
fn checkout_commits_the_sale_with_payments_stock_print_job_and_journal_entry() {
    let mut s = shop();
    let mut cart = Cart::new();
    s.t.cart_add_scan(&mut cart, "8998866200301").unwrap();
    s.t.cart_add_scan(&mut cart, "8998866200301").unwrap();
    s.t.cart_add_product(&mut cart, s.beras.id, None, Quantity(dec!(2.5)))
        .unwrap();
    s.t.cart_add_scan(&mut cart, "8991002101104").unwrap();
    assert_eq!(cart.lines.len(), 3);
    let sale =
        s.t.checkout(&cart, &cash(100_000), s.cashier, None)
            .unwrap();
    // 2 × 3.500 + 2,5 × 15.000 + 12.900 = 57.400
    assert_eq!(sale.total(), Money::from_i64(57_400));
    assert_eq!(sale.settlement.change, Money::from_i64(42_600));
    assert!(sale.receipt_no.to_string().starts_with("TKO1-T1-"));
    assert_eq!(sale.receipt_no.sequence, 1);
    assert_eq!(s.t.sale(sale.id).unwrap(), sale);
    assert_eq!(
        s.t.sale_by_receipt(&sale.receipt_no.to_string())
            .unwrap()
            .id,
        sale.id
    );
    assert_eq!(
        s.t.stock_on_hand(s.indomie.id).unwrap(),
        Quantity::from_i64(-2)
    );
    assert_eq!(s.t.stock_on_hand(s.beras.id).unwrap(), Quantity(dec!(-2.5)));
    let jobs = print_jobs(&s, &sale.id.to_string());
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, "receipt");
    assert_eq!(jobs[0].state, JobState::Waiting);
    assert_eq!(s.t.outbox_len().unwrap(), 0);
    let j = s.t.journal("T1", sale.business_date).unwrap().unwrap();
    assert_eq!(j.sales.get(&sale.id.to_string()), Some(&sale));

    // Cash rounding to Rp100 and a split payment with QRIS.
    let mut cart = Cart::new();
    s.t.cart_add_product(&mut cart, s.kopi.id, None, Quantity::ONE)
        .unwrap();
    s.t.cart_add_product(&mut cart, s.indomie.id, None, Quantity::ONE)
        .unwrap();
    let tenders = vec![
        Tender::with(
            PaymentMethod::Qris {
                mode: QrisMode::Dynamic,
            },
            Money::from_i64(10_000),
            Some("QR-1"),
        ),
        Tender::cash(Money::from_i64(10_000)),
    ];
    let sale2 = s.t.checkout(&cart, &tenders, s.cashier, None).unwrap();
    assert_eq!(sale2.total(), Money::from_i64(16_400));
    assert_eq!(sale2.settlement.change, Money::from_i64(3_600));
    assert_eq!(sale2.receipt_no.sequence, 2);
}

#[test]
fn checkout_errors_write_nothing_and_leave_no_gap_in_receipt_numbers() {
    let mut s = shop();
    let empty = Cart::new();
    assert!(matches!(
        s.t.checkout(&empty, &cash(1000), s.cashier, None),
        Err(CoreError::Model(_))
    ));
    let cart = indomie_cart(&mut s, 2);
    assert!(matches!(
        s.t.checkout(&cart, &cash(1000), s.cashier, None),
        Err(CoreError::Model(
            pos_core::shared_model::ModelError::PaymentsShort { .. }
        ))
    ));
    assert!(matches!(
        s.t.checkout(&cart, &cash(10_000), UserId::new(), None),
        Err(CoreError::NotFound { what: "user", .. })
    ));
    let card_no_ref = vec![Tender::with(
        PaymentMethod::Card,
        Money::from_i64(7000),
        None,
    )];
    assert!(s.t.checkout(&cart, &card_no_ref, s.cashier, None).is_err());
    let sale = s.t.checkout(&cart, &cash(10_000), s.cashier, None).unwrap();
    assert_eq!(sale.receipt_no.sequence, 1);
    assert_eq!(
        s.t.stock_on_hand(s.indomie.id).unwrap(),
        Quantity::from_i64(-2)
    );
    // An inactive cashier and a closed shift are refused, also a cashier who sold a moment
    // before being deactivated (the users read for the last sale are not reused).
    let other = s.t.add_user("Lama", Role::Cashier, "9999").unwrap().id;
    let by_other = s.t.checkout(&cart, &cash(10_000), other, None).unwrap();
    assert_eq!(by_other.receipt_no.sequence, 2);
    s.t.set_user_active(other, false).unwrap();
    assert!(matches!(
        s.t.checkout(&cart, &cash(10_000), other, None),
        Err(CoreError::InactiveUser(_))
    ));
    s.t.close_shift(Money::from_i64(207_000), s.cashier)
        .unwrap();
    assert!(matches!(
        s.t.checkout(&cart, &cash(10_000), s.cashier, None),
        Err(CoreError::NoOpenShift)
    ));
    s.t.start_shift(s.cashier, Money::ZERO).unwrap();
    let next = s.t.checkout(&cart, &cash(10_000), s.cashier, None).unwrap();
    assert_eq!(next.receipt_no.sequence, 3);
}

#[test]
fn large_discounts_need_a_supervisor_pin() {
    let mut s = shop();
    let mut cart = indomie_cart(&mut s, 10);
    let line = cart.lines[0].id;
    let idr = pos_core::shared_model::money::Currency::idr();
    cart.set_line_discount(
        line,
        Some(Discount::Percent(Percent::new(dec!(10)).unwrap())),
        &idr,
    )
    .unwrap();
    // 10% is under the 20% threshold.
    s.t.checkout(&cart, &cash(40_000), s.cashier, None).unwrap();
    cart.set_line_discount(
        line,
        Some(Discount::Percent(Percent::new(dec!(30)).unwrap())),
        &idr,
    )
    .unwrap();
    assert!(matches!(
        s.t.checkout(&cart, &cash(40_000), s.cashier, None),
        Err(CoreError::SupervisorRequired(_))
    ));
    let wrong = Approval {
        user_id: s.supervisor,
        pin: "0000".into(),
    };
    assert!(matches!(
        s.t.checkout(&cart, &cash(40_000), s.cashier, Some(&wrong)),
        Err(CoreError::WrongPin { attempts_left: 4 })
    ));
    let by_cashier = Approval {
        user_id: s.cashier,
        pin: CASHIER_PIN.into(),
    };
    assert!(matches!(
        s.t.checkout(&cart, &cash(40_000), s.cashier, Some(&by_cashier)),
        Err(CoreError::NotAuthorized(_))
    ));
    let sale =
        s.t.checkout(&cart, &cash(40_000), s.cashier, Some(&s.approval()))
            .unwrap();
    assert_eq!(sale.total(), Money::from_i64(24_500));
    // A cart discount over the threshold too.
    let mut cart = indomie_cart(&mut s, 4);
    cart.set_cart_discount(Some(Discount::Amount(Money::from_i64(7000))), &idr)
        .unwrap();
    assert!(matches!(
        s.t.checkout(&cart, &cash(40_000), s.cashier, None),
        Err(CoreError::SupervisorRequired(_))
    ));
}

#[test]
fn five_wrong_pins_lock_the_user_and_the_lock_survives_a_restart() {
    let mut s = shop();
    for left in (1..5).rev() {
        assert!(matches!(
            s.t.verify_pin(s.supervisor, "0000"),
            Err(CoreError::WrongPin { attempts_left }) if attempts_left == left
        ));
    }
    assert!(matches!(
        s.t.verify_pin(s.supervisor, "0000"),
        Err(CoreError::UserLocked { .. })
    ));
    assert!(matches!(
        s.t.verify_pin(s.supervisor, SUPERVISOR_PIN),
        Err(CoreError::UserLocked { .. })
    ));
    s.reopen();
    assert!(matches!(
        s.t.verify_pin(s.supervisor, SUPERVISOR_PIN),
        Err(CoreError::UserLocked { .. })
    ));
    // Other users are not affected.
    assert_eq!(s.t.verify_pin(s.cashier, CASHIER_PIN).unwrap().name, "Sari");
    // The lock runs out.
    let other = s.t.add_user("Dewi", Role::Supervisor, "5555").unwrap().id;
    s.t.set_pin_lock_duration(Duration::from_millis(300));
    for _ in 0..5 {
        let _ = s.t.verify_pin(other, "1234");
    }
    assert!(matches!(
        s.t.verify_pin(other, "5555"),
        Err(CoreError::UserLocked { .. })
    ));
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        s.t.verify_pin(other, "5555").unwrap().role,
        Role::Supervisor
    );
    // PIN rules.
    assert!(s.t.add_user("X", Role::Cashier, "12").is_err());
    assert!(s.t.add_user("X", Role::Cashier, "abcd").is_err());
    assert!(s.t.add_user("", Role::Cashier, "1234").is_err());
    s.t.set_pin(s.supervisor, "8642").unwrap();
    assert!(s.t.verify_pin(s.supervisor, "8642").is_ok());
    assert_eq!(s.t.users().unwrap().len(), 3);
}

#[test]
fn the_outbox_applies_each_sale_to_its_journal_exactly_once() {
    let mut s = shop();
    s.t.set_defer_journal(true);
    let cart = indomie_cart(&mut s, 1);
    let sale = s.t.checkout(&cart, &cash(5000), s.cashier, None).unwrap();
    assert_eq!(s.t.outbox_len().unwrap(), 1);
    let j = s.t.journal("T1", sale.business_date).unwrap();
    assert!(j.is_none_or(|j| !j.sales.contains_key(&sale.id.to_string())));
    // Start-up applies it.
    s.reopen();
    assert_eq!(s.t.outbox_len().unwrap(), 0);
    let j = s.t.journal("T1", sale.business_date).unwrap().unwrap();
    assert_eq!(j.sales.len(), 1);
    // Re-queuing the same entry (as after a crash between the document save and the outbox
    // delete — which share a transaction, but be safe) changes nothing.
    let conn = rusqlite_open(&s.path);
    conn.execute(
        "INSERT INTO outbox (journal_doc, terminal_code, business_date, entry_map, entry_id, data)
         SELECT journal_doc, terminal_code, business_date, 'sales', sale_id, '' FROM sales",
        [],
    )
    .unwrap();
    drop(conn);
    let heads_before =
        s.t.export_document(&s.t.journal_id("T1", sale.business_date).unwrap().unwrap())
            .unwrap();
    assert_eq!(s.t.drain_outbox().unwrap(), 0);
    assert_eq!(s.t.outbox_len().unwrap(), 0);
    let heads_after =
        s.t.export_document(&s.t.journal_id("T1", sale.business_date).unwrap().unwrap())
            .unwrap();
    assert_eq!(heads_before, heads_after);
}

/// Rows of the sale in the query tables and the print queue, read straight from the file:
/// (sales, lines, payments, stock movements, print jobs).
fn projected_rows(s: &Shop, sale_id: &str) -> (i64, i64, i64, i64, i64) {
    rusqlite_open(&s.path)
        .query_row(
            "SELECT (SELECT count(*) FROM sales WHERE sale_id = ?1),
                    (SELECT count(*) FROM sale_lines WHERE sale_id = ?1),
                    (SELECT count(*) FROM payments WHERE sale_id = ?1),
                    (SELECT count(*) FROM stock_movements WHERE source_key = ?1),
                    (SELECT count(*) FROM print_jobs WHERE record_id = ?1)",
            [sale_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap()
}

#[test]
fn a_deferred_checkout_commits_the_sale_whole_and_projects_it_once_before_anything_reads_it() {
    let mut s = shop();
    s.t.set_defer_journal(true);
    let mut cart = indomie_cart(&mut s, 2);
    s.t.cart_add_product(&mut cart, s.kopi.id, None, Quantity::ONE)
        .unwrap();
    let sale = s.t.checkout(&cart, &cash(20_000), s.cashier, None).unwrap();
    let id = sale.id.to_string();
    // Committed: the outbox row holds the sale whole; nothing else of it is written yet.
    let held: String = rusqlite_open(&s.path)
        .query_row("SELECT data FROM outbox WHERE entry_id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        serde_json::from_str::<pos_core::shared_model::sale::Sale>(&held).unwrap(),
        sale
    );
    assert_eq!(projected_rows(&s, &id), (0, 0, 0, 0, 0));
    // Projected: two lines, one payment, two stock movements, one receipt to print.
    assert_eq!(s.t.project_committed_sales().unwrap(), 1);
    assert_eq!(projected_rows(&s, &id), (1, 2, 1, 2, 1));
    assert_eq!(s.t.sale(sale.id).unwrap(), sale);
    assert_eq!(
        s.t.stock_on_hand(s.indomie.id).unwrap(),
        Quantity::from_i64(-2)
    );
    // Once: again, or after a restart, projects nothing more.
    assert_eq!(s.t.project_committed_sales().unwrap(), 0);
    s.reopen();
    s.t.set_defer_journal(true);
    assert_eq!(projected_rows(&s, &id), (1, 2, 1, 2, 1));
    // A write that reads sales projects a deferred checkout first: a refund right after it.
    let second = s.t.checkout(&cart, &cash(20_000), s.cashier, None).unwrap();
    assert_eq!(projected_rows(&s, &second.id.to_string()).0, 0);
    let lines = s.t.refundable_lines(sale.id).unwrap();
    assert_eq!(lines.len(), 2);
    let refund =
        s.t.refund(RefundRequest {
            sale_id: second.id,
            lines: vec![(second.lines[0].line_id, Quantity::ONE)],
            tenders: cash(3_500),
            reason: "rusak".into(),
            cashier: s.cashier,
            approval: s.approval(),
        })
        .unwrap();
    assert_eq!(refund.total, Money::from_i64(3_500));
    assert_eq!(projected_rows(&s, &second.id.to_string()), (1, 2, 1, 2, 1));
    // The journal gets both sales and the refund when the outbox drains.
    s.t.drain_outbox().unwrap();
    assert_eq!(s.t.outbox_len().unwrap(), 0);
    let j = s.t.journal("T1", sale.business_date).unwrap().unwrap();
    assert_eq!(j.sales.len(), 2);
    assert_eq!(j.refunds.len(), 1);
    // Closing the shift right after a deferred checkout counts that sale's cash too.
    let third = s.t.checkout(&cart, &cash(20_000), s.cashier, None).unwrap();
    let (closed, z) = s.t.close_shift(Money::ZERO, s.cashier).unwrap();
    assert_eq!(z.sales_count, 3);
    let sold = sale.total().0 * rust_decimal::Decimal::from(3);
    let expected = Money(dec!(200_000) + sold - dec!(3_500));
    assert_eq!(z.expected_cash, expected);
    assert_eq!(closed.close.unwrap().expected_cash, expected);
    assert_eq!(projected_rows(&s, &third.id.to_string()), (1, 2, 1, 2, 1));
}

#[test]
fn a_journal_update_that_fails_still_leaves_the_sale_in_the_query_tables() {
    let mut s = shop();
    s.t.set_defer_journal(true);
    let cart = indomie_cart(&mut s, 1);
    let sale = s.t.checkout(&cart, &cash(5_000), s.cashier, None).unwrap();
    // An outbox entry no build can apply (as a damaged file might hold) fails the drain.
    rusqlite_open(&s.path)
        .execute(
            "INSERT INTO outbox (journal_doc, terminal_code, business_date, entry_map, entry_id, data)
             SELECT journal_doc, terminal_code, business_date, 'stock', 'x', '' FROM outbox",
            [],
        )
        .unwrap();
    assert!(matches!(s.t.drain_outbox(), Err(CoreError::Corrupt(_))));
    // The sale is in the query tables and its receipt queued, once; its entry still waits.
    assert_eq!(projected_rows(&s, &sale.id.to_string()), (1, 1, 1, 1, 1));
    assert_eq!(s.t.sale(sale.id).unwrap(), sale);
    assert_eq!(s.t.outbox_len().unwrap(), 2);
    assert!(matches!(s.t.drain_outbox(), Err(CoreError::Corrupt(_))));
    assert_eq!(projected_rows(&s, &sale.id.to_string()), (1, 1, 1, 1, 1));
}

/// Frames in the store's WAL (from its size: SQLite writes from the start again after a
/// checkpoint, so the size is the most the WAL held since the file was opened).
fn wal_frames(s: &Shop) -> u64 {
    let wal = s.path.with_file_name("terminal.db-wal");
    std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0) / (4096 + 24)
}

/// (frames in the WAL, frames of it already copied into the database file), as another
/// connection sees them, without checkpointing.
fn wal_state(s: &Shop) -> (i64, i64) {
    rusqlite_open(&s.path)
        .query_row("PRAGMA wal_checkpoint(NOOP)", [], |r| {
            Ok((r.get(1)?, r.get(2)?))
        })
        .unwrap()
}

#[test]
fn checkouts_leave_the_wal_checkpoint_to_the_next_other_commit() {
    let mut s = shop();
    s.t.set_defer_journal(true);
    let cart = indomie_cart(&mut s, 1);
    // Without a checkpoint in their commits, checkouts grow the WAL past SQLite's 1,000 pages.
    let mut sales = 0;
    while wal_frames(&s) < 1_300 {
        s.t.checkout(&cart, &cash(5000), s.cashier, None).unwrap();
        sales += 1;
        assert!(
            sales < 1_000,
            "the WAL stopped growing: a checkout checkpointed"
        );
    }
    let (before, copied) = wal_state(&s);
    assert!(
        before >= 1_300 && copied < 1_000,
        "{before} frames, {copied} copied"
    );
    // The drain checkpoints before its own commit, which then starts the WAL again (and
    // syncs its new header): its frames are all the WAL holds, none copied yet.
    assert_eq!(s.t.drain_outbox().unwrap(), sales);
    let (drained, copied) = wal_state(&s);
    assert!(
        drained < before,
        "the WAL did not start again: {drained} frames"
    );
    assert_eq!(copied, 0);
    // The next checkout neither checkpoints nor starts the WAL again: it appends.
    s.t.checkout(&cart, &cash(5000), s.cashier, None).unwrap();
    let (after, copied) = wal_state(&s);
    assert!(
        after > drained && after < drained + 20,
        "{drained} → {after} frames"
    );
    assert_eq!(copied, 0);
    // Every sale is there, once, and reaches its journal.
    s.t.drain_outbox().unwrap();
    let today = s.t.business_date_at(Timestamp::now()).unwrap();
    let day = s.t.day_sales(today).unwrap();
    assert_eq!(day.len(), sales + 1);
}

#[test]
fn refunds_partial_whole_and_their_errors() {
    let mut s = shop();
    let cart = indomie_cart(&mut s, 4);
    let sale = s.t.checkout(&cart, &cash(14_000), s.cashier, None).unwrap();
    let line = sale.lines[0].line_id;
    let req = |lines: Vec<_>, approval: Approval, cashier| RefundRequest {
        sale_id: sale.id,
        lines,
        tenders: vec![Tender::cash(Money::from_i64(100_000))],
        reason: "kadaluarsa".into(),
        cashier,
        approval,
    };
    // A refund needs a supervisor.
    let by_cashier = Approval {
        user_id: s.cashier,
        pin: CASHIER_PIN.into(),
    };
    assert!(matches!(
        s.t.refund(req(vec![(line, Quantity::ONE)], by_cashier, s.cashier)),
        Err(CoreError::NotAuthorized(_))
    ));
    let r1 =
        s.t.refund(req(vec![(line, Quantity::ONE)], s.approval(), s.cashier))
            .unwrap();
    assert_eq!(r1.total, Money::from_i64(3500));
    assert_eq!(r1.receipt_no.sequence, 2, "refunds use the sale sequence");
    assert_eq!(
        s.t.stock_on_hand(s.indomie.id).unwrap(),
        Quantity::from_i64(-3)
    );
    assert!(matches!(
        s.t.refund(req(
            vec![(line, Quantity::from_i64(4))],
            s.approval(),
            s.cashier
        )),
        Err(CoreError::Model(
            pos_core::shared_model::ModelError::OverRefund { .. }
        ))
    ));
    let rest = s.t.refundable_lines(sale.id).unwrap();
    assert_eq!(rest, vec![(line, Quantity::from_i64(3))]);
    let r2 = s.t.refund(req(rest, s.approval(), s.cashier)).unwrap();
    assert_eq!(r2.total, Money::from_i64(10_500));
    assert!(s.t.refundable_lines(sale.id).unwrap().is_empty());
    assert_eq!(s.t.refunds_of(sale.id).unwrap().len(), 2);
    assert_eq!(print_jobs(&s, &r2.id.to_string())[0].kind, "refund");
    let j = s.t.journal("T1", sale.business_date).unwrap().unwrap();
    assert_eq!(j.refunds.len(), 2);
    assert!(s.t.over_refund_flags().unwrap().is_empty());
    assert!(matches!(
        s.t.refund(RefundRequest {
            sale_id: pos_core::shared_model::ids::SaleId::new(),
            lines: vec![],
            tenders: vec![],
            reason: "x".into(),
            cashier: s.cashier,
            approval: s.approval(),
        }),
        Err(CoreError::NotFound { what: "sale", .. })
    ));
}

#[test]
fn an_over_refund_only_a_merge_reveals_is_flagged() {
    let mut a = shop();
    let cart = indomie_cart(&mut a, 2);
    let sale = a.t.checkout(&cart, &cash(7000), a.cashier, None).unwrap();
    // Terminal B of the same store gets the store documents and A's journal.
    let mut b = join_second_till(&mut a);
    let journal_a = a.t.journal_id("T1", sale.business_date).unwrap().unwrap();
    b.merge_document(&journal_a, &a.t.export_document(&journal_a).unwrap())
        .unwrap();
    assert_eq!(b.sale(sale.id).unwrap(), sale);
    b.start_shift(a.cashier, Money::ZERO).unwrap();
    // Both tills refund the whole sale while offline.
    for t in [&mut a.t, &mut b] {
        let lines = t.refundable_lines(sale.id).unwrap();
        t.refund(RefundRequest {
            sale_id: sale.id,
            lines,
            tenders: cash(7000),
            reason: "batal".into(),
            cashier: a.cashier,
            approval: Approval {
                user_id: a.supervisor,
                pin: SUPERVISOR_PIN.into(),
            },
        })
        .unwrap();
    }
    assert!(a.t.over_refund_flags().unwrap().is_empty());
    let journal_b = b.journal_id("T2", sale.business_date).unwrap().unwrap();
    a.t.merge_document(&journal_b, &b.export_document(&journal_b).unwrap())
        .unwrap();
    let flags = a.t.over_refund_flags().unwrap();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].sale_id, sale.id);
    assert_eq!(flags[0].refunded, Quantity::from_i64(4));
    assert_eq!(flags[0].refund_ids.len(), 2);
    // Both refunds count in stock: nothing is dropped.
    assert_eq!(
        a.t.stock_on_hand(a.indomie.id).unwrap(),
        Quantity::from_i64(2)
    );
}

#[test]
fn voids_need_a_supervisor_and_the_open_shift() {
    let mut s = shop();
    let cart = indomie_cart(&mut s, 3);
    let sale = s.t.checkout(&cart, &cash(20_000), s.cashier, None).unwrap();
    let wrong = Approval {
        user_id: s.supervisor,
        pin: "0001".into(),
    };
    assert!(matches!(
        s.t.void_sale(sale.id, "salah", s.cashier, &wrong),
        Err(CoreError::WrongPin { .. })
    ));
    assert!(matches!(
        s.t.void_sale(sale.id, "  ", s.cashier, &s.approval()),
        Err(CoreError::Invalid(_))
    ));
    s.t.void_sale(sale.id, "salah input", s.cashier, &s.approval())
        .unwrap();
    assert!(s.t.is_voided(sale.id).unwrap());
    assert_eq!(s.t.stock_on_hand(s.indomie.id).unwrap(), Quantity::ZERO);
    assert!(matches!(
        s.t.void_sale(sale.id, "lagi", s.cashier, &s.approval()),
        Err(CoreError::AlreadyVoided(_))
    ));
    let lines = vec![(sale.lines[0].line_id, Quantity::ONE)];
    assert!(matches!(
        s.t.refund(RefundRequest {
            sale_id: sale.id,
            lines,
            tenders: cash(5000),
            reason: "x".into(),
            cashier: s.cashier,
            approval: s.approval(),
        }),
        Err(CoreError::VoidedSale(_))
    ));
    let z =
        s.t.z_report_shift(s.t.open_shift().unwrap().unwrap().id)
            .unwrap();
    assert_eq!(z.voids_count, 1);
    assert_eq!(z.sales_count, 0);
    let sale2 = s.t.checkout(&cart, &cash(20_000), s.cashier, None).unwrap();
    s.t.close_shift(Money::from_i64(210_500), s.cashier)
        .unwrap();
    s.t.start_shift(s.cashier, Money::ZERO).unwrap();
    assert!(matches!(
        s.t.void_sale(sale2.id, "telat", s.cashier, &s.approval()),
        Err(CoreError::VoidOutsideShift { .. })
    ));
    let j = s.t.journal("T1", sale.business_date).unwrap().unwrap();
    assert_eq!(j.voids.len(), 1);
}

#[test]
fn print_jobs_are_queued_durably_and_reprints_are_copies() {
    let mut s = shop();
    let cart = indomie_cart(&mut s, 1);
    let sale = s.t.checkout(&cart, &cash(5000), s.cashier, None).unwrap();
    s.reopen();
    // No printer is set up, so the queue runs no worker: the receipt waits.
    let mut q = PrintQueue::open(&s.path, QueueConfig::default()).unwrap();
    let jobs = q.jobs(JobFilter::Open, 10).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].record_id, sale.id.to_string());
    assert!(!jobs[0].copy);
    assert_eq!(jobs[0].state, JobState::Waiting);
    q.cancel(jobs[0].job_id).unwrap();
    assert!(q.jobs(JobFilter::Open, 10).unwrap().is_empty());
    let copy = q.reprint(&sale.id.to_string()).unwrap();
    let pending = q.jobs(JobFilter::Open, 10).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].job_id, copy.job_id);
    assert!(pending[0].copy);
    assert!(matches!(q.reprint("nope"), Err(CoreError::NotFound { .. })));
    assert!(matches!(q.cancel(9999), Err(CoreError::NotFound { .. })));
}

/// The print jobs of a sale or refund, as the print queue lists them (a queue with no printer
/// set up starts no worker, so nothing is printed or changed).
fn print_jobs(s: &Shop, record_id: &str) -> Vec<QueuedJob> {
    PrintQueue::open(&s.path, QueueConfig::default())
        .unwrap()
        .jobs_for(record_id)
        .unwrap()
}

#[test]
fn promotions_apply_at_checkout_and_survive_a_rebuild() {
    use pos_core::shared_model::ids::PromotionId;
    use pos_core::shared_model::promotion::{Promotion, PromotionRule};
    let mut s = shop();
    let promo = Promotion {
        id: PromotionId::new(),
        name: "Beli 2 gratis 1".into(),
        rule: PromotionRule::BuyXGetY {
            product_id: s.indomie.id,
            buy: 2,
            get: 1,
        },
        active: true,
    };
    s.t.save_promotion(promo.clone()).unwrap();
    let bad = Promotion {
        rule: PromotionRule::BuyXGetY {
            product_id: s.indomie.id,
            buy: 0,
            get: 1,
        },
        ..promo.clone()
    };
    assert!(s.t.save_promotion(bad).is_err());
    let cart = indomie_cart(&mut s, 3);
    let sale = s.t.checkout(&cart, &cash(10_000), s.cashier, None).unwrap();
    assert_eq!(sale.total(), Money::from_i64(7_000));
    assert_eq!(sale.lines[0].promotions, vec![promo.id]);
    s.reopen();
    s.t.rebuild_query_tables().unwrap();
    assert_eq!(s.t.promotions().unwrap(), vec![promo]);
}
