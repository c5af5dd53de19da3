//! `docs/manifest.schema.json` and `docs/cargo-metadata.schema.json` are generated from
//! the manifest types; these tests fail when a committed file is stale. Regenerate them
//! with `OTAI_BLESS=1 cargo test -p otai-plugin-abi --test schema`.
#![cfg(feature = "schema")]

use otai_plugin_abi::event::EventKind;
use otai_plugin_abi::manifest::MAX_PANEL_HEIGHT;
use otai_plugin_abi::manifest::schema::{cargo_metadata_schema, manifest_schema};
use serde_json::Value;

const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/");

fn generated() -> Value {
    manifest_schema()
}

fn check_committed(file: &str, generated: &Value) {
    let path = format!("{DOCS}{file}");
    if std::env::var_os("OTAI_BLESS").is_some() {
        let text = serde_json::to_string_pretty(generated).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        return;
    }
    // Compared as JSON values: key order depends on serde_json's features, which other
    // crates in a workspace build may change.
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let committed: Option<Value> = serde_json::from_str(&committed).ok();
    assert!(
        committed.as_ref() == Some(generated),
        "docs/{file} is stale (or missing): the manifest types changed. Regenerate it with \
         `OTAI_BLESS=1 cargo test -p otai-plugin-abi --test schema` and commit it."
    );
}

#[test]
fn committed_schemas_are_up_to_date() {
    check_committed("manifest.schema.json", &manifest_schema());
    check_committed("cargo-metadata.schema.json", &cargo_metadata_schema());
}

/// Validates `document` against `schema`; the errors as text, one per line.
fn validate(schema: &Value, document: &Value) -> Result<(), String> {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("urn:schema", schema.clone()).unwrap();
    let index = compiler.compile("urn:schema", &mut schemas).unwrap();
    schemas
        .validate(document, index)
        .map_err(|e| format!("{e:#}"))
}

fn cargo_toml(text: &str) -> Value {
    let table: toml::Table = toml::from_str(text).unwrap();
    serde_json::to_value(table).unwrap()
}

#[test]
fn every_example_cargo_toml_fits_the_metadata_schema() {
    let schema = cargo_metadata_schema();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(examples).unwrap() {
        let path = entry.unwrap().path().join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let document = cargo_toml(&text);
            if document.pointer("/package/metadata/ohd").is_some() {
                validate(&schema, &document).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 4,
        "only {checked} examples have [package.metadata.ohd]"
    );
}

#[test]
fn the_metadata_schema_flags_what_the_editor_should() {
    let schema = cargo_metadata_schema();
    let base = "[package]\nname = \"p\"\nversion = \"1.0.0\"\n\
                [package.metadata.ohd]\nid = \"com.example.p\"\n";
    validate(&schema, &cargo_toml(&format!("{base}events = [\"ticket.created\"]\nallowed_hosts = [\"hooks.slack.com\", \"10.0.0.1\", \"[::1]\"]\n")))
        .unwrap();
    for setting in ["false", "[\"-Oz\", \"--converge\"]"] {
        let toml = format!(
            "{base}events = [\"ticket.created\"]\n[package.metadata.otai-plugin]\nwasm-opt = {setting}\n"
        );
        validate(&schema, &cargo_toml(&toml)).unwrap();
    }
    let events = "events = [\"ticket.created\"]\n";
    let build = |body: &str| format!("{events}[package.metadata.otai-plugin]\n{body}");
    let host = |h: &str| format!("{events}allowed_hosts = [\"{h}\"]\n");
    let field = |body: &str| format!("{events}[package.metadata.ohd.config.channel]\n{body}");
    let ohd = "/package/metadata/ohd";
    for (what, extra, location) in [
        (
            "a misspelt key",
            format!("{events}evnets = []\n"),
            "ohd' [S#/$defs/OhdMetadata/additionalProperty]",
        ),
        (
            "an unknown event",
            "events = [\"ticket.create\"]\n".into(),
            "ohd/events/0'",
        ),
        (
            "a host with a scheme",
            host("https://x.com"),
            "ohd/allowed_hosts/0'",
        ),
        (
            "a host with a port",
            host("x.com:443"),
            "ohd/allowed_hosts/0'",
        ),
        (
            "a hex-looking host with a port",
            host("cafe.de:443"),
            "ohd/allowed_hosts/0'",
        ),
        ("a wildcard host", host("*.x.com"), "ohd/allowed_hosts/0'"),
        (
            "no events",
            String::new(),
            "ohd' [S#/$defs/OhdMetadata/required]",
        ),
        (
            "an unknown config type",
            field("type = \"selectt\"\n"),
            "ohd/config/channel/type'",
        ),
        (
            "a misspelt config key",
            field("type = \"string\"\nrequried = true\n"),
            "ohd/config/channel' [S#/$defs/ConfigField/additionalProperty]",
        ),
        (
            "a misspelt build setting",
            build("wasm_opt = false\n"),
            "/package/metadata/otai-plugin' [S#/$defs/BuildSettings/additionalProperty]",
        ),
        (
            "`wasm-opt` as a string",
            build("wasm-opt = \"-Oz\"\n"),
            "/package/metadata/otai-plugin/wasm-opt'",
        ),
    ] {
        let document = cargo_toml(&format!("{base}{extra}"));
        let errors = validate(&schema, &document).expect_err(what);
        let location = location.replacen("ohd", ohd, 1);
        assert!(
            errors.contains(&format!("at '{location}")),
            "{what}: {errors}"
        );
    }
}

#[test]
fn schema_states_the_rules_of_the_validator() {
    let schema = generated();
    let required: Vec<_> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, ["id", "name", "version", "description", "events"]);

    let events = &schema["properties"]["events"];
    assert_eq!(events["minItems"], 1);
    assert_eq!(events["uniqueItems"], true);
    let reference = events["items"]["$ref"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let names: Vec<_> = schema["$defs"][reference]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let known: Vec<_> = EventKind::ALL.iter().map(EventKind::as_str).collect();
    assert_eq!(names, known);

    assert_eq!(
        schema["$defs"]["UiPanel"]["properties"]["height"]["maximum"],
        MAX_PANEL_HEIGHT
    );
    assert!(
        schema["properties"]["id"]["description"]
            .as_str()
            .unwrap()
            .starts_with("Reverse-domain unique identifier")
    );
}
