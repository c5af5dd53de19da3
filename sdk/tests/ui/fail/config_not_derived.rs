//! A config type `#[derive(Config)]` did not check.
use otai_plugin_sdk::prelude::*;

#[derive(Deserialize)]
struct Config {
    webhook_url: String,
}

#[derive(Default)]
struct Slack;

#[plugin(cargo_toml = "../../fixtures/config.toml")]
impl Plugin for Slack {
    type Config = Config;

    fn on_event(&mut self, _event: Event<'_, Config>) -> Result<()> {
        Ok(())
    }
}

#[derive(Default)]
struct Anything;

#[plugin(cargo_toml = "../../fixtures/config.toml")]
impl Plugin for Anything {
    type Config = otai_plugin_sdk::serde_json::Value;

    fn on_event(&mut self, _event: Event<'_, Self::Config>) -> Result<()> {
        Ok(())
    }
}

fn main() {}
