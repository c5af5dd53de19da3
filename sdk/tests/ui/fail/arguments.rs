use otai_plugin_sdk::prelude::*;

#[derive(Default)]
struct Slack;

#[plugin(cargo_toml = "../../fixtures/good.toml", cargo_toml = "../../fixtures/good.toml", manifest = "x.json")]
impl RawPlugin for Slack {
    fn on_event(&mut self, _event: RawEvent<'_>) -> Result<()> {
        Ok(())
    }
}

fn main() {}
