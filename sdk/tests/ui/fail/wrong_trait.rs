use otai_plugin_sdk::prelude::*;

struct Slack;

#[plugin(cargo_toml = "../../fixtures/good.toml")]
impl Default for Slack {
    fn default() -> Self {
        Slack
    }
}

fn main() {}
