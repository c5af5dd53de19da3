//! A required config field no struct field reads; with `deny_unknown_fields`, any field.
use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml")]
struct Config {
    mention_on_critical: bool,
}

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml")]
#[serde(deny_unknown_fields)]
struct Strict {
    webhook_url: String,
    mention_on_critical: bool,
    retries: i64,
    severity: String,
    team_map: String,
}

fn main() {}
