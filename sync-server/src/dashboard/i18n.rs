//! The dashboard's two languages: Bahasa Indonesia (the default) and English. Every word a page
//! shows comes from the catalogue in `locales/<area>.toml`, one file per page area so that page
//! helpers add keys without touching each other's files. A key `title` in `overview.toml` is
//! `overview.title`; each entry holds both languages side by side:
//!
//! ```toml
//! title = { en = "Overview", id = "Ringkasan" }
//! ```
//!
//! Placeholders are `{name}` and are filled by [`Lang::tf`]. The unit tests fail when a key lacks
//! a language, is empty, or when a template names a key that does not exist.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::http::HeaderMap;

/// The catalogue files, by area. Add a file here once; add keys to it freely.
const FILES: &[(&str, &str)] = &[
    ("common", include_str!("locales/common.toml")),
    ("errors", include_str!("locales/errors.toml")),
    ("auth", include_str!("locales/auth.toml")),
    ("overview", include_str!("locales/overview.toml")),
    ("reports", include_str!("locales/reports.toml")),
    ("stock", include_str!("locales/stock.toml")),
    ("tills", include_str!("locales/tills.toml")),
    ("staff", include_str!("locales/staff.toml")),
    ("catalog", include_str!("locales/catalog.toml")),
    ("settings", include_str!("locales/settings.toml")),
    ("conflicts", include_str!("locales/conflicts.toml")),
    ("apps", include_str!("locales/apps.toml")),
    ("receipt", include_str!("locales/receipt.toml")),
];

/// Name of the cookie that keeps the chosen language (`en` or `id`).
pub const LANG_COOKIE: &str = "sk_lang";

/// A language of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Bahasa Indonesia, the default.
    #[default]
    Id,
    En,
}

impl Lang {
    /// Both languages, Indonesian first.
    pub const ALL: [Lang; 2] = [Lang::Id, Lang::En];

    /// `id` or `en` (also the `lang` attribute of the page).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// `id` / `en`, anything else `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of a request: the `sk_lang` cookie, else the best of `Accept-Language`
    /// among ours, else Indonesian.
    pub fn of(headers: &HeaderMap) -> Lang {
        if let Some(l) = super::session::cookie(headers, LANG_COOKIE).and_then(|v| Lang::parse(&v))
        {
            return l;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or_default().trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or_default();
            // `in` is the old code of Indonesian, still sent by some Android browsers.
            let lang = match primary.to_ascii_lowercase().as_str() {
                "id" | "in" => Lang::Id,
                "en" => Lang::En,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::Id, |(_, l)| l)
    }

    /// The text of `key` in this language. A missing key (a bug the unit tests catch) shows as
    /// the key itself and is logged.
    pub fn t(self, key: &str) -> &'static str {
        match catalogue().get(key) {
            Some(&(en, id)) => match self {
                Lang::En => en,
                Lang::Id => id,
            },
            None => {
                tracing::warn!(key, "dashboard text missing from the catalogue");
                // Leaked once per missing key and call; only reachable through a bug.
                Box::leak(key.to_string().into_boxed_str())
            }
        }
    }

    /// [`Lang::t`] with `{name}` placeholders filled from `args`.
    pub fn tf(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.t(key).to_string();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }
}

type Catalogue = HashMap<String, (&'static str, &'static str)>;

/// Every key with its English and Indonesian text, parsed once.
fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| match parse(FILES) {
        Ok(c) => c,
        Err(e) => {
            // The unit tests parse the same files; a release cannot get here.
            tracing::error!(error = %e, "dashboard catalogue unreadable");
            HashMap::new()
        }
    })
}

/// Parses the catalogue files; an entry without both languages, or empty, is an error.
fn parse(files: &[(&str, &'static str)]) -> Result<Catalogue, String> {
    let mut out = HashMap::new();
    for (area, text) in files {
        let table: toml::Table = toml::from_str(text).map_err(|e| format!("{area}.toml: {e}"))?;
        for (key, entry) in table {
            let get = |lang: &str| -> Result<&'static str, String> {
                let s = entry
                    .get(lang)
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| format!("{area}.{key}: no `{lang}` text"))?;
                Ok(Box::leak(s.to_string().into_boxed_str()))
            };
            let (en, id) = (get("en")?, get("id")?);
            if let Some(t) = entry.as_table()
                && let Some(extra) = t.keys().find(|k| *k != "en" && *k != "id")
            {
                return Err(format!("{area}.{key}: unknown language `{extra}`"));
            }
            out.insert(format!("{area}.{key}"), (en, id));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        let cat = parse(FILES).expect("catalogue parses with both languages everywhere");
        assert!(cat.len() > 20, "{} keys", cat.len());
        for (key, (en, id)) in &cat {
            let placeholders = |s: &str| {
                let mut v: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(
                placeholders(en),
                placeholders(id),
                "{key}: placeholders differ"
            );
        }
    }

    #[test]
    fn a_missing_language_is_refused() {
        let err = parse(&[("x", "a = { en = \"A\" }")]).unwrap_err();
        assert!(err.contains("x.a: no `id` text"), "{err}");
        let err = parse(&[("x", "a = { en = \"A\", id = \" \" }")]).unwrap_err();
        assert!(err.contains("no `id` text"), "{err}");
        let err = parse(&[("x", "a = { en = \"A\", id = \"B\", fr = \"C\" }")]).unwrap_err();
        assert!(err.contains("unknown language"), "{err}");
    }

    /// Every `t("…")` / `tf("…"` a template or dashboard module names exists.
    #[test]
    fn templates_name_existing_keys() {
        let cat = parse(FILES).unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["templates/dashboard", "src/dashboard"] {
            collect(&root.join(dir), &mut files);
        }
        let mut missing = Vec::new();
        let mut seen = 0;
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for call in [".t(\"", ".tf(\"", ".tf1(\"", "titled(\""] {
                for piece in text.split(call).skip(1) {
                    let key = piece.split('"').next().unwrap_or_default();
                    let area = key.split('.').next().unwrap_or_default();
                    if FILES.iter().any(|(a, _)| *a == area) && !key.contains(' ') {
                        seen += 1;
                        if !cat.contains_key(key) {
                            missing.push(format!("{}: {key}", f.display()));
                        }
                    }
                }
            }
        }
        assert!(seen > 10, "found only {seen} keys in use");
        assert!(
            missing.is_empty(),
            "keys not in the catalogue: {missing:#?}"
        );
    }

    fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                collect(&p, out);
            } else if p.extension().is_some_and(|x| x == "html" || x == "rs") {
                out.push(p);
            }
        }
    }

    #[test]
    fn languages_of_requests() {
        let h = |pairs: &[(&str, &str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            m
        };
        assert_eq!(Lang::of(&h(&[])), Lang::Id);
        assert_eq!(
            Lang::of(&h(&[("accept-language", "en-US,en;q=0.9")])),
            Lang::En
        );
        assert_eq!(
            Lang::of(&h(&[("accept-language", "fr, en;q=0.5, id;q=0.8")])),
            Lang::Id
        );
        assert_eq!(Lang::of(&h(&[("accept-language", "de")])), Lang::Id);
        assert_eq!(
            Lang::of(&h(&[
                ("accept-language", "en"),
                ("cookie", "a=b; sk_lang=id")
            ])),
            Lang::Id
        );
        assert_eq!(
            Lang::En.tf("common.signed_in_as", &[("email", "a@b")]),
            "Signed in as a@b"
        );
    }
}
