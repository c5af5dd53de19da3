//! The mistake docs/CONFIG.md shows: a field renamed in the struct only.
use otai_plugin_sdk::config::KeyValues;
use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config_guide.toml")]
struct Config {
    webhook: String,
    team_map: KeyValues,
}

fn main() {}
