//! Rough timings of the parts a till waits for: layout + encoding of the
//! sample receipt (with logo and QR), decoding it back, and the PNG preview.
//!
//! `cargo run -p receipt-printer --example bench [--release]`

use std::time::{Duration, Instant};

use receipt_printer::driver::{self, Timeouts};
use receipt_printer::printout::Printout;
use receipt_printer::test_printer::TestPrinter;
use receipt_printer::{LayoutOptions, PrinterProfile, encode_receipt, preview, sample, send_job};

fn time<T>(runs: u32, mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(f());
    }
    start.elapsed() / runs
}

fn main() -> Result<(), receipt_printer::PrinterError> {
    let options = LayoutOptions::default();
    let mut without_logo = sample::sample_receipt();
    without_logo.logo = None;
    for name in ["generic-58", "epson-tm-t20"] {
        let profile = PrinterProfile::by_name(name)?;
        let receipt = sample::sample_receipt();
        let bytes = encode_receipt(&receipt, &profile, &options)?;
        let encode = time(200, || encode_receipt(&receipt, &profile, &options));
        let encode_plain = time(200, || encode_receipt(&without_logo, &profile, &options));
        let decode = time(200, || Printout::from_bytes(&bytes, &profile));
        let png = time(20, || preview::render_png(&bytes, &profile));
        println!(
            "{name}: {} bytes; encode {encode:?} (without logo {encode_plain:?}); decode {decode:?}; PNG preview {png:?}",
            bytes.len()
        );
    }
    let profile = PrinterProfile::by_name("epson-tm-t20")?;
    let bytes = encode_receipt(&sample::sample_receipt(), &profile, &options)?;
    let printer = TestPrinter::start(profile.clone()).map_err(|source| {
        receipt_printer::PrinterError::Connect {
            target: "test printer".into(),
            source,
        }
    })?;
    let target = printer.target().parse()?;
    let job = time(50, || -> Result<(), receipt_printer::PrinterError> {
        let mut conn = driver::connect(&target, Timeouts::default())?;
        send_job(conn.as_mut(), &profile, &bytes)?;
        Ok(())
    });
    println!(
        "TCP loopback job (connect, DLE EOT 1/2/4, {} bytes, DLE EOT 1/2/4): {job:?}",
        bytes.len()
    );
    Ok(())
}
