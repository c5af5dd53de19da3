use otai_plugin_sdk::prelude::*;

#[derive(Default)]
struct Slack;

#[plugin(cargo_toml = "../../fixtures/no_config.toml")]
impl Plugin for Slack {
    type Config = NoConfig;
}

fn main() {}
