//! Helpers shared by the integration tests.
#![allow(dead_code)]

use receipt_printer::printout::{Printed, Printout};

/// A readable dump of a printout: one line per printed item, text lines
/// padded to the paper width between bars so the width is visible.
pub fn dump(printout: &Printout, columns: usize) -> String {
    let mut out = String::new();
    for item in &printout.items {
        let line = match item {
            Printed::Line(line) => {
                let cells = &line.cells;
                let mut style = Vec::new();
                if cells.iter().any(|c| c.bold) {
                    style.push("bold".to_string());
                }
                if cells.iter().any(|c| c.underline) {
                    style.push("underline".to_string());
                }
                if let Some(c) = cells.iter().find(|c| c.width > 1 || c.height > 1) {
                    style.push(format!("{}x{}", c.width, c.height));
                }
                let text = line.text();
                let pad = columns.saturating_sub(line.columns());
                let style = if style.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", style.join(" "))
                };
                format!("|{text}{}|{style}", " ".repeat(pad))
            }
            Printed::Qr {
                data,
                module_size,
                error_correction,
                justify,
            } => format!(
                "[QR {module_size} dots, level {}, justify {justify}: {}]",
                match error_correction {
                    48 => "L",
                    49 => "M",
                    50 => "Q",
                    _ => "H",
                },
                String::from_utf8_lossy(data)
            ),
            Printed::Image { raster, justify } => format!(
                "[image {}x{} dots, justify {justify}, {:.0}% ink]",
                raster.width(),
                raster.height(),
                raster.ink_coverage() * 100.0
            ),
            Printed::Feed(n) => format!("[feed {n} lines]"),
            Printed::Cut { partial } => {
                format!("[cut {}]", if *partial { "partial" } else { "full" })
            }
            Printed::DrawerKick { pin, on, off } => format!(
                "[drawer pin {}, {} ms on, {} ms off]",
                if *pin == 0 { 2 } else { 5 },
                u32::from(*on) * 2,
                u32::from(*off) * 2
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    for problem in &printout.problems {
        out.push_str(&format!("PROBLEM: {problem}\n"));
    }
    out
}

/// Bytes as hex, 32 per line.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(32) {
        let line: Vec<String> = chunk.iter().map(|b| format!("{b:02X}")).collect();
        out.push_str(&line.join(" "));
        out.push('\n');
    }
    out
}
