//! Native unit tests of plugin logic (not available on wasm32).
//!
//! Off wasm32 the host calls go to an in-process stand-in that behaves like the
//! reference host for the things a plugin can observe: log lines, HTTP requests (with
//! responses you script), replies and custom fields (with the host's status codes for
//! a wrong ticket, an empty body, oversized values, and calls from `render_panel`).
//! The state is per thread, so tests run in parallel without seeing each other.
//!
//! ```
//! use otai_plugin_sdk::prelude::*;
//! use otai_plugin_sdk::testing::{self, MockResponse};
//!
//! #[derive(Deserialize)]
//! struct Config { webhook_url: String }
//!
//! #[derive(Default)]
//! struct Slack;
//!
//! impl Plugin for Slack {
//!     type Config = Config;
//!     fn on_event(&mut self, event: Event<Config>) -> Result<()> {
//!         let response = http::post(&event.config.webhook_url).body(event.ticket.subject).send()?;
//!         info!("slack answered {}", response.status());
//!         Ok(())
//!     }
//! }
//!
//! testing::mock_http("POST", "https://hooks.slack.com/services/x", MockResponse::ok("ok"));
//! let payload = testing::payload(
//!     EventKind::TicketCreated,
//!     serde_json::json!({ "webhook_url": "https://hooks.slack.com/services/x" }),
//! );
//! let delivery = testing::deliver::<Slack>(&payload);
//! assert!(delivery.result.is_ok());
//! assert_eq!(delivery.http[0].body.as_deref(), Some("Laptop will not power on"));
//! assert_eq!(delivery.logs[0].message, "slack answered 200");
//! ```

use otai_plugin_abi::calls::{
    AddReply, HostError, HostErrorBody, HostErrorKind, HttpRequest, SetCustomField,
};
use otai_plugin_abi::event::EventKind;
use serde_json::{Value, json};

use crate::log::Level;
use crate::{Plugin, RawPlugin, Result};

/// One line the plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// The text (invalid UTF-8 replaced, as the host does).
    pub message: String,
}

/// Everything the plugin did through the host, in call order per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// `ohd_log` calls.
    pub logs: Vec<LogLine>,
    /// `ohd_http_request` calls that reached the stand-in as valid requests.
    pub http: Vec<HttpRequest>,
    /// Replies the stand-in accepted.
    pub replies: Vec<AddReply>,
    /// Custom fields the stand-in accepted.
    pub custom_fields: Vec<SetCustomField>,
}

/// The outcome of [`deliver`] or [`render_panel`], and what the plugin did meanwhile.
#[derive(Debug)]
pub struct Delivery<T> {
    /// The handler's result (including a payload decoding error). On wasm32 an `Err`
    /// makes the delivery fail; a panic is not caught here and fails the test.
    pub result: Result<T>,
    /// `ohd_log` calls.
    pub logs: Vec<LogLine>,
    /// `ohd_http_request` calls.
    pub http: Vec<HttpRequest>,
    /// Accepted replies.
    pub replies: Vec<AddReply>,
    /// Accepted custom fields.
    pub custom_fields: Vec<SetCustomField>,
}

impl<T> Delivery<T> {
    fn new(result: Result<T>, recorded: Recorded) -> Self {
        Delivery {
            result,
            logs: recorded.logs,
            http: recorded.http,
            replies: recorded.replies,
            custom_fields: recorded.custom_fields,
        }
    }
}

/// A scripted answer of the HTTP stand-in: a server response or a host error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockResponse {
    status: u32,
    body: Vec<u8>,
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
    pub fn not_allowed(host: &str) -> Self {
        Self::host_error(
            HostErrorKind::HostNotAllowed,
            "host not allowed",
            Some(host),
        )
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
        let body = HostErrorBody {
            ohd_error: HostError {
                kind,
                message: message.to_owned(),
                host: host.map(str::to_owned),
            },
        };
        MockResponse {
            status: kind.status(),
            body: serde_json::to_vec(&body).unwrap_or_default(),
        }
    }
}

/// Scripts the answer to every later `method url` request on this thread (exact
/// match; a later script for the same pair wins). An unscripted request fails with a
/// network error naming it.
pub fn mock_http(method: &str, url: &str, response: MockResponse) {
    state::with(|s| {
        s.mocks.retain(|(m, u, _)| !(m == method && u == url));
        s.mocks.push((method.to_owned(), url.to_owned(), response));
    });
}

/// Sets the ticket that ticket operations may act on, as the host does during
/// `on_event`; `None` (the initial state) makes them fail with `NotAvailable`, as in
/// `render_panel`. [`deliver`] sets it from the payload.
pub fn set_current_ticket(ticket_id: Option<&str>) {
    state::with(|s| s.ticket = ticket_id.map(str::to_owned));
}

/// Takes everything recorded on this thread so far.
pub fn recorded() -> Recorded {
    state::with(|s| core::mem::take(&mut s.recorded))
}

/// Forgets recorded calls, scripted responses and the current ticket on this thread.
pub fn reset() {
    state::with(|s| *s = state::State::default());
}

/// Runs a [`Plugin`]'s `on_event` on a payload exactly as the `on_event` export does
/// (decode, construct with `Default`, call), with the payload's ticket as the current
/// ticket.
pub fn deliver<P: Plugin>(payload: &str) -> Delivery<()> {
    deliver_with(payload, crate::rt::dispatch_event::<P>)
}

/// As [`deliver`], for a [`RawPlugin`].
pub fn deliver_raw<P: RawPlugin>(payload: &str) -> Delivery<()> {
    deliver_with(payload, crate::rt::dispatch_raw_event::<P>)
}

fn deliver_with(payload: &str, run: fn(&[u8]) -> Result<()>) -> Delivery<()> {
    let ticket = serde_json::from_str::<Value>(payload)
        .ok()
        .and_then(|v| v["ticket"]["id"].as_str().map(str::to_owned));
    let before = recorded();
    set_current_ticket(ticket.as_deref());
    let result = run(payload.as_bytes());
    set_current_ticket(None);
    let delivery = Delivery::new(result, recorded());
    state::with(|s| s.recorded = before);
    delivery
}

/// Runs a [`Plugin`]'s `render_panel` as the export does; ticket operations fail with
/// `NotAvailable` meanwhile, as on the host.
pub fn render_panel<P: Plugin>(ticket_id: &str) -> Delivery<String> {
    panel_with(ticket_id, crate::rt::dispatch_panel::<P>)
}

/// As [`render_panel`], for a [`RawPlugin`].
pub fn render_panel_raw<P: RawPlugin>(ticket_id: &str) -> Delivery<String> {
    panel_with(ticket_id, crate::rt::dispatch_raw_panel::<P>)
}

fn panel_with(ticket_id: &str, run: fn(&str) -> Result<String>) -> Delivery<String> {
    let before = recorded();
    let saved = state::with(|s| s.ticket.take());
    let result = run(ticket_id);
    set_current_ticket(saved.as_deref());
    let delivery = Delivery::new(result, recorded());
    state::with(|s| s.recorded = before);
    delivery
}

/// A realistic payload of `kind` (ticket `01JQXYZ`, the reference documentation's
/// example ticket) with `config` as the plugin's config and the event's `data`.
/// Adjust it with `serde_json` for special cases.
pub fn payload(kind: EventKind, config: Value) -> String {
    let person = json!({ "id": "01JQAGENT", "name": "Ana Diaz", "email": "ana@example.com" });
    let reply = |internal: bool| json!({ "reply_id": "01JQREPLY", "body": "Could you try another charger?", "is_internal": internal, "author": person });
    let data = match kind {
        EventKind::TicketAssigned => {
            json!({ "assignee": { "type": "user", "id": "01JQAGENT", "name": "Ana Diaz", "email": "ana@example.com" } })
        }
        EventKind::TicketStatusChanged => {
            json!({ "from_status": "New", "to_status": "In Progress" })
        }
        EventKind::TicketReplyAdded => reply(false),
        EventKind::TicketNoteAdded => reply(true),
        EventKind::TicketResolved => json!({ "resolution_notes": "Replaced the charger." }),
        EventKind::TicketReopened => json!({ "reason": "" }),
        _ => json!({}),
    };
    json!({
        "event": kind.as_str(),
        "occurred_at": "2026-04-05T14:00:00Z",
        "ticket": {
            "id": "01JQXYZ",
            "subject": "Laptop will not power on",
            "description": "My laptop shows no lights since this morning.",
            "status": "New",
            "priority": "Medium",
            "category": "Hardware",
            "type": "Laptop",
            "item": null,
            "submitter": { "id": "01JQUSER", "name": "Sam Ortiz", "email": "sam@example.com" },
            "assignee": null,
            "created_at": "2026-04-05T14:00:00Z",
            "url": "https://helpdesk.example.com/tickets/01JQXYZ",
            "custom_fields": {}
        },
        "actor": { "id": "01JQUSER", "name": "Sam Ortiz", "role": "user" },
        "config": config,
        "data": data
    })
    .to_string()
}

/// The stand-in behind `crate::sys` off wasm32.
pub(crate) mod state {
    use std::cell::RefCell;

    use otai_plugin_abi::calls::{AddReply, HttpRequest, SetCustomField};
    use otai_plugin_abi::{limits, status};

    use super::{LogLine, MockResponse, Recorded};
    use crate::log::Level;

    #[derive(Default)]
    pub(crate) struct State {
        pub(crate) recorded: Recorded,
        pub(crate) mocks: Vec<(String, String, MockResponse)>,
        pub(crate) ticket: Option<String>,
    }

    thread_local! {
        static STATE: RefCell<State> = RefCell::new(State::default());
    }

    pub(crate) fn with<T>(f: impl FnOnce(&mut State) -> T) -> T {
        STATE.with(|s| f(&mut s.borrow_mut()))
    }

    pub(crate) fn log(level: u32, message: &[u8]) {
        let line = LogLine {
            level: Level::from_code(level),
            message: String::from_utf8_lossy(message).into_owned(),
        };
        with(|s| s.recorded.logs.push(line));
    }

    fn error_response(
        kind: otai_plugin_abi::calls::HostErrorKind,
        message: String,
    ) -> (u32, Vec<u8>) {
        let r = MockResponse::host_error(kind, &message, None);
        (r.status, r.body)
    }

    pub(crate) fn http_request(request: &[u8]) -> (u32, Vec<u8>) {
        use otai_plugin_abi::calls::HostErrorKind::{InvalidRequest, Network};
        let request: HttpRequest = match serde_json::from_slice(request) {
            Ok(r) => r,
            Err(err) => {
                return error_response(InvalidRequest, format!("invalid request JSON: {err}"));
            }
        };
        if !otai_plugin_abi::calls::HTTP_METHODS.contains(&request.method.as_str()) {
            return error_response(
                InvalidRequest,
                format!("unsupported method `{}`", request.method),
            );
        }
        let key = (request.method.clone(), request.url.clone());
        with(|s| s.recorded.http.push(request));
        let mock = with(|s| {
            s.mocks
                .iter()
                .find(|(m, u, _)| *m == key.0 && *u == key.1)
                .map(|(_, _, r)| r.clone())
        });
        match mock {
            Some(r) => (r.status, r.body),
            None => error_response(
                Network,
                format!(
                    "no scripted response for `{} {}`: add one with `testing::mock_http`",
                    key.0, key.1
                ),
            ),
        }
    }

    fn ticket_status(ticket_id: &str) -> Option<u32> {
        match with(|s| s.ticket.clone()) {
            None => Some(status::NOT_AVAILABLE),
            Some(current) if current != ticket_id => Some(status::WRONG_TICKET),
            Some(_) => None,
        }
    }

    pub(crate) fn add_reply(payload: &[u8]) -> u32 {
        if payload.len() > limits::MAX_REPLY {
            return status::TOO_LARGE;
        }
        let Ok(reply) = serde_json::from_slice::<AddReply>(payload) else {
            return status::INVALID_REQUEST;
        };
        if reply.body.is_empty() {
            return status::INVALID_REQUEST;
        }
        if let Some(code) = ticket_status(&reply.ticket_id) {
            return code;
        }
        with(|s| s.recorded.replies.push(reply));
        status::OK
    }

    pub(crate) fn set_custom_field(payload: &[u8]) -> u32 {
        let Ok(field) = serde_json::from_slice::<SetCustomField>(payload) else {
            return status::INVALID_REQUEST;
        };
        if field.key.is_empty() {
            return status::INVALID_REQUEST;
        }
        if field.key.len() > limits::MAX_CUSTOM_FIELD_KEY
            || field.value.len() > limits::MAX_CUSTOM_FIELD_VALUE
        {
            return status::TOO_LARGE;
        }
        if let Some(code) = ticket_status(&field.ticket_id) {
            return code;
        }
        with(|s| s.recorded.custom_fields.push(field));
        status::OK
    }
}
