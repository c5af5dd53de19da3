//! `#[derive(Config)]`: parse the struct (`model`), check it against the crate's config
//! table (`check`), and implement `CheckedConfig`, which records the table it was
//! checked against for `#[plugin]` to compare with the plugin's own.
//!
//! The check lives on the struct because only a derive on it sees its fields, and so
//! can put each error on the field at fault; `#[plugin]` sees `type Config = …` only.

mod check;
mod model;
mod rust_type;

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned;

use crate::manifest;
use crate::model::Errors;
use model::ConfigStruct;
use rust_type::Shape;
pub(crate) use rust_type::type_text;

pub(crate) fn derive(input: TokenStream, source_file: Option<PathBuf>) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    let mut errors = Errors::default();
    let Some(config) = ConfigStruct::parse(input, &mut errors) else {
        return errors.into_compile_errors();
    };

    // A manifest that does not build is `#[plugin]`'s to report. The type is then
    // recorded as checked against no table, which no plugin's table equals, so it
    // cannot pass for checked.
    let built = manifest::build(
        config.cargo_toml.as_ref(),
        source_file,
        &mut Errors::default(),
    );
    let (table, tracking) = match &built {
        Some(built) => {
            check::check(&config, &built.manifest, &built.shown, &mut errors);
            (
                manifest::config_table_id(&built.manifest),
                built.tracking.clone(),
            )
        }
        None => (String::new(), TokenStream::new()),
    };

    let ident = &config.ident;
    let (impl_generics, ty_generics, where_clause) = config.generics.split_for_impl();
    // A field taken for the SDK's `List` or `KeyValues` by its name must be one: a
    // generic struct's field types are not nameable here, so only plain structs.
    let text_types = config
        .fields
        .iter()
        .filter(|_| config.generics.params.is_empty())
        .filter(|f| !f.read_with && matches!(Shape::of(&f.ty).inner(), Shape::ConfigText(_)))
        .map(|f| {
            let ty = rust_type::without_option(&f.ty);
            quote_spanned! {ty.span()=>
                const _: fn() = || {
                    fn config_text<T: ::otai_plugin_sdk::config::ConfigText>() {}
                    config_text::<#ty>();
                };
            }
        });
    let errors = errors.into_compile_errors();
    quote! {
        const _: () = {
            #tracking
            impl #impl_generics ::otai_plugin_sdk::config::CheckedConfig
                for #ident #ty_generics #where_clause
            {
                const CHECKED_AGAINST: ::core::option::Option<&'static str> =
                    ::core::option::Option::Some(#table);
            }
            #(#text_types)*
        };
        #errors
    }
}
