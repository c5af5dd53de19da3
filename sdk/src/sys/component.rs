//! The component flavour's bindings (feature `component`, on wasm32): the imports of
//! `ohd:plugin/host@1.0.0` through bindings `wit-bindgen` generates from
//! `wit/ohd-plugin.wit`, and the conversions the host functions share. Each host
//! function's call of its twin, in plain Rust values, is `component` in its file of
//! `crate::host_functions`.
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

use otai_plugin_abi::status;

/// The host interface's functions, as each host function's file calls its twin.
pub(crate) use plugin::ohd::plugin::host;
/// The host interface's types.
pub(crate) use plugin::ohd::plugin::types;

use types::CallError;

/// A ticket operation's result as the core flavour's status code.
pub(crate) fn code(result: Result<(), CallError>) -> u32 {
    match result {
        Ok(()) => status::OK,
        Err(CallError::InvalidRequest) => status::INVALID_REQUEST,
        Err(CallError::WrongTicket) => status::WRONG_TICKET,
        Err(CallError::TooLarge) => status::TOO_LARGE,
        Err(CallError::NotAvailable) => status::NOT_AVAILABLE,
    }
}
