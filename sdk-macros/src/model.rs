//! The typed view of a `#[plugin]` invocation: its arguments and the impl it is on.
//! Every user mistake becomes a `syn::Error` on the exact tokens; several are
//! collected before giving up.

use proc_macro2::{Span, TokenStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Expr, ExprLit, FnArg, ImplItem, ImplItemFn, ItemImpl, Lit, LitStr, Meta, MetaNameValue,
    ReturnType, Token, Type,
};

/// Collects errors so that one compile shows every problem.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    pub(crate) fn into_compile_errors(self) -> TokenStream {
        self.0.map(|e| e.to_compile_error()).unwrap_or_default()
    }
}

/// The attribute's arguments.
#[derive(Default)]
pub(crate) struct Args {
    /// `cargo_toml = "path"`: read the manifest from this file instead of the crate's
    /// `Cargo.toml` (for the macro's own tests).
    pub(crate) cargo_toml: Option<LitStr>,
}

const ARGS: &str = "`cargo_toml = \"path/to/Cargo.toml\"`";

impl Args {
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Args {
        let mut args = Args::default();
        // Parsed as a whole list first, so that every bad argument is reported.
        let parser = Punctuated::<Meta, Token![,]>::parse_terminated;
        let metas = match syn::parse::Parser::parse2(parser, tokens) {
            Ok(metas) => metas,
            Err(err) => {
                errors.push(err);
                return args;
            }
        };
        for meta in metas {
            let path = meta.path();
            if path.is_ident("cargo_toml") {
                let value = match &meta {
                    Meta::NameValue(MetaNameValue {
                        value:
                            Expr::Lit(ExprLit {
                                lit: Lit::Str(lit), ..
                            }),
                        ..
                    }) => lit.clone(),
                    _ => {
                        errors.push(syn::Error::new(meta.span(), format!("expected {ARGS}")));
                        continue;
                    }
                };
                if args.cargo_toml.is_some() {
                    errors.push(syn::Error::new(
                        path.span(),
                        "duplicate argument `cargo_toml`",
                    ));
                } else {
                    args.cargo_toml = Some(value);
                }
            } else {
                let name = path
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| "…".into());
                errors.push(syn::Error::new(
                    path.span(),
                    format!("unknown argument `{name}`; plugins use `#[plugin]` without arguments, and the only argument (for tests) is {ARGS}"),
                ));
            }
        }
        args
    }
}

/// Which SDK trait the impl is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `impl Plugin for T`: decoded events.
    Typed,
    /// `impl RawPlugin for T`: payload bytes.
    Raw,
}

/// A validated `impl Plugin for T` / `impl RawPlugin for T`.
pub(crate) struct PluginImpl {
    /// The impl as written, plus stubs for missing required methods (so that the
    /// compiler does not report them a second time).
    pub(crate) item: ItemImpl,
    pub(crate) kind: Kind,
    pub(crate) self_ty: Type,
    pub(crate) has_render_panel: bool,
    /// `type Config = …;` of a typed plugin.
    pub(crate) config_ty: Option<Type>,
}

const SHAPE: &str = "`#[plugin]` goes on `impl Plugin for YourType` (decoded events) or `impl RawPlugin for YourType` (payload bytes)";

impl PluginImpl {
    /// Checks the item; `None` when it is not an SDK trait impl at all (nothing can be
    /// generated), with the reason in `errors`.
    pub(crate) fn parse(item: TokenStream, errors: &mut Errors) -> Option<PluginImpl> {
        let mut item: ItemImpl = match syn::parse2::<syn::Item>(item) {
            Ok(syn::Item::Impl(item)) => item,
            Ok(other) => {
                errors.push(syn::Error::new(
                    item_span(&other),
                    format!("{SHAPE}, not on this item"),
                ));
                return None;
            }
            Err(err) => {
                errors.push(err);
                return None;
            }
        };
        let Some((_, path, _)) = &item.trait_ else {
            errors.push(syn::Error::new(
                item.self_ty.span(),
                format!("{SHAPE}; this is an inherent impl, write `impl Plugin for …`"),
            ));
            return None;
        };
        let trait_name = path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let kind = match trait_name.as_str() {
            "Plugin" => Kind::Typed,
            "RawPlugin" => Kind::Raw,
            other => {
                errors.push(syn::Error::new(
                    path.span(),
                    format!("{SHAPE}; found a trait `{other}`"),
                ));
                return None;
            }
        };
        if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
            errors.push(syn::Error::new(
                item.generics.span(),
                "a plugin type cannot be generic: the wasm exports need one concrete type",
            ));
        }
        let trait_span = path.span();

        let mut on_event = false;
        let mut has_render_panel = false;
        for method in item.items.iter().filter_map(|i| match i {
            ImplItem::Fn(f) => Some(f),
            _ => None,
        }) {
            match method.sig.ident.to_string().as_str() {
                "on_event" => {
                    on_event = true;
                    check_handler(method, on_event_signature(kind), errors);
                }
                "render_panel" => {
                    has_render_panel = true;
                    check_handler(
                        method,
                        "fn render_panel(&mut self, ticket_id: &str) -> Result<String>",
                        errors,
                    );
                }
                _ => {}
            }
        }
        if !on_event {
            errors.push(syn::Error::new(
                trait_span,
                format!(
                    "missing `{}`: every plugin handles events",
                    on_event_signature(kind)
                ),
            ));
            item.items.push(on_event_stub(kind));
        }
        let self_ty = (*item.self_ty).clone();
        let config_ty = item.items.iter().find_map(|i| match i {
            ImplItem::Type(t) if kind == Kind::Typed && t.ident == "Config" => Some(t.ty.clone()),
            _ => None,
        });
        Some(PluginImpl {
            item,
            kind,
            self_ty,
            has_render_panel,
            config_ty,
        })
    }
}

fn on_event_signature(kind: Kind) -> &'static str {
    match kind {
        Kind::Typed => "fn on_event(&mut self, event: Event<'_, Self::Config>) -> Result<()>",
        Kind::Raw => "fn on_event(&mut self, event: RawEvent<'_>) -> Result<()>",
    }
}

fn on_event_stub(kind: Kind) -> ImplItem {
    match kind {
        Kind::Typed => syn::parse_quote! {
            fn on_event(
                &mut self,
                _: ::otai_plugin_sdk::Event<'_, Self::Config>,
            ) -> ::otai_plugin_sdk::Result<()> {
                ::core::unreachable!()
            }
        },
        Kind::Raw => syn::parse_quote! {
            fn on_event(
                &mut self,
                _: ::otai_plugin_sdk::RawEvent<'_>,
            ) -> ::otai_plugin_sdk::Result<()> {
                ::core::unreachable!()
            }
        },
    }
}

/// The shape checks the compiler phrases poorly; parameter and return types are left
/// to the trait, whose error shows the expected and the found signature.
fn check_handler(method: &ImplItemFn, expected: &str, errors: &mut Errors) {
    let sig = &method.sig;
    let name = &sig.ident;
    if let Some(asyncness) = sig.asyncness {
        errors.push(syn::Error::new(
            asyncness.span(),
            format!(
                "`{name}` cannot be `async`: a plugin runs synchronously; expected `{expected}`"
            ),
        ));
    }
    let receiver_ok = match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_some() => true,
        Some(FnArg::Receiver(r)) => {
            errors.push(syn::Error::new(
                r.span(),
                format!("`{name}` takes `&mut self`; expected `{expected}`"),
            ));
            true
        }
        _ => {
            errors.push(syn::Error::new(
                sig.paren_token.span.join(),
                format!("`{name}` is a method taking `&mut self`; expected `{expected}`"),
            ));
            false
        }
    };
    if receiver_ok && sig.inputs.len() != 2 {
        errors.push(syn::Error::new(
            sig.paren_token.span.join(),
            format!("`{name}` takes `&mut self` and one argument; expected `{expected}`"),
        ));
    }
    if let ReturnType::Default = sig.output {
        errors.push(syn::Error::new(
            sig.paren_token.span.close(),
            format!("`{name}` returns a `Result`, so that a failure fails the delivery; expected `{expected}`"),
        ));
    }
}

fn item_span(item: &syn::Item) -> Span {
    match item {
        syn::Item::Fn(f) => f.sig.ident.span(),
        syn::Item::Struct(s) => s.ident.span(),
        syn::Item::Enum(e) => e.ident.span(),
        syn::Item::Mod(m) => m.ident.span(),
        syn::Item::Trait(t) => t.ident.span(),
        other => other.span(),
    }
}
