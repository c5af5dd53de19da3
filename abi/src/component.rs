//! The component flavour of ABI v1: the names of `wit/ohd-plugin.wit` and the type of
//! every function in it, each beside the core function it mirrors.
//!
//! A plugin is either a core module (see [`crate::wasm`]) or a component of the world
//! [`WORLD`] (or [`WORLD_WITH_PANEL`]), whose only imports are the interfaces
//! [`HOST_INTERFACE`] and [`TYPES_INTERFACE`]. Both flavours mean the same thing:
//! every function here has the semantics, limits and statuses of its
//! [`WitFunction::core`] twin. A component carries the `ohd_manifest` and `ohd_abi`
//! custom sections at its top level, as a core module does.
//!
//! Types are written structurally ([`WitFunction::ty`]), in the notation of the
//! component reader of `module` (feature `module`): `record{name: type, …}`,
//! `enum{case, …}`, `variant{case(type), …}`, `list<t>`, `option<t>`,
//! `result<ok, err>`, `tuple<a, b>`. Names of types do not matter to the canonical
//! ABI, only their shape, so a host checks the shape. `abi/tests/wit.rs` derives the
//! same text from the WIT file and compares.
//!
//! ```
//! use otai_plugin_abi::component::{self, HOST_FUNCTIONS};
//!
//! let log = component::host_function("log").unwrap();
//! assert_eq!(log.core.name, "ohd_log");
//! assert_eq!(log.ty, "func(level: enum{debug, info, warn, error}, message: string)");
//! assert_eq!(HOST_FUNCTIONS.len(), 4);
//! ```

use crate::wasm::{self, HostFunction, PluginExport};

/// The WIT package, with its version: the major version is [`crate::ABI_VERSION`].
pub const PACKAGE: &str = "ohd:plugin@1.0.0";

/// The interface of the host functions, as a component imports it.
pub const HOST_INTERFACE: &str = "ohd:plugin/host@1.0.0";

/// The interface of the host functions' types, which a component imports beside
/// [`HOST_INTERFACE`] (an instance of type exports only).
pub const TYPES_INTERFACE: &str = "ohd:plugin/types@1.0.0";

/// The world of a plugin without a UI panel.
pub const WORLD: &str = "plugin";

/// The world of a plugin with a UI panel: [`WORLD`] and `render-panel`.
pub const WORLD_WITH_PANEL: &str = "plugin-with-panel";

/// The event handler export, `on_event`'s twin.
pub const EXPORT_ON_EVENT: &str = "on-event";

/// The panel export, `render_panel`'s twin.
pub const EXPORT_RENDER_PANEL: &str = "render-panel";

/// A function of [`HOST_INTERFACE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WitFunction {
    /// Its name in the interface, e.g. `http-request`.
    pub name: &'static str,
    /// The core function it mirrors.
    pub core: HostFunction,
    /// Its type, structurally.
    pub ty: &'static str,
}

/// `log(level, message)`, `ohd_log`'s twin.
pub const LOG: WitFunction = WitFunction {
    name: "log",
    core: wasm::OHD_LOG,
    ty: "func(level: enum{debug, info, warn, error}, message: string)",
};

/// `http-request(request) -> result<response, request-error>`, `ohd_http_request`'s twin.
pub const HTTP_REQUEST: WitFunction = WitFunction {
    name: "http-request",
    core: wasm::OHD_HTTP_REQUEST,
    ty: "func(request: record{method: enum{get, head, post, put, patch, delete}, url: string, \
         headers: list<tuple<string, string>>, body: option<string>}) -> \
         result<record{status: u16, body: list<u8>}, \
         variant{host-not-allowed(record{host: string, message: string}), invalid-request(string), \
         network(string), timeout(string), response-too-large(string)}>",
};

/// `add-reply(reply) -> result<_, call-error>`, `ohd_add_reply`'s twin.
pub const ADD_REPLY: WitFunction = WitFunction {
    name: "add-reply",
    core: wasm::OHD_ADD_REPLY,
    ty: "func(reply: record{ticket-id: string, body: string, is-internal: bool}) -> \
         result<_, enum{invalid-request, wrong-ticket, too-large, not-available}>",
};

/// `set-custom-field(field) -> result<_, call-error>`, `ohd_set_custom_field`'s twin.
pub const SET_CUSTOM_FIELD: WitFunction = WitFunction {
    name: "set-custom-field",
    core: wasm::OHD_SET_CUSTOM_FIELD,
    ty: "func(field: record{ticket-id: string, key: string, value: string}) -> \
         result<_, enum{invalid-request, wrong-ticket, too-large, not-available}>",
};

/// Every function of [`HOST_INTERFACE`]. Every one is optional for a plugin. The core
/// allocator imports have no twin: the canonical ABI moves strings and lists itself.
pub const HOST_FUNCTIONS: &[WitFunction] = &[LOG, HTTP_REQUEST, ADD_REPLY, SET_CUSTOM_FIELD];

/// Looks up a function of [`HOST_INTERFACE`] by name.
pub fn host_function(name: &str) -> Option<&'static WitFunction> {
    HOST_FUNCTIONS.iter().find(|f| f.name == name)
}

/// An export of the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WitExport {
    /// Its name, e.g. `on-event`.
    pub name: &'static str,
    /// The core export it mirrors.
    pub core: PluginExport,
    /// Its type, structurally.
    pub ty: &'static str,
}

/// `on-event(payload)`: required, as `on_event` is.
pub const ON_EVENT: WitExport = WitExport {
    name: EXPORT_ON_EVENT,
    core: wasm::ON_EVENT,
    ty: "func(payload: string)",
};

/// `render-panel(ticket-id) -> url`: required with `ui_panel`, as `render_panel` is.
pub const RENDER_PANEL: WitExport = WitExport {
    name: EXPORT_RENDER_PANEL,
    core: wasm::RENDER_PANEL,
    ty: "func(ticket-id: string) -> string",
};

/// Every export the worlds give a meaning to. Other exports are ignored.
pub const EXPORTS: &[WitExport] = &[ON_EVENT, RENDER_PANEL];

/// Looks up an export of the worlds by name.
pub fn export(name: &str) -> Option<&'static WitExport> {
    EXPORTS.iter().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_host_function_but_the_allocator_has_one_twin() {
        for core in wasm::HOST_FUNCTIONS {
            let twins = HOST_FUNCTIONS.iter().filter(|f| f.core == *core).count();
            let allocator = *core == wasm::OHD_ALLOC || *core == wasm::OHD_FREE;
            assert_eq!(twins, usize::from(!allocator), "{}", core.name);
        }
    }

    #[test]
    fn the_package_version_is_the_abi_version() {
        let version = PACKAGE.rsplit_once('@').map(|(_, v)| v);
        assert_eq!(
            version.and_then(|v| v.split('.').next()),
            Some(crate::ABI_VERSION.to_string().as_str())
        );
        for interface in [HOST_INTERFACE, TYPES_INTERFACE] {
            assert!(interface.ends_with(&PACKAGE[PACKAGE.find('@').unwrap()..]));
        }
    }
}
