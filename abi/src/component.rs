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
//! ABI, only their shape, so a host checks the shape. The table of host functions
//! ([`HOST_FUNCTIONS`] and its constants) is written by `abi/tests/generated.rs` from the
//! WIT's host interface, which it writes in turn from the core table's `wit` column
//! ([`HostFunction::wit`]), and fails while either is stale; `abi/tests/wit.rs` holds
//! the rest of this module to the WIT.
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

// One constant per function of the WIT's host interface, and `HOST_FUNCTIONS`: written
// from `wit/ohd-plugin.wit` by `abi/tests/generated.rs`, in the notation above. Included
// rather than a module so that the constants are items of this one.
include!("component/host_functions.rs");

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
            assert_eq!(core.wit.is_some(), !allocator, "{}", core.name);
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
