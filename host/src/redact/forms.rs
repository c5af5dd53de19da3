//! The forms a secret value takes in the texts of a report.
//!
//! A secret leaves the host in two kinds of ways. The plugin writes it, as is or in an
//! encoding of its own: a JSON string, a query string, a percent-encoded URL part. And
//! the host rewrites it: a request URL goes out as the URL Standard serializes it
//! (docs/ABI.md, `ohd_http_request`), and that serialization is what reports, logs and
//! the desk show. The parser lower-cases a host and writes non-ASCII labels in punycode,
//! drops a default port, percent-encodes spaces, quotes and non-ASCII characters (each
//! URL part its own set), turns `\` into `/` in the path of an `http(s)` URL, removes
//! tabs and newlines, and adds a `/` to an empty path. So the forms are:
//!
//! - the value, and the value as text encodings write it ([`text_encodings`]): JSON (with
//!   and without `\/`, non-ASCII as is or `\u`-escaped), and percent-encoded by each
//!   encoder in [`PERCENT_ENCODERS`], with upper- and lower-case hex digits;
//! - the value as the `url` crate serializes it: the whole URL when the value is one
//!   (a webhook), also in every text encoding (a URL is carried in JSON and in query
//!   strings); the value where a path, a query, a fragment or an authority (host, port
//!   and what follows) begins, read back from a parsed URL; the value given to the
//!   setters (`set_path`, `set_query`, `set_fragment`, a path segment pushed); and the
//!   value as a host ([`url::Host::parse`]): lower case, punycode, an IP address in its
//!   canonical form. Each in both hex cases, and JSON-escaped.
//!
//! What a list of forms cannot cover, because the secret is no longer one string of the
//! text, or not there at all:
//!
//! - a value holding `.` or `..` path segments, put in a path: the parser removes them
//!   with the segment before, and what is left of the value is sent in pieces (its path
//!   forms are left out rather than turned into a shorter string that would match
//!   unrelated text);
//! - a value that is only part of a host label holding non-ASCII characters: punycode
//!   encodes the label as a whole (`bücher` in `bücherei.example` is
//!   `xn--bcherei-…`), and no part of it is the value's own encoding. A value that is
//!   whole labels (`acme` or `bücher.acme` in `bücher.acme.example`) is found;
//! - a value the plugin transforms otherwise: base64, hashes, signatures, another
//!   percent-encoder's choice of characters, an encoding applied twice, a URL joined to
//!   the value as a base. Credential headers are redacted whole for that reason.

use url::{Host, Url};

/// Every form of `value`, none empty, sorted and without duplicates.
pub(super) fn secret_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned()];
    forms.extend(text_encodings(value));
    if let Some(url) = whole_url(value) {
        forms.extend(text_encodings(&url));
        forms.push(url);
    }
    for form in url_part_forms(value) {
        forms.extend(json_escapes(&form));
        forms.push(escapes_in_case(&form, false));
        forms.push(escapes_in_case(&form, true));
        forms.push(form);
    }
    // A value made only of what the parser removes (tabs, newlines) has empty forms:
    // an empty pattern would match everywhere.
    forms.retain(|f| !f.is_empty());
    forms.sort();
    forms.dedup();
    forms
}

/// A percent-encoder, by the ASCII bytes it writes as they are besides letters and
/// digits, and by how it writes a space.
struct PercentEncoder {
    keeps: &'static [u8],
    space_as_plus: bool,
}

/// The percent-encoders plugins and servers use, as their sets of characters left alone
/// differ: `application/x-www-form-urlencoded` (the URL Standard's, `url::form_urlencoded`,
/// HTML forms, Java's `URLEncoder`), also with `%20` for a space as decoders accept; the
/// URL Standard's component set (JavaScript's `encodeURIComponent`); RFC 3986's
/// unreserved characters (PHP's `rawurlencode`, Go's `PathEscape`, and with `+` Go's
/// `QueryEscape`); the same keeping `/` (Python's `quote`); letters and digits only
/// (`percent_encoding::NON_ALPHANUMERIC`).
const PERCENT_ENCODERS: [PercentEncoder; 7] = [
    PercentEncoder {
        keeps: b"*-._",
        space_as_plus: true,
    },
    PercentEncoder {
        keeps: b"*-._",
        space_as_plus: false,
    },
    PercentEncoder {
        keeps: b"!'()*-._~",
        space_as_plus: false,
    },
    PercentEncoder {
        keeps: b"-._~",
        space_as_plus: false,
    },
    PercentEncoder {
        keeps: b"-._~",
        space_as_plus: true,
    },
    PercentEncoder {
        keeps: b"-._~/",
        space_as_plus: false,
    },
    PercentEncoder {
        keeps: b"",
        space_as_plus: false,
    },
];

/// `text` as JSON-escaped and percent-encoded (both hex cases), the forms that differ
/// from `text`.
fn text_encodings(text: &str) -> Vec<String> {
    let mut forms = json_escapes(text);
    for encoder in &PERCENT_ENCODERS {
        for lower in [false, true] {
            let encoded = percent_encode(text, encoder, lower);
            if encoded != text {
                forms.push(encoded);
            }
        }
    }
    forms
}

/// `text` inside a JSON string, when that differs from `text`: as serde_json writes it,
/// with `/` escaped too (PHP's `json_encode`), and with non-ASCII characters as `\u`
/// escapes in either case (Python's `json.dumps`, PHP's).
fn json_escapes(text: &str) -> Vec<String> {
    let mut forms = Vec::new();
    let json = serde_json::to_string(text).unwrap_or_default();
    let Some(escaped) = json.get(1..json.len().saturating_sub(1)) else {
        return forms;
    };
    let mut escapings = vec![escaped.to_owned()];
    if !escaped.is_ascii() {
        escapings.push(ascii_json(escaped, false));
        escapings.push(ascii_json(escaped, true));
    }
    for escaped in escapings {
        if escaped.contains('/') {
            forms.push(escaped.replace('/', "\\/"));
        }
        if escaped != text {
            forms.push(escaped);
        }
    }
    forms
}

/// A JSON string's contents with every non-ASCII character as `\uXXXX` (UTF-16, a
/// surrogate pair beyond the BMP), the hex digits in upper or lower case.
fn ascii_json(escaped: &str, upper: bool) -> String {
    let mut out = String::with_capacity(escaped.len() * 2);
    for c in escaped.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                if upper {
                    out.push_str(&format!("\\u{unit:04X}"));
                } else {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

fn percent_encode(text: &str, encoder: &PercentEncoder, lower: bool) -> String {
    let hex: &[u8; 16] = if lower {
        b"0123456789abcdef"
    } else {
        b"0123456789ABCDEF"
    };
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || encoder.keeps.contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' && encoder.space_as_plus {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(hex[usize::from(b >> 4)]));
            out.push(char::from(hex[usize::from(b & 0xf)]));
        }
    }
    out
}

/// `%2F` → `%2f` (or the reverse): the hex digits of every percent escape in one case,
/// nothing else. The parser keeps the escapes a URL already holds as they are and
/// writes its own in upper case; servers echo either.
pub(super) fn escapes_in_case(encoded: &str, lower: bool) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut digits = 0;
    for c in encoded.chars() {
        if digits > 0 && c.is_ascii_hexdigit() {
            out.push(if lower {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            });
            digits -= 1;
        } else {
            digits = if c == '%' { 2 } else { 0 };
            out.push(c);
        }
    }
    out
}

/// `value` as the URL parser serializes it, when it is an absolute URL that the parser
/// rewrites; without the `/` the parser adds to an empty path, which what follows the
/// value in a request URL may replace.
fn whole_url(value: &str) -> Option<String> {
    let url = Url::parse(value).ok()?;
    let mut serialized = String::from(url);
    if serialized.ends_with('/') && !value.trim_end().ends_with('/') {
        serialized.pop();
    }
    (serialized != value).then_some(serialized)
}

/// A place in a parsed URL to put the value, to read its serialization back: what comes
/// before and after it. The text after keeps the parser from trimming the value's
/// trailing spaces, as the rest of a real URL would.
struct Part {
    before: &'static str,
    after: &'static str,
    /// The value begins an authority: host, port, and what follows.
    authority: bool,
    /// The value, or what follows its host, lands in the path.
    path: bool,
}

const PARTS: [Part; 5] = [
    Part {
        before: "http://h.invalid/",
        after: "z",
        authority: false,
        path: true,
    },
    Part {
        before: "http://h.invalid/?",
        after: "z",
        authority: false,
        path: false,
    },
    Part {
        before: "http://h.invalid/#",
        after: "z",
        authority: false,
        path: false,
    },
    // Default ports differ.
    Part {
        before: "http://",
        after: "/z",
        authority: true,
        path: true,
    },
    Part {
        before: "https://",
        after: "/z",
        authority: true,
        path: true,
    },
];

/// `value` as the parser and the `url` crate's setters write it inside a URL.
fn url_part_forms(value: &str) -> Vec<String> {
    let mut forms = Vec::new();
    let in_path_ok = !has_dot_segment(value);
    // A value that is a URL has its whole-URL form; after `http://` it would only make
    // a form that no request holds.
    let is_url = value.contains("://");
    for part in PARTS {
        if (part.path && !in_path_ok) || (part.authority && is_url) {
            continue;
        }
        let Ok(url) = Url::parse(&format!("{}{value}{}", part.before, part.after)) else {
            continue;
        };
        if let Some(form) = url
            .as_str()
            .strip_prefix(part.before)
            .and_then(|s| s.strip_suffix(part.after))
        {
            forms.push(form.to_owned());
        }
    }

    let Ok(base) = Url::parse("http://h.invalid/") else {
        return forms;
    };
    if in_path_ok {
        let mut url = base.clone();
        url.set_path(&format!("/{value}"));
        forms.extend(url.path().strip_prefix('/').map(str::to_owned));
    }
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.clear().push(value);
    }
    forms.extend(url.path().strip_prefix('/').map(str::to_owned));
    let mut url = base.clone();
    url.set_query(Some(value));
    forms.extend(url.query().map(str::to_owned));
    let mut url = base;
    url.set_fragment(Some(value));
    forms.extend(url.fragment().map(str::to_owned));

    match Host::parse(value) {
        Ok(Host::Domain(domain)) => {
            // Errors name a refused host without its trailing dot.
            forms.push(domain.trim_end_matches('.').to_owned());
        }
        Ok(Host::Ipv4(ip)) => forms.push(ip.to_string()),
        Ok(host @ Host::Ipv6(ip)) => {
            // Bracketed in a URL, bare in errors.
            forms.push(host.to_string());
            forms.push(ip.to_string());
        }
        Err(_) => {}
    }
    forms
}

/// Whether `value`, put in a URL's path, holds a `.` or `..` segment (also
/// percent-encoded, or with tabs and newlines the parser removes).
fn has_dot_segment(value: &str) -> bool {
    let value: String = value
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let path = value.split(['?', '#']).next().unwrap_or_default();
    path.split(['/', '\\']).any(|segment| {
        let segment = segment.to_ascii_lowercase().replace("%2e", ".");
        segment == "." || segment == ".."
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(forms: &[String], form: &str) -> bool {
        forms.iter().any(|f| f == form)
    }

    #[test]
    fn the_form_encoder_writes_what_the_url_crates_does() {
        let value = "a b/c*d~e'é!";
        let expected: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        assert_eq!(percent_encode(value, &PERCENT_ENCODERS[0], false), expected);
    }

    #[test]
    fn escapes_change_case_and_nothing_else() {
        assert_eq!(escapes_in_case("%2F%3A-Z%E2", true), "%2f%3a-Z%e2");
        assert_eq!(escapes_in_case("%2f%3a-z%e2", false), "%2F%3A-z%E2");
        // Not an escape: `%` followed by something else than two hex digits.
        assert_eq!(escapes_in_case("100%Zb", false), "100%Zb");
        assert_eq!(escapes_in_case("%%2f", false), "%%2F");
    }

    #[test]
    fn a_value_of_what_the_parser_removes_has_no_empty_form() {
        for value in ["\t", "\n\r", " "] {
            let forms = secret_forms(value);
            assert!(forms.iter().all(|f| !f.is_empty()), "{value:?}: {forms:?}");
        }
    }

    #[test]
    fn dot_segments_leave_out_the_path_forms() {
        for value in ["a/../b", "a/./b", "..", "x\\%2E%2e\\y", "a/.\t./b"] {
            assert!(has_dot_segment(value), "{value}");
        }
        for value in ["a..b", "...", "a/b?../c", ".a/b."] {
            assert!(!has_dot_segment(value), "{value}");
        }
        // Not `b` alone, which would hide every `b`.
        let forms = secret_forms("s3cr3t/../b");
        assert!(!has(&forms, "b"), "{forms:?}");
    }

    #[test]
    fn a_url_that_the_parser_keeps_adds_no_whole_url_form() {
        assert_eq!(whole_url("https://hooks.slack.com/services/T0/B0/X"), None);
        assert_eq!(
            whole_url("https://HOOKS.slack.com:443").as_deref(),
            Some("https://hooks.slack.com")
        );
        assert_eq!(whole_url("not a url"), None);
    }
}
