//! Server-rendered SVG charts: no JavaScript, no library, a few kilobytes each. A chart is one
//! `<svg role="img">` with a `<title>` and `<desc>` for screen readers, and each bar carries its
//! own `<title>` (label and value) that browsers show on hover or long-press. The previous
//! period is drawn as outlined bars beside the filled bars of the current one, so the two
//! series differ in shape, not colour alone. Colours come from the CSS (`.bar-cur`,
//! `.bar-prev`).

use std::fmt::Write;

/// One series of a bar chart: its name (for the legend) and one value per label.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<f64>,
}

/// A bar chart of `labels` with one or two series (the second one, when given, is the
/// previous period). `fmt` writes a value for the bar titles and the axis.
#[derive(Debug)]
pub struct BarChart<'a> {
    /// Accessible title, shown above by the page itself.
    pub title: &'a str,
    pub labels: Vec<String>,
    pub current: Series<'a>,
    pub previous: Option<Series<'a>>,
}

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 8.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 24.0;

/// Escapes text for SVG/HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl BarChart<'_> {
    /// The SVG markup (already escaped; put it in a template with `|safe`).
    pub fn svg(&self, fmt: impl Fn(f64) -> String) -> String {
        let n = self.labels.len().max(1);
        let max = self
            .current
            .values
            .iter()
            .chain(self.previous.iter().flat_map(|p| p.values.iter()))
            .fold(0.0f64, |m, v| m.max(*v));
        let plot_h = H - TOP - BOTTOM;
        let slot = (W - LEFT * 2.0) / n as f64;
        let two = self.previous.is_some();
        let bar_w = if two { slot * 0.38 } else { slot * 0.7 };
        let y = |v: f64| {
            if max > 0.0 {
                TOP + plot_h - (v.max(0.0) / max) * plot_h
            } else {
                TOP + plot_h
            }
        };
        let mut s = String::new();
        let desc = match &self.previous {
            Some(p) => format!(
                "{}: {} ({}), {} ({})",
                self.title,
                self.current.name,
                fmt(self.current.values.iter().sum()),
                p.name,
                fmt(p.values.iter().sum())
            ),
            None => format!("{}: {}", self.title, fmt(self.current.values.iter().sum())),
        };
        let _ = write!(
            s,
            "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" preserveAspectRatio=\"none\" \
             xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title><desc>{}</desc>",
            esc(self.title),
            esc(&desc)
        );
        // Baseline and the top gridline with the largest value.
        let _ = write!(
            s,
            "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\"/>\
             <line class=\"grid\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{r}\" y2=\"{TOP}\"/>\
             <text class=\"tick\" x=\"{LEFT}\" y=\"{ty}\">{}</text>",
            esc(&fmt(max)),
            b = TOP + plot_h,
            r = W - LEFT,
            ty = TOP - 6.0,
        );
        // Label every k-th slot so labels never overlap (about 4 characters per 40 units).
        let every = ((n as f64 * 40.0) / (W - LEFT * 2.0)).ceil().max(1.0) as usize;
        for (i, label) in self.labels.iter().enumerate() {
            let x0 =
                LEFT + slot * i as f64 + (slot - if two { bar_w * 2.0 + 2.0 } else { bar_w }) / 2.0;
            let cur = self.current.values.get(i).copied().unwrap_or(0.0);
            let _ = write!(
                s,
                "<rect class=\"bar-cur\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" height=\"{:.1}\">\
                 <title>{}: {} {}</title></rect>",
                y(cur),
                TOP + plot_h - y(cur),
                esc(label),
                esc(self.current.name),
                esc(&fmt(cur))
            );
            if let Some(p) = &self.previous {
                let prev = p.values.get(i).copied().unwrap_or(0.0);
                let x1 = x0 + bar_w + 2.0;
                let _ = write!(
                    s,
                    "<rect class=\"bar-prev\" x=\"{x1:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" height=\"{:.1}\">\
                     <title>{}: {} {}</title></rect>",
                    y(prev),
                    TOP + plot_h - y(prev),
                    esc(label),
                    esc(p.name),
                    esc(&fmt(prev))
                );
            }
            if i.is_multiple_of(every) {
                let _ = write!(
                    s,
                    "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    LEFT + slot * (i as f64 + 0.5),
                    H - 6.0,
                    esc(label)
                );
            }
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_escape_text() {
        let c = BarChart {
            title: "Sales <today>",
            labels: vec!["08".into(), "09".into()],
            current: Series {
                name: "Now",
                values: vec![50.0, 100.0],
            },
            previous: Some(Series {
                name: "Before",
                values: vec![25.0, 0.0],
            }),
        };
        let svg = c.svg(|v| format!("Rp {v}"));
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<title>Sales &lt;today&gt;</title>"));
        assert_eq!(svg.matches("class=\"bar-cur\"").count(), 2);
        assert_eq!(svg.matches("class=\"bar-prev\"").count(), 2);
        // The tallest bar fills the plot: 220 - 22 - 24 = 174 units.
        assert!(svg.contains("height=\"174.0\""), "{svg}");
        assert!(svg.contains("<title>09: Now Rp 100</title>"));
        assert!(
            svg.contains("Now (Rp 150), Before (Rp 25)"),
            "the totals of both series in the description: {svg}"
        );
    }

    #[test]
    fn empty_charts_draw_flat() {
        let c = BarChart {
            title: "x",
            labels: vec![],
            current: Series {
                name: "n",
                values: vec![],
            },
            previous: None,
        };
        let svg = c.svg(|v| v.to_string());
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("NaN"));
    }
}
