//! A scripted [`HttpTransport`] for tests: no network unless a fallback is given.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use otai_plugin_abi::calls::HttpRequest;
use otai_plugin_abi::testing::mock::{MockPattern, MockRules, unmatched_message};

use super::{HttpResponse, HttpTransport, TransportError};

#[derive(Debug, Clone)]
enum Reaction {
    Respond { status: u16, body: Vec<u8> },
    Network(String),
    Timeout,
}

#[derive(Default)]
struct Script {
    rules: MockRules<Reaction>,
    requests: Vec<HttpRequest>,
    fallback: Option<Arc<dyn HttpTransport>>,
    hint: Option<String>,
}

/// A scripted HTTP transport: rules match a method and a URL and say what to answer;
/// every request that reaches it is recorded.
///
/// - The method matches case-insensitively; `"*"` matches any method.
/// - The URL matches exactly, or as a prefix when the pattern ends with `*`
///   (`"https://hooks.slack.com/*"`).
/// - Rules are tried in the order they were added; the first match answers.
/// - A request no rule matches goes to the [`MockHttp::fallback`] transport when there
///   is one; otherwise it gets a `network` error (status 0 for the plugin) whose message
///   names the request and says how to add a rule, so a forgotten rule is visible in the
///   report rather than silently answered.
///
/// The matching rules are those of `otai_plugin_abi::testing::mock`, shared with the
/// SDK's `testing::mock_http` and the `[[http]]` mocks of `cargo otai-plugin test`.
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
#[derive(Clone, Default)]
pub struct MockHttp {
    script: Arc<Mutex<Script>>,
}

impl std::fmt::Debug for MockHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let script = self.lock();
        f.debug_struct("MockHttp")
            .field("rules", &script.rules.len())
            .field("requests", &script.requests.len())
            .field("fallback", &script.fallback.is_some())
            .finish()
    }
}

/// A rule being added by [`MockHttp::on`]: finish it with what to answer.
#[derive(Debug)]
#[must_use = "a rule is added only once its reaction is given"]
pub struct MockRule {
    mock: MockHttp,
    pattern: MockPattern,
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
            pattern: MockPattern::new(method, url),
        }
    }

    /// Sends requests that no rule matches with `transport` (for example
    /// [`RealHttp`](super::RealHttp)) instead of failing them. Default: none.
    pub fn fallback(self, transport: impl HttpTransport + 'static) -> Self {
        self.lock().fallback = Some(Arc::new(transport));
        self
    }

    /// What the `network` error of an unmatched request tells the reader to do, in the
    /// words of the tool at hand. Default: ``add a rule with `MockHttp::on` ``.
    pub fn unmatched_hint(self, hint: impl Into<String>) -> Self {
        self.lock().hint = Some(hint.into());
        self
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

    fn add(self, pattern: MockPattern, reaction: Reaction) -> Self {
        self.lock().rules.push(pattern, reaction);
        self
    }
}

impl MockRule {
    /// Answers with `status` and `body`.
    pub fn respond(self, status: u16, body: impl Into<Vec<u8>>) -> MockHttp {
        self.mock.add(
            self.pattern,
            Reaction::Respond {
                status,
                body: body.into(),
            },
        )
    }

    /// Fails with a `network` error carrying `message`.
    pub fn network_error(self, message: &str) -> MockHttp {
        self.mock
            .add(self.pattern, Reaction::Network(message.to_owned()))
    }

    /// Fails with a `timeout` error, at once (tests do not wait).
    pub fn timeout(self) -> MockHttp {
        self.mock.add(self.pattern, Reaction::Timeout)
    }
}

impl HttpTransport for MockHttp {
    fn send(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let mut script = self.lock();
        script.requests.push(request.clone());
        let reaction = script.rules.find(&request.method, &request.url).cloned();
        let closest = reaction
            .is_none()
            .then(|| script.rules.closest(&request.url).cloned())
            .flatten();
        let fallback = script.fallback.clone();
        let hint = script.hint.clone();
        drop(script);
        match reaction {
            Some(Reaction::Respond { status, body }) => Ok(HttpResponse { status, body }),
            Some(Reaction::Network(message)) => Err(TransportError::network(message)),
            Some(Reaction::Timeout) => Err(TransportError::timeout("the mock simulated a timeout")),
            None => match fallback {
                Some(transport) => transport.send(request, timeout),
                None => Err(TransportError::network(unmatched_message(
                    &request.method,
                    &request.url,
                    closest.as_ref(),
                    hint.as_deref().unwrap_or("add a rule with `MockHttp::on`"),
                ))),
            },
        }
    }
}
