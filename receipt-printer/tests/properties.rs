//! Properties of the encoder over arbitrary text, amounts and printers:
//! the output parses as known commands only, every text byte is a defined
//! character of the selected code page (never raw UTF-8), no line exceeds
//! the width, and only characters from the input (or ASCII) are printed.

use std::collections::HashSet;

use proptest::prelude::*;
use receipt_printer::printout::{Printed, Printout};
use receipt_printer::{
    Adjustment, Block, Charset, Currency, Document, LayoutOptions, Payment, PrinterProfile,
    Quantity, Receipt, ReceiptLine, TextStyle, ZReport, encode_document, encode_receipt,
    encode_z_report, sample,
};
use rust_decimal::Decimal;

/// Characters that stress the charset: ASCII, Latin-1, Latin Extended,
/// Cyrillic, typographic punctuation, CJK, emoji, controls, combining marks.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range(' ', '~'),
        2 => proptest::char::range('\u{00A0}', '\u{017F}'),
        1 => proptest::char::range('\u{0400}', '\u{044F}'),
        1 => prop::sample::select(vec!['–', '—', '‘', '’', '“', '”', '…', '€', '•', '™', '\u{0301}', '\u{200B}']),
        1 => prop::sample::select(vec!['中', '文', '😀', 'ก', '\t', '\n', '\r', '\u{1B}', '\u{7F}']),
    ]
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

fn amount() -> impl Strategy<Value = Decimal> {
    (-10_000_000_000i64..10_000_000_000i64, 0u32..4).prop_map(|(n, scale)| Decimal::new(n, scale))
}

fn profile() -> impl Strategy<Value = PrinterProfile> {
    let built_in = prop::sample::select(PrinterProfile::built_in());
    let custom = (16u16..=80, 0u16..=3).prop_filter_map("valid custom width", |(cols, extra)| {
        PrinterProfile::custom(cols, (cols * 12 + extra * 8).clamp(128, 832)).ok()
    });
    prop_oneof![3 => built_in, 1 => custom]
}

fn line() -> impl Strategy<Value = ReceiptLine> {
    (
        text(60),
        amount(),
        amount(),
        amount(),
        any::<bool>(),
        text(20),
    )
        .prop_map(|(name, qty, price, total, weighed, discount)| ReceiptLine {
            name,
            quantity: if weighed {
                Quantity::Measure {
                    value: qty.abs(),
                    unit: "kg".into(),
                }
            } else {
                Quantity::Count(qty)
            },
            unit_price: price,
            amount: total,
            discounts: if discount.is_empty() {
                vec![]
            } else {
                vec![Adjustment {
                    label: discount,
                    amount: -price.abs(),
                }]
            },
        })
}

fn receipt() -> impl Strategy<Value = Receipt> {
    (
        (
            text(50),
            text(40),
            text(30),
            text(30),
            prop::collection::vec(line(), 0..4),
        ),
        (
            amount(),
            amount(),
            text(20),
            text(30),
            prop::bool::weighted(0.5),
            prop::bool::weighted(0.3),
        ),
        (
            text(60),
            prop::option::of("[ -~]{1,120}"),
            prop::bool::weighted(0.1),
            0usize..3,
        ),
    )
        .prop_map(
            |(
                (store, address, number, cashier, lines),
                (total, paid, method, reference, copy, euro),
                (footer, qr, logo, currency),
            )| {
                let mut r = sample::sample_receipt();
                r.currency = match (euro, currency) {
                    (true, 0) => Currency::eur(),
                    (true, _) => Currency::usd(),
                    _ => Currency::idr(),
                };
                r.store.name = store;
                r.store.address = vec![address];
                r.number = number;
                r.cashier = cashier;
                r.lines = lines;
                r.total = total;
                r.payments = vec![Payment {
                    method,
                    amount: paid,
                    reference: Some(reference),
                }];
                r.is_copy = copy;
                r.footer = vec![footer];
                r.qr_payload = qr;
                if !logo {
                    r.logo = None;
                }
                r
            },
        )
}

fn z_report() -> impl Strategy<Value = ZReport> {
    (
        text(40),
        text(30),
        text(20),
        prop::collection::vec((text(25), amount()), 0..4),
        amount(),
        amount(),
    )
        .prop_map(|(store, closed_by, tax_label, payments, net, difference)| {
            let mut z = sample::sample_z_report();
            z.store.name = store;
            z.closed_by = closed_by;
            z.tax_label = tax_label;
            z.payments = payments
                .into_iter()
                .enumerate()
                .map(|(i, (method, amount))| receipt_printer::PaymentTotal {
                    method,
                    count: u32::try_from(i * 1000).unwrap_or(u32::MAX),
                    amount,
                })
                .collect();
            z.net_sales = net;
            z.cash.difference = difference;
            z
        })
}

fn all_input_chars<T: serde::Serialize>(r: &T) -> HashSet<char> {
    let json = serde_json::to_string(r).expect("serializes");
    // serde_json escapes control characters only, so every other character
    // of every string field appears as itself
    json.chars().collect()
}

fn check_printout(
    printout: &Printout,
    profile: &PrinterProfile,
    allowed: &HashSet<char>,
) -> Result<(), TestCaseError> {
    prop_assert!(
        printout.problems.is_empty(),
        "problems: {:?}",
        printout.problems
    );
    for item in &printout.items {
        match item {
            Printed::Line(line) => {
                prop_assert!(
                    line.columns() <= profile.columns(),
                    "too wide: {:?}",
                    line.text()
                );
                for c in line.text().chars() {
                    prop_assert!(
                        c.is_ascii_graphic() || c == ' ' || allowed.contains(&c),
                        "{c:?} printed but not in the input"
                    );
                }
            }
            Printed::Qr {
                data, module_size, ..
            } => {
                let payload = String::from_utf8(data.clone()).expect("payload is the input string");
                let modules = receipt_printer::qr::symbol(&payload)
                    .expect("valid")
                    .width();
                prop_assert!(
                    modules * usize::from(*module_size) <= usize::from(profile.width_dots)
                );
            }
            Printed::Image { raster, .. } => {
                prop_assert!(raster.width() <= profile.width_dots);
            }
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn receipts_encode_to_known_commands_within_the_width(r in receipt(), p in profile()) {
        let options = LayoutOptions { open_drawer: true, ..LayoutOptions::default() };
        let bytes = match encode_receipt(&r, &p, &options) {
            Ok(bytes) => bytes,
            // the only refusal: a QR payload too big for this paper
            Err(receipt_printer::PrinterError::QrPayload(_)) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("unexpected error: {e}"))),
        };
        let printout = Printout::from_bytes(&bytes, &p)
            .map_err(|e| TestCaseError::fail(format!("output does not parse: {e}")))?;
        check_printout(&printout, &p, &all_input_chars(&r))?;
    }

    #[test]
    fn z_reports_encode_to_known_commands_within_the_width(z in z_report(), p in profile()) {
        let bytes = encode_z_report(&z, &p, &LayoutOptions::default())
            .map_err(|e| TestCaseError::fail(format!("unexpected error: {e}")))?;
        let printout = Printout::from_bytes(&bytes, &p)
            .map_err(|e| TestCaseError::fail(format!("output does not parse: {e}")))?;
        check_printout(&printout, &p, &all_input_chars(&z))?;
    }

    #[test]
    fn printable_text_round_trips_through_the_code_pages(s in text(200), p in profile()) {
        let printable = Charset::new(&p).printable(&s);
        let width = p.columns();
        let lines: Vec<String> = receipt_printer::layout::lines::wrap(&printable, width);
        let doc = Document {
            blocks: lines.iter().map(|l| Block::Line { text: l.clone(), style: TextStyle::default() }).collect(),
        };
        let bytes = encode_document(&doc, &p).expect("encodes");
        let printout = Printout::from_bytes(&bytes, &p)
            .map_err(|e| TestCaseError::fail(format!("output does not parse: {e}")))?;
        prop_assert!(printout.problems.is_empty(), "{:?}", printout.problems);
        // what the printer prints is exactly the printable text, char for char
        prop_assert_eq!(printout.text_lines(), lines);
        // and the printable text only has characters the printer's pages have
        for c in printable.chars() {
            prop_assert!(Charset::new(&p).has(c), "{c:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever bytes arrive (a corrupted job, another program's output),
    /// decoding, interpreting and previewing give a result or a clear error,
    /// never a panic.
    #[test]
    fn arbitrary_bytes_never_panic_the_decoder_or_preview(
        bytes in prop::collection::vec(prop_oneof![
            3 => any::<u8>(),
            1 => prop::sample::select(vec![0x1B, 0x1D, 0x10, 0x1C, 0x0A, b'(', b'k', b'v', b'0', b'V', b'!', b't', b'p']),
        ], 0..400),
        p in profile(),
    ) {
        match receipt_printer::decode::parse(&bytes) {
            Ok(commands) => {
                let printout = Printout::from_commands(&commands, &p);
                let image = receipt_printer::preview::render_printout(&printout, &p);
                prop_assert_eq!(image.width(), u32::from(p.width_dots));
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
