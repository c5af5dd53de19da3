//! The Open Help Desk plugin ABI, version 1, written down in code.
//!
//! Every detail of the contract between a plugin (a core WebAssembly module) and the
//! help desk lives here once, and the guest SDK, the `#[plugin]` macro, the reference
//! host and `cargo otai-plugin` all read it from here:
//!
//! - [`wasm`]: the `ohd` import module, its functions and their wasm signatures, the
//!   exports a plugin provides, and the custom sections it carries;
//! - [`component`]: the same contract as a WebAssembly component (`wit/ohd-plugin.wit`):
//!   the interfaces, the worlds and the type of each function beside its core twin;
//! - [`status`]: the status codes host functions return;
//! - [`limits`]: the sizes and durations the host enforces;
//! - [`event`]: the JSON payload handed to `on_event`, and (feature `sample`) the sample
//!   payloads a host fills a partial event from;
//! - [`calls`]: the JSON a plugin hands to host functions, and the error body the host
//!   writes back when an HTTP request fails before reaching a server;
//! - [`marker`]: the `ohd_abi` custom section that tells a host which ABI version and
//!   which SDK built a module;
//! - [`config_text`]: the list and `key=value` forms a plugin reads from a `string`
//!   config field, shared by the SDK (which reads them) and `#[derive(Config)]` (which
//!   checks a field's default when the plugin compiles);
//! - `manifest` (feature `manifest`): the manifest embedded in the `ohd_manifest`
//!   custom section, its parser and its validation, and validation of config values;
//! - `rules` (feature `rules`): the host's decisions on a plugin's calls (ticket
//!   operations, HTTP requests, `allowed_hosts` and the addresses a request may connect
//!   to), shared by every host-side
//!   implementation;
//! - `module` (feature `module`): reading a module and judging it against ABI v1, every
//!   problem with its kind;
//! - `testing` (feature `testing`): HTTP mock matching, shared by every test double.
//!
//! Which crate of the workspace may use what, and how to add a host function, is in
//! `ARCHITECTURE.md` at the repository root.
//!
//! The document for plugin authors in any language is `docs/ABI.md`; where the two
//! disagree, that is a bug in one of them.
//!
//! This crate's version and the ABI version are two numbers: every `0.1.x` release of
//! this crate describes ABI v1, and follows semver for its Rust API
//! (`docs/COMPATIBILITY.md` in the repository).
//!
//! ```
//! use otai_plugin_abi::wasm::{self, ValType};
//!
//! let log = wasm::host_function("ohd_log").expect("ohd_log is part of ABI v1");
//! assert_eq!(log.ty.params, &[ValType::I32, ValType::I32, ValType::I32]);
//! assert_eq!(log.ty.to_string(), "(i32, i32, i32) -> ()");
//! ```
#![deny(missing_docs)]

pub mod calls;
pub mod component;
pub mod config_text;
pub mod event;
pub mod limits;
pub mod marker;
pub mod status;
pub mod wasm;

#[cfg(feature = "manifest")]
pub mod manifest;
#[cfg(feature = "module")]
pub mod module;
#[cfg(feature = "rules")]
pub mod rules;
#[cfg(feature = "testing")]
pub mod testing;

/// The ABI version this crate describes.
pub const ABI_VERSION: u32 = 1;
