//! The manifest a module embeds, held to the one its Cargo.toml describes.

use anyhow::{Result, bail};
use cargo_metadata::camino::Utf8PathBuf;
use otai_plugin_abi::manifest::Manifest;

/// A module that embeds its own manifest (the `#[plugin]` macro does, from the file its
/// `cargo_toml` argument names) must embed the one Cargo.toml describes: the help desk
/// grants the embedded one, and a stale copy would run with other permissions than the
/// author reads in Cargo.toml.
pub(super) fn verify_embedded(
    path: &Utf8PathBuf,
    embedded: &Manifest,
    cargo_toml: &Utf8PathBuf,
    expected: &Manifest,
) -> Result<()> {
    if embedded == expected {
        return Ok(());
    }
    let mut message = format!(
        "the `{}` section of `{path}` differs from the manifest `[package.metadata.ohd]` \
         in `{cargo_toml}` describes:",
        otai_plugin_abi::wasm::MANIFEST_SECTION
    );
    let embedded = serde_json::to_value(embedded).unwrap_or_default();
    let expected = serde_json::to_value(expected).unwrap_or_default();
    for (key, in_module, in_cargo_toml) in json_differences("", &embedded, &expected) {
        message.push_str(&format!(
            "\n  `{key}`: the module has {in_module}, Cargo.toml has {in_cargo_toml}"
        ));
    }
    message.push_str(
        "\nhelp: the help desk reads the module's copy; build it from the same data (the \
         `#[plugin]` macro reads Cargo.toml unless its `cargo_toml` argument names another \
         file), or remove `[package.metadata.ohd]` when the module's manifest is the source",
    );
    bail!(message)
}

/// The leaves where two JSON values differ, as `(path, left, right)` with the values
/// compact JSON (`absent` for a missing key).
fn json_differences(
    path: &str,
    left: &serde_json::Value,
    right: &serde_json::Value,
) -> Vec<(String, String, String)> {
    use serde_json::Value;
    let show = |value: Option<&Value>| value.map_or_else(|| "absent".to_owned(), Value::to_string);
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            let keys: std::collections::BTreeSet<&String> = l.keys().chain(r.keys()).collect();
            keys.into_iter()
                .flat_map(|key| {
                    let child = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    match (l.get(key), r.get(key)) {
                        (Some(a), Some(b)) => json_differences(&child, a, b),
                        (a, b) if a != b => vec![(child, show(a), show(b))],
                        _ => Vec::new(),
                    }
                })
                .collect()
        }
        _ if left == right => Vec::new(),
        _ => vec![(path.to_owned(), left.to_string(), right.to_string())],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::json_differences;

    #[test]
    fn differences_name_each_leaf_with_both_values() {
        let module = json!({"id": "a", "permissions": {"http": {"allowed_hosts": ["x"]}}, "x": 1});
        let cargo = json!({"id": "b", "permissions": {"http": {"allowed_hosts": ["y"]}}});
        assert_eq!(
            json_differences("", &module, &cargo),
            vec![
                ("id".to_owned(), "\"a\"".to_owned(), "\"b\"".to_owned()),
                (
                    "permissions.http.allowed_hosts".to_owned(),
                    "[\"x\"]".to_owned(),
                    "[\"y\"]".to_owned()
                ),
                ("x".to_owned(), "1".to_owned(), "absent".to_owned()),
            ]
        );
        assert!(json_differences("", &module, &module).is_empty());
    }
}
