//! The real serial driver (the `serialport` crate) against the test printer
//! on a pseudo-terminal: the driver opens `/dev/pts/N` exactly as it would
//! open `/dev/ttyUSB0`.
#![cfg(unix)]

use std::time::Duration;

use receipt_printer::driver::{self, Target, Timeouts};
use receipt_printer::test_printer::{Condition, TestPrinter};
use receipt_printer::{
    LayoutOptions, PrinterError, PrinterProfile, Readiness, encode_receipt, query_status, sample,
    send_job,
};

const WAIT: Duration = Duration::from_secs(5);

fn serial_printer(profile: &PrinterProfile) -> TestPrinter {
    TestPrinter::start_serial(profile.clone())
        .expect("a pseudo-terminal for the serial test printer (needs /dev/ptmx and /dev/pts)")
}

#[test]
fn a_receipt_prints_over_serial_with_status() {
    let profile = PrinterProfile::by_name("xprinter-58").expect("built in");
    let printer = serial_printer(&profile);
    let target: Target = printer.target().parse().expect("valid serial target");
    assert!(matches!(target, Target::Serial { baud: 9600, .. }));
    let bytes = encode_receipt(
        &sample::sample_receipt(),
        &profile,
        &LayoutOptions::default(),
    )
    .expect("encodes");
    {
        let mut conn = driver::connect(&target, Timeouts::default()).expect("opens the pty");
        let report = send_job(conn.as_mut(), &profile, &bytes).expect("sent");
        assert_eq!(report.before.readiness(), Readiness::Ready);
        assert_eq!(report.after.to_string(), "online, paper OK");
    }
    let jobs = printer.wait_for_printed(1, WAIT);
    assert_eq!(
        jobs.len(),
        1,
        "{:?}",
        printer
            .jobs()
            .iter()
            .map(|j| j.bytes.len())
            .collect::<Vec<_>>()
    );
    let printout = &jobs[0].printout;
    assert_eq!(jobs[0].error, None);
    assert!(
        printout.text().contains("Café au lait – ukuran besar"),
        "{}",
        printout.text()
    );
    assert!(printout.problems.is_empty(), "{:?}", printout.problems);
    assert_eq!(printout.qr_payloads().len(), 1);
}

#[test]
fn serial_status_paper_out_and_bad_reply() {
    let profile = PrinterProfile::by_name("epson-tm-t20").expect("built in");
    let printer = serial_printer(&profile);
    let target: Target = printer.target().parse().expect("valid serial target");
    printer.set_condition(Condition::paper_out());
    {
        let mut conn = driver::connect(&target, Timeouts::default()).expect("opens the pty");
        let status = query_status(conn.as_mut(), &profile).expect("status read");
        assert_eq!(status.to_string(), "offline: paper out");
    }
    printer.set_condition(Condition {
        reply_override: Some(vec![0x80]),
        ..Condition::ready()
    });
    let mut conn = driver::connect(&target, Timeouts::default()).expect("opens the pty");
    assert!(matches!(
        query_status(conn.as_mut(), &profile),
        Err(PrinterError::BadStatusReply {
            request: 1,
            byte: 0x80
        })
    ));
}
