//! The host functions of the component flavour (feature `component`, on wasm32): the
//! imports of `ohd:plugin/host@1.0.0` through bindings `wit-bindgen` generates from
//! `wit/ohd-plugin.wit`, each wrapped in a safe function of plain Rust values.
//!
//! The bindings of both worlds are generated here, with the exports left to the
//! plugin: `#[plugin]` implements the world's `Guest` trait and calls the world's export
//! macro ([`plugin::export_plugin`] or [`plugin_with_panel::export_plugin_with_panel`]),
//! which also embeds the world's type in the module for the component encoder. The
//! imports are those of [`plugin`]; the second world's copy of them is never called.

/// The world `plugin`: `on-event`.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod plugin {
    wit_bindgen::generate!({
        // This crate's own copy of the workspace's `wit/`, so that the packaged crate
        // builds; `tests/tests/packaging.rs` holds the two identical.
        path: "wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "export_plugin",
    });
}

/// The world `plugin-with-panel`: `on-event` and `render-panel`.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod plugin_with_panel {
    wit_bindgen::generate!({
        path: "wit",
        world: "plugin-with-panel",
        pub_export_macro: true,
        export_macro_name: "export_plugin_with_panel",
    });
}

use otai_plugin_abi::calls::{AddReply, HostError, HostErrorKind, HttpRequest, SetCustomField};
use otai_plugin_abi::status::{self, LogLevel};

use plugin::ohd::plugin::host;
use plugin::ohd::plugin::types::{
    CallError, CustomField, LogLevel as WitLevel, Method, Reply, Request, RequestError,
};

/// `log(level, message)`, `ohd_log`'s twin: levels above 3 are logged at error, as `ohd_log` logs them;
/// bytes that are not UTF-8 are replaced, as the core host replaces them.
pub(crate) fn ohd_log(message: &[u8], level: u32) {
    let level = match LogLevel::from_code(level) {
        LogLevel::Debug => WitLevel::Debug,
        LogLevel::Info => WitLevel::Info,
        LogLevel::Warn => WitLevel::Warn,
        LogLevel::Error => WitLevel::Error,
    };
    host::log(level, &String::from_utf8_lossy(message));
}

/// `http-request(request)`, `ohd_http_request`'s twin: the server's status and body, or the host's error as the
/// core flavour's error body would carry it.
pub(crate) fn ohd_http_request(request: HttpRequest) -> Result<(u16, Vec<u8>), HostError> {
    let method = match request.method.as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        other => {
            return Err(HostError {
                kind: HostErrorKind::InvalidRequest,
                message: format!(
                    "method `{other}` is not supported: use one of {}",
                    otai_plugin_abi::calls::HTTP_METHODS.join(", ")
                ),
                host: None,
            });
        }
    };
    let request = Request {
        method,
        url: request.url,
        headers: request.headers.into_iter().collect(),
        body: request.body,
    };
    match host::http_request(&request) {
        Ok(response) => Ok((response.status, response.body)),
        Err(error) => {
            let (kind, message, host) = match error {
                RequestError::HostNotAllowed(refusal) => (
                    HostErrorKind::HostNotAllowed,
                    refusal.message,
                    Some(refusal.host),
                ),
                RequestError::InvalidRequest(m) => (HostErrorKind::InvalidRequest, m, None),
                RequestError::Network(m) => (HostErrorKind::Network, m, None),
                RequestError::Timeout(m) => (HostErrorKind::Timeout, m, None),
                RequestError::ResponseTooLarge(m) => (HostErrorKind::ResponseTooLarge, m, None),
            };
            Err(HostError {
                kind,
                message,
                host,
            })
        }
    }
}

/// A ticket operation's result as the core flavour's status code.
fn code(result: Result<(), CallError>) -> u32 {
    match result {
        Ok(()) => status::OK,
        Err(CallError::InvalidRequest) => status::INVALID_REQUEST,
        Err(CallError::WrongTicket) => status::WRONG_TICKET,
        Err(CallError::TooLarge) => status::TOO_LARGE,
        Err(CallError::NotAvailable) => status::NOT_AVAILABLE,
    }
}

/// `add-reply(reply)`, as `ohd_add_reply`'s status.
pub(crate) fn ohd_add_reply(reply: AddReply) -> u32 {
    code(host::add_reply(&Reply {
        ticket_id: reply.ticket_id,
        body: reply.body,
        is_internal: reply.is_internal,
    }))
}

/// `set-custom-field(field)`, as `ohd_set_custom_field`'s status.
pub(crate) fn ohd_set_custom_field(field: SetCustomField) -> u32 {
    code(host::set_custom_field(&CustomField {
        ticket_id: field.ticket_id,
        key: field.key,
        value: field.value,
    }))
}
