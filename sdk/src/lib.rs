//! Write Open Help Desk plugins in Rust.
//!
//! A plugin is a `cdylib` crate built for `wasm32-unknown-unknown`. Its manifest lives
//! in its `Cargo.toml` (`[package]` plus `[package.metadata.ohd]`); [`#[plugin]`](plugin)
//! on an `impl Plugin for T` checks that manifest at compile time, embeds it, and
//! generates the wasm exports the host calls.
//!
//! ```toml
//! [package]
//! name = "slack-notifications"
//! version = "1.0.0"
//! description = "Posts to Slack when tickets are created."
//! edition = "2024"
//!
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! otai-plugin-sdk = "0.1"
//! serde = { version = "1", features = ["derive"] }
//!
//! [package.metadata.ohd]
//! id = "com.example.slack-notifications"
//! events = ["ticket.created"]
//! allowed_hosts = ["hooks.slack.com"]
//!
//! [package.metadata.ohd.config.webhook_url]
//! type = "string"
//! label = "Slack Webhook URL"
//! required = true
//! secret = true
//! ```
//!
//! ```
//! use otai_plugin_sdk::prelude::*;
//!
//! #[derive(Deserialize, Config)]
//! # #[config(cargo_toml = "../tests/fixtures/slack.toml")]
//! struct Config {
//!     webhook_url: String,
//!     // The host fills in the declared `default` ("#support").
//!     channel: String,
//! }
//!
//! #[derive(Default)]
//! struct Slack;
//!
//! # #[plugin(cargo_toml = "../tests/fixtures/slack.toml")] /*
//! #[plugin]
//! # */
//! impl Plugin for Slack {
//!     type Config = Config;
//!
//!     fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
//!         let text = format!("New ticket: <{}|{}>", event.ticket.url, event.ticket.subject);
//!         let response = http::post(&event.config.webhook_url)
//!             .json(&serde_json::json!({ "text": text, "channel": event.config.channel }))
//!             .send()?;
//!         if !response.is_success() {
//!             warn!("Slack answered HTTP {}", response.status());
//!         }
//!         Ok(())
//!     }
//! }
//! ```
//!
//! Build with `cargo build --release --target wasm32-unknown-unknown` (or
//! `cargo otai-plugin build`, which also checks the module). A plugin with a UI panel
//! (`ui_panel` in the manifest and `render_panel` in the impl) must be built with
//! `cargo otai-plugin build`: stable Rust cannot export the two-value `render_panel`,
//! so the SDK exports `__ohd_render_panel_indirect` and the CLI adds the real export.
//!
//! What the SDK provides:
//! - [`Plugin`] (decoded [`Event`]s with your config type: strings borrowed from the
//!   payload, `custom_fields` read when asked for) and [`RawPlugin`] (a [`RawEvent`]: the
//!   payload bytes, whose accessors such as `event.ticket().subject()` read one member
//!   each when called, for the smallest plugins);
//! - [`config`]: `#[derive(Config)]`, which checks the config struct against
//!   `[package.metadata.ohd.config]` at compile time, and [`config::List`] /
//!   [`config::KeyValues`] for lists and maps written in a `string` field;
//! - [`json`]: the JSON decoder and encoder the SDK uses, for a plugin's own JSON
//!   (`serde` types, strings borrowed), so that a plugin links no JSON library;
//! - logging: [`debug!`], [`info!`], [`warn!`], [`error!`];
//! - [`http`]: requests to the hosts in `allowed_hosts`, with typed errors;
//! - [`ticket`]: replies, internal notes and custom fields;
//! - the `ohd_alloc`/`ohd_free` exports, a panic hook that logs the panic message and
//!   location before the trap, and the `ohd_abi` marker section;
//! - [`testing`] (off wasm32): run handlers natively in `cargo test` against a stand-in
//!   host.
//!
//! # What the SDK puts in the module
//!
//! - On wasm32, the global allocator: [talc](https://docs.rs/talc), a third of the code
//!   of Rust's default (dlmalloc) and like it reusing freed memory. Its heap starts in
//!   the free part of the module's initial memory and grows the memory only when that
//!   is used up: the `.cargo/config.toml` of `cargo otai-plugin new` links plugins with
//!   1 MiB of initial memory (`-C link-arg=--initial-memory=1048576`), so that a typical
//!   delivery never grows it, which would cost the host two `mprotect` calls per event.
//!   A plugin that sets its own `#[global_allocator]` turns off the SDK's default
//!   feature `allocator`.
//! - Exports `ohd_alloc(size) -> ptr` and `ohd_free(ptr, size)`, backed by the
//!   global allocator with alignment 1 (the layout of a `Vec<u8>` of that length, so a
//!   host-allocated HTTP response becomes a `Vec` without copying and is freed when the
//!   [`http::Response`] drops). `ohd_alloc(0)` returns 1, a non-null address that is
//!   never dereferenced, because the ABI reserves 0 for allocation failure (returned
//!   when memory is exhausted); `ohd_free` of size 0 or of a null pointer does nothing.
//! - The `ohd_abi` custom section `{"abi":1,"sdk":"otai-plugin-sdk <version>"}`, once:
//!   it is a static of this crate, and `#[plugin]` does not emit it.
//! - Through `#[plugin]`: `on_event`, optionally `__ohd_render_panel_indirect`, and the
//!   `ohd_manifest` section.
//! - Imports from module `ohd`, only those the plugin uses: `ohd_log`,
//!   `ohd_http_request`, `ohd_add_reply`, `ohd_set_custom_field`.
//! - A panic hook, installed on entry to every export, that logs
//!   `panicked at src/lib.rs:12:5: message` at error level before the trap.
//!
//! # The component flavour
//!
//! The same source also builds as a WebAssembly component of the world
//! `ohd:plugin/plugin@1.0.0` (docs/ABI.md, section 14): `cargo otai-plugin build
//! --component` turns on this crate's `component` feature, under which the host
//! functions and the exports go through bindings that `wit-bindgen` generates from
//! `wit/ohd-plugin.wit` (`#[plugin]` implements the world's `Guest` trait), then encodes
//! the module as a component with the manifest and the ABI marker as its own sections.
//! No `ohd_alloc`/`ohd_free` is exported then (the canonical ABI has `cabi_realloc`),
//! and nothing imports WASI: it is still built for `wasm32-unknown-unknown`.
//!
//! Code size, as `cargo otai-plugin build --release` writes it (`opt-level = "s"`, LTO,
//! `strip`, then `wasm-opt` where it is installed): a `RawPlugin` that logs one
//! formatted line is about 10 KB; one that logs three ticket fields read with
//! [`RawEvent`]'s accessors (the `minimal` template of `cargo otai-plugin new`, at
//! `opt-level = "z"`) about 19 KB; a typed plugin that logs the same three fields about
//! 37 KB; a typed plugin that posts JSON over HTTP (the Slack example) about 63 KB. No
//! `serde_json` code is in a plugin unless it calls `serde_json` itself (use [`json`]).
//! Keep the crate a `cdylib` only: adding `rlib` defeats LTO.
//!
//! # Versions
//!
//! This crate follows semver: depend on it as `otai-plugin-sdk = "0.1"`, and every
//! `0.1.x` release builds the code the ones before it built. A plugin built with any
//! `0.1.x` is an ABI v1 module and runs on every ABI v1 host. What a release may change,
//! and how CI holds this crate's API to its version: `docs/COMPATIBILITY.md` in the
//! repository.
#![deny(missing_docs)]

mod allocator;
pub mod config;
mod error;
mod event;
mod host_functions;
pub mod http;
pub mod json;
pub mod log;
mod plugin;
mod rt;
mod sys;
pub mod ticket;
#[cfg(not(all(target_arch = "wasm32", feature = "component")))]
mod wire;

#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use error::{Error, Result};
pub use event::{
    Actor, Assignee, AssigneeKind, CustomFields, CustomFieldsIter, Event, EventData, EventKind,
    NoConfig, Person, RawActor, RawEvent, RawSubmitter, RawTicket, Reply, Ticket,
};
pub use plugin::{Plugin, RawPlugin};
pub use ticket::{add_reply, set_custom_field};
// The public items of each host function's file (a function no public module wraps).
host_functions::public_items!();

/// Generates a plugin's wasm exports from an `impl Plugin for T` (or
/// `impl RawPlugin for T`) and embeds the manifest built from the crate's
/// `Cargo.toml`.
///
/// What it checks at compile time, each as an error on the attribute or the offending
/// token: the item is such an impl of a non-generic type, `on_event` is defined with
/// `&mut self`, `Cargo.toml` holds a valid manifest (every problem is listed with
/// its key, e.g. `package.metadata.ohd.events[1]`, and the fix), and `type Config` was
/// checked against its config table by [`#[derive(Config)]`](macro@config::Config) (or
/// is [`NoConfig`] and no config field is required). Manifest warnings
/// (e.g. unknown keys) become deprecation warnings, the only warnings a macro can emit
/// on stable Rust.
///
/// What it generates, in an anonymous `const _: () = { … };` block:
/// - the `ohd_manifest` custom section holding the manifest JSON, and a hidden
///   `include_bytes!` of `Cargo.toml` so that editing it recompiles the plugin;
/// - `on_event(ptr, len)`: decodes the payload (for [`Plugin`]), builds the plugin with
///   `Default`, calls `on_event`; an `Err` is logged at error level and traps;
/// - `__ohd_render_panel_indirect(ptr, len) -> ptr` if the impl defines
///   `render_panel` (see the crate docs: build with `cargo otai-plugin build`).
///
/// Argument, for tests of the macro itself: `#[plugin(cargo_toml = "path")]` reads the
/// manifest from another file in `Cargo.toml` format, relative to the source file (as
/// `include_str!`). `cargo otai-plugin` only reads the real `Cargo.toml`, so plugins
/// should not use it.
pub use otai_plugin_macros::plugin;

/// Re-exported for plugin code and for the `#[serde(crate = …)]` attribute.
pub use serde;
/// Re-exported so that plugins use the same version the SDK's tests use. In plugin code
/// prefer [`json`]: any `serde_json` call links `serde_json` code into the module, which
/// the SDK itself no longer does.
pub use serde_json;

/// What most plugins need: `use otai_plugin_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::config::Config;
    pub use crate::http::{self, HttpError};
    pub use crate::ticket::{self, TicketError};
    pub use crate::{
        Error, Event, EventData, EventKind, NoConfig, Plugin, RawEvent, RawPlugin, Result, debug,
        error, info, plugin, warn,
    };
    pub use serde::{Deserialize, Serialize};
}

#[doc(hidden)]
pub mod __private {
    pub use crate::rt::{
        component_on_event, component_render_panel, dispatch_event, dispatch_panel,
        dispatch_raw_event, dispatch_raw_panel, install_panic_hook, on_event, render_panel,
    };
    #[cfg(all(target_arch = "wasm32", feature = "component"))]
    pub use crate::sys::component::{
        plugin as wit_plugin, plugin_with_panel as wit_plugin_with_panel,
    };
}
