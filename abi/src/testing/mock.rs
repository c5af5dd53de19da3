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

/// The `network` error message of a request no rule matches: it names the request,
/// then says how to add a rule (`hint`, in the words of the tool at hand).
pub fn no_match_message(method: &str, url: &str, hint: &str) -> String {
    format!("no mock matched `{method} {url}`: {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

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
