//! The real `escpos-print` binary against the test printer and a file.

use std::process::{Command, Output};
use std::time::Duration;

use receipt_printer::PrinterProfile;
use receipt_printer::printout::Printout;
use receipt_printer::test_printer::{Condition, TestPrinter};

const WAIT: Duration = Duration::from_secs(5);

fn escpos_print(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_escpos-print"))
        .args(args)
        .output()
        .expect("the escpos-print binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn printer(profile: &str) -> TestPrinter {
    TestPrinter::start(PrinterProfile::by_name(profile).expect("built in"))
        .expect("bind a loopback port for the test printer")
}

#[test]
fn profiles_lists_every_built_in_profile() {
    let out = escpos_print(&["profiles"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for p in PrinterProfile::built_in() {
        assert!(text.contains(&p.name), "{} missing from:\n{text}", p.name);
    }
    assert!(text.contains("32 cols 384 dots") && text.contains("48 cols 576 dots"));
}

#[test]
fn sample_prints_on_a_network_printer() {
    let tp = printer("epson-tm-t20");
    let out = escpos_print(&[
        "--to",
        &tp.target(),
        "--profile",
        "epson-tm-t20",
        "sample",
        "--open-drawer",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("status after: online, paper OK"),
        "{}",
        stdout(&out)
    );
    let jobs = tp.wait_for_printed(1, WAIT);
    assert_eq!(jobs.len(), 1);
    let printout = &jobs[0].printout;
    assert_eq!(jobs[0].error, None);
    let text = printout.text();
    for expected in ["Café", "Rp 12.500", "–", "Rp 110.400"] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert_eq!(printout.qr_payloads().len(), 1);
    assert!(!printout.images().is_empty());
    assert_eq!(printout.drawer_kicks(), [(0, 25, 250)]);
    assert_eq!(printout.cuts(), 1);
}

#[test]
fn sample_to_a_file_with_a_preview() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let bin = dir.path().join("receipt.bin");
    let png = dir.path().join("receipt.png");
    let to = format!("file:{}", bin.display());
    let out = escpos_print(&[
        "--to",
        &to,
        "--profile",
        "generic-58",
        "sample",
        "--copy",
        "--preview",
        png.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&bin).expect("receipt written");
    let profile = PrinterProfile::by_name("generic-58").expect("built in");
    let printout = Printout::from_bytes(&bytes, &profile).expect("file holds valid ESC/POS");
    assert!(printout.problems.is_empty(), "{:?}", printout.problems);
    let text = printout.text();
    // generic printers have no en dash: it is transliterated, never raw UTF-8
    assert!(text.contains("Café au lait - ukuran besar"), "{text}");
    assert!(text.contains("*** COPY / SALINAN ***"));
    assert!(
        !bytes.windows(3).any(|w| w == "–".as_bytes()),
        "raw UTF-8 en dash in the output"
    );
    let preview = image::open(&png).expect("preview is a PNG");
    assert_eq!(preview.width(), 384);
}

#[test]
fn z_report_sample() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let bin = dir.path().join("z.bin");
    let to = format!("file:{}", bin.display());
    let out = escpos_print(&[
        "--to",
        &to,
        "--profile",
        "xprinter-80",
        "sample",
        "--z-report",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let profile = PrinterProfile::by_name("xprinter-80").expect("built in");
    let printout =
        Printout::from_bytes(&std::fs::read(&bin).expect("written"), &profile).expect("valid");
    assert!(printout.text().contains("LAPORAN Z / Z REPORT"));
    assert!(printout.text().contains("Rp 5.975.500"));
}

#[test]
fn status_in_words() {
    let tp = printer("xprinter-58");
    let out = escpos_print(&["--to", &tp.target(), "--profile", "xprinter-58", "status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "online, paper OK");

    tp.set_condition(Condition::paper_out());
    let out = escpos_print(&["--to", &tp.target(), "--profile", "xprinter-58", "status"]);
    assert_eq!(out.status.code(), Some(1), "not ready exits 1");
    assert_eq!(stdout(&out).trim(), "offline: paper out");

    tp.set_condition(Condition {
        cover_open: true,
        ..Condition::ready()
    });
    let out = escpos_print(&["--to", &tp.target(), "--profile", "xprinter-58", "status"]);
    assert_eq!(stdout(&out).trim(), "offline: cover open");
}

#[test]
fn sample_is_held_when_paper_is_out() {
    let tp = printer("epson-tm-t82");
    tp.set_condition(Condition::paper_out());
    let out = escpos_print(&["--to", &tp.target(), "--profile", "epson-tm-t82", "sample"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("printer not ready: offline: paper out"),
        "{}",
        stderr(&out)
    );
    assert!(
        tp.wait_for_printed(1, Duration::from_millis(200))
            .is_empty(),
        "nothing printed"
    );
}

#[test]
fn status_of_a_file_is_unknown() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let to = format!("file:{}", dir.path().join("x.bin").display());
    let out = escpos_print(&["--to", &to, "--profile", "epson-tm-t20", "status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "unknown (the printer does not report status)"
    );
}

#[test]
fn bad_replies_and_addresses_are_clear_errors() {
    let tp = printer("epson-tm-t20");
    tp.set_condition(Condition {
        reply_override: Some(vec![0x00]),
        ..Condition::ready()
    });
    let out = escpos_print(&["--to", &tp.target(), "--profile", "epson-tm-t20", "status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad status reply to DLE EOT 1: 0x00"),
        "{}",
        stderr(&out)
    );

    let out = escpos_print(&["--to", "lpt1", "status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid printer address \"lpt1\""),
        "{}",
        stderr(&out)
    );

    let out = escpos_print(&["--to", "file:/tmp/x", "--profile", "nope", "status"]);
    assert!(
        stderr(&out).contains("unknown printer profile \"nope\""),
        "{}",
        stderr(&out)
    );

    let out = escpos_print(&["--to", "usb:ffff:fffe", "status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("USB printer usb:ffff:fffe"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn devices_lists_usb_and_serial() {
    let out = escpos_print(&["devices"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("USB printers") && text.contains("serial ports"),
        "{text}"
    );
}

/// `status` over the real serial driver, against the test printer on a pseudo-terminal (moved
/// here from receipt-printer's `serial_printer` tests with the binary).
#[cfg(unix)]
#[test]
fn cli_status_over_serial() {
    let printer =
        TestPrinter::start_serial(PrinterProfile::by_name("xprinter-80").expect("built in"))
            .expect("a pseudo-terminal for the serial test printer (needs /dev/ptmx and /dev/pts)");
    printer.set_condition(Condition {
        cover_open: true,
        ..Condition::ready()
    });
    let out = escpos_print(&[
        "--to",
        &printer.target(),
        "--profile",
        "xprinter-80",
        "status",
    ]);
    assert_eq!(
        stdout(&out).trim(),
        "offline: cover open",
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1));
}
