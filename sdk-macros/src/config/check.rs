//! The config struct against the config table: every field reads a declared key into a
//! type its value decodes into, every required key is read. Each mistake is an error on
//! the field (or the struct) that names the field, the `Cargo.toml` key, what was found
//! and what was expected.

use otai_plugin_abi::config_text::KeyValues;
use otai_plugin_abi::manifest::{ConfigField, ConfigType, Manifest, nearest};

use super::model::{ConfigStruct, Field};
use super::rust_type::{ConfigText, Shape, type_text};
use crate::model::Errors;

/// The table's keys as a message lists them: `` `a`, `b` ``.
fn listed(manifest: &Manifest) -> String {
    manifest
        .config_schema
        .keys()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The key `given` was probably meant to be: a near spelling, or the one key that
/// holds it as whole words (`webhook` in `webhook_url`).
fn suggestion<'a>(given: &str, manifest: &'a Manifest) -> Option<&'a str> {
    let keys = || manifest.config_schema.keys().map(String::as_str);
    nearest(given, keys()).or_else(|| {
        let holds = |key: &str| {
            let words = format!("_{key}_");
            words.contains(&format!("_{given}_")) || format!("_{given}_").contains(&words)
        };
        let mut found = keys().filter(|k| holds(k));
        match (found.next(), found.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    })
}

/// What a field of `field.ty` is read as, in words.
fn expected(field: &ConfigField) -> String {
    match field.ty {
        ConfigType::String => "`String` (or `Cow<'static, str>`), or the SDK's `config::List` or `config::KeyValues` to read a list or a map written in the text".to_owned(),
        ConfigType::Boolean => "`bool`".to_owned(),
        ConfigType::Integer => {
            "an integer type, such as `i64` (which holds every value the help desk accepts)"
                .to_owned()
        }
        ConfigType::Select => {
            let options = field
                .options
                .iter()
                .flatten()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("an enum whose variants are the options ({options}), or `String`")
        }
    }
}

/// The Rust type a new field for `field` would have.
fn suggested_type(field: &ConfigField) -> &'static str {
    match field.ty {
        ConfigType::String | ConfigType::Select => "String",
        ConfigType::Boolean => "bool",
        ConfigType::Integer => "i64",
    }
}

/// Whether a value of `ty` decodes into `shape` (without its `Option`s); `None` when the
/// check cannot tell.
fn fits(ty: ConfigType, shape: &Shape) -> Option<bool> {
    Some(match (ty, shape) {
        (ConfigType::String, Shape::Text | Shape::ConfigText(_)) => true,
        (ConfigType::Boolean, Shape::Bool) => true,
        (ConfigType::Integer, Shape::Integer { .. }) => true,
        (ConfigType::Select, Shape::Text | Shape::Opaque) => true,
        (_, Shape::Opaque) => return None,
        _ => false,
    })
}

/// Whether the host may send no value: neither required nor defaulted.
fn may_be_unset(field: &ConfigField) -> bool {
    !field.required && field.default.is_none()
}

/// The checks, each failure in `errors`.
pub(crate) fn check(config: &ConfigStruct, manifest: &Manifest, file: &str, errors: &mut Errors) {
    let schema = &manifest.config_schema;
    let owner = config.ident.to_string();
    let mut read: Vec<&str> = Vec::new();
    for field in &config.fields {
        let path = format!("package.metadata.ohd.config.{}", field.key);
        if let Some(earlier) = config
            .fields
            .iter()
            .take_while(|f| !std::ptr::eq(*f, field))
            .find(|f| f.key == field.key)
        {
            errors.push(syn::Error::new(
                field.span,
                format!(
                    "`{owner}.{}` and `{owner}.{}` both read the config key `{}`: serde fills the first and reports the second missing; remove one, or rename it",
                    earlier.name, field.name, field.key
                ),
            ));
            continue;
        }
        let Some(declared) = schema.get(&field.key) else {
            errors.push(syn::Error::new(
                field.span,
                unknown_key(&owner, field, manifest, file),
            ));
            continue;
        };
        read.push(&field.key);
        if field.read_with {
            continue;
        }
        check_type(&owner, field, declared, &path, file, errors);
    }

    let span = config.ident.span();
    for (key, declared) in schema.iter().filter(|(k, _)| !read.contains(&k.as_str())) {
        let path = format!("package.metadata.ohd.config.{key}");
        if declared.required {
            errors.push(syn::Error::new(
                span,
                format!(
                    "`{owner}` does not read `{key}`, which `{file}` requires (`{path}` has `required = true`): add a field `{key}: {}`, or drop `required`",
                    suggested_type(declared)
                ),
            ));
        } else if let Some(deny) = config.deny_unknown_fields {
            errors.push(syn::Error::new(
                deny,
                format!(
                    "`{owner}` has `#[serde(deny_unknown_fields)]`, but no field reads `{key}` (`{path}` in `{file}`): the host sends it whenever it has a value, and the event would not decode; add a field `{key}: {}`, or remove `deny_unknown_fields`",
                    if may_be_unset(declared) {
                        format!("Option<{}>", suggested_type(declared))
                    } else {
                        suggested_type(declared).to_owned()
                    }
                ),
            ));
        }
    }
}

fn unknown_key(owner: &str, field: &Field, manifest: &Manifest, file: &str) -> String {
    let key = &field.key;
    let how = field
        .renamed_by
        .map(|by| format!(" (named by {by})"))
        .unwrap_or_default();
    let hint = if manifest.config_schema.is_empty() {
        "the plugin declares no config fields: declare it there, or remove the field".to_owned()
    } else {
        match suggestion(key, manifest) {
            Some(near) => {
                let fix = if field.renamed_by.is_some() {
                    format!("write `#[serde(rename = \"{near}\")]`")
                } else {
                    format!("rename the field, or add `#[serde(rename = \"{near}\")]`")
                };
                format!(
                    "did you mean `{near}`? ({fix}; the config keys are {})",
                    listed(manifest)
                )
            }
            None => format!(
                "the config keys are {}: declare it there, or read one of those",
                listed(manifest)
            ),
        }
    };
    format!(
        "`{owner}.{}` reads the config key `{key}`{how}, but `{file}` has no `[package.metadata.ohd.config.{key}]`, so the event would not decode; {hint}",
        field.name
    )
}

fn check_type(
    owner: &str,
    field: &Field,
    declared: &ConfigField,
    path: &str,
    file: &str,
    errors: &mut Errors,
) {
    let shape = Shape::of(&field.ty);
    let found = type_text(&field.ty);
    let ty = declared.ty.as_str();
    let article = if declared.ty == ConfigType::Integer {
        "an"
    } else {
        "a"
    };
    let optional_type = matches!(shape, Shape::Option(_));
    let head = format!(
        "`{owner}.{}` is `{found}`, but `{path}` in `{file}`",
        field.name
    );
    match fits(declared.ty, shape.inner()) {
        Some(true) => {}
        verdict => {
            let why = match (declared.ty, shape.inner(), verdict) {
                (_, _, None) => format!(
                    "; this check reads the type as written and cannot see through `{found}` (a type alias, a newtype): write one of those, or say how the value is read with `#[serde(deserialize_with = \"…\")]`, whose type is then not checked"
                ),
                (ConfigType::String, Shape::Sequence, _) => "; a config value is never a JSON list: a list is written in the text, read with `otai_plugin_sdk::config::List` (`#ops, #support`)".to_owned(),
                (ConfigType::String, Shape::Map, _) => "; a config value is never a JSON object: a map is written in the text, read with `otai_plugin_sdk::config::KeyValues` (`Billing=finance, Network=it-ops`)".to_owned(),
                (_, Shape::Sequence | Shape::Map, _) => "; the help desk's config types are `string`, `boolean`, `integer` and `select`: a list or a map is a `string` field, read with `config::List` or `config::KeyValues`".to_owned(),
                (ConfigType::Integer, Shape::Float, _) => {
                    "; an `integer` field holds whole numbers".to_owned()
                }
                _ => String::new(),
            };
            let unset = if may_be_unset(declared) && !optional_type && !field.serde_default {
                "; it may also have no value, so wrap the type in `Option<…>`"
            } else {
                ""
            };
            errors.push(syn::Error::new_spanned(
                &field.ty,
                format!(
                    "{head} is {article} `{ty}` field: expected {}{why}{unset}",
                    expected(declared)
                ),
            ));
            return;
        }
    }
    if may_be_unset(declared) && !optional_type && !field.serde_default {
        errors.push(syn::Error::new_spanned(
            &field.ty,
            format!(
                "{head} is neither `required` nor has a `default`, so it has no value until an admin sets one: expected `Option<{found}>`, or `#[serde(default)]` on the field (or, in `{file}`, a `default` or `required = true`)"
            ),
        ));
    }
    let Some(default) = &declared.default else {
        return;
    };
    match shape.inner() {
        Shape::Integer { .. } => {
            if let Some(value) = default.as_i64()
                && !shape.holds(value.into())
            {
                errors.push(syn::Error::new_spanned(
                    &field.ty,
                    format!(
                        "{head} has the `default` {value}, which `{found}` cannot hold: expected an integer type that holds it, such as `i64`"
                    ),
                ));
            }
        }
        Shape::ConfigText(ConfigText::KeyValues) => {
            if let Some(text) = default.as_str()
                && let Err(err) = KeyValues::parse(text)
            {
                errors.push(syn::Error::new_spanned(
                    &field.ty,
                    format!(
                        "the `default` of `{path}` in `{file}` is not `key=value` text, as `{owner}.{}: {found}` reads it: {err}; fix the default",
                        field.name
                    ),
                ));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(keys: &[&str]) -> Manifest {
        let fields: Vec<String> = keys
            .iter()
            .map(|k| format!(r#""{k}":{{"type":"string"}}"#))
            .collect();
        let json = format!(
            r#"{{"id":"com.example.x","name":"X","version":"1.0.0","description":"d","events":["ticket.created"],"config_schema":{{{}}}}}"#,
            fields.join(",")
        );
        Manifest::from_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn suggestions_find_typos_and_words_of_a_key() {
        let keys = manifest(&["webhook_url", "mention_on_critical", "team_map"]);
        assert_eq!(suggestion("webhok_url", &keys), Some("webhook_url"));
        assert_eq!(suggestion("webhook", &keys), Some("webhook_url"));
        assert_eq!(suggestion("mention", &keys), Some("mention_on_critical"));
        assert_eq!(suggestion("teams", &keys), None);
        // A word two keys share suggests neither.
        let keys = manifest(&["api_url", "webhook_url"]);
        assert_eq!(suggestion("url", &keys), None);
    }
}
