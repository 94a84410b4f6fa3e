//! How the dashboard writes numbers and times, in one place: amounts as `Rp 12.500` in both
//! languages (Indonesian thousands dots, a decimal comma only when there are cents, negative
//! `-Rp 12.500`), counts and percentages in the page's language, and dates and times in the
//! store's time zone. Services return amounts as decimal strings (`"12500.0000"`); pages pass
//! them here unchanged.

use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike};
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};

use super::i18n::Lang;

/// `12500` → `Rp 12.500`; `-12500.5` → `-Rp 12.500,50`. Cents are shown (two digits) only when
/// the amount has some. An unreadable amount is shown as it came, never as zero.
pub fn money(amount: &str) -> String {
    match Decimal::from_str(amount.trim()) {
        Ok(d) => money_dec(d),
        Err(_) => amount.to_string(),
    }
}

/// [`money`] of a [`Decimal`].
pub fn money_dec(d: Decimal) -> String {
    let d = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let sign = if d.is_sign_negative() && !d.is_zero() {
        "-"
    } else {
        ""
    };
    let abs = d.abs();
    let whole = abs.trunc();
    let cents = ((abs - whole) * Decimal::ONE_HUNDRED).trunc();
    let mut s = format!("{sign}Rp {}", group(&whole.to_string(), '.'));
    if !cents.is_zero() {
        s.push_str(&format!(
            ",{:02}",
            cents.to_string().parse::<u32>().unwrap_or(0)
        ));
    }
    s
}

/// Digits grouped by three with `sep`.
fn group(digits: &str, sep: char) -> String {
    let n = digits.len();
    let mut out = String::with_capacity(n + n / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A whole count: `12.345` in Indonesian, `12,345` in English.
pub fn count(n: i64, lang: Lang) -> String {
    let sep = match lang {
        Lang::Id => '.',
        Lang::En => ',',
    };
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", group(&n.unsigned_abs().to_string(), sep))
}

/// A quantity (`"2.5000"` → `2,5` / `2.5`), trailing zeros dropped.
pub fn quantity(q: &str, lang: Lang) -> String {
    let Ok(d) = Decimal::from_str(q.trim()) else {
        return q.to_string();
    };
    let d = d.normalize();
    let whole = d.trunc();
    let frac = (d - whole).abs();
    let whole_i = i64::try_from(whole).unwrap_or(i64::MAX);
    let mut s = count(whole_i, lang);
    if d.is_sign_negative() && whole_i == 0 && !frac.is_zero() {
        s.insert(0, '-');
    }
    if !frac.is_zero() {
        let f = frac.to_string();
        let digits = f.trim_start_matches('0').trim_start_matches('.');
        s.push(if lang == Lang::Id { ',' } else { '.' });
        s.push_str(digits);
    }
    s
}

/// A percentage with one decimal: `12,5%` / `12.5%`.
pub fn percent(p: Decimal, lang: Lang) -> String {
    let p = p.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
    let s = format!("{p:.1}");
    let s = if lang == Lang::Id {
        s.replace('.', ",")
    } else {
        s
    };
    format!("{s}%")
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_ID: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des",
];

/// A calendar date: `3 Des 2026` / `3 Dec 2026`.
pub fn date(d: NaiveDate, lang: Lang) -> String {
    let months = match lang {
        Lang::Id => &MONTHS_ID,
        Lang::En => &MONTHS_EN,
    };
    format!("{} {} {}", d.day(), months[d.month0() as usize], d.year())
}

/// A business date string `YYYY-MM-DD` as [`date`]; anything else as it came.
pub fn date_str(s: &str, lang: Lang) -> String {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_or_else(|_| s.to_string(), |d| date(d, lang))
}

/// An instant (unix ms) in the store's time zone: `3 Des 2026 14:05`.
pub fn date_time(ms: i64, tz: &Tz, lang: Lang) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => {
            let local = tz.from_utc_datetime(&t.naive_utc());
            format!(
                "{} {:02}:{:02}",
                date(local.date_naive(), lang),
                local.hour(),
                local.minute()
            )
        }
        None => String::new(),
    }
}

/// The time of day of an instant (unix ms) in the store's time zone: `14:05`.
pub fn time(ms: i64, tz: &Tz) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| {
            let local = tz.from_utc_datetime(&t.naive_utc());
            format!("{:02}:{:02}", local.hour(), local.minute())
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts() {
        assert_eq!(money("12500"), "Rp 12.500");
        assert_eq!(money("12500.0000"), "Rp 12.500");
        assert_eq!(money("0"), "Rp 0");
        assert_eq!(money("-12500"), "-Rp 12.500");
        assert_eq!(money("1234567.5"), "Rp 1.234.567,50");
        assert_eq!(money("999.999"), "Rp 1.000");
        assert_eq!(money("-0.001"), "Rp 0");
        assert_eq!(money("100"), "Rp 100");
        assert_eq!(money("1000"), "Rp 1.000");
        assert_eq!(
            money("79228162514264337593543950335"),
            "Rp 79.228.162.514.264.337.593.543.950.335"
        );
        assert_eq!(money("abc"), "abc");
        assert_eq!(money_dec(dec!(12500.05)), "Rp 12.500,05");
    }

    #[test]
    fn counts_quantities_and_percentages() {
        assert_eq!(count(12345, Lang::Id), "12.345");
        assert_eq!(count(12345, Lang::En), "12,345");
        assert_eq!(count(-1000, Lang::En), "-1,000");
        assert_eq!(count(999, Lang::Id), "999");
        assert_eq!(quantity("2.5000", Lang::Id), "2,5");
        assert_eq!(quantity("1500.0000", Lang::En), "1,500");
        assert_eq!(quantity("-0.25", Lang::En), "-0.25");
        assert_eq!(percent(dec!(12.46), Lang::Id), "12,5%");
        assert_eq!(percent(dec!(-3), Lang::En), "-3.0%");
    }

    #[test]
    fn dates_in_the_store_time_zone() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(date(d, Lang::Id), "3 Des 2026");
        assert_eq!(date(d, Lang::En), "3 Dec 2026");
        assert_eq!(date_str("2026-05-01", Lang::Id), "1 Mei 2026");
        // 2026-12-03T17:30Z is 00:30 the next day in Jakarta (+07:00) and 18:30 in Berlin.
        let ms = DateTime::parse_from_rfc3339("2026-12-03T17:30:00Z")
            .unwrap()
            .timestamp_millis();
        assert_eq!(
            date_time(ms, &chrono_tz::Asia::Jakarta, Lang::Id),
            "4 Des 2026 00:30"
        );
        assert_eq!(
            date_time(ms, &chrono_tz::Europe::Berlin, Lang::En),
            "3 Dec 2026 18:30"
        );
        assert_eq!(time(ms, &chrono_tz::Asia::Makassar), "01:30");
    }
}
