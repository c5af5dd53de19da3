//! The stand-in host off wasm32: what it knows and records, shared by the stand-in's part
//! of each host function (`native` in each file of `crate::host_functions`), which
//! answers in-process the way the reference host answers.
//!
//! Every decision is the contract crate's (`otai_plugin_abi::rules` for ticket
//! operations and HTTP requests, `otai_plugin_abi::testing::mock` for scripted answers):
//! the host runs the same functions, and the parity tests of `tests/tests/parity.rs` hold
//! both to the same statuses. What the host does with a wasm instance (bounds checks,
//! allocation, deadlines) has no meaning here.
//!
//! The state is per thread, so tests run in parallel without seeing each other.
//! [`crate::testing`] scripts it and reads what was recorded.

use std::cell::RefCell;

use otai_plugin_abi::calls::{AddReply, HostErrorKind, HttpRequest, SetCustomField};
use otai_plugin_abi::rules::http::{AllowedHosts, error_body};
use otai_plugin_abi::rules::ticket::TicketScope;
use otai_plugin_abi::status::LogLevel;
use otai_plugin_abi::testing::mock::{MockPattern, MockRules};

/// One line the plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level (codes above 3 are logged at `error`, as the host does).
    pub level: LogLevel,
    /// The text (invalid UTF-8 replaced, as the host does).
    pub message: String,
}

/// Everything the plugin did through the host, in call order per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// `ohd_log` calls.
    pub logs: Vec<LogLine>,
    /// `ohd_http_request` calls whose JSON decoded, including those the host refused
    /// (an invalid URL, a host not in `allowed_hosts`), as the host's reports list them.
    pub http: Vec<HttpRequest>,
    /// Replies the stand-in accepted.
    pub replies: Vec<AddReply>,
    /// Custom fields the stand-in accepted.
    pub custom_fields: Vec<SetCustomField>,
}

/// A scripted answer of the HTTP stand-in: a server response or a host error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockResponse {
    pub(crate) status: u32,
    pub(crate) body: Vec<u8>,
}

impl MockResponse {
    /// A server response with this status and body.
    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Self {
        MockResponse {
            status: u32::from(status),
            body: body.into(),
        }
    }

    /// A 200 response with this body.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self::status(200, body)
    }

    /// The host's refusal of a host not in `allowed_hosts` (403 with its error body).
    /// Once the plugin's `allowed_hosts` are known (see `testing::deliver`), the
    /// stand-in refuses such hosts by itself.
    pub fn not_allowed(host: &str) -> Self {
        Self::host_error(
            HostErrorKind::HostNotAllowed,
            "host not allowed",
            Some(host),
        )
    }

    /// The host's refusal of a host name that resolves only to `address`, an internal
    /// address (status 0 with an `address_not_allowed` body naming both), as the host
    /// words it.
    ///
    /// # Panics
    /// When `address` is not internal: the host would connect to it.
    pub fn address_not_allowed(host: &str, address: std::net::IpAddr) -> Self {
        use otai_plugin_abi::rules::address::{InternalAddresses, screen_addresses};
        match screen_addresses(host, &[address], InternalAddresses::Refuse) {
            Err(refusal) => MockResponse {
                status: refusal.status(),
                body: refusal.body(),
            },
            Ok(_) => panic!(
                "MockResponse::address_not_allowed: {address} is not an internal address, \
                 so the host would connect to it"
            ),
        }
    }

    /// A network failure (status 0).
    pub fn network_error(message: &str) -> Self {
        Self::host_error(HostErrorKind::Network, message, None)
    }

    /// The delivery deadline running out (status 0).
    pub fn timeout() -> Self {
        Self::host_error(HostErrorKind::Timeout, "the delivery deadline passed", None)
    }

    /// A response over the host's size limit (status 0).
    pub fn too_large() -> Self {
        Self::host_error(
            HostErrorKind::ResponseTooLarge,
            "the response is larger than 4 MiB",
            None,
        )
    }

    fn host_error(kind: HostErrorKind, message: &str, host: Option<&str>) -> Self {
        MockResponse {
            status: kind.status(),
            body: error_body(kind, message, host),
        }
    }
}

/// What the stand-in knows and has recorded on this thread.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) recorded: Recorded,
    pub(crate) mocks: MockRules<MockResponse>,
    /// The ticket of the event being delivered; `None` as in `render_panel`.
    pub(crate) ticket: Option<String>,
    /// The plugin's `allowed_hosts`, when known; `None` lets every host through.
    pub(crate) allowed: Option<AllowedHosts>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

pub(crate) fn with<T>(f: impl FnOnce(&mut State) -> T) -> T {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

/// Scripts the answer to `method url` (patterns as the host's `MockHttp`); scripting
/// the same pattern again replaces its answer.
pub(crate) fn mock(method: &str, url: &str, response: MockResponse) {
    with(|s| s.mocks.set(MockPattern::new(method, url), response));
}

/// Runs `f` in the scope of a ticket operation: the current ticket's event, or a panel.
pub(crate) fn scope<T>(f: impl FnOnce(TicketScope<'_>) -> T) -> T {
    let ticket = with(|s| s.ticket.clone());
    match &ticket {
        Some(ticket_id) => f(TicketScope::Event { ticket_id }),
        None => f(TicketScope::Panel),
    }
}
