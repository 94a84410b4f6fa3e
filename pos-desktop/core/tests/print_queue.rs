//! The durable print queue against real parts: the terminal's SQLite file in a temp dir and
//! receipt-printer's test printer on TCP loopback (it decodes ESC/POS and answers DLE EOT).

mod common;

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use pos_core::print_queue::{
    JobFilter, JobState, NewPrinter, PrintQueue, PrinterChange, QueueConfig, QueuedJob,
};
use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::money::{Money, Quantity};
use pos_core::shared_model::payment::{PaymentMethod, Tender};
use pos_core::shared_model::sale::Sale;
use pos_core::{CoreError, RefundRequest};
use receipt_printer::PrinterProfile;
use receipt_printer::driver::Timeouts;
use receipt_printer::test_printer::{Condition, ReceivedJob, TestPrinter};

const WAIT: Duration = Duration::from_secs(10);

fn config() -> QueueConfig {
    QueueConfig {
        digital_receipt_base_url: Some("https://struk.example.id/r".into()),
        backoff_initial: Duration::from_millis(30),
        backoff_max: Duration::from_millis(200),
        hold_poll: Duration::from_millis(40),
        idle_poll: Duration::from_millis(50),
        timeouts: Timeouts {
            connect: Duration::from_millis(300),
            write: Duration::from_secs(2),
            read: Duration::from_millis(300),
        },
        ..QueueConfig::default()
    }
}

fn epson() -> PrinterProfile {
    PrinterProfile::by_name("epson-tm-t20").unwrap()
}

fn printer_at(target: &str) -> NewPrinter {
    NewPrinter {
        name: "Kasir 1".into(),
        target: target.into(),
        profile: epson(),
        is_default: true,
    }
}

fn sell(s: &mut Shop, tenders: &[Tender]) -> Sale {
    let mut cart = Cart::new();
    s.t.cart_add_product(&mut cart, s.indomie.id, None, Quantity::from_i64(2))
        .unwrap();
    s.t.cart_add_product(&mut cart, s.kopi.id, None, Quantity::from_i64(1))
        .unwrap();
    s.t.checkout(&cart, tenders, s.cashier, None).unwrap()
}

fn cash_sale(s: &mut Shop) -> Sale {
    // 2 × 3.500 + 12.900 = 19.900; 50.000 handed over, 30.100 back.
    sell(s, &[Tender::cash(Money::from_i64(50_000))])
}

fn wait_for_job(
    q: &PrintQueue,
    job_id: i64,
    what: &str,
    ok: impl Fn(&QueuedJob) -> bool,
) -> QueuedJob {
    let deadline = Instant::now() + WAIT;
    loop {
        let job = q.job(job_id).unwrap();
        if ok(&job) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {job:#?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn job_of(q: &PrintQueue, sale: &Sale) -> QueuedJob {
    let jobs = q.jobs_for(&sale.id.to_string()).unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    jobs[0].clone()
}

/// A port nobody listens on (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts listening on `port` and forwards each connection to `to`: the printer "comes back"
/// at the address the queue has been trying.
fn forward(port: u16, to: std::net::SocketAddr) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(printer) = TcpStream::connect(to) else {
                continue;
            };
            let (mut c_read, mut p_write) =
                (client.try_clone().unwrap(), printer.try_clone().unwrap());
            let (mut p_read, mut c_write) = (printer, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut p_write);
                let _ = p_write.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut p_read, &mut c_write);
            });
        }
    });
}

fn printed_text(job: &ReceivedJob) -> String {
    job.printout.text()
}

#[test]
fn a_cash_sale_prints_once_with_its_number_total_qr_and_a_drawer_kick() {
    let mut s = shop();
    let printer = TestPrinter::start(epson()).unwrap();
    let mut q = PrintQueue::open(&s.path, config()).unwrap();
    q.add_printer(printer_at(&printer.target())).unwrap();
    let sale = cash_sale(&mut s);
    let printed = printer.wait_for_printed(1, WAIT);
    assert_eq!(printed.len(), 1);
    let text = printed_text(&printed[0]);
    assert!(text.contains(&sale.receipt_no.to_string()), "{text}");
    assert!(text.contains("Rp 19.900"), "{text}");
    assert!(text.contains("Rp 30.100"), "{text}");
    assert!(text.contains("Sari"), "{text}");
    assert!(text.contains("STRUK PENJUALAN"), "{text}");
    assert!(!text.contains("SALINAN"), "{text}");
    assert_eq!(printed[0].printout.drawer_kicks().len(), 1);
    assert_eq!(
        printed[0].printout.qr_payloads(),
        [format!(
            "https://struk.example.id/r/{}",
            sale.receipt_token.as_deref().expect("token")
        )]
    );
    assert!(
        printed[0].printout.problems.is_empty(),
        "{:?}",
        printed[0].printout.problems
    );
    // Status was asked before and after the job.
    assert_eq!(printed[0].printout.status_requests.len(), 6);
    let job = wait_for_job(&q, job_of(&q, &sale).job_id, "printed", |j| {
        j.state == JobState::Printed
    });
    assert_eq!(job.description, "printed");
    assert_eq!(
        job.number.as_deref(),
        Some(sale.receipt_no.to_string().as_str())
    );
    assert!(job.written_at.is_some());
    // Nothing prints a second time.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(printer.wait_for_printed(1, Duration::ZERO).len(), 1);
    // The row records the write.
    let status: String = rusqlite_open(&s.path)
        .query_row(
            "SELECT status FROM print_jobs WHERE record_id = ?1",
            [sale.id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "done");
}

#[test]
fn a_non_cash_sale_does_not_open_the_drawer_and_a_refund_prints_its_own_receipt() {
    let mut s = shop();
    let printer = TestPrinter::start(epson()).unwrap();
    let mut q = PrintQueue::open(&s.path, config()).unwrap();
    q.add_printer(printer_at(&printer.target())).unwrap();
    let sale = sell(
        &mut s,
        &[Tender::with(
            PaymentMethod::Card,
            Money::from_i64(19_900),
            Some("APPR 1"),
        )],
    );
    let printed = printer.wait_for_printed(1, WAIT);
    assert!(printed[0].printout.drawer_kicks().is_empty());
    let lines = s.t.refundable_lines(sale.id).unwrap();
    let refund =
        s.t.refund(RefundRequest {
            sale_id: sale.id,
            lines,
            tenders: vec![Tender::cash(Money::from_i64(19_900))],
            reason: "salah beli".into(),
            cashier: s.cashier,
            approval: s.approval(),
        })
        .unwrap();
    let printed = printer.wait_for_printed(2, WAIT);
    assert_eq!(printed.len(), 2);
    let text = printed_text(&printed[1]);
    assert!(text.contains("STRUK PENGEMBALIAN"), "{text}");
    assert!(text.contains(&refund.receipt_no.to_string()), "{text}");
    assert!(
        text.contains(&format!("Struk asal: {}", sale.receipt_no)),
        "{text}"
    );
    // Cash goes back out of the drawer.
    assert_eq!(printed[1].printout.drawer_kicks().len(), 1);
}

#[test]
fn paper_out_holds_the_job_until_the_paper_is_back() {
    let mut s = shop();
    let printer = TestPrinter::start(epson()).unwrap();
    printer.set_condition(Condition::paper_out());
    let mut q = PrintQueue::open(&s.path, config()).unwrap();
    q.add_printer(printer_at(&printer.target())).unwrap();
    let sale = cash_sale(&mut s);
    let id = job_of(&q, &sale).job_id;
    let held = wait_for_job(&q, id, "held", |j| j.state == JobState::Held);
    assert!(
        held.description.contains("paper out"),
        "{}",
        held.description
    );
    assert_eq!(held.attempts, 0);
    // The printer was asked (several times by now) but given nothing to print.
    std::thread::sleep(Duration::from_millis(200));
    assert!(printer.wait_for_printed(1, Duration::ZERO).is_empty());
    assert!(printer.jobs().len() >= 2, "status asked again while held");
    let p = &q.printers().unwrap()[0];
    assert!(
        p.last_status.as_deref().unwrap().contains("paper out"),
        "{p:?}"
    );

    printer.set_condition(Condition::ready());
    let printed = printer.wait_for_printed(1, WAIT);
    assert_eq!(printed.len(), 1);
    assert!(printed_text(&printed[0]).contains(&sale.receipt_no.to_string()));
    wait_for_job(&q, id, "printed", |j| j.state == JobState::Printed);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(printer.wait_for_printed(1, Duration::ZERO).len(), 1);
}

#[test]
fn an_offline_printer_holds_and_a_cover_open_too() {
    let mut s = shop();
    let printer = TestPrinter::start(epson()).unwrap();
    printer.set_condition(Condition::offline());
    let mut q = PrintQueue::open(&s.path, config()).unwrap();
    q.add_printer(printer_at(&printer.target())).unwrap();
    let sale = cash_sale(&mut s);
    let id = job_of(&q, &sale).job_id;
    let held = wait_for_job(&q, id, "held offline", |j| j.state == JobState::Held);
    assert!(held.description.contains("offline"), "{}", held.description);
    printer.set_condition(Condition {
        cover_open: true,
        ..Condition::ready()
    });
    let held = wait_for_job(&q, id, "held for the cover", |j| {
        j.description.contains("cover open")
    });
    assert_eq!(held.state, JobState::Held);
    assert!(printer.wait_for_printed(1, Duration::ZERO).is_empty());
    printer.set_condition(Condition::ready());
    assert_eq!(printer.wait_for_printed(1, WAIT).len(), 1);
    wait_for_job(&q, id, "printed", |j| j.state == JobState::Printed);
}

#[test]
fn an_unreachable_printer_is_retried_with_backoff_and_prints_when_it_comes_back() {
    let mut s = shop();
    let printer = TestPrinter::start(epson()).unwrap();
    let port = free_port();
    let mut q = PrintQueue::open(&s.path, config()).unwrap();
    q.add_printer(printer_at(&format!("tcp://127.0.0.1:{port}")))
        .unwrap();
    let sale = cash_sale(&mut s);
    let id = job_of(&q, &sale).job_id;
    let started = Instant::now();
    let retrying = wait_for_job(&q, id, "three failed attempts", |j| j.attempts >= 3);
    let took = started.elapsed();
    assert_eq!(retrying.state, JobState::Retrying);
    assert!(
        retrying.description.contains("cannot be reached"),
        "{}",
        retrying.description
    );
    assert!(retrying.next_attempt_at.is_some());
    // Backoff 30 ms, 60 ms, …: at least the jittered halves (15 + 30 ms) passed.
    assert!(took >= Duration::from_millis(45), "{took:?}");
    let p = &q.printers().unwrap()[0];
    assert!(
        p.last_status
            .as_deref()
            .unwrap()
            .contains("cannot be reached")
    );

    forward(port, printer.address().unwrap());
    let printed = printer.wait_for_printed(1, WAIT);
    assert_eq!(printed.len(), 1);
    assert!(printed_text(&printed[0]).contains(&sale.receipt_no.to_string()));
    // The drawer still opens: nothing had reached the printer before.
    assert_eq!(printed[0].printout.drawer_kicks().len(), 1);
    let done = wait_for_job(&q, id, "printed", |j| j.state == JobState::Printed);
    assert!(done.attempts >= 3);
    assert_eq!(done.last_error, None);
}

#[test]
fn pending_jobs_survive_a_restart_and_print_in_order() {
    let mut s = shop();
    let printer = TestPrinter::start(epson()).unwrap();
    printer.set_condition(Condition::paper_out());
    let first;
    let second;
    {
        let mut q = PrintQueue::open(&s.path, config()).unwrap();
        q.add_printer(printer_at(&printer.target())).unwrap();
        first = cash_sale(&mut s);
        second = cash_sale(&mut s);
        wait_for_job(&q, job_of(&q, &first).job_id, "held", |j| {
            j.state == JobState::Held
        });
        q.shutdown();
    }
    // The whole app restarts: terminal store and queue.
    s.reopen();
    printer.set_condition(Condition::ready());
    let q = PrintQueue::open(&s.path, config()).unwrap();
    let printed = printer.wait_for_printed(2, WAIT);
    assert_eq!(printed.len(), 2);
    let texts: Vec<String> = printed.iter().map(printed_text).collect();
    assert!(
        texts[0].contains(&first.receipt_no.to_string()),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].contains(&second.receipt_no.to_string()),
        "{}",
        texts[1]
    );
    for sale in [&first, &second] {
        wait_for_job(&q, job_of(&q, sale).job_id, "printed", |j| {
            j.state == JobState::Printed
        });
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(printer.wait_for_printed(3, Duration::ZERO).len(), 2);
}

/// The one documented window: the app dies after the bytes were written and before the job
/// was recorded as printed. The job is sent again at start-up (a duplicate receipt rather than
/// a lost one), without a second drawer kick.
#[test]
fn a_crash_between_the_write_and_its_record_prints_again_without_the_drawer() {
    let mut s = shop();
    let printer = TestPrinter::start(epson()).unwrap();
    let cfg = config();
    cfg.faults
        .fail_written_marks
        .store(u32::MAX, Ordering::SeqCst);
    let mut q = PrintQueue::open(&s.path, cfg).unwrap();
    q.add_printer(printer_at(&printer.target())).unwrap();
    let sale = cash_sale(&mut s);
    let id = job_of(&q, &sale).job_id;
    assert_eq!(printer.wait_for_printed(1, WAIT).len(), 1);
    q.shutdown();
    s.reopen();
    let q = PrintQueue::open(&s.path, config()).unwrap();
    let printed = printer.wait_for_printed(2, WAIT);
    assert_eq!(printed.len(), 2);
    assert_eq!(printed[0].printout.drawer_kicks().len(), 1);
    assert!(printed[1].printout.drawer_kicks().is_empty());
    assert!(printed_text(&printed[1]).contains(&sale.receipt_no.to_string()));
    wait_for_job(&q, id, "printed", |j| j.state == JobState::Printed);
}

#[test]
fn a_written_job_is_not_printed_again_when_recording_it_fails() {
    let mut s = shop();
    let printer = TestPrinter::start(epson()).unwrap();
    let cfg = config();
    cfg.faults.fail_written_marks.store(3, Ordering::SeqCst);
    let mut q = PrintQueue::open(&s.path, cfg.clone()).unwrap();
    q.add_printer(printer_at(&printer.target())).unwrap();
    let sale = cash_sale(&mut s);
    let id = job_of(&q, &sale).job_id;
    assert_eq!(printer.wait_for_printed(1, WAIT).len(), 1);
    let done = wait_for_job(&q, id, "recorded", |j| j.state == JobState::Printed);
    assert_eq!(cfg.faults.fail_written_marks.load(Ordering::SeqCst), 0);
    assert_eq!(done.attempts, 0);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(printer.wait_for_printed(2, Duration::ZERO).len(), 1);
    // Nor after a restart.
    q.shutdown();
    s.reopen();
    let q = PrintQueue::open(&s.path, config()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(printer.wait_for_printed(2, Duration::ZERO).len(), 1);
    assert_eq!(q.job(id).unwrap().state, JobState::Printed);
}

#[test]
fn a_reprint_is_a_copy_and_never_opens_the_drawer() {
    let mut s = shop();
    let printer = TestPrinter::start(epson()).unwrap();
    let mut q = PrintQueue::open(&s.path, config()).unwrap();
    q.add_printer(printer_at(&printer.target())).unwrap();
    let sale = cash_sale(&mut s);
    let original = printer.wait_for_printed(1, WAIT);
    let original_id = job_of(&q, &sale).job_id;
    wait_for_job(&q, original_id, "printed", |j| j.state == JobState::Printed);

    let copy = q.reprint(&sale.id.to_string()).unwrap();
    assert!(copy.copy);
    assert_eq!(copy.copy_of, Some(original_id));
    let printed = printer.wait_for_printed(2, WAIT);
    assert_eq!(printed.len(), 2);
    let text = printed_text(&printed[1]);
    assert!(text.contains("COPY"), "{text}");
    assert!(text.contains("SALINAN"), "{text}");
    assert!(text.contains(&sale.receipt_no.to_string()), "{text}");
    assert!(printed[1].printout.drawer_kicks().is_empty());
    // The copy is the receipt as first printed, with the banner.
    let strip = |t: &str| t.replace("*** COPY / SALINAN ***", "");
    assert_eq!(
        strip(&text).split_whitespace().collect::<Vec<_>>(),
        strip(&printed_text(&original[0]))
            .split_whitespace()
            .collect::<Vec<_>>()
    );
    let done = wait_for_job(&q, copy.job_id, "copy printed", |j| {
        j.state == JobState::Printed
    });
    assert_eq!(done.description, "printed (copy)");

    // A copy with no frozen receipt (as the removed `Terminal::reprint` queued them, and
    // older files may still hold) is rendered from the record as a copy too.
    rusqlite_open(&s.path)
        .execute(
            "INSERT INTO print_jobs (record_id, kind, copy, created_at, updated_at)
             VALUES (?1, 'receipt', 1, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z')",
            [sale.id.to_string()],
        )
        .unwrap();
    q.wake();
    let printed = printer.wait_for_printed(3, WAIT);
    assert!(printed_text(&printed[2]).contains("SALINAN"));
    assert!(printed[2].printout.drawer_kicks().is_empty());

    assert!(matches!(
        q.reprint("no-such-sale"),
        Err(CoreError::NotFound { .. })
    ));
}

#[test]
fn the_queue_lists_jobs_with_their_errors_in_words_and_cancels_them() {
    let mut s = shop();
    let port = free_port();
    let mut q = PrintQueue::open(&s.path, config()).unwrap();
    // Before any printer is set up, a receipt says why it waits.
    let early = cash_sale(&mut s);
    let waiting = job_of(&q, &early);
    assert_eq!(waiting.state, JobState::Waiting);
    assert_eq!(waiting.description, "waiting: no printer is set up for it");
    q.cancel(waiting.job_id).unwrap();
    let p = q
        .add_printer(printer_at(&format!("tcp://127.0.0.1:{port}")))
        .unwrap();
    let sale = cash_sale(&mut s);
    let id = job_of(&q, &sale).job_id;
    let job = wait_for_job(&q, id, "a failed attempt", |j| j.attempts >= 1);
    assert_eq!(job.state, JobState::Retrying);
    assert_eq!(job.printer.as_deref(), Some("Kasir 1"));
    assert!(
        job.description.starts_with("retrying") && job.description.contains("cannot be reached"),
        "{}",
        job.description
    );
    let err = job.last_error.clone().unwrap();
    assert!(err.contains(&format!("tcp://127.0.0.1:{port}")), "{err}");
    let open = q.jobs(JobFilter::Open, 50).unwrap();
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(
        open[0].number.as_deref(),
        Some(sale.receipt_no.to_string().as_str())
    );

    let cancelled = q.cancel(id).unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(cancelled.description, "cancelled");
    assert!(q.jobs(JobFilter::Open, 50).unwrap().is_empty());
    assert_eq!(q.jobs(JobFilter::All, 50).unwrap().len(), 2);
    match q.cancel(id) {
        Err(e @ CoreError::PrintJobState { .. }) => {
            assert!(e.to_string().contains("cancelled"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(q.cancel(9999), Err(CoreError::NotFound { .. })));

    // A job whose record cannot be found fails with the reason and waits for the cashier.
    let conn = rusqlite_open(&s.path);
    conn.execute(
        "INSERT INTO print_jobs (record_id, kind, created_at, updated_at)
         VALUES ('no-such-sale', 'receipt', '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z')",
        [],
    )
    .unwrap();
    let bad = conn.last_insert_rowid();
    drop(conn);
    let printer = TestPrinter::start(epson()).unwrap();
    q.update_printer(
        p.id,
        PrinterChange {
            target: Some(printer.target()),
            ..PrinterChange::default()
        },
    )
    .unwrap();
    let failed = wait_for_job(&q, bad, "failed", |j| j.state == JobState::Failed);
    assert!(
        failed
            .description
            .starts_with("not printed: the receipt cannot be made")
            && failed.description.contains("no-such-sale"),
        "{}",
        failed.description
    );
    q.cancel(bad).unwrap();
    // Printed jobs cannot be cancelled.
    let z = q
        .enqueue_z_report(receipt_printer::sample::sample_z_report(), None)
        .unwrap();
    wait_for_job(&q, z.job_id, "z printed", |j| j.state == JobState::Printed);
    let printed = printer.wait_for_printed(1, WAIT);
    let text = printed_text(&printed[0]);
    assert!(text.contains("LAPORAN Z"), "{text}");
    assert!(matches!(
        q.cancel(z.job_id),
        Err(CoreError::PrintJobState { .. })
    ));
}

#[test]
fn checkout_to_bytes_at_the_printer_latency() {
    let mut s = shop();
    let printer = TestPrinter::start(epson()).unwrap();
    let mut q = PrintQueue::open(&s.path, config()).unwrap();
    q.add_printer(printer_at(&printer.target())).unwrap();
    let mut samples = Vec::new();
    let mut checkouts = Vec::new();
    for n in 1..=50 {
        let t0 = Instant::now();
        cash_sale(&mut s);
        checkouts.push(t0.elapsed());
        let printed = printer.wait_for_printed(n, WAIT);
        assert_eq!(printed.len(), n);
        samples.push(t0.elapsed());
    }
    checkouts.sort();
    eprintln!(
        "checkout call alone (commit + journal update): p50 {:?}",
        checkouts[checkouts.len() / 2]
    );
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let (p50, p90, max) = (at(0.5), at(0.9), at(1.0));
    eprintln!(
        "checkout → receipt decoded at the test printer, {} sales: p50 {p50:?}, p90 {p90:?}, max {max:?}",
        samples.len()
    );
    // Checkout wakes the worker: far below the idle poll interval.
    assert!(p50 < Duration::from_millis(500), "{p50:?}");
}

#[test]
fn a_shift_z_report_prints_through_the_queue_and_jobs_have_a_preview() {
    let mut s = shop();
    let printer = TestPrinter::start(epson()).unwrap();
    let mut q = PrintQueue::open(&s.path, config()).unwrap();
    q.add_printer(printer_at(&printer.target())).unwrap();
    let first = cash_sale(&mut s);
    let last = cash_sale(&mut s);
    let png = q.job_preview_png(job_of(&q, &first).job_id, None).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let shift = s.t.open_shift().unwrap().unwrap();
    // Float 200.000 + 2 × 19.900 cash = 239.800 expected; 239.000 counted.
    s.t.close_shift(Money::from_i64(239_000), s.cashier)
        .unwrap();
    let report = s.t.z_report_print_shift(shift.id).unwrap();
    assert!(report.number.starts_with("Z-T1-") && report.number.ends_with("-1"));
    assert_eq!(
        report.receipt_range,
        Some((first.receipt_no.to_string(), last.receipt_no.to_string()))
    );
    assert_eq!(report.closed_by, "Sari");
    let job = q.enqueue_z_report(report.clone(), None).unwrap();
    assert_eq!(job.kind, "zreport");
    let printed = printer.wait_for_printed(3, WAIT);
    let text = printed_text(&printed[2]);
    assert!(text.contains("LAPORAN Z"), "{text}");
    assert!(text.contains(&report.number), "{text}");
    assert!(text.contains("Rp 39.800"), "{text}");
    assert!(text.contains("-Rp 800"), "{text}");
    assert!(printed[2].printout.drawer_kicks().is_empty());
    let copy = q.reprint_job(job.job_id).unwrap();
    let printed = printer.wait_for_printed(4, WAIT);
    assert!(printed_text(&printed[3]).contains("SALINAN"));
    wait_for_job(&q, copy.job_id, "copy printed", |j| {
        j.state == JobState::Printed
    });
}

#[test]
fn each_printer_has_its_own_worker_and_queue() {
    let mut s = shop();
    let counter = TestPrinter::start(epson()).unwrap();
    let office = TestPrinter::start(epson()).unwrap();
    // The office printer is out of paper: only its own jobs wait.
    office.set_condition(Condition::paper_out());
    let mut q = PrintQueue::open(&s.path, config()).unwrap();
    q.add_printer(printer_at(&counter.target())).unwrap();
    let back = q
        .add_printer(NewPrinter {
            name: "Kantor".into(),
            target: office.target(),
            profile: epson(),
            is_default: false,
        })
        .unwrap();
    assert!(!back.is_default);
    let z = q
        .enqueue_z_report(receipt_printer::sample::sample_z_report(), Some(back.id))
        .unwrap();
    wait_for_job(&q, z.job_id, "held", |j| j.state == JobState::Held);
    // The receipt goes to the default (counter) printer while the office job is held.
    let sale = cash_sale(&mut s);
    let printed = counter.wait_for_printed(1, WAIT);
    assert!(printed_text(&printed[0]).contains(&sale.receipt_no.to_string()));
    assert_eq!(q.job(z.job_id).unwrap().state, JobState::Held);
    office.set_condition(Condition::ready());
    let printed = office.wait_for_printed(1, WAIT);
    let text = printed_text(&printed[0]);
    assert!(text.contains("LAPORAN Z"), "{text}");
    assert_eq!(q.job(z.job_id).unwrap().printer.as_deref(), Some("Kantor"));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(counter.wait_for_printed(2, Duration::ZERO).len(), 1);
    // Disabling a printer stops its worker; its jobs wait and say why.
    q.update_printer(
        back.id,
        PrinterChange {
            enabled: Some(false),
            ..PrinterChange::default()
        },
    )
    .unwrap();
    let again = q.reprint_job(z.job_id).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let waiting = q.job(again.job_id).unwrap();
    assert_eq!(waiting.state, JobState::Waiting);
    assert_eq!(waiting.description, "waiting: its printer is disabled");
    assert_eq!(office.wait_for_printed(2, Duration::ZERO).len(), 1);
}

#[cfg(unix)]
#[test]
fn a_serial_printer_prints_through_the_same_queue() {
    let mut s = shop();
    let printer = TestPrinter::start_serial(epson()).unwrap();
    let mut q = PrintQueue::open(&s.path, config()).unwrap();
    q.add_printer(printer_at(&printer.target())).unwrap();
    let sale = cash_sale(&mut s);
    let printed = printer.wait_for_printed(1, WAIT);
    assert_eq!(printed.len(), 1);
    assert!(printed_text(&printed[0]).contains(&sale.receipt_no.to_string()));
    wait_for_job(&q, job_of(&q, &sale).job_id, "printed", |j| {
        j.state == JobState::Printed
    });
}

/// The removed `Terminal::set_print_status` could leave a job `printing` with no printer in a
/// schema-5 file; migration 6 puts it back in the queue and the default printer prints it as
/// the original it is.
#[test]
fn a_job_the_old_api_left_printing_is_printed_by_the_default_printer_after_migrating() {
    let mut s = shop();
    let sale = cash_sale(&mut s);
    let conn = rusqlite_open(&s.path);
    conn.execute(
        "UPDATE print_jobs SET status = 'printing', attempts = 1 WHERE record_id = ?1",
        [sale.id.to_string()],
    )
    .unwrap();
    conn.execute_batch("PRAGMA user_version = 5").unwrap();
    drop(conn);
    s.reopen();
    assert!(s.t.backup_taken().is_some(), "migration 6 ran");
    let printer = TestPrinter::start(epson()).unwrap();
    let mut q = PrintQueue::open(&s.path, config()).unwrap();
    q.add_printer(printer_at(&printer.target())).unwrap();
    let id = job_of(&q, &sale).job_id;
    let printed = printer.wait_for_printed(1, WAIT);
    assert!(printed_text(&printed[0]).contains(&sale.receipt_no.to_string()));
    // No queue ever rendered or sent it (it has no frozen receipt), so this is the original
    // print of a cash sale: the drawer opens.
    assert_eq!(printed[0].printout.drawer_kicks().len(), 1);
    wait_for_job(&q, id, "printed", |j| j.state == JobState::Printed);
}
