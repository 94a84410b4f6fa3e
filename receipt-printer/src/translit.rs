//! Last-resort ASCII spellings for characters no code page of the printer has.
//!
//! The order of preference is: the character itself in a code page the
//! printer has, then the spelling from [`transliterate`], then `'?'`.

/// Accented letters grouped by the ASCII letter they fall back to.
const LETTER_GROUPS: &[(&str, char)] = &[
    ("àáâãäåāăąǎ", 'a'),
    ("ÀÁÂÃÄÅĀĂĄǍ", 'A'),
    ("çćĉċč", 'c'),
    ("ÇĆĈĊČ", 'C'),
    ("ďđ", 'd'),
    ("ĎĐÐ", 'D'),
    ("èéêëēĕėęě", 'e'),
    ("ÈÉÊËĒĔĖĘĚ", 'E'),
    ("ĝğġģ", 'g'),
    ("ĜĞĠĢ", 'G'),
    ("ĥħ", 'h'),
    ("ĤĦ", 'H'),
    ("ìíîïĩīĭįı", 'i'),
    ("ÌÍÎÏĨĪĬĮİ", 'I'),
    ("ĵ", 'j'),
    ("Ĵ", 'J'),
    ("ķ", 'k'),
    ("Ķ", 'K'),
    ("ĺļľŀł", 'l'),
    ("ĹĻĽĿŁ", 'L'),
    ("ñńņňŉ", 'n'),
    ("ÑŃŅŇ", 'N'),
    ("òóôõöøōŏő", 'o'),
    ("ÒÓÔÕÖØŌŎŐ", 'O'),
    ("ŕŗř", 'r'),
    ("ŔŖŘ", 'R'),
    ("śŝşšș", 's'),
    ("ŚŜŞŠȘ", 'S'),
    ("ţťŧț", 't'),
    ("ŢŤŦȚ", 'T'),
    ("ùúûüũūŭůűų", 'u'),
    ("ÙÚÛÜŨŪŬŮŰŲ", 'U'),
    ("ŵ", 'w'),
    ("Ŵ", 'W'),
    ("ýÿŷ", 'y'),
    ("ÝŶŸ", 'Y'),
    ("źżž", 'z'),
    ("ŹŻŽ", 'Z'),
];

/// An ASCII spelling of `c`, if one is known. Combining marks spell as the
/// empty string (the base letter before them already printed).
pub fn transliterate(c: char) -> Option<&'static str> {
    let spelled = match c {
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{00AD}' => "-",
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '`' | '´' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => "\"",
        '«' => "<<",
        '»' => ">>",
        '‹' => "<",
        '›' => ">",
        '…' => "...",
        '•' | '·' | '∙' => "*",
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => " ",
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => "",
        '\u{0300}'..='\u{036F}' => "",
        '€' => "EUR",
        '£' => "GBP",
        '¥' => "JPY",
        '¢' => "c",
        '₹' => "Rs",
        '©' => "(C)",
        '®' => "(R)",
        '™' => "TM",
        '×' => "x",
        '÷' => "/",
        '°' => "o",
        '±' => "+/-",
        '½' => "1/2",
        '¼' => "1/4",
        '¾' => "3/4",
        '²' => "2",
        '³' => "3",
        '¹' => "1",
        'ß' => "ss",
        'æ' => "ae",
        'Æ' => "AE",
        'œ' => "oe",
        'Œ' => "OE",
        'þ' => "th",
        'Þ' => "Th",
        'ð' => "d",
        '¡' => "!",
        '¿' => "?",
        '§' => "S",
        '¶' => "P",
        '№' => "No",
        _ => return letter(c),
    };
    Some(spelled)
}

fn letter(c: char) -> Option<&'static str> {
    const ASCII_LETTERS: &str = "aAcCdDeEgGhHiIjJkKlLnNoOrRsStTuUwWyYzZ";
    let base = LETTER_GROUPS
        .iter()
        .find(|(group, _)| group.contains(c))
        .map(|&(_, base)| base)?;
    let at = ASCII_LETTERS.find(base)?;
    ASCII_LETTERS.get(at..at + 1)
}

#[cfg(test)]
mod tests {
    use super::transliterate;

    #[test]
    fn spellings_named_in_the_issue() {
        assert_eq!(transliterate('é'), Some("e"));
        assert_eq!(transliterate('–'), Some("-"));
        assert_eq!(transliterate('—'), Some("-"));
        assert_eq!(transliterate('“'), Some("\""));
        assert_eq!(transliterate('’'), Some("'"));
        assert_eq!(transliterate('…'), Some("..."));
    }

    #[test]
    fn accented_capitals_and_unknowns() {
        assert_eq!(transliterate('Š'), Some("S"));
        assert_eq!(transliterate('ł'), Some("l"));
        assert_eq!(transliterate('\u{0301}'), Some(""));
        assert_eq!(transliterate('中'), None);
    }

    #[test]
    fn every_spelling_is_printable_ascii() {
        for c in (0u32..0x3100).filter_map(char::from_u32) {
            if let Some(s) = transliterate(c) {
                assert!(
                    s.chars().all(|x| x.is_ascii_graphic() || x == ' '),
                    "{c:?} -> {s:?}"
                );
            }
        }
    }
}
