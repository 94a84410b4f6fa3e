//! The PNG preview shows the same lines and columns as the ESC/POS output:
//! every non-blank character cell of every printed line has ink in its
//! place in the picture and every blank cell has none.

use receipt_printer::printout::{Printed, Printout};
use receipt_printer::{
    LayoutOptions, PrinterProfile, encode_receipt, encode_z_report, preview, sample,
};

fn check_cells(bytes: &[u8], profile: &PrinterProfile) {
    let printout = Printout::from_bytes(bytes, profile).expect("valid output");
    let image = preview::render(bytes, profile).expect("renders");
    assert_eq!(image.width(), u32::from(profile.width_dots));
    let tops = preview::item_tops(&printout);
    assert_eq!(image.height(), tops.last().copied().unwrap_or(0) + 16);
    let cell_w = u32::from(profile.cell_width_dots());
    let mut lines = 0;
    for (item, &top) in printout.items.iter().zip(&tops) {
        let Printed::Line(line) = item else { continue };
        lines += 1;
        if !line.cells.is_empty() {
            assert_eq!(line.justify, 0, "text is laid out with spaces, not ESC a");
        }
        let mut x = 0;
        for cell in &line.cells {
            let w = cell_w * u32::from(cell.width);
            let h = preview::CELL_HEIGHT * u32::from(line.height());
            let ink = (x..x + w)
                .flat_map(|px| (top..top + h).map(move |py| (px, py)))
                .any(|(px, py)| image.get_pixel(px, py).0[0] < 128);
            assert_eq!(
                ink,
                cell.ch != ' ',
                "cell {:?} at x {x} of line {:?}",
                cell.ch,
                line.text()
            );
            x += w;
        }
    }
    assert!(lines > 20, "only {lines} lines");
}

#[test]
fn receipt_previews_match_the_printout_on_both_widths() {
    for name in ["generic-58", "epson-tm-t20"] {
        let profile = PrinterProfile::by_name(name).expect("built in");
        let bytes = encode_receipt(
            &sample::sample_receipt(),
            &profile,
            &LayoutOptions::default(),
        )
        .expect("encodes");
        check_cells(&bytes, &profile);
    }
}

#[test]
fn z_report_preview_matches_the_printout() {
    let profile = PrinterProfile::by_name("custom:42:512").expect("custom width");
    let bytes = encode_z_report(
        &sample::sample_z_report(),
        &profile,
        &LayoutOptions::default(),
    )
    .expect("encodes");
    check_cells(&bytes, &profile);
}

#[test]
fn png_bytes_decode() {
    let profile = PrinterProfile::by_name("xprinter-58").expect("built in");
    let bytes = encode_receipt(
        &sample::sample_receipt(),
        &profile,
        &LayoutOptions::default(),
    )
    .expect("encodes");
    let png = preview::render_png(&bytes, &profile).expect("renders");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let decoded = image::load_from_memory(&png).expect("valid PNG");
    assert_eq!(decoded.width(), 384);
}
