//! Fields that may have no value, read as plain types.
use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml")]
struct Config {
    webhook_url: String,
    channels: String,
    max_age_days: u32,
}

fn main() {}
