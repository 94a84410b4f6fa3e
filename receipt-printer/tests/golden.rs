//! Golden files for the sample receipt and Z report on 58 mm and 80 mm
//! paper: the exact bytes (`.hex`) and what the printer prints (`.txt`).
//!
//! After an intended layout change, regenerate with
//! `UPDATE_GOLDEN=1 cargo nextest run -p receipt-printer --test golden`
//! and review the diff of `tests/golden/`.

mod support;

use std::path::PathBuf;

use receipt_printer::printout::Printout;
use receipt_printer::{LayoutOptions, PrinterProfile, encode_receipt, encode_z_report, sample};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn check(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "golden file {} cannot be read ({e}); create it with \
             UPDATE_GOLDEN=1 cargo nextest run -p receipt-printer --test golden",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from the golden file at line {}:\n  golden: {:?}\n  actual: {:?}\n\
             If the change is intended, regenerate with UPDATE_GOLDEN=1 and review the diff.",
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

fn golden(name: &str, profile_name: &str, bytes: &[u8]) {
    let profile = PrinterProfile::by_name(profile_name).expect("built-in profile");
    let printout = Printout::from_bytes(bytes, &profile).expect("output decodes");
    assert!(
        printout.problems.is_empty(),
        "{name}: {:?}",
        printout.problems
    );
    check(
        &format!("{name}.txt"),
        &support::dump(&printout, profile.columns()),
    );
    check(&format!("{name}.hex"), &support::hex(bytes));
}

fn receipt(profile_name: &str, options: &LayoutOptions, copy: bool) -> Vec<u8> {
    let profile = PrinterProfile::by_name(profile_name).expect("built-in profile");
    let mut receipt = sample::sample_receipt();
    receipt.is_copy = copy;
    encode_receipt(&receipt, &profile, options).expect("encodes")
}

#[test]
fn receipt_58mm() {
    let options = LayoutOptions {
        open_drawer: true,
        ..LayoutOptions::default()
    };
    golden(
        "receipt-58mm-generic",
        "generic-58",
        &receipt("generic-58", &options, false),
    );
}

#[test]
fn receipt_80mm() {
    let options = LayoutOptions {
        open_drawer: true,
        ..LayoutOptions::default()
    };
    golden(
        "receipt-80mm-epson",
        "epson-tm-t20",
        &receipt("epson-tm-t20", &options, false),
    );
}

#[test]
fn receipt_copy_58mm_xprinter() {
    golden(
        "receipt-copy-58mm-xprinter",
        "xprinter-58",
        &receipt("xprinter-58", &LayoutOptions::default(), true),
    );
}

#[test]
fn z_report_both_widths() {
    for (name, profile_name) in [
        ("z-report-58mm", "generic-58"),
        ("z-report-80mm", "epson-tm-t82"),
    ] {
        let profile = PrinterProfile::by_name(profile_name).expect("built-in profile");
        let bytes = encode_z_report(
            &sample::sample_z_report(),
            &profile,
            &LayoutOptions::default(),
        )
        .expect("encodes");
        golden(name, profile_name, &bytes);
    }
}
