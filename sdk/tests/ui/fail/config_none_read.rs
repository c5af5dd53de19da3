//! `NoConfig` for a plugin whose config has a required field.
use otai_plugin_sdk::prelude::*;

#[derive(Default)]
struct Slack;

#[plugin(cargo_toml = "../../fixtures/config.toml")]
impl Plugin for Slack {
    type Config = NoConfig;

    fn on_event(&mut self, _event: Event<'_, NoConfig>) -> Result<()> {
        Ok(())
    }
}

fn main() {}
