//! Parse → check → generate. On any error the impl is still emitted (with stubs for
//! what is missing) next to the errors, so that the rest of the crate type-checks and
//! IDE completion keeps working.

use std::path::PathBuf;

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::manifest;
use crate::model::{Args, Errors, Kind, PluginImpl};

pub(crate) fn plugin(
    args: TokenStream,
    item: TokenStream,
    source_file: Option<PathBuf>,
) -> TokenStream {
    let mut errors = Errors::default();
    let args = Args::parse(args, &mut errors);
    let Some(plugin) = PluginImpl::parse(item.clone(), &mut errors) else {
        let errors = errors.into_compile_errors();
        return quote! { #item #errors };
    };
    let manifest = manifest::build(args.cargo_toml.as_ref(), source_file, &mut errors);
    let exports = exports(&plugin);
    let config_check = match (&plugin.config_ty, &manifest) {
        (Some(ty), Some(m)) => config_check(ty, m),
        _ => TokenStream::new(),
    };
    let mut item = plugin.item.clone();
    if let Some(m) = &manifest {
        // Native `testing` reads it (the allowed hosts); wasm builds never use it, so it
        // costs a plugin nothing.
        let json = &m.json;
        item.items.push(syn::parse_quote! {
            #[doc(hidden)]
            const __OHD_MANIFEST: &'static str = #json;
        });
    }
    let manifest = manifest.map(|m| embed(&m)).unwrap_or_default();
    let errors = errors.into_compile_errors();
    quote! {
        #item
        #[allow(unsafe_code, dead_code, non_upper_case_globals)]
        const _: () = {
            #manifest
            #exports
        };
        #config_check
        #errors
    }
}

/// Holds `type Config` to the manifest: it must be checked (`CheckedConfig`, from
/// `#[derive(Config)]`) against this very table, or read no config (`NoConfig`) and
/// the table require none. Errors point at the type.
fn config_check(ty: &syn::Type, m: &manifest::Built) -> TokenStream {
    let table = manifest::config_table_id(&m.manifest);
    let file = &m.shown;
    let written = crate::config::type_text(ty);
    let other = format!(
        "the plugin's config type `{written}` was checked against another config table than the one in `{file}`: `#[derive(Config)]` reads the `Cargo.toml` of the crate that defines the type; define the type in the plugin's crate"
    );
    let required: Vec<String> = m
        .manifest
        .config_schema
        .iter()
        .filter(|(_, f)| f.required)
        .map(|(k, _)| format!("`{k}` (`package.metadata.ohd.config.{k}`)"))
        .collect();
    let reads_nothing = if required.is_empty() {
        quote_spanned!(ty.span()=> {})
    } else {
        let message = format!(
            "the plugin's config type `{written}` reads no config, but `{file}` requires {}: read the config into a struct that derives `Config`, or drop `required`",
            required.join(", ")
        );
        quote_spanned!(ty.span()=> ::core::panic!(#message))
    };
    quote_spanned! {ty.span()=>
        const _: () = match <#ty as ::otai_plugin_sdk::config::CheckedConfig>::CHECKED_AGAINST {
            ::core::option::Option::Some(checked) => {
                if !::otai_plugin_sdk::config::same_table(checked, #table) {
                    ::core::panic!(#other)
                }
            }
            ::core::option::Option::None => #reads_nothing,
        };
    }
}

fn embed(m: &manifest::Built) -> TokenStream {
    let bytes = Literal::byte_string(m.json.as_bytes());
    let len = m.json.len();
    let tracking = &m.tracking;
    // Stable proc macros cannot warn; a use of a deprecated item is the one warning
    // they can cause, and its note carries the text.
    let warnings = m.warnings.iter().map(|w| {
        quote_spanned! {Span::call_site()=>
            const _: () = {
                #[deprecated(note = #w)]
                const plugin_manifest_warning: () = ();
                plugin_manifest_warning
            };
        }
    });
    quote! {
        // Exactly one `ohd_manifest` section per module: one `#[plugin]` per plugin
        // (a second one would also define `on_event` twice).
        #[cfg(target_arch = "wasm32")]
        #[unsafe(link_section = "ohd_manifest")]
        #[used]
        static OHD_MANIFEST: [u8; #len] = *#bytes;
        #tracking
        #(#warnings)*
    }
}

fn exports(p: &PluginImpl) -> TokenStream {
    let ty = &p.self_ty;
    let (dispatch_event, dispatch_panel) = match p.kind {
        Kind::Typed => (quote!(dispatch_event), quote!(dispatch_panel)),
        Kind::Raw => (quote!(dispatch_raw_event), quote!(dispatch_raw_panel)),
    };
    // The SDK decides what the exports are, in the flavour it is built in (a core
    // module's `extern "C"` functions, or a component's `Guest` implementation): this
    // macro cannot see the SDK's features.
    let render_panel = p.has_render_panel.then(|| {
        quote! { , render_panel: ::otai_plugin_sdk::__private::#dispatch_panel::<#ty> }
    });
    quote! {
        ::otai_plugin_sdk::__plugin_exports! {
            on_event: ::otai_plugin_sdk::__private::#dispatch_event::<#ty>
            #render_panel
        }
    }
}
