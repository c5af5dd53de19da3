use otai_plugin_sdk::prelude::*;

#[derive(Default)]
struct Slack<T>(T);

#[plugin(cargo_toml = "../../fixtures/good.toml")]
impl<T: Default> RawPlugin for Slack<T> {
    fn on_event(&mut self, _event: RawEvent<'_>) -> Result<()> {
        Ok(())
    }
}

fn main() {}
