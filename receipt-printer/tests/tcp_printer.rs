//! The real TCP driver against the test printer: jobs arrive decoded,
//! status is read in every condition the printer can report, and bad or
//! missing replies give clear results.

use std::time::Duration;

use receipt_printer::driver::{self, Connection, Target, Timeouts};
use receipt_printer::test_printer::{Condition, TestPrinter};
use receipt_printer::{
    LayoutOptions, PaperState, PrinterError, PrinterProfile, Readiness, encode_receipt,
    query_status, sample, send_job,
};

const WAIT: Duration = Duration::from_secs(5);

fn profile(name: &str) -> PrinterProfile {
    PrinterProfile::by_name(name).expect("built-in profile")
}

fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        write: Duration::from_secs(2),
        read: Duration::from_millis(300),
    }
}

fn connect(printer: &TestPrinter) -> Box<dyn Connection> {
    let target: Target = printer.target().parse().expect("valid target");
    driver::connect(&target, timeouts()).expect("test printer accepts connections")
}

fn start(profile_name: &str) -> TestPrinter {
    TestPrinter::start(profile(profile_name)).expect("bind a loopback port for the test printer")
}

#[test]
fn a_receipt_prints_with_text_qr_logo_cut_and_drawer() {
    let p = profile("epson-tm-t20");
    let printer = start("epson-tm-t20");
    let options = LayoutOptions {
        open_drawer: true,
        ..LayoutOptions::default()
    };
    let bytes = encode_receipt(&sample::sample_receipt(), &p, &options).expect("encodes");
    {
        let mut conn = connect(&printer);
        let report = send_job(conn.as_mut(), &p, &bytes).expect("job is sent");
        assert_eq!(report.before.readiness(), Readiness::Ready);
        assert_eq!(report.after.to_string(), "online, paper OK");
    }
    let jobs = printer.wait_for_printed(1, WAIT);
    assert_eq!(jobs.len(), 1, "one job printed");
    let job = &jobs[0];
    assert_eq!(job.error, None);
    // the status requests before and after the job, then the job itself
    assert_eq!(job.printout.status_requests, [1, 2, 4, 1, 2, 4]);
    let text = job.printout.text();
    for expected in [
        "Café au lait – ukuran besar",
        "Rp 110.400",
        "Crème brûlée “spesial”…",
        "NPWP: 01.234.567.8-901.000",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert_eq!(
        job.printout.qr_payloads(),
        ["https://snapkasir.id/r/BDG1-T01-261125-0042"]
    );
    assert!(!job.printout.images().is_empty(), "logo printed");
    assert_eq!(job.printout.cuts(), 1);
    assert_eq!(job.printout.drawer_kicks(), [(0, 25, 250)]);
    assert!(
        job.printout.problems.is_empty(),
        "{:?}",
        job.printout.problems
    );
    assert!(
        job.printout.code_page_selections.contains(&16),
        "WPC1252 selected for the en dash"
    );
}

#[test]
fn status_in_every_condition() {
    let p = profile("epson-tm-t82");
    let printer = start("epson-tm-t82");
    let cases = [
        (Condition::ready(), "online, paper OK", Readiness::Ready),
        (
            Condition::paper_out(),
            "offline: paper out",
            Readiness::Hold,
        ),
        (
            Condition {
                paper: PaperState::NearEnd,
                ..Condition::ready()
            },
            "online: paper near end",
            Readiness::Ready,
        ),
        (
            Condition {
                cover_open: true,
                ..Condition::ready()
            },
            "offline: cover open",
            Readiness::Hold,
        ),
        (
            Condition::offline(),
            "offline: printer error",
            Readiness::Hold,
        ),
    ];
    for (condition, words, readiness) in cases {
        printer.set_condition(condition.clone());
        let mut conn = connect(&printer);
        let status = query_status(conn.as_mut(), &p).expect("status is read");
        assert_eq!(status.to_string(), words, "{condition:?}");
        assert_eq!(status.readiness(), readiness, "{condition:?}");
    }
}

#[test]
fn paper_out_holds_the_job_and_nothing_is_written() {
    let p = profile("xprinter-80");
    let printer = start("xprinter-80");
    printer.set_condition(Condition::paper_out());
    let bytes =
        encode_receipt(&sample::sample_receipt(), &p, &LayoutOptions::default()).expect("encodes");
    {
        let mut conn = connect(&printer);
        match send_job(conn.as_mut(), &p, &bytes) {
            Err(PrinterError::NotReady(status)) => assert_eq!(status.paper, PaperState::Out),
            other => panic!("expected NotReady, got {other:?}"),
        }
    }
    // paper loaded: the same job goes through
    printer.set_condition(Condition::ready());
    {
        let mut conn = connect(&printer);
        send_job(conn.as_mut(), &p, &bytes).expect("prints once paper is back");
    }
    let printed = printer.wait_for_printed(1, WAIT);
    assert_eq!(printed.len(), 1, "held job printed exactly once");
    let all = printer.wait_for_connections(2, WAIT);
    let held: Vec<_> = all.iter().filter(|j| !j.printed_anything()).collect();
    assert_eq!(held.len(), 1, "one held attempt");
    assert_eq!(
        held[0].bytes,
        [0x10, 0x04, 0x01, 0x10, 0x04, 0x02, 0x10, 0x04, 0x04],
        "held attempt sent only DLE EOT 1, 2, 4"
    );
}

#[test]
fn silent_printer_reports_unknown() {
    let p = profile("epson-tm-t20");
    let printer = start("epson-tm-t20");
    printer.set_condition(Condition {
        answers_status: false,
        ..Condition::ready()
    });
    let mut conn = connect(&printer);
    let status = query_status(conn.as_mut(), &p).expect("no reply is not an error");
    assert_eq!(status.readiness(), Readiness::Unknown);
    assert_eq!(
        status.to_string(),
        "unknown (the printer does not report status)"
    );
}

#[test]
fn a_bad_reply_is_a_clear_error() {
    let p = profile("epson-tm-t20");
    let printer = start("epson-tm-t20");
    printer.set_condition(Condition {
        reply_override: Some(vec![0xFF]),
        ..Condition::ready()
    });
    let mut conn = connect(&printer);
    match query_status(conn.as_mut(), &p) {
        Err(
            e @ PrinterError::BadStatusReply {
                request: 1,
                byte: 0xFF,
            },
        ) => {
            assert_eq!(
                e.to_string(),
                "bad status reply to DLE EOT 1: 0xFF (fixed bits wrong)"
            );
        }
        other => panic!("expected BadStatusReply, got {other:?}"),
    }
}

#[test]
fn profiles_without_status_are_not_asked() {
    let p = profile("generic-80");
    let printer = start("generic-80");
    {
        let mut conn = connect(&printer);
        let status = query_status(conn.as_mut(), &p).expect("nothing asked");
        assert_eq!(status.readiness(), Readiness::Unknown);
        conn.write_all(b"\x1b@hello\n").expect("written");
    }
    let jobs = printer.wait_for_printed(1, WAIT);
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].printout.status_requests.is_empty());
    assert_eq!(jobs[0].printout.text_lines(), ["hello"]);
}

#[test]
fn unreachable_printer_is_a_connect_error() {
    let address = {
        let printer = start("generic-80");
        printer.target()
    }; // dropped: nothing listens there any more
    let target: Target = address.parse().expect("valid");
    match driver::connect(&target, timeouts()) {
        Err(e @ PrinterError::Connect { .. }) => assert!(e.to_string().contains(&address), "{e}"),
        other => panic!("expected a connect error, got {other:?}"),
    }
}

#[test]
fn host_names_resolve() {
    let printer = start("generic-58");
    let target: Target = format!(
        "tcp://localhost:{}",
        printer.address().expect("a TCP test printer").port()
    )
    .parse()
    .expect("valid");
    let mut conn =
        driver::connect(&target, timeouts()).expect("localhost resolves to the test printer");
    conn.write_all(b"\x1b@ok\n").expect("written");
    drop(conn);
    assert_eq!(
        printer.wait_for_printed(1, WAIT)[0].printout.text_lines(),
        ["ok"]
    );
}

#[test]
fn unknown_commands_are_flagged_by_the_test_printer() {
    let printer = start("generic-58");
    {
        let mut conn = connect(&printer);
        conn.write_all(b"\x1b@abc\x07def\n").expect("written");
    }
    let jobs = printer.wait_for_connections(1, WAIT);
    let error = jobs[0].error.clone().expect("BEL is not a command we send");
    assert!(
        error.contains("unknown ESC/POS command at byte 5"),
        "{error}"
    );
}

#[test]
fn a_stalled_printer_fails_the_write_with_the_count_accepted() {
    let printer = start("generic-80");
    printer.set_condition(Condition {
        stalled: true,
        ..Condition::ready()
    });
    let target: Target = printer.target().parse().expect("valid");
    let timeouts = Timeouts {
        write: Duration::from_millis(300),
        ..timeouts()
    };
    let mut conn = driver::connect(&target, timeouts).expect("connects");
    // far more than loopback socket buffers hold
    let job = vec![b'x'; 64 * 1024 * 1024];
    match conn.write_all(&job) {
        Err(PrinterError::Write {
            written,
            total,
            source,
        }) => {
            assert_eq!(total, job.len());
            assert!(written < total, "{written} of {total}");
            assert!(
                matches!(
                    source.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "{source}"
            );
        }
        other => panic!("expected a write timeout, got {other:?}"),
    }
}
