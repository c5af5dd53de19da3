//! The `#[plugin]` attribute and the `Config` derive of `otai-plugin-sdk`. Use them
//! through the SDK (`otai_plugin_sdk::plugin`, `otai_plugin_sdk::config::Config`), whose
//! documentation describes them; this crate has no other API.
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
