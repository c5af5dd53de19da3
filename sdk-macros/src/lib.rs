//! The `#[plugin]` attribute of `otai-plugin-sdk`. Use it through the SDK
//! (`otai_plugin_sdk::plugin`), whose documentation describes it; this crate has no
//! other API.
#![deny(missing_docs)]

use proc_macro::TokenStream;

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
