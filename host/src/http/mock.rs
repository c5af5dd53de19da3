//! A scripted [`HttpTransport`] for tests: no network at all.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use otai_plugin_abi::calls::HttpRequest;

use super::{HttpResponse, HttpTransport, TransportError};

#[derive(Debug, Clone)]
enum Reaction {
    Respond { status: u16, body: Vec<u8> },
    Network(String),
    Timeout,
}

#[derive(Debug, Clone)]
struct Rule {
    method: String,
    url: String,
    reaction: Reaction,
}

impl Rule {
    fn matches(&self, request: &HttpRequest) -> bool {
        let method = self.method == "*" || self.method.eq_ignore_ascii_case(&request.method);
        let url = match self.url.strip_suffix('*') {
            Some(prefix) => request.url.starts_with(prefix),
            None => self.url == request.url,
        };
        method && url
    }
}

#[derive(Debug, Default)]
struct Script {
    rules: Vec<Rule>,
    requests: Vec<HttpRequest>,
}

/// A scripted HTTP transport: rules match a method and a URL and say what to answer;
/// every request that reaches it is recorded.
///
/// - The method matches case-insensitively; `"*"` matches any method.
/// - The URL matches exactly, or as a prefix when the pattern ends with `*`
///   (`"https://hooks.slack.com/*"`).
/// - Rules are tried in the order they were added; the first match answers.
/// - A request no rule matches gets a `network` error (status 0 for the plugin) whose
///   message says that no mock matched and names the request, so a forgotten rule is
///   visible in the report rather than silently answered.
///
/// Clones share the script and the record, so a test can keep a clone to inspect
/// [`MockHttp::requests`] after handing one to the host. Requests the host refuses
/// (host not allowed, invalid) never reach the transport and are not recorded here.
///
/// ```
/// use otai_plugin_host::http::{HttpRequest, HttpTransport, MockHttp};
/// use std::time::Duration;
///
/// let mock = MockHttp::new()
///     .on("POST", "https://hooks.slack.com/*").respond(200, "ok")
///     .on("GET", "https://api.example.com/slow").timeout();
/// let request = HttpRequest {
///     method: "POST".into(),
///     url: "https://hooks.slack.com/services/x".into(),
///     headers: Default::default(),
///     body: Some("{}".into()),
/// };
/// let response = mock.send(&request, Duration::from_secs(1)).unwrap();
/// assert_eq!((response.status, response.body.as_slice()), (200, b"ok".as_slice()));
/// assert_eq!(mock.requests().len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MockHttp {
    script: Arc<Mutex<Script>>,
}

/// A rule being added by [`MockHttp::on`]: finish it with what to answer.
#[derive(Debug)]
#[must_use = "a rule is added only once its reaction is given"]
pub struct MockRule {
    mock: MockHttp,
    method: String,
    url: String,
}

impl MockHttp {
    /// A mock with no rules: every request fails with a `network` error.
    pub fn new() -> Self {
        MockHttp::default()
    }

    /// Starts a rule for `method` (or `"*"`) and `url` (exact, or a prefix ending in `*`).
    pub fn on(self, method: &str, url: &str) -> MockRule {
        MockRule {
            mock: self,
            method: method.to_owned(),
            url: url.to_owned(),
        }
    }

    /// Every request that reached the mock, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.lock().requests.clone()
    }

    /// Replaces this mock's rules with `other`'s (and clears the record), keeping
    /// clones of `self` connected.
    pub fn replace_rules(&self, other: &MockHttp) {
        if Arc::ptr_eq(&self.script, &other.script) {
            return;
        }
        let rules = other.lock().rules.clone();
        let mut script = self.lock();
        script.rules = rules;
        script.requests.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        // A panic while holding the lock cannot leave the script half-updated.
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn add(self, method: String, url: String, reaction: Reaction) -> Self {
        self.lock().rules.push(Rule {
            method,
            url,
            reaction,
        });
        self
    }
}

impl MockRule {
    /// Answers with `status` and `body`.
    pub fn respond(self, status: u16, body: impl Into<Vec<u8>>) -> MockHttp {
        self.mock.add(
            self.method,
            self.url,
            Reaction::Respond {
                status,
                body: body.into(),
            },
        )
    }

    /// Fails with a `network` error carrying `message`.
    pub fn network_error(self, message: &str) -> MockHttp {
        self.mock
            .add(self.method, self.url, Reaction::Network(message.to_owned()))
    }

    /// Fails with a `timeout` error, at once (tests do not wait).
    pub fn timeout(self) -> MockHttp {
        self.mock.add(self.method, self.url, Reaction::Timeout)
    }
}

impl HttpTransport for MockHttp {
    fn send(
        &self,
        request: &HttpRequest,
        _timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let mut script = self.lock();
        script.requests.push(request.clone());
        let reaction = script
            .rules
            .iter()
            .find(|r| r.matches(request))
            .map(|r| r.reaction.clone());
        drop(script);
        match reaction {
            Some(Reaction::Respond { status, body }) => Ok(HttpResponse { status, body }),
            Some(Reaction::Network(message)) => Err(TransportError::network(message)),
            Some(Reaction::Timeout) => Err(TransportError::timeout("the mock simulated a timeout")),
            None => Err(TransportError::network(format!(
                "no mock matched `{} {}`: add a rule with `MockHttp::on`",
                request.method, request.url
            ))),
        }
    }
}
