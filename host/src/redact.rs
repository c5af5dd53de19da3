//! Keeping secrets out of reports.
//!
//! A plugin may echo a secret config value anywhere it writes: a log line, a URL's
//! query, a request or reply body, a custom field, the message it traps with. Every
//! form the value can take there (as is, JSON-escaped, percent-encoded in either case)
//! is searched for in every text of a report, and each occurrence is replaced by
//! [`REDACTED`]. Credential headers are redacted whatever they hold.
//!
//! The forms of all secrets of an installation go into one Aho-Corasick automaton,
//! built once at install: a report's texts are each read once, whatever the number of
//! secrets and forms, and a text holding none of them is not copied. Overlapping
//! occurrences (one secret inside another, or two that share characters) are merged
//! and replaced as one, so that no part of either is left visible.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use otai_plugin_abi::calls::HttpRequest;

use crate::report::{DeliveryReport, HttpExchange, LogLine, Outcome, PanelReport, REDACTED};

/// Finds the secrets of one installation in report texts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    matcher: Matcher,
}

#[derive(Debug, Clone, Default)]
enum Matcher {
    /// The installation has no (non-empty) secret.
    #[default]
    Nothing,
    Automaton(AhoCorasick),
    /// The automaton could not be built, which takes more secret text than a host's
    /// memory holds: fail closed, every text is hidden whole.
    Everything,
}

impl Redactor {
    /// A redactor for `secrets`, the plain values; empty ones are ignored.
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Redactor {
        let mut forms: Vec<String> = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .flat_map(secret_forms)
            .collect();
        forms.sort();
        forms.dedup();
        let matcher = if forms.is_empty() {
            Matcher::Nothing
        } else {
            // A DFA, read at one table lookup per byte, without a prefilter: the
            // prefilter's rare bytes (`/`, `:`, digits of a URL or token) are common in
            // log lines, and stopping at each made a text without secrets cost 2.2x
            // more to search (`cargo bench -p otai-plugin-host --bench delivery`).
            AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::DFA))
                .prefilter(false)
                .build(&forms)
                .map_or(Matcher::Everything, Matcher::Automaton)
        };
        Redactor { matcher }
    }

    /// Replaces every occurrence of a secret in `text`.
    pub(crate) fn redact(&self, text: &mut String) {
        let matcher = match &self.matcher {
            Matcher::Nothing => return,
            Matcher::Everything => {
                REDACTED.clone_into(text);
                return;
            }
            Matcher::Automaton(matcher) => matcher,
        };
        // The usual text holds no secret: one pass that stops at the first match and
        // allocates nothing decides it.
        if !matcher.is_match(text.as_str()) {
            return;
        }
        // Overlapping matches come in order of their end; sort by start to merge.
        let mut spans: Vec<(usize, usize)> = matcher
            .find_overlapping_iter(text.as_str())
            .map(|m| (m.start(), m.end()))
            .collect();
        if spans.is_empty() {
            return;
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut spans = spans.into_iter().peekable();
        while let Some((start, mut end)) = spans.next() {
            while let Some(&(next_start, next_end)) = spans.peek() {
                if next_start > end {
                    break;
                }
                end = end.max(next_end);
                spans.next();
            }
            // Patterns are UTF-8 and so is `text`: a match starts and ends on character
            // boundaries.
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = end;
        }
        out.push_str(&text[copied..]);
        *text = out;
    }

    fn redact_outcome(&self, outcome: &mut Outcome) {
        match outcome {
            Outcome::Trapped {
                message,
                reason,
                backtrace,
            } => {
                self.redact(message);
                for text in [reason, backtrace].into_iter().flatten() {
                    self.redact(text);
                }
            }
            Outcome::Rejected { reason } => self.redact(reason),
            Outcome::Ok | Outcome::TimedOut => {}
        }
    }

    fn redact_logs_and_http(&self, logs: &mut [LogLine], http: &mut [HttpExchange]) {
        for line in logs {
            self.redact(&mut line.message);
        }
        for exchange in http {
            self.redact_request(&mut exchange.request);
            if let Some(e) = &mut exchange.error {
                self.redact(&mut e.message);
            }
            if let Some(b) = &mut exchange.response_body {
                self.redact(b);
            }
        }
    }

    fn redact_request(&self, request: &mut HttpRequest) {
        self.redact(&mut request.url);
        self.redact(&mut request.method);
        let headers = std::mem::take(&mut request.headers);
        for (mut name, mut value) in headers {
            self.redact(&mut name);
            if is_credential_header(&name) {
                value = redact_credential(&value);
            } else {
                self.redact(&mut value);
            }
            request.headers.insert(name, value);
        }
        if let Some(body) = &mut request.body {
            self.redact(body);
        }
    }
}

impl DeliveryReport {
    /// Redacts the installation's secrets and the credentials of request headers,
    /// which are redacted whether or not the plugin has a secret config value.
    pub(crate) fn redact(&mut self, redactor: &Redactor) {
        redactor.redact_outcome(&mut self.outcome);
        redactor.redact_logs_and_http(&mut self.logs, &mut self.http);
        for reply in &mut self.replies {
            redactor.redact(&mut reply.body);
        }
        for field in &mut self.custom_fields {
            redactor.redact(&mut field.key);
            redactor.redact(&mut field.value);
        }
    }
}

impl PanelReport {
    /// As [`DeliveryReport::redact`].
    pub(crate) fn redact(&mut self, redactor: &Redactor) {
        redactor.redact_outcome(&mut self.outcome);
        redactor.redact_logs_and_http(&mut self.logs, &mut self.http);
        if let Some(u) = &mut self.url {
            redactor.redact(u);
        }
        if let Some(r) = &mut self.refused {
            redactor.redact(r);
        }
    }
}

/// The forms in which a secret value may show up in a report.
fn secret_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned()];
    let json = serde_json::to_string(value).unwrap_or_default();
    if json.len() >= 2 {
        let escaped = &json[1..json.len() - 1];
        if escaped != value {
            forms.push(escaped.to_owned());
        }
        // Some JSON encoders (PHP's, for one) also escape `/`.
        if escaped.contains('/') {
            forms.push(escaped.replace('/', "\\/"));
        }
    }
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    if encoded != value {
        let spaces = encoded.replace('+', "%20");
        // `%2F` and `%2f` are the same byte; encoders write either.
        forms.push(lowercase_escapes(&encoded));
        forms.push(lowercase_escapes(&spaces));
        forms.push(encoded);
        forms.push(spaces);
    }
    forms.dedup();
    forms
}

/// `%2F` → `%2f`: the hex digits of every percent escape in lower case, nothing else.
fn lowercase_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut digits = 0;
    for c in encoded.chars() {
        if digits > 0 {
            out.push(c.to_ascii_lowercase());
            digits -= 1;
        } else {
            out.push(c);
            if c == '%' {
                digits = 2;
            }
        }
    }
    out
}

/// Headers that carry credentials. Their values are derived from secrets in ways we
/// cannot enumerate (`Basic base64(user:token)`, signed tokens), so they are redacted
/// whatever they hold.
fn is_credential_header(name: &str) -> bool {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// Keeps the authentication scheme (`Basic`, `Bearer`, …), which helps debugging and is
/// not secret, and hides the credentials.
fn redact_credential(value: &str) -> String {
    match value.trim().split_once(' ') {
        Some((scheme, _))
            if scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            format!("{scheme} {REDACTED}")
        }
        _ => REDACTED.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(secrets: &[&str], text: &str) -> String {
        let mut text = text.to_owned();
        Redactor::new(secrets.iter().copied()).redact(&mut text);
        text
    }

    #[test]
    fn percent_encoded_secrets_are_found_in_either_case() {
        let forms = secret_forms("a/b c");
        for form in ["a/b c", "a%2Fb+c", "a%2Fb%20c", "a%2fb+c", "a%2fb%20c"] {
            assert!(forms.iter().any(|f| f == form), "{form} in {forms:?}");
            assert_eq!(redacted(&["a/b c"], &format!("<{form}>")), "<[redacted]>");
        }
        assert_eq!(
            redacted(&["a/b c"], "https://x.example/?token=a%2fb%20c"),
            "https://x.example/?token=[redacted]"
        );
        assert_eq!(lowercase_escapes("%2F%3A-Z%E2"), "%2f%3a-Z%e2");
    }

    #[test]
    fn json_escaped_secrets_are_found_with_and_without_escaped_slashes() {
        let forms = secret_forms("pa\"ss\\wo/rd");
        for form in [r#"pa\"ss\\wo/rd"#, r#"pa\"ss\\wo\/rd"#] {
            assert!(forms.iter().any(|f| f == form), "{form} in {forms:?}");
        }
        assert_eq!(
            redacted(&["pa\"ss\\wo/rd"], r#"{"token":"pa\"ss\\wo/rd"}"#),
            r#"{"token":"[redacted]"}"#
        );
        // A value JSON leaves alone has no second form.
        assert_eq!(secret_forms("plain"), ["plain"]);
    }

    #[test]
    fn every_occurrence_of_every_secret_is_replaced_and_other_text_kept() {
        assert_eq!(
            redacted(
                &["s3cr3t", "t0ken"],
                "a s3cr3t, t0ken and s3cr3t again; é s3cr3t"
            ),
            "a [redacted], [redacted] and [redacted] again; é [redacted]"
        );
        assert_eq!(redacted(&["s3cr3t"], "nothing here"), "nothing here");
        assert_eq!(redacted(&[], "s3cr3t"), "s3cr3t");
        // An empty value would match everywhere; it is no secret.
        assert_eq!(redacted(&[""], "text"), "text");
    }

    /// One secret inside another, or two overlapping: nothing of either stays visible,
    /// whichever is found first.
    #[test]
    fn overlapping_secrets_are_hidden_whole() {
        assert_eq!(redacted(&["abc", "abcdef"], "xabcdefx"), "x[redacted]x");
        assert_eq!(redacted(&["ab", "bcdef"], "xabcdefx"), "x[redacted]x");
        assert_eq!(redacted(&["bcdef", "cd"], "abcdefg"), "a[redacted]g");
        // Adjacent occurrences are one redaction.
        assert_eq!(redacted(&["ab", "cd"], "abcd"), "[redacted]");
        assert_eq!(redacted(&["ab", "cd"], "ab-cd"), "[redacted]-[redacted]");
    }

    /// Without an automaton (it could not be built) nothing is shown rather than a
    /// secret.
    #[test]
    fn a_redactor_that_cannot_search_hides_every_text() {
        let closed = Redactor {
            matcher: Matcher::Everything,
        };
        let mut text = "anything at all".to_owned();
        closed.redact(&mut text);
        assert_eq!(text, REDACTED);
    }

    #[test]
    fn a_credential_keeps_only_a_scheme_that_looks_like_one() {
        assert_eq!(redact_credential("Bearer abc.def"), "Bearer [redacted]");
        assert_eq!(
            redact_credential("AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=y"),
            "AWS4-HMAC-SHA256 [redacted]"
        );
        // No scheme: all of it may be the secret.
        assert_eq!(redact_credential("key=abc123 rest"), "[redacted]");
        assert_eq!(redact_credential("abc123"), "[redacted]");
    }
}
