//! Parse → check → generate. On any error the impl is still emitted (with stubs for
//! what is missing) next to the errors, so that the rest of the crate type-checks and
//! IDE completion keeps working.

use std::path::PathBuf;

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};

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
        #errors
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
