//! The component flavour: the host functions of `ohd:plugin/host@1.0.0` for a component,
//! through bindings `wasmtime::component::bindgen!` generates from `wit/ohd-plugin.wit`.
//!
//! Each function takes the component's record, judges it with the same rules as its
//! core twin in [`crate::abi_funcs`] (the records of the ticket operations as the JSON
//! the core flavour would carry, so that the size limits are the same), and records the
//! same report entries: a delivery reports the same in either flavour.

use otai_plugin_abi::calls::{AddReply, HostErrorKind, SetCustomField};
use otai_plugin_abi::rules::http::request_from_parts;
use otai_plugin_abi::rules::ticket::{self, TicketCallError};
use otai_plugin_abi::status::LogLevel;
use otai_plugin_abi::wasm::OHD_HTTP_REQUEST;
use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

use crate::abi_funcs::{self, LOG_PREFIX};
use crate::state::State;

/// The generated bindings, kept private.
pub(crate) mod bindings {
    /// The world `plugin`: `on-event`, and the host functions.
    pub(crate) mod plugin {
        wasmtime::component::bindgen!({
            // This crate's own copy of the workspace's `wit/`, so that the packaged crate
            // builds; `tests/tests/packaging.rs` holds the two identical.
            path: "wit",
            world: "plugin",
            imports: { default: trappable },
        });
    }

    /// The world `plugin-with-panel`: `render-panel` too, with the host functions of
    /// [`plugin`].
    pub(crate) mod panel {
        wasmtime::component::bindgen!({
            path: "wit",
            world: "plugin-with-panel",
            imports: { default: trappable },
            with: {
                "ohd:plugin/types": crate::component::bindings::plugin::ohd::plugin::types,
                "ohd:plugin/host": crate::component::bindings::plugin::ohd::plugin::host,
            },
        });
    }
}

use bindings::plugin::ohd::plugin::host::Host as HostFunctions;
use bindings::plugin::ohd::plugin::types::{
    CallError, CustomField, Host as HostTypes, LogLevel as WitLevel, Method, NotAllowed, Reply,
    Request, RequestError, Response,
};

type Result<T> = wasmtime::Result<T>;

/// The component linker with every host function; one per host, shared by all plugins.
pub(crate) fn linker(engine: &Engine) -> Result<Linker<State>> {
    let mut linker = Linker::new(engine);
    bindings::plugin::Plugin::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)?;
    Ok(linker)
}

impl HostTypes for State {}

impl HostFunctions for State {
    /// `ohd_log`'s twin.
    fn log(&mut self, level: WitLevel, message: String) -> Result<()> {
        let level = match level {
            WitLevel::Debug => LogLevel::Debug,
            WitLevel::Info => LogLevel::Info,
            WitLevel::Warn => LogLevel::Warn,
            WitLevel::Error => LogLevel::Error,
        };
        self.last_call_logged_error = false;
        let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
        if self.logs.is_full() {
            self.logs.count_dropped(len);
            self.record(crate::report::HostCall::OhdLog { line: None });
            return Ok(());
        }
        let bytes = message.as_bytes();
        let prefix = bytes.get(..bytes.len().min(LOG_PREFIX)).unwrap_or(bytes);
        abi_funcs::keep_log_line(self, level, prefix, message.len());
        Ok(())
    }

    /// `ohd_http_request`'s twin.
    fn http_request(
        &mut self,
        request: Request,
    ) -> Result<std::result::Result<Response, RequestError>> {
        self.last_call_logged_error = false;
        let method = match request.method {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        };
        let decoded = request_from_parts(method, request.url, request.headers, request.body);
        let answer = abi_funcs::exchange(self, decoded, OHD_HTTP_REQUEST.name)?;
        abi_funcs::record_exchange(self);
        let Some(error) = answer.error else {
            // A server's status is 100 to 599: the transports produce nothing else.
            let status = u16::try_from(answer.status).unwrap_or(u16::MAX);
            return Ok(Ok(Response {
                status,
                body: answer.body,
            }));
        };
        let message = error.message;
        Ok(Err(match error.kind {
            HostErrorKind::HostNotAllowed => RequestError::HostNotAllowed(NotAllowed {
                host: error.host.unwrap_or_default(),
                message,
            }),
            HostErrorKind::InvalidRequest => RequestError::InvalidRequest(message),
            // `request-error` of the published world has no case of its own for it, and a
            // case added to it would stop every component built before from
            // instantiating (wasmtime compares variants case by case): the closest case,
            // with the message naming the host and the addresses (docs/ABI.md section 14).
            HostErrorKind::AddressNotAllowed => RequestError::Network(message),
            HostErrorKind::Network => RequestError::Network(message),
            HostErrorKind::Timeout => RequestError::Timeout(message),
            HostErrorKind::ResponseTooLarge => RequestError::ResponseTooLarge(message),
        }))
    }

    /// `ohd_add_reply`'s twin.
    fn add_reply(&mut self, reply: Reply) -> Result<std::result::Result<(), CallError>> {
        self.last_call_logged_error = false;
        let json = as_json(&AddReply {
            ticket_id: reply.ticket_id,
            body: reply.body,
            is_internal: reply.is_internal,
        });
        let result = ticket::add_reply(abi_funcs::ticket_scope(&self.mode), &json);
        let refused = result.as_ref().err().copied();
        abi_funcs::add_reply(self, result);
        Ok(refused.map_or(Ok(()), |e| Err(call_error(e))))
    }

    /// `ohd_set_custom_field`'s twin.
    fn set_custom_field(
        &mut self,
        field: CustomField,
    ) -> Result<std::result::Result<(), CallError>> {
        self.last_call_logged_error = false;
        let json = as_json(&SetCustomField {
            ticket_id: field.ticket_id,
            key: field.key,
            value: field.value,
        });
        let result = ticket::set_custom_field(abi_funcs::ticket_scope(&self.mode), &json);
        let refused = result.as_ref().err().copied();
        abi_funcs::set_custom_field(self, result);
        Ok(refused.map_or(Ok(()), |e| Err(call_error(e))))
    }
}

/// A ticket operation's record as the JSON the core flavour carries, which the rules
/// judge (its size included).
fn as_json<T: serde::Serialize>(payload: &T) -> Vec<u8> {
    // Strings and a bool: serializing cannot fail.
    serde_json::to_vec(payload).unwrap_or_default()
}

/// A refused ticket operation as the WIT's error.
fn call_error(error: TicketCallError) -> CallError {
    match error {
        TicketCallError::InvalidRequest => CallError::InvalidRequest,
        TicketCallError::WrongTicket => CallError::WrongTicket,
        TicketCallError::TooLarge => CallError::TooLarge,
        TicketCallError::NotAvailable => CallError::NotAvailable,
    }
}
