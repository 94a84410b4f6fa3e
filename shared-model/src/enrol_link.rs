//! The enrolment link: what the dashboard's QR code holds and what the cashier app accepts in
//! its code field (scanned by a keyboard-wedge scanner or pasted), so a till learns the server
//! address and the one-time code in one scan. One format, defined here:
//!
//! ```text
//! snapkasir://enrol?server=<percent-encoded http(s) URL>&code=<code>
//! ```
//!
//! The code is the one `POST /api/v1/stores/{store_id}/enrollment-codes` answers (letters,
//! digits and dashes). The cashier app (TypeScript) parses the same format in one function,
//! `pos-desktop/ui/src/enrol-link.ts`, tested against the examples of this module's tests.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::error::{ModelError, ModelResult};

/// The link's scheme and path, before the query.
pub const PREFIX: &str = "snapkasir://enrol?";

/// Longest server address accepted (a QR code stays easy to scan well below this).
pub const MAX_SERVER_CHARS: usize = 200;
/// Longest code accepted.
pub const MAX_CODE_CHARS: usize = 32;

/// Characters escaped in a query value: everything but `A-Z a-z 0-9 - . _ ~`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A till's enrolment: the server to enrol with and the one-time code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolLink {
    /// The server's base address, `http://` or `https://`, without a trailing `/`.
    pub server: String,
    /// The one-time code, e.g. `K7QM-2XWP-9HDA`.
    pub code: String,
}

fn invalid(reason: &str) -> ModelError {
    ModelError::Invalid {
        field: "enrolment link",
        reason: reason.to_string(),
    }
}

impl EnrolLink {
    /// A link for `server` and `code`, both checked ([`EnrolLink::parse`] accepts its
    /// [`EnrolLink::format`]).
    pub fn new(server: &str, code: &str) -> ModelResult<Self> {
        let server = check_server(server.trim())?;
        let code = check_code(code.trim())?;
        Ok(Self { server, code })
    }

    /// The link as text (what the QR code encodes).
    pub fn format(&self) -> String {
        format!(
            "{PREFIX}server={}&code={}",
            utf8_percent_encode(&self.server, QUERY_VALUE),
            utf8_percent_encode(&self.code, QUERY_VALUE)
        )
    }

    /// Reads a link; surrounding white space (a scanner's Enter) is ignored and the scheme is
    /// matched without regard to case. Unknown parameters are ignored; `server` and `code` must
    /// each appear once.
    pub fn parse(text: &str) -> ModelResult<Self> {
        let text = text.trim();
        let query = text
            .get(..PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(PREFIX))
            .map(|_| &text[PREFIX.len()..])
            .ok_or_else(|| invalid("not a snapkasir://enrol link"))?;
        let (mut server, mut code) = (None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode_str(value)
                .decode_utf8()
                .map_err(|_| invalid("a value is not UTF-8"))?
                .into_owned();
            let slot = match key {
                "server" => &mut server,
                "code" => &mut code,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(invalid("a parameter appears twice"));
            }
        }
        let server = server.ok_or_else(|| invalid("no server"))?;
        let code = code.ok_or_else(|| invalid("no code"))?;
        Self::new(&server, &code)
    }
}

fn check_server(server: &str) -> ModelResult<String> {
    if server.chars().count() > MAX_SERVER_CHARS {
        return Err(ModelError::TooLong {
            field: "server address",
            max: MAX_SERVER_CHARS,
        });
    }
    let lower = server.to_ascii_lowercase();
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|s| lower.strip_prefix(s))
        .ok_or_else(|| invalid("the server address must start with http:// or https://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() {
        return Err(invalid("the server address has no host"));
    }
    if server
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '?' || c == '#')
    {
        return Err(invalid(
            "the server address holds spaces, control characters, a query or a fragment",
        ));
    }
    Ok(server.trim_end_matches('/').to_string())
}

fn check_code(code: &str) -> ModelResult<String> {
    if code.is_empty() {
        return Err(ModelError::Empty { field: "code" });
    }
    if code.chars().count() > MAX_CODE_CHARS {
        return Err(ModelError::TooLong {
            field: "code",
            max: MAX_CODE_CHARS,
        });
    }
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(invalid(
            "the code holds characters other than letters, digits and -",
        ));
    }
    Ok(code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples the TypeScript parser's tests use too (pos-desktop/ui/tests/enrol-link.test.ts).
    const EXAMPLE: &str =
        "snapkasir://enrol?server=https%3A%2F%2Fpos.example.com%3A8443&code=K7QM-2XWP-9HDA";

    #[test]
    fn formats_and_parses_back() {
        let link = EnrolLink::new("https://pos.example.com:8443/", "K7QM-2XWP-9HDA").unwrap();
        assert_eq!(link.server, "https://pos.example.com:8443");
        assert_eq!(link.format(), EXAMPLE);
        assert_eq!(EnrolLink::parse(EXAMPLE).unwrap(), link);
    }

    #[test]
    fn scanner_noise_and_case_are_tolerated() {
        let scanned = format!("  SNAPKASIR://ENROL?{}\r\n", &EXAMPLE[PREFIX.len()..]);
        assert_eq!(EnrolLink::parse(&scanned).unwrap().code, "K7QM-2XWP-9HDA");
        let extra = "snapkasir://enrol?v=1&code=AB12&server=http://10.0.0.5:8080/sub/path";
        let link = EnrolLink::parse(extra).unwrap();
        assert_eq!(link.server, "http://10.0.0.5:8080/sub/path");
        assert_eq!(link.code, "AB12");
    }

    #[test]
    fn bad_links_are_refused() {
        for bad in [
            "",
            "K7QM-2XWP-9HDA",
            "https://pos.example.com",
            "snapkasir://enrol?code=AB12",
            "snapkasir://enrol?server=https%3A%2F%2Fx",
            "snapkasir://enrol?server=ftp%3A%2F%2Fx&code=AB12",
            "snapkasir://enrol?server=https%3A%2F%2F&code=AB12",
            "snapkasir://enrol?server=https%3A%2F%2Fx&code=AB%2012",
            "snapkasir://enrol?server=https%3A%2F%2Fx&code=",
            "snapkasir://enrol?server=https%3A%2F%2Fx&code=A&code=B",
            "snapkasir://enrol?server=https%3A%2F%2Fx%20y&code=AB12",
            "snapkasir://enrol?server=https%3A%2F%2Fx&code=%FF",
            "snapkasir://pair?server=https%3A%2F%2Fx&code=AB12",
        ] {
            assert!(EnrolLink::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("https://{}", "a".repeat(MAX_SERVER_CHARS));
        assert!(EnrolLink::new(&long, "AB12").is_err());
        assert!(EnrolLink::new("https://x", &"A".repeat(MAX_CODE_CHARS + 1)).is_err());
    }
}
