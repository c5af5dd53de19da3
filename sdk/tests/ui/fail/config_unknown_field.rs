//! A struct field renamed away from its config key (`webhook_url` → `webhook`): every
//! delivery would fail with ``config: missing field `webhook` ``.
use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml")]
struct Config {
    webhook: String,
    mention_on_crit: bool,
    escalation_team: Option<String>,
}

fn main() {}
