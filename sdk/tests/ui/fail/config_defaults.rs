//! Defaults of `Cargo.toml` the field cannot hold.
use otai_plugin_sdk::config::KeyValues;
use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml")]
struct Config {
    webhook_url: String,
    retries: u8,
}

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/bad_team_map.toml")]
struct Teams {
    team_map: KeyValues,
}

fn main() {}
