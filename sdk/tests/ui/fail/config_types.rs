//! Types a config value does not decode into.
use std::collections::HashMap;

use otai_plugin_sdk::prelude::*;

type Url = String;

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml")]
struct Config {
    webhook_url: Url,
    mention_on_critical: String,
    retries: f64,
    severity: bool,
    team_map: HashMap<String, String>,
    channels: Option<Vec<String>>,
    max_age_days: Option<String>,
}

fn main() {}
