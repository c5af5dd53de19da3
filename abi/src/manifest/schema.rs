//! JSON Schemas for editors (feature `schema`): the JSON manifest's is derived from
//! [`Manifest`]; [`cargo_metadata_schema`] reuses its parts for `[package.metadata.ohd]`,
//! where Rust authors write the manifest.

use serde_json::{Map, Value, json};

use super::Manifest;

/// What `allowed_hosts` entries may look like, for editors: a hostname (letters, digits,
/// hyphens, dot-separated labels) or an IP literal, with nothing else: no scheme, port,
/// path or wildcard. The validator says more precisely what is wrong and how to fix it.
pub const ALLOWED_HOST_PATTERN: &str = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[?[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*\]?)$";

/// The JSON Schema of the JSON manifest (`docs/manifest.schema.json`).
pub fn manifest_schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Manifest)).unwrap_or_default();
    if let Some(items) = schema.pointer_mut("/$defs/HttpPermissions/properties/allowed_hosts") {
        items["items"] = json!({ "type": "string", "pattern": ALLOWED_HOST_PATTERN });
    }
    schema
}

/// The JSON Schema of a plugin crate's `Cargo.toml` as far as `[package.metadata.ohd]`
/// goes (`docs/cargo-metadata.schema.json`), for the TOML language server: unknown
/// keys (`evnets`), hosts with a scheme or port, unknown events and config types are
/// flagged as you type. The rest of `Cargo.toml` is left open.
pub fn cargo_metadata_schema() -> Value {
    let manifest = manifest_schema();
    let property = |name: &str| manifest["properties"][name].clone();
    let mut defs = manifest["$defs"].as_object().cloned().unwrap_or_default();
    // Typos inside a config field or the panel are flagged too (the validator warns).
    for name in ["ConfigField", "UiPanel"] {
        if let Some(def) = defs.get_mut(name) {
            def["additionalProperties"] = Value::Bool(false);
        }
    }
    let mut name = property("name");
    name["description"] =
        json!("Display name shown in the admin panel; `package.name` when absent.");
    let mut config = property("config_schema");
    config["description"] = json!(
        "Configuration fields (the manifest's `config_schema`), in the order the admin form \
         shows them: one table per field, keyed by an identifier (`[a-z_][a-z0-9_]*`)."
    );
    let ui_panel = json!({
        "$ref": "#/$defs/UiPanel",
        "description": "A panel in the ticket detail view, filled by `render_panel`."
    });
    let hosts = manifest["$defs"]["HttpPermissions"]["properties"]["allowed_hosts"].clone();
    let mut properties = Map::new();
    properties.insert("id".into(), property("id"));
    properties.insert("name".into(), name);
    properties.insert("events".into(), property("events"));
    properties.insert("allowed_hosts".into(), hosts);
    properties.insert("config".into(), config);
    properties.insert("ui_panel".into(), ui_panel);
    defs.insert(
        "OhdMetadata".into(),
        json!({
            "description": "The help-desk part of the plugin's manifest; `id`, `version`, \
                `description`, `license`, `authors` and `homepage` come from `[package]`.",
            "type": "object",
            "properties": properties,
            "required": ["id", "events"],
            "additionalProperties": false
        }),
    );
    // Read by `cargo otai-plugin build`, not part of the manifest.
    defs.insert(
        "BuildSettings".into(),
        json!({
            "description": "How `cargo otai-plugin build` builds the plugin.",
            "type": "object",
            "properties": {
                "wasm-opt": {
                    "description": "Binaryen's `wasm-opt` on the module of an optimizing \
                        profile (`--release`, any `--profile` but `dev` and `test`): `false` \
                        never, `true` always with `-O3`, or always with these arguments. \
                        Without it, `-O3` when `wasm-opt` is found.",
                    "anyOf": [
                        { "type": "boolean" },
                        { "type": "array", "items": { "type": "string" } }
                    ]
                }
            },
            "additionalProperties": false
        }),
    );
    let open_table = |properties: Value| json!({ "type": "object", "properties": properties });
    json!({
        "$schema": manifest["$schema"],
        "title": "Cargo.toml of an Open Help Desk plugin",
        "description": "Checks `[package.metadata.ohd]` and `[package.metadata.otai-plugin]`; \
            the rest of Cargo.toml is cargo's.",
        "type": "object",
        "properties": {
            "package": open_table(json!({
                "metadata": open_table(json!({
                    "ohd": { "$ref": "#/$defs/OhdMetadata" },
                    "otai-plugin": { "$ref": "#/$defs/BuildSettings" }
                }))
            }))
        },
        "$defs": defs
    })
}
