// Manifest warnings are deprecation warnings (the only warning a stable proc macro can
// cause); denying them shows their text.
#![deny(deprecated)]

use otai_plugin_sdk::prelude::*;

#[derive(Default)]
struct Slack;

#[plugin(cargo_toml = "../../fixtures/warn.toml")]
impl RawPlugin for Slack {
    fn on_event(&mut self, _event: RawEvent<'_>) -> Result<()> {
        Ok(())
    }
}

fn main() {}
