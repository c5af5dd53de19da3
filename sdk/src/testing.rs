//! Native unit tests of plugin logic (not available on wasm32).
//!
//! Off wasm32 the host calls go to an in-process stand-in that behaves like the
//! reference host for the things a plugin can observe: log lines, HTTP requests (with
//! responses you script, and the host's refusals of invalid requests), replies and
//! custom fields (with the host's status codes for a wrong ticket, a blank body,
//! oversized values, and calls from `render_panel`). The stand-in decides with the same
//! functions as the reference host (`otai_plugin_abi::rules`), so a status a native
//! test sees is the status the help desk returns. The state is per thread, so tests run
//! in parallel without seeing each other.
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
//!     fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
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
//! assert_eq!(delivery.http[0].body.as_deref(), Some("New laptop request"));
//! assert_eq!(delivery.logs[0].message, "slack answered 200");
//! ```

use otai_plugin_abi::calls::{AddReply, HttpRequest, SetCustomField};
use otai_plugin_abi::event::EventKind;
use otai_plugin_abi::event::sample;
use otai_plugin_abi::rules::delivery::{NotSubscribed, check_subscribed};
use otai_plugin_abi::rules::http::AllowedHosts;
use serde_json::Value;

use crate::sys::native;
pub use crate::sys::native::{LogLine, MockResponse, Recorded};
use crate::{Event, Plugin, RawPlugin, Result, Ticket};

/// The id of the ticket of [`payload`]'s events.
pub const TICKET_ID: &str = sample::TICKET_ID;

/// The outcome of [`deliver`] or [`render_panel`], and what the plugin did meanwhile.
#[derive(Debug)]
pub struct Delivery<T> {
    /// The handler's result (including a payload decoding error). On wasm32 an `Err`
    /// makes the delivery fail; a panic is not caught here and fails the test.
    pub result: Result<T>,
    /// `ohd_log` calls.
    pub logs: Vec<LogLine>,
    /// `ohd_http_request` calls whose JSON decoded.
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

/// Scripts the answer to every later request on this thread that matches `method` and
/// `url`, with the matching rules of the host's `MockHttp`: the method in any case, or
/// `*` for any; the URL exactly, or as a prefix when it ends with `*`. The first script
/// that matches answers; scripting the same `method` and `url` again replaces its
/// answer. An unscripted request fails with a network error naming it.
pub fn mock_http(method: &str, url: &str, response: MockResponse) {
    native::mock(method, url, response);
}

/// Sets the plugin's `allowed_hosts` on this thread: a request to another host gets the
/// host's refusal (403 with a `host_not_allowed` body), as on the help desk. `None` (the
/// initial state) lets every host through. [`deliver`] and [`render_panel`] set it from
/// the manifest that `#[plugin]` embeds, for the length of the call.
pub fn set_allowed_hosts(allowed_hosts: Option<&[&str]>) {
    native::with(|s| s.allowed = allowed_hosts.map(AllowedHosts::new));
}

/// Sets the ticket that ticket operations may act on, as the host does during
/// `on_event`; `None` (the initial state) makes them fail with `NotAvailable`, as in
/// `render_panel`. [`deliver`] sets it from the payload.
pub fn set_current_ticket(ticket_id: Option<&str>) {
    native::with(|s| s.ticket = ticket_id.map(str::to_owned));
}

/// Takes everything recorded on this thread so far.
pub fn recorded() -> Recorded {
    native::with(|s| core::mem::take(&mut s.recorded))
}

/// Forgets recorded calls, scripted responses, the allowed hosts and the current ticket
/// on this thread.
pub fn reset() {
    native::with(|s| *s = native::State::default());
}

/// Runs a [`Plugin`]'s `on_event` on a payload exactly as the `on_event` export does
/// (decode, construct with `Default`, call), with the payload's ticket as the current
/// ticket and, for an impl under `#[plugin]`, its manifest applied as the host applies
/// it: the `default` of each config field the payload's config leaves out is filled in,
/// `allowed_hosts` holds for its requests, and an event the manifest does not
/// subscribe to is not delivered (the handler does not run, and `result` is the host's
/// refusal).
pub fn deliver<P: Plugin>(payload: &str) -> Delivery<()> {
    deliver_with(P::__OHD_MANIFEST, payload, crate::rt::dispatch_event::<P>)
}

/// As [`deliver`], for a [`RawPlugin`].
pub fn deliver_raw<P: RawPlugin>(payload: &str) -> Delivery<()> {
    deliver_with(
        P::__OHD_MANIFEST,
        payload,
        crate::rt::dispatch_raw_event::<P>,
    )
}

/// The `allowed_hosts` of the manifest `#[plugin]` embedded; `None` for an impl without
/// `#[plugin]` (its manifest is unknown).
fn manifest_hosts(manifest: &str) -> Option<AllowedHosts> {
    let manifest: Value = serde_json::from_str(manifest).ok()?;
    let hosts = manifest["permissions"]["http"]["allowed_hosts"]
        .as_array()
        .map(|hosts| hosts.iter().filter_map(Value::as_str).collect::<Vec<_>>())
        .unwrap_or_default();
    Some(AllowedHosts::new(hosts))
}

/// Runs `call` with the plugin's allowed hosts (when its manifest is known) and `ticket`
/// as the current ticket, and returns what it recorded; the thread's own record and
/// settings are as before afterwards.
fn with_plugin<T>(
    manifest: &str,
    ticket: Option<&str>,
    call: impl FnOnce() -> Result<T>,
) -> Delivery<T> {
    let before = recorded();
    let hosts = manifest_hosts(manifest);
    let saved = native::with(|s| {
        let ticket = std::mem::replace(&mut s.ticket, ticket.map(str::to_owned));
        let allowed = match hosts {
            Some(hosts) => s.allowed.replace(hosts),
            None => s.allowed.clone(),
        };
        (ticket, allowed)
    });
    let result = call();
    let delivery = Delivery::new(result, recorded());
    native::with(|s| {
        s.recorded = before;
        (s.ticket, s.allowed) = saved;
    });
    delivery
}

fn deliver_with(manifest: &str, payload: &str, run: fn(&[u8]) -> Result<()>) -> Delivery<()> {
    let mut parsed = serde_json::from_str::<Value>(payload).ok();
    let filled = parsed
        .as_mut()
        .and_then(|parsed| fill_defaults(manifest, parsed).then(|| parsed.to_string()));
    let payload = filled.as_deref().unwrap_or(payload);
    let ticket = parsed
        .as_ref()
        .and_then(|v| v["ticket"]["id"].as_str().map(str::to_owned));
    let refusal = parsed
        .as_ref()
        .and_then(|v| not_subscribed(manifest, v["event"].as_str()?));
    with_plugin(manifest, ticket.as_deref(), || match refusal {
        // The host does not run a plugin on an event it did not subscribe to.
        Some(refusal) => Err(refusal.into()),
        None => run(payload.as_bytes()),
    })
}

/// Fills in the `default` of each config field of `manifest` that the payload's config
/// object leaves out (or sets to `null`), as the host does before every delivery;
/// whether it changed anything. Required fields are not checked: a test may leave one
/// out to see what the plugin does.
fn fill_defaults(manifest: &str, payload: &mut Value) -> bool {
    let Ok(manifest) = serde_json::from_str::<Value>(manifest) else {
        return false;
    };
    let (Some(schema), Some(config)) = (
        manifest["config_schema"].as_object(),
        payload.get_mut("config").and_then(Value::as_object_mut),
    ) else {
        return false;
    };
    let mut changed = false;
    for (key, field) in schema {
        if let Some(default) = field.get("default")
            && config.get(key).is_none_or(Value::is_null)
        {
            config.insert(key.clone(), default.clone());
            changed = true;
        }
    }
    changed
}

/// The host's refusal of `event` for the plugin of `manifest`; `None` when it subscribes
/// to it, or when the manifest is unknown (an impl without `#[plugin]`).
fn not_subscribed(manifest: &str, event: &str) -> Option<NotSubscribed> {
    let manifest: Value = serde_json::from_str(manifest).ok()?;
    let subscribed: Vec<EventKind> = manifest["events"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .map(EventKind::from_name)
        .collect();
    let id = manifest["id"].as_str().unwrap_or_default();
    check_subscribed(id, &subscribed, &EventKind::from_name(event)).err()
}

/// Runs a [`Plugin`]'s `render_panel` as the export does; ticket operations fail with
/// `NotAvailable` meanwhile, as on the host.
pub fn render_panel<P: Plugin>(ticket_id: &str) -> Delivery<String> {
    with_plugin(P::__OHD_MANIFEST, None, || {
        crate::rt::dispatch_panel::<P>(ticket_id)
    })
}

/// As [`render_panel`], for a [`RawPlugin`].
pub fn render_panel_raw<P: RawPlugin>(ticket_id: &str) -> Delivery<String> {
    with_plugin(P::__OHD_MANIFEST, None, || {
        crate::rt::dispatch_raw_panel::<P>(ticket_id)
    })
}

/// A realistic payload of `kind` with `config` as the plugin's config: the sample
/// ticket ([`TICKET_ID`], `New laptop request`) and the event's `data`, the same payload
/// the reference host's `Event` builders and `cargo otai-plugin run --event` deliver.
/// Adjust it with `serde_json` for special cases.
pub fn payload(kind: EventKind, config: Value) -> String {
    sample::payload_with_config(&kind, config).to_string()
}

/// The ticket of [`payload`]'s events, decoded, for testing functions that take a
/// [`Ticket`]. Change what the test needs:
///
/// ```
/// let mut ticket = otai_plugin_sdk::testing::ticket();
/// ticket.priority = "Critical".into();
/// assert_eq!(ticket.id, otai_plugin_sdk::testing::TICKET_ID);
/// ```
pub fn ticket() -> Ticket<'static> {
    static PAYLOAD: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let payload = PAYLOAD.get_or_init(|| payload(EventKind::TicketCreated, Value::Null));
    match Event::<'static, Value>::from_json(payload.as_bytes()) {
        Ok(event) => event.ticket,
        // The sample payload is the contract's own; `payload_parity` decodes it too.
        Err(err) => panic!("the sample payload does not decode: {err}"),
    }
}

/// The stand-in's host functions, called with raw bytes: what `ohd_add_reply`,
/// `ohd_set_custom_field` and `ohd_http_request` answer to exactly these bytes on this
/// thread, as the reference host does. For plugins that write their own JSON, and for the
/// parity tests that hold the stand-in to the host.
pub mod host_calls {
    /// `ohd_add_reply(payload)`: the status code.
    pub fn add_reply(payload: &[u8]) -> u32 {
        crate::host_functions::ohd_add_reply(payload)
    }

    /// `ohd_set_custom_field(payload)`: the status code.
    pub fn set_custom_field(payload: &[u8]) -> u32 {
        crate::host_functions::ohd_set_custom_field(payload)
    }

    /// `ohd_http_request(request)`: the status and the response body.
    pub fn http_request(request: &[u8]) -> (u32, Vec<u8>) {
        crate::host_functions::ohd_http_request(request)
    }

    /// `ohd_log(message, level)`.
    pub fn log(level: u32, message: &[u8]) {
        crate::host_functions::ohd_log(message, level);
    }
}
