//! The typed view of a `#[derive(Config)]` struct: each field with the config key serde
//! reads it from, whether serde fills it in when the key is absent, and its type. What
//! serde attributes do to deserialization is read here; what this check cannot see
//! through is refused with the reason.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Generics, Ident, LitStr, Token, Type};

use crate::model::Errors;

/// A config struct as serde deserializes it.
pub(crate) struct ConfigStruct {
    pub(crate) ident: Ident,
    pub(crate) generics: Generics,
    pub(crate) fields: Vec<Field>,
    /// `#[serde(deny_unknown_fields)]`: every key the host sends must be read.
    pub(crate) deny_unknown_fields: Option<Span>,
    /// `#[config(cargo_toml = "…")]`, for tests of the derive itself.
    pub(crate) cargo_toml: Option<LitStr>,
}

/// One field serde reads from the config object (skipped fields are left out).
pub(crate) struct Field {
    /// The field's name in Rust, without `r#`.
    pub(crate) name: String,
    /// The config key serde reads it from.
    pub(crate) key: String,
    /// How `key` came about, for messages: `None` when it is the field's name.
    pub(crate) renamed_by: Option<&'static str>,
    /// The field's name in the source.
    pub(crate) span: Span,
    pub(crate) ty: Type,
    /// `#[serde(default)]` on the field or the struct: an absent key is not an error.
    pub(crate) serde_default: bool,
    /// `#[serde(deserialize_with)]` / `with`: the function decides what the value may
    /// be, so the type is not checked.
    pub(crate) read_with: bool,
}

/// serde's `rename_all` rules, as serde applies them to a field name.
fn rename_all(rule: &str, field: &str) -> Option<String> {
    let pascal = || {
        let mut out = String::new();
        let mut upper = true;
        for c in field.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.push(c.to_ascii_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    };
    Some(match rule {
        "lowercase" | "snake_case" => field.to_owned(),
        "UPPERCASE" | "SCREAMING_SNAKE_CASE" => field.to_ascii_uppercase(),
        "PascalCase" => pascal(),
        "camelCase" => {
            let pascal = pascal();
            let mut chars = pascal.chars();
            match chars.next() {
                Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                None => pascal,
            }
        }
        "kebab-case" => field.replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => field.to_ascii_uppercase().replace('_', "-"),
        _ => return None,
    })
}

/// A serde name argument: `rename = "x"` or `rename(deserialize = "x")`; `None` for
/// `rename(serialize = "x")`, which does not change what is read.
fn deserialize_name(meta: &ParseNestedMeta<'_>) -> syn::Result<Option<LitStr>> {
    if meta.input.peek(Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let mut name = None;
    meta.parse_nested_meta(|inner| {
        let value: LitStr = inner.value()?.parse()?;
        if inner.path.is_ident("deserialize") {
            name = Some(value);
        }
        Ok(())
    })?;
    Ok(name)
}

/// Walks over an argument this check has no use for: `name`, `name = value`,
/// `name(…)`.
fn skip(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip(&inner))?;
    }
    Ok(())
}

fn serde_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("serde"))
}

/// An argument name as written, for messages.
fn arg_name(meta: &ParseNestedMeta<'_>) -> String {
    meta.path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default()
}

impl ConfigStruct {
    /// Reads the struct; `None` when it is not a struct with named fields (the reason
    /// is in `errors`).
    pub(crate) fn parse(input: DeriveInput, errors: &mut Errors) -> Option<ConfigStruct> {
        let DeriveInput {
            ident,
            generics,
            data,
            attrs,
            ..
        } = input;
        let shape = "`#[derive(Config)]` goes on the struct the config object is read into, with one named field per config field";
        let named = match data {
            Data::Struct(s) => match s.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(_) | Fields::Unit => {
                    errors.push(syn::Error::new(
                        ident.span(),
                        format!("`{ident}` has no named fields: {shape}, e.g. `struct {ident} {{ webhook_url: String }}`"),
                    ));
                    return None;
                }
            },
            Data::Enum(e) => {
                errors.push(syn::Error::new(
                    e.enum_token.span,
                    format!(
                        "`{ident}` is an enum: {shape} (an enum is the type of one `select` field)"
                    ),
                ));
                return None;
            }
            Data::Union(u) => {
                errors.push(syn::Error::new(
                    u.union_token.span,
                    format!("`{ident}` is a union: {shape}"),
                ));
                return None;
            }
        };

        let mut out = ConfigStruct {
            ident,
            generics,
            fields: Vec::new(),
            deny_unknown_fields: None,
            cargo_toml: None,
        };
        let mut rule: Option<String> = None;
        let mut container_default = false;
        for attr in &attrs {
            if attr.path().is_ident("config") {
                out.parse_config_attr(attr, errors);
            }
        }
        for attr in serde_attrs(&attrs) {
            // A malformed serde attribute is serde's to report.
            let _ = attr.parse_nested_meta(|meta| {
                let name = arg_name(&meta);
                match name.as_str() {
                    "rename_all" => {
                        if let Some(lit) = deserialize_name(&meta)? {
                            rule = Some(lit.value());
                        }
                    }
                    "default" => {
                        container_default = true;
                        skip(&meta)?;
                    }
                    "deny_unknown_fields" => out.deny_unknown_fields = Some(meta.path.span()),
                    "from" | "try_from" | "transparent" | "remote" => {
                        errors.push(syn::Error::new(
                            meta.path.span(),
                            format!(
                                "`#[serde({name})]` on `{}`: the config check reads the fields of the struct that derives `Config`, and serde would read another type; derive `Config` on the struct serde reads the config object into",
                                out.ident
                            ),
                        ));
                        skip(&meta)?;
                    }
                    "tag" | "untagged" | "content" => {
                        errors.push(syn::Error::new(
                            meta.path.span(),
                            format!(
                                "`#[serde({name})]` on `{}`: a tagged struct reads a key the config table does not declare; remove it",
                                out.ident
                            ),
                        ));
                        skip(&meta)?;
                    }
                    _ => skip(&meta)?,
                }
                Ok(())
            });
        }
        if rule
            .as_ref()
            .is_some_and(|rule| rename_all(rule, "x").is_none())
        {
            // serde reports an unknown rule; names made with it would be guesses.
            rule = None;
        }

        for field in named.named {
            let Some(ident) = field.ident.clone() else {
                continue;
            };
            let name = ident.to_string().trim_start_matches("r#").to_owned();
            let mut key = None;
            let mut skipped = false;
            let mut serde_default = container_default;
            let mut read_with = false;
            let mut refused = false;
            if let Some(attr) = field.attrs.iter().find(|a| a.path().is_ident("config")) {
                errors.push(syn::Error::new(
                    attr.path().span(),
                    "`#[config(…)]` goes on the struct, not on a field",
                ));
            }
            for attr in serde_attrs(&field.attrs) {
                let _ = attr.parse_nested_meta(|meta| {
                    let arg = arg_name(&meta);
                    match arg.as_str() {
                        "rename" => {
                            if let Some(lit) = deserialize_name(&meta)? {
                                key = Some(lit.value());
                            }
                        }
                        "default" => {
                            serde_default = true;
                            skip(&meta)?;
                        }
                        "skip" | "skip_deserializing" => skipped = true,
                        "deserialize_with" | "with" => {
                            read_with = true;
                            skip(&meta)?;
                        }
                        "flatten" => {
                            refused = true;
                            errors.push(syn::Error::new(
                                meta.path.span(),
                                format!(
                                    "`#[serde(flatten)]` on `{}.{name}`: the config check cannot see which config keys the flattened type reads; write its fields in `{}`",
                                    out.ident, out.ident
                                ),
                            ));
                        }
                        "alias" => {
                            errors.push(syn::Error::new(
                                meta.path.span(),
                                format!(
                                    "`#[serde(alias)]` on `{}.{name}`: the host sends each config value under its `Cargo.toml` key only, so an alias is never read; remove it, and use `#[serde(rename = \"…\")]` if the field's name is not the key",
                                    out.ident
                                ),
                            ));
                            skip(&meta)?;
                        }
                        _ => skip(&meta)?,
                    }
                    Ok(())
                });
            }
            if skipped || refused {
                continue;
            }
            let (key, renamed_by) = match (key, &rule) {
                (Some(key), _) => (key, Some("`#[serde(rename = …)]`")),
                (None, Some(rule)) => (
                    rename_all(rule, &name).unwrap_or_else(|| name.clone()),
                    Some("the struct's `#[serde(rename_all = …)]`"),
                ),
                (None, None) => (name.clone(), None),
            };
            out.fields.push(Field {
                name,
                key,
                renamed_by,
                span: ident.span(),
                ty: field.ty,
                serde_default,
                read_with,
            });
        }
        Some(out)
    }

    fn parse_config_attr(&mut self, attr: &Attribute, errors: &mut Errors) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("cargo_toml") {
                if self.cargo_toml.is_some() {
                    return Err(meta.error("duplicate argument `cargo_toml`"));
                }
                self.cargo_toml = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown argument; the only argument of `#[config(…)]` (for tests) is `cargo_toml = \"path/to/Cargo.toml\"`",
                ))
            }
        });
        if let Err(err) = result {
            errors.push(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rename_all;

    #[test]
    fn rename_rules_are_serdes() {
        let cases = [
            ("lowercase", "webhook_url"),
            ("snake_case", "webhook_url"),
            ("UPPERCASE", "WEBHOOK_URL"),
            ("SCREAMING_SNAKE_CASE", "WEBHOOK_URL"),
            ("PascalCase", "WebhookUrl"),
            ("camelCase", "webhookUrl"),
            ("kebab-case", "webhook-url"),
            ("SCREAMING-KEBAB-CASE", "WEBHOOK-URL"),
        ];
        for (rule, expected) in cases {
            assert_eq!(
                rename_all(rule, "webhook_url").as_deref(),
                Some(expected),
                "{rule}"
            );
        }
        assert_eq!(rename_all("Title Case", "x"), None);
    }
}
