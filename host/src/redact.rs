//! Keeping secrets out of reports.
//!
//! A plugin may echo a secret config value anywhere it writes: a log line, a request
//! URL, header or body, a reply, a custom field, the message it traps with; and a
//! request URL is reported as the host sent it, as the URL Standard serializes it.
//! Every form the value can take there ([`forms`]: as is, JSON-escaped, percent-encoded
//! in either case, and as the URL parser writes it in a whole URL, a host, a path, a
//! query or a fragment) is searched for in every text of a report, and each occurrence
//! is replaced by [`REDACTED`]. What a list of forms cannot find is written down in
//! [`forms`]. Credential headers are redacted whatever they hold.
//!
//! A secret that is a URL on one of the plugin's `allowed_hosts` (a webhook) keeps
//! `https://host/` visible where it is written whole: the manifest shows the host to
//! anyone who reads it, so the reader learns which service was called and nothing of
//! what the admin keeps secret (`POST https://hooks.slack.com/[redacted]`). Only that
//! start is shown, only when the host is written exactly as the allow-list has it (no
//! user name, port or other case), and never when it would leave nothing to hide.
//!
//! The forms of all secrets of an installation go into one Aho-Corasick automaton,
//! built once at install: a report's texts are each read once, whatever the number of
//! secrets and forms, and a text holding none of them is not copied. Overlapping
//! occurrences (one secret inside another, or two that share characters) are merged
//! and replaced as one, so that no part of either is left visible.

mod forms;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use otai_plugin_abi::calls::HttpRequest;

use crate::report::{DeliveryReport, HttpExchange, LogLine, Outcome, PanelReport, REDACTED};

/// Past this many bytes of forms, the automaton is a contiguous NFA rather than a DFA.
/// A DFA's table grows with the forms' length times the kinds of bytes in them: the 15
/// forms of a 1.7 KB PEM key make 13 MB (the 22 forms of the bench's three secrets,
/// 1.1 KB, make 0.46 MB), where the NFA holds them in 0.3 MB and reads a log line without
/// secrets nearly as fast (264 against 244 ns for 120 bytes, release build).
const DFA_MAX_FORM_BYTES: usize = 8 * 1024;

/// Finds the secrets of one installation in report texts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    matcher: Matcher,
    /// For each pattern of the automaton, how many of its first bytes are public
    /// (`https://host/` of a webhook on an allowed host); 0 for most.
    public: Vec<usize>,
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
    /// `public_hosts` are the plugin's `allowed_hosts` as [`AllowedHosts`] normalizes
    /// them: a secret URL on one of them keeps its scheme and host visible.
    ///
    /// [`AllowedHosts`]: otai_plugin_abi::rules::http::AllowedHosts
    pub(crate) fn new<'a>(
        secrets: impl IntoIterator<Item = &'a str>,
        public_hosts: &[String],
    ) -> Redactor {
        let mut forms: Vec<String> = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .flat_map(forms::secret_forms)
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
            let form_bytes: usize = forms.iter().map(String::len).sum();
            let kind = if form_bytes <= DFA_MAX_FORM_BYTES {
                AhoCorasickKind::DFA
            } else {
                AhoCorasickKind::ContiguousNFA
            };
            AhoCorasick::builder()
                .kind(Some(kind))
                .prefilter(false)
                .build(&forms)
                .map_or(Matcher::Everything, Matcher::Automaton)
        };
        // Pattern ids are the forms' indices.
        let public = forms
            .iter()
            .map(|form| public_prefix(form, public_hosts))
            .collect();
        Redactor { matcher, public }
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
        // What each match hides: all of it but a public start. Overlapping matches come
        // in order of their end; sort by start to merge, so that a byte any match hides
        // is hidden, whatever another match would show of it.
        let mut spans: Vec<(usize, usize)> = matcher
            .find_overlapping_iter(text.as_str())
            .map(|m| {
                let public = self.public.get(m.pattern().as_usize()).copied();
                (m.start() + public.unwrap_or(0), m.end())
            })
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
            // boundaries, and its public start ends on one (after an ASCII `/` or host).
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
                // A refused host may be, or hold, a secret (a tenant's name).
                if let Some(host) = &mut e.host {
                    self.redact(host);
                }
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

/// How many first bytes of `form` are public: `http(s)://HOST/` when HOST is one of
/// `public_hosts` exactly as written (so no user name, no port, no other case) and
/// something follows; 0 otherwise. Forms that are not a whole URL as written (JSON with
/// `\/`, percent-encoded) start otherwise, and are hidden whole.
fn public_prefix(form: &str, public_hosts: &[String]) -> usize {
    let Some(rest) = form
        .strip_prefix("https://")
        .or_else(|| form.strip_prefix("http://"))
    else {
        return 0;
    };
    let host_len = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    if !public_hosts.iter().any(|h| *h == rest[..host_len]) {
        return 0;
    }
    let mut end = form.len() - rest.len() + host_len;
    if rest[host_len..].starts_with('/') {
        end += 1;
    }
    // A secret that is nothing but a public host is hidden whole all the same: it was
    // given as a secret.
    if end >= form.len() { 0 } else { end }
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
        Redactor::new(secrets.iter().copied(), &[]).redact(&mut text);
        text
    }

    /// `text` with the secret `value` redacted exactly where `expected` is.
    fn assert_redacted(value: &str, text: &str, expected: &str) {
        assert_eq!(redacted(&[value], text), expected, "{value:?} in {text:?}");
    }

    #[test]
    fn percent_encoded_secrets_are_found_in_either_case_and_by_each_encoder() {
        let value = "a/b c~*'é";
        for form in [
            // application/x-www-form-urlencoded, with `+` and with `%20`
            "a%2Fb+c%7E*%27%C3%A9",
            "a%2fb+c%7e*%27%c3%a9",
            "a%2Fb%20c%7E*%27%C3%A9",
            "a%2fb%20c%7e*%27%c3%a9",
            // encodeURIComponent
            "a%2Fb%20c~*'%C3%A9",
            // RFC 3986, with `+`, and keeping `/`
            "a%2Fb%20c~%2A%27%C3%A9",
            "a%2Fb+c~%2A%27%C3%A9",
            "a/b%20c~%2A%27%C3%A9",
            // letters and digits only
            "a%2Fb%20c%7E%2A%27%C3%A9",
            "a%2fb%20c%7e%2a%27%c3%a9",
        ] {
            assert_redacted(value, &format!("<{form}>"), "<[redacted]>");
        }
        assert_redacted(
            "a/b c",
            "https://x.example/?token=a%2fb%20c",
            "https://x.example/?token=[redacted]",
        );
    }

    #[test]
    fn a_webhook_url_is_found_as_the_parser_serializes_it() {
        for (value, sent) in [
            (
                "https://hooks.slack.com/services/T0/B0/Sp4ce s3cr3t",
                "https://hooks.slack.com/services/T0/B0/Sp4ce%20s3cr3t",
            ),
            (
                "https://HOOKS.slack.com/services/T0/B0/s3cr3t",
                "https://hooks.slack.com/services/T0/B0/s3cr3t",
            ),
            (
                "https://hooks.slack.com:443/services/T0/B0/s3cr3t",
                "https://hooks.slack.com/services/T0/B0/s3cr3t",
            ),
            (
                "https://hooks.slack.com/services/T0/B0/s3crét",
                "https://hooks.slack.com/services/T0/B0/s3cr%C3%A9t",
            ),
            (
                "https://bücher.example/hooks/s3cr3t",
                "https://xn--bcher-kva.example/hooks/s3cr3t",
            ),
            (
                "https://hooks.slack.com/services\\T0/s3cr\t3t\n",
                "https://hooks.slack.com/services/T0/s3cr3t",
            ),
        ] {
            let parsed = url::Url::parse(value).unwrap();
            assert_eq!(parsed.as_str(), sent, "the parser's form of {value:?}");
            assert_redacted(value, sent, "[redacted]");
            // What the plugin adds keeps the value's form.
            let with_query = url::Url::parse(&format!("{value}?channel=ops")).unwrap();
            assert_redacted(value, with_query.as_str(), "[redacted]?channel=ops");
            // Echoed in JSON by a server that escapes `/`, and passed on as a query
            // parameter, in either hex case.
            let json = serde_json::to_string(sent).unwrap().replace('/', "\\/");
            assert_redacted(value, &json, "\"[redacted]\"");
            let encoded: String = url::form_urlencoded::byte_serialize(sent.as_bytes()).collect();
            assert_redacted(value, &format!("?next={encoded}"), "?next=[redacted]");
            let lower = forms::escapes_in_case(&encoded, true);
            assert_redacted(value, &format!("?next={lower}"), "?next=[redacted]");
        }
        // A URL with an empty path: the parser's `/` may be followed by more path.
        assert_redacted(
            "https://HOOKS.slack.com:443",
            "https://hooks.slack.com/services/x",
            "[redacted]/services/x",
        );
    }

    /// The value in each part of a URL, as the parser serializes the whole: redacted
    /// exactly where a plain value would be.
    #[test]
    fn a_secret_inside_a_url_is_found_in_each_part_the_parser_writes() {
        const PLAIN: &str = "zzplainzz";
        let templates = [
            "https://h.example/p/{}/q",
            "https://h.example/p/{}",
            "https://h.example/p?t={}&x=1",
            "https://h.example/p#k={}",
            "https://{}.example.com/p",
            "https://a.{}/p",
            "https://{}/p",
            "http://{}/p",
        ];
        let values = [
            "Sp4ce s3cr3t",
            "q'u\"o<t>e`s3cr3t`",
            "Ünï-s3cr3t",
            "tab\ts3cr3t\n",
            "back\\s3cr3t",
            "Tenant-S3cr3t",
            "bücher",
            "hash#s3cr3t",
            "{br4ce}|s3cr3t^",
            "HOOKS.slack.com:443",
            "10.0.0.1",
            "0x7f.1",
            "[::FFFF:7f00:1]",
            "s3cr3t.",
            "a/b/s3cr3t?q=1",
            "%41%2fs3cr3t",
        ];
        for template in templates {
            let plain = url::Url::parse(&template.replace("{}", PLAIN)).unwrap();
            let expected = plain.as_str().replace(PLAIN, REDACTED);
            for value in values {
                // Not every value makes a URL in every part (a space in a host).
                let Ok(sent) = url::Url::parse(&template.replace("{}", value)) else {
                    continue;
                };
                assert_redacted(value, sent.as_str(), &expected);
            }
        }
        // A refused host is named without brackets or trailing dot.
        assert_redacted(
            "[::FFFF:7f00:1]",
            "host `::ffff:127.0.0.1`",
            "host `[redacted]`",
        );
        assert_redacted("s3cr3t.", "host `s3cr3t` is", "host `[redacted]` is");
    }

    #[test]
    fn the_name_of_a_refused_host_is_redacted() {
        use otai_plugin_abi::calls::HostErrorKind;

        use crate::report::HttpError;
        let mut http = [HttpExchange {
            request: HttpRequest {
                method: "GET".into(),
                url: "https://Tenant-S3cr3t.evil.example/".into(),
                headers: Default::default(),
                body: None,
            },
            status: 403,
            blocked: true,
            error: Some(HttpError {
                kind: HostErrorKind::HostNotAllowed,
                message: "host `tenant-s3cr3t.evil.example` is not allowed".into(),
                host: Some("tenant-s3cr3t.evil.example".into()),
            }),
            response_body: None,
        }];
        Redactor::new(["Tenant-S3cr3t"], &[]).redact_logs_and_http(&mut [], &mut http);
        let error = http[0].error.as_ref().unwrap();
        assert_eq!(error.host.as_deref(), Some("[redacted].evil.example"));
        assert_eq!(
            error.message,
            "host `[redacted].evil.example` is not allowed"
        );
        assert_eq!(http[0].request.url, "https://[redacted].evil.example/");
    }

    /// What the module doc says a list of forms cannot find stays as it is, and no
    /// shorter string stands in for it.
    #[test]
    fn the_limits_of_forms_are_those_the_doc_gives() {
        let sent = url::Url::parse("https://h.example/x/s3cr3t/../b").unwrap();
        assert_eq!(sent.as_str(), "https://h.example/x/b");
        assert_redacted("s3cr3t/../b", sent.as_str(), sent.as_str());
        let sent = url::Url::parse("https://bücherei.example/").unwrap();
        assert_redacted("bücher", sent.as_str(), sent.as_str());
    }

    #[test]
    fn json_escaped_secrets_are_found_with_and_without_escaped_slashes() {
        let forms = forms::secret_forms("pa\"ss\\wo/rd");
        for form in [r#"pa\"ss\\wo/rd"#, r#"pa\"ss\\wo\/rd"#] {
            assert!(forms.iter().any(|f| f == form), "{form} in {forms:?}");
        }
        assert_eq!(
            redacted(&["pa\"ss\\wo/rd"], r#"{"token":"pa\"ss\\wo/rd"}"#),
            r#"{"token":"[redacted]"}"#
        );
        // Non-ASCII as `\u` escapes, in either case, also with `/` escaped (PHP).
        for text in [
            r#""p\u00e4ss/w\u00f6rd \ud83d\udd11""#,
            r#""p\u00E4ss\/w\u00F6rd \uD83D\uDD11""#,
        ] {
            assert_eq!(redacted(&["päss/wörd 🔑"], text), r#""[redacted]""#);
        }
        // A value JSON leaves alone has no second form.
        assert_eq!(forms::secret_forms("plain"), ["plain"]);
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

    /// A webhook on an allowed host shows which service was called, and nothing of the
    /// secret the public host does not already say.
    #[test]
    fn a_secret_url_on_an_allowed_host_keeps_only_its_scheme_and_host() {
        let public = ["hooks.slack.com".to_owned(), "10.0.0.7".to_owned()];
        let redact = |secrets: &[&str], text: &str| {
            let mut text = text.to_owned();
            Redactor::new(secrets.iter().copied(), &public).redact(&mut text);
            text
        };
        let hook = "https://hooks.slack.com/services/T0/B0/s3cr3t";
        for (secret, text, expected) in [
            (hook, hook, "https://hooks.slack.com/[redacted]"),
            (
                hook,
                "posting to https://hooks.slack.com/services/T0/B0/s3cr3t?x=1",
                "posting to https://hooks.slack.com/[redacted]?x=1",
            ),
            // As the parser sends it: the host lower-cased, the default port dropped.
            (
                "https://HOOKS.slack.com:443/services/T0/B0/s3cr3t",
                hook,
                "https://hooks.slack.com/[redacted]",
            ),
            // As the plugin wrote it, in another case or with a port: all of it.
            (
                "https://HOOKS.slack.com/services/T0/B0/s3cr3t",
                "log: https://HOOKS.slack.com/services/T0/B0/s3cr3t",
                "log: [redacted]",
            ),
            (
                "https://hooks.slack.com:8443/s3cr3t",
                "https://hooks.slack.com:8443/s3cr3t",
                "[redacted]",
            ),
            // A user name or password in it is no public host.
            (
                "https://bot:pw@hooks.slack.com/s3cr3t",
                "https://bot:pw@hooks.slack.com/s3cr3t",
                "[redacted]",
            ),
            // A host that is not allowed is part of the secret.
            (
                "https://tenant-s3cr3t.example/in",
                "https://tenant-s3cr3t.example/in",
                "[redacted]",
            ),
            (
                "http://10.0.0.7/hook/s3cr3t",
                "http://10.0.0.7/hook/s3cr3t",
                "http://10.0.0.7/[redacted]",
            ),
            // A query right after the host.
            (
                "https://hooks.slack.com?token=s3cr3t",
                "https://hooks.slack.com?token=s3cr3t",
                "https://hooks.slack.com[redacted]",
            ),
            // Nothing but the public host: it was given as a secret, it stays hidden.
            (
                "https://hooks.slack.com/",
                "https://hooks.slack.com/",
                "[redacted]",
            ),
            // Other encodings of it are hidden whole.
            (
                hook,
                r#"{"url":"https:\/\/hooks.slack.com\/services\/T0\/B0\/s3cr3t"}"#,
                r#"{"url":"[redacted]"}"#,
            ),
            (
                hook,
                "?next=https%3A%2F%2Fhooks.slack.com%2Fservices%2FT0%2FB0%2Fs3cr3t",
                "?next=[redacted]",
            ),
        ] {
            assert_eq!(redact(&[secret], text), expected, "{secret:?} in {text:?}");
        }
        // Another secret inside the public start hides its part of it.
        assert_eq!(
            redact(&[hook, "slack"], hook),
            "https://hooks.[redacted].com/[redacted]"
        );
        assert_eq!(
            redact(&[hook, "https://hooks"], hook),
            "[redacted].slack.com/[redacted]"
        );
    }

    /// Long secrets get the compact automaton, and are found in it as short ones are in
    /// the fast one.
    #[test]
    fn long_secrets_are_found_by_the_compact_automaton() {
        let kind = |r: &Redactor| match &r.matcher {
            Matcher::Automaton(a) => Some(a.kind()),
            _ => None,
        };
        let short = Redactor::new(["https://HOOKS.slack.com/services/T0/B0/s3cr3t"], &[]);
        assert_eq!(kind(&short), Some(AhoCorasickKind::DFA));
        let key = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC/+k=".repeat(60)
        );
        let long = Redactor::new([key.as_str()], &[]);
        assert_eq!(kind(&long), Some(AhoCorasickKind::ContiguousNFA));
        let json = serde_json::to_string(&key).unwrap();
        for text in [key.clone(), json[1..json.len() - 1].to_owned()] {
            let mut text = format!("key: {text}.");
            long.redact(&mut text);
            assert_eq!(text, "key: [redacted].");
        }
    }

    /// Without an automaton (it could not be built) nothing is shown rather than a
    /// secret.
    #[test]
    fn a_redactor_that_cannot_search_hides_every_text() {
        let closed = Redactor {
            matcher: Matcher::Everything,
            public: Vec::new(),
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
