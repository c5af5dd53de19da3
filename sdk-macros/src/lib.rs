//! The `#[plugin]` attribute and the `Config` derive of `otai-plugin-sdk`.
//!
//! Use them through the SDK, which re-exports them as `otai_plugin_sdk::plugin` and
//! `otai_plugin_sdk::config::Config` (both in its prelude) and documents them there; a
//! plugin depends on `otai-plugin-sdk` only, never on this crate. This crate has no
//! other API.
//!
//! Both macros read the plugin's `Cargo.toml` when the plugin compiles:
//! `#[derive(Config)]` holds the config struct to `[package.metadata.ohd.config]`
//! (each field's name and type against its key's `type`, `required` and `default`),
//! and `#[plugin]` on `impl Plugin for T` validates the whole manifest, embeds it in
//! the module's `ohd_manifest` section and generates the exports the host calls. A
//! mistake in either is a compile error that names the key.
//!
//! ```
//! use otai_plugin_sdk::prelude::*;
//! use otai_plugin_sdk::serde_json::json;
//! use otai_plugin_sdk::testing;
//!
//! // Cargo.toml declares one config field, `greeting` (a string, default "Hello"),
//! // and subscribes to `ticket.created` only.
//! #[derive(Deserialize, Config)]
//! # #[config(cargo_toml = "doc_plugin.toml")]
//! struct Config {
//!     greeting: String,
//! }
//!
//! #[derive(Default)]
//! struct Greeter;
//!
//! # #[plugin(cargo_toml = "doc_plugin.toml")] /*
//! #[plugin]
//! # */
//! impl Plugin for Greeter {
//!     type Config = Config;
//!
//!     fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
//!         info!("{}, {}", event.config.greeting, event.ticket.submitter.name);
//!         Ok(())
//!     }
//! }
//!
//! // Natively, the SDK's stand-in host applies the manifest `#[plugin]` embedded, as
//! // the help desk does: the declared default fills the missing config value...
//! let created = testing::payload(EventKind::TicketCreated, json!({}));
//! let delivery = testing::deliver::<Greeter>(&created);
//! assert!(delivery.result.is_ok());
//! assert_eq!(delivery.logs[0].message, "Hello, Sam Ortiz");
//!
//! // ...and an event the plugin did not subscribe to is not delivered.
//! let resolved = testing::payload(EventKind::TicketResolved, json!({}));
//! assert!(testing::deliver::<Greeter>(&resolved).result.is_err());
//! ```
//!
//! The code the macros generate names items of the SDK that are not public API
//! (`otai_plugin_sdk::__private`): the two crates are released together, with one
//! version number, and a plugin gets this crate only through the SDK.
#![deny(missing_docs)]

use proc_macro::TokenStream;

mod config;
mod expand;
mod manifest;
mod model;

/// Generates a plugin's wasm exports and embeds its manifest. See
/// `otai_plugin_sdk::plugin`.
#[proc_macro_attribute]
pub fn plugin(args: TokenStream, item: TokenStream) -> TokenStream {
    // Relative `cargo_toml = "…"` paths resolve like `include_str!`: against the
    // directory of the file holding the attribute.
    let source_file = proc_macro::Span::call_site().local_file();
    expand::plugin(args.into(), item.into(), source_file).into()
}

/// Checks a config struct against `[package.metadata.ohd.config]`. See
/// `otai_plugin_sdk::config::Config`.
#[proc_macro_derive(Config, attributes(config))]
pub fn derive_config(item: TokenStream) -> TokenStream {
    let source_file = proc_macro::Span::call_site().local_file();
    config::derive(item.into(), source_file).into()
}
