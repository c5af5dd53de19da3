//! Matching a plugin's HTTP request to a scripted answer.
//!
//! - A pattern's method matches case-insensitively; `*` matches any method.
//! - Its URL matches the request URL exactly, or as a prefix when it ends with `*`
//!   (`https://hooks.slack.com/*`).
//! - Rules are tried in the order they were added; the first match answers.
//!
//! ```
//! use otai_plugin_abi::testing::mock::{MockPattern, MockRules};
//!
//! let mut rules = MockRules::new();
//! rules.push(MockPattern::new("POST", "https://hooks.slack.com/*"), 200);
//! rules.push(MockPattern::new("*", "https://api.example.com/health"), 204);
//! assert_eq!(rules.find("post", "https://hooks.slack.com/services/x"), Some(&200));
//! assert_eq!(rules.find("GET", "https://api.example.com/health"), Some(&204));
//! assert_eq!(rules.find("GET", "https://hooks.slack.com/x"), None);
//! ```

/// The method and URL a scripted answer is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MockPattern {
    method: String,
    url: String,
}

impl MockPattern {
    /// `method` (or `*`) and `url` (exact, or a prefix when it ends with `*`).
    ///
    /// Hosts send a URL as the URL standard serializes it (`https://Hooks.Slack.com` goes
    /// out as `https://hooks.slack.com/`), so an exact `url` is serialized the same way
    /// to match what is sent; a prefix is kept as written.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        let url = url.into();
        let url = match url::Url::parse(&url) {
            Ok(parsed) if !url.ends_with('*') => parsed.into(),
            _ => url,
        };
        MockPattern {
            method: method.into(),
            url,
        }
    }

    /// The method as given.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The URL pattern as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether a request with this method and URL matches.
    pub fn matches(&self, method: &str, url: &str) -> bool {
        let method_matches = self.method == "*" || self.method.eq_ignore_ascii_case(method);
        let url_matches = match self.url.strip_suffix('*') {
            Some(prefix) => url.starts_with(prefix),
            None => self.url == url,
        };
        method_matches && url_matches
    }
}

/// Scripted answers of type `T`, each under a [`MockPattern`], in the order added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockRules<T> {
    rules: Vec<(MockPattern, T)>,
}

impl<T> Default for MockRules<T> {
    fn default() -> Self {
        MockRules { rules: Vec::new() }
    }
}

impl<T> MockRules<T> {
    /// No rules.
    pub fn new() -> Self {
        MockRules::default()
    }

    /// Adds a rule after the others.
    pub fn push(&mut self, pattern: MockPattern, answer: T) {
        self.rules.push((pattern, answer));
    }

    /// Replaces the answer of a rule with the same pattern, keeping its place, or adds
    /// the rule after the others: scripting a request again changes its answer.
    pub fn set(&mut self, pattern: MockPattern, answer: T) {
        match self.rules.iter_mut().find(|(p, _)| *p == pattern) {
            Some(rule) => rule.1 = answer,
            None => self.rules.push((pattern, answer)),
        }
    }

    /// The answer of the first rule that matches.
    pub fn find(&self, method: &str, url: &str) -> Option<&T> {
        self.rules
            .iter()
            .find(|(p, _)| p.matches(method, url))
            .map(|(_, answer)| answer)
    }

    /// The rule a request to `url` that no rule matches was most likely meant for: the
    /// one whose URL shares the longest beginning with it (the first of equals), if any
    /// shares more than the scheme.
    pub fn closest(&self, url: &str) -> Option<&MockPattern> {
        let shared = |p: &MockPattern| {
            p.url
                .trim_end_matches('*')
                .chars()
                .zip(url.chars())
                .take_while(|(a, b)| a == b)
                .count()
        };
        let scheme = url.find("://").map_or(0, |i| i + 3);
        let mut best: Option<(&MockPattern, usize)> = None;
        for (pattern, _) in &self.rules {
            let n = shared(pattern);
            if n > scheme && best.is_none_or(|(_, b)| n > b) {
                best = Some((pattern, n));
            }
        }
        best.map(|(p, _)| p)
    }

    /// The rules, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&MockPattern, &T)> {
        self.rules.iter().map(|(p, a)| (p, a))
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl<T> FromIterator<(MockPattern, T)> for MockRules<T> {
    fn from_iter<I: IntoIterator<Item = (MockPattern, T)>>(iter: I) -> Self {
        MockRules {
            rules: iter.into_iter().collect(),
        }
    }
}

/// The `network` error message of a request no rule matches, naming no closest rule:
/// [`unmatched_message`] without one, as hosts wrote it before they named one.
pub fn no_match_message(method: &str, url: &str, hint: &str) -> String {
    unmatched_message(method, url, None, hint)
}

/// The `network` error message of a request no rule matches: it names the request,
/// the closest rule if there is one ([`MockRules::closest`]: an exact URL must match
/// to the last character), then says how to add a rule (`hint`, in the words of the
/// tool at hand). [`unmatched`] reads it back.
pub fn unmatched_message(
    method: &str,
    url: &str,
    closest: Option<&MockPattern>,
    hint: &str,
) -> String {
    match closest {
        Some(c) => format!(
            "no mock matched `{method} {url}` (the closest mock is `{} {}`): {hint}",
            c.method, c.url
        ),
        None => format!("no mock matched `{method} {url}`: {hint}"),
    }
}

/// A request no mock answered, as its error message ([`unmatched_message`]) names it:
/// what tools show as a warning on the delivery, whatever the plugin then did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched<'a> {
    /// `METHOD URL` of the request.
    pub request: &'a str,
    /// `METHOD URL` of the closest mock, if any.
    pub closest: Option<&'a str>,
    /// What the tool said to do about it (a fixture: add a mock; the local desk: it
    /// sends no requests without a transport).
    pub hint: &'a str,
}

impl std::fmt::Display for Unmatched<'_> {
    /// The warning tools show on the delivery: the request, and the mock it was most
    /// likely meant for.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no mock answered `{}`", self.request)?;
        match self.closest {
            Some(closest) => write!(
                f,
                "; the closest mock is `{closest}`, and a mock's URL matches exactly unless \
                 it ends with `*`"
            ),
            // Without a mock near it, what the tool said is the useful part: where no mock
            // can answer (the local desk), a warning about mocks alone would mislead.
            None if !self.hint.is_empty() => write!(f, ": {}", self.hint),
            None => Ok(()),
        }
    }
}

/// The request named by a `network` error message that [`unmatched_message`] wrote, or
/// `None` for any other message.
pub fn unmatched(message: &str) -> Option<Unmatched<'_>> {
    let rest = message.strip_prefix("no mock matched `")?;
    let (request, rest) = rest.split_once('`')?;
    let (closest, rest) = match rest.strip_prefix(" (the closest mock is `") {
        Some(rest) => {
            let (closest, rest) = rest.split_once("`)")?;
            (Some(closest), rest)
        }
        None => (None, rest),
    };
    let hint = rest.strip_prefix(": ").unwrap_or(rest);
    Some(Unmatched {
        request,
        closest,
        hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unmatched_request_names_the_closest_mock_and_is_read_back() {
        let mut rules = MockRules::new();
        rules.push(
            MockPattern::new("POST", "https://hooks.slack.com/services/A"),
            1,
        );
        rules.push(MockPattern::new("GET", "https://api.example.com/*"), 2);
        let url = "https://hooks.slack.com/services/B";
        let closest = rules.closest(url).unwrap();
        assert_eq!(closest.url(), "https://hooks.slack.com/services/A");
        assert_eq!(rules.closest("https://other.example/"), None);
        let message = unmatched_message("POST", url, Some(closest), "add a mock");
        assert_eq!(
            message,
            "no mock matched `POST https://hooks.slack.com/services/B` (the closest mock is \
             `POST https://hooks.slack.com/services/A`): add a mock"
        );
        assert_eq!(
            unmatched(&message),
            Some(Unmatched {
                request: "POST https://hooks.slack.com/services/B",
                closest: Some("POST https://hooks.slack.com/services/A"),
                hint: "add a mock",
            })
        );
        let alone = no_match_message("GET", "https://x.example/", "add a mock");
        assert_eq!(
            alone,
            unmatched_message("GET", "https://x.example/", None, "add a mock")
        );
        let read = unmatched(&alone).unwrap();
        assert_eq!(
            read,
            Unmatched {
                request: "GET https://x.example/",
                closest: None,
                hint: "add a mock",
            }
        );
        // With no mock near it, the warning says what the tool said.
        assert_eq!(
            read.to_string(),
            "no mock answered `GET https://x.example/`: add a mock"
        );
        assert_eq!(unmatched("connection refused"), None);
    }

    #[test]
    fn exact_urls_do_not_match_prefixes_or_longer_urls() {
        let p = MockPattern::new("GET", "https://a.example/x");
        assert!(p.matches("GET", "https://a.example/x"));
        assert!(!p.matches("GET", "https://a.example/x/y"));
        assert!(!p.matches("GET", "https://a.example/"));
        assert!(!p.matches("POST", "https://a.example/x"));
        assert!(p.matches("get", "https://a.example/x"));
    }

    #[test]
    fn exact_urls_match_the_serialized_url_hosts_send() {
        let p = MockPattern::new("POST", "HTTPS://Hooks.Slack.com");
        assert_eq!(p.url(), "https://hooks.slack.com/");
        assert!(p.matches("POST", "https://hooks.slack.com/"));
        // Not a URL: kept and compared as written.
        assert_eq!(MockPattern::new("GET", "not a url").url(), "not a url");
        assert_eq!(
            MockPattern::new("GET", "HTTPS://A.example/*").url(),
            "HTTPS://A.example/*"
        );
    }

    #[test]
    fn a_trailing_star_is_a_prefix_and_a_star_method_is_any() {
        let p = MockPattern::new("*", "https://a.example/*");
        assert!(p.matches("DELETE", "https://a.example/"));
        assert!(p.matches("GET", "https://a.example/deep/path?q=1"));
        assert!(!p.matches("GET", "https://a.example"));
        assert!(!p.matches("GET", "https://b.example/"));
    }

    #[test]
    fn first_rule_wins_and_set_replaces_in_place() {
        let mut rules = MockRules::new();
        rules.push(MockPattern::new("GET", "https://a.example/*"), 1);
        rules.push(MockPattern::new("GET", "https://a.example/x"), 2);
        assert_eq!(rules.find("GET", "https://a.example/x"), Some(&1));
        rules.set(MockPattern::new("GET", "https://a.example/*"), 3);
        assert_eq!(rules.len(), 2);
        assert_eq!(rules.find("GET", "https://a.example/x"), Some(&3));
        rules.set(MockPattern::new("PUT", "https://a.example/x"), 4);
        assert_eq!(rules.len(), 3);
        assert_eq!(rules.find("PUT", "https://a.example/x"), Some(&4));
    }
}
