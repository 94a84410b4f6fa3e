//! Width-aware line building. Every function counts characters (cells),
//! never bytes, and never returns a line longer than the width it is given.

use crate::text::cell_count;

/// Words of `text` wrapped to `width` cells; words longer than the width are
/// split. Always at least one line (possibly empty).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = cell_count(&current);
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= width {
                if gap == 1 {
                    current.push(' ');
                }
                current.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut current));
                continue;
            }
            let rest = word.split_off(width);
            lines.push(word.iter().collect());
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// `text` centred in `width` cells (wrapped first if too long).
pub fn centered(text: &str, width: usize) -> Vec<String> {
    wrap(text, width)
        .into_iter()
        .map(|line| {
            let pad = (width - cell_count(&line).min(width)) / 2;
            format!("{}{line}", " ".repeat(pad))
        })
        .collect()
}

/// `left` and `right` on one line, `right` flush right. If they do not fit,
/// `left` wraps and `right` goes at the end of its last line, or on a line
/// of its own when even that is too full. `right` longer than the width is
/// wrapped too.
pub fn left_right(left: &str, right: &str, width: usize) -> Vec<String> {
    let right_cells = cell_count(right);
    if right_cells > width {
        let mut lines = wrap(left, width);
        lines.extend(wrap(right, width));
        return lines;
    }
    let mut lines = if left.is_empty() {
        vec![String::new()]
    } else {
        wrap(left, width)
    };
    let last = lines.pop().unwrap_or_default();
    let last_cells = cell_count(&last);
    if last_cells + 1 + right_cells <= width || (last.is_empty() && right_cells <= width) {
        let pad = width - last_cells - right_cells;
        lines.push(format!("{last}{}{right}", " ".repeat(pad)));
    } else {
        lines.push(last);
        lines.push(format!("{}{right}", " ".repeat(width - right_cells)));
    }
    lines
}

/// A rule of `c` across the width.
pub fn rule(c: char, width: usize) -> String {
    std::iter::repeat_n(c, width).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_splits_long_ones() {
        assert_eq!(wrap("Kopi Susu Gula Aren", 10), ["Kopi Susu", "Gula Aren"]);
        assert_eq!(wrap("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("Café au lait", 4), ["Café", "au", "lait"]);
    }

    #[test]
    fn left_right_fits_or_wraps() {
        assert_eq!(
            left_right("Total", "Rp 12.500", 20),
            ["Total      Rp 12.500"]
        );
        assert_eq!(
            left_right("Nasi Goreng Spesial Pedas", "25.000", 20),
            ["Nasi Goreng Spesial", "Pedas         25.000"]
        );
        assert_eq!(
            left_right("Abcdefghijklmn", "25.000", 20),
            ["Abcdefghijklmn", "              25.000"]
        );
        assert_eq!(left_right("", "x", 3), ["  x"]);
    }

    #[test]
    fn centres_by_characters_not_bytes() {
        assert_eq!(centered("Café", 8), ["  Café"]);
    }
}
