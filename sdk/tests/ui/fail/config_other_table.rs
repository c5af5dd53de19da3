//! A config type checked against another `Cargo.toml` than the plugin's.
use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/good.toml")]
struct Config {
    token: String,
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

fn main() {}
