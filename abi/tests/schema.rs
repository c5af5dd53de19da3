//! `docs/manifest.schema.json` is generated from the manifest types; this test fails
//! when the committed file is stale. Regenerate it with
//! `OTAI_BLESS=1 cargo test -p otai-plugin-abi --test schema`.
#![cfg(feature = "schema")]

use otai_plugin_abi::event::EventKind;
use otai_plugin_abi::manifest::{MAX_PANEL_HEIGHT, Manifest};
use serde_json::Value;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/manifest.schema.json");

fn generated() -> Value {
    serde_json::to_value(schemars::schema_for!(Manifest)).unwrap()
}

#[test]
fn committed_schema_is_up_to_date() {
    let text = serde_json::to_string_pretty(&generated()).unwrap() + "\n";
    if std::env::var_os("OTAI_BLESS").is_some() {
        std::fs::write(COMMITTED, &text).unwrap();
        return;
    }
    // Compared as JSON values: key order depends on serde_json's features, which other
    // crates in a workspace build may change.
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    let committed: Option<Value> = serde_json::from_str(&committed).ok();
    assert!(
        committed.as_ref() == Some(&generated()),
        "docs/manifest.schema.json is stale (or missing): the manifest types changed. \
         Regenerate it with `OTAI_BLESS=1 cargo test -p otai-plugin-abi --test schema` and commit it."
    );
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
